//! The estimators: Langevin dynamics on the sphere with the averaged iterates read out, and online SGD
//! (the baseline, and the refinement warm-started from the averaged estimate).

use faer::Side;
use ndarray::{Array1, ArrayView1, ArrayView2};
use rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use sparsimony_core::Report;
use sparsimony_core::langevin::{IterateAverage, SphericalLangevin};
use sparsimony_core::random::standard_normal;

use super::{CorrelationLoss, Link, Objective, TensorPca};
use crate::{Backend, Error, Estimator, Fitted, Progress, Result};

/// The largest dimension whose `d × d` second moment is kept (8 · 10⁸ bytes).
const MAX_SECOND_MOMENT_DIM: usize = 10_000;

/// How the estimate is read from the iterates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readout {
    /// By the parity of the link's information exponent `k*`: the mean for odd `k*`, the second moment for
    /// even `k*` (where `σ(−z)`'s leading term equals `σ(z)`'s and the mean carries no sign to average).
    Auto,
    /// The normalised time average `θ̄/‖θ̄‖`.
    Mean,
    /// The top eigenvector of the time average of `θθᵀ`.
    SecondMoment,
    /// The last iterate.
    Last,
}

/// Spherical Langevin dynamics on the empirical loss `L` of a fixed sample ([`Objective`]: the correlation
/// loss `−(1/n) Σ_i y_i σ(⟨θ, x_i⟩)` of a single-index sample, tensor PCA's `−⟨T̄, θ^{⊗k}⟩`, or a user's),
/// `dθ = ε P⊥ b dt + P⊥ dW` with `b = −∇L`, from a uniform start, stepped by [`SphericalLangevin`] with step `h` up to time `T`; the iterates after
/// the burn-in are averaged and read out ([`Readout`]).
///
/// The iterate itself stays near the equator (`|⟨θ, θ*⟩| ~ d^{−1/2}`) when the sample is too small for
/// gradient flow to escape it; the Brownian part averages out over the horizon and the average points along
/// the sphere-averaged drift, whose spike emerges once `n ≳ d^{k*/2}` (Wei, Damian & Lee). `ε` weighs the
/// drift against the noise: too small and the average needs a longer horizon to rise above its own
/// `1/√(time)` noise; too large and the dynamics become gradient flow, leaving the equator (or not) as it
/// does.
#[derive(Debug, Clone, PartialEq)]
pub struct Langevin {
    /// The signal strength `ε ≥ 0`.
    pub signal: f64,
    /// The step `h > 0` (time units).
    pub step: f64,
    /// The horizon `T` (time units); `round(T/h)` steps (at least 1), so the dynamics end within `h/2`
    /// of `T`.
    pub time: f64,
    /// The fraction of the horizon discarded before averaging, in `[0, 1)`.
    pub burn_in: f64,
    /// The read-out.
    pub readout: Readout,
    /// Seed of the start and the Brownian increments.
    pub seed: u64,
    /// The link `σ` of a single-index sample's correlation loss (used by the fit of samples `(x, y)`;
    /// an objective given whole carries its own).
    pub link: Link,
    /// Where the drift of a sample `(x, y)` is computed: on the GPU, the sample is held on the device
    /// (in `f32`) and the drift of every chain is two matrix products there (see
    /// [`CorrelationLoss::with_backend`]; an objective given whole carries its own backend).
    pub backend: Backend,
    /// Called after every step (task `"langevin"`).
    pub progress: Progress,
}

impl Default for Langevin {
    fn default() -> Self {
        Self {
            signal: 6.0,
            step: 0.05,
            time: 200.0,
            burn_in: 0.1,
            readout: Readout::Auto,
            seed: 0,
            link: Link::default(),
            backend: Backend::Cpu,
            progress: Progress::default(),
        }
    }
}

/// A Langevin fit.
#[derive(Debug, Clone, PartialEq)]
pub struct LangevinFit {
    /// The estimate of `θ*` (unit norm; for the second-moment read-out, its sign is arbitrary).
    pub estimate: Array1<f64>,
    /// The last iterate.
    pub last: Array1<f64>,
    /// The time average of the iterates after the burn-in (not normalised).
    pub mean: Array1<f64>,
    /// The read-out used (`Auto` resolved).
    pub readout: Readout,
    /// Steps taken (a fixed horizon: converged by construction).
    pub report: Report,
}

/// One of a batch of independent chains ([`Langevin::run_chains`]): its seed and signal strength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chain {
    /// Seed of the start and the Brownian increments.
    pub seed: u64,
    /// The signal strength `ε ≥ 0`.
    pub signal: f64,
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for Langevin {
    type Fitted = LangevinFit;

    /// Runs the dynamics on the correlation loss of a single-index sample (`x`: one sample per row, `y` the
    /// responses) with the link `σ` of [`Langevin::link`] ([`CorrelationLoss`]).
    ///
    /// # Errors
    /// Shape, emptiness and finiteness errors of the data (`d < 2` included); the settings'
    /// [`Error::InvalidParameter`].
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<LangevinFit> {
        // The settings first (cheap, and the error a caller can act on whatever the data).
        self.check(self.signal)?;
        self.fit(&CorrelationLoss::with_backend(x, y, &self.link, &self.backend)?)
    }
}

impl<O: Objective> Estimator<&O> for Langevin {
    type Fitted = LangevinFit;

    /// Runs the dynamics on any objective (a [`CorrelationLoss`], a [`SpikedTensor`](super::SpikedTensor),
    /// or a user's).
    ///
    /// # Errors
    /// The settings' [`Error::InvalidParameter`]; [`Error::NonFinite`] when the drift is not finite.
    fn fit(&self, objective: &O) -> Result<LangevinFit> {
        self.run_observed(objective, usize::MAX, |_, _, _| {})
    }
}

impl Fitted for LangevinFit {
    fn report(&self) -> &Report {
        &self.report
    }
}

impl Langevin {
    fn check(&self, signal: f64) -> Result<SphericalLangevin> {
        // Far above the default 2√d the drift's steps overflow the sphere's retraction. (0 is pure
        // diffusion: a null model, allowed.)
        if !(0.0..=1e8).contains(&signal) {
            return Err(Error::InvalidParameter {
                name: "signal",
                reason: format!("must lie in [0, 1e8], got {signal:?}"),
            });
        }
        let dynamics = SphericalLangevin::new(self.step, signal).map_err(|e| match e {
            sparsimony_core::Error::InvalidParameter { name, reason } => Error::InvalidParameter {
                name,
                reason: reason.into(),
            },
            other => other.into(),
        })?;
        self.steps()?;
        if !(0.0..1.0).contains(&self.burn_in) {
            return Err(Error::InvalidParameter {
                name: "burn_in",
                reason: format!("must lie in [0, 1), got {}", self.burn_in),
            });
        }
        Ok(dynamics)
    }

    /// The steps the dynamics take, `round(time / step)` (at least 1: the simulated horizon `steps·step`
    /// lies within `step/2` of `time`; `⌈time/step⌉` overshot by up to a step, nearly doubling a horizon
    /// just over one step), checked: a positive finite horizon, a step within it,
    /// at most 10¹² steps.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `time` or `step`, whichever is out of range.
    pub fn steps(&self) -> Result<usize> {
        if !(self.step > 0.0 && self.step.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "step",
                reason: format!("must be positive and finite, got {:?}", self.step),
            });
        }
        if !(self.time > 0.0 && self.time.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "time",
                reason: format!("must be positive and finite, got {:?}", self.time),
            });
        }
        if self.step > self.time {
            return Err(Error::InvalidParameter {
                name: "step",
                reason: format!(
                    "must be at most the horizon `time` = {:?}, got {:?}: a step past the horizon is no dynamics \
                     (lower the step or lengthen the horizon)",
                    self.time, self.step
                ),
            });
        }
        let steps = (self.time / self.step).round().max(1.0);
        if steps > 1e12 {
            return Err(Error::InvalidParameter {
                name: "step",
                reason: format!(
                    "time / step = {:?} / {:?} is {steps:.1e} steps, over the 10¹² allowed: raise the step or shorten the horizon",
                    self.time, self.step
                ),
            });
        }
        Ok(steps as usize)
    }

    /// The read-out for an objective (`Auto` resolved), checked against the dimension.
    fn readout_for(&self, objective: &impl Objective) -> Result<Readout> {
        let readout = match self.readout {
            Readout::Auto if objective.information_exponent().is_multiple_of(2) => Readout::SecondMoment,
            Readout::Auto => Readout::Mean,
            r => r,
        };
        let d = objective.dim();
        if readout == Readout::SecondMoment && d > MAX_SECOND_MOMENT_DIM {
            return Err(Error::InvalidParameter {
                name: "readout",
                reason: format!(
                    "the second-moment read-out keeps d² = {} values; at most d = {MAX_SECOND_MOMENT_DIM}",
                    d as f64 * d as f64
                ),
            });
        }
        Ok(readout)
    }

    /// As the fit of an objective, calling `observe(time, estimate so far, iterate)` every `every` steps after
    /// the burn-in (and at the end): the read-out's path against time.
    ///
    /// # Errors
    /// As the fit of an objective.
    pub fn run_observed(
        &self,
        objective: &impl Objective,
        every: usize,
        mut observe: impl FnMut(f64, &[f64], &[f64]),
    ) -> Result<LangevinFit> {
        let chain = Chain {
            seed: self.seed,
            signal: self.signal,
        };
        let mut fits = self.chains(objective, &[chain], every, |_, t, estimate, theta| {
            observe(t, estimate, theta)
        })?;
        fits.pop().ok_or(Error::Empty {
            what: "chains",
            rows: 0,
            cols: 0,
        })
    }

    /// Runs independent chains (one per entry of `chains`, each with its own seed and signal strength, the
    /// other settings shared) in lockstep, their drifts computed together by
    /// [`Objective::drift_batch`] — for a [`CorrelationLoss`], two matrix products a step instead of `2B`
    /// passes over the sample. `self.seed` and `self.signal` are not used.
    ///
    /// # Errors
    /// As the fit of an objective, [`Error::Empty`] for no chain, and [`Error::InvalidParameter`] (`"chains"`) when
    /// the chains' second moments together exceed the one-chain bound of `10 000²` values.
    pub fn run_chains(&self, objective: &impl Objective, chains: &[Chain]) -> Result<Vec<LangevinFit>> {
        self.chains(objective, chains, usize::MAX, |_, _, _, _| {})
    }

    fn chains(
        &self,
        objective: &impl Objective,
        chains: &[Chain],
        every: usize,
        mut observe: impl FnMut(usize, f64, &[f64], &[f64]),
    ) -> Result<Vec<LangevinFit>> {
        if chains.is_empty() {
            return Err(Error::Empty {
                what: "chains",
                rows: 0,
                cols: 0,
            });
        }
        let dynamics: Vec<SphericalLangevin> = chains.iter().map(|c| self.check(c.signal)).collect::<Result<_>>()?;
        let readout = self.readout_for(objective)?;
        let d = objective.dim();
        let b = chains.len();
        let steps = self.steps()?;
        let burn = (self.burn_in * steps as f64) as usize;
        let mut rngs: Vec<Xoshiro256PlusPlus> = chains
            .iter()
            .map(|c| Xoshiro256PlusPlus::seed_from_u64(c.seed))
            .collect();
        let mut thetas: Vec<f64> = rngs.iter_mut().flat_map(|r| uniform_on_sphere(d, r)).collect();
        let mut drifts = vec![0.0; b * d];
        let mut scratch = vec![0.0; d];
        let second_len = if readout == Readout::SecondMoment { d * d } else { 0 };
        // All chains' second moments together within the one-chain bound (8 · 10⁸ bytes).
        if (second_len as f64) * (b as f64) > (MAX_SECOND_MOMENT_DIM as f64).powi(2) {
            return Err(Error::InvalidParameter {
                name: "chains",
                reason: format!(
                    "{b} chains' second moments keep {:.3e} values; at most {MAX_SECOND_MOMENT_DIM}² together",
                    second_len as f64 * b as f64
                ),
            });
        }
        let (mut means, mut seconds) = (vec![0.0; b * d], vec![0.0; b * second_len]);
        let mut averages = Vec::with_capacity(b);
        let mut second_parts = seconds.chunks_mut(second_len.max(1));
        for mean in means.chunks_mut(d) {
            let second = if second_len > 0 { second_parts.next() } else { None };
            averages.push(IterateAverage::new(mean, second)?);
        }
        let counter = self.progress.counter("langevin", steps);
        let every = every.max(1);
        for s in 0..steps {
            if b == 1 {
                objective.drift(&thetas, &mut drifts)?;
            } else {
                objective.drift_batch(&thetas, &mut drifts)?;
            }
            for c in 0..b {
                let theta = &mut thetas[c * d..(c + 1) * d];
                let drift = &drifts[c * d..(c + 1) * d];
                dynamics[c].step(theta, &mut scratch, &mut rngs[c], |_, out| {
                    out.copy_from_slice(drift);
                    Ok(())
                })?;
                if s >= burn {
                    averages[c].add(theta)?;
                    if (s - burn + 1).is_multiple_of(every) && s + 1 < steps {
                        let estimate = read(&averages[c], readout, theta)?;
                        observe(c, (s + 1) as f64 * self.step, &estimate, theta);
                    }
                }
            }
            counter.step(None);
        }
        let mut fits = Vec::with_capacity(b);
        for (c, average) in averages.iter().enumerate() {
            let last = &thetas[c * d..(c + 1) * d];
            let estimate = read(average, readout, last)?;
            observe(c, steps as f64 * self.step, &estimate, last);
            fits.push(LangevinFit {
                estimate: Array1::from(estimate),
                last: Array1::from(last.to_vec()),
                mean: Array1::from(average.mean().to_vec()),
                readout,
                report: Report::exact(steps),
            });
        }
        Ok(fits)
    }
}

/// Online SGD on the sphere: one pass over the samples in order, `θ ← (θ + η P⊥ g_i)/‖·‖` with `g_i` the
/// gradient of one fresh sample's correlation (`y_i σ′(⟨θ, x_i⟩) x_i` for a single-index sample, `∇⟨T_i,
/// θ^{⊗k}⟩` for tensor PCA), from a uniform start or `init` (e.g. the averaged Langevin estimate). Ben
/// Arous, Gheissari & Jagannath (2021): from a uniform start it needs `n ≳ d^{k*−1}` samples, up to
/// logarithms. The pass has two phases, as in Damian, Nichani, Ge & Lee (2023, Algorithm 1): the step `η`
/// for the escape from the equator, then `η/10` for the last `refine` fraction of the samples, where a
/// constant step would leave the iterate spread around `θ*` by `1 − m² ∝ η d E[(y σ′)²]` (0.3 at d = 16
/// with the escape's step: overlap 0.9 would never be reached).
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineSgd {
    /// The step `η`; `None`: `d^{−k*/2}/2`. At the equator (`m = ⟨θ, θ*⟩ ~ d^{−1/2}`) a step moves `m` by
    /// `η k* m^{k*−1}` of drift against `η² ‖g‖² m/2 ≈ η² k* d m/2` of retraction (`‖g‖² ≈ k* d`), so the
    /// drift wins for `η < 2 m^{k*−2}/d = 2 d^{−k*/2}`; the escape then takes `~ 1/(η m^{k*−2}) = d^{k*−1}`
    /// samples (the largest step with a factor 4 of margin).
    pub step: Option<f64>,
    /// The fraction of the samples, at the end of the pass, taken with the step `η/10`, in `[0, 1]`
    /// (0: a constant step).
    pub refine: f64,
    /// The start; `None`: uniform on the sphere from `seed`.
    pub init: Option<Array1<f64>>,
    /// Seed of the uniform start (and, for tensor PCA, of the samples).
    pub seed: u64,
    /// The link `σ` of a single-index sample (the fit of samples `(x, y)`).
    pub link: Link,
}

/// An online SGD fit: the last iterate and a report counting the samples.
#[derive(Debug, Clone, PartialEq)]
pub struct SgdFit {
    /// The last iterate (unit norm).
    pub direction: Array1<f64>,
    /// Samples used (one pass: exact by construction).
    pub report: Report,
}

impl Fitted for SgdFit {
    fn report(&self) -> &Report {
        &self.report
    }
}

impl Default for OnlineSgd {
    fn default() -> Self {
        Self {
            step: None,
            refine: 0.5,
            init: None,
            seed: 0,
            link: Link::default(),
        }
    }
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for OnlineSgd {
    type Fitted = SgdFit;

    /// One pass over a single-index sample (`x`: one sample per row); returns the last iterate (unit
    /// norm) and a report counting the samples.
    ///
    /// # Errors
    /// Shape, emptiness and finiteness errors of the data; a step that is not positive and finite; an
    /// `init` of the wrong length or of norm 0.
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<SgdFit> {
        let link = &self.link;
        let loss = CorrelationLoss::new(x, y, link)?;
        let (x, y) = loss.sample();
        let (n, d) = x.dim();
        let (eta, mut theta) = self.start(d, link.information_exponent())?;
        let switch = self.switch(n);
        let mut g = vec![0.0; d];
        for (i, (row, &yi)) in x.rows().into_iter().zip(y.iter()).enumerate() {
            let z: f64 = row.iter().zip(&theta).map(|(a, b)| a * b).sum();
            let w = yi * link.eval(z).1;
            g.iter_mut().zip(row.iter()).for_each(|(g, a)| *g = w * a);
            sphere_step(&mut theta, if i < switch { eta } else { eta / 10.0 }, &g);
        }
        Ok(SgdFit {
            direction: Array1::from(theta),
            report: Report::exact(n),
        })
    }
}

impl Estimator<&TensorPca> for OnlineSgd {
    type Fitted = SgdFit;

    /// One pass over `n` fresh samples of tensor PCA (`n` rounded to the nearest integer), each sample's
    /// gradient drawn from its exact law ([`TensorPca::sample_gradient`]) in `O(d)`, from `seed`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for more than 10¹² samples (`"n"`); the step's and `init`'s errors as in
    /// the fit of samples.
    fn fit(&self, model: &TensorPca) -> Result<SgdFit> {
        let n = model.samples().round();
        if n > 1e12 {
            return Err(Error::InvalidParameter {
                name: "n",
                reason: format!("online SGD takes one step a sample: at most 10¹² samples, got {n:.3e}"),
            });
        }
        let d = model.dim();
        let (eta, mut theta) = self.start(d, model.order())?;
        let mut rng = crate::simulation::record_rng(self.seed, u64::MAX);
        let switch = self.switch(n as usize);
        let mut g = vec![0.0; d];
        for i in 0..n as usize {
            model.sample_gradient(&theta, &mut rng, &mut g);
            sphere_step(&mut theta, if i < switch { eta } else { eta / 10.0 }, &g);
        }
        Ok(SgdFit {
            direction: Array1::from(theta),
            report: Report::exact(n as usize),
        })
    }
}

impl OnlineSgd {
    /// The first sample of the refining phase.
    fn switch(&self, n: usize) -> usize {
        n - (self.refine * n as f64).round() as usize
    }

    /// The step and the phases (checked) and the start.
    fn start(&self, d: usize, exponent: usize) -> Result<(f64, Vec<f64>)> {
        if !(0.0..=1.0).contains(&self.refine) {
            return Err(Error::InvalidParameter {
                name: "refine",
                reason: format!("must lie in [0, 1], got {}", self.refine),
            });
        }
        let eta = self
            .step
            .unwrap_or_else(|| 0.5 * (d as f64).powf(-(exponent as f64) / 2.0));
        if !(eta > 0.0 && eta.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "step",
                reason: format!("must be positive and finite, got {eta}"),
            });
        }
        let theta = match &self.init {
            Some(v) => {
                if v.len() != d {
                    return Err(Error::Shape {
                        what: "init (one entry per feature)",
                        expected: d,
                        found: v.len(),
                    });
                }
                let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
                if !(norm > 0.0 && norm.is_finite()) {
                    return Err(Error::InvalidParameter {
                        name: "init",
                        reason: format!("must have a positive, finite norm, got {norm}"),
                    });
                }
                v.iter().map(|a| a / norm).collect()
            }
            None => uniform_on_sphere(d, &mut Xoshiro256PlusPlus::seed_from_u64(self.seed)),
        };
        Ok((eta, theta))
    }
}

/// `θ ← (θ + η P⊥g)/‖·‖` for a unit `θ`.
fn sphere_step(theta: &mut [f64], eta: f64, g: &[f64]) {
    let along: f64 = g.iter().zip(theta.iter()).map(|(a, b)| a * b).sum();
    let mut length2 = 0.0;
    for (t, gj) in theta.iter_mut().zip(g) {
        *t += eta * (gj - along * *t);
        length2 += *t * *t;
    }
    let inv = 1.0 / length2.sqrt();
    theta.iter_mut().for_each(|t| *t *= inv);
}

/// A uniform point of `S^{d−1}` (normalised Gaussian).
fn uniform_on_sphere(d: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<f64> {
    loop {
        let v: Vec<f64> = (0..d).map(|_| standard_normal(rng)).collect();
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 0.0 {
            return v.into_iter().map(|a| a / norm).collect();
        }
    }
}

/// The read-out of the averages (or the last iterate).
fn read(average: &IterateAverage<'_, f64>, readout: Readout, last: &[f64]) -> Result<Vec<f64>> {
    let d = last.len();
    match readout {
        Readout::Last => Ok(last.to_vec()),
        Readout::Mean | Readout::Auto => {
            let mut out = vec![0.0; d];
            average.direction(&mut out)?;
            Ok(out)
        }
        Readout::SecondMoment => {
            let m = average.second_moment().ok_or(Error::InvalidParameter {
                name: "readout",
                reason: "the second moment was not kept".into(),
            })?;
            let mat = faer::Mat::from_fn(d, d, |i, j| m[i * d + j]);
            let evd = mat
                .as_ref()
                .self_adjoint_eigen(Side::Lower)
                .map_err(|e| Error::eigen("the averaged second moment", e, "rescale the data"))?;
            // Eigenvalues ascending: the last column.
            Ok((0..d).map(|i| evd.U()[(i, d - 1)]).collect())
        }
    }
}
