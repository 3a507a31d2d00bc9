//! Simulated users: records drawn from a sparse linear model, each regenerated from a counter-based seed.

use ndarray::{Array1, Array2};
use sparsimony_core::random::standard_normal;

use crate::{Error, Result};

/// The model users' records come from: `x ~ N(0, Σ)` with `Σ_ij = ρ^|i−j|` (isotropic at `ρ = 0`, an AR(1)
/// correlation otherwise), `y = ⟨x, θ*⟩ + σ ξ` with `ξ ~ N(0, 1)`. User `i`'s record is a function of
/// `(seed, i)` only, so a simulation of `10⁸` users regenerates records instead of storing them, on any
/// number of threads (a xoshiro256++ generator per user; the randomizers keep the devices' ChaCha8).
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// The true coefficients `θ*`.
    pub theta: Array1<f64>,
    /// The noise standard deviation `σ`.
    pub noise: f64,
    /// The correlation `ρ ∈ (−1, 1)` of neighbouring coordinates of `x`.
    pub correlation: f64,
}

impl Population {
    /// The model of the paper's experiments: `d` coordinates, `θ*` with its first `k` coefficients `1/√k`
    /// (unit norm), isotropic `x`, noise `σ`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `d = 0`, `k = 0`, `k > d`, a `d` beyond memory, or a noise that is negative or
    /// not finite.
    pub fn sparse(d: usize, k: usize, noise: f64) -> Result<Self> {
        if d == 0 {
            return Err(Error::InvalidParameter {
                name: "d",
                reason: "must be at least 1 (the users' features)".into(),
            });
        }
        if k == 0 || k > d {
            return Err(Error::InvalidParameter {
                name: "k",
                reason: format!("must lie in 1..={d} (the dimension), got {k}"),
            });
        }
        crate::data::check_bytes("d", 8.0 * d as f64, || format!("θ* of {d} coefficients"), "")?;
        let theta = Array1::from_shape_fn(d, |j| if j < k { 1.0 / (k as f64).sqrt() } else { 0.0 });
        let p = Self {
            theta,
            noise,
            correlation: 0.0,
        };
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<()> {
        if self.theta.is_empty() {
            return Err(Error::Empty {
                what: "theta",
                rows: 0,
                cols: 1,
            });
        }
        if let Some(j) = self.theta.iter().position(|t| !t.is_finite()) {
            return Err(Error::NonFinite {
                what: "theta",
                row: j,
                col: 0,
            });
        }
        if !(self.noise >= 0.0 && self.noise.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "noise",
                reason: format!("must be non-negative and finite, got {:?}", self.noise),
            });
        }
        if self.correlation.is_nan() || self.correlation.abs() >= 1.0 {
            return Err(Error::InvalidParameter {
                name: "correlation",
                reason: format!("must lie in (−1, 1), got {:?}", self.correlation),
            });
        }
        Ok(())
    }

    /// Checks a simulation of `n` users — at least one, and the population's own settings — and returns
    /// the dimension `d`.
    pub(crate) fn check_users(&self, n: usize) -> Result<usize> {
        if n == 0 {
            return Err(Error::InvalidParameter {
                name: "n",
                reason: "must be at least 1 (the users simulated)".into(),
            });
        }
        self.check()?;
        Ok(self.dim())
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.theta.len()
    }

    /// The ℓ2 distance `‖θ̂ − θ*‖` of coefficients `coef` (length `d`) from the true ones.
    pub fn distance(&self, coef: &Array1<f64>) -> f64 {
        coef.iter()
            .zip(&self.theta)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt()
    }

    /// The covariance `Σ` of `x`.
    pub fn covariance(&self) -> Array2<f64> {
        let d = self.dim();
        Array2::from_shape_fn((d, d), |(i, j)| self.correlation.powi(i.abs_diff(j) as i32))
    }

    /// User `user`'s record: `x` written into `x` (length `d`), `y` returned.
    pub fn record(&self, seed: u64, user: u64, x: &mut [f64]) -> f64 {
        let mut rng = crate::simulation::record_rng(seed, user);
        let rho = self.correlation;
        let innovation = (1.0 - rho * rho).sqrt();
        // ⟨x, θ*⟩ summed as x is drawn: its chain of additions hides behind the draws.
        let (mut previous, mut signal) = (0.0, 0.0);
        for (j, (xj, t)) in x.iter_mut().zip(&self.theta).enumerate() {
            let z = standard_normal(&mut rng);
            *xj = if j == 0 { z } else { rho * previous + innovation * z };
            previous = *xj;
            signal += *xj * t;
        }
        signal + self.noise * standard_normal(&mut rng)
    }

    /// Users `first..first + n` as a design (`n × d`, one user per row) and responses.
    ///
    /// # Errors
    /// The population's own errors (a hand-edited `θ*`, noise or correlation out of range); a design
    /// beyond memory (`"n"`).
    pub fn sample(&self, seed: u64, first: u64, n: usize) -> Result<(Array2<f64>, Array1<f64>)> {
        self.check()?;
        crate::simulation::sample_rows(n, self.dim(), first, |i, row| self.record(seed, i, row))
    }
}
