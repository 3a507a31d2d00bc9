//! The additive mechanisms, on a grid so that floating point cannot break them: the record rounded onto
//! `γℤ` (`γ` a power of two), exact integer noise added ([`crate::random::exact`]), and the message read
//! back as `γ` times that integer.

use rand_core::RngCore;

use super::{Guarantee, check_dim, check_epsilon, check_record};
use crate::Real;
use crate::error::{Error, Result};
use crate::random::exact::{discrete_gaussian, discrete_laplace};
use crate::random::uniform_open01;

/// `2¹⁰⁰`: the largest record entry a grid mechanism accepts, in its grid steps (a sensitivity's `2⁶⁰`
/// for [`Laplace`]).
const GRID_REACH: f64 = 1_267_650_600_228_229_401_496_703_205_376.0;

/// `1 + 2⁻⁵⁰`: a factor that moves a computed bound past the rounding of the few operations behind it.
const UPWARD: f64 = 1.0 + 1.0 / (1u64 << 50) as f64;

/// The sensitivities the grid mechanisms accept, in the records' units: `[10⁻²⁰⁰, 10²⁰⁰]`, so that the
/// grid step and the noise scale stay normal, finite numbers for every ε and dimension.
pub const SENSITIVITY_RANGE: core::ops::RangeInclusive<f64> = 1e-200..=1e200;

fn check_sensitivity(sensitivity: f64) -> Result<()> {
    if SENSITIVITY_RANGE.contains(&sensitivity) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "sensitivity",
            reason: "must lie in [1e-200, 1e200] (SENSITIVITY_RANGE): scale the data",
        })
    }
}

/// The power of two `2^⌈log₂(x)⌉` for a positive normal `x` (exact: read off the bits).
fn power_of_two_at_least(x: f64) -> f64 {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mantissa = bits & ((1u64 << 52) - 1);
    let e = if mantissa == 0 { exponent } else { exponent + 1 };
    libm::ldexp(1.0, e)
}

/// The record `v` on the grid `γℤ` by **unbiased randomized rounding**: entry `x` goes to `⌊x/γ⌋` or
/// `⌈x/γ⌉` steps with the probabilities that make its mean `x/γ` (to within `2⁻⁵³` of a step: the
/// uniform draw has 53 bits, and the fractional part of a tiny negative `x/γ` rounds to 1); each integer is
/// handed to `emit` with the entry's index. Whatever those probabilities, the integer is `⌊x/γ⌋` or
/// `⌈x/γ⌉`, which is all the privacy argument uses.
fn on_grid<T: Real, R: RngCore + ?Sized>(
    v: &[T],
    granularity: f64,
    rng: &mut R,
    mut emit: impl FnMut(usize, i128, &mut R),
) -> Result<()> {
    if let Some(index) = v
        .iter()
        .position(|x| libm::fabs(x.to_f64_lossless() / granularity) >= GRID_REACH)
    {
        return Err(Error::NonFinite {
            what: "record (an entry beyond 2^100 grid steps of the mechanism: scale the data or raise the sensitivity)",
            index,
        });
    }
    for (i, x) in v.iter().enumerate() {
        let f = x.to_f64_lossless() / granularity;
        let floor = libm::floor(f);
        let up = uniform_open01(rng) < f - floor;
        emit(i, floor as i128 + i128::from(up), rng);
    }
    Ok(())
}

/// The message entry `γk` for the integer message `k`: the nearest `T` to it, a function of the exact
/// integer alone, so post-processing that cannot weaken the guarantee.
fn from_grid<T: Real>(k: i128, granularity: f64) -> T {
    T::lit(k as f64 * granularity)
}

/// The Laplace mechanism on a grid, safe in floating point: pure ε-LDP for records whose ℓ1 distance is
/// at most `Δ₁`. Unbiased; variance about `2b²` per coordinate with `b = Δ₁/ε`.
///
/// The noise is the **discrete Laplace** distribution on the grid `γℤ` (Canonne, Kamath & Steinke 2020,
/// sampled exactly in integers by [`crate::random::exact::discrete_laplace`]), never a floating-point
/// `b·ln(u)`, whose outputs from one input form a lattice that another input cannot reach (Mironov 2012).
/// The grid step `γ` is the power of two with `Δ₁/γ` in `(2⁴⁰, 2⁴¹]`. The record is put on the grid by
/// unbiased randomized rounding, which moves each entry by less than one step; two records at ℓ1
/// distance `Δ₁` are then at most `Δ₁/γ + 2d` steps apart, and the integer scale is
/// `t = ⌈(⌈Δ₁/γ⌉ + 2d)/ε⌉` steps, so the integer messages of neighbours are exactly `e^ε`-close (the
/// rounding is a mixture over roundings, each within that distance), and so is anything computed from
/// them alone, such as their `T` values. `t` exceeds `b/γ` by a relative `2d/2⁴⁰`. Every integer is a
/// possible message of every record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Laplace {
    epsilon: f64,
    dim: usize,
    granularity: f64,
    /// The scale in grid steps, `t`.
    steps: u64,
}

impl Laplace {
    /// The mechanism for privacy loss `epsilon` (in [`EPSILON_RANGE`](super::EPSILON_RANGE)), ℓ1 sensitivity `sensitivity` (in
    /// the records' units) and records of `dim` entries.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for ε outside [`EPSILON_RANGE`](super::EPSILON_RANGE), a sensitivity outside
    /// [`SENSITIVITY_RANGE`], `dim = 0`, or a scale `(2⁴¹ + 2d)/ε` of `2⁶³` grid steps or more (`d/ε`
    /// above about `2⁶¹`).
    pub fn new(epsilon: f64, sensitivity: f64, dim: usize) -> Result<Self> {
        check_epsilon(epsilon)?;
        check_sensitivity(sensitivity)?;
        check_dim(dim)?;
        let granularity = power_of_two_at_least(sensitivity / (1u64 << 41) as f64);
        let distance = libm::ceil(sensitivity / granularity) + 2.0 * dim as f64;
        let steps = libm::ceil(distance / epsilon * UPWARD);
        if steps.is_nan() || steps >= (1u64 << 63) as f64 {
            return Err(Error::InvalidParameter {
                name: "dim",
                reason: "the Laplace scale in grid steps, (sensitivity/step + 2 dim)/epsilon, exceeds 2^63",
            });
        }
        Ok(Self {
            epsilon,
            dim,
            granularity,
            steps: steps as u64,
        })
    }

    /// The grid step `γ` (a power of two) of every message.
    pub fn granularity(&self) -> f64 {
        self.granularity
    }

    /// The noise scale `tγ` in the records' units (at least `Δ₁/ε`).
    pub fn scale(&self) -> f64 {
        self.steps as f64 * self.granularity
    }

    /// The variance of each coordinate's noise, `2q/(1 − q)² γ²` with `q = e^(−1/t)` (`≈ 2b²`); the
    /// rounding onto the grid adds at most `γ²/4` (a relative `2⁻⁶⁰`).
    pub fn variance(&self) -> f64 {
        let x = 1.0 / self.steps as f64;
        let (q, one_minus_q) = (libm::exp(-x), -libm::expm1(-x));
        2.0 * q / (one_minus_q * one_minus_q) * self.granularity * self.granularity
    }

    /// Pure ε.
    pub fn guarantee(&self) -> Guarantee {
        Guarantee::pure(self.epsilon)
    }

    /// Writes the message `γ(round(v/γ) + Z)`, `Z` discrete Laplace of scale `t` per entry, into `out`.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::DimensionMismatch`] (`v` not of the mechanism's dimension, `out` not
    /// `v`'s length), [`Error::NonFinite`] (an entry not finite, or beyond `2¹⁰⁰` grid steps).
    pub fn privatize<T: Real, R: RngCore + ?Sized>(&self, v: &[T], out: &mut [T], rng: &mut R) -> Result<()> {
        check_record(v, out, self.dim)?;
        let (t, g) = (self.steps, self.granularity);
        on_grid(v, g, rng, |i, k, rng| {
            out[i] = from_grid(k.saturating_add(discrete_laplace(rng, t)), g);
        })
    }
}

/// The smallest δ for which ρ-zero-concentrated DP implies (ε, δ)-DP, by the conversion of Canonne, Kamath &
/// Steinke (2020, Corollary 13): `δ = inf_{α>1} exp((α − 1)(αρ − ε)) / (α − 1) · (1 − 1/α)^α`. Every α
/// gives a valid δ; the minimising α is found by bisection on the derivative of the exponent, and the
/// exponent is raised by `10⁻¹²` of its terms' magnitudes to cover their rounding. `ρ = 0` gives 0; a
/// NaN gives 1 (no guarantee).
pub fn zcdp_delta(rho: f64, epsilon: f64) -> f64 {
    if rho.is_nan() || epsilon.is_nan() {
        return 1.0;
    }
    if rho <= 0.0 {
        return 0.0;
    }
    let exponent = |a: f64| {
        let terms = [
            (a - 1.0) * (a * rho - epsilon),
            a * libm::log1p(-1.0 / a),
            -libm::log(a - 1.0),
        ];
        let magnitude: f64 = terms.iter().map(|t| libm::fabs(*t)).sum();
        terms.iter().sum::<f64>() + 1e-12 * (1.0 + magnitude)
    };
    let (mut lo, mut hi) = (1.0 + 1e-9, (epsilon + 1.0) / (2.0 * rho) + 2.0);
    for _ in 0..200 {
        let a = 0.5 * (lo + hi);
        // d/dα of the exponent (the ±1/(α − 1) of its last two terms cancel).
        let slope = (2.0 * a - 1.0) * rho - epsilon + libm::log1p(-1.0 / a);
        if slope < 0.0 {
            lo = a;
        } else {
            hi = a;
        }
    }
    libm::exp(exponent(0.5 * (lo + hi))).min(1.0)
}

/// The Gaussian mechanism on a grid, safe in floating point: `(ε, δ)`-LDP for records whose ℓ2 distance is
/// at most `Δ₂`. Unbiased; variance `σ²` per coordinate, plus at most `γ²/4` from the rounding.
///
/// The noise is the **discrete Gaussian** `N_ℤ(0, σ²)` on the grid `γℤ` (Canonne, Kamath & Steinke 2020,
/// sampled exactly in integers by [`crate::random::exact::discrete_gaussian`]), as the US Census
/// Bureau's 2020 disclosure avoidance and OpenDP use it. Its guarantee: with ℓ2 sensitivity `Δ` in grid
/// steps it is `Δ²/(2σ²)`-zCDP in any dimension (their Theorem 14), turned into (ε, δ) by
/// [`zcdp_delta`]. The calibration takes the smallest ratio `σ/Δ` whose δ is at most `δ(1 − 10⁻⁹)`.
/// That `σ/Δ` is above Balle & Wang's analytic calibration of the continuous Gaussian (exact only in real
/// arithmetic) by 3 % at ε = 100, 8 % at ε = 1, δ = 10⁻⁵, 18 % at ε = 0.1, δ = 10⁻³, and up to about
/// 50 % at ε near 10⁻⁶. Unbiased randomized rounding puts a record on the grid and moves neighbours apart
/// by at most `2√d` steps more, which the integer σ includes; the grid step `γ` is the finest power of two
/// that keeps `σ` within `2²⁸` steps (the sampler's exact range), so that term is as small as it can be;
/// anything computed from the integer message alone (its `T` value) keeps the guarantee. The sampler
/// redraws the noise beyond `64(⌊σ⌋ + 1)` steps; that truncated mechanism is within a total variation of
/// `d e^(−2048)` of the zCDP one, which adds at most `d(e^ε + 1)e^(−2048)` to δ — covered by the
/// `10⁻⁹ δ` the calibration keeps back for every δ the range allows (and for the conversion's rounding).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian {
    epsilon: f64,
    delta: f64,
    dim: usize,
    granularity: f64,
    /// `σ²` in grid steps squared.
    variance_steps: u64,
}

impl Gaussian {
    /// The mechanism for `(epsilon, delta)` (ε in [`EPSILON_RANGE`](super::EPSILON_RANGE), δ in `(0, 1)`), ℓ2 sensitivity
    /// `sensitivity` (in the records' units) and records of `dim` entries.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for ε outside [`EPSILON_RANGE`](super::EPSILON_RANGE), δ outside `[10⁻³⁰⁰, 1)`, a
    /// sensitivity outside [`SENSITIVITY_RANGE`], `dim = 0`, or a `dim` whose rounding term `2√d` would
    /// leave fewer than 64 steps of the sensitivity within the sampler's range (`√d σ/Δ` above about
    /// `2²¹`: `d` above about 10⁶ at ε = 1, above about 10³ at ε = 10⁻⁴).
    pub fn new(epsilon: f64, delta: f64, sensitivity: f64, dim: usize) -> Result<Self> {
        check_epsilon(epsilon)?;
        check_sensitivity(sensitivity)?;
        check_dim(dim)?;
        if !(1e-300..1.0).contains(&delta) {
            return Err(Error::InvalidParameter {
                name: "delta",
                reason: "must lie in [1e-300, 1)",
            });
        }
        let ratio = Self::noise_ratio(epsilon, delta * (1.0 - 1e-9));
        // The finest grid whose σ = ratio·(Δ/γ + 2√d) stays within the sampler's 2²⁸ steps (with room for
        // the upward roundings): Δ/γ at most `room`, and at least half of it.
        let budget = 0.999 * libm::sqrt(crate::random::exact::MAX_GAUSSIAN_VARIANCE as f64);
        let room = budget / ratio - 2.0 * libm::sqrt(dim as f64);
        if room.is_nan() || room < 128.0 {
            return Err(Error::InvalidParameter {
                name: "dim",
                reason: "records this long need a grid so coarse that rounding onto it would dominate the Gaussian noise",
            });
        }
        let granularity = power_of_two_at_least(sensitivity / room);
        let distance = (sensitivity / granularity + 2.0 * libm::sqrt(dim as f64)) * UPWARD;
        let steps = ratio * distance * UPWARD;
        let variance_steps = libm::ceil(steps * steps * UPWARD);
        debug_assert!(variance_steps <= crate::random::exact::MAX_GAUSSIAN_VARIANCE as f64);
        Ok(Self {
            epsilon,
            delta,
            dim,
            granularity,
            variance_steps: variance_steps as u64,
        })
    }

    /// The smallest `σ/Δ` (to a relative `10⁻¹²`, rounded up) with `zcdp_delta(Δ²/(2σ²), ε) ≤ δ`.
    fn noise_ratio(epsilon: f64, delta: f64) -> f64 {
        // delta ≥ 1e-300·(1 − 1e-9): the bisection below ends.
        let delta_at = |r: f64| zcdp_delta(0.5 / (r * r), epsilon);
        let mut hi = 1.0;
        while delta_at(hi) > delta {
            hi *= 2.0;
        }
        let mut lo = hi;
        while delta_at(lo) <= delta && lo > 1e-300 {
            lo *= 0.5;
        }
        while hi - lo > 1e-12 * hi {
            let mid = 0.5 * (lo + hi);
            if delta_at(mid) > delta {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    }

    /// The grid step `γ` (a power of two) of every message.
    pub fn granularity(&self) -> f64 {
        self.granularity
    }

    /// The noise parameter σ in the records' units: `√(σ² in steps)·γ`, at least the calibrated
    /// `(σ/Δ)·Δ₂`.
    pub fn sigma(&self) -> f64 {
        libm::sqrt(self.variance_steps as f64) * self.granularity
    }

    /// The variance of each coordinate's noise, `σ²` (the discrete Gaussian's is below it by a relative
    /// `e^(−2π²σ²)`, nil at the thousands of steps σ spans; the rounding onto the grid adds at most `γ²/4`).
    pub fn variance(&self) -> f64 {
        let s = self.sigma();
        s * s
    }

    /// (ε, δ).
    pub fn guarantee(&self) -> Guarantee {
        Guarantee {
            epsilon: self.epsilon,
            delta: self.delta,
        }
    }

    /// Writes the message `γ(round(v/γ) + Z)`, `Z ~ N_ℤ(0, σ²)` per entry, into `out`.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::DimensionMismatch`], [`Error::NonFinite`] (an entry not finite, or
    /// beyond `2¹⁰⁰` grid steps).
    pub fn privatize<T: Real, R: RngCore + ?Sized>(&self, v: &[T], out: &mut [T], rng: &mut R) -> Result<()> {
        check_record(v, out, self.dim)?;
        let (s2, g) = (self.variance_steps, self.granularity);
        let mut failure = Ok(());
        on_grid(v, g, rng, |i, k, rng| match discrete_gaussian(rng, s2) {
            Ok(z) => out[i] = from_grid(k + i128::from(z), g),
            Err(e) => failure = Err(e),
        })?;
        failure
    }
}
