//! Spherical Langevin dynamics with iterate averaging (Wei, Damian & Lee, "Improved high-dimensional
//! estimation with Langevin dynamics and stochastic weight averaging", ICLR 2026): one step of the
//! dynamics and the running averages that are read out at the end, in caller buffers, without allocation.
//!
//! On the unit sphere `S^{d−1}` the dynamics are
//!
//! ```text
//!     dθ = ε P⊥_θ b(θ) dt + P⊥_θ dW − (d−1)/2 · θ dt,        P⊥_θ = I − θθᵀ,
//! ```
//!
//! with `b = −∇L` the drift of a loss `L`, `ε ≥ 0` the signal strength (`ε = 0` is Brownian motion on the
//! sphere) and the last term the Itô correction that keeps `θ` on the sphere. Its stationary density is
//! `∝ exp(−2ε L(θ))` (for `L = −κ⟨a, θ⟩` a von Mises–Fisher law of concentration `2εκ`). [`SphericalLangevin`]
//! advances it by the projected Euler–Maruyama step with retraction
//!
//! ```text
//!     θ ← (θ + h ε P⊥_θ b(θ) + √h P⊥_θ ξ) / ‖·‖,        ξ ~ N(0, I_d),
//! ```
//!
//! whose normalisation supplies the Itô correction to first order in `h` (`‖θ + v‖ = 1 + ‖v‖²/2 + …` and
//! `E‖P⊥ξ‖² = d − 1`). [`IterateAverage`] keeps the running means of `θ_t` and, for even information
//! exponents, of `θ_t θ_tᵀ`: the paper's read-outs are the normalised mean and the top eigenvector of the
//! second moment.

use rand_core::RngCore;

use crate::Real;
use crate::error::{Error, Result, check_len};
use crate::random::standard_normal;

/// One step of spherical Langevin dynamics: a step `h > 0` (time units) and a signal strength `ε ≥ 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SphericalLangevin {
    step: f64,
    signal: f64,
}

impl SphericalLangevin {
    /// The step `h` and signal strength `ε`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `h` not positive and finite or `ε` negative or not finite.
    pub fn new(step: f64, signal: f64) -> Result<Self> {
        if !(step > 0.0 && step.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "step",
                reason: "must be positive and finite",
            });
        }
        if !(signal >= 0.0 && signal.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "signal",
                reason: "must be non-negative and finite",
            });
        }
        Ok(Self { step, signal })
    }

    /// The step `h`.
    pub fn step_size(&self) -> f64 {
        self.step
    }

    /// The signal strength `ε`.
    pub fn signal(&self) -> f64 {
        self.signal
    }

    /// Advances `theta` (a unit vector of dimension `d ≥ 2`) by one step. `drift(θ, b)` writes `b(θ) = −∇L(θ)`
    /// into `b` (the caller's `scratch`, `d` entries, overwritten); the noise is drawn from `rng`, `d`
    /// standard normals a step. Arithmetic is in `f64`, the result rounded to `T` and renormalised.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] (`scratch` not of `theta`'s length), [`Error::InvalidParameter`]
    /// (`d < 2`, or `theta` of norm 0), [`Error::NonFinite`] (`theta` or the drift), and whatever `drift`
    /// returns.
    pub fn step<T: Real, R: RngCore + ?Sized>(
        &self,
        theta: &mut [T],
        scratch: &mut [T],
        rng: &mut R,
        drift: impl FnOnce(&[T], &mut [T]) -> Result<()>,
    ) -> Result<()> {
        check_len(
            "scratch (one entry per coordinate of theta)",
            theta.len(),
            scratch.len(),
        )?;
        if theta.len() < 2 {
            return Err(Error::InvalidParameter {
                name: "theta",
                reason: "the sphere needs dimension at least 2",
            });
        }
        if let Some(index) = theta.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite { what: "theta", index });
        }
        drift(theta, scratch)?;
        if let Some(index) = scratch.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite { what: "drift", index });
        }
        let norm2: f64 = theta.iter().map(|t| t.to_f64_lossless() * t.to_f64_lossless()).sum();
        if norm2 == 0.0 {
            return Err(Error::InvalidParameter {
                name: "theta",
                reason: "has norm 0 (start from a unit vector)",
            });
        }
        // v = h ε b + √h ξ, then v ← v − (⟨v, θ⟩/‖θ‖²) θ: the tangent increment.
        let (drift_scale, noise_scale) = (self.step * self.signal, libm::sqrt(self.step));
        let mut along = 0.0;
        for (b, t) in scratch.iter_mut().zip(theta.iter()) {
            let v = drift_scale * b.to_f64_lossless() + noise_scale * standard_normal(rng);
            along += v * t.to_f64_lossless();
            *b = T::lit(v);
        }
        let along = along / norm2;
        let mut length2 = 0.0;
        for (t, v) in theta.iter_mut().zip(scratch.iter()) {
            let t64 = t.to_f64_lossless();
            let next = t64 + v.to_f64_lossless() - along * t64;
            length2 += next * next;
            *t = T::lit(next);
        }
        let inv = 1.0 / libm::sqrt(length2);
        theta.iter_mut().for_each(|t| *t = T::lit(t.to_f64_lossless() * inv));
        Ok(())
    }
}

/// Running means of the iterates `θ_t` and, when given a `d × d` buffer, of `θ_t θ_tᵀ` (symmetric, so row-
/// and column-major alike), updated as `m ← m + (θ − m)/t` so they never overflow or lose the early
/// iterates' weight.
#[derive(Debug)]
pub struct IterateAverage<'a, T> {
    mean: &'a mut [T],
    second: Option<&'a mut [T]>,
    count: u64,
}

impl<'a, T: Real> IterateAverage<'a, T> {
    /// Averages of dimension `mean.len()`; both buffers are zeroed.
    ///
    /// # Errors
    /// [`Error::Empty`] for an empty `mean`; [`Error::DimensionMismatch`] for a `second` of length other
    /// than `d²`.
    pub fn new(mean: &'a mut [T], second: Option<&'a mut [T]>) -> Result<Self> {
        if mean.is_empty() {
            return Err(Error::Empty { what: "mean buffer" });
        }
        let d = mean.len();
        mean.fill(T::zero());
        let second = match second {
            Some(s) => {
                check_len("second-moment buffer (d · d)", d * d, s.len())?;
                s.fill(T::zero());
                Some(s)
            }
            None => None,
        };
        Ok(Self { mean, second, count: 0 })
    }

    /// Adds one iterate.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`], [`Error::NonFinite`].
    pub fn add(&mut self, theta: &[T]) -> Result<()> {
        check_len("iterate (the averages' dimension)", self.mean.len(), theta.len())?;
        if let Some(index) = theta.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite { what: "iterate", index });
        }
        self.count += 1;
        let w = 1.0 / self.count as f64;
        for (m, t) in self.mean.iter_mut().zip(theta) {
            let m64 = m.to_f64_lossless();
            *m = T::lit(m64 + (t.to_f64_lossless() - m64) * w);
        }
        if let Some(second) = self.second.as_deref_mut() {
            let d = theta.len();
            for (i, ti) in theta.iter().enumerate() {
                let ti = ti.to_f64_lossless();
                for (s, tj) in second[i * d..(i + 1) * d].iter_mut().zip(theta) {
                    let s64 = s.to_f64_lossless();
                    *s = T::lit(s64 + (ti * tj.to_f64_lossless() - s64) * w);
                }
            }
        }
        Ok(())
    }

    /// Iterates added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The mean of the iterates (zero before the first).
    pub fn mean(&self) -> &[T] {
        self.mean
    }

    /// The mean of `θ_t θ_tᵀ` (`d × d`), when kept.
    pub fn second_moment(&self) -> Option<&[T]> {
        self.second.as_deref()
    }

    /// The normalised mean `θ̄/‖θ̄‖` (the read-out for odd information exponents) written into `out`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`]; [`Error::InvalidParameter`] when the mean is zero (no iterates yet).
    pub fn direction(&self, out: &mut [T]) -> Result<()> {
        check_len("output (the averages' dimension)", self.mean.len(), out.len())?;
        let norm = libm::sqrt(
            self.mean
                .iter()
                .map(|m| m.to_f64_lossless() * m.to_f64_lossless())
                .sum(),
        );
        if norm == 0.0 {
            return Err(Error::InvalidParameter {
                name: "mean",
                reason: "is zero: add iterates first",
            });
        }
        out.iter_mut()
            .zip(self.mean.iter())
            .for_each(|(o, m)| *o = T::lit(m.to_f64_lossless() / norm));
        Ok(())
    }
}
