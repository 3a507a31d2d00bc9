//! Solving until the answer is as good as the solver can vouch for: a solve, its [`Indicator`], and,
//! while the indicator's error measure ([`Indicator::error_measure`]) stays above a target, solves with
//! the collocation precisions raised, then one with the other spectral family, then one from a
//! broadband start ([`FrequencyInit::Band`]); the attempt with the lowest measure is kept — the
//! selection by the held-out criterion rather than by the training objective, which falls as the
//! precisions rise whatever the error does.
//!
//! Why a broadband start last: the peaks start places the components at the frequencies the data show,
//! which a chirp (whose local frequency sweeps a band) does not have; at the precisions and in either
//! family the 2D chirps of the broadened suite stayed at 1.6e-4 to 1e-3 from it, and reached 8e-7 to
//! 1.2e-5 from components spread over the band (the Gaussian family: Student-t's wide tails overlap).
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

    /// The most solves [`solve_refined`] makes with these bounds and `method`: one for Adam or an infinite
    /// target; otherwise the first, [`MAX_RAISES`] raises, the other family where allowed, and the
    /// broadband start.
    pub fn max_solves(&self, method: Method) -> usize {
        if method != Method::Exact || self.target == f64::INFINITY {
            1
        } else {
            2 + MAX_RAISES + usize::from(self.other_spectrum)
        }
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

/// Solves `problem` with `settings` and measures the solution by its [`Indicator`]. For the exact method,
/// while the lowest error measure so far is above `refine.target`, the last attempt is the lowest (the
/// last raise lowered it, or none was made) and fewer than [`MAX_RAISES`] were made, solves again with
/// both log-precisions raised by [`PRECISION_STEP`] over the last attempt's; then, while the lowest is
/// still above the target, at the lowest attempt's precisions: once with the other spectral family if
/// `refine.other_spectrum`, and once from the broadband start ([`FrequencyInit::Band`], in the Gaussian
/// family if `refine.other_spectrum`, else in the given one; not where the given start is already
/// broadband). Keeps the attempt with the lowest measure (the first on ties). `monitor` sees
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
    let exact = settings.method == Method::Exact;
    let mut s = settings.clone();
    // Each further attempt's settings, while the sequence goes on.
    // Only where the stability estimate applies: the residuals alone are relative to the equation's
    // scale and can be an order off the error either way, too loose to chase a target of 1e-5 with.
    // Nor where the data do not determine the solution: no precision cures a null space.
    let estimated = indicator.stability.is_some() && !indicator.null_space();
    let mut next = |attempts: &[Attempt], chosen: usize| -> Option<Settings> {
        if !exact || !estimated || attempts[chosen].measure <= refine.target {
            return None;
        }
        let raising = attempts
            .iter()
            .all(|a| a.spectrum == settings.spectrum && a.start == settings.frequencies);
        if raising && chosen + 1 == attempts.len() && attempts.len() <= MAX_RAISES {
            s.log_equation_precision += PRECISION_STEP;
            s.log_boundary_precision += PRECISION_STEP;
            return Some(s.clone());
        }
        let at_best = Settings {
            log_equation_precision: attempts[chosen].log_precisions[0],
            log_boundary_precision: attempts[chosen].log_precisions[1],
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
    };
    while let Some(s) = next(&attempts, chosen).filter(|_| !stopped) {
        // A further attempt that fails (a factorisation singular at the raised precision) ends the
        // sequence: the attempts so far stand.
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
