use super::{LinearOperator, check_apply};
use crate::Real;
use crate::error::{Error, Result, take_scratch};

/// The Kronecker product `A₁ ⊗ A₂ ⊗ … ⊗ A_m` of two or more operators, applied without ever being formed.
///
/// Convention: the standard one, in which the **first factor varies slowest**. The input `x` is read as a
/// row-major tensor of shape `(n₁, …, n_m)` (`nₖ = Aₖ.ncols()`), i.e. entry `(j₁, …, j_m)` sits at
/// `((j₁ n₂ + j₂) n₃ + …) + j_m`, and `y` is written as a row-major tensor of shape `(m₁, …, m_m)`. For two
/// dense factors this is `(A ⊗ B) vec_r(X) = vec_r(A X Bᵀ)`.
///
/// Cost: one mode product per factor, `Σₖ (N / nₖ) · cost(Aₖ x)` — for dense factors on a grid of `N` points,
/// `N · Σₖ mₖ` multiply–adds instead of the `N²` of the formed matrix. The mode-`k` fibres are made contiguous
/// by a cyclic transposition at each step, so every factor sees plain contiguous vectors.
#[derive(Clone, Copy)]
pub struct Kronecker<'a, T> {
    factors: &'a [&'a dyn LinearOperator<T>],
    nrows: usize,
    ncols: usize,
}

impl<T> core::fmt::Debug for Kronecker<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Kronecker")
            .field("factors", &self.factors.len())
            .field("nrows", &self.nrows)
            .field("ncols", &self.ncols)
            .finish()
    }
}

impl<'a, T: Real> Kronecker<'a, T> {
    /// The product of `factors` (at least one; each with at least one row and column).
    pub fn new(factors: &'a [&'a dyn LinearOperator<T>]) -> Result<Self> {
        if factors.is_empty() {
            return Err(Error::Empty {
                what: "Kronecker factors",
            });
        }
        let overflow = Error::InvalidParameter {
            name: "factors",
            reason: "Kronecker size overflows usize",
        };
        let mut nrows = 1usize;
        let mut ncols = 1usize;
        for f in factors {
            super::check_nonempty_dims(f.nrows(), f.ncols())?;
            nrows = nrows.checked_mul(f.nrows()).ok_or(overflow)?;
            ncols = ncols.checked_mul(f.ncols()).ok_or(overflow)?;
        }
        Ok(Self { factors, nrows, ncols })
    }

    /// The factors, first (slowest-varying) first.
    pub fn factors(&self) -> &'a [&'a dyn LinearOperator<T>] {
        self.factors
    }

    /// Sizes needed by one application: (largest intermediate tensor, largest factor output, largest factor
    /// scratch). `adjoint` swaps the roles of rows and columns.
    fn sizes(&self, adjoint: bool) -> (usize, usize, usize) {
        let dims = |f: &&dyn LinearOperator<T>| {
            if adjoint {
                (f.ncols(), f.nrows())
            } else {
                (f.nrows(), f.ncols())
            }
        };
        let mut size = if adjoint { self.nrows } else { self.ncols };
        let (mut inter, mut out, mut fs) = (0, 0, 0);
        let m = self.factors.len();
        for (k, f) in self.factors.iter().enumerate().rev() {
            let (rows, cols) = dims(f);
            size = size / cols * rows;
            if k > 0 && k < m {
                inter = inter.max(size);
            }
            out = out.max(rows);
            fs = fs.max(f.scratch_len());
        }
        (inter, out, fs)
    }

    fn apply_impl(&self, x: &[T], y: &mut [T], scratch: &mut [T], adjoint: bool) -> Result<()> {
        check_apply(self, x, y, adjoint)?;
        let m = self.factors.len();
        let (inter, out_max, fs) = self.sizes(adjoint);
        let (buf_a, rest) = take_scratch(scratch, inter)?;
        let (buf_b, rest) = take_scratch(rest, if m > 2 { inter } else { 0 })?;
        let (row_out, fscratch) = take_scratch(rest, out_max)?;
        let fscratch = take_scratch(fscratch, fs)?.0;

        // Step s processes factor k = m-1-s on the last (contiguous) axis and rotates it to the front.
        let mut len = x.len();
        for s in 0..m {
            let k = m - 1 - s;
            let f = self.factors[k];
            let (rows, cols) = if adjoint {
                (f.ncols(), f.nrows())
            } else {
                (f.nrows(), f.ncols())
            };
            let r = len / cols;
            let new_len = r * rows;
            // Source and destination of this step: x → a → b → a → … → y.
            let (src, dst): (&[T], &mut [T]) = match (s, k) {
                (0, 0) => (x, &mut *y),
                (0, _) => (x, &mut buf_a[..new_len]),
                (_, 0) if s % 2 == 1 => (&buf_a[..len], &mut *y),
                (_, 0) => (&buf_b[..len], &mut *y),
                _ if s % 2 == 1 => (&buf_a[..len], &mut buf_b[..new_len]),
                _ => (&buf_b[..len], &mut buf_a[..new_len]),
            };
            let out = &mut row_out[..rows];
            for (row, fibre) in src.chunks_exact(cols).enumerate() {
                if adjoint {
                    f.apply_adjoint(fibre, out, fscratch)?;
                } else {
                    f.apply(fibre, out, fscratch)?;
                }
                for (j, &v) in out.iter().enumerate() {
                    dst[j * r + row] = v;
                }
            }
            len = new_len;
        }
        Ok(())
    }
}

impl<T: Real> LinearOperator<T> for Kronecker<'_, T> {
    fn nrows(&self) -> usize {
        self.nrows
    }
    fn ncols(&self) -> usize {
        self.ncols
    }
    fn scratch_len(&self) -> usize {
        let (ia, oa, fa) = self.sizes(false);
        let (ib, ob, fb) = self.sizes(true);
        let copies = if self.factors.len() > 2 { 2 } else { 1 };
        copies * ia.max(ib) + oa.max(ob) + fa.max(fb)
    }
    fn apply(&self, x: &[T], y: &mut [T], scratch: &mut [T]) -> Result<()> {
        self.apply_impl(x, y, scratch, false)
    }
    fn apply_adjoint(&self, x: &[T], y: &mut [T], scratch: &mut [T]) -> Result<()> {
        self.apply_impl(x, y, scratch, true)
    }
}
