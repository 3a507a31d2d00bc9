//! Processes: the library's parallel work spread over several processes (MPI ranks) as it is spread over
//! threads — the same pieces, added in the same order.
//!
//! Every fixed-piece sum of the library goes through one of two functions: `parallel::parts_in_pieces`
//! (the LDP servers' sums over users, the Langevin drifts over samples: short parts, added by the caller)
//! or `tree_sum` (the radio measurement operator's adjoint over its visibilities: a grid per piece, added
//! along a fixed tree so that a process sends a few grids, not one per piece); every sweep of independent
//! fits or solves goes through `parallel::map_in_order` (cross-validation folds, grid candidates, the
//! radio DDE block's antennas), and every row-wise map through `shared` (the model visibilities of the
//! radio operator). When a [`Group`] is
//! installed on the calling thread ([`with_group`]), each of its processes computes a contiguous share of
//! the pieces, on its own threads, and an all-gather gives every process every piece's result. The caller
//! then adds the same parts in the same order on every process, so **results are bit-identical on 1, 2 or
//! 64 processes, and equal to one process without a group**. Nothing else changes: each process runs the
//! whole program (single program, multiple data), reads its arguments, and reaches the same collective
//! calls in the same order because everything it decides on is identical everywhere.
//!
//! A piece that fails on one process fails the call on every process, with the same error (the first
//! failing piece's, in piece order; another process's error arrives as [`Error::Remote`]), so no process
//! waits for one that has given up.
//!
//! Only the installing thread communicates, and it is never one of rayon's (see [`with_group`]): work that
//! rayon runs on its pool (a piece inside a sweep, say) never sees the group and computes locally, which
//! every process does alike. With the `mpi` feature,
//! `mpi::World` is the group of an MPI job (the CLI installs it under `mpirun`); [`Threads`] is a group
//! of threads in one process, with which the tests check that results do not depend on the process count.
//!
//! Communication: `shared` sends every piece's result to every process (`pieces × part length` values):
//! for the LDP servers' sums, `d` values per piece of users; for a cross-validation, each fold's path; for
//! the radio operator's forward map, two values per visibility. `tree_sum` sends `O(log pieces)` vectors
//! per process.

use rayon::prelude::*;
use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

use crate::{Error, Result};

/// A group of processes that exchange values: MPI's communicator, as far as the library needs one.
pub trait Group {
    /// This process's index, `0..size`.
    fn rank(&self) -> usize;
    /// The number of processes.
    fn size(&self) -> usize;
    /// Every process's `local` values, in rank order, on every process (MPI's `Allgatherv`). Every process
    /// calls it, in the same order as its other calls.
    ///
    /// # Errors
    /// [`Error::Remote`] where the transport fails.
    fn all_gather(&self, local: &[f64]) -> Result<Vec<Vec<f64>>>;
}

thread_local! {
    static GROUP: RefCell<Option<Rc<dyn Group>>> = const { RefCell::new(None) };
}

/// Runs `f` with `group` installed on this thread: the library's piece sums and sweeps inside it are spread
/// over the group's processes (see the module docs). The previous group, if any, is restored afterwards.
///
/// Install it on a thread outside rayon's pool (the main thread, as the CLI does): a pool thread also runs
/// other tasks' pieces, and would take the group into some of them on one process and not on another.
/// The pool's size is then set with [`crate::use_threads_globally`] or `RAYON_NUM_THREADS`.
///
/// # Errors
/// [`Error::InvalidParameter`] (`"group"`) on a thread of rayon's pool (inside
/// [`crate::with_threads`], say); `f` is not run.
pub fn with_group<R>(group: Rc<dyn Group>, f: impl FnOnce() -> R) -> Result<R> {
    if rayon::current_thread_index().is_some() {
        return Err(Error::InvalidParameter {
            name: "group",
            reason: "installed on a thread of rayon's pool: install it on the main thread (outside \
                     with_threads) and size the pool with use_threads_globally or RAYON_NUM_THREADS"
                .into(),
        });
    }
    struct Restore(Option<Rc<dyn Group>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            GROUP.with(|g| *g.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(GROUP.with(|g| g.borrow_mut().replace(group)));
    Ok(f())
}

/// The group installed on this thread, if any.
fn current() -> Option<Rc<dyn Group>> {
    GROUP.with(|g| g.borrow().clone())
}

/// A result that crosses between processes: written as `f64` values and read back exactly.
pub trait Part: Sized {
    /// Appends the value to `out`.
    fn encode(&self, out: &mut Vec<f64>);
    /// The value [`Part::encode`] wrote into `values` (all of them).
    ///
    /// # Errors
    /// [`Error::Remote`] for values no encoding gives.
    fn decode(values: &[f64]) -> Result<Self>;
}

impl Part for Vec<f64> {
    fn encode(&self, out: &mut Vec<f64>) {
        out.extend_from_slice(self);
    }
    fn decode(values: &[f64]) -> Result<Self> {
        Ok(values.to_vec())
    }
}

impl Part for f64 {
    fn encode(&self, out: &mut Vec<f64>) {
        out.push(*self);
    }
    fn decode(values: &[f64]) -> Result<Self> {
        match values {
            [v] => Ok(*v),
            _ => Err(garbled("a number")),
        }
    }
}

impl Part for faer::Mat<f64> {
    fn encode(&self, out: &mut Vec<f64>) {
        out.extend([self.nrows() as f64, self.ncols() as f64]);
        for j in 0..self.ncols() {
            out.extend(self.col(j).iter());
        }
    }
    fn decode(values: &[f64]) -> Result<Self> {
        let [rows, cols, data @ ..] = values else {
            return Err(garbled("a matrix"));
        };
        let (rows, cols) = (*rows as usize, *cols as usize);
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(garbled("a matrix"));
        }
        Ok(faer::Mat::from_fn(rows, cols, |i, j| data[j * rows + i]))
    }
}

/// The values a [`Report`](sparsimony_core::Report) is encoded in (a [`Part`] of fixed length, so a
/// sequence of them is read back by chunks).
pub(crate) const REPORT_VALUES: usize = 5;

impl Part for sparsimony_core::Report {
    fn encode(&self, out: &mut Vec<f64>) {
        let measure = sparsimony_core::Measure::ALL.iter().position(|m| *m == self.measure);
        let values: [f64; REPORT_VALUES] = [
            self.iterations as f64,
            f64::from(u8::from(self.converged)),
            measure.map_or(-1.0, |k| k as f64),
            self.reached,
            self.tolerance,
        ];
        out.extend(values);
    }
    fn decode(values: &[f64]) -> Result<Self> {
        let Ok([iterations, converged, measure, reached, tolerance]) = <[f64; REPORT_VALUES]>::try_from(values) else {
            return Err(garbled("a report"));
        };
        let measure = *sparsimony_core::Measure::ALL
            .get(measure as usize)
            .filter(|_| measure >= 0.0)
            .ok_or_else(|| garbled("a report's measure"))?;
        let mut report = sparsimony_core::Report::new(iterations as usize, measure, reached, tolerance);
        report.converged = converged != 0.0;
        Ok(report)
    }
}

/// A score and the report of the fit that earned it (a sweep's result for one candidate on one fold).
impl Part for (f64, sparsimony_core::Report) {
    fn encode(&self, out: &mut Vec<f64>) {
        out.push(self.0);
        self.1.encode(out);
    }
    fn decode(values: &[f64]) -> Result<Self> {
        let (score, report) = values.split_first().ok_or_else(|| garbled("a score"))?;
        Ok((*score, sparsimony_core::Report::decode(report)?))
    }
}

/// A matrix of coefficients and the report of the fit that gave it (an ensemble member's).
impl Part for (ndarray::Array2<f64>, sparsimony_core::Report) {
    fn encode(&self, out: &mut Vec<f64>) {
        out.extend([self.0.nrows() as f64, self.0.ncols() as f64]);
        out.extend(self.0.iter());
        self.1.encode(out);
    }
    fn decode(values: &[f64]) -> Result<Self> {
        let [rows, cols, rest @ ..] = values else {
            return Err(garbled("coefficients"));
        };
        let (rows, cols) = (*rows as usize, *cols as usize);
        let n = rows
            .checked_mul(cols)
            .filter(|n| *n <= rest.len())
            .ok_or_else(|| garbled("coefficients"))?;
        let coef =
            ndarray::Array2::from_shape_vec((rows, cols), rest[..n].to_vec()).map_err(|_| garbled("coefficients"))?;
        Ok((coef, sparsimony_core::Report::decode(&rest[n..])?))
    }
}

/// Values written as their count, then themselves (for a part made of several vectors).
pub(crate) fn encode_counted(values: &[f64], out: &mut Vec<f64>) {
    out.push(values.len() as f64);
    out.extend_from_slice(values);
}

/// The vector [`encode_counted`] wrote at the start of `values`, and what follows it.
pub(crate) fn decode_counted<'a>(values: &'a [f64], what: &str) -> Result<(&'a [f64], &'a [f64])> {
    let (len, rest) = values.split_first().ok_or_else(|| garbled(what))?;
    let len = *len as usize;
    if len > rest.len() {
        return Err(garbled(what));
    }
    Ok(rest.split_at(len))
}

/// An error for values that no encoding gives (a transport that mixed up its messages): what a
/// [`Part::decode`] returns, naming what it expected (`"a matrix"`).
pub fn garbled(what: &str) -> Error {
    Error::Remote {
        rank: usize::MAX,
        message: format!("a process received values that do not encode {what}"),
    }
}

/// `compute(items)` for this process's share of `0..count` items, the results of all shares exchanged
/// over the installed group, in item order; without a group, `compute(0..count)`. `compute` returns one
/// result per item of its range, in order, and runs on the calling thread (it may print as it goes, or
/// spread its items over threads itself). The library's sweeps use it; so can a caller's own sweep of
/// independent items (`sparsimony::pde::run_suite` shares a manufactured suite's problems so). Every
/// process must reach the call at the same point of its program, with the same `count`.
///
/// # Errors
/// The first failing item's error, in item order, on every process ([`Error::Remote`] where another
/// process's item failed); a transport failure.
pub fn shared<S: Part>(count: usize, compute: impl Fn(Range<usize>) -> Vec<Result<S>>) -> Result<Vec<S>> {
    let Some(group) = current() else {
        return compute(0..count).into_iter().collect();
    };
    let (rank, size) = (group.rank(), group.size());
    let local = compute(share(count, size, rank));
    let mut message = Vec::new();
    for item in &local {
        encode_item(item, &mut message);
    }
    let all = group.all_gather(&message)?;
    if all.len() != size {
        return Err(garbled("one message per process"));
    }
    let mut local = local.into_iter();
    let mut out = Vec::with_capacity(count);
    for (r, values) in all.iter().enumerate() {
        let mut at = 0;
        for _ in share(count, size, r) {
            let body = next_item(values, &mut at)?;
            if r == rank {
                // This process's own results keep their types (and its errors theirs).
                out.push(local.next().ok_or_else(|| garbled("this process's pieces"))??);
            } else {
                out.push(
                    body.map_err(|message| Error::Remote { rank: r, message })
                        .and_then(S::decode)?,
                );
            }
        }
    }
    Ok(out)
}

/// Process `rank`'s contiguous share of `0..count` items among `size` processes.
fn share(count: usize, size: usize, rank: usize) -> Range<usize> {
    rank * count / size..(rank + 1) * count / size
}

/// Appends an item's result to a message, as `[status, length, values…]`: status 0 for a result, 1 for an
/// error's message (its characters as code points).
fn encode_item<S: Part>(item: &Result<S>, message: &mut Vec<f64>) {
    let start = message.len();
    message.extend([0.0, 0.0]);
    match item {
        Ok(v) => v.encode(message),
        Err(e) => {
            message[start] = 1.0;
            message.extend(e.to_string().chars().map(|c| f64::from(u32::from(c))));
        }
    }
    message[start + 1] = (message.len() - start - 2) as f64;
}

/// The item [`encode_item`] wrote at `values[*at..]` (its values, or its error's message), `at` moved past it.
fn next_item<'a>(values: &'a [f64], at: &mut usize) -> Result<std::result::Result<&'a [f64], String>> {
    let (Some(&status), Some(&len)) = (values.get(*at), values.get(*at + 1)) else {
        return Err(garbled("a piece's header"));
    };
    let body = values
        .get(*at + 2..*at + 2 + len as usize)
        .ok_or_else(|| garbled("a piece"))?;
    *at += 2 + len as usize;
    Ok(if status == 0.0 {
        Ok(body)
    } else {
        Err(body.iter().filter_map(|c| char::from_u32(*c as u32)).collect())
    })
}

/// `Σ_k leaf(k)` over `k` in `0..count` (vectors of one length; empty for no leaf), added along a fixed
/// binary tree over the leaves: a node `[lo, hi)` is its left half `[lo, m)` plus its right `[m, hi)`,
/// `m = ⌊(lo + hi)/2⌋`. Sibling subtrees (and a process's subtrees) run in parallel on rayon's pool. The tree depends on `count` only, so the sum is
/// the same on any number of threads — and of processes: with a group installed, each process sums the
/// largest subtrees inside its share of the leaves (at most `2 log₂ count` of them, one when the process
/// count divides a power-of-two leaf count) and the exchange gives every process every subtree's sum, which
/// it completes along the same tree. Communication per call: each process sends `O(log count)` vectors,
/// never one per leaf, and receives every process's (`O(size · log count)` in all).
///
/// # Errors
/// The first failing leaf's error, in leaf order, on every process ([`Error::Remote`] where another
/// process's leaf failed); leaves of different lengths; a transport failure.
pub(crate) fn tree_sum(count: usize, leaf: impl Fn(usize) -> Result<Vec<f64>> + Sync) -> Result<Vec<f64>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let Some(group) = current() else {
        return subtree(0, count, &leaf);
    };
    let (rank, size) = (group.rank(), group.size());
    let mut nodes = Vec::new();
    cover(0, count, &share(count, size, rank), &mut nodes);
    // On the pool, never on this thread: a leaf then never sees the group, whatever the share's shape.
    let local: Vec<Result<Vec<f64>>> = nodes.par_iter().map(|&(lo, hi)| subtree(lo, hi, &leaf)).collect();
    let mut message = Vec::new();
    let mut own_error = None;
    for (&(lo, hi), sum) in nodes.iter().zip(local) {
        message.extend([lo as f64, hi as f64]);
        encode_item(&sum, &mut message);
        if let Err(e) = sum {
            // Its own error keeps its type; another process's comes as Remote.
            own_error.get_or_insert((lo, e));
        }
    }
    let all = group.all_gather(&message)?;
    if all.len() != size {
        return Err(garbled("one message per process"));
    }
    let mut sums = std::collections::BTreeMap::new();
    let mut first_error: Option<(usize, Error)> = None;
    for (r, values) in all.iter().enumerate() {
        let mut at = 0;
        while at < values.len() {
            let (Some(&lo), Some(&hi)) = (values.get(at), values.get(at + 1)) else {
                return Err(garbled("a subtree's leaves"));
            };
            at += 2;
            let (lo, hi) = (lo as usize, hi as usize);
            match next_item(values, &mut at)? {
                Ok(sum) => {
                    sums.insert((lo, hi), sum.to_vec());
                }
                Err(message) if first_error.as_ref().is_none_or(|(l, _)| lo < *l) => {
                    first_error = Some((lo, Error::Remote { rank: r, message }));
                }
                Err(_) => {}
            }
        }
    }
    if let Some((lo, remote)) = first_error {
        return Err(match own_error {
            Some((own, e)) if own == lo => e,
            _ => remote,
        });
    }
    complete(0, count, &mut sums)
}

/// The sum of the leaves `lo..hi` along the tree of [`tree_sum`], computed here.
fn subtree(lo: usize, hi: usize, leaf: &(impl Fn(usize) -> Result<Vec<f64>> + Sync)) -> Result<Vec<f64>> {
    if hi - lo == 1 {
        return leaf(lo);
    }
    let m = (lo + hi) / 2;
    let (left, right) = rayon::join(|| subtree(lo, m, leaf), || subtree(m, hi, leaf));
    add(left?, &right?)
}

/// `a + b`, elementwise, for vectors of one length.
fn add(mut a: Vec<f64>, b: &[f64]) -> Result<Vec<f64>> {
    if a.len() != b.len() {
        return Err(garbled("two parts of one sum (their lengths differ)"));
    }
    a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
    Ok(a)
}

/// The largest subtrees of the tree over `lo..hi` whose leaves all lie in `range`, in leaf order.
fn cover(lo: usize, hi: usize, range: &Range<usize>, out: &mut Vec<(usize, usize)>) {
    if hi <= range.start || lo >= range.end {
        return;
    }
    if range.start <= lo && hi <= range.end {
        out.push((lo, hi));
        return;
    }
    let m = (lo + hi) / 2;
    cover(lo, m, range, out);
    cover(m, hi, range, out);
}

/// The sum of the leaves `lo..hi` from the exchanged subtrees' sums, added along the same tree.
fn complete(lo: usize, hi: usize, sums: &mut std::collections::BTreeMap<(usize, usize), Vec<f64>>) -> Result<Vec<f64>> {
    if let Some(sum) = sums.remove(&(lo, hi)) {
        return Ok(sum);
    }
    if hi - lo <= 1 {
        return Err(garbled("every subtree of a sum"));
    }
    let m = (lo + hi) / 2;
    let left = complete(lo, m, sums)?;
    add(left, &complete(m, hi, sums)?)
}

/// A group of `size` threads in one process, standing in for MPI ranks: [`Threads::run`] runs the same
/// closure on every "rank", each with the group installed. For tests that results do not depend on the
/// process count, without an MPI installation.
#[derive(Debug)]
pub struct Threads {
    rank: usize,
    shared: std::sync::Arc<Exchange>,
}

#[derive(Debug)]
struct Exchange {
    size: usize,
    /// Each rank's message of the current call.
    slots: std::sync::Mutex<Vec<Option<Vec<f64>>>>,
    barrier: std::sync::Barrier,
    /// Calls of `all_gather`, over all ranks.
    calls: std::sync::atomic::AtomicUsize,
}

impl Threads {
    /// Runs `f(rank)` on `size` threads, each with its rank of one group installed; returns each rank's
    /// result, in rank order, and the number of exchanges the group made. A panic of `f` on a thread is
    /// resumed on the caller's.
    ///
    /// # Errors
    /// None in practice: the threads are new, never rayon's, so [`with_group`] accepts them.
    pub fn run<R: Send>(size: usize, f: impl Fn(usize) -> R + Sync) -> Result<(Vec<R>, usize)> {
        let shared = std::sync::Arc::new(Exchange {
            size,
            slots: std::sync::Mutex::new(vec![None; size]),
            barrier: std::sync::Barrier::new(size),
            calls: std::sync::atomic::AtomicUsize::new(0),
        });
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..size)
                .map(|rank| {
                    let group = Threads {
                        rank,
                        shared: shared.clone(),
                    };
                    let f = &f;
                    s.spawn(move || with_group(Rc::new(group), || f(rank)))
                })
                .collect();
            let results = handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect::<Result<Vec<R>>>()?;
            Ok((results, shared.calls.load(std::sync::atomic::Ordering::Relaxed) / size))
        })
    }
}

impl Group for Threads {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.shared.size
    }
    fn all_gather(&self, local: &[f64]) -> Result<Vec<Vec<f64>>> {
        let ex = &self.shared;
        let lock = || ex.slots.lock().map_err(|_| garbled("a message (a rank panicked)"));
        ex.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        lock()?[self.rank] = Some(local.to_vec());
        ex.barrier.wait();
        let all = lock()?.iter().map(|s| s.clone().unwrap_or_default()).collect();
        // Everyone has read before anyone writes the next call's message.
        ex.barrier.wait();
        Ok(all)
    }
}

/// An MPI job as a [`Group`] (feature `mpi`): the world communicator of OpenMPI or any MPI the `mpi` crate
/// builds against.
#[cfg(feature = "mpi")]
pub mod mpi {
    use ::mpi::datatype::PartitionMut;
    use ::mpi::topology::SimpleCommunicator;
    use ::mpi::traits::{Communicator, CommunicatorCollectives};

    use super::Group;
    use crate::{Error, Result};

    /// The processes of an MPI job (`MPI_COMM_WORLD`), MPI initialised for calls from the main thread only
    /// (`MPI_THREAD_FUNNELED`: the library's other threads never communicate).
    pub struct World {
        // Dropped last: finalises MPI.
        world: SimpleCommunicator,
        _universe: ::mpi::environment::Universe,
    }

    impl World {
        /// Initialises MPI (once per process). Run outside `mpirun`, it is a job of one process.
        ///
        /// # Errors
        /// [`Error::Remote`] when MPI is already initialised or does not give the threading level needed.
        pub fn init() -> Result<Self> {
            let (universe, level) =
                ::mpi::initialize_with_threading(::mpi::Threading::Funneled).ok_or_else(|| Error::Remote {
                    rank: 0,
                    message: "MPI is already initialised in this process".into(),
                })?;
            if level < ::mpi::Threading::Funneled {
                return Err(Error::Remote {
                    rank: 0,
                    message: format!("MPI gives threading level {level:?}; the library needs Funneled"),
                });
            }
            Ok(Self {
                world: universe.world(),
                _universe: universe,
            })
        }

        /// Ends every process of the job with `code` (after an error, so that none waits for this one).
        pub fn abort(&self, code: i32) -> ! {
            self.world.abort(code)
        }
    }

    impl Group for World {
        fn rank(&self) -> usize {
            self.world.rank() as usize
        }
        fn size(&self) -> usize {
            self.world.size() as usize
        }
        fn all_gather(&self, local: &[f64]) -> Result<Vec<Vec<f64>>> {
            let size = self.size();
            let too_long = || Error::Remote {
                rank: self.rank(),
                message: "a message longer than MPI's 2³¹ − 1 values".into(),
            };
            let count = ::mpi::Count::try_from(local.len()).map_err(|_| too_long())?;
            let mut counts = vec![0 as ::mpi::Count; size];
            self.world.all_gather_into(&count, &mut counts[..]);
            let mut displs = Vec::with_capacity(size);
            let mut total: i64 = 0;
            for c in &counts {
                displs.push(::mpi::Count::try_from(total).map_err(|_| too_long())?);
                total += i64::from(*c);
            }
            let mut buffer = vec![0.0; total as usize];
            {
                let mut partition = PartitionMut::new(&mut buffer[..], &counts[..], &displs[..]);
                self.world.all_gather_varcount_into(local, &mut partition);
            }
            Ok(counts
                .iter()
                .zip(&displs)
                .map(|(c, d)| buffer[*d as usize..(*d + *c) as usize].to_vec())
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Leaves whose sum depends on the order of addition: magnitudes from 10⁻⁸ to 10⁸, both signs.
    fn leaf(k: usize) -> Result<Vec<f64>> {
        let v = |j: usize| {
            let x = ((k * 7 + j * 13) % 17) as f64;
            (if (k + j).is_multiple_of(2) { 1.0 } else { -1.0 }) * 10f64.powf(x - 8.0) * (1.0 + 0.123 * x)
        };
        Ok((0..3).map(v).collect())
    }

    #[test]
    fn a_tree_sum_on_any_number_of_ranks_has_the_bits_of_one_process_and_of_the_tree_written_out() {
        let mut order_shows = false;
        for count in 1..=13 {
            let alone = tree_sum(count, leaf).unwrap();
            // The tree written out: halves at ⌊(lo + hi)/2⌋, left plus right.
            fn by_hand(lo: usize, hi: usize) -> Vec<f64> {
                if hi - lo == 1 {
                    return leaf(lo).unwrap();
                }
                let m = (lo + hi) / 2;
                let (l, r) = (by_hand(lo, m), by_hand(m, hi));
                l.iter().zip(&r).map(|(a, b)| a + b).collect()
            }
            assert_eq!(alone, by_hand(0, count), "{count} leaves");
            let flat: Vec<f64> = (0..3).map(|j| (0..count).map(|k| leaf(k).unwrap()[j]).sum()).collect();
            order_shows |= alone != flat;
            for size in 1..=5 {
                let (sums, exchanges) = Threads::run(size, |_| tree_sum(count, leaf).unwrap()).unwrap();
                assert_eq!(exchanges, 1);
                for sum in sums {
                    assert_eq!(sum, alone, "{count} leaves on {size} ranks");
                }
            }
        }
        // The leaves are chosen so that the order of addition shows (else a wrong tree would pass).
        assert!(order_shows);
    }

    #[test]
    fn a_failing_leaf_fails_the_tree_sum_on_every_rank_with_the_first_failures_error() {
        let failing = |k: usize| {
            if k == 3 || k == 6 {
                Err(Error::InvalidParameter {
                    name: "leaf",
                    reason: format!("leaf {k} fails"),
                })
            } else {
                leaf(k)
            }
        };
        let alone = tree_sum(8, failing).unwrap_err().to_string();
        assert!(alone.contains("leaf 3 fails"), "{alone}");
        for size in 1..=4 {
            let (errors, _) = Threads::run(size, |_| tree_sum(8, failing).unwrap_err().to_string()).unwrap();
            for e in errors {
                assert!(e.contains("leaf 3 fails"), "{size} ranks: {e}");
            }
        }
    }
}
