//! Exact samplers on the integers, for privacy mechanisms whose proofs need the stated distribution and
//! not a floating-point approximation of it (Mironov, *On Significance of the Least Significant Bits for
//! Differential Privacy*, CCS 2012, shows what the approximation costs).
//!
//! Everything here is integer arithmetic on uniform draws from the caller's [`RngCore`]: uniform integers by
//! rejection, Bernoulli trials with rational and `exp(−rational)` probabilities, and the discrete Laplace and
//! discrete Gaussian distributions by the algorithms of C. Canonne, G. Kamath, T. Steinke, *The Discrete
//! Gaussian for Differential Privacy*, NeurIPS 2020 (Algorithms 1–3), as OpenDP and Google's
//! differential-privacy library sample them. No floating-point operation decides a draw, so a seed gives the
//! same integers on every platform.

use rand_core::RngCore;

use crate::error::{Error, Result};

/// A uniform integer in `[0, n)` for `n ≥ 1` (`n = 0` gives 0), by rejection of the draws above the largest
/// multiple of `n`: exactly uniform. One 64-bit draw per try when `n ≤ 2⁶⁴`, two otherwise; a try is
/// rejected with probability below ½.
pub fn uniform_below<R: RngCore + ?Sized>(rng: &mut R, n: u128) -> u128 {
    if n <= 1 {
        return 0;
    }
    if let Ok(n) = u64::try_from(n) {
        // 2⁶⁴ mod n draws at the bottom are rejected, so that every residue has the same count.
        let reject = n.wrapping_neg() % n;
        loop {
            let x = rng.next_u64();
            if x >= reject {
                return u128::from(x % n);
            }
        }
    }
    let reject = n.wrapping_neg() % n;
    loop {
        let x = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        if x >= reject {
            return x % n;
        }
    }
}

/// A Bernoulli trial with success probability `num/den` (`num ≤ den`, `den ≥ 1`; above 1 always succeeds).
pub fn bernoulli_ratio<R: RngCore + ?Sized>(rng: &mut R, num: u128, den: u128) -> bool {
    uniform_below(rng, den) < num
}

/// A Bernoulli trial with success probability `exp(−num/den)` for `0 ≤ num ≤ den` (Canonne, Kamath &
/// Steinke, Algorithm 1, first part): count `K` while trials of probability `γ/K` succeed; success when
/// `K` is odd. The trial of probability `γ/K` is a trial of `γ` and one of `1/K`, so no product overflows.
fn bernoulli_exp_unit<R: RngCore + ?Sized>(rng: &mut R, num: u128, den: u128) -> bool {
    let mut k: u128 = 1;
    while bernoulli_ratio(rng, num, den) && bernoulli_ratio(rng, 1, k) {
        k += 1;
    }
    k % 2 == 1
}

/// A Bernoulli trial with success probability `exp(−num/den)` for any `num ≥ 0`, `den ≥ 1` (Canonne, Kamath
/// & Steinke, Algorithm 1): `⌊num/den⌋` trials of probability `e⁻¹` that must all succeed, then one of
/// `exp(−(num mod den)/den)`.
pub fn bernoulli_exp<R: RngCore + ?Sized>(rng: &mut R, num: u128, den: u128) -> bool {
    let den = den.max(1);
    let mut whole = num / den;
    while whole > 0 {
        if !bernoulli_exp_unit(rng, 1, 1) {
            return false;
        }
        whole -= 1;
    }
    bernoulli_exp_unit(rng, num % den, den)
}

/// A draw from the discrete Laplace distribution of scale `t ≥ 1` (`t = 0` is read as 1):
/// `P[Z = z] = (1 − q)/(1 + q) · q^|z|` with `q = e^(−1/t)` on all of ℤ; variance `2q/(1 − q)²`
/// (`≈ 2t²` for large `t`). Canonne, Kamath & Steinke, Algorithm 2 with `s = 1`: `U` uniform in `[0, t)`
/// kept with probability `e^(−U/t)`, `V` geometric with ratio `e⁻¹`, `|Z| = U + tV`, a fair sign (a
/// negative zero redrawn). Exact for every `t`; a `|Z|` beyond the `i128` range would need about
/// `2⁶⁴` consecutive successes of the geometric draw.
pub fn discrete_laplace<R: RngCore + ?Sized>(rng: &mut R, t: u64) -> i128 {
    let t = u128::from(t.max(1));
    loop {
        let u = uniform_below(rng, t);
        if !bernoulli_exp_unit(rng, u, t) {
            continue;
        }
        let mut v: u128 = 0;
        while bernoulli_exp_unit(rng, 1, 1) {
            v = v.saturating_add(1);
        }
        let magnitude = u.saturating_add(t.saturating_mul(v)).min(i128::MAX as u128) as i128;
        let negative = rng.next_u64() & 1 == 1;
        if negative && magnitude == 0 {
            continue;
        }
        return if negative { -magnitude } else { magnitude };
    }
}

/// The largest `σ²` (in grid steps squared) [`discrete_gaussian`] accepts: `2⁵⁶`, so that its acceptance
/// test stays within 128-bit integers.
pub const MAX_GAUSSIAN_VARIANCE: u64 = 1 << 56;

/// How many standard deviations [`discrete_gaussian`] reaches: draws beyond `64σ` are redrawn. This
/// truncation moves the distribution by a total variation below `e^(−2000)` per draw (a term far below
/// any δ a mechanism states), and keeps every product of the acceptance test within 128 bits.
pub const GAUSSIAN_REACH: u64 = 64;

/// A draw from the discrete Gaussian `N_ℤ(0, σ²)`, `P[Z = z] ∝ exp(−z²/(2σ²))` on the integers with
/// `|z| ≤ 64σ` (see [`GAUSSIAN_REACH`]), for an integer variance parameter `sigma2 = σ²` (Canonne,
/// Kamath & Steinke, Algorithm 3): `Y` discrete Laplace of scale `t = ⌊σ⌋ + 1`, kept with probability
/// `exp(−(|Y| − σ²/t)²/(2σ²))`, evaluated as the exact rational `(|Y| t − σ²)²/(2σ² t²)`. Its variance
/// is below `σ²`.
///
/// # Errors
/// [`Error::InvalidParameter`] for `sigma2` of 0 or above [`MAX_GAUSSIAN_VARIANCE`].
pub fn discrete_gaussian<R: RngCore + ?Sized>(rng: &mut R, sigma2: u64) -> Result<i64> {
    if sigma2 == 0 || sigma2 > MAX_GAUSSIAN_VARIANCE {
        return Err(Error::InvalidParameter {
            name: "sigma2",
            reason: "the discrete Gaussian's variance parameter must lie in [1, 2^56] grid steps squared",
        });
    }
    let s = isqrt(sigma2);
    let t = s + 1;
    // ⌈64σ⌉ ≤ 64(s + 1): with s ≤ 2²⁸, |Y| t ≤ 2^34.1 · 2^28 and every square below fits in 128 bits.
    let reach = u128::from(GAUSSIAN_REACH * t);
    let (sigma2, t) = (u128::from(sigma2), u128::from(t));
    let den = 2 * sigma2 * t * t;
    loop {
        let y = discrete_laplace(rng, t as u64);
        let magnitude = y.unsigned_abs();
        if magnitude > reach {
            continue;
        }
        let gap = (magnitude * t).abs_diff(sigma2);
        if bernoulli_exp(rng, gap * gap, den) {
            return Ok(y as i64);
        }
    }
}

/// `⌊√n⌋`, exactly (Newton's iteration on integers from an upper bound).
pub fn isqrt(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let mut x = n;
    let mut y = n / 2 + (n & 1);
    while y < x {
        x = y;
        y = (x + n / x) / 2;
    }
    x
}
