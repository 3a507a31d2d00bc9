//! nalgebra matrices as [`LinearOperator`]s (feature `nalgebra`): a stack-allocated `SMatrix<f32, M, N>`
//! on a microcontroller, a `DMatrix` or any view, applied in place without allocation.

use nalgebra::{Dim, Matrix, RawStorage, Scalar};

use super::{LinearOperator, check_apply};
use crate::{Real, Result};

impl<T, R, C, S> LinearOperator<T> for Matrix<T, R, C, S>
where
    T: Real + Scalar,
    R: Dim,
    C: Dim,
    S: RawStorage<T, R, C>,
{
    fn nrows(&self) -> usize {
        self.shape().0
    }
    fn ncols(&self) -> usize {
        self.shape().1
    }
    /// `y ← A x`, column by column (nalgebra stores matrices column-major).
    fn apply(&self, x: &[T], y: &mut [T], _scratch: &mut [T]) -> Result<()> {
        check_apply(self, x, y, false)?;
        y.iter_mut().for_each(|v| *v = T::zero());
        // Every column, zero `x_j` or not, so that a non-finite entry of `A` shows in `A x` as in `Aᵀ x`.
        for (j, &xj) in x.iter().enumerate() {
            for (yi, &aij) in y.iter_mut().zip(self.column(j).iter()) {
                *yi = aij * xj + *yi;
            }
        }
        Ok(())
    }
    /// `y ← Aᵀ x`, one column dot product per entry of `y`.
    fn apply_adjoint(&self, x: &[T], y: &mut [T], _scratch: &mut [T]) -> Result<()> {
        check_apply(self, x, y, true)?;
        for (j, yj) in y.iter_mut().enumerate() {
            *yj = self
                .column(j)
                .iter()
                .zip(x)
                .fold(T::zero(), |acc, (&aij, &xi)| aij * xi + acc);
        }
        Ok(())
    }
}
