//! The one estimator shape, as code: every family's estimators implement [`Estimator`], their fitted
//! values [`Fitted`], and those that predict a response [`Score`].
//!
//! An estimator is its settings (a struct with `Default` and public fields); [`Estimator::fit`] borrows
//! the data and returns the fitted value or a typed [`Error`](crate::Error). The data type `D` is a
//! parameter, so that one estimator can fit several representations — the elastic net a dense design
//! `(x, y)`, a sparse one `(x_sparse, y)`, weighted samples `(x_sparse, y, w)` or normal equations
//! `(&ne, target)` — and each family names its own: trajectories for SINDy, a discretized problem for the
//! GP-PDE solver, an observation and its bright sources for radio self-calibration.
//!
//! ```
//! use ndarray::array;
//! use sparsimony_solvers::regression::ElasticNet;
//! use sparsimony_solvers::{Estimator, Fitted, Score};
//!
//! let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]];
//! let y = array![1.0, 2.0, 3.0, 4.0];
//! let lasso = ElasticNet { alpha: 0.01, ..ElasticNet::default() };
//! let fit = lasso.fit((x.view(), y.view()))?;
//! assert!(fit.report().converged);
//! assert!(fit.score((x.view(), y.view()))? > 0.99);
//! # Ok::<(), sparsimony_solvers::Error>(())
//! ```
//!
//! Code written over these traits — [`crate::sweep`]'s cross-validation and grid search — runs for every
//! estimator that implements them.

use sparsimony_core::Report;

use crate::Result;

/// Settings that fit data of type `D` into a [`Fitted`] value.
///
/// `fit` never panics on the data or the settings: bad input is an [`Error`](crate::Error) naming the
/// problem. A fit that stops at its iteration cap is not an error: its fitted value holds the last
/// iterate with `report().converged == false` ([`ensure_converged`](crate::ensure_converged) makes it
/// one).
pub trait Estimator<D> {
    /// What a fit returns.
    type Fitted: Fitted;

    /// Fits the data.
    ///
    /// # Errors
    /// Each implementation documents its own: shapes, emptiness, non-finite values, invalid settings,
    /// singular systems, divergence.
    fn fit(&self, data: D) -> Result<Self::Fitted>;
}

/// A fitted value: it owns its results and says how its fit ended.
pub trait Fitted {
    /// Iterations, whether the fit converged, the stopping measure with the value reached and the
    /// tolerance.
    fn report(&self) -> &Report;
}

/// A fitted model that predicts a response: its score on data `D`, higher is better — the coefficient of
/// determination `R²` for the regression families (scikit-learn's `score`).
pub trait Score<D> {
    /// The score on `data`.
    ///
    /// # Errors
    /// Shape and finiteness errors of `data`.
    fn score(&self, data: D) -> Result<f64>;
}
