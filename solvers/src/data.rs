//! From the data users hold to the operators of `sparsimony-core`, validated once.

use ndarray::{ArrayView1, ArrayView2};
use sparsimony_core::{CsrView, DenseColMajor};

use crate::{Error, Result};

/// The largest magnitude accepted in data (`1e100`): sums of squares and products of up to `1e100` such
/// values stay finite in `f64`, and no measured quantity comes near it in sensible units.
pub const MAX_MAGNITUDE: f64 = 1e100;

/// Checks one data value: finite ([`Error::NonFinite`]) and within [`MAX_MAGNITUDE`] ([`Error::Magnitude`]).
pub fn check_value(what: &'static str, row: usize, col: usize, value: f64) -> Result<()> {
    if !value.is_finite() {
        Err(Error::NonFinite { what, row, col })
    } else if value.abs() > MAX_MAGNITUDE {
        Err(Error::Magnitude { what, row, col, value })
    } else {
        Ok(())
    }
}

/// Checks every value of a matrix with [`check_value`] (the first bad one in row-major order).
pub fn check_matrix(what: &'static str, a: ArrayView2<'_, f64>) -> Result<()> {
    // One branch-free pass in memory order (NaN fails the comparison); the bad value is located only when
    // there is one.
    let fine = |v: f64| v.abs() <= MAX_MAGNITUDE;
    let all_fine = match a.as_slice_memory_order() {
        Some(values) => values
            .chunks(512)
            .all(|chunk| chunk.iter().fold(true, |ok, &v| ok & fine(v))),
        None => a.fold(true, |ok, &v| ok & fine(v)),
    };
    if all_fine {
        return Ok(());
    }
    a.indexed_iter()
        .try_for_each(|((row, col), &v)| check_value(what, row, col, v))
}

/// A dense matrix copied into column-major storage (the layout of the core kernels and of faer).
#[derive(Debug, Clone, PartialEq)]
pub struct ColMajor {
    data: Vec<f64>,
    nrows: usize,
    ncols: usize,
}

impl ColMajor {
    /// Copies `a` (any memory layout) into column-major storage, rejecting empty or non-finite input.
    pub fn from_array(what: &'static str, a: ArrayView2<'_, f64>) -> Result<Self> {
        let (nrows, ncols) = a.dim();
        if nrows == 0 || ncols == 0 {
            return Err(Error::Empty {
                what,
                rows: nrows,
                cols: ncols,
            });
        }
        check_matrix(what, a)?;
        let data = a.t().iter().copied().collect(); // iterating the transpose in logical order = column-major
        Ok(Self { data, nrows, ncols })
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    /// Column `j`.
    pub fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.nrows..(j + 1) * self.nrows]
    }
    /// Column `j`, mutably.
    pub fn col_mut(&mut self, j: usize) -> &mut [f64] {
        &mut self.data[j * self.nrows..(j + 1) * self.nrows]
    }
    /// The column-major storage (`nrows * ncols` values).
    pub fn data(&self) -> &[f64] {
        &self.data
    }
    /// The core operator over this storage.
    pub fn as_operator(&self) -> DenseColMajor<'_, f64> {
        DenseColMajor::new(&self.data, self.nrows, self.ncols).expect("validated at construction")
    }
}

/// Checks a vector: the expected length and finite values.
pub fn check_vector(what: &'static str, v: ArrayView1<'_, f64>, expected_len: usize) -> Result<Vec<f64>> {
    if v.len() != expected_len {
        return Err(Error::Shape {
            what,
            expected: expected_len,
            found: v.len(),
        });
    }
    v.iter()
        .enumerate()
        .try_for_each(|(row, &x)| check_value(what, row, 0, x))?;
    Ok(v.to_vec())
}

/// A core [`CsrView`] over a `sprs` CSR matrix (no copy). A CSC matrix must be converted first
/// (`a.to_csr()`), since the view borrows the row-compressed arrays.
pub fn csr_view<'a>(what: &'static str, a: &'a sprs::CsMat<f64>) -> Result<CsrView<'a, f64>> {
    if !a.is_csr() {
        return Err(Error::InvalidParameter {
            name: what,
            reason: "expected CSR storage; call `to_csr()` first".into(),
        });
    }
    let (nrows, ncols) = a.shape();
    if nrows == 0 || ncols == 0 {
        return Err(Error::Empty {
            what,
            rows: nrows,
            cols: ncols,
        });
    }
    let indptr = match a.proper_indptr() {
        std::borrow::Cow::Borrowed(p) => p,
        std::borrow::Cow::Owned(_) => {
            return Err(Error::InvalidParameter {
                name: what,
                reason: "indptr does not start at 0 (a sliced matrix); call `to_owned()` first".into(),
            });
        }
    };
    Ok(CsrView::new(nrows, ncols, indptr, a.indices(), a.data())?)
}
