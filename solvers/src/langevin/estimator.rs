//! The estimators: Langevin dynamics on the sphere with the averaged iterates read out, and online SGD
//! (the baseline, and the refinement warm-started from the averaged estimate).

use faer::Side;
use ndarray::{Array1, ArrayView1, ArrayView2};
use rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use sparsimony_core::Report;
use sparsimony_core::langevin::{IterateAverage, SphericalLangevin};
use sparsimony_core::random::standard_normal;

use super::Link;
use crate::{Error, Progress, Result};

/// Samples per piece of the parallel gradient (a size-only split: the same sums on any number of threads).
const PIECE: usize = 8192;

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

/// Spherical Langevin dynamics on the correlation loss `L(θ) = −(1/n) Σ_i y_i σ(⟨θ, x_i⟩)` of a fixed sample,
/// `dθ = ε P⊥ b dt + P⊥ dW` with `b = −∇L = (1/n) Σ_i y_i σ′(⟨θ, x_i⟩) x_i` (one pass over the sample, `O(nd)`),
/// from a uniform start, stepped by [`SphericalLangevin`] with step `h` up to time `T`; the iterates after
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
    /// The horizon `T` (time units); `⌈T/h⌉` steps.
    pub time: f64,
    /// The fraction of the horizon discarded before averaging, in `[0, 1)`.
    pub burn_in: f64,
    /// The read-out.
    pub readout: Readout,
    /// Seed of the start and the Brownian increments.
    pub seed: u64,
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

impl Langevin {
    fn check(&self) -> Result<SphericalLangevin> {
        let dynamics = SphericalLangevin::new(self.step, self.signal).map_err(|e| match e {
            sparsimony_core::Error::InvalidParameter { name, reason } => Error::InvalidParameter {
                name,
                reason: reason.into(),
            },
            other => other.into(),
        })?;
        if !(self.time > 0.0 && self.time.is_finite()) || self.time / self.step > 1e12 {
            return Err(Error::InvalidParameter {
                name: "time",
                reason: format!("must be positive, finite and at most 1e12 steps, got {}", self.time),
            });
        }
        if !(0.0..1.0).contains(&self.burn_in) {
            return Err(Error::InvalidParameter {
                name: "burn_in",
                reason: format!("must lie in [0, 1), got {}", self.burn_in),
            });
        }
        Ok(dynamics)
    }

    /// Runs the dynamics on the sample (`x`: one sample per row, `y` the responses) with the link `σ`.
    ///
    /// # Errors
    /// Shape, emptiness and finiteness errors of the data (`d < 2` included); the settings'
    /// [`Error::InvalidParameter`].
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>, link: &Link) -> Result<LangevinFit> {
        self.fit_observed(x, y, link, usize::MAX, |_, _, _| {})
    }

    /// As [`Langevin::fit`], calling `observe(time, estimate so far, iterate)` every `every` steps after
    /// the burn-in (and at the end): the read-out's path against time.
    ///
    /// # Errors
    /// As [`Langevin::fit`].
    pub fn fit_observed(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        link: &Link,
        every: usize,
        mut observe: impl FnMut(f64, &[f64], &[f64]),
    ) -> Result<LangevinFit> {
        let dynamics = self.check()?;
        let (x, y) = checked_sample(x, y)?;
        let d = x.ncols();
        let readout = match self.readout {
            Readout::Auto if link.information_exponent().is_multiple_of(2) => Readout::SecondMoment,
            Readout::Auto => Readout::Mean,
            r => r,
        };
        if readout == Readout::SecondMoment && d > MAX_SECOND_MOMENT_DIM {
            return Err(Error::InvalidParameter {
                name: "readout",
                reason: format!(
                    "the second-moment read-out keeps d² = {} values; at most d = {MAX_SECOND_MOMENT_DIM}",
                    d as f64 * d as f64
                ),
            });
        }
        let steps = (self.time / self.step).ceil() as usize;
        let burn = (self.burn_in * steps as f64) as usize;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let mut theta = uniform_on_sphere(d, &mut rng);
        let mut scratch = vec![0.0; d];
        let (mut mean, mut second) = (
            vec![0.0; d],
            vec![0.0; if readout == Readout::SecondMoment { d * d } else { 0 }],
        );
        let mut average = IterateAverage::new(
            &mut mean,
            (readout == Readout::SecondMoment).then_some(second.as_mut_slice()),
        )?;
        // Standard layout by construction (checked_sample): the rows are contiguous.
        let rows = x.as_slice().ok_or(Error::InvalidParameter {
            name: "x",
            reason: "is not contiguous in row-major order".into(),
        })?;
        let counter = self.progress.counter("langevin", steps);
        let every = every.max(1);
        for s in 0..steps {
            dynamics.step(&mut theta, &mut scratch, &mut rng, |t, b| {
                drift(rows, y.view(), link, t, b);
                Ok(())
            })?;
            if s >= burn {
                average.add(&theta)?;
                if (s - burn + 1).is_multiple_of(every) && s + 1 < steps {
                    let estimate = read(&average, readout, &theta)?;
                    observe((s + 1) as f64 * self.step, &estimate, &theta);
                }
            }
            counter.step(None);
        }
        let estimate = read(&average, readout, &theta)?;
        observe(steps as f64 * self.step, &estimate, &theta);
        Ok(LangevinFit {
            estimate: Array1::from(estimate),
            last: Array1::from(theta),
            mean: Array1::from(average.mean().to_vec()),
            readout,
            report: Report::exact(steps),
        })
    }
}

/// Online SGD on the sphere: one pass over the samples in order, `θ ← (θ + η P⊥ y_i σ′(⟨θ, x_i⟩) x_i)/‖·‖`
/// (a step of the correlation loss on one fresh sample), from a uniform start or `init` (e.g. the averaged
/// Langevin estimate). Ben Arous, Gheissari & Jagannath (2021): from a uniform start it needs
/// `n ≳ d^{k*−1}` samples, up to logarithms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnlineSgd {
    /// The step `η`; `None`: `d^{−(k*+1)/2}`, the largest for which the drift beats the noise at the
    /// equator (`η m^{k*−1} ≳ η² d` with `m = d^{−1/2}`).
    pub step: Option<f64>,
    /// The start; `None`: uniform on the sphere from `seed`.
    pub init: Option<Array1<f64>>,
    /// Seed of the uniform start.
    pub seed: u64,
}

impl OnlineSgd {
    /// One pass over the samples; returns the last iterate (unit norm) and a report counting the samples.
    ///
    /// # Errors
    /// Shape, emptiness and finiteness errors of the data; a step that is not positive and finite; an
    /// `init` of the wrong length or of norm 0.
    pub fn fit(&self, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>, link: &Link) -> Result<(Array1<f64>, Report)> {
        let (x, y) = checked_sample(x, y)?;
        let (n, d) = x.dim();
        let k = link.information_exponent() as f64;
        let eta = self.step.unwrap_or_else(|| (d as f64).powf(-(k + 1.0) / 2.0));
        if !(eta > 0.0 && eta.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "step",
                reason: format!("must be positive and finite, got {eta}"),
            });
        }
        let mut theta = match &self.init {
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
        for (row, &yi) in x.rows().into_iter().zip(y.iter()) {
            let z: f64 = row.iter().zip(&theta).map(|(a, b)| a * b).sum();
            let w = eta * yi * link.eval(z).1;
            // θ + w P⊥x = θ + w (x − ⟨x, θ⟩θ) (θ is a unit vector).
            let mut length2 = 0.0;
            for (t, xj) in theta.iter_mut().zip(row.iter()) {
                *t += w * (xj - z * *t);
                length2 += *t * *t;
            }
            let inv = 1.0 / length2.sqrt();
            theta.iter_mut().for_each(|t| *t *= inv);
        }
        Ok((Array1::from(theta), Report::exact(n)))
    }
}

/// The data as a standard-layout view, checked: at least one sample, `d ≥ 2`, finite, `y` per row.
fn checked_sample<'a>(
    x: ArrayView2<'a, f64>,
    y: ArrayView1<'a, f64>,
) -> Result<(ndarray::CowArray<'a, f64, ndarray::Ix2>, ArrayView1<'a, f64>)> {
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return Err(Error::Empty {
            what: "X",
            rows: n,
            cols: d,
        });
    }
    if d < 2 {
        return Err(Error::InvalidParameter {
            name: "d",
            reason: format!("the sphere needs at least 2 features, got {d}"),
        });
    }
    crate::data::check_matrix("X", x)?;
    crate::data::check_vector("y (one value per row of X)", y, n)?;
    let x = if x.is_standard_layout() {
        ndarray::CowArray::from(x)
    } else {
        ndarray::CowArray::from(x.as_standard_layout().into_owned())
    };
    Ok((x, y))
}

/// `b = (1/n) Σ_i y_i σ′(⟨θ, x_i⟩) x_i` into `out`, in size-only parallel pieces summed in order; `x` is
/// the samples row-major (`n × d`, `d = theta.len()`).
fn drift(x: &[f64], y: ArrayView1<'_, f64>, link: &Link, theta: &[f64], out: &mut [f64]) {
    let d = theta.len();
    let n = y.len();
    let pieces: Vec<Vec<f64>> = x
        .par_chunks(PIECE * d)
        .enumerate()
        .map(|(p, rows)| {
            let mut part = vec![0.0; d];
            for (r, row) in rows.chunks_exact(d).enumerate() {
                let z: f64 = row.iter().zip(theta).map(|(a, b)| a * b).sum();
                let w = y[p * PIECE + r] * link.eval(z).1;
                part.iter_mut().zip(row).for_each(|(b, a)| *b += w * a);
            }
            part
        })
        .collect();
    out.fill(0.0);
    for part in &pieces {
        out.iter_mut().zip(part).for_each(|(o, p)| *o += p / n as f64);
    }
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
                .map_err(|e| Error::Singular {
                    what: "the averaged second moment",
                    detail: format!("its eigendecomposition failed: {e:?}"),
                })?;
            // Eigenvalues ascending: the last column.
            Ok((0..d).map(|i| evd.U()[(i, d - 1)]).collect())
        }
    }
}
