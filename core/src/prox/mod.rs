//! Proximal maps of sparsity-inducing penalties and of constraints.
//!
//! For a penalty `g` and a step `γ > 0`, the proximal map is
//!
//! ```text
//!     prox_{γ g}(v) = argmin_x  γ g(x) + ½ ‖x − v‖²
//! ```
//!
//! computed in place by [`Prox::prox`]. For the non-convex penalties ([`L0`], [`Cel0`]) the map returns one
//! global minimiser (ties broken towards zero).

mod constraint;
mod l0;
mod l1;

pub use constraint::{BoxConstraint, PeriodicBox, TopK, Zero};
pub use l0::{Cel0, L0};
pub use l1::{GroupL2, L1, soft_threshold};

use crate::{Error, Real, Result};

/// A penalty or constraint `g` with a computable proximal map.
pub trait Prox<T: Real> {
    /// `x ← prox_{step · g}(x)`. `step` must be positive and finite.
    fn prox(&self, step: T, x: &mut [T]) -> Result<()>;
    /// `g(x)`; `+∞` outside the feasible set of a constraint.
    fn value(&self, x: &[T]) -> Result<T>;
}

/// Checks a step size `γ > 0`, finite.
pub(crate) fn check_step<T: Real>(step: T) -> Result<()> {
    if step > T::zero() && step.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "step",
            reason: "must be positive and finite",
        })
    }
}

/// Checks a penalty level `λ ≥ 0`, finite.
pub(crate) fn check_level<T: Real>(name: &'static str, lambda: T) -> Result<()> {
    if lambda >= T::zero() && lambda.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            reason: "must be non-negative and finite",
        })
    }
}

/// Checks per-coordinate (or per-group) weights: the right length, each non-negative and finite.
pub(crate) fn check_weights<T: Real>(what: &'static str, weights: &[T]) -> Result<()> {
    crate::error::check_finite(what, weights)?;
    if weights.iter().any(|&w| w < T::zero()) {
        return Err(Error::InvalidParameter {
            name: what,
            reason: "weights must be non-negative",
        });
    }
    Ok(())
}

/// The weight of coordinate (or group) `i`: `weights[i]`, or 1 without weights.
#[inline]
pub(crate) fn weight<T: Real>(weights: Option<&[T]>, i: usize) -> T {
    weights.map_or(T::one(), |w| w[i])
}

/// Checks that optional weights match `n` coordinates.
pub(crate) fn check_weights_len<T>(weights: Option<&[T]>, n: usize) -> Result<()> {
    match weights {
        Some(w) => crate::error::check_len("penalty weights", w.len(), n),
        None => Ok(()),
    }
}
