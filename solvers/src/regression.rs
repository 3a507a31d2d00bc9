//! Sparse linear regression.
//!
//! [`Lasso`] minimises scikit-learn's objective
//!
//! ```text
//!     1/(2n) ‖y − X w − b‖² + α ‖w‖₁
//! ```
//!
//! (`n` samples, intercept `b` unpenalised and fitted by centring, as scikit-learn's `fit_intercept=True`)
//! by FISTA with adaptive restart on the core forward–backward driver, and stops on the duality gap.

use ndarray::{Array1, ArrayView1, ArrayView2};
use sparsimony_core::forward_backward::{FbState, minimize, scratch_len};
use sparsimony_core::prox::L1;
use sparsimony_core::{Acceleration, FbOptions, LeastSquares, LinearOperator, StepSize};

use crate::data::{ColMajor, check_vector};
use crate::{Error, Result};

/// The Lasso estimator (see the [module docs](self) for the objective).
#[derive(Debug, Clone, PartialEq)]
pub struct Lasso {
    /// The penalty level `α ≥ 0`.
    pub alpha: f64,
    /// Fit an unpenalised intercept `b` (by centring `X` and `y`).
    pub fit_intercept: bool,
    /// Iteration cap.
    pub max_iter: usize,
    /// Stop when the duality gap is at most `tol · ‖y − ȳ‖²/n` (scikit-learn's rule, in the scaling of the
    /// objective above).
    pub tol: f64,
}

impl Default for Lasso {
    /// `α = 1`, with intercept, 10 000 iterations, `tol = 1e-6`.
    fn default() -> Self {
        Self {
            alpha: 1.0,
            fit_intercept: true,
            max_iter: 10_000,
            tol: 1e-6,
        }
    }
}

/// A fitted Lasso.
#[derive(Debug, Clone, PartialEq)]
pub struct LassoFit {
    /// The coefficients `w` (length `d`).
    pub coef: Array1<f64>,
    /// The intercept `b` (0 without `fit_intercept`).
    pub intercept: f64,
    /// The objective `1/(2n)‖y − Xw − b‖² + α‖w‖₁` at the solution.
    pub objective: f64,
    /// The duality gap at the solution (same scaling as the objective), an upper bound on its suboptimality.
    pub duality_gap: f64,
    /// Iterations performed.
    pub n_iter: usize,
}

/// Primal objective and duality gap of `1/(2n)‖y − Xw‖² + α‖w‖₁`, with the dual point `θ = c·r` rescaled to be
/// feasible (`‖Xᵀθ‖∞ ≤ nα`), as scikit-learn's coordinate descent computes it. Returns (objective, gap).
fn primal_and_gap(x: &ColMajor, y: &[f64], w: &[f64], alpha: f64) -> (f64, f64) {
    let n = x.nrows() as f64;
    let mut r = y.to_vec();
    for (j, &wj) in w.iter().enumerate() {
        if wj != 0.0 {
            r.iter_mut().zip(x.col(j)).for_each(|(ri, &xij)| *ri -= xij * wj);
        }
    }
    let r2: f64 = r.iter().map(|v| v * v).sum();
    let l1: f64 = w.iter().map(|v| v.abs()).sum();
    let xtr_max = (0..x.ncols())
        .map(|j| x.col(j).iter().zip(&r).map(|(a, b)| a * b).sum::<f64>().abs())
        .fold(0.0, f64::max);
    let alpha_n = alpha * n;
    let c = if xtr_max > alpha_n { alpha_n / xtr_max } else { 1.0 };
    let ry: f64 = r.iter().zip(y).map(|(a, b)| a * b).sum();
    let gap = 0.5 * r2 * (1.0 + c * c) + alpha_n * l1 - c * ry;
    (r2 / (2.0 * n) + alpha * l1, gap.max(0.0) / n)
}

impl Lasso {
    /// A Lasso with penalty `alpha` and the other settings at their defaults.
    pub fn new(alpha: f64) -> Self {
        Self {
            alpha,
            ..Self::default()
        }
    }

    fn validate(&self) -> Result<()> {
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "alpha",
                reason: format!("must be finite and ≥ 0, got {}", self.alpha),
            });
        }
        if !(self.tol > 0.0 && self.tol.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "tol",
                reason: format!("must be finite and > 0, got {}", self.tol),
            });
        }
        if self.max_iter == 0 {
            return Err(Error::InvalidParameter {
                name: "max_iter",
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// Fits `y ≈ X w + b` for `X` of shape `(n, d)` (samples in rows, any memory layout) and `y` of length `n`.
    ///
    /// A column of zeros (or, with an intercept, a constant column) gets coefficient 0.
    ///
    /// # Errors
    /// Empty or non-finite input, a length mismatch, an invalid parameter, or [`Error::NotConverged`] with
    /// the duality gap reached.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<LassoFit> {
        self.validate()?;
        let mut xs = ColMajor::from_array("X", x)?;
        let (n, d) = (xs.nrows(), xs.ncols());
        let mut yv = check_vector("y (one value per row of X)", y, n)?;
        let (mut x_mean, mut y_mean) = (vec![0.0; d], 0.0);
        if self.fit_intercept {
            for (j, m) in x_mean.iter_mut().enumerate() {
                let col = xs.col_mut(j);
                *m = col.iter().sum::<f64>() / n as f64;
                col.iter_mut().for_each(|v| *v -= *m);
            }
            y_mean = yv.iter().sum::<f64>() / n as f64;
            yv.iter_mut().for_each(|v| *v -= y_mean);
        }

        let op = xs.as_operator();
        let f = LeastSquares::new(op, &yv, 1.0 / n as f64)?;
        let g = L1::new(self.alpha)?;
        // max_j ‖X_j‖²/n is a lower bound of the Lipschitz constant ‖X‖²/n: backtracking starts there.
        let l0 = (0..d)
            .map(|j| xs.col(j).iter().map(|v| v * v).sum::<f64>())
            .fold(0.0, f64::max)
            / n as f64;
        let opts = FbOptions {
            max_iter: self.max_iter,
            tol: 0.0, // stop on the duality gap only
            acceleration: Acceleration::FistaRestart,
            step: StepSize::Backtracking {
                initial: l0.max(f64::MIN_POSITIVE),
                increase: 2.0,
            },
        };
        let gap_tol = self.tol * yv.iter().map(|v| v * v).sum::<f64>() / n as f64;
        let mut last_gap = f64::INFINITY;
        let mut gap_reached = |s: &FbState<'_, f64>| {
            if s.iteration % 10 != 1 {
                return false;
            }
            last_gap = primal_and_gap(&xs, &yv, s.x, self.alpha).1;
            last_gap <= gap_tol
        };
        let mut w = vec![0.0; d];
        let mut scratch = vec![0.0; scratch_len(&f) + op.scratch_len()];
        let n_iter = match minimize(&f, &g, &mut w, &opts, &mut scratch, Some(&mut gap_reached)) {
            Ok(report) => report.iterations,
            Err(sparsimony_core::Error::NotConverged { iterations, .. }) => {
                let (_, gap) = primal_and_gap(&xs, &yv, &w, self.alpha);
                if gap > gap_tol {
                    return Err(Error::NotConverged {
                        iterations,
                        measure: "duality gap",
                        reached: gap,
                        tolerance: gap_tol,
                    });
                }
                iterations
            }
            Err(e) => return Err(e.into()),
        };
        let (objective, duality_gap) = primal_and_gap(&xs, &yv, &w, self.alpha);
        let intercept = if self.fit_intercept {
            y_mean - x_mean.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
        } else {
            0.0
        };
        Ok(LassoFit {
            coef: Array1::from(w),
            intercept,
            objective,
            duality_gap,
            n_iter,
        })
    }
}
