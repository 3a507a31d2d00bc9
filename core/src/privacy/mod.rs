//! Local differential privacy on the user's device: clipping, and randomizers that turn one record into one
//! message that may leave the device.
//!
//! A randomizer `M` is **(ε, δ)-locally differentially private** when for every pair of inputs `v, v'` and
//! every set `S` of messages, `P[M(v) ∈ S] ≤ e^ε P[M(v') ∈ S] + δ` (pure ε-LDP: `δ = 0`). Every randomizer
//! here states its guarantee ([`Guarantee`]), is **unbiased** (`E[M(v)] = v`, so a server averages messages)
//! and documents its variance. Each writes its message into a caller buffer and never allocates; the
//! randomness comes from the caller's seeded [`RngCore`], and all the arithmetic that decides a draw is done
//! in integers or in `f64` with `libm`, so a seed gives the same message bit for bit on a microcontroller
//! and on a workstation. ε lies in [`EPSILON_RANGE`].
//!
//! **Floating point.** Additive noise drawn as a floating-point variate (`x + b·ln u`) is not private: the
//! outputs reachable from one input form a lattice that another input's outputs mostly miss, an infinite
//! privacy loss (Mironov, CCS 2012). [`Laplace`] and [`Gaussian`] therefore put the record on a grid of
//! power-of-two step and add integer noise drawn exactly ([`crate::random::exact`]): every grid point is
//! reachable from every input, with the probabilities the proofs need. The other randomizers' outputs do
//! not depend on the input's low bits (a sign, a direction, a vertex), and the audit in the tests measures
//! all five.
//!
//! | randomizer | input | guarantee | message |
//! |---|---|---|---|
//! | [`Laplace`] | `‖v‖₁` sensitivity `Δ₁` | ε | `v` on a grid plus discrete Laplace noise of scale `≈ Δ₁/ε` |
//! | [`Gaussian`] | `‖v‖₂` sensitivity `Δ₂` | (ε, δ) | `v` on a grid plus discrete Gaussian noise, σ by zCDP |
//! | [`L2Ball`] | `‖v‖₂ ≤ r` | ε | `B u`, `u` on the unit sphere (Duchi, Jordan & Wainwright) |
//! | [`Hypercube`] | `‖v‖∞ ≤ r` | ε | a vertex of `[−B, B]^d` |
//! | [`RandomizedResponse`] | one bit | ε | the bit, flipped with probability `1/(1 + e^ε)` |
//!
//! The sensitivities are those of the record's contribution: a record clipped to the ℓ2 ball of radius `r`
//! ([`clip_l2`]) changes by at most `Δ₂ = 2r` when replaced by another; one clipped coordinatewise to
//! `[−c, c]^d` ([`clip_coordinates`]) by at most `Δ₁ = 2cd`.
//!
//! References: C. Dwork, A. Roth, *The Algorithmic Foundations of Differential Privacy* (2014) for the
//! Laplace and Gaussian mechanisms; C. Canonne, G. Kamath, T. Steinke, *The Discrete Gaussian for
//! Differential Privacy*, NeurIPS 2020, for their discrete forms and zCDP; I. Mironov, *On Significance of
//! the Least Significant Bits for Differential Privacy*, CCS 2012; J. Duchi, M. Jordan,
//! M. Wainwright, *Minimax Optimal Procedures for Locally Private Estimation*, JASA 2018 (the ℓ2-ball and
//! ℓ∞ randomizers); S. Warner, *Randomized Response*, JASA 1965.

use rand_core::RngCore;

use crate::Real;
use crate::error::{Error, Result};
use crate::random::{standard_normal, uniform_open01};

mod grid;
pub use grid::{Gaussian, Laplace, SENSITIVITY_RANGE, zcdp_delta};

/// The guarantee one message gives its user: `(ε, δ)`-local differential privacy (`δ = 0`: pure ε).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guarantee {
    /// The privacy loss bound ε (> 0).
    pub epsilon: f64,
    /// The failure probability δ (0 for pure ε-LDP).
    pub delta: f64,
}

impl Guarantee {
    /// Pure ε-LDP: `(ε, 0)`.
    pub fn pure(epsilon: f64) -> Self {
        Self { epsilon, delta: 0.0 }
    }

    /// The guarantee of `k` messages of this guarantee about the same record, by basic composition:
    /// `(kε, kδ)`.
    pub fn compose(self, k: usize) -> Self {
        Self {
            epsilon: self.epsilon * k as f64,
            delta: self.delta * k as f64,
        }
    }
}

fn check_epsilon(epsilon: f64) -> Result<()> {
    if EPSILON_RANGE.contains(&epsilon) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "epsilon",
            reason: "must lie in [1e-6, 500] (EPSILON_RANGE)",
        })
    }
}

fn check_dim(dim: usize) -> Result<()> {
    if dim == 0 {
        return Err(Error::InvalidParameter {
            name: "dim",
            reason: "must be at least 1",
        });
    }
    Ok(())
}

/// [`check_message`], and `v` of the mechanism's dimension.
fn check_record<T: Real>(v: &[T], out: &[T], dim: usize) -> Result<()> {
    check_message(v, out)?;
    if v.len() != dim {
        return Err(Error::DimensionMismatch {
            what: "record (the randomizer's dimension)",
            expected: dim,
            found: v.len(),
        });
    }
    Ok(())
}

fn check_positive(name: &'static str, x: f64) -> Result<()> {
    if x > 0.0 && x.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            reason: "must be positive and finite",
        })
    }
}

fn check_message<T: Real>(v: &[T], out: &[T]) -> Result<()> {
    if v.is_empty() {
        return Err(Error::Empty { what: "record" });
    }
    if out.len() != v.len() {
        return Err(Error::DimensionMismatch {
            what: "message buffer (one entry per record entry)",
            expected: v.len(),
            found: out.len(),
        });
    }
    if let Some(index) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite { what: "record", index });
    }
    Ok(())
}

/// `√(Σ vᵢ²)` in `f64`.
fn norm2<T: Real>(v: &[T]) -> f64 {
    libm::sqrt(dot_f64(v, v))
}

/// `Σ aᵢ bᵢ` over the common length, in `f64` whatever `T` is, in four interleaved partial sums (a fixed
/// order, the same on every platform, without one long chain of dependent additions).
fn dot_f64<T: Real>(a: &[T], b: &[T]) -> f64 {
    let mut lanes = [0.0; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for l in 0..4 {
            lanes[l] += x[l].to_f64_lossless() * y[l].to_f64_lossless();
        }
    }
    for (l, (x, y)) in ra.iter().zip(rb).enumerate() {
        lanes[l] += x.to_f64_lossless() * y.to_f64_lossless();
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

/// Scales `v` onto the ℓ2 ball of radius `radius` if it lies outside (`v ← v · min(1, r/‖v‖)`), and returns
/// its norm before clipping.
///
/// # Errors
/// [`Error::InvalidParameter`] for a radius that is not positive and finite; [`Error::NonFinite`] for a
/// non-finite entry.
pub fn clip_l2<T: Real>(v: &mut [T], radius: T) -> Result<f64> {
    let r = radius.to_f64_lossless();
    check_positive("radius", r)?;
    if let Some(index) = v.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite { what: "record", index });
    }
    let norm = norm2(v);
    if norm > r {
        let s = r / norm;
        v.iter_mut().for_each(|x| *x = T::lit(x.to_f64_lossless() * s));
    }
    Ok(norm)
}

/// Clamps every entry of `v` to `[−bound, bound]` (NaN entries are an error, not clamped).
///
/// # Errors
/// [`Error::InvalidParameter`] for a bound that is not positive and finite; [`Error::NonFinite`] for a NaN.
pub fn clip_coordinates<T: Real>(v: &mut [T], bound: T) -> Result<()> {
    check_positive("bound", bound.to_f64_lossless())?;
    if let Some(index) = v.iter().position(|x| x.is_nan()) {
        return Err(Error::NonFinite { what: "record", index });
    }
    v.iter_mut().for_each(|x| *x = x.max(-bound).min(bound));
    Ok(())
}

/// The stated range of ε for every randomizer here: `[10⁻⁶, 500]`. Below it the noise swamps any signal
/// and the integer samplers' scales leave their exact range; above it `e^ε` nears the end of `f64`
/// (`e^710` overflows), and a message says nearly all about its record anyway.
pub const EPSILON_RANGE: core::ops::RangeInclusive<f64> = 1e-6..=500.0;

/// The draw between a truthful side (probability `p ≈ e^ε/(1 + e^ε)`) and the other one, quantised so that
/// floating point cannot break ε: the other side is taken when a 53-bit uniform integer falls below
/// `m = max(1, ⌈2⁵³ q⌉)`, `q = 1/(1 + e^ε)` (rounded upwards). Then `1 − p = m/2⁵³ ≥ q` exactly, so
/// `p/(1 − p) ≤ (1 − q)/q = e^ε`, and `m ≤ 2⁵²` keeps the reverse ratio at most 1. A floating-point
/// `u < e^ε/(1 + e^ε)` is not private at large ε: from ε ≈ 36.7 the probability rounds to 1 and the
/// truthful side is always sent. Here, beyond that ε, `m = 1` and the loss is `ln(2⁵³ − 1) ≈ 36.7`, below
/// the one stated. The randomizers derive their scales from the quantised `p`, so they stay unbiased.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Truthful {
    /// `m`: the other side is drawn with probability `m/2⁵³`.
    other: u64,
}

impl Truthful {
    fn new(epsilon: f64) -> Self {
        let e = libm::exp(-epsilon);
        let q = e / (1.0 + e);
        let m = libm::ceil(q * (1u64 << 53) as f64 * (1.0 + 1.0 / (1u64 << 50) as f64));
        Self {
            other: (m as u64).clamp(1, 1 << 52),
        }
    }

    /// `p`, exactly.
    fn probability(&self) -> f64 {
        1.0 - self.other as f64 / (1u64 << 53) as f64
    }

    /// `1/(2p − 1)`, the factor that makes a message unbiased.
    fn amplify(&self) -> f64 {
        1.0 / (2.0 * self.probability() - 1.0)
    }

    /// Whether this draw takes the truthful side.
    fn draw<R: RngCore + ?Sized>(&self, rng: &mut R) -> bool {
        (rng.next_u64() >> 11) >= self.other
    }
}

/// Whether a draw with probability `p` succeeds.
fn bernoulli<R: RngCore + ?Sized>(rng: &mut R, p: f64) -> bool {
    uniform_open01(rng) < p
}

/// The ℓ2-ball randomizer of Duchi, Jordan & Wainwright (2018): for `‖v‖₂ ≤ r`, pure ε-LDP and unbiased.
///
/// The message: `ṽ = ±r v/‖v‖` with the sign `+` with probability `½ + ‖v‖/(2r)` (drawn once per vector);
/// a direction `u` uniform on the unit sphere, kept in the half-space `⟨u, ṽ⟩ ≥ 0` with probability
/// `p = e^ε/(1 + e^ε)` and moved to the other one otherwise; the message is `B u` with
/// `B = r (e^ε + 1)/(e^ε − 1) · √π Γ((d + 1)/2)/Γ(d/2)` (`1/E|u₁|` for `u` uniform on the sphere), which
/// makes `E[B u] = v`. The density of `u` is `2p` or `2(1 − p)` times the uniform one whatever `v` is, so
/// the ratio for any two inputs is at most `p/(1 − p) ≤ e^ε` (`p` quantised so that this holds in floating
/// point, see `Truthful`). Every message has norm `B`, so the variance
/// is `E‖B u − v‖² = B² − ‖v‖²` (at most `B² ≈ r² d π/2 · ((e^ε+1)/(e^ε−1))²`). The Gamma ratio is
/// computed through log-gamma, so it holds for any `d`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct L2Ball {
    epsilon: f64,
    radius: f64,
    dim: usize,
    scale: f64,
    keep: Truthful,
}

impl L2Ball {
    /// The randomizer for records of dimension `dim` in the ℓ2 ball of radius `radius`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for ε outside [`EPSILON_RANGE`], a radius not positive and finite, or
    /// `dim = 0`.
    pub fn new(epsilon: f64, radius: f64, dim: usize) -> Result<Self> {
        check_epsilon(epsilon)?;
        check_positive("radius", radius)?;
        check_dim(dim)?;
        let d = dim as f64;
        let gamma_ratio = libm::exp(libm::lgamma(0.5 * (d + 1.0)) - libm::lgamma(0.5 * d));
        let keep = Truthful::new(epsilon);
        Ok(Self {
            epsilon,
            radius,
            dim,
            scale: radius * keep.amplify() * libm::sqrt(core::f64::consts::PI) * gamma_ratio,
            keep,
        })
    }

    /// The norm `B` of every message.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The total variance `E‖M(v) − v‖² = B² − ‖v‖²` for a record of norm `norm`.
    pub fn variance(&self, norm: f64) -> f64 {
        self.scale * self.scale - norm * norm
    }

    /// Pure ε.
    pub fn guarantee(&self) -> Guarantee {
        Guarantee::pure(self.epsilon)
    }

    /// Writes the message for `v` into `out` (`‖v‖₂ ≤ r`: clip first with [`clip_l2`]; a norm above `r` by
    /// more than rounding is an error).
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::DimensionMismatch`] (`v` or `out` not of the randomizer's dimension),
    /// [`Error::NonFinite`], [`Error::InvalidParameter`] (`v` outside the ball).
    pub fn privatize<T: Real, R: RngCore + ?Sized>(&self, v: &[T], out: &mut [T], rng: &mut R) -> Result<()> {
        check_record(v, out, self.dim)?;
        let norm = norm2(v);
        if norm > self.radius * (1.0 + 1e-6) {
            return Err(Error::InvalidParameter {
                name: "record",
                reason: "lies outside the randomizer's l2 ball; clip it first (clip_l2)",
            });
        }
        let plus = bernoulli(rng, 0.5 + 0.5 * (norm / self.radius).min(1.0));
        let keep = self.keep.draw(rng);
        // A uniform direction: d standard normals, normalised (an all-zero draw has probability 0 but is
        // redrawn all the same).
        let mut length2 = 0.0;
        while length2 == 0.0 {
            out.iter_mut().for_each(|o| *o = T::lit(standard_normal(rng)));
            length2 = dot_f64(out, out);
        }
        let dot = dot_f64(out, v);
        // ⟨u, ṽ⟩ with ṽ along ±v (along the first axis for v = 0, where both signs are equally likely).
        let side = if norm > 0.0 { dot } else { out[0].to_f64_lossless() };
        let along = (side >= 0.0) == plus;
        let factor = if along == keep { self.scale } else { -self.scale } / libm::sqrt(length2);
        out.iter_mut().for_each(|o| *o = T::lit(o.to_f64_lossless() * factor));
        Ok(())
    }
}

/// The ℓ∞ (hypercube) randomizer of Duchi, Jordan & Wainwright (2018): for `‖v‖∞ ≤ r`, pure ε-LDP and
/// unbiased; the message is a vertex of `[−B, B]^d`.
///
/// Each coordinate draws `s_j = ±1` with `+` at probability `½ + v_j/(2r)` (so `E[r s] = v`); with
/// probability `p = e^ε/(1 + e^ε)` the message is uniform among the vertices `z` with `⟨z, s⟩ > 0`, otherwise
/// among those with `⟨z, s⟩ < 0` (for even `d` the vertices with `⟨z, s⟩ = 0` are never sent). The density
/// of a vertex is `2p/(2^d − c)` or `2(1 − p)/(2^d − c)` whatever `v` is (`c` the number of tied
/// vertices), so the ratio is at most `e^ε`. With `ρ_d = E[⟨z, s⟩/d | ⟨z, s⟩ > 0] =
/// 2 C(d−1, ⌊(d−1)/2⌋)/(2^d − [d even] C(d, d/2))` (log-gamma), `B = r (e^ε+1)/(e^ε−1) / ρ_d` makes it
/// unbiased; `ρ_d ≈ √(2/(π d))`. Every message has `‖z‖² = d B²`, so the variance is `d B² − ‖v‖²`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hypercube {
    epsilon: f64,
    bound: f64,
    dim: usize,
    scale: f64,
}

impl Hypercube {
    /// The randomizer for records of dimension `dim` in `[−bound, bound]^dim`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for ε outside [`EPSILON_RANGE`], a bound not positive and finite, or
    /// `dim = 0`.
    pub fn new(epsilon: f64, bound: f64, dim: usize) -> Result<Self> {
        check_epsilon(epsilon)?;
        check_positive("bound", bound)?;
        check_dim(dim)?;
        let ln_choose = |n: f64, k: f64| libm::lgamma(n + 1.0) - libm::lgamma(k + 1.0) - libm::lgamma(n - k + 1.0);
        let d = dim as f64;
        let half = ((dim - 1) / 2) as f64;
        // ln ρ_d = ln 2 + ln C(d−1, ⌊(d−1)/2⌋) − d ln 2 − ln(1 − [d even] C(d, d/2)/2^d).
        let ties = if dim.is_multiple_of(2) {
            libm::exp(ln_choose(d, 0.5 * d) - d * core::f64::consts::LN_2)
        } else {
            0.0
        };
        let ln_rho = (1.0 - d) * core::f64::consts::LN_2 + ln_choose(d - 1.0, half) - libm::log1p(-ties);
        Ok(Self {
            epsilon,
            bound,
            dim,
            scale: bound * Truthful::new(epsilon).amplify() * libm::exp(-ln_rho),
        })
    }

    /// The magnitude `B` of every coordinate of a message.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The total variance `E‖M(v) − v‖² = d B² − ‖v‖²` for a record of ℓ2 norm `norm`.
    pub fn variance(&self, norm: f64) -> f64 {
        self.dim as f64 * self.scale * self.scale - norm * norm
    }

    /// Pure ε.
    pub fn guarantee(&self) -> Guarantee {
        Guarantee::pure(self.epsilon)
    }

    /// Writes the message for `v` into `out` (`‖v‖∞ ≤ r`: clip first with [`clip_coordinates`]).
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::DimensionMismatch`], [`Error::NonFinite`], [`Error::InvalidParameter`]
    /// (an entry outside `[−r, r]`).
    pub fn privatize<T: Real, R: RngCore + ?Sized>(&self, v: &[T], out: &mut [T], rng: &mut R) -> Result<()> {
        check_record(v, out, self.dim)?;
        if v.iter()
            .any(|x| libm::fabs(x.to_f64_lossless()) > self.bound * (1.0 + 1e-6))
        {
            return Err(Error::InvalidParameter {
                name: "record",
                reason: "has an entry outside the randomizer's bound; clip it first (clip_coordinates)",
            });
        }
        let keep = Truthful::new(self.epsilon).draw(rng);
        // a_j = z_j s_j is uniform on {±1}^d whatever s is, and ⟨z, s⟩ = Σ a_j: draw the agreements first
        // (redrawing ties), put them on the chosen side, then draw s and write z = B s ⊙ a. No buffer
        // beyond `out` is needed.
        loop {
            let mut sum: i64 = 0;
            let mut bits = 0u64;
            for (j, o) in out.iter_mut().enumerate() {
                if j % 64 == 0 {
                    bits = rng.next_u64();
                }
                let a = if (bits >> (j % 64)) & 1 == 1 { 1.0 } else { -1.0 };
                sum += a as i64;
                *o = T::lit(a);
            }
            if sum != 0 {
                if (sum > 0) != keep {
                    out.iter_mut().for_each(|o| *o = -*o);
                }
                break;
            }
        }
        for (o, x) in out.iter_mut().zip(v) {
            let plus = bernoulli(rng, 0.5 + 0.5 * (x.to_f64_lossless() / self.bound).clamp(-1.0, 1.0));
            let s = if plus { self.scale } else { -self.scale };
            *o = T::lit(o.to_f64_lossless() * s);
        }
        Ok(())
    }
}

/// Randomized response (Warner 1965) for one bit: the bit is sent as it is with probability
/// `p ≈ e^ε/(1 + e^ε)` (quantised so that `p/(1 − p) ≤ e^ε` holds exactly) and flipped otherwise — pure ε-LDP. [`RandomizedResponse::debias`] turns a received
/// bit into an unbiased estimate of the true one, with variance `p(1 − p)/(2p − 1)²`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomizedResponse {
    epsilon: f64,
    keep: Truthful,
}

impl RandomizedResponse {
    /// The randomizer for privacy loss `epsilon`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for ε outside [`EPSILON_RANGE`].
    pub fn new(epsilon: f64) -> Result<Self> {
        check_epsilon(epsilon)?;
        Ok(Self {
            epsilon,
            keep: Truthful::new(epsilon),
        })
    }

    /// The probability `p` that the bit is sent as it is.
    pub fn keep_probability(&self) -> f64 {
        self.keep.probability()
    }

    /// Pure ε.
    pub fn guarantee(&self) -> Guarantee {
        Guarantee::pure(self.epsilon)
    }

    /// The message for `bit`.
    pub fn privatize<R: RngCore + ?Sized>(&self, bit: bool, rng: &mut R) -> bool {
        if self.keep.draw(rng) { bit } else { !bit }
    }

    /// The unbiased estimate `(b − (1 − p))/(2p − 1)` of the true bit (as 0 or 1) from a received one.
    pub fn debias(&self, received: bool) -> f64 {
        let b = if received { 1.0 } else { 0.0 };
        let p = self.keep.probability();
        (b - (1.0 - p)) / (2.0 * p - 1.0)
    }

    /// The variance of [`RandomizedResponse::debias`]: `p(1 − p)/(2p − 1)²`.
    pub fn variance(&self) -> f64 {
        let p = self.keep.probability();
        p * (1.0 - p) / ((2.0 * p - 1.0) * (2.0 * p - 1.0))
    }
}
