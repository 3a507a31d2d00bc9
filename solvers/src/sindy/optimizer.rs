//! Sparse regression of the derivatives on the library: STLSQ, SR3 (with ℓ0, ℓ1 or CEL0 proximal maps), the
//! elastic net of [`crate::regression`], and ensembles of any of them (E-SINDy: bagging of samples and of library terms, median coefficients and inclusion
//! probabilities).
//!
//! Every optimizer works on [`NormalEquations`] — `ΘᵀΘ`, `ΘᵀẊ` — so the library matrix `Θ` is never
//! materialised: fitting a million samples of Lorenz costs the memory of a 10 × 10 matrix.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sparsimony_core::prox::{Cel0, L0, L1};
use sparsimony_core::{Measure, Prox, Report};

use crate::regression::interrupt::StopScope;
use crate::regression::{ElasticNet, LinearFit, NormalEquations, Stlsq};
use crate::{Error, Estimator, Fitted, Progress, Result};

/// The penalty of [`Sr3`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regularizer {
    /// `λ‖u‖₀`: hard thresholding at `√(2λν)` (PySINDy's default).
    L0,
    /// `λ‖u‖₁`: soft thresholding at `λν`.
    L1,
    /// CEL0, the continuous exact relaxation of `λ‖u‖₀` for the library's column norms
    /// ([`sparsimony_core::prox::Cel0`]).
    Cel0,
}

/// Sparse relaxed regularised regression (Zheng, Askham, Brunton, Kutz & Aravkin 2019; PySINDy's `SR3`):
///
/// ```text
///     min_{w,u}  ½‖Ẋ − Θw‖² + λ R(u) + (1/2ν)‖w − u‖²
/// ```
///
/// by alternating the exact `w` update (one Cholesky factorisation of `ΘᵀΘ + I/ν` serves every iteration)
/// with the proximal map of `νλR` for `u`, starting from least squares. It stops when
/// `‖U_k − U_{k−1}‖_F / ν < tol` over all targets together (PySINDy's rule; the report's
/// [`Measure::CoefficientChange`]); the coefficients are `U`, the last iterate when the cap comes first.
#[derive(Debug, Clone, PartialEq)]
pub struct Sr3 {
    /// `λ ≥ 0` (PySINDy's `reg_weight_lam`, default 0.005).
    pub lambda: f64,
    /// The penalty `R`.
    pub regularizer: Regularizer,
    /// The relaxation `ν > 0` (PySINDy's `relax_coeff_nu`, default 1).
    pub nu: f64,
    /// Tolerance on `‖ΔU‖_F / ν` (default 1e-5).
    pub tol: f64,
    /// Iteration cap (default 30).
    pub max_iter: usize,
    /// Run on unit-norm library columns (coefficients are mapped back).
    pub normalize_columns: bool,
    /// Refit least squares on the selected terms.
    pub unbias: bool,
}

impl Default for Sr3 {
    fn default() -> Self {
        Self {
            lambda: 0.005,
            regularizer: Regularizer::L0,
            nu: 1.0,
            tol: 1e-5,
            max_iter: 30,
            normalize_columns: false,
            unbias: false,
        }
    }
}

impl Estimator<&NormalEquations> for Sr3 {
    type Fitted = OptimizerFit;

    /// Fits every target of the normal equations.
    ///
    /// # Errors
    /// Invalid parameters; a singular system.
    fn fit(&self, ne: &NormalEquations) -> Result<OptimizerFit> {
        if !(self.lambda >= 0.0 && self.lambda.is_finite() && self.nu > 0.0 && self.nu.is_finite() && self.tol > 0.0) {
            return Err(Error::InvalidParameter {
                name: "lambda, nu, tol",
                reason: format!(
                    "need λ ≥ 0, ν > 0 and tol > 0, got {}, {}, {}",
                    self.lambda, self.nu, self.tol
                ),
            });
        }
        let (p, m) = (ne.n_features(), ne.n_targets());
        let all: Vec<usize> = (0..p).collect();
        let mut u = Array2::<f64>::zeros((m, p));
        for t in 0..m {
            let w0 = ne.solve_on(&all, t, 0.0, None)?;
            u.row_mut(t).iter_mut().zip(w0).for_each(|(a, b)| *a = b);
        }
        let factored = ne.factor(1.0 / self.nu)?;
        let norms = ne.column_norms();
        let mut iterations = 0;
        let mut change = f64::INFINITY;
        let mut b = vec![0.0; p];
        while iterations < self.max_iter {
            if crate::regression::interrupt::stop_requested() {
                break; // asked to stop from outside: the current iterate, unconverged
            }
            iterations += 1;
            let mut sq = 0.0;
            for t in 0..m {
                for (j, bj) in b.iter_mut().enumerate() {
                    *bj = ne.cross(j, t) + u[(t, j)] / self.nu;
                }
                factored.solve(&mut b)?;
                self.prox(&mut b, &norms)?;
                for (j, &bj) in b.iter().enumerate() {
                    let d = bj - u[(t, j)];
                    sq += d * d;
                    u[(t, j)] = bj;
                }
            }
            change = sq.sqrt() / self.nu;
            if change < self.tol {
                break;
            }
        }
        if self.unbias {
            unbias(ne, &mut u)?;
        }
        Ok(OptimizerFit {
            coef: u,
            // PySINDy's test is strict: `< tol`.
            report: Report {
                converged: change < self.tol,
                ..Report::new(iterations, Measure::CoefficientChange, change, self.tol)
            },
            ensemble: None,
        })
    }
}

impl Sr3 {
    /// The ℓ0 weight `λ` that thresholds at `threshold` (`λ = threshold²/(2ν)`, PySINDy's
    /// `calculate_l0_weight`).
    pub fn l0_weight_for_threshold(threshold: f64, nu: f64) -> f64 {
        threshold * threshold / (2.0 * nu)
    }

    fn prox(&self, v: &mut [f64], norms: &[f64]) -> Result<()> {
        match self.regularizer {
            Regularizer::L0 => L0::new(self.lambda)?.prox(self.nu, v)?,
            Regularizer::L1 => L1::new(self.lambda)?.prox(self.nu, v)?,
            Regularizer::Cel0 => Cel0::new(self.lambda, norms)?.prox(self.nu, v)?,
        }
        Ok(())
    }
}

/// Refits least squares on each row's support.
fn unbias(ne: &NormalEquations, coef: &mut Array2<f64>) -> Result<()> {
    for t in 0..coef.nrows() {
        let support: Vec<usize> = (0..coef.ncols()).filter(|&j| coef[(t, j)] != 0.0).collect();
        let w = ne.solve_on(&support, t, 0.0, None)?;
        coef.row_mut(t).iter_mut().zip(w).for_each(|(a, b)| *a = b);
    }
    Ok(())
}

/// The most members an [`Ensemble`] fits.
pub const MAX_MODELS: usize = 100_000;

/// Ensembling of a base optimizer (E-SINDy; Fasel, Kutz, Brunton & Brunton 2022, and PySINDy's
/// `EnsembleOptimizer`): fit `n_models` models on resampled data and/or libraries with some terms dropped,
/// and aggregate by the median of each coefficient.
#[derive(Debug, Clone, PartialEq)]
pub struct Ensemble {
    /// The optimizer fitted on each resample (not itself an ensemble; default STLSQ).
    pub base: Optimizer,
    /// Number of models (default 20).
    pub n_models: usize,
    /// Bagging: resample the samples for each model (default true; see `n_subset` and `replace`).
    pub bagging: bool,
    /// Samples drawn per model (`None`: all `n` with replacement, `0.6 n` without). Unused without bagging.
    pub n_subset: Option<usize>,
    /// Draw with replacement (a bootstrap; default true).
    pub replace: bool,
    /// Library ensembling: drop this many library terms at random from each model (0: off).
    pub drop_terms: usize,
    /// Seed of the resampling (ChaCha8): the same seed gives the same ensemble on every machine.
    pub seed: u64,
    /// Called as each member is fitted (task `"ensemble"`, `total` = `n_models`; on the GPU one step for
    /// the whole batch).
    pub progress: Progress,
}

impl Default for Ensemble {
    /// Bagging of 20 bootstrap resamples (PySINDy's `EnsembleOptimizer` defaults) of STLSQ, seed 0.
    fn default() -> Self {
        Self {
            base: Optimizer::default(),
            n_models: 20,
            bagging: true,
            n_subset: None,
            replace: true,
            drop_terms: 0,
            seed: 0,
            progress: Progress::default(),
        }
    }
}

/// A sparse optimizer for SINDy.
#[derive(Debug, Clone, PartialEq)]
pub enum Optimizer {
    /// Sequentially thresholded least squares ([`Stlsq`], PySINDy's default: threshold 0.1, ridge α 0.05).
    Stlsq(Stlsq),
    /// [`Sr3`].
    Sr3(Sr3),
    /// The elastic net / Lasso of [`crate::regression`] (`fit_intercept` must be off: the library's constant
    /// term is the intercept), by coordinate descent on the normal equations, target by target.
    ElasticNet(ElasticNet),
    /// An [`Ensemble`] of a base optimizer.
    Ensemble(Box<Ensemble>),
}

impl Default for Optimizer {
    fn default() -> Self {
        Self::Stlsq(Stlsq::default())
    }
}

/// The regression problem as an optimizer sees it: normal equations, and a way to recompute them under
/// per-sample weights (bootstrap counts) for bagging.
pub struct Problem<'a> {
    /// The normal equations of all samples.
    pub full: &'a NormalEquations,
    /// Number of samples.
    pub n_samples: usize,
    /// Normal equations with sample `i` weighted by `weights[i]`.
    pub weighted: &'a (dyn Fn(&[f64]) -> Result<NormalEquations> + Sync),
}

impl Fitted for OptimizerFit {
    fn report(&self) -> &Report {
        &self.report
    }
}

/// What an optimizer returns.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerFit {
    /// Coefficients, `m × p` (one row per target).
    pub coef: Array2<f64>,
    /// How the fit ended: thresholding rounds, SR3 iterations or coordinate-descent epochs, judged by the
    /// optimizer's measure; for several targets or an ensemble's members, [`Report::combine`] of theirs.
    pub report: Report,
    /// The ensemble's models and inclusion probabilities, for an ensemble.
    pub ensemble: Option<EnsembleFit>,
}

/// The members of an ensemble fit.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleFit {
    /// Each model's coefficients (`m × p`, zero on dropped terms).
    pub models: Vec<Array2<f64>>,
    /// The fraction of models in which each coefficient is nonzero (`m × p`).
    pub inclusion: Array2<f64>,
}

/// Checks that `n` regression rows (named `rows`) can determine `p` coefficients per target.
fn check_determined(n: usize, p: usize, rows: &str) -> Result<()> {
    if n < p {
        return Err(Error::InvalidParameter {
            name: "library",
            reason: format!(
                "the library has {p} terms but the data give only {n} {rows}: the regression is underdetermined"
            ),
        });
    }
    Ok(())
}

/// Builds the normal equations of the regression rows, each row weighted when weights are given.
/// ([`Error::Stopped`] when the caller's stop hook interrupts the build).
pub(crate) type NormalFn<'a> = dyn Fn(Option<&[f64]>) -> Result<NormalEquations> + Sync + 'a;

impl<'a> Estimator<&Problem<'a>> for Optimizer {
    type Fitted = OptimizerFit;

    /// Fits the problem.
    ///
    /// # Errors
    /// The optimizer's errors; [`Error::InvalidParameter`] for a nested ensemble or an ensemble with no
    /// models, no resampling, or more terms dropped than the library has.
    fn fit(&self, problem: &Problem<'a>) -> Result<OptimizerFit> {
        match self {
            Optimizer::Ensemble(e) => e.fit(problem),
            single => single.fit_normal(problem.full),
        }
    }
}

impl Optimizer {
    /// Fits `p` coefficients per target to `n` regression rows whose normal equations `normal` builds,
    /// after checking that the rows can determine them (`rows` names them in the error).
    pub(crate) fn fit_rows(&self, n: usize, p: usize, rows: &str, normal: &NormalFn<'_>) -> Result<OptimizerFit> {
        check_determined(n, p, rows)?;
        let full = normal(None)?;
        let weighted = |w: &[f64]| normal(Some(w));
        self.fit(&Problem {
            full: &full,
            n_samples: n,
            weighted: &weighted,
        })
    }

    /// [`Optimizer::fit_rows`] with an ensemble's members solved on the GPU (STLSQ ensembles only).
    ///
    /// # Errors
    /// As [`Optimizer::fit_rows`]; [`Error::InvalidParameter`] for anything but an STLSQ ensemble;
    /// [`Error::Gpu`] for the device's errors.
    #[cfg(feature = "gpu")]
    pub(crate) fn fit_rows_gpu(
        &self,
        ctx: &sparsimony_gpu::GpuContext,
        n: usize,
        p: usize,
        rows: &str,
        normal: &NormalFn<'_>,
    ) -> Result<OptimizerFit> {
        let Optimizer::Ensemble(e) = self else {
            return Err(Error::InvalidParameter {
                name: "optimizer",
                reason: "the GPU path solves ensembles (of STLSQ); a single fit is faster on the CPU".into(),
            });
        };
        check_determined(n, p, rows)?;
        let full = normal(None)?;
        let weighted = |w: &[f64]| normal(Some(w));
        e.fit_gpu(
            ctx,
            &Problem {
                full: &full,
                n_samples: n,
                weighted: &weighted,
            },
        )
    }

    /// Fits a non-ensemble optimizer on normal equations.
    fn fit_normal(&self, ne: &NormalEquations) -> Result<OptimizerFit> {
        let normalize = match self {
            Optimizer::Stlsq(s) => s.normalize_columns,
            Optimizer::Sr3(s) => s.normalize_columns,
            Optimizer::ElasticNet(_) => false,
            Optimizer::Ensemble(_) => {
                return Err(Error::InvalidParameter {
                    name: "ensemble",
                    reason: "an ensemble's base optimizer cannot itself be an ensemble".into(),
                });
            }
        };
        let (scaled, norms);
        let ne = if normalize {
            (scaled, norms) = ne.normalized();
            &scaled
        } else {
            norms = Vec::new();
            ne
        };
        let mut fit = match self {
            Optimizer::Sr3(s) => s.fit(ne)?,
            Optimizer::Stlsq(s) => per_target(ne, |t| s.fit((ne, t)))?,
            Optimizer::ElasticNet(e) => per_target(ne, |t| e.fit((ne, t)))?,
            Optimizer::Ensemble(_) => unreachable!("rejected above"),
        };
        if normalize {
            for mut row in fit.coef.rows_mut() {
                row.iter_mut().zip(&norms).for_each(|(c, n)| *c /= n);
            }
        }
        Ok(fit)
    }
}

/// A single-target fit applied to every target of `ne`, the reports combined.
fn per_target(ne: &NormalEquations, fit: impl Fn(usize) -> Result<LinearFit>) -> Result<OptimizerFit> {
    let mut coef = Array2::zeros((ne.n_targets(), ne.n_features()));
    let mut reports = Vec::with_capacity(ne.n_targets());
    for t in 0..ne.n_targets() {
        let f = fit(t)?;
        coef.row_mut(t).assign(&f.coef);
        reports.push(f.report);
    }
    Ok(OptimizerFit {
        coef,
        report: Report::combine(reports).unwrap_or(Report::exact(0)),
        ensemble: None,
    })
}

/// One member of an ensemble: its normal equations (resampled rows) and the library terms it keeps.
type Member = (NormalEquations, Vec<usize>);

impl<'a> Estimator<&Problem<'a>> for Ensemble {
    type Fitted = OptimizerFit;

    /// Fits every member (bootstrap rows through the problem's weighted normal equations, dropped library
    /// terms by restriction) with the base optimizer, in parallel on ChaCha8 streams of the seed, and
    /// aggregates them (median or mean, inclusion probabilities). The members are shared among the
    /// processes of a [`Group`](crate::distributed::Group) installed on this thread, if any (each member
    /// built and fitted by one process, its coefficients and report sent to all).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a nested ensemble or one with no models, no resampling, or more
    /// terms dropped than the library has; the base optimizer's errors.
    fn fit(&self, problem: &Problem<'a>) -> Result<OptimizerFit> {
        let (p, m) = (problem.full.n_features(), problem.full.n_targets());
        let n_subset = self.check(problem.n_samples, p)?;
        let steps = self.progress.counter("ensemble", self.n_models);
        let scope = StopScope::current();
        let models = crate::parallel::map_in_order(self.n_models, |k| {
            scope.run(|| {
                // A stopped fit skips the members not yet begun (each would build its normal equations first).
                if crate::regression::interrupt::stop_requested() {
                    return Err(Error::Stopped);
                }
                let (ne, keep) = self.member(problem, k, n_subset)?;
                let fit = self.base.fit_normal(&ne.restrict(&keep))?;
                let mut coef = Array2::zeros((m, p));
                for t in 0..m {
                    for (a, &j) in keep.iter().enumerate() {
                        coef[(t, j)] = fit.coef[(t, a)];
                    }
                }
                steps.step(None);
                Ok((coef, fit.report))
            })
        })?;
        Ok(aggregate(models))
    }
}

impl Ensemble {
    /// Checks the settings against `n` samples and `p` terms; returns the samples drawn per member.
    fn check(&self, n: usize, p: usize) -> Result<usize> {
        let bad = |reason: String| {
            Err(Error::InvalidParameter {
                name: "ensemble",
                reason,
            })
        };
        if self.n_models == 0 || self.n_models > MAX_MODELS {
            return bad(format!(
                "needs 1 to {MAX_MODELS} models (PySINDy's default is 20; every member's coefficients are kept \
                 for the median), got {}",
                self.n_models
            ));
        }
        if !self.bagging && self.drop_terms == 0 {
            return bad(
                "resamples neither samples (bagging) nor library terms (drop_terms): use the base optimizer".into(),
            );
        }
        if self.drop_terms >= p {
            return bad(format!("cannot drop {} of the library's {p} terms", self.drop_terms));
        }
        let n_subset = self
            .n_subset
            .unwrap_or(if self.replace { n } else { (0.6 * n as f64) as usize });
        if self.bagging && (n_subset == 0 || (!self.replace && n_subset > n)) {
            return bad(format!("cannot draw {n_subset} of {n} samples"));
        }
        Ok(n_subset)
    }

    /// Every member, built in parallel (for the GPU's batch).
    #[cfg(feature = "gpu")]
    fn members(&self, problem: &Problem<'_>) -> Result<Vec<Member>> {
        use rayon::prelude::*;
        let n_subset = self.check(problem.n_samples, problem.full.n_features())?;
        let scope = StopScope::current();
        (0..self.n_models)
            .into_par_iter()
            .map(|k| scope.run(|| self.member(problem, k, n_subset)))
            .collect()
    }

    /// Member `k`: the normal equations of its draw of `n_subset` samples (ChaCha8 stream `k` of the seed)
    /// and the library terms it keeps.
    fn member(&self, problem: &Problem<'_>, k: usize, n_subset: usize) -> Result<Member> {
        let (n, p) = (problem.n_samples, problem.full.n_features());
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(k as u64);
        let ne = if self.bagging {
            (problem.weighted)(&draw_weights(&mut rng, n, n_subset, self.replace))?
        } else {
            problem.full.clone()
        };
        let keep = if self.drop_terms > 0 {
            let mut idx: Vec<usize> = (0..p).collect();
            partial_shuffle(&mut rng, &mut idx, p - self.drop_terms);
            let mut keep = idx[..p - self.drop_terms].to_vec();
            keep.sort_unstable();
            keep
        } else {
            (0..p).collect()
        };
        Ok((ne, keep))
    }

    /// the ensemble's fit with an STLSQ base whose members are solved as one batch on the GPU (`f32`;
    /// dropped library terms enter as decoupled unit columns with a zero right-hand side, so they solve to
    /// zero). The members' normal equations are formed on the CPU as for the ensemble's fit.
    #[cfg(feature = "gpu")]
    fn fit_gpu(&self, ctx: &sparsimony_gpu::GpuContext, problem: &Problem<'_>) -> Result<OptimizerFit> {
        let Optimizer::Stlsq(st) = &self.base else {
            return Err(Error::InvalidParameter {
                name: "ensemble",
                reason: "the GPU path solves ensembles of STLSQ".into(),
            });
        };
        let (p, m) = (problem.full.n_features(), problem.full.n_targets());
        let members = self.members(problem)?;
        let (mut grams, mut cross, mut index, mut scales) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (k, (ne, keep)) in members.iter().enumerate() {
            let (ne, norms) = if st.normalize_columns {
                ne.normalized()
            } else {
                (ne.clone(), vec![1.0; p])
            };
            let kept = |j: usize| keep.binary_search(&j).is_ok();
            grams.extend((0..p * p).map(|q| {
                let (a, b) = (q % p, q / p);
                match (kept(a), kept(b)) {
                    (true, true) => ne.gram(a, b) as f32,
                    _ if a == b => 1.0,
                    _ => 0.0,
                }
            }));
            for t in 0..m {
                cross.extend((0..p).map(|j| if kept(j) { ne.cross(j, t) as f32 } else { 0.0 }));
                index.push(k as u32);
            }
            scales.push(norms);
        }
        let batch = sparsimony_gpu::BatchStlsq {
            threshold: st.threshold as f32,
            alpha: st.alpha as f32,
            max_iter: st.max_iter.min(u32::MAX as usize) as u32,
            unbias: st.unbias,
        };
        let solved = batch.fit_normal(ctx, p, &grams, &index, &cross)?;
        self.progress.counter("ensemble", 1).step(None);
        let models = (0..members.len())
            .map(|k| {
                let c = Array2::from_shape_fn((m, p), |(t, j)| solved.coef[(k * m + t) * p + j] as f64 / scales[k][j]);
                let report = Report::combine(solved.reports[k * m..(k + 1) * m].iter().copied());
                (c, report.unwrap_or(Report::exact(0)))
            })
            .collect();
        Ok(aggregate(models))
    }
}

/// Median coefficients and inclusion probabilities of the members' fits.
fn aggregate(models: Vec<(Array2<f64>, Report)>) -> OptimizerFit {
    let (m, p) = models[0].0.dim();
    let mut median = Array2::zeros((m, p));
    let mut inclusion = Array2::zeros((m, p));
    let mut vals = Vec::with_capacity(models.len());
    for t in 0..m {
        for j in 0..p {
            vals.clear();
            vals.extend(models.iter().map(|(c, _)| c[(t, j)]));
            inclusion[(t, j)] = vals.iter().filter(|v| **v != 0.0).count() as f64 / vals.len() as f64;
            vals.sort_by(f64::total_cmp);
            let h = vals.len() / 2;
            median[(t, j)] = if vals.len() % 2 == 1 {
                vals[h]
            } else {
                0.5 * (vals[h - 1] + vals[h])
            };
        }
    }
    OptimizerFit {
        coef: median,
        report: Report::combine(models.iter().map(|(_, r)| *r)).unwrap_or(Report::exact(0)),
        ensemble: Some(EnsembleFit {
            models: models.into_iter().map(|(c, _)| c).collect(),
            inclusion,
        }),
    }
}

/// Uniform integer in `0..n` by rejection (unbiased).
fn below(rng: &mut impl RngCore, n: usize) -> usize {
    let n = n as u64;
    let zone = u64::MAX - u64::MAX % n;
    loop {
        let v = rng.next_u64();
        if v < zone {
            return (v % n) as usize;
        }
    }
}

/// Moves a uniformly random `k`-subset of `idx` to its front (Fisher–Yates, first `k` steps).
fn partial_shuffle(rng: &mut impl RngCore, idx: &mut [usize], k: usize) {
    for i in 0..k {
        let j = i + below(rng, idx.len() - i);
        idx.swap(i, j);
    }
}

/// Sample weights for one resample: how often each of `n` samples is drawn in `k` draws.
fn draw_weights(rng: &mut impl RngCore, n: usize, k: usize, replace: bool) -> Vec<f64> {
    let mut w = vec![0.0; n];
    if replace {
        for _ in 0..k {
            w[below(rng, n)] += 1.0;
        }
    } else {
        let mut idx: Vec<usize> = (0..n).collect();
        partial_shuffle(rng, &mut idx, k);
        idx[..k].iter().for_each(|&i| w[i] = 1.0);
    }
    w
}
