//! Sparse regression by support selection: orthogonal matching pursuit, iterative hard thresholding,
//! sequentially thresholded least squares, and exhaustive best-subset search.
//!
//! All fit `y ≈ X w + b` (intercept by centring, as [`ElasticNet`](super::ElasticNet); on by default, as
//! in scikit-learn) and return a [`LinearFit`] whose objective is the data term `1/(2n)‖y − Xw − b‖²`.
//! The sparsity level is `n_nonzero` for the methods that take one (scikit-learn's `n_nonzero_coefs`;
//! `None` is its default, `max(d/10, 1)`).

use ndarray::{Array1, ArrayView1, ArrayView2};
use sparsimony_core::forward_backward::{minimize, scratch_len};
use sparsimony_core::linalg::{
    cholesky_in_place, cholesky_solve, power_iteration, power_iteration_scratch_len, qr_least_squares,
};
use sparsimony_core::operator::DenseColMajorMut;
use sparsimony_core::prox::TopK;
use sparsimony_core::{Acceleration, DenseColMajor, FbOptions, LeastSquares, Measure, Report, StepSize};

use super::design::{DenseDesign, Design};
use super::fit::LinearFit;
use super::normal::NormalEquations;
use crate::data::{ColMajor, check_vector};
use crate::{Error, Estimator, Result};

/// The centred problem shared by the methods.
struct Problem {
    x: ColMajor,
    means: Vec<f64>,
    y: Vec<f64>,
    y_mean: f64,
}

impl Problem {
    fn new(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>, fit_intercept: bool) -> Result<Self> {
        let design = DenseDesign::new(x, fit_intercept)?;
        let n = design.nrows();
        let mut yc = check_vector("y (one value per row of X)", y, n)?;
        let y_mean = if fit_intercept {
            yc.iter().sum::<f64>() / n as f64
        } else {
            0.0
        };
        yc.iter_mut().for_each(|v| *v -= y_mean);
        let means = design.means().to_vec();
        Ok(Self {
            x: design.matrix().clone(),
            means,
            y: yc,
            y_mean,
        })
    }

    fn n(&self) -> usize {
        self.x.nrows()
    }
    fn d(&self) -> usize {
        self.x.ncols()
    }

    /// `r = y − X w` (centred).
    fn residual(&self, w: &[f64]) -> Vec<f64> {
        let mut r = self.y.clone();
        for (j, &wj) in w.iter().enumerate() {
            if wj != 0.0 {
                r.iter_mut().zip(self.x.col(j)).for_each(|(ri, &xij)| *ri -= wj * xij);
            }
        }
        r
    }

    /// Least squares (optionally ridge, `min ‖y − X_S v‖² + α‖v‖²`) on the columns in `support`; QR when
    /// `α = 0`, Cholesky of the regularised normal equations otherwise.
    fn solve_on(&self, support: &[usize], alpha: f64) -> Result<Vec<f64>> {
        let (n, k) = (self.n(), support.len());
        let mut w = vec![0.0; self.d()];
        if k == 0 {
            return Ok(w);
        }
        let coef = if alpha == 0.0 {
            if k > n {
                return Err(Error::InvalidParameter {
                    name: "support",
                    reason: format!("{k} selected features exceed the {n} samples: least squares is underdetermined"),
                });
            }
            let mut a: Vec<f64> = support.iter().flat_map(|&j| self.x.col(j).iter().copied()).collect();
            let mut b = self.y.clone();
            let mut tau = vec![0.0; k];
            qr_least_squares(&mut DenseColMajorMut::new(&mut a, n, k)?, &mut b, &mut tau)?;
            b.truncate(k);
            b
        } else {
            let mut g = vec![0.0; k * k];
            for (a, &ja) in support.iter().enumerate() {
                for (b, &jb) in support.iter().enumerate().take(a + 1) {
                    let v = sparsimony_core::linalg::dot(self.x.col(ja), self.x.col(jb));
                    g[a + b * k] = v;
                    g[b + a * k] = v;
                }
                g[a + a * k] += alpha;
            }
            let mut rhs: Vec<f64> = support
                .iter()
                .map(|&j| sparsimony_core::linalg::dot(self.x.col(j), &self.y))
                .collect();
            let mut m = DenseColMajorMut::new(&mut g, k, k)?;
            cholesky_in_place(&mut m)?;
            cholesky_solve(m.as_ref(), &mut rhs)?;
            rhs
        };
        support.iter().zip(coef).for_each(|(&j, c)| w[j] = c);
        Ok(w)
    }

    fn finish(&self, w: Vec<f64>, report: Report) -> LinearFit {
        let r = self.residual(&w);
        let objective = r.iter().map(|v| v * v).sum::<f64>() / (2.0 * self.n() as f64);
        let intercept = self.y_mean - self.means.iter().zip(&w).map(|(m, c)| m * c).sum::<f64>();
        LinearFit {
            coef: Array1::from(w),
            intercept,
            objective,
            report,
        }
    }

    /// The sparsity level: `n_nonzero`, checked against `1..=max`, or scikit-learn's default
    /// `max(d/10, 1)`.
    fn sparsity(&self, n_nonzero: Option<usize>, max: usize, bound: &str) -> Result<usize> {
        match n_nonzero {
            Some(k) if k == 0 || k > max => Err(Error::InvalidParameter {
                name: "n_nonzero",
                reason: format!("must lie in 1..={max} ({bound}), got {k}"),
            }),
            Some(k) => Ok(k),
            None => Ok((self.d() / 10).max(1).min(max)),
        }
    }
}

/// Ordinary least squares `min ‖y − X w‖²` without intercept, by Householder QR (backward stable: it
/// resolves condition numbers that the normal equations would square away).
///
/// # Errors
/// Shape and finiteness errors; `InvalidParameter` when `d > n`; the core's `RankDeficient` error when a
/// column is (numerically) a combination of the others.
pub fn least_squares(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<Array1<f64>> {
    let pb = Problem::new(x, y, false)?;
    let all: Vec<usize> = (0..pb.d()).collect();
    Ok(Array1::from(pb.solve_on(&all, 0.0)?))
}

/// Orthogonal matching pursuit (Pati, Rezaiifar & Krishnaprasad 1993), as scikit-learn's
/// `OrthogonalMatchingPursuit`: add the feature most correlated with the residual, `argmaxⱼ |X_jᵀr|` (the
/// first on ties; columns are not normalised), refit least squares on the support, repeat.
///
/// The report is [`Measure::Exact`] when stopping at `n_nonzero` features, [`Measure::Residual`] against
/// `tol` otherwise (unconverged when every feature is used, or the residual is orthogonal to all the
/// remaining ones, before `‖r‖² ≤ tol`).
#[derive(Debug, Clone, PartialEq)]
pub struct Omp {
    /// Stop at this many features (default when `tol` is also `None`: `max(d/10, 1)`, scikit-learn's).
    pub n_nonzero: Option<usize>,
    /// Stop when `‖r‖²` (unscaled, centred) falls to this (overrides `n_nonzero`).
    pub tol: Option<f64>,
    /// Fit an intercept (default true).
    pub fit_intercept: bool,
}

impl Default for Omp {
    fn default() -> Self {
        Self {
            n_nonzero: None,
            tol: None,
            fit_intercept: true,
        }
    }
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for Omp {
    type Fitted = LinearFit;

    /// Fits `X` (`n × d`, samples in rows) to `y`.
    ///
    /// # Errors
    /// Shape and finiteness errors; `n_nonzero` outside `1..=min(n, d)`; a negative or non-finite `tol`.
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<LinearFit> {
        let pb = Problem::new(x, y, self.fit_intercept)?;
        let (n, d) = (pb.n(), pb.d());
        let k_max = match self.tol {
            Some(t) if !(t >= 0.0 && t.is_finite()) => {
                return Err(Error::InvalidParameter {
                    name: "tol",
                    reason: format!("must be finite and ≥ 0, got {t}"),
                });
            }
            Some(_) => d.min(n),
            None => pb.sparsity(self.n_nonzero, d.min(n), "min(n, d)")?,
        };
        let mut support: Vec<usize> = Vec::new();
        let mut w = vec![0.0; d];
        let mut r = pb.y.clone();
        while support.len() < k_max {
            if let Some(t) = self.tol
                && r.iter().map(|v| v * v).sum::<f64>() <= t
            {
                break;
            }
            let (mut best, mut best_c) = (usize::MAX, -1.0);
            for j in 0..d {
                let c = sparsimony_core::linalg::dot(pb.x.col(j), &r).abs();
                if c > best_c {
                    best = j;
                    best_c = c;
                }
            }
            if support.contains(&best) || best_c <= f64::EPSILON * sparsimony_core::linalg::norm2(&r) {
                break; // the residual is orthogonal to every remaining feature (linear dependence)
            }
            support.push(best);
            w = pb.solve_on(&support, 0.0)?;
            r = pb.residual(&w);
        }
        let steps = support.len();
        let report = match self.tol {
            Some(t) => Report::new(steps, Measure::Residual, r.iter().map(|v| v * v).sum(), t),
            None => Report::exact(steps),
        };
        Ok(pb.finish(w, report))
    }
}

/// Iterative hard thresholding (Blumensath & Davies 2009): forward–backward on `1/(2n)‖y − Xw‖²` with the
/// projection onto `‖w‖₀ ≤ k` ([`TopK`]) and the step `1/L`, `L = ‖X‖²/n`; then, with `debias`, least
/// squares on the support found. The report is judged by the relative change of the iterate.
#[derive(Debug, Clone, PartialEq)]
pub struct Iht {
    /// The number of non-zero coefficients (default `None`: `max(d/10, 1)`).
    pub n_nonzero: Option<usize>,
    /// Iteration cap (default 10 000).
    pub max_iter: usize,
    /// Tolerance on the relative change of the iterate (default 1e-10).
    pub tol: f64,
    /// Refit least squares on the final support (default true).
    pub debias: bool,
    /// Fit an intercept (default true).
    pub fit_intercept: bool,
}

impl Default for Iht {
    fn default() -> Self {
        Self {
            n_nonzero: None,
            max_iter: 10_000,
            tol: 1e-10,
            debias: true,
            fit_intercept: true,
        }
    }
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for Iht {
    type Fitted = LinearFit;

    /// Fits `X` (`n × d`) to `y`.
    ///
    /// # Errors
    /// Shape and finiteness errors; `n_nonzero` outside `1..=d`; a rank-deficient debiasing fit.
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<LinearFit> {
        let pb = Problem::new(x, y, self.fit_intercept)?;
        let (n, d) = (pb.n(), pb.d());
        let k = pb.sparsity(self.n_nonzero, d, "d")?;
        let op = DenseColMajor::new(pb.x.data(), n, d)?;
        let mut ps = vec![0.0; power_iteration_scratch_len(&op)];
        // A step needs an upper bound, not the eigenvalue to 10 digits: on a well-conditioned tall design
        // (n ≫ d, isotropic) the top eigenvalues nearly tie and the Rayleigh quotient creeps (10 000
        // iterations reached a relative change of 5e-10 at n = 3·10⁶, d = 50). A change below 1e-6 leaves
        // it within about 1e-6/(2·gap) of ‖X‖², which the 1e-3 margin covers for gaps above 5e-4 — and
        // closer ties put every eigenvalue within the margin anyway.
        let lip = power_iteration(&op, 10_000, 1e-6, &mut ps)? / n as f64 * (1.0 + 1e-3);
        if lip == 0.0 {
            return Ok(pb.finish(vec![0.0; d], Report::exact(0)));
        }
        let f = LeastSquares::new(op, &pb.y, 1.0 / n as f64)?;
        let opts = FbOptions {
            max_iter: self.max_iter,
            tol: self.tol,
            acceleration: Acceleration::None,
            step: StepSize::Lipschitz(lip),
        };
        let mut w = vec![0.0; d];
        let mut scratch = vec![0.0; scratch_len(&f)];
        let report = minimize(&f, &TopK::new(k), &mut w, &opts, &mut scratch, None)?.report(self.tol);
        if self.debias {
            let support: Vec<usize> = (0..d).filter(|&j| w[j] != 0.0).collect();
            w = pb.solve_on(&support, 0.0)?;
        }
        Ok(pb.finish(w, report))
    }
}

/// Sequentially thresholded least squares (Brunton, Proctor & Kutz, PNAS 2016), as PySINDy's `STLSQ`:
/// ridge regression `min ‖y − X_S w‖² + α‖w‖²` on the support `S`, drop the coefficients below `threshold`
/// in magnitude, repeat until the support is stable; then, with `unbias`, least squares on the support.
///
/// The report counts thresholding rounds and is judged by [`Measure::SupportChange`]: the terms the last
/// round removed, converged at 0 (a support still shrinking at `max_iter` is unconverged, as PySINDy warns).
#[derive(Debug, Clone, PartialEq)]
pub struct Stlsq {
    /// Coefficients smaller than this in magnitude are removed (PySINDy's default 0.1).
    pub threshold: f64,
    /// The ridge weight `α ≥ 0` (unnormalised, as PySINDy's; default 0.05).
    pub alpha: f64,
    /// Cap on thresholding rounds (default 20).
    pub max_iter: usize,
    /// Refit plain least squares on the final support (default true).
    pub unbias: bool,
    /// Fit an intercept (default true, as every estimator of this module; SINDy's fits use
    /// the fit of normal equations `(&ne, t)`, where the library's constant term is the intercept).
    pub fit_intercept: bool,
    /// Threshold the coefficients of unit-norm columns (PySINDy's `normalize_columns`, default false); the
    /// returned coefficients are in the original units.
    pub normalize_columns: bool,
}

impl Default for Stlsq {
    /// PySINDy's defaults: threshold 0.1, `α = 0.05`, 20 rounds, unbiased; with an intercept.
    fn default() -> Self {
        Self {
            threshold: 0.1,
            alpha: 0.05,
            max_iter: 20,
            unbias: true,
            fit_intercept: true,
            normalize_columns: false,
        }
    }
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for Stlsq {
    type Fitted = LinearFit;

    /// Fits `X` (`n × d`) to `y`. A threshold that removes every feature gives all-zero coefficients.
    ///
    /// # Errors
    /// As the fit of normal equations, and shape and finiteness errors.
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<LinearFit> {
        let pb = Problem::new(x, y, self.fit_intercept)?;
        let mut ne = NormalEquations::zeros(pb.d(), 1);
        ne.accumulate(pb.n(), pb.x.data(), &pb.y, None)?;
        let fit = if self.normalize_columns {
            let (scaled, norms) = ne.normalized();
            let mut fit = self.fit((&scaled, 0))?;
            fit.coef.iter_mut().zip(&norms).for_each(|(a, b)| *a /= b);
            fit
        } else {
            self.fit((&ne, 0))?
        };
        Ok(pb.finish(fit.coef.to_vec(), fit.report))
    }
}

impl Estimator<(&NormalEquations, usize)> for Stlsq {
    type Fitted = LinearFit;

    /// STLSQ on normal equations (target `t`): the shared engine of the fit of samples and SINDy's optimizer.
    /// The fit has no intercept and its objective is `‖y_t − Θw‖²/(2n)` with `n` the samples the equations
    /// hold. `normalize_columns` is the caller's business here (pass [`NormalEquations::normalized`]
    /// equations, and scale the coefficients back).
    ///
    /// Each round solves the ridge problem `min ‖y − Θ_S w‖² + α‖w‖²` on the current support `S` and drops
    /// the coefficients below the threshold; it stops when a round drops nothing (PySINDy's rule) or after
    /// `max_iter` rounds, then refits plain least squares on the support when `unbias` is set.
    ///
    /// # Errors
    /// Invalid parameters; a target `t` the equations do not hold (`"target"`); a singular system on the
    /// support (`NotPositiveDefinite`).
    fn fit(&self, (ne, t): (&NormalEquations, usize)) -> Result<LinearFit> {
        super::check_target(ne, t)?;
        if !(self.threshold >= 0.0 && self.threshold.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "threshold",
                reason: format!("must be finite and ≥ 0, got {}", self.threshold),
            });
        }
        if !(self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "alpha",
                reason: format!("must be finite and ≥ 0, got {}", self.alpha),
            });
        }
        let mut support: Vec<usize> = (0..ne.n_features()).collect();
        let mut w = vec![0.0; ne.n_features()];
        let (mut rounds, mut dropped) = (0, 0);
        while rounds < self.max_iter.max(1) {
            if rounds > 0 && super::interrupt::stop_requested() {
                break; // asked to stop from outside: the current support, unconverged
            }
            rounds += 1;
            w = ne.solve_on(&support, t, self.alpha, None)?;
            let kept: Vec<usize> = support
                .iter()
                .copied()
                .filter(|&j| w[j].abs() >= self.threshold)
                .collect();
            support.iter().filter(|j| !kept.contains(j)).for_each(|&j| w[j] = 0.0);
            dropped = support.len() - kept.len();
            support = kept;
            if dropped == 0 || support.is_empty() {
                dropped = 0; // stable, or nothing left to drop
                break;
            }
        }
        if self.unbias && !support.is_empty() {
            w = ne.solve_on(&support, t, 0.0, None)?;
        }
        let objective = ne.residual_sq(&w, t) / (2.0 * ne.n_samples().max(1.0));
        Ok(LinearFit {
            coef: Array1::from(w),
            intercept: 0.0,
            objective,
            report: Report::new(rounds, Measure::SupportChange, dropped as f64, 0.0),
        })
    }
}

/// Exhaustive best-subset selection: the support of size `k` with the smallest residual, by trying every
/// one (`C(d, k)` least-squares fits through the Gram matrix). A reference for tiny problems: searches
/// costing more than about 2·10⁹ operations (`C(d, k)·k³`) are refused. The report is
/// [`Measure::Exact`], its iterations the subsets examined.
#[derive(Debug, Clone, PartialEq)]
pub struct BestSubset {
    /// The support size (default `None`: `max(d/10, 1)`).
    pub n_nonzero: Option<usize>,
    /// Fit an intercept (default true).
    pub fit_intercept: bool,
}

impl Default for BestSubset {
    fn default() -> Self {
        Self {
            n_nonzero: None,
            fit_intercept: true,
        }
    }
}

/// Refuses searches whose work, `C(d, k)·k³`, exceeds this (a few seconds).
const MAX_WORK: u128 = 2_000_000_000;

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for BestSubset {
    type Fitted = LinearFit;

    /// Fits `X` (`n × d`) to `y`.
    ///
    /// # Errors
    /// Shape and finiteness errors; `n_nonzero` outside `1..=min(n, d)` or too large a search; every
    /// subset linearly dependent.
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<LinearFit> {
        let pb = Problem::new(x, y, self.fit_intercept)?;
        let (n, d) = (pb.n(), pb.d());
        let k = pb.sparsity(self.n_nonzero, d.min(n), "min(n, d)")?;
        let count = (0..k as u128).fold(1u128, |c, i| c * (d as u128 - i) / (i + 1));
        if count * (k as u128).pow(3) > MAX_WORK {
            return Err(Error::InvalidParameter {
                name: "n_nonzero",
                reason: format!("C({d}, {k}) = {count} subsets of {k} columns: too many to search exhaustively"),
            });
        }
        let g: Vec<f64> = (0..d * d)
            .map(|t| sparsimony_core::linalg::dot(pb.x.col(t % d), pb.x.col(t / d)))
            .collect();
        let xty: Vec<f64> = (0..d)
            .map(|j| sparsimony_core::linalg::dot(pb.x.col(j), &pb.y))
            .collect();
        let mut subset: Vec<usize> = (0..k).collect();
        let (mut best, mut best_fit) = (Vec::new(), f64::NEG_INFINITY);
        let mut gs = vec![0.0; k * k];
        let mut examined = 0;
        loop {
            examined += 1;
            // Explained sum of squares bᵀG_S⁻¹b (the RSS is yᵀy minus it); skip singular subsets.
            for (a, &ja) in subset.iter().enumerate() {
                for (b, &jb) in subset.iter().enumerate() {
                    gs[a + b * k] = g[ja + jb * d];
                }
            }
            let b: Vec<f64> = subset.iter().map(|&j| xty[j]).collect();
            let mut z = b.clone();
            let mut m = DenseColMajorMut::new(&mut gs, k, k)?;
            if cholesky_in_place(&mut m).is_ok() && cholesky_solve(m.as_ref(), &mut z).is_ok() {
                let explained: f64 = b.iter().zip(&z).map(|(p, q)| p * q).sum();
                if explained > best_fit {
                    best_fit = explained;
                    best = subset.clone();
                }
            }
            // Next combination in lexicographic order.
            let Some(i) = (0..k).rev().find(|&i| subset[i] < d - k + i) else {
                break;
            };
            subset[i] += 1;
            for t in i + 1..k {
                subset[t] = subset[t - 1] + 1;
            }
        }
        if best.is_empty() {
            return Err(Error::InvalidParameter {
                name: "X",
                reason: format!("every subset of {k} columns is linearly dependent"),
            });
        }
        let w = pb.solve_on(&best, 0.0)?;
        Ok(pb.finish(w, Report::exact(examined)))
    }
}
