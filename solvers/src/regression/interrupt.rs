//! Stopping a long fit from outside: a hook a caller installs on its thread for the duration of a fit
//! (the Python bindings install one that checks for Ctrl-C), polled by the iterative solvers between
//! their steps — coordinate-descent epochs, SR3 and STLSQ iterations.
//!
//! A fit that is stopped returns its current iterate, its report unconverged, as at its iteration cap;
//! the caller that asked it to stop knows why (Python raises the `KeyboardInterrupt` it caught). Work
//! with no iterate to return — a SINDy fit's normal equations half built — ends in
//! [`Error::Stopped`](crate::Error::Stopped) instead. The hook is polled at most every [`POLL_INTERVAL`],
//! so that a cheap step does not pay for the check; parallel pieces of a fit carry it into their worker
//! threads with [`StopScope`].

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The least time between two calls of the hook.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A stop request check: returns `true` to stop the fit.
pub type StopHook = Arc<dyn Fn() -> bool + Send + Sync>;

/// One installed hook, shared by the thread that installed it and the worker threads its fit uses.
struct Installed {
    hook: StopHook,
    last: Mutex<Instant>,
    stopped: AtomicBool,
}

thread_local! {
    static HOOK: RefCell<Option<Arc<Installed>>> = const { RefCell::new(None) };
}

/// Runs `f` with `state` installed on this thread, restoring the previous state afterwards (also when
/// `f` panics).
fn installed<R>(state: Option<Arc<Installed>>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<Installed>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            HOOK.with(|h| *h.borrow_mut() = previous);
        }
    }
    let previous = HOOK.with(|h| std::mem::replace(&mut *h.borrow_mut(), state));
    let _restore = Restore(previous);
    f()
}

/// Runs `f` with `hook` installed on this thread: the solvers `f` runs on this thread (and on the worker
/// threads they carry the hook into, see [`StopScope`]) poll it, and stop once it returns `true` (and
/// from then on, until `f` returns). The previous hook, if any, is restored afterwards (also when `f`
/// panics).
pub fn with_stop_hook<R>(hook: StopHook, f: impl FnOnce() -> R) -> R {
    let state = Arc::new(Installed {
        hook,
        last: Mutex::new(Instant::now()),
        stopped: AtomicBool::new(false),
    });
    installed(Some(state), f)
}

/// The hook installed on the current thread (or none), to carry into worker threads: a parallel loop
/// inside a fit takes `let scope = StopScope::current();` and runs each piece in `scope.run(…)`, so
/// that the pieces poll the same hook (rayon's workers do not see the caller's thread-local state).
#[derive(Clone, Default)]
pub struct StopScope(Option<Arc<Installed>>);

impl StopScope {
    /// The hook installed on this thread.
    pub fn current() -> Self {
        Self(HOOK.with(|h| h.borrow().clone()))
    }

    /// Runs `f` with this scope's hook installed on the current thread.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        installed(self.0.clone(), f)
    }
}

/// Whether the fit running on this thread has been asked to stop: polls the installed hook (at most
/// every [`POLL_INTERVAL`] over all the threads sharing it); `false` without one.
pub fn stop_requested() -> bool {
    let Some(state) = HOOK.with(|h| h.borrow().clone()) else {
        return false;
    };
    if state.stopped.load(Ordering::Relaxed) {
        return true;
    }
    {
        let mut last = state.last.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if now.duration_since(*last) < POLL_INTERVAL {
            return false;
        }
        *last = now;
    }
    let stop = (state.hook)();
    if stop {
        state.stopped.store(true, Ordering::Relaxed);
    }
    stop
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_hook_is_polled_at_most_every_interval_and_stops_for_good() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let hook: StopHook = Arc::new(move || counted.fetch_add(1, Ordering::SeqCst) >= 1);
        let polls = with_stop_hook(hook, || {
            let start = Instant::now();
            let mut polls = Vec::new();
            while start.elapsed() < 3 * POLL_INTERVAL {
                polls.push(stop_requested());
            }
            polls
        });
        // The first call answered false, the second true; every poll after is true without a call.
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(polls.iter().any(|&p| !p) && *polls.last().unwrap());
        assert!(!stop_requested(), "no hook outside the scope");
    }

    #[test]
    fn worker_threads_carrying_the_scope_see_the_stop() {
        let hook: StopHook = Arc::new(|| true);
        let seen = with_stop_hook(hook, || {
            std::thread::sleep(POLL_INTERVAL);
            let scope = StopScope::current();
            let carried = std::thread::scope(|s| s.spawn(|| scope.run(stop_requested)).join().unwrap());
            let bare = std::thread::scope(|s| s.spawn(stop_requested).join().unwrap());
            (carried, bare, stop_requested())
        });
        assert_eq!(seen, (true, false, true));
    }

    #[test]
    fn without_a_hook_nothing_stops() {
        assert!(!stop_requested());
    }
}
