//! # sparsimony-solvers
//!
//! sparsimony's algorithms at scale, on the data users hold: `ndarray` arrays (time series, designs, grids)
//! and `sprs` sparse matrices, with `faer` for dense factorizations. Each family is a module:
//!
//! * [`regression`]: the Lasso and the elastic net (coordinate descent with working sets and gap-safe
//!   screening, or FISTA), regularisation paths and cross-validation;
//! * [`sindy`]: sparse identification of nonlinear dynamics — differentiation, libraries, optimizers,
//!   models with control inputs, simulation and export to the core;
//! * [`gp_pde`]: Gaussian-process PDE solvers — so far the spectral-mixture kernels and their derivatives;
//! * [`data`]: conversions from `ndarray` / `sprs` to the core operators, with input validation.
//!
//! Objectives are stated with their scaling, as scikit-learn states them, so that results can be compared.
#![warn(missing_docs)]

pub mod data;
mod error;
pub mod gp_pde;
pub mod regression;
pub mod sindy;

pub use error::{Error, Result};
