//! Sparse linear regression: the Lasso and the elastic net.
//!
//! [`ElasticNet`] minimises scikit-learn's objective
//!
//! ```text
//!     1/(2n) ‖y − X w − b‖² + α ( ρ Σⱼ pⱼ|wⱼ| + (1 − ρ)/2 Σⱼ pⱼ wⱼ² )
//! ```
//!
//! (`n` samples, `ρ` = `l1_ratio`; `ρ = 1` is the Lasso), with an unpenalised intercept `b` fitted by
//! centring, optional per-feature penalty weights `pⱼ ≥ 0` (glmnet's `penalty.factor`; `pⱼ = 0` leaves a
//! feature unpenalised — the *partial* Lasso), optional `w ≥ 0`, and warm starts. Designs are dense
//! (`ndarray`, any layout) or sparse (`sprs` views, CSR or CSC: borrowed, so that data held elsewhere, a
//! NumPy buffer say, is not copied; centring stays implicit, so the matrix stays sparse).
//!
//! Solvers ([`Solver`]): coordinate descent with working sets and gap-safe screening (the default; see
//! `cd.rs` for the references), or FISTA with restart on the core forward–backward driver. Both stop on the
//! duality gap, `gap ≤ tol · ‖y − ȳ‖²/n`, scikit-learn's rule in this scaling.
//!
//! [`path`] computes regularisation paths and K-fold cross-validation. [`Omp`], [`Iht`], [`Stlsq`] and
//! [`BestSubset`] select supports directly; [`RandomSupport`] handles ill-conditioned designs.
//!
//! Every estimator here is a configuration with `Default` whose [`Estimator::fit`] of `(x, y)` returns a
//! [`LinearFit`] (or, for cross-validation and the random-support estimator, a value holding one):
//! coefficients, intercept, objective, `predict`, [`Score`](crate::Score) and the shared
//! [`Report`](crate::Report). Designs are `X` of shape
//! `(n, d)`, samples in rows, any memory layout.

mod cd;
mod design;
mod fista;
mod fit;
mod gap;
pub mod interrupt;
pub mod normal;
pub mod path;
mod polish;
pub mod random_support;
pub mod subset;

pub use fit::LinearFit;
pub use normal::NormalEquations;
pub use path::{CrossValidation, CvFit};
pub use random_support::{RandomSupport, RandomSupportFit};
pub use subset::{BestSubset, Iht, Omp, Stlsq, least_squares};

use ndarray::{Array1, ArrayView1, ArrayView2};

use crate::data::check_vector;
use crate::{Error, Estimator, Result};
use design::{DenseDesign, Design, GramDesign, SparseDesign};

/// The algorithm of an [`ElasticNet`] fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// Coordinate descent with working sets and gap-safe screening.
    #[default]
    CoordinateDescent,
    /// FISTA with adaptive restart (dense designs; the generic proximal-gradient path).
    Fista,
}

/// Whether coordinate descent works on the Gram matrix `XᵀX` (dense designs only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precompute {
    /// Use it for paths and cross-validation (many fits of one design) when `n ≥ 2d` and `d ≤ 4096`; a
    /// single fit usually needs too few epochs to repay the `n·d²` of forming `XᵀX`.
    #[default]
    Auto,
    /// Always form `XᵀX` (`d²` memory).
    Always,
    /// Never form it.
    Never,
}

/// The elastic-net (and Lasso) estimator; see the [module docs](self) for the objective.
#[derive(Debug, Clone, PartialEq)]
pub struct ElasticNet {
    /// The penalty level `α ≥ 0`.
    pub alpha: f64,
    /// The mixing `ρ ∈ [0, 1]`: 1 is the Lasso, 0 ridge regression.
    pub l1_ratio: f64,
    /// Fit an unpenalised intercept `b`.
    pub fit_intercept: bool,
    /// Constrain the coefficients to be non-negative.
    pub positive: bool,
    /// Per-feature penalty weights `pⱼ ≥ 0` (`None`: all 1).
    pub penalty_weights: Option<Vec<f64>>,
    /// Iteration cap (coordinate-descent epochs, or FISTA iterations).
    pub max_iter: usize,
    /// Duality-gap tolerance relative to `‖y − ȳ‖²/n`.
    pub tol: f64,
    /// The algorithm.
    pub solver: Solver,
    /// The Gram-matrix path of coordinate descent (ignored by FISTA and sparse designs).
    pub precompute: Precompute,
}

impl Default for ElasticNet {
    /// The Lasso with `α = 1`, intercept, no constraint, 10 000 iterations, `tol = 1e-6`, coordinate descent.
    fn default() -> Self {
        Self {
            alpha: 1.0,
            l1_ratio: 1.0,
            fit_intercept: true,
            positive: false,
            penalty_weights: None,
            max_iter: 10_000,
            tol: 1e-6,
            solver: Solver::CoordinateDescent,
            precompute: Precompute::Auto,
        }
    }
}

/// A design in one of its representations.
pub(crate) enum AnyDesign<'a> {
    Dense(DenseDesign),
    Sparse(SparseDesign<'a>),
    Gram(GramDesign),
}

impl ElasticNet {
    pub(crate) fn validate(&self, d: usize) -> Result<()> {
        let bad = |name, reason: String| Err(Error::InvalidParameter { name, reason });
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return bad("alpha", format!("must be finite and ≥ 0, got {}", self.alpha));
        }
        if !(0.0..=1.0).contains(&self.l1_ratio) {
            return bad("l1_ratio", format!("must lie in [0, 1], got {}", self.l1_ratio));
        }
        if !(self.tol > 0.0 && self.tol.is_finite()) {
            return bad("tol", format!("must be finite and > 0, got {}", self.tol));
        }
        if self.max_iter == 0 {
            return bad("max_iter", "must be at least 1".into());
        }
        if let Some(pw) = &self.penalty_weights {
            if pw.len() != d {
                return Err(Error::Shape {
                    what: "penalty_weights (one per column of X)",
                    expected: d,
                    found: pw.len(),
                });
            }
            if let Some(j) = pw.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return bad(
                    "penalty_weights",
                    format!("weight {j} is {}, must be finite and ≥ 0", pw[j]),
                );
            }
        }
        Ok(())
    }

    /// A dense design `X` (`n × d`, any layout) with `y`, started from `start` (zero when `None`).
    fn dense_fit(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        start: Option<ArrayView1<'_, f64>>,
    ) -> Result<LinearFit> {
        let design = self.prepare_dense(x, y, 1)?;
        let start = Self::check_start(start, x.ncols())?;
        self.fit_design(&design, y, start.as_deref())
    }

    /// A sparse design with `y` (and sample weights `w`), started from `start` (zero when `None`).
    fn sparse_fit(
        &self,
        x: sprs::CsMatView<'_, f64>,
        y: ArrayView1<'_, f64>,
        w: Option<ArrayView1<'_, f64>>,
        start: Option<ArrayView1<'_, f64>>,
    ) -> Result<LinearFit> {
        if self.solver == Solver::Fista {
            return Err(fista_dense_only());
        }
        let start = Self::check_start(start, x.cols())?;
        match w {
            None => {
                let design = AnyDesign::Sparse(SparseDesign::new(x, self.fit_intercept)?);
                self.fit_design(&design, y, start.as_deref())
            }
            Some(w) => {
                let (design, root) = SparseDesign::weighted(x, self.fit_intercept, w)?;
                let yw = scaled_response(y, &root)?;
                self.fit_design(&AnyDesign::Sparse(design), yw.view(), start.as_deref())
            }
        }
    }

    /// Target `t` of normal equations by coordinate descent on the Gram design.
    fn gram_fit(&self, ne: &NormalEquations, t: usize) -> Result<LinearFit> {
        if self.fit_intercept {
            return Err(Error::InvalidParameter {
                name: "fit_intercept",
                reason: "normal equations carry no intercept: set it to false and include a constant feature".into(),
            });
        }
        if self.solver == Solver::Fista {
            return Err(Error::InvalidParameter {
                name: "solver",
                reason: "normal equations are solved by coordinate descent".into(),
            });
        }
        let d = ne.n_features();
        self.validate(d)?;
        let gram = design::GramDesign::from_normal(ne, t);
        let params = gap::Params {
            l1: self.alpha * self.l1_ratio,
            l2: self.alpha * (1.0 - self.l1_ratio),
            weights: self.penalty_weights.as_deref(),
            positive: self.positive,
            tol_gap: self.tol * ne.y_sq(t) / ne.n_samples().max(1.0),
            tol_gradient: self.gradient_tolerance(&gram, &[]),
            max_epochs: self.max_iter,
        };
        let mut w = vec![0.0; d];
        let mut r = gram.residual(&[]);
        let solved = cd::solve(&gram, &[], &mut w, &mut r, &params)?;
        Ok(LinearFit {
            coef: Array1::from(w),
            intercept: 0.0,
            objective: solved.objective,
            report: solved.report,
        })
    }

    /// A warm start validated: one finite value per feature.
    fn check_start(start: Option<ArrayView1<'_, f64>>, d: usize) -> Result<Option<Vec<f64>>> {
        start
            .map(|s| check_vector("the warm start (one coefficient per column of X)", s, d))
            .transpose()
    }

    /// The dense design in the representation the settings call for (Gram or not), for the response `y`
    /// and `fits` fits of it.
    pub(crate) fn prepare_dense(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        fits: usize,
    ) -> Result<AnyDesign<'static>> {
        let dense = DenseDesign::new(x, self.fit_intercept)?;
        let (n, d) = (dense.nrows(), dense.ncols());
        let gram = self.solver == Solver::CoordinateDescent
            && match self.precompute {
                Precompute::Auto => fits > 1 && n >= 2 * d && d <= 4096,
                Precompute::Always => true,
                Precompute::Never => false,
            };
        if !gram {
            return Ok(AnyDesign::Dense(dense));
        }
        let yc = self.centred_response(y, n, None)?.0;
        Ok(AnyDesign::Gram(dense.gram(&yc)))
    }

    /// `y` validated and centred (with an intercept) along the design's centring direction `u`
    /// (`None`: ones), and its mean `uᵀy / uᵀu`.
    pub(crate) fn centred_response(
        &self,
        y: ArrayView1<'_, f64>,
        n: usize,
        direction: Option<&[f64]>,
    ) -> Result<(Vec<f64>, f64)> {
        let mut yc = check_vector("y (one value per row of X)", y, n)?;
        if !self.fit_intercept {
            return Ok((yc, 0.0));
        }
        match direction {
            None => {
                let y_mean = yc.iter().sum::<f64>() / n as f64;
                yc.iter_mut().for_each(|v| *v -= y_mean);
                Ok((yc, y_mean))
            }
            Some(u) => {
                let uu: f64 = u.iter().map(|v| v * v).sum();
                let y_mean = u.iter().zip(&yc).map(|(a, b)| a * b).sum::<f64>() / uu;
                yc.iter_mut().zip(u).for_each(|(v, ui)| *v -= y_mean * ui);
                Ok((yc, y_mean))
            }
        }
    }

    /// Fits a prepared design, warm-starting from `start` when given.
    pub(crate) fn fit_design(
        &self,
        design: &AnyDesign<'_>,
        y: ArrayView1<'_, f64>,
        start: Option<&[f64]>,
    ) -> Result<LinearFit> {
        match design {
            AnyDesign::Dense(x) => self.fit_with(x, y, start, Some(x)),
            AnyDesign::Sparse(x) => self.fit_with(x, y, start, None),
            AnyDesign::Gram(x) => self.fit_with(x, y, start, None),
        }
    }

    fn fit_with<D: Design>(
        &self,
        x: &D,
        y: ArrayView1<'_, f64>,
        start: Option<&[f64]>,
        dense: Option<&DenseDesign>,
    ) -> Result<LinearFit> {
        let (n, d) = (x.nrows(), x.ncols());
        self.validate(d)?;
        let (yc, y_mean) = self.centred_response(y, n, x.direction())?;
        let params = gap::Params {
            l1: self.alpha * self.l1_ratio,
            l2: self.alpha * (1.0 - self.l1_ratio),
            weights: self.penalty_weights.as_deref(),
            positive: self.positive,
            tol_gap: self.tol * yc.iter().map(|v| v * v).sum::<f64>() / n as f64,
            tol_gradient: self.gradient_tolerance(x, &yc),
            max_epochs: self.max_iter,
        };
        let mut w = match start {
            Some(s) => s.to_vec(),
            None => vec![0.0; d],
        };
        let solved = match (self.solver, dense) {
            (Solver::Fista, Some(dense)) => fista::solve(dense.matrix(), &yc, &mut w, &params)?,
            (Solver::Fista, None) => return Err(fista_dense_only()),
            (Solver::CoordinateDescent, _) => {
                let mut r = x.residual(&yc);
                for (j, &wj) in w.iter().enumerate() {
                    if wj != 0.0 {
                        x.col_axpy(j, wj, &mut r);
                    }
                }
                cd::solve(x, &yc, &mut w, &mut r, &params)?
            }
        };
        let intercept = y_mean - x.means().iter().zip(&w).map(|(m, c)| m * c).sum::<f64>();
        Ok(LinearFit {
            coef: Array1::from(w),
            intercept,
            objective: solved.objective,
            report: solved.report,
        })
    }
}

/// Data with a warm start: the elastic net started from the coefficients `start` (length `d`) instead of
/// zero, as scikit-learn's `warm_start` — a previous fit's coefficients make a nearby problem (a new `α`,
/// a few more samples) cheaper. The optimum does not depend on the start.
#[derive(Debug, Clone, Copy)]
pub struct WarmStart<'a, D> {
    /// The data, as [`ElasticNet`] fits it cold: `(x, y)` dense or sparse, or `(x, y, w)` sparse.
    pub data: D,
    /// The start, one finite coefficient per feature.
    pub start: ArrayView1<'a, f64>,
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for ElasticNet {
    type Fitted = LinearFit;

    /// Fits a dense design `X` of shape `(n, d)` (samples in rows, any layout) to `y` (length `n`).
    ///
    /// A zero column (or, with an intercept, a constant one) gets coefficient 0. The report is judged by
    /// the duality gap; at the iteration cap the last iterate is returned with `report.converged == false`.
    ///
    /// # Errors
    /// Empty or non-finite input, shape mismatches, invalid parameters.
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<LinearFit> {
        self.dense_fit(x, y, None)
    }
}

impl<'a> Estimator<(sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>)> for ElasticNet {
    type Fitted = LinearFit;

    /// Fits a sparse design (CSR or CSC, viewed: `m.view()` of an owned `CsMat`; a CSC matrix is used in
    /// place, a CSR one converted to CSC once) to `y`.
    ///
    /// # Errors
    /// As for dense designs; the FISTA solver (dense designs only).
    fn fit(&self, (x, y): (sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>)) -> Result<LinearFit> {
        self.sparse_fit(x, y, None, None)
    }
}

impl<'a> Estimator<(sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>, ArrayView1<'a, f64>)> for ElasticNet {
    type Fitted = LinearFit;

    /// Fits a sparse design with sample weights `w` (one per row, finite, ≥ 0, not all zero): minimises
    /// `1/(2 Σw) Σᵢ wᵢ (yᵢ − xᵢᵀβ − b)² + α·penalty`, scikit-learn's weighted objective (weights rescaled
    /// to sum `n`).
    ///
    /// The intercept is handled as scikit-learn handles it, by centring on the weighted means — here
    /// implicitly, so the design stays sparse and no unpenalised intercept column is added (coordinate
    /// descent converges on such a column only slowly).
    ///
    /// # Errors
    /// As for sparse designs; weights of the wrong length, negative, non-finite or all zero.
    fn fit(
        &self,
        (x, y, w): (sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>, ArrayView1<'a, f64>),
    ) -> Result<LinearFit> {
        self.sparse_fit(x, y, Some(w), None)
    }
}

impl<'a> Estimator<WarmStart<'a, (ArrayView2<'a, f64>, ArrayView1<'a, f64>)>> for ElasticNet {
    type Fitted = LinearFit;

    /// A dense fit from a warm start.
    ///
    /// # Errors
    /// As the cold fit; a start of the wrong length or with non-finite values.
    fn fit(&self, warm: WarmStart<'a, (ArrayView2<'a, f64>, ArrayView1<'a, f64>)>) -> Result<LinearFit> {
        self.dense_fit(warm.data.0, warm.data.1, Some(warm.start))
    }
}

impl<'a> Estimator<WarmStart<'a, (sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>)>> for ElasticNet {
    type Fitted = LinearFit;

    /// A sparse fit from a warm start.
    ///
    /// # Errors
    /// As the cold fit; a start of the wrong length or with non-finite values.
    fn fit(&self, warm: WarmStart<'a, (sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>)>) -> Result<LinearFit> {
        self.sparse_fit(warm.data.0, warm.data.1, None, Some(warm.start))
    }
}

impl<'a> Estimator<WarmStart<'a, (sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>, ArrayView1<'a, f64>)>> for ElasticNet {
    type Fitted = LinearFit;

    /// A weighted sparse fit from a warm start.
    ///
    /// # Errors
    /// As the cold fit; a start of the wrong length or with non-finite values.
    fn fit(
        &self,
        warm: WarmStart<'a, (sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>, ArrayView1<'a, f64>)>,
    ) -> Result<LinearFit> {
        let (x, y, w) = warm.data;
        self.sparse_fit(x, y, Some(w), Some(warm.start))
    }
}

impl Estimator<(&NormalEquations, usize)> for ElasticNet {
    type Fitted = LinearFit;

    /// Fits target `t` of [`NormalEquations`] by coordinate descent on the Gram matrix (`O(d)` per update,
    /// whatever the number of samples): how SINDy uses the elastic net. The objective is scaled by the
    /// samples the equations hold (`1/(2n)`, `n` = [`NormalEquations::n_samples`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] with `fit_intercept` (normal equations carry no intercept: include a
    /// constant feature instead), the FISTA solver or a target `t` the equations do not hold; invalid
    /// parameters.
    fn fit(&self, (ne, t): (&NormalEquations, usize)) -> Result<LinearFit> {
        check_target(ne, t)?;
        self.gram_fit(ne, t)
    }
}

/// Refuses a target index that normal equations do not hold.
pub(crate) fn check_target(ne: &NormalEquations, t: usize) -> Result<()> {
    if t >= ne.n_targets() {
        return Err(Error::InvalidParameter {
            name: "target",
            reason: format!(
                "the normal equations hold {} target(s), asked for target {t}",
                ne.n_targets()
            ),
        });
    }
    Ok(())
}

/// `y` (validated: one finite value per row) with its rows scaled by `root` (`√w`).
pub(crate) fn scaled_response(y: ArrayView1<'_, f64>, root: &[f64]) -> Result<Array1<f64>> {
    let y = check_vector("y (one value per row of X)", y, root.len())?;
    Ok(y.iter().zip(root).map(|(v, r)| v * r).collect())
}

impl ElasticNet {
    /// Without an ℓ1 penalty, the stopping rule's tolerance: `tol` times the largest gradient component
    /// at `w = 0`, `max_j |X_jᵀy|` (see [`Measure::Gradient`](sparsimony_core::Measure::Gradient)). With
    /// one, the duality gap is the measure and this pass over the design is skipped (0).
    fn gradient_tolerance<D: Design>(&self, x: &D, y: &[f64]) -> f64 {
        if self.alpha * self.l1_ratio > 0.0 {
            return 0.0;
        }
        let r0 = x.residual(y);
        self.tol * (0..x.ncols()).map(|j| x.col_dot(j, &r0).abs()).fold(0.0, f64::max)
    }
}

/// The refusal of FISTA on a design that is not dense (sparse or normal equations).
fn fista_dense_only() -> Error {
    Error::InvalidParameter {
        name: "solver",
        reason: "FISTA takes dense designs only".into(),
    }
}
