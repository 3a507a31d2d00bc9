//! Stopping a long fit from outside: a hook a caller installs on its thread for the duration of a fit
//! (the Python bindings install one that checks for Ctrl-C), polled by the iterative solvers between
//! their steps — coordinate-descent epochs, SR3 and STLSQ iterations.
//!
//! A fit that is stopped returns its current iterate, its report unconverged, as at its iteration cap;
//! the caller that asked it to stop knows why (Python raises the `KeyboardInterrupt` it caught). The hook
//! is polled at most every [`POLL_INTERVAL`], so that a cheap step does not pay for the check.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The least time between two calls of the hook.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A stop request check: returns `true` to stop the fit.
pub type StopHook = Arc<dyn Fn() -> bool + Send + Sync>;

struct Installed {
    hook: StopHook,
    last: Instant,
    stopped: bool,
}

thread_local! {
    static HOOK: RefCell<Option<Installed>> = const { RefCell::new(None) };
}

/// Runs `f` with `hook` installed on this thread: the solvers `f` runs on this thread poll it, and stop
/// once it returns `true` (and from then on, until `f` returns). The previous hook, if any, is restored
/// afterwards (also when `f` panics).
pub fn with_stop_hook<R>(hook: StopHook, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Installed>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            HOOK.with(|h| *h.borrow_mut() = previous);
        }
    }
    let previous = HOOK.with(|h| {
        h.borrow_mut().replace(Installed {
            hook,
            last: Instant::now(),
            stopped: false,
        })
    });
    let _restore = Restore(previous);
    f()
}

/// Whether the fit running on this thread has been asked to stop: polls the installed hook (at most
/// every [`POLL_INTERVAL`]); `false` without one.
pub fn stop_requested() -> bool {
    HOOK.with(|h| {
        let mut h = h.borrow_mut();
        let Some(installed) = h.as_mut() else {
            return false;
        };
        if installed.stopped {
            return true;
        }
        let now = Instant::now();
        if now.duration_since(installed.last) < POLL_INTERVAL {
            return false;
        }
        installed.last = now;
        let hook = Arc::clone(&installed.hook);
        drop(h);
        let stop = hook();
        if stop {
            HOOK.with(|h| {
                if let Some(i) = h.borrow_mut().as_mut() {
                    i.stopped = true;
                }
            });
        }
        stop
    })
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
    fn without_a_hook_nothing_stops() {
        assert!(!stop_requested());
    }
}
