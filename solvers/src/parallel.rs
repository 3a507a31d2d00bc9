//! Threads: one knob for the whole library.
//!
//! Everything parallel in sparsimony runs on rayon's pool: the folds of a cross-validation, an ensemble's
//! members, SINDy's blocks of samples, the GP-PDE solver's mode products and Gram matrices. By default that
//! is rayon's global pool — one thread per core, or `RAYON_NUM_THREADS`. [`with_threads`] runs a
//! computation on a pool of a given size instead (the CLI's `--threads`).
//!
//! **Results do not depend on the thread count**: work is split into pieces whose boundaries depend on the
//! problem's size only, never on the number of threads, and partial sums are added in a fixed order; faer's
//! kernels run sequentially inside each piece. So a fit gives bit-identical results on 1 thread and on
//! 64 (the tests check 1 against 2). The exception is what the caller shares between threads themselves.

use rayon::prelude::*;

use crate::{Error, Result};

/// Runs `f` with the library's parallel work on a pool of `threads` threads (1: sequential).
///
/// # Errors
/// [`Error::InvalidParameter`] for 0 threads or a pool the system cannot start.
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    if threads == 0 {
        return Err(Error::InvalidParameter {
            name: "threads",
            reason: "must be at least 1".into(),
        });
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::InvalidParameter {
            name: "threads",
            reason: format!("cannot start a pool of {threads} threads: {e}"),
        })?;
    Ok(pool.install(f))
}

/// Rows per piece of a row-split matrix product: a size-only split (see the module docs).
pub(crate) const ROWS_PER_PIECE: usize = 512;

/// `Y = X Mᵀ` for row-major `X` (`rows × n`) into row-major `Y` (`rows × r`), `M` being `r × n`: the rows
/// split into fixed pieces computed in parallel (each row's result is the same whatever the split).
pub(crate) fn rows_times_transpose(m: faer::MatRef<'_, f64>, x: &[f64], rows: usize, y: &mut [f64]) {
    let (r, n) = (m.nrows(), m.ncols());
    y.par_chunks_mut(ROWS_PER_PIECE * r)
        .zip(x.par_chunks(ROWS_PER_PIECE * n))
        .for_each(|(yc, xc)| {
            let k = xc.len() / n.max(1);
            let xo = faer::MatRef::from_row_major_slice(xc, k, n);
            let yo = faer::MatMut::from_row_major_slice_mut(yc, k, r);
            faer::linalg::matmul::matmul(yo, faer::Accum::Replace, xo, m.transpose(), 1.0, faer::Par::Seq);
        });
    debug_assert_eq!(y.len(), rows * r);
}
