//! Progress of long-running fits: one callback type for every family.
//!
//! Library code never prints. A fit that can take long (a cross-validation grid, an ensemble, the GP-PDE
//! outer loop) calls its configuration's [`Progress`] after each step; the CLI turns the calls into a
//! progress bar, a notebook could update a widget, a test could count them.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One completed step of a long fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step<'a> {
    /// What is running: `"cross-validation"`, `"ensemble"`, …
    pub task: &'a str,
    /// Steps completed so far, this one included (1 after the first, unless the first call completed
    /// several at once).
    pub done: usize,
    /// Steps in all.
    pub total: usize,
    /// The objective after this step, where the fit has one to show.
    pub objective: Option<f64>,
}

/// A progress callback, called after every step of a long fit — from whichever thread completed it. Each
/// call's `done` is distinct and the last reaches `total` (a call may complete several steps at once, as
/// a round of users does), but calls from parallel steps may arrive slightly out of order (a display
/// should keep the largest `done` seen). The default calls nothing. Two
/// `Progress` values are equal when they hold the same callback (or none).
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<Callback>>);

/// The callback a [`Progress`] holds.
type Callback = dyn Fn(&Step<'_>) + Send + Sync;

impl Progress {
    /// A callback.
    pub fn new(f: impl Fn(&Step<'_>) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(f)))
    }

    /// A counter of `total` steps of `task` that calls the callback as each one completes.
    pub(crate) fn counter<'a>(&'a self, task: &'a str, total: usize) -> Counter<'a> {
        Counter {
            progress: self,
            task,
            total,
            done: AtomicUsize::new(0),
        }
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(callback)"
        } else {
            "Progress(none)"
        })
    }
}

impl PartialEq for Progress {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Counts the completed steps of one fit (thread-safe) and reports each.
pub(crate) struct Counter<'a> {
    progress: &'a Progress,
    task: &'a str,
    total: usize,
    done: AtomicUsize,
}

impl Counter<'_> {
    /// One more step done.
    pub(crate) fn step(&self, objective: Option<f64>) {
        self.advance(1, objective);
    }

    /// `steps` more steps done at once (a round of that many users, say).
    pub(crate) fn advance(&self, steps: usize, objective: Option<f64>) {
        let done = self.done.fetch_add(steps, Ordering::Relaxed) + steps;
        if let Some(f) = &self.progress.0 {
            f(&Step {
                task: self.task,
                done,
                total: self.total,
                objective,
            });
        }
    }
}
