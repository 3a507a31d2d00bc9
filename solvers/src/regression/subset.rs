//! Sparse regression by support selection: orthogonal matching pursuit, iterative hard thresholding,
//! sequentially thresholded least squares, and exhaustive best-subset search.
//!
//! All fit `y ≈ X w + b` (intercept by centring, as [`ElasticNet`](super::ElasticNet)) and report the data
//! term `1/(2n)‖y − Xw − b‖²` as the objective.

use ndarray::{Array1, ArrayView1, ArrayView2};
use sparsimony_core::forward_backward::{minimize, scratch_len};
use sparsimony_core::linalg::{
    cholesky_in_place, cholesky_solve, power_iteration, power_iteration_scratch_len, qr_least_squares,
};
use sparsimony_core::operator::DenseColMajorMut;
use sparsimony_core::prox::TopK;
use sparsimony_core::{Acceleration, DenseColMajor, FbOptions, LeastSquares, StepSize};

use super::design::{DenseDesign, Design};
use super::normal::NormalEquations;
use crate::data::{ColMajor, check_vector};
use crate::{Error, Result};

/// A model fitted by support selection.
#[derive(Debug, Clone, PartialEq)]
pub struct SubsetFit {
    /// The coefficients (length `d`); zero off the selected support.
    pub coef: Array1<f64>,
    /// The intercept (0 without one).
    pub intercept: f64,
    /// `1/(2n)‖y − Xw − b‖²` at the solution.
    pub objective: f64,
    /// Iterations (selection steps for OMP, gradient steps for IHT, thresholding rounds for STLSQ, subsets
    /// examined for best subset).
    pub n_iter: usize,
}

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

    fn finish(&self, w: Vec<f64>, n_iter: usize) -> SubsetFit {
        let r = self.residual(&w);
        let objective = r.iter().map(|v| v * v).sum::<f64>() / (2.0 * self.n() as f64);
        let intercept = self.y_mean - self.means.iter().zip(&w).map(|(m, c)| m * c).sum::<f64>();
        SubsetFit {
            coef: Array1::from(w),
            intercept,
            objective,
            n_iter,
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
#[derive(Debug, Clone, PartialEq)]
pub struct Omp {
    /// Stop at this many features (default when `tol` is also `None`: `max(d/10, 1)`, scikit-learn's).
    pub n_nonzero: Option<usize>,
    /// Stop when `‖r‖²` falls to this (overrides `n_nonzero`).
    pub tol: Option<f64>,
    /// Fit an intercept.
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

impl Omp {
    /// Fits `X` (`n × d`, samples in rows) to `y`.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<SubsetFit> {
        let pb = Problem::new(x, y, self.fit_intercept)?;
        let (n, d) = (pb.n(), pb.d());
        let k_max = match (self.tol, self.n_nonzero) {
            (Some(t), _) if !(t >= 0.0 && t.is_finite()) => {
                return Err(Error::InvalidParameter {
                    name: "tol",
                    reason: format!("must be finite and ≥ 0, got {t}"),
                });
            }
            (Some(_), _) => d.min(n),
            (None, Some(k)) if k == 0 || k > d.min(n) => {
                return Err(Error::InvalidParameter {
                    name: "n_nonzero",
                    reason: format!("must lie in 1..={} (min(n, d)), got {k}", d.min(n)),
                });
            }
            (None, Some(k)) => k,
            (None, None) => (d / 10).max(1),
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
        Ok(pb.finish(w, steps))
    }
}

/// Iterative hard thresholding (Blumensath & Davies 2009): forward–backward on `1/(2n)‖y − Xw‖²` with the
/// projection onto `‖w‖₀ ≤ k` ([`TopK`]) and the step `1/L`, `L = ‖X‖²/n`; then, with `debias`, least
/// squares on the support found.
#[derive(Debug, Clone, PartialEq)]
pub struct Iht {
    /// The number of non-zero coefficients.
    pub k: usize,
    /// Iteration cap.
    pub max_iter: usize,
    /// Tolerance on the relative change of the iterate.
    pub tol: f64,
    /// Refit least squares on the final support.
    pub debias: bool,
    /// Fit an intercept.
    pub fit_intercept: bool,
}

impl Iht {
    /// IHT with `k` non-zeros, 10 000 iterations, `tol = 1e-10`, debiased, with intercept.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            max_iter: 10_000,
            tol: 1e-10,
            debias: true,
            fit_intercept: true,
        }
    }

    /// Fits `X` (`n × d`) to `y`.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<SubsetFit> {
        let pb = Problem::new(x, y, self.fit_intercept)?;
        let (n, d) = (pb.n(), pb.d());
        if self.k == 0 || self.k > d {
            return Err(Error::InvalidParameter {
                name: "k",
                reason: format!("must lie in 1..={d}, got {}", self.k),
            });
        }
        let op = DenseColMajor::new(pb.x.data(), n, d)?;
        let mut ps = vec![0.0; power_iteration_scratch_len(&op)];
        let lip = power_iteration(&op, 10_000, 1e-10, &mut ps)? / n as f64 * (1.0 + 1e-8);
        if lip == 0.0 {
            return Ok(pb.finish(vec![0.0; d], 0));
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
        let iters = match minimize(&f, &TopK::new(self.k), &mut w, &opts, &mut scratch, None) {
            Ok(rep) => rep.iterations,
            Err(sparsimony_core::Error::NotConverged {
                iterations,
                reached,
                tolerance,
            }) => {
                return Err(Error::NotConverged {
                    iterations,
                    measure: "relative change",
                    reached,
                    tolerance,
                });
            }
            Err(e) => return Err(e.into()),
        };
        if self.debias {
            let support: Vec<usize> = (0..d).filter(|&j| w[j] != 0.0).collect();
            w = pb.solve_on(&support, 0.0)?;
        }
        Ok(pb.finish(w, iters))
    }
}

/// Sequentially thresholded least squares (Brunton, Proctor & Kutz, PNAS 2016), as PySINDy's `STLSQ`:
/// ridge regression `min ‖y − X_S w‖² + α‖w‖²` on the support `S`, drop the coefficients below `threshold`
/// in magnitude, repeat until the support is stable; then, with `unbias`, least squares on the support.
#[derive(Debug, Clone, PartialEq)]
pub struct Stlsq {
    /// Coefficients smaller than this in magnitude are removed.
    pub threshold: f64,
    /// The ridge weight `α ≥ 0` (unnormalised, as PySINDy's).
    pub alpha: f64,
    /// Cap on thresholding rounds.
    pub max_iter: usize,
    /// Refit plain least squares on the final support.
    pub unbias: bool,
    /// Fit an intercept.
    pub fit_intercept: bool,
    /// Threshold the coefficients of unit-norm columns (PySINDy's `normalize_columns`); the returned
    /// coefficients are in the original units.
    pub normalize_columns: bool,
}

impl Stlsq {
    /// STLSQ with `threshold`, PySINDy's defaults otherwise (`α = 0.05`, 20 rounds, unbiased), no intercept.
    pub fn new(threshold: f64) -> Self {
        Self {
            threshold,
            alpha: 0.05,
            max_iter: 20,
            unbias: true,
            fit_intercept: false,
            normalize_columns: false,
        }
    }

    /// Fits `X` (`n × d`) to `y`. A threshold that removes every feature gives all-zero coefficients.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<SubsetFit> {
        let pb = Problem::new(x, y, self.fit_intercept)?;
        let mut ne = NormalEquations::zeros(pb.d(), 1);
        ne.accumulate(pb.n(), pb.x.data(), &pb.y, None);
        let (w, rounds) = if self.normalize_columns {
            let (scaled, norms) = ne.normalized();
            let (w, rounds) = self.fit_normal(&scaled, 0)?;
            (w.iter().zip(&norms).map(|(a, b)| a / b).collect(), rounds)
        } else {
            self.fit_normal(&ne, 0)?
        };
        Ok(pb.finish(w, rounds))
    }

    /// STLSQ on normal equations (target `t`): the shared engine of [`Stlsq::fit`] and SINDy's optimizer.
    /// Returns the coefficients and the number of thresholding rounds. `normalize_columns` is the caller's
    /// business here (pass [`NormalEquations::normalized`] equations).
    ///
    /// Each round solves the ridge problem `min ‖y − Θ_S w‖² + α‖w‖²` on the current support `S` and drops
    /// the coefficients below the threshold; it stops when a round drops nothing (PySINDy's rule) or after
    /// `max_iter` rounds, then refits plain least squares on the support when `unbias` is set.
    ///
    /// # Errors
    /// Invalid parameters; a singular system on the support (`NotPositiveDefinite`).
    pub fn fit_normal(&self, ne: &NormalEquations, t: usize) -> Result<(Vec<f64>, usize)> {
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
        let mut rounds = 0;
        while rounds < self.max_iter.max(1) {
            rounds += 1;
            w = ne.solve_on(&support, t, self.alpha, None)?;
            let kept: Vec<usize> = support
                .iter()
                .copied()
                .filter(|&j| w[j].abs() >= self.threshold)
                .collect();
            support.iter().filter(|j| !kept.contains(j)).for_each(|&j| w[j] = 0.0);
            if kept.len() == support.len() {
                break;
            }
            support = kept;
            if support.is_empty() {
                break;
            }
        }
        if self.unbias && !support.is_empty() {
            w = ne.solve_on(&support, t, 0.0, None)?;
        }
        Ok((w, rounds))
    }
}

/// Exhaustive best-subset selection: the support of size `k` with the smallest residual, by trying every
/// one (`C(d, k)` least-squares fits through the Gram matrix). A reference for tiny problems: searches
/// costing more than about 2·10⁹ operations (`C(d, k)·k³`) are refused.
#[derive(Debug, Clone, PartialEq)]
pub struct BestSubset {
    /// The support size.
    pub k: usize,
    /// Fit an intercept.
    pub fit_intercept: bool,
}

/// Refuses searches whose work, `C(d, k)·k³`, exceeds this (a few seconds).
const MAX_WORK: u128 = 2_000_000_000;

impl BestSubset {
    /// Fits `X` (`n × d`) to `y`.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<SubsetFit> {
        let pb = Problem::new(x, y, self.fit_intercept)?;
        let (n, d, k) = (pb.n(), pb.d(), self.k);
        if k == 0 || k > d.min(n) {
            return Err(Error::InvalidParameter {
                name: "k",
                reason: format!("must lie in 1..={} (min(n, d)), got {k}", d.min(n)),
            });
        }
        let count = (0..k as u128).fold(1u128, |c, i| c * (d as u128 - i) / (i + 1));
        if count * (k as u128).pow(3) > MAX_WORK {
            return Err(Error::InvalidParameter {
                name: "k",
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
        Ok(pb.finish(w, examined))
    }
}
