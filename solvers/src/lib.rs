//! # sparsimony-solvers
//!
//! sparsimony's algorithms at scale, on the data users hold: `ndarray` arrays (time series, designs, grids)
//! and `sprs` sparse matrices, with `faer` for dense factorizations. Each family is a module:
//!
//! * [`regression`]: the Lasso and the elastic net (coordinate descent with working sets and gap-safe
//!   screening, or FISTA), regularisation paths and cross-validation, OMP, IHT, STLSQ, best subset and the
//!   random-support estimator;
//! * [`sindy`]: sparse identification of nonlinear dynamics — differentiation, libraries, optimizers,
//!   models with control inputs, simulation and export to the core;
//! * [`gp_pde`]: PDEs solved with spectral-mixture Gaussian processes on tensor grids;
//! * [`privacy`]: sparse regression under local differential privacy — the servers that learn from
//!   messages privatized on the users' devices (non-interactive, with public data, LDP-IHT);
//! * [`radio`]: radio interferometric imaging with direction-dependent self-calibration by
//!   block-coordinate forward–backward and joint Levenberg–Marquardt steps;
//! * [`data`]: conversions from `ndarray` / `sprs` to the core operators, with input validation;
//! * [`metrics`]: scores of fitted models;
//! * [`sweep`]: K-fold cross-validation and grid search of any estimator, written over [`Estimator`].
//! * [`distributed`]: the parallel sums and sweeps shared among processes (MPI ranks with the `mpi`
//!   feature), with results independent of the process count.
//!
//! ## The estimator shape
//! Every estimator is a configuration struct with `Default` and documented public fields (scikit-learn's
//! names and defaults where it has a counterpart) that implements [`Estimator`]: `fit(data)` borrows the
//! data and returns a fitted value or a typed [`Error`]; the fitted value ([`Fitted`]) owns its results,
//! offers `predict` and [`Score`] where they mean something, and carries one [`Report`] (iterations,
//! converged, the stopping measure). A fit that stops at its
//! iteration cap returns its last iterate with `report.converged == false` — as scikit-learn returns the
//! model with a `ConvergenceWarning` — and [`ensure_converged`] makes that an error for callers who want
//! one. Where a fit runs is its [`Backend`] field; long fits report each step to their [`Progress`] field. `ARCHITECTURE.md` lists every estimator.
//!
//! Objectives are stated with their scaling, as scikit-learn states them, so that results can be compared.
#![warn(missing_docs)]

mod backend;
pub mod data;
pub mod distributed;
mod error;
pub mod estimator;
pub mod gp_pde;
mod krylov;
pub mod langevin;
pub mod metrics;
pub mod parallel;
pub mod privacy;
mod progress;
pub mod radio;
pub mod regression;
mod simd;
mod simulation;
pub mod sindy;
pub mod sweep;

pub use backend::Backend;
pub use error::{Error, Result, ensure_converged};
pub use estimator::{Estimator, Fitted, Score};
pub use parallel::{use_threads_globally, with_threads};
pub use progress::{Progress, Step};
pub use sparsimony_core::{Measure, Report};
