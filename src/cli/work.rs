//! One bound on the work a command starts: a run estimated above [`WORK_LIMIT`] operations is refused
//! before it starts, with its estimate and what to reduce, unless the user passed `--no-work-limit`.
//!
//! The estimates count the floating-point operations of the dominant loops (per Langevin step the two
//! products with the design, per simulated user its record and statistics, per Gauss–Newton step of the
//! PDE solver a typical count of conjugate-gradient products), so they are the right order of magnitude,
//! not a timing. Long work that is started shows progress, and Ctrl-C (SIGINT, left at its default) ends
//! the process at once.

use std::sync::atomic::{AtomicBool, Ordering};

/// The most work a command starts without `--no-work-limit`: 10¹³ operations, about an hour at the 2–3·10⁹
/// operations a second of a few cores on these loops.
pub const WORK_LIMIT: f64 = 1e13;

/// Operations a second assumed for the time in the refusal (one core, these loops).
const RATE: f64 = 1e9;

static UNLIMITED: AtomicBool = AtomicBool::new(false);

/// Lifts the bound (`--no-work-limit`).
pub fn set_unlimited(unlimited: bool) {
    UNLIMITED.store(unlimited, Ordering::Relaxed);
}

/// Refuses `what`, estimated at `operations`, above [`WORK_LIMIT`] (unless lifted), naming `reduce`, the
/// flags that shrink it. A non-finite estimate (a count beyond f64) is refused too.
///
/// # Errors
/// The refusal's message.
pub fn check(what: &str, operations: f64, reduce: &str) -> Result<(), String> {
    if operations <= WORK_LIMIT || (UNLIMITED.load(Ordering::Relaxed) && operations.is_finite()) {
        return Ok(());
    }
    let seconds = operations / RATE;
    let time = if !seconds.is_finite() {
        "longer than any machine runs".to_string()
    } else if seconds < 3600.0 * 48.0 {
        format!(
            "about {:.0} hours at 10⁹ operations a second",
            (seconds / 3600.0).max(1.0)
        )
    } else if seconds < 3.2e9 {
        format!("about {:.0} days at 10⁹ operations a second", seconds / 86400.0)
    } else {
        format!("about {:.0e} years at 10⁹ operations a second", seconds / 3.16e7)
    };
    let lift = if operations.is_finite() {
        " or pass --no-work-limit to run it anyway (Ctrl-C stops it)"
    } else {
        ""
    };
    Err(format!(
        "{what} would take about {operations:.1e} operations ({time}), over the {WORK_LIMIT:.0e} a command starts without \
         --no-work-limit: reduce {reduce}{lift}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_refuses_with_the_estimate_and_the_flags() {
        assert!(check("x", 1e12, "--n").is_ok());
        let e = check("the dynamics", 2e15, "--time").unwrap_err();
        assert!(
            e.contains("2.0e15") && e.contains("--time") && e.contains("--no-work-limit"),
            "{e}"
        );
        assert!(e.contains("days"), "{e}");
        let e = check("the dynamics", f64::INFINITY, "--time").unwrap_err();
        assert!(!e.contains("pass --no-work-limit"), "{e}");
    }
}
