use core::fmt;

/// Errors of the core crate. Every variant names the offending quantity so that a caller can report it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A slice or matrix has the wrong size.
    DimensionMismatch {
        /// What was being checked, e.g. `"x (operator columns)"`.
        what: &'static str,
        /// The size that was required.
        expected: usize,
        /// The size that was given.
        found: usize,
    },
    /// A value is NaN or infinite.
    NonFinite {
        /// Which input holds it.
        what: &'static str,
        /// Its position (linear index) in that input.
        index: usize,
    },
    /// An input has no elements where at least one is needed.
    Empty {
        /// Which input is empty.
        what: &'static str,
    },
    /// A parameter is outside its valid range.
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A compressed sparse structure (`indptr`/`indices`) is malformed.
    InvalidSparseStructure {
        /// What is wrong.
        reason: &'static str,
        /// The row (or position) at which it was found.
        position: usize,
    },
    /// A caller-provided scratch buffer is too short.
    ScratchTooSmall {
        /// The required length.
        needed: usize,
        /// The given length.
        found: usize,
    },
    /// A Cholesky factorisation met a non-positive pivot: the matrix is not (numerically) positive definite.
    NotPositiveDefinite {
        /// The column of the failing pivot.
        pivot: usize,
        /// The pivot's value before the square root.
        value: f64,
    },
    /// A least-squares system is rank deficient (a diagonal entry of R is negligible).
    RankDeficient {
        /// The column whose diagonal entry of R is negligible.
        column: usize,
        /// `|R[column, column]|` relative to the largest diagonal entry.
        relative_pivot: f64,
    },
    /// An operator backed by a device (a GPU) failed; the backend keeps the details (for sparsimony-gpu's
    /// operators: `last_error()`).
    Device {
        /// Which operation failed.
        what: &'static str,
    },
    /// An exchange of values between the processes of a distributed computation (MPI ranks) failed inside
    /// an operator; the process group reports the transport's details where it can.
    Exchange {
        /// Which operation's exchange failed.
        what: &'static str,
    },
    /// An iteration stopped at its cap before reaching its tolerance. Any in-place output holds the last iterate.
    NotConverged {
        /// Iterations performed.
        iterations: usize,
        /// The value of the stopping measure that was reached.
        reached: f64,
        /// The tolerance that was asked for.
        tolerance: f64,
    },
}

/// `core::result::Result` with this crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::DimensionMismatch { what, expected, found } => {
                write!(f, "dimension mismatch for {what}: expected {expected}, found {found}")
            }
            Error::NonFinite { what, index } => {
                write!(f, "{what} holds a NaN or infinite value at index {index}")
            }
            Error::Empty { what } => write!(f, "{what} is empty"),
            Error::InvalidParameter { name, reason } => {
                write!(f, "invalid parameter `{name}`: {reason}")
            }
            Error::InvalidSparseStructure { reason, position } => {
                write!(f, "invalid sparse structure at row {position}: {reason}")
            }
            Error::ScratchTooSmall { needed, found } => {
                write!(f, "scratch buffer too small: need {needed} elements, got {found}")
            }
            Error::NotPositiveDefinite { pivot, value } => {
                write!(f, "matrix is not positive definite: pivot {pivot} is {value:e}")
            }
            Error::RankDeficient { column, relative_pivot } => write!(
                f,
                "least-squares system is rank deficient: |R[{column},{column}]| is {relative_pivot:e} of the largest"
            ),
            Error::Device { what } => write!(f, "device operation failed: {what} (the backend holds the details)"),
            Error::Exchange { what } => write!(f, "the exchange between processes failed in {what}"),
            Error::NotConverged {
                iterations,
                reached,
                tolerance,
            } => write!(
                f,
                "did not converge in {iterations} iterations: reached {reached:e}, asked for {tolerance:e}"
            ),
        }
    }
}

impl core::error::Error for Error {}

/// Checks that `len == expected`.
#[inline]
pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::DimensionMismatch { what, expected, found })
    }
}

/// Checks that every value is finite.
pub(crate) fn check_finite<T: crate::Real>(what: &'static str, values: &[T]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite { what, index }),
    }
}

/// Splits `scratch` into a head of `len` elements and the rest, or reports it too small.
#[inline]
pub(crate) fn take_scratch<T>(scratch: &mut [T], len: usize) -> Result<(&mut [T], &mut [T])> {
    if scratch.len() < len {
        return Err(Error::ScratchTooSmall {
            needed: len,
            found: scratch.len(),
        });
    }
    Ok(scratch.split_at_mut(len))
}
