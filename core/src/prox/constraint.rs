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
