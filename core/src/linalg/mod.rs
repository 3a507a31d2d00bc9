//! Small dense kernels for fitting on the device: Cholesky, Householder QR least squares, power iteration,
//! and the vector reductions the rest of the crate uses.
//!
//! Matrices are column-major views ([`DenseColMajorMut`](crate::operator::DenseColMajorMut)); the kernels work
//! in place and never allocate. They are meant for the small systems of on-device fitting (tens to a few
//! hundred unknowns); large problems belong to `sparsimony-solvers`, which uses faer.

mod cholesky;
mod power;
mod qr;

pub use cholesky::{cholesky_in_place, cholesky_solve};
pub use power::{power_iteration, power_iteration_scratch_len};
pub use qr::qr_least_squares;

use crate::Real;

/// `Σ aᵢ bᵢ` over the common length, in eight interleaved partial sums (a fixed order: the same result on
/// every platform).
#[inline]
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    crate::operator::dense_dot(a, b)
}

/// The Euclidean norm `‖a‖₂`, scaled to avoid overflow and underflow (as LAPACK's `nrm2`).
pub fn norm2<T: Real>(a: &[T]) -> T {
    let amax = a.iter().fold(T::zero(), |m, v| m.max(v.abs()));
    if amax == T::zero() || !amax.is_finite() {
        return amax;
    }
    let s = a.iter().fold(T::zero(), |s, &v| {
        let r = v / amax;
        r * r + s
    });
    amax * s.sqrt()
}
