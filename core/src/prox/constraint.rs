use super::{Prox, check_step};
use crate::Real;
use crate::error::{Error, Result};

/// The indicator of the box `lower ≤ xᵢ ≤ upper` (0 inside, `+∞` outside); its proximal map is the projection
/// `clamp(v, lower, upper)`. Bounds may be infinite: [`BoxConstraint::nonnegative`] is `[0, +∞)`.
#[derive(Debug, Clone, Copy)]
pub struct BoxConstraint<T> {
    lower: T,
    upper: T,
}

impl<T: Real> BoxConstraint<T> {
    /// The box `[lower, upper]`; needs `lower ≤ upper` and neither NaN.
    pub fn new(lower: T, upper: T) -> Result<Self> {
        if lower.is_nan() || upper.is_nan() || lower > upper {
            return Err(Error::InvalidParameter {
                name: "lower, upper",
                reason: "need lower <= upper, neither NaN",
            });
        }
        Ok(Self { lower, upper })
    }
    /// The non-negative orthant `x ≥ 0`.
    pub fn nonnegative() -> Self {
        Self {
            lower: T::zero(),
            upper: T::infinity(),
        }
    }
}

impl<T: Real> Prox<T> for BoxConstraint<T> {
    fn prox(&self, step: T, x: &mut [T]) -> Result<()> {
        check_step(step)?;
        x.iter_mut().for_each(|v| *v = v.max(self.lower).min(self.upper));
        Ok(())
    }
    fn value(&self, x: &[T]) -> Result<T> {
        let inside = x.iter().all(|&v| v >= self.lower && v <= self.upper);
        Ok(if inside { T::zero() } else { T::infinity() })
    }
}

/// The indicator of a box with bounds of its own per coordinate, repeating with a period: coordinate `i`
/// lies in `[lower[i mod p], upper[i mod p]]`, `p = lower.len()`. One box per control input, repeated over the
/// steps of a horizon (time-major vectors), needs only the `p` bounds of one step. Its proximal map is the
/// projection (a clamp per coordinate). Bounds may be infinite.
#[derive(Debug, Clone, Copy)]
pub struct PeriodicBox<'a, T> {
    lower: &'a [T],
    upper: &'a [T],
}

impl<'a, T: Real> PeriodicBox<'a, T> {
    /// The boxes `[lower[j], upper[j]]`; needs equal, non-zero lengths, `lower[j] ≤ upper[j]` and no NaN.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::DimensionMismatch`], or [`Error::InvalidParameter`] for an empty box (or a
    /// NaN bound).
    pub fn new(lower: &'a [T], upper: &'a [T]) -> Result<Self> {
        if lower.is_empty() {
            return Err(Error::Empty { what: "box bounds" });
        }
        crate::error::check_len("upper (as lower)", lower.len(), upper.len())?;
        if lower.iter().zip(upper).any(|(l, u)| l.is_nan() || u.is_nan() || l > u) {
            return Err(Error::InvalidParameter {
                name: "lower, upper",
                reason: "need lower <= upper in every coordinate, neither NaN",
            });
        }
        Ok(Self { lower, upper })
    }
}

impl<T: Real> Prox<T> for PeriodicBox<'_, T> {
    fn prox(&self, step: T, x: &mut [T]) -> Result<()> {
        check_step(step)?;
        let bounds = self.lower.iter().zip(self.upper).cycle();
        x.iter_mut().zip(bounds).for_each(|(v, (&l, &u))| *v = v.max(l).min(u));
        Ok(())
    }
    fn value(&self, x: &[T]) -> Result<T> {
        let mut bounds = self.lower.iter().zip(self.upper).cycle();
        let inside = x.iter().zip(&mut bounds).all(|(&v, (&l, &u))| v >= l && v <= u);
        Ok(if inside { T::zero() } else { T::infinity() })
    }
}

/// The zero penalty `g = 0`: its proximal map is the identity, so forward–backward becomes (accelerated)
/// gradient descent on the smooth term alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct Zero;

impl<T: Real> Prox<T> for Zero {
    fn prox(&self, step: T, _x: &mut [T]) -> Result<()> {
        check_step(step)
    }
    fn value(&self, _x: &[T]) -> Result<T> {
        Ok(T::zero())
    }
}

/// The indicator of the `k`-sparse vectors, `‖x‖₀ ≤ k` (0 inside, `+∞` outside). Its proximal map, the
/// projection, keeps the `k` entries of largest magnitude (ties broken towards the lower index) and zeroes
/// the rest: forward–backward with it is iterative hard thresholding (IHT; Blumensath & Davies 2009).
///
/// The projection needs no scratch: it finds the `k`-th largest magnitude by at most `k` scans for
/// `k ≤ 64`, and otherwise by bisection on the magnitudes' IEEE bit patterns (non-negative floats order as
/// their bits), 64 counting scans whatever `k` — `O(n·min(k, 64))`.
#[derive(Debug, Clone, Copy)]
pub struct TopK {
    k: usize,
}

impl TopK {
    /// The set of vectors with at most `k` non-zero entries.
    pub fn new(k: usize) -> Self {
        Self { k }
    }
}

/// The `k`-th largest magnitude of `x` (`1 ≤ k < x.len()`, `x` finite), by descending through the distinct
/// magnitudes until `k` entries are covered: `k` scans at most.
fn kth_magnitude_by_scans<T: Real>(x: &[T], k: usize) -> T {
    let mut threshold = T::infinity();
    let mut covered = 0; // entries with magnitude > threshold
    loop {
        let next = x
            .iter()
            .map(|v| v.abs())
            .filter(|&a| a < threshold)
            .fold(T::neg_infinity(), T::max);
        covered += x.iter().filter(|v| v.abs() == next).count();
        threshold = next;
        if covered >= k {
            return threshold;
        }
    }
}

/// The `k`-th largest magnitude of `x` (`1 ≤ k < x.len()`, `x` finite), by bisection on the bit patterns
/// of the magnitudes as `f64` (exact for `f32` and `f64`; non-negative floats order as their bits): the
/// largest pattern `b` with at least `k` magnitudes at or above it is the `k`-th largest's. 64 scans.
fn kth_magnitude_by_bisection<T: Real>(x: &[T], k: usize) -> T {
    let bits = |v: &T| v.abs().to_f64_lossless().to_bits();
    let at_or_above = |b: u64| x.iter().filter(|v| bits(v) >= b).count();
    // Invariant: at_or_above(lo) ≥ k > at_or_above(hi).
    let (mut lo, mut hi) = (0u64, x.iter().map(bits).max().unwrap_or(0) + 1);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if at_or_above(mid) >= k {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // `lo` is the pattern of an entry's magnitude (the count changes only at the entries' patterns).
    x.iter().find(|v| bits(v) == lo).map_or(T::zero(), |v| v.abs())
}

impl<T: Real> Prox<T> for TopK {
    fn prox(&self, step: T, x: &mut [T]) -> Result<()> {
        check_step(step)?;
        crate::error::check_finite("x", x)?;
        if self.k >= x.len() {
            return Ok(());
        }
        if self.k == 0 {
            x.fill(T::zero());
            return Ok(());
        }
        let threshold = if self.k <= 64 {
            kth_magnitude_by_scans(x, self.k)
        } else {
            kth_magnitude_by_bisection(x, self.k)
        };
        let above = x.iter().filter(|v| v.abs() > threshold).count();
        let mut keep_at = self.k - above; // how many entries equal to the threshold stay
        for v in x.iter_mut() {
            let a = v.abs();
            if a < threshold || (a == threshold && keep_at == 0) {
                *v = T::zero();
            } else if a == threshold {
                keep_at -= 1;
            }
        }
        Ok(())
    }
    fn value(&self, x: &[T]) -> Result<T> {
        let nnz = x.iter().filter(|v| **v != T::zero()).count();
        Ok(if nnz <= self.k { T::zero() } else { T::infinity() })
    }
}
