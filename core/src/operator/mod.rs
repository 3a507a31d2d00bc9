//! Linear operators `A: ℝⁿ → ℝᵐ` that are applied, never necessarily formed.
//!
//! A [`LinearOperator`] computes `y = A x` and `y = Aᵀ x` into caller-provided buffers, with caller-provided
//! scratch of [`LinearOperator::scratch_len`] elements. Implementations here:
//!
//! * [`DenseColMajor`]: a dense matrix stored column-major with an explicit leading dimension;
//! * [`CsrView`]: a compressed-sparse-row matrix borrowed from three slices;
//! * [`Kronecker`]: `A₁ ⊗ A₂ ⊗ … ⊗ A_m` of any operators, applied mode by mode and never formed;
//! * with the `nalgebra` feature, every nalgebra matrix (`SMatrix`, `DMatrix`, views).

mod csr;
mod dense;
mod kron;
#[cfg(feature = "nalgebra")]
mod nalgebra;

pub use csr::CsrView;
pub(crate) use dense::dense_dot;
pub use dense::{DenseColMajor, DenseColMajorMut};
pub use kron::Kronecker;

use crate::{Real, Result};

/// A linear map `A: ℝ^ncols → ℝ^nrows` with its adjoint (transpose) `Aᵀ`.
///
/// Both applications overwrite `y`; neither allocates. Implementations check the lengths of `x`, `y` and
/// `scratch` and report a mismatch as [`crate::Error::DimensionMismatch`] or
/// [`crate::Error::ScratchTooSmall`].
pub trait LinearOperator<T: Real> {
    /// Number of rows `m` (the length of `A x`).
    fn nrows(&self) -> usize;
    /// Number of columns `n` (the length of `x`).
    fn ncols(&self) -> usize;
    /// Number of scratch elements that [`apply`](Self::apply) and [`apply_adjoint`](Self::apply_adjoint) need.
    fn scratch_len(&self) -> usize {
        0
    }
    /// `y ← A x`, with `x.len() == ncols` and `y.len() == nrows`.
    fn apply(&self, x: &[T], y: &mut [T], scratch: &mut [T]) -> Result<()>;
    /// `y ← Aᵀ x`, with `x.len() == nrows` and `y.len() == ncols`.
    fn apply_adjoint(&self, x: &[T], y: &mut [T], scratch: &mut [T]) -> Result<()>;
}

impl<T: Real, A: LinearOperator<T> + ?Sized> LinearOperator<T> for &A {
    fn nrows(&self) -> usize {
        (**self).nrows()
    }
    fn ncols(&self) -> usize {
        (**self).ncols()
    }
    fn scratch_len(&self) -> usize {
        (**self).scratch_len()
    }
    fn apply(&self, x: &[T], y: &mut [T], scratch: &mut [T]) -> Result<()> {
        (**self).apply(x, y, scratch)
    }
    fn apply_adjoint(&self, x: &[T], y: &mut [T], scratch: &mut [T]) -> Result<()> {
        (**self).apply_adjoint(x, y, scratch)
    }
}

/// Checks the lengths of `x` and `y` for `y = A x` (or, with `adjoint`, `y = Aᵀ x`).
pub(crate) fn check_apply<T: Real, A: LinearOperator<T> + ?Sized>(
    op: &A,
    x: &[T],
    y: &[T],
    adjoint: bool,
) -> Result<()> {
    let (xlen, ylen) = if adjoint {
        (op.nrows(), op.ncols())
    } else {
        (op.ncols(), op.nrows())
    };
    crate::error::check_len("x", xlen, x.len())?;
    crate::error::check_len("y", ylen, y.len())
}

/// Rejects operators with no rows or no columns.
pub(crate) fn check_nonempty_dims(nrows: usize, ncols: usize) -> Result<()> {
    if nrows == 0 {
        return Err(crate::Error::Empty { what: "operator rows" });
    }
    if ncols == 0 {
        return Err(crate::Error::Empty {
            what: "operator columns",
        });
    }
    Ok(())
}
