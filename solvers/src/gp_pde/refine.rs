//! Solving until the answer is as good as the solver can vouch for: a solve, its [`Indicator`], and,
//! while the indicator's error measure ([`Indicator::error_measure`]) stays above a target, solves with
//! the collocation precisions raised, then one with the other spectral family, then one from a
//! broadband start ([`FrequencyInit::Band`]); the attempt with the lowest measure is kept — the
//! selection by the held-out criterion rather than by the training objective, which falls as the
//! precisions rise whatever the error does.
//!
//! Why a broadband start last: the peaks start places the components at the frequencies the data show,
//! which a chirp (whose local frequency sweeps a band) does not have; at the precisions and in either
//! family the 2D chirps of the broadened suite (120², seeds 0–4) stayed at 3.5e-5 to 1e-3 from it, and
//! reached 1e-6 to 1e-5 from components spread over the band (in the Gaussian family: with Student-t,
//! whose wide tails overlap, 5e-4 to 1.5e-3 at the band edges tried).
//! It is last because it is dearer (it keeps every component: 5–25 s against 4 s at 120²).
//!
//! Why the precisions: the exact method's conjugate-gradient path starts at `ln v = 20` (the paper's
//! benchmarks are no better above it and take twice as long, see [`settings_for`](super::settings_for)),
//! where the prior's pull leaves a residual of about 1e-5 of the equation's scale. An operator that
//! amplifies that residual (indefinite Helmholtz, a conductivity varying tenfold, a chirp) turns it into
//! errors of 1e-4 to 1e-3 on the broadened suite; raised to 24 the same solves reach 4e-6 to 4e-5, in
//! the same time. Other knobs measured on those problems changed nothing (twice the components, the
//! conjugate gradients to 1e-10, a smaller jitter, more Gauss–Newton steps) or made it worse (the
//! Gaussian spectrum).

use std::ops::ControlFlow;
use std::time::Instant;

use super::accuracy::{Indicator, residual_indicator};
use super::kernel::Spectrum;
use super::problem::Problem;
use super::settings::{FrequencyInit, Method, Settings};
use super::solution::Solution;
use super::solver::{OuterIteration, solve};
use super::stability::{estimable, shortfall};
use crate::Result;

/// What a raise adds to both log-precisions (`e⁴ ≈ 55×` the weight of the equations and the data
/// against the prior).
pub const PRECISION_STEP: f64 = 4.0;

/// Raises at most: `ln v` from 20 to 28 on the conjugate-gradient path, 24 to 32 on the dense one.
pub const MAX_RAISES: usize = 2;

/// The error measure above which [`solve_refined`] solves again by default ([`Refine::DEFAULT`]): an
/// estimated relative error of 1e-5, the broadened suite's target median.
pub const REFINE_TARGET: f64 = 1e-5;

/// How far [`solve_refined`] goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Refine {
    /// The error measure above which it solves again (infinite: one solve).
    pub target: f64,
    /// Whether, once raised precisions stop helping, it may try the other spectral family (Student-t ↔
    /// Gaussian) at the best precision, and the broadband start in the Gaussian family: off where the
    /// user chose the family (the broadband start is then tried in theirs).
    pub other_spectrum: bool,
}

impl Refine {
    /// The command line's default: [`REFINE_TARGET`], the other family allowed.
    pub const DEFAULT: Refine = Refine {
        target: REFINE_TARGET,
        other_spectrum: true,
    };

    /// One solve at the settings given.
    pub const OFF: Refine = Refine {
        target: f64::INFINITY,
        other_spectrum: false,
    };

    /// The most solves [`solve_refined`] makes of `problem` with these bounds and `method`: one for Adam,
    /// an infinite target, a problem outside the stability estimate's scope or one whose data are too
    /// few ([`shortfall`]); otherwise the first, [`MAX_RAISES`] raises, the other family where allowed,
    /// and the broadband start.
    ///
    /// # Errors
    /// The problem's evaluation's.
    pub fn max_solves(&self, problem: &Problem, method: Method) -> Result<usize> {
        if method != Method::Exact
            || self.target == f64::INFINITY
            || !estimable(problem)?
            || shortfall(problem)?.is_some()
        {
            return Ok(1);
        }
        Ok(2 + MAX_RAISES + usize::from(self.other_spectrum))
    }
}

/// The family tried after the given one: Gaussian after Student-t, Student-t (5 degrees of freedom)
/// after Gaussian.
fn other(spectrum: Spectrum) -> Spectrum {
    match spectrum {
        Spectrum::Gaussian => Spectrum::StudentT { dof: 5 },
        Spectrum::StudentT { .. } => Spectrum::Gaussian,
    }
}

/// One solve of a [`solve_refined`] sequence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempt {
    /// Its equation and boundary log-precisions (`ln v`, `ln τ`).
    pub log_precisions: [f64; 2],
    /// Its spectral family.
    pub spectrum: Spectrum,
    /// Where its kernels' frequencies started.
    pub start: FrequencyInit,
    /// Its error measure ([`Indicator::error_measure`]).
    pub measure: f64,
    /// The solve's wall-clock seconds (the indicator's excluded).
    pub seconds: f64,
}

/// The attempt kept by [`solve_refined`], and every attempt made.
#[derive(Debug, Clone)]
pub struct Refined {
    /// The kept solution.
    pub solution: Solution,
    /// Its indicator.
    pub indicator: Indicator,
    /// Every attempt, in order (the first with the settings as given).
    pub attempts: Vec<Attempt>,
    /// The index of the kept attempt in `attempts`.
    pub chosen: usize,
}

/// The settings of the attempt after `attempts` (the first made with `settings`; `chosen` the lowest
/// measure's index), or `None` where the sequence of [`solve_refined`] ends: the lowest measure at most
/// `refine.target`; else, while the raises are the only attempts, the last is the lowest and at most
/// [`MAX_RAISES`] were made, the last precisions raised by [`PRECISION_STEP`]; else the other family at
/// the lowest attempt's precisions (if `refine.other_spectrum`, once); else the broadband start there
/// (once, in the Gaussian family if `refine.other_spectrum`, else in the given one; never where the given
/// start is broadband already).
pub fn next_attempt(settings: &Settings, refine: Refine, attempts: &[Attempt], chosen: usize) -> Option<Settings> {
    let best = attempts.get(chosen)?;
    if best.measure <= refine.target {
        return None;
    }
    let raising = attempts
        .iter()
        .all(|a| a.spectrum == settings.spectrum && a.start == settings.frequencies);
    if raising && chosen + 1 == attempts.len() && attempts.len() <= MAX_RAISES {
        return Some(Settings {
            log_equation_precision: best.log_precisions[0] + PRECISION_STEP,
            log_boundary_precision: best.log_precisions[1] + PRECISION_STEP,
            ..settings.clone()
        });
    }
    let at_best = Settings {
        log_equation_precision: best.log_precisions[0],
        log_boundary_precision: best.log_precisions[1],
        ..settings.clone()
    };
    if refine.other_spectrum && attempts.iter().all(|a| a.spectrum == settings.spectrum) {
        return Some(Settings {
            spectrum: other(settings.spectrum),
            ..at_best
        });
    }
    let band = FrequencyInit::Band;
    (settings.frequencies != band && attempts.iter().all(|a| a.start != band)).then(|| Settings {
        frequencies: band,
        spectrum: if refine.other_spectrum {
            Spectrum::Gaussian
        } else {
            settings.spectrum
        },
        ..at_best
    })
}

/// Solves `problem` with `settings` and measures the solution by its [`Indicator`]. For the exact method,
/// while the lowest error measure so far is above `refine.target`, the last attempt is the lowest (the
/// last raise lowered it, or none was made) and fewer than [`MAX_RAISES`] were made, solves again with
/// both log-precisions raised by [`PRECISION_STEP`] over the last attempt's; then, while the lowest is
/// still above the target, at the lowest attempt's precisions: once with the other spectral family if
/// `refine.other_spectrum`, and once from the broadband start ([`FrequencyInit::Band`], in the Gaussian
/// family if `refine.other_spectrum`, else in the given one; not where the given start is already
/// broadband) — [`next_attempt`]. Keeps the attempt with the lowest measure (the first on ties). `monitor` sees
/// every outer iteration of every attempt; a `Break` from it (or a stop request), or a further attempt
/// that fails, ends the sequence with the attempts so far. Adam learns its precisions itself, problems
/// outside the stability estimate's scope have no measure fine enough to chase, and one whose data do not
/// determine its solution ([`Indicator::null_space`]) cannot be refined into one: one attempt.
///
/// # Errors
/// [`Problem::discretize`]'s, and [`solve`]'s and [`residual_indicator`]'s from the first attempt.
pub fn solve_refined(
    problem: &Problem,
    settings: &Settings,
    refine: Refine,
    mut monitor: impl FnMut(&OuterIteration<'_>) -> ControlFlow<()>,
) -> Result<Refined> {
    let disc = problem.discretize()?;
    // One solve and its measure; whether the monitor or a stop request ended it.
    let mut attempt = |s: &Settings| -> Result<(Solution, Indicator, Attempt, bool)> {
        let start = Instant::now();
        let mut stopped = false;
        let solution = solve(&disc, s, |it| {
            let flow = monitor(it);
            stopped |= flow.is_break();
            flow
        })?;
        let seconds = start.elapsed().as_secs_f64();
        let indicator = residual_indicator(problem, &solution)?;
        let record = Attempt {
            log_precisions: [s.log_equation_precision, s.log_boundary_precision],
            spectrum: s.spectrum,
            start: s.frequencies,
            measure: indicator.error_measure(),
            seconds,
        };
        Ok((
            solution,
            indicator,
            record,
            stopped || crate::regression::interrupt::stop_requested(),
        ))
    };
    let (mut solution, mut indicator, first, mut stopped) = attempt(settings)?;
    let (mut attempts, mut chosen) = (vec![first], 0);
    // Only the exact method (Adam learns its precisions itself), and only where the stability estimate
    // applies: the residuals alone are relative to the equation's scale and can be an order off the
    // error either way, too loose to chase a target of 1e-5 with. Nor where the data do not determine
    // the solution: no precision cures a null space.
    let refinable = settings.method == Method::Exact && indicator.stability.is_some() && !indicator.null_space();
    while let Some(s) = next_attempt(settings, refine, &attempts, chosen).filter(|_| refinable && !stopped) {
        // A further attempt that fails (an error from the solve or the indicator at the raised
        // precision) ends the sequence: the attempts so far stand.
        let Ok((candidate, candidate_indicator, record, halted)) = attempt(&s) else {
            break;
        };
        stopped = halted;
        attempts.push(record);
        if record.measure < attempts[chosen].measure {
            (solution, indicator, chosen) = (candidate, candidate_indicator, attempts.len() - 1);
        }
    }
    Ok(Refined {
        solution,
        indicator,
        attempts,
        chosen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequence [`next_attempt`] gives, each attempt measured by `measures` in turn: the settings'
    /// (ln v, family, start) per attempt.
    fn sequence(settings: &Settings, refine: Refine, measures: &[f64]) -> Vec<(f64, Spectrum, FrequencyInit)> {
        let record = |s: &Settings, measure: f64| Attempt {
            log_precisions: [s.log_equation_precision, s.log_boundary_precision],
            spectrum: s.spectrum,
            start: s.frequencies,
            measure,
            seconds: 0.0,
        };
        let mut attempts = vec![record(settings, measures[0])];
        let mut chosen = 0;
        let mut made = vec![(settings.log_equation_precision, settings.spectrum, settings.frequencies)];
        while let Some(s) = next_attempt(settings, refine, &attempts, chosen) {
            assert!(made.len() < measures.len(), "more attempts than measures: {made:?}");
            attempts.push(record(&s, measures[made.len()]));
            if attempts.last().unwrap().measure < attempts[chosen].measure {
                chosen = attempts.len() - 1;
            }
            made.push((s.log_equation_precision, s.spectrum, s.frequencies));
        }
        made
    }

    #[test]
    fn raises_then_the_other_family_then_the_band_each_once() {
        let t = Spectrum::StudentT { dof: 5 };
        let g = Spectrum::Gaussian;
        let (peaks, band) = (FrequencyInit::Source, FrequencyInit::Band);
        let given = Settings {
            spectrum: t,
            log_equation_precision: 20.0,
            log_boundary_precision: 20.0,
            ..Settings::default()
        };
        // Both raises help, the third solve is the best: the other family and the band there.
        let all = sequence(&given, Refine::DEFAULT, &[1e-3, 5e-4, 2e-4, 3e-4, 4e-4]);
        assert_eq!(
            all,
            [
                (20.0, t, peaks),
                (24.0, t, peaks),
                (28.0, t, peaks),
                (28.0, g, peaks),
                (28.0, g, band)
            ]
        );
        // The second raise does not help: the rest at the first raise's precision.
        let stalled = sequence(&given, Refine::DEFAULT, &[1e-3, 5e-4, 6e-4, 7e-4, 8e-4]);
        assert_eq!(stalled[2..], [(28.0, t, peaks), (24.0, g, peaks), (24.0, g, band)]);
        // The first raise does not help: no second.
        let flat = sequence(&given, Refine::DEFAULT, &[1e-3, 2e-3, 3e-3, 4e-3]);
        assert_eq!(flat[1..], [(24.0, t, peaks), (20.0, g, peaks), (20.0, g, band)]);
        // The family chosen by the user: no other family; the band in theirs.
        let mine = Refine {
            other_spectrum: false,
            ..Refine::DEFAULT
        };
        let kept = sequence(&given, mine, &[1e-3, 5e-4, 2e-4, 3e-4]);
        assert_eq!(kept[3..], [(28.0, t, band)]);
        // A Gaussian given: the other family is Student-t, the band Gaussian.
        let gaussian = Settings {
            spectrum: g,
            ..given.clone()
        };
        let other = sequence(&gaussian, Refine::DEFAULT, &[1e-3, 2e-3, 3e-3, 4e-3]);
        assert_eq!(
            other,
            [(20.0, g, peaks), (24.0, g, peaks), (20.0, t, peaks), (20.0, g, band)]
        );
        // A broadband start given: no second one.
        let broad = Settings {
            frequencies: band,
            ..given.clone()
        };
        let once = sequence(&broad, Refine::DEFAULT, &[1e-3, 2e-3, 3e-3]);
        assert_eq!(once, [(20.0, t, band), (24.0, t, band), (20.0, g, band)]);
        // The target met: no further attempt, at any stage.
        assert_eq!(sequence(&given, Refine::DEFAULT, &[1e-6]).len(), 1);
        assert_eq!(sequence(&given, Refine::DEFAULT, &[1e-3, 5e-4, 2e-4, 9e-6]).len(), 4);
        assert_eq!(sequence(&given, Refine::OFF, &[1.0]).len(), 1);
    }
}
