//! The checks the radio family's operators share: memory before allocating, lengths and scratch on
//! application.

use crate::error::Result;

/// Refuses, as the parameter `name`, what would take `bytes` bytes beyond the library's memory cap
/// ([`crate::data::memory_cap`]): "`subject` (`detail`) would need … GiB".
pub(crate) fn check_memory(
    name: &'static str,
    bytes: u128,
    subject: impl FnOnce() -> String,
    detail: impl FnOnce() -> String,
) -> Result<()> {
    crate::data::check_bytes(name, bytes as f64, || format!("{} ({})", subject(), detail()), "")
}

/// A slice of the length an operator needs, or [`sparsimony_core::Error::DimensionMismatch`] naming it.
pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> sparsimony_core::Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(sparsimony_core::Error::DimensionMismatch { what, expected, found })
    }
}

/// Scratch of at least the length an operator needs, or [`sparsimony_core::Error::ScratchTooSmall`].
pub(crate) fn check_scratch(needed: usize, found: usize) -> sparsimony_core::Result<()> {
    if found >= needed {
        Ok(())
    } else {
        Err(sparsimony_core::Error::ScratchTooSmall { needed, found })
    }
}
