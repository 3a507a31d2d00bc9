//! The single-index model: `x ~ N(0, I_d)`, `y = σ(⟨θ*, x⟩) + noise·ξ`, each sample regenerated from
//! `(seed, index)`.

use ndarray::{Array1, Array2};
use sparsimony_core::random::standard_normal;

use super::Link;
use crate::{Error, Result};

/// A single-index model with a unit direction `θ*` and a link given by its Hermite coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleIndex {
    /// The hidden direction `θ*` (unit norm).
    pub theta: Array1<f64>,
    /// The link `σ`.
    pub link: Link,
    /// The noise standard deviation.
    pub noise: f64,
}

impl SingleIndex {
    /// The model in dimension `d ≥ 2` with `θ* = e₁` (for an isotropic design every direction is
    /// equivalent, and the overlap `|⟨θ̂, θ*⟩|` reads off the first coordinate).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `d < 2`, a `d` beyond memory, or a noise that is negative or not
    /// finite.
    pub fn new(d: usize, link: Link, noise: f64) -> Result<Self> {
        if d < 2 {
            return Err(Error::InvalidParameter {
                name: "d",
                reason: format!("the sphere needs dimension at least 2, got {d}"),
            });
        }
        if !(noise >= 0.0 && noise.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "noise",
                reason: format!("must be non-negative and finite, got {noise}"),
            });
        }
        crate::data::check_bytes("d", 8.0 * d as f64, || format!("θ* of {d} coefficients"), "")?;
        let theta = Array1::from_shape_fn(d, |j| if j == 0 { 1.0 } else { 0.0 });
        Ok(Self { theta, link, noise })
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.theta.len()
    }

    /// Sample `index`: `x` written into `x` (length `d`), `y` returned.
    pub fn record(&self, seed: u64, index: u64, x: &mut [f64]) -> f64 {
        let mut rng = crate::simulation::record_rng(seed, index);
        x.iter_mut().for_each(|v| *v = standard_normal(&mut rng));
        let z: f64 = x.iter().zip(&self.theta).map(|(a, b)| a * b).sum();
        self.link.eval(z).0 + self.noise * standard_normal(&mut rng)
    }

    /// Samples `first..first + n` as a design (`n × d`, one sample per row) and responses.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"n"`) for a design beyond memory, before allocating.
    pub fn sample(&self, seed: u64, first: u64, n: usize) -> Result<(Array2<f64>, Array1<f64>)> {
        crate::simulation::sample_rows(n, self.dim(), first, |i, row| self.record(seed, i, row))
    }
}
