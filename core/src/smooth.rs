//! Smooth (differentiable, gradient-Lipschitz) terms `f` of a composite objective `f(x) + g(x)`.

use crate::Real;
use crate::error::{Result, check_finite, check_len, take_scratch};
use crate::operator::LinearOperator;

/// A differentiable function `f: ℝⁿ → ℝ` with a Lipschitz gradient, evaluated with caller-provided scratch.
pub trait Smooth<T: Real> {
    /// The dimension `n` of `x`.
    fn dim(&self) -> usize;
    /// Scratch elements needed by [`value`](Self::value) and [`value_grad`](Self::value_grad).
    fn scratch_len(&self) -> usize;
    /// `f(x)`.
    fn value(&self, x: &[T], scratch: &mut [T]) -> Result<T>;
    /// `f(x)`, writing `∇f(x)` into `grad`.
    fn value_grad(&self, x: &[T], grad: &mut [T], scratch: &mut [T]) -> Result<T>;
}

/// The scaled least-squares data term `f(x) = (s/2) ‖A x − b‖²`, with gradient `s Aᵀ(A x − b)` and Lipschitz
/// constant `s ‖A‖₂²`.
///
/// With `s = 1/n` (`n` = number of rows) this is the data term of scikit-learn's `Lasso`,
/// `1/(2n) ‖y − X w‖²`; with `s = 1` the one of benchopt and the textbooks.
#[derive(Debug, Clone, Copy)]
pub struct LeastSquares<'a, T, A> {
    op: A,
    b: &'a [T],
    scale: T,
}

impl<'a, T: Real, A: LinearOperator<T>> LeastSquares<'a, T, A> {
    /// `(scale/2) ‖op x − b‖²`; `b.len()` must equal `op.nrows()`, `b` finite, `scale > 0` finite.
    pub fn new(op: A, b: &'a [T], scale: T) -> Result<Self> {
        check_len("b (operator rows)", op.nrows(), b.len())?;
        check_finite("b", b)?;
        if !(scale > T::zero() && scale.is_finite()) {
            return Err(crate::Error::InvalidParameter {
                name: "scale",
                reason: "must be positive and finite",
            });
        }
        Ok(Self { op, b, scale })
    }

    /// The operator `A`.
    pub fn operator(&self) -> &A {
        &self.op
    }

    /// The scale `s`.
    pub fn scale(&self) -> T {
        self.scale
    }

    /// The residual `r = A x − b` into `r` (length `nrows`).
    pub fn residual(&self, x: &[T], r: &mut [T], scratch: &mut [T]) -> Result<()> {
        self.op.apply(x, r, scratch)?;
        r.iter_mut().zip(self.b).for_each(|(ri, &bi)| *ri = *ri - bi);
        Ok(())
    }

    /// An upper estimate of the Lipschitz constant `s ‖A‖₂²` by power iteration (see
    /// [`crate::linalg::power_iteration`]); scratch of [`crate::linalg::power_iteration_scratch_len`].
    pub fn lipschitz(&self, max_iter: usize, tol: T, scratch: &mut [T]) -> Result<T> {
        Ok(self.scale * crate::linalg::power_iteration(&self.op, max_iter, tol, scratch)?)
    }
}

impl<T: Real, A: LinearOperator<T>> Smooth<T> for LeastSquares<'_, T, A> {
    fn dim(&self) -> usize {
        self.op.ncols()
    }
    fn scratch_len(&self) -> usize {
        self.op.nrows() + self.op.scratch_len()
    }
    fn value(&self, x: &[T], scratch: &mut [T]) -> Result<T> {
        let (r, s) = take_scratch(scratch, self.op.nrows())?;
        self.residual(x, r, s)?;
        Ok(self.scale * crate::linalg::dot(r, r) / T::lit(2.0))
    }
    fn value_grad(&self, x: &[T], grad: &mut [T], scratch: &mut [T]) -> Result<T> {
        let (r, s) = take_scratch(scratch, self.op.nrows())?;
        self.residual(x, r, s)?;
        let v = self.scale * crate::linalg::dot(r, r) / T::lit(2.0);
        self.op.apply_adjoint(r, grad, s)?;
        grad.iter_mut().for_each(|g| *g = *g * self.scale);
        Ok(v)
    }
}

/// The quadratic `f(x) = ½ xᵀ H x + cᵀ x` with `H` symmetric positive semidefinite, given as an operator
/// (only [`LinearOperator::apply`] is used; symmetry is the caller's promise). Gradient `H x + c`, Lipschitz
/// constant `λ_max(H)` (bounded above by Gershgorin's row sums for an explicit `H`).
#[derive(Debug, Clone, Copy)]
pub struct Quadratic<'a, T, A> {
    h: A,
    c: &'a [T],
}

impl<'a, T: Real, A: LinearOperator<T>> Quadratic<'a, T, A> {
    /// `½ xᵀ H x + cᵀ x`; `H` square, `c` of its size and finite.
    ///
    /// # Errors
    /// [`crate::Error::DimensionMismatch`] or [`crate::Error::NonFinite`].
    pub fn new(h: A, c: &'a [T]) -> Result<Self> {
        check_len("H (square)", h.nrows(), h.ncols())?;
        check_len("c (H's columns)", h.ncols(), c.len())?;
        check_finite("c", c)?;
        Ok(Self { h, c })
    }
}

impl<T: Real, A: LinearOperator<T>> Smooth<T> for Quadratic<'_, T, A> {
    fn dim(&self) -> usize {
        self.h.ncols()
    }
    fn scratch_len(&self) -> usize {
        self.h.nrows() + self.h.scratch_len()
    }
    fn value(&self, x: &[T], scratch: &mut [T]) -> Result<T> {
        let (hx, s) = take_scratch(scratch, self.h.nrows())?;
        self.value_grad(x, hx, s)
    }
    fn value_grad(&self, x: &[T], grad: &mut [T], scratch: &mut [T]) -> Result<T> {
        check_len("grad (H's rows)", self.h.nrows(), grad.len())?;
        self.h.apply(x, grad, scratch)?;
        let mut v = T::zero();
        for ((g, &ci), &xi) in grad.iter_mut().zip(self.c).zip(x) {
            // ½ xᵀHx + cᵀx = xᵀ(½ Hx + c), accumulated before the gradient takes c.
            v = xi * (*g / T::lit(2.0) + ci) + v;
            *g = *g + ci;
        }
        Ok(v)
    }
}
