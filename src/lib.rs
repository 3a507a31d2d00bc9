//! # sparsimony
//!
//! Sparse scientific modeling in Rust: proximal (forward–backward) solvers, sparse regression, equation
//! discovery and Gaussian-process PDE solvers — on a workstation, on a GPU, and (the evaluation side) on a
//! microcontroller.
//!
//! This facade re-exports the three crates of the workspace:
//!
//! * [`core`] (`sparsimony-core`, `no_std`): operators, proximal maps, forward–backward iterations, small
//!   dense kernels, ODE stepping, seeded sampling;
//! * [`solvers`] (`sparsimony-solvers`): the algorithms at scale on `ndarray` and `sprs` data;
//! * [`gpu`] (`sparsimony-gpu`, feature `gpu`): the wgpu compute backend.
//!
//! The `sparsimony` command-line program is built from this crate (`src/main.rs`); its file readers live in
//! [`io`], its safe file writing in [`output`].
#![warn(missing_docs)]

pub mod io;
pub mod output;
pub mod pde;
pub mod plot;

/// The code blocks of README.md, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The n-dimensional arrays the API takes and returns (re-exported so that versions match).
pub use ndarray;
pub use sparsimony_core as core;
#[cfg(feature = "gpu")]
pub use sparsimony_gpu as gpu;
pub use sparsimony_solvers as solvers;
/// The sparse matrices the API takes (re-exported so that versions match).
pub use sprs;
