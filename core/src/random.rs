//! Seeded sampling on a caller's [`RngCore`]: uniform, Gaussian and Laplace variates.
//!
//! The transcendental functions come from `libm` and are evaluated in `f64`, then rounded to `T`, so the same
//! seed gives bit-for-bit the same samples on every platform (a microcontroller, a workstation, CI).
//! Gaussian variates use the Box–Muller transform; Laplace variates the inverse CDF. Local-privacy
//! randomizers draw their noise from here.

use rand_core::RngCore;

use crate::Real;
use crate::error::{Error, Result};

/// A uniform variate in the open interval `(0, 1)`, with 53 random bits.
#[inline]
pub fn uniform_open01<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    // (k + 0.5) · 2⁻⁵³ for k uniform in 0..2⁵³: never 0, never 1.
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

/// A standard normal variate `N(0, 1)` (Box–Muller, one of the pair).
#[inline]
pub fn standard_normal<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    let u1 = uniform_open01(rng);
    let u2 = uniform_open01(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(core::f64::consts::TAU * u2)
}

fn check_scale<T: Real>(name: &'static str, location: T, scale: T) -> Result<()> {
    if !location.is_finite() {
        return Err(Error::InvalidParameter {
            name: "location",
            reason: "must be finite",
        });
    }
    if !(scale >= T::zero() && scale.is_finite()) {
        return Err(Error::InvalidParameter {
            name,
            reason: "must be non-negative and finite",
        });
    }
    Ok(())
}

/// A Gaussian variate `N(mean, std_dev²)`.
pub fn gaussian<T: Real, R: RngCore + ?Sized>(rng: &mut R, mean: T, std_dev: T) -> Result<T> {
    check_scale("std_dev", mean, std_dev)?;
    Ok(T::lit(
        mean.to_f64_lossless() + std_dev.to_f64_lossless() * standard_normal(rng),
    ))
}

/// Fills `out` with independent `N(mean, std_dev²)` variates, using both members of each Box–Muller pair.
pub fn fill_gaussian<T: Real, R: RngCore + ?Sized>(rng: &mut R, out: &mut [T], mean: T, std_dev: T) -> Result<()> {
    check_scale("std_dev", mean, std_dev)?;
    let (m, s) = (mean.to_f64_lossless(), std_dev.to_f64_lossless());
    for pair in out.chunks_mut(2) {
        let r = libm::sqrt(-2.0 * libm::log(uniform_open01(rng)));
        let (sin, cos) = libm::sincos(core::f64::consts::TAU * uniform_open01(rng));
        pair[0] = T::lit(m + s * r * cos);
        if let Some(second) = pair.get_mut(1) {
            *second = T::lit(m + s * r * sin);
        }
    }
    Ok(())
}

/// A Laplace variate with density `exp(−|x − location|/scale) / (2 scale)` (variance `2 scale²`), by the
/// inverse CDF.
pub fn laplace<T: Real, R: RngCore + ?Sized>(rng: &mut R, location: T, scale: T) -> Result<T> {
    check_scale("scale", location, scale)?;
    let u = uniform_open01(rng) - 0.5; // in (−½, ½)
    let x = -scale.to_f64_lossless() * libm::copysign(1.0, u) * libm::log1p(-2.0 * libm::fabs(u));
    Ok(T::lit(location.to_f64_lossless() + x))
}

/// Fills `out` with independent Laplace variates (see [`laplace`]).
pub fn fill_laplace<T: Real, R: RngCore + ?Sized>(rng: &mut R, out: &mut [T], location: T, scale: T) -> Result<()> {
    for v in out.iter_mut() {
        *v = laplace(rng, location, scale)?;
    }
    Ok(())
}
