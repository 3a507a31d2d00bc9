use super::{LinearOperator, check_apply, check_nonempty_dims};
use crate::Real;
use crate::error::{Error, Result, check_finite, check_len};

/// A borrowed compressed-sparse-row matrix: row `i` holds the entries `values[k]` at columns `indices[k]` for
/// `k in indptr[i]..indptr[i + 1]`.
///
/// The structure is validated once at construction (`indptr` of length `nrows + 1`, starting at 0,
/// non-decreasing and ending at `indices.len() == values.len()`; every column index `< ncols`; every value
/// finite). Column indices within a row need not be sorted and may repeat (repeats add up), as in `scipy.sparse`.
#[derive(Debug, Clone, Copy)]
pub struct CsrView<'a, T> {
    nrows: usize,
    ncols: usize,
    indptr: &'a [usize],
    indices: &'a [usize],
    values: &'a [T],
}

impl<'a, T: Real> CsrView<'a, T> {
    /// Validates and wraps the three CSR arrays.
    pub fn new(nrows: usize, ncols: usize, indptr: &'a [usize], indices: &'a [usize], values: &'a [T]) -> Result<Self> {
        check_nonempty_dims(nrows, ncols)?;
        check_len("indptr", nrows + 1, indptr.len())?;
        check_len("values (same length as indices)", indices.len(), values.len())?;
        if indptr[0] != 0 {
            return Err(Error::InvalidSparseStructure {
                reason: "indptr[0] must be 0",
                position: 0,
            });
        }
        for (i, w) in indptr.windows(2).enumerate() {
            if w[1] < w[0] {
                return Err(Error::InvalidSparseStructure {
                    reason: "indptr decreases",
                    position: i,
                });
            }
        }
        if indptr[nrows] != indices.len() {
            return Err(Error::InvalidSparseStructure {
                reason: "indptr[nrows] differs from the number of stored entries",
                position: nrows,
            });
        }
        for i in 0..nrows {
            if indices[indptr[i]..indptr[i + 1]].iter().any(|&j| j >= ncols) {
                return Err(Error::InvalidSparseStructure {
                    reason: "column index out of range",
                    position: i,
                });
            }
        }
        check_finite("CSR values", values)?;
        Ok(Self {
            nrows,
            ncols,
            indptr,
            indices,
            values,
        })
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Column indices and values of row `i`.
    #[inline]
    pub fn row(&self, i: usize) -> (&'a [usize], &'a [T]) {
        let r = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[r.clone()], &self.values[r])
    }

    /// The row pointer array (length `nrows + 1`).
    pub fn indptr(&self) -> &'a [usize] {
        self.indptr
    }
    /// The column index array (length `nnz`).
    pub fn indices(&self) -> &'a [usize] {
        self.indices
    }
    /// The value array (length `nnz`).
    pub fn values(&self) -> &'a [T] {
        self.values
    }
}

impl<T: Real> LinearOperator<T> for CsrView<'_, T> {
    fn nrows(&self) -> usize {
        self.nrows
    }
    fn ncols(&self) -> usize {
        self.ncols
    }
    fn apply(&self, x: &[T], y: &mut [T], _scratch: &mut [T]) -> Result<()> {
        check_apply(self, x, y, false)?;
        for (i, yi) in y.iter_mut().enumerate() {
            let (cols, vals) = self.row(i);
            *yi = cols.iter().zip(vals).fold(T::zero(), |acc, (&j, &v)| v * x[j] + acc);
        }
        Ok(())
    }
    fn apply_adjoint(&self, x: &[T], y: &mut [T], _scratch: &mut [T]) -> Result<()> {
        check_apply(self, x, y, true)?;
        y.fill(T::zero());
        for (i, &xi) in x.iter().enumerate() {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                y[j] = v * xi + y[j];
            }
        }
        Ok(())
    }
}
