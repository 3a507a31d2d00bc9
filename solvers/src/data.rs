//! From the data users hold to the operators of `sparsimony-core`, validated once.

use ndarray::{ArrayView1, ArrayView2};
use sparsimony_core::{CsrView, DenseColMajor};

use crate::{Error, Result};

/// The largest magnitude accepted in data (`1e100`): sums of squares and products of up to `1e100` such
/// values stay finite in `f64`, and no measured quantity comes near it in sensible units.
pub const MAX_MAGNITUDE: f64 = 1e100;

/// The most memory one call may ask for before it is refused (16 GiB): a grid, an output array or a
/// simulation whose size would exceed it is an [`Error::InvalidParameter`] before anything is allocated,
/// not an allocation failure that aborts the process. On Linux the cap is lowered to the memory the
/// machine has available when the process first asks ([`memory_cap`]).
pub const MAX_BYTES: f64 = 16.0 * GIB;

/// Bytes in a GiB.
const GIB: f64 = (1u64 << 30) as f64;

/// The memory one call may ask for: [`MAX_BYTES`], or less where the machine has less available (Linux's
/// `MemAvailable`, and the room left under an address-space limit; read once per process): a request that
/// fits the fixed cap but not the machine would abort on allocation instead of being refused.
pub fn memory_cap() -> f64 {
    static CAP: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *CAP.get_or_init(|| available_bytes().map_or(MAX_BYTES, |a| a.min(MAX_BYTES)))
}

/// The memory this process can still take, where Linux says: `MemAvailable` of `/proc/meminfo`, and under
/// an address-space limit (`ulimit -v`) what of it the process has not mapped yet.
fn available_bytes() -> Option<f64> {
    let kib = |text: &str, key: &str| -> Option<f64> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        line[key.len()..].split_whitespace().next()?.parse::<f64>().ok()
    };
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let available = kib(&info, "MemAvailable:")? * 1024.0;
    let limited = std::fs::read_to_string("/proc/self/limits").ok().and_then(|limits| {
        // "Max address space   <soft> <hard> bytes", the soft limit in bytes or "unlimited".
        let soft: f64 = limits
            .lines()
            .find(|l| l.starts_with("Max address space"))?
            .split_whitespace()
            .nth(3)?
            .parse()
            .ok()?;
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        Some(soft - kib(&status, "VmSize:")? * 1024.0)
    });
    let bytes = limited.map_or(available, |l| l.min(available));
    (bytes > 0.0).then_some(bytes)
}

/// Refuses, as [`Error::InvalidParameter`] `name`, what would take `bytes` bytes (a float, so that the
/// count of a huge request cannot overflow) beyond [`memory_cap`]: "`what` would need about … GiB, over
/// the … GiB allowed`hint`". `what` is only built when refusing.
pub(crate) fn check_bytes(name: &'static str, bytes: f64, what: impl FnOnce() -> String, hint: &str) -> Result<()> {
    let cap = memory_cap();
    if bytes <= cap {
        return Ok(());
    }
    let why = if cap < MAX_BYTES {
        "this machine has available"
    } else {
        "allowed"
    };
    Err(Error::InvalidParameter {
        name,
        reason: format!(
            "{} would need about {:.1} GiB, over the {:.1} GiB {why}{hint}",
            what(),
            bytes / GIB,
            cap / GIB
        ),
    })
}

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

/// Whether `value` passes [`check_value`], without naming the problem: finite and within
/// [`MAX_MAGNITUDE`] (NaN fails the comparison). For branch-free passes that locate a bad value only when
/// there is one.
#[inline]
pub(crate) fn in_range(value: f64) -> bool {
    value.abs() <= MAX_MAGNITUDE
}

/// [`Error::Shape`] when a buffer holds fewer than `expected` values (`found`): a block too short for
/// what a kernel reads or writes.
pub(crate) fn check_holds(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if found < expected {
        Err(Error::Shape { what, expected, found })
    } else {
        Ok(())
    }
}

/// Checks every value of a matrix with [`check_value`] (the first bad one in row-major order).
pub fn check_matrix(what: &'static str, a: ArrayView2<'_, f64>) -> Result<()> {
    // One branch-free pass in memory order; the bad value is located only when there is one.
    let all_fine = match a.as_slice_memory_order() {
        Some(values) => values
            .chunks(512)
            .all(|chunk| chunk.iter().fold(true, |ok, &v| ok & in_range(v))),
        None => a.fold(true, |ok, &v| ok & in_range(v)),
    };
    if all_fine {
        return Ok(());
    }
    a.indexed_iter()
        .try_for_each(|((row, col), &v)| check_value(what, row, col, v))
}

/// The column-major copy of a row-major `nrows × ncols` matrix, in tiles of 64 rows: each tile's rows
/// (64 · `ncols` values) stay in cache while its columns are written out, where a column-by-column gather
/// re-reads every cache line of the matrix once per column. `None` when a value fails [`check_value`]
/// (checked branch-free on the way).
fn transpose_row_major(a: &[f64], nrows: usize, ncols: usize) -> Option<Vec<f64>> {
    const TILE: usize = 64;
    let mut out = vec![0.0; nrows * ncols];
    let mut fine = true;
    for i0 in (0..nrows).step_by(TILE) {
        let rows = &a[i0 * ncols..(i0 + TILE).min(nrows) * ncols];
        fine &= rows.iter().fold(true, |ok, &v| ok & in_range(v));
        for (j, col) in out.chunks_exact_mut(nrows).enumerate() {
            col[i0..i0 + rows.len() / ncols]
                .iter_mut()
                .zip(rows.iter().skip(j).step_by(ncols))
                .for_each(|(o, &v)| *o = v);
        }
    }
    fine.then_some(out)
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
        // Row-major input is checked while it is transposed, in one pass over memory; a bad value is then
        // located by `check_matrix`.
        let transposed = match (a.t().to_slice(), a.to_slice()) {
            (None, Some(row_major)) => transpose_row_major(row_major, nrows, ncols),
            _ => None,
        };
        let data = match transposed {
            Some(data) => data,
            None => {
                check_matrix(what, a)?;
                a.t().iter().copied().collect() // the transpose in logical order is column-major
            }
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder, s};

    #[test]
    fn col_major_copy_of_every_layout() {
        // Sizes around the 64-row tile, including a ragged last tile and a single column.
        for (n, d) in [(1, 1), (63, 5), (64, 3), (130, 7), (200, 1)] {
            let c = Array2::from_shape_fn((n, d), |(i, j)| (i * 1000 + j) as f64);
            let f = Array2::from_shape_fn((n, d).f(), |(i, j)| (i * 1000 + j) as f64);
            let wide = Array2::from_shape_fn((n, 2 * d), |(i, j)| (i * 1000 + j / 2) as f64);
            let strided = wide.slice(s![.., ..;2]);
            for view in [c.view(), f.view(), strided] {
                let m = ColMajor::from_array("X", view).unwrap();
                for j in 0..d {
                    let expected: Vec<f64> = (0..n).map(|i| (i * 1000 + j) as f64).collect();
                    assert_eq!(m.col(j), expected.as_slice(), "{n}×{d}, column {j}");
                }
            }
        }
    }

    #[test]
    fn col_major_copy_locates_a_bad_value_in_every_layout() {
        for bad in [f64::NAN, f64::INFINITY, 1e101] {
            let mut c = Array2::from_shape_fn((130, 4), |(i, j)| (i + j) as f64);
            c[[70, 2]] = bad;
            let mut f = Array2::zeros((130, 4).f());
            f.assign(&c);
            for view in [c.view(), f.view()] {
                match ColMajor::from_array("X", view) {
                    Err(Error::NonFinite { row: 70, col: 2, .. }) if !bad.is_finite() => {}
                    Err(Error::Magnitude { row: 70, col: 2, .. }) if bad.is_finite() => {}
                    other => panic!("{bad}: {other:?}"),
                }
            }
        }
    }
}
