use crate::Real;
use crate::error::{Error, Result, take_scratch};
use crate::operator::LinearOperator;

/// Scratch elements [`power_iteration`] needs for `op`.
pub fn power_iteration_scratch_len<T: Real, A: LinearOperator<T> + ?Sized>(op: &A) -> usize {
    op.ncols() + op.nrows() + op.scratch_len()
}

/// The largest eigenvalue of `AᵀA`, i.e. `‖A‖₂²` (the Lipschitz constant of `x ↦ Aᵀ(Ax − b)`), by power
/// iteration.
///
/// Starts from a fixed, deterministic vector with no zero entries (so the same input gives the same answer
/// everywhere) and stops when the relative change of the estimate is at most `tol`. The estimate increases
/// monotonically towards `‖A‖₂²` from below; callers that need an upper bound for a step size should add a
/// margin (e.g. multiply by `1 + 10·tol`). Returns 0 for `A = 0`.
///
/// # Errors
/// [`Error::NotConverged`] after `max_iter` iterations, with the relative change reached.
pub fn power_iteration<T: Real, A: LinearOperator<T> + ?Sized>(
    op: &A,
    max_iter: usize,
    tol: T,
    scratch: &mut [T],
) -> Result<T> {
    let (v, rest) = take_scratch(scratch, op.ncols())?;
    let (u, s) = take_scratch(rest, op.nrows())?;
    // A deterministic start with no zero entries and no special structure: v_i = 1 + ((i·φ) mod 1).
    let phi = 0.618_033_988_749_894_9_f64;
    for (i, vi) in v.iter_mut().enumerate() {
        let t = i as f64 * phi;
        *vi = T::lit(1.0 + t - libm::floor(t));
    }
    let mut lambda = T::zero();
    let mut rel = T::infinity();
    for _ in 0..max_iter.max(1) {
        let nv = super::norm2(v);
        if nv == T::zero() {
            return Ok(T::zero());
        }
        v.iter_mut().for_each(|x| *x = *x / nv);
        op.apply(v, u, s)?;
        op.apply_adjoint(u, v, s)?;
        // Rayleigh quotient of AᵀA at the unit vector: ‖A v‖².
        let next = super::dot(u, u);
        rel = (next - lambda).abs() / next.max(T::min_positive_value());
        lambda = next;
        if rel <= tol {
            return Ok(lambda);
        }
    }
    Err(Error::NotConverged {
        iterations: max_iter,
        reached: rel.to_f64_lossless(),
        tolerance: tol.to_f64_lossless(),
    })
}
