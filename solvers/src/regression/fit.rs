//! The fitted linear model every regression estimator returns.

use ndarray::{Array1, ArrayView1, ArrayView2};
use sparsimony_core::Report;

use crate::data::check_vector;
use crate::metrics::r2_score;
use crate::{Error, Fitted, Result, Score};

/// A fitted linear model `ŷ = X w + b`: what [`ElasticNet`](super::ElasticNet), [`Omp`](super::Omp),
/// [`Iht`](super::Iht), [`Stlsq`](super::Stlsq), [`BestSubset`](super::BestSubset) return, and what
/// cross-validation and the random-support estimator refit.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearFit {
    /// The coefficients `w` (length `d`, one per column of `X`).
    pub coef: Array1<f64>,
    /// The intercept `b` (0 without one).
    pub intercept: f64,
    /// The objective at `w`, in the scaling the estimator documents: the penalised
    /// `1/(2n)‖y − Xw − b‖² + penalty` for the elastic net, the data term `1/(2n)‖y − Xw − b‖²` for the
    /// support-selection methods.
    pub objective: f64,
    /// How the fit ended (iterations, converged, the stopping measure). An unconverged fit still holds its
    /// last iterate; [`crate::ensure_converged`] turns it into an error for callers who want one.
    pub report: Report,
}

impl LinearFit {
    /// Predictions `X w + b` for a dense `X` of shape `(n, d)` (samples in rows, any layout).
    ///
    /// # Errors
    /// [`Error::Shape`] when `X` has not `d` columns; [`Error::NonFinite`] for NaN or ±∞ in `X` or in the
    /// predictions (an overflow).
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        check_columns(x.ncols(), self.coef.len())?;
        if let Some(((row, col), _)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { what: "X", row, col });
        }
        finite_predictions(predict_dense(x, self.coef.view(), self.intercept))
    }

    /// Predictions `X w + b` for a sparse `X` (CSR or CSC) of shape `(n, d)`.
    ///
    /// # Errors
    /// As [`predict`](Self::predict).
    pub fn predict_sparse(&self, x: sprs::CsMatView<'_, f64>) -> Result<Array1<f64>> {
        check_columns(x.cols(), self.coef.len())?;
        if let Some((_, (row, col))) = x.iter().find(|(v, _)| !v.is_finite()) {
            return Err(Error::NonFinite { what: "X", row, col });
        }
        finite_predictions(predict_sparse(x, self.coef.view(), self.intercept))
    }

    /// The number of nonzero coefficients.
    pub fn n_nonzero(&self) -> usize {
        self.coef.iter().filter(|c| **c != 0.0).count()
    }
}

impl Fitted for LinearFit {
    fn report(&self) -> &Report {
        &self.report
    }
}

impl<'a> Score<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for LinearFit {
    /// The coefficient of determination `R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²` on `(X, y)`, as scikit-learn's
    /// `score` (a constant `y` scores 1 when predicted exactly and 0 otherwise).
    ///
    /// # Errors
    /// As [`LinearFit::predict`]; shape and finiteness errors for `y`.
    fn score(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<f64> {
        let y = Array1::from(check_vector("y (one value per row of X)", y, x.nrows())?);
        Ok(r2_score(y.view(), self.predict(x)?.view()))
    }
}

impl<'a> Score<(sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>)> for LinearFit {
    /// `R²` on a sparse `X` (CSR or CSC) and `y`, as for a dense one.
    ///
    /// # Errors
    /// As [`LinearFit::predict_sparse`]; shape and finiteness errors for `y`.
    fn score(&self, (x, y): (sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>)) -> Result<f64> {
        let y = Array1::from(check_vector("y (one value per row of X)", y, x.rows())?);
        Ok(r2_score(y.view(), self.predict_sparse(x)?.view()))
    }
}

fn check_columns(found: usize, expected: usize) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::Shape {
            what: "columns of X (one per coefficient of the fit)",
            expected,
            found,
        })
    }
}

fn finite_predictions(p: Array1<f64>) -> Result<Array1<f64>> {
    match p.iter().position(|v| !v.is_finite()) {
        None => Ok(p),
        Some(row) => Err(Error::NonFinite {
            what: "predictions (X w + b overflows: rescale X)",
            row,
            col: 0,
        }),
    }
}

/// `X w + b` for a dense `X`, unchecked.
pub(crate) fn predict_dense(x: ArrayView2<'_, f64>, coef: ArrayView1<'_, f64>, intercept: f64) -> Array1<f64> {
    x.dot(&coef) + intercept
}

/// `X w + b` for a sparse `X`, unchecked.
pub(crate) fn predict_sparse(x: sprs::CsMatView<'_, f64>, coef: ArrayView1<'_, f64>, intercept: f64) -> Array1<f64> {
    let mut out = Array1::from_elem(x.rows(), intercept);
    for (v, (i, j)) in x.iter() {
        out[i] += v * coef[j];
    }
    out
}
