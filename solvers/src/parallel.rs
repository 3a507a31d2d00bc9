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
//! 64 (the tests check 1 against 2).
//!
//! One exception, outside the library's own splits: faer's factorizations and eigendecompositions called
//! through its high-level methods follow faer's global parallelism, which is sequential unless faer's
//! `rayon` feature is enabled somewhere in the build (the examples enable it for the GPU benchmark's CPU
//! baseline). With that feature they may use the pool, and faer does not promise thread-count-independent
//! rounding there.

use rayon::prelude::*;

use crate::distributed::Part;
use crate::{Error, Result};

/// The largest pool [`with_threads`] starts: beyond it threads only cost their stacks.
pub const MAX_THREADS: usize = 4096;

/// Runs `f` with the library's parallel work on a pool of `threads` threads (1: sequential).
///
/// # Errors
/// [`Error::InvalidParameter`] for 0 or more than [`MAX_THREADS`] threads, or a pool the system cannot
/// start.
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    let pool = pool_builder(threads)?.build().map_err(|e| cannot_start(threads, &e))?;
    Ok(pool.install(f))
}

/// Sets the process's global pool to `threads` threads, for a program that does all its work under one
/// count (the CLI): the same checks as [`with_threads`], and the caller's own thread keeps its stack.
/// Where rayon would panic on a pool the system cannot start, this is an error.
///
/// # Errors
/// As [`with_threads`]; also when the global pool was already started.
pub fn use_threads_globally(threads: usize) -> Result<()> {
    pool_builder(threads)?
        .build_global()
        .map_err(|e| cannot_start(threads, &e))
}

/// The builder of a pool of `threads` threads, the count checked.
fn pool_builder(threads: usize) -> Result<rayon::ThreadPoolBuilder> {
    if threads == 0 || threads > MAX_THREADS {
        return Err(Error::InvalidParameter {
            name: "threads",
            reason: format!("must lie in 1..={MAX_THREADS}, got {threads}"),
        });
    }
    Ok(rayon::ThreadPoolBuilder::new().num_threads(threads))
}

fn cannot_start(threads: usize, e: &rayon::ThreadPoolBuildError) -> Error {
    Error::InvalidParameter {
        name: "threads",
        reason: format!("cannot start a pool of {threads} threads: {e}"),
    }
}

/// The parts of a sum over the items `0..n`, split into pieces of `piece` items (the last shorter):
/// `part(range)` of every piece in parallel, returned in piece order for the caller to add in that order.
/// The split depends on `n` only, so the sum does not depend on the thread count (see the module docs),
/// nor on the number of processes of a [`Group`](crate::distributed::Group) installed on this thread,
/// which share the pieces. Every fixed-piece parallel sum of the library (the LDP servers' sums, the
/// Langevin drifts) goes through here.
///
/// # Errors
/// The first failing piece's error, in piece order.
pub(crate) fn parts_in_pieces<S: Send + Part>(
    n: usize,
    piece: usize,
    part: impl Fn(std::ops::Range<usize>) -> Result<S> + Sync,
) -> Result<Vec<S>> {
    let piece = piece.max(1);
    map_in_order(n.div_ceil(piece), |p| part(p * piece..((p + 1) * piece).min(n)))
}

/// `item(k)` for `k` in `0..count`, in parallel, returned in order: the independent fits of a sweep (a
/// cross-validation's folds, a grid's candidates), shared among the processes of a
/// [`Group`](crate::distributed::Group) installed on this thread, if any.
///
/// Once an item has failed, the items after it that have not begun are skipped (a stopped sweep ends
/// soon); those before it still run, so the error returned is the first in item order, whatever the
/// threads' schedule.
///
/// # Errors
/// The first failing item's error, in item order.
pub(crate) fn map_in_order<S: Send + Part>(count: usize, item: impl Fn(usize) -> Result<S> + Sync) -> Result<Vec<S>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let first_failure = AtomicUsize::new(usize::MAX);
    crate::distributed::shared(count, |items| {
        items
            .into_par_iter()
            .map(|k| {
                if k > first_failure.load(Ordering::Relaxed) {
                    // Never reported: an earlier item's error comes first.
                    return Err(Error::InvalidParameter {
                        name: "item",
                        reason: "skipped after an earlier item failed".into(),
                    });
                }
                let result = item(k);
                if result.is_err() {
                    first_failure.fetch_min(k, Ordering::Relaxed);
                }
                result
            })
            .collect()
    })
}

/// Rows or columns per piece of a split matrix product: a size-only split (see the module docs), small
/// enough that a 200-point axis gives each of a few threads work.
pub(crate) const PIECE: usize = 64;

/// `Y = A B` with `Y`'s columns (and `B`'s) split into pieces of [`PIECE`] computed in parallel; each entry
/// of `Y` is the same whatever the split.
pub(crate) fn matmul_by_columns(y: faer::MatMut<'_, f64>, a: faer::MatRef<'_, f64>, b: faer::MatRef<'_, f64>) {
    column_pieces(y).into_par_iter().for_each(|(c0, piece)| {
        let w = piece.ncols();
        faer::linalg::matmul::matmul(piece, faer::Accum::Replace, a, b.subcols(c0, w), 1.0, faer::Par::Seq);
    });
}

/// `Y = A B` with `Y`'s rows (and `A`'s) split into pieces of [`PIECE`] computed in parallel.
pub(crate) fn matmul_by_rows(y: faer::MatMut<'_, f64>, a: faer::MatRef<'_, f64>, b: faer::MatRef<'_, f64>) {
    matmul_by_columns(y.transpose_mut(), b.transpose(), a.transpose());
}

/// `Y`'s columns in pieces of [`PIECE`], with each piece's first column.
fn column_pieces(mut y: faer::MatMut<'_, f64>) -> Vec<(usize, faer::MatMut<'_, f64>)> {
    let mut pieces = Vec::with_capacity(y.ncols().div_ceil(PIECE));
    let mut c0 = 0;
    while y.ncols() > PIECE {
        let (head, tail) = y.split_at_col_mut(PIECE);
        pieces.push((c0, head));
        c0 += PIECE;
        y = tail;
    }
    pieces.push((c0, y));
    pieces
}

/// `Σ_k A_k B_kᵀ` over `B`'s and `A`'s columns in pieces of [`PIECE`]: the pieces' products in parallel,
/// returned in order for the caller to add (a reduction whose order depends on the sizes only).
pub(crate) fn outer_products_by_columns(
    a: faer::MatRef<'_, f64>,
    b: faer::MatRef<'_, f64>,
    alpha: f64,
) -> Vec<faer::Mat<f64>> {
    let k = a.ncols();
    (0..k.div_ceil(PIECE))
        .into_par_iter()
        .map(|p| {
            let (c0, w) = (p * PIECE, PIECE.min(k - p * PIECE));
            let mut part = faer::Mat::<f64>::zeros(a.nrows(), b.nrows());
            faer::linalg::matmul::matmul(
                part.as_mut(),
                faer::Accum::Replace,
                a.subcols(c0, w),
                b.subcols(c0, w).transpose(),
                alpha,
                faer::Par::Seq,
            );
            part
        })
        .collect()
}
