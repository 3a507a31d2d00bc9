use super::{LinearOperator, check_apply, check_nonempty_dims};
use crate::Real;
use crate::error::{Error, Result, check_finite};

/// Validates a column-major `nrows × ncols` matrix in `data`: non-empty, `ld ≥ nrows` (`ld = None`: contiguous,
/// `data.len() == nrows * ncols`), long enough, and finite (a non-finite entry is reported with its
/// column-major index `i + j * nrows`). Returns the leading dimension.
fn validate<T: Real>(data: &[T], nrows: usize, ncols: usize, ld: Option<usize>) -> Result<usize> {
    check_nonempty_dims(nrows, ncols)?;
    let overflow = Error::InvalidParameter {
        name: "ld",
        reason: "matrix size overflows usize",
    };
    let ld = match ld {
        None => {
            let len = nrows.checked_mul(ncols).ok_or(overflow)?;
            crate::error::check_len("matrix data", len, data.len())?;
            nrows
        }
        Some(ld) if ld < nrows => {
            return Err(Error::InvalidParameter {
                name: "ld",
                reason: "leading dimension is smaller than nrows",
            });
        }
        Some(ld) => {
            let need = ld
                .checked_mul(ncols - 1)
                .and_then(|v| v.checked_add(nrows))
                .ok_or(overflow)?;
            if data.len() < need {
                return Err(Error::DimensionMismatch {
                    what: "matrix data",
                    expected: need,
                    found: data.len(),
                });
            }
            ld
        }
    };
    for j in 0..ncols {
        check_finite("matrix", &data[j * ld..j * ld + nrows]).map_err(|e| match e {
            Error::NonFinite { what, index } => Error::NonFinite {
                what,
                index: j * nrows + index,
            },
            other => other,
        })?;
    }
    Ok(ld)
}

/// A borrowed dense `nrows × ncols` matrix, **column-major**: entry `(i, j)` is `data[i + j * ld]`.
///
/// `ld ≥ nrows` is the leading dimension (the distance between the starts of two columns), so a view can
/// select the top rows of a larger matrix. Non-finite entries are rejected at construction
/// (reported with the column-major index `i + j * nrows`).
#[derive(Debug, Clone, Copy)]
pub struct DenseColMajor<'a, T> {
    data: &'a [T],
    nrows: usize,
    ncols: usize,
    ld: usize,
}

impl<'a, T: Real> DenseColMajor<'a, T> {
    /// A contiguous column-major matrix (`ld = nrows`); `data.len()` must be `nrows * ncols`.
    pub fn new(data: &'a [T], nrows: usize, ncols: usize) -> Result<Self> {
        let ld = validate(data, nrows, ncols, None)?;
        Ok(Self { data, nrows, ncols, ld })
    }

    /// A column-major matrix with leading dimension `ld ≥ nrows`; `data` must hold at least
    /// `ld * (ncols - 1) + nrows` elements.
    pub fn with_leading_dim(data: &'a [T], nrows: usize, ncols: usize, ld: usize) -> Result<Self> {
        let ld = validate(data, nrows, ncols, Some(ld))?;
        Ok(Self { data, nrows, ncols, ld })
    }

    /// Entry `(i, j)`. Panics if out of range (an indexing bug, not a data error).
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> T {
        assert!(i < self.nrows && j < self.ncols, "index out of range");
        self.data[i + j * self.ld]
    }

    /// Column `j` as a contiguous slice of length `nrows`.
    #[inline]
    pub fn col(&self, j: usize) -> &'a [T] {
        &self.data[j * self.ld..j * self.ld + self.nrows]
    }

    /// The leading dimension.
    pub fn ld(&self) -> usize {
        self.ld
    }
}

impl<T: Real> LinearOperator<T> for DenseColMajor<'_, T> {
    fn nrows(&self) -> usize {
        self.nrows
    }
    fn ncols(&self) -> usize {
        self.ncols
    }
    fn apply(&self, x: &[T], y: &mut [T], _scratch: &mut [T]) -> Result<()> {
        check_apply(self, x, y, false)?;
        y.fill(T::zero());
        for (j, &xj) in x.iter().enumerate() {
            if xj != T::zero() {
                for (yi, &aij) in y.iter_mut().zip(self.col(j)) {
                    *yi = aij * xj + *yi;
                }
            }
        }
        Ok(())
    }
    fn apply_adjoint(&self, x: &[T], y: &mut [T], _scratch: &mut [T]) -> Result<()> {
        check_apply(self, x, y, true)?;
        for (j, yj) in y.iter_mut().enumerate() {
            *yj = dense_dot(self.col(j), x);
        }
        Ok(())
    }
}

/// A mutably borrowed dense column-major matrix, the in-place counterpart of [`DenseColMajor`] used by the
/// factorisations in [`crate::linalg`].
#[derive(Debug)]
pub struct DenseColMajorMut<'a, T> {
    data: &'a mut [T],
    nrows: usize,
    ncols: usize,
    ld: usize,
}

impl<'a, T: Real> DenseColMajorMut<'a, T> {
    /// A contiguous column-major matrix (`ld = nrows`); `data.len()` must be `nrows * ncols`.
    pub fn new(data: &'a mut [T], nrows: usize, ncols: usize) -> Result<Self> {
        let ld = validate(data, nrows, ncols, None)?;
        Ok(Self { data, nrows, ncols, ld })
    }

    /// A column-major matrix with leading dimension `ld ≥ nrows`.
    pub fn with_leading_dim(data: &'a mut [T], nrows: usize, ncols: usize, ld: usize) -> Result<Self> {
        let ld = validate(data, nrows, ncols, Some(ld))?;
        Ok(Self { data, nrows, ncols, ld })
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    /// The leading dimension.
    pub fn ld(&self) -> usize {
        self.ld
    }
    /// A read-only view of the same matrix.
    pub fn as_ref(&self) -> DenseColMajor<'_, T> {
        DenseColMajor {
            data: self.data,
            nrows: self.nrows,
            ncols: self.ncols,
            ld: self.ld,
        }
    }
    /// The underlying storage (column `j` starts at `j * ld`).
    pub fn data_mut(&mut self) -> &mut [T] {
        self.data
    }
}

/// `Σ aᵢ bᵢ` over the common length.
///
/// Eight interleaved partial sums (element `i` goes to sum `i mod 8`), added pairwise at the end: a fixed
/// order, so the result is the same on every platform, and independent chains that the compiler can
/// vectorise (a single running sum is bound by the latency of one addition per element).
#[inline]
pub(crate) fn dense_dot<T: Real>(a: &[T], b: &[T]) -> T {
    let len = a.len().min(b.len());
    let (a, b) = (&a[..len], &b[..len]);
    let mut acc = [T::zero(); 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] = x[k] * y[k] + acc[k];
        }
    }
    for (k, (&x, &y)) in ra.iter().zip(rb).enumerate() {
        acc[k] = x * y + acc[k];
    }
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}
