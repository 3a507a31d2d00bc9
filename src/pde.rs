//! Solving a [`Problem`] end to end, as the `pde` subcommand and the PDE examples do: pick the training
//! method for the grid size, train, predict on the paper's test grid and measure the relative L2 error
//! against the exact solution; plot solution, exact solution and error; solve a manufactured suite
//! ([`run_suite`], shared among MPI ranks under a process group).

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use crate::plot::{Curve, Heatmap, Panel, PlotError};
use crate::solvers::Result;
use crate::solvers::distributed::Part;
use crate::solvers::gp_pde::accuracy::finite_exact_on;
pub use crate::solvers::gp_pde::accuracy::{
    Indicator, TRUST_THRESHOLD, relative_errors, residual_indicator, test_points_per_axis,
};
use crate::solvers::gp_pde::baseline::{Scheme, solve_baseline};
use crate::solvers::gp_pde::refine::solve_refined;
pub use crate::solvers::gp_pde::refine::{Attempt, REFINE_TARGET, Refine};
pub use crate::solvers::gp_pde::settings_for;
use crate::solvers::gp_pde::suite::Suite;
use crate::solvers::gp_pde::{FrequencyInit, Method, OuterIteration, Problem, Settings, Spectrum};

/// Points per axis of a plot: 4000 in 1D, so that a solution of a hundred oscillations still draws
/// smooth (300 test points draw `sin(100x)` as a jagged line); the test grid in 2D and 3D.
pub fn plot_points_per_axis(dims: usize) -> usize {
    if dims == 1 { 4000 } else { test_points_per_axis(dims) }
}

/// A solution sampled on a tensor grid.
#[derive(Debug, Clone)]
pub struct Sampled {
    /// Coordinates per axis.
    pub axes: Vec<Vec<f64>>,
    /// Predictions per field (row-major, first axis slowest).
    pub predicted: Vec<Vec<f64>>,
    /// The exact solution per field, when known.
    pub exact: Option<Vec<Vec<f64>>>,
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Problem name.
    pub problem: String,
    /// Collocation grid points per axis.
    pub grid: Vec<usize>,
    /// The method used.
    pub method: Method,
    /// Outer iterations performed.
    pub iterations: usize,
    /// How the kept iterate's inner solves ended: exact, or the largest relative residual its
    /// conjugate-gradient solves stopped at against their tolerance ([`Solution::report`](crate::solvers::gp_pde::Solution::report)).
    pub report: crate::solvers::Report,
    /// Wall-clock seconds of training, every attempt's (problem set-up and error evaluation excluded).
    pub seconds: f64,
    /// `‖u − u*‖₂ / ‖u*‖₂` over all fields on the test grid, when the problem has an exact solution.
    pub rel_l2_error: Option<f64>,
    /// The same per field.
    pub field_errors: Option<Vec<f64>>,
    /// The residuals off the collocation grid ([`residual_indicator`]): what says whether to trust the
    /// answer when no exact solution is known.
    pub indicator: Indicator,
    /// Every solve made ([`solve_refined`]): the first at the given settings, then with raised
    /// precisions (then the other spectral family and the broadband start) while the indicator asked for
    /// it.
    pub attempts: Vec<Attempt>,
    /// The index of the kept solve in `attempts`.
    pub chosen: usize,
    /// Mixture components kept, per field and axis.
    pub components_kept: Vec<Vec<usize>>,
    /// The solution on the test grid ([`test_points_per_axis`]), where the errors are measured.
    pub test: Sampled,
    /// The solution on the plot grid ([`plot_points_per_axis`]).
    pub plot: Sampled,
}

/// A classical baseline of a linear `problem` (finite differences or Chebyshev collocation on as many
/// points per axis, see [`solve_baseline`]), measured on the grid of `test` (a GP run's test samples, with
/// their exact solution): its relative L2 error and its solve time in seconds.
///
/// # Errors
/// [`solve_baseline`]'s, for a problem outside the baselines' scope among others;
/// [`crate::solvers::Error::InvalidParameter`] when `test` has no exact solution.
pub fn baseline(problem: &Problem, scheme: Scheme, test: &Sampled) -> Result<(f64, f64)> {
    let exact = test
        .exact
        .as_ref()
        .ok_or_else(|| crate::solvers::Error::InvalidParameter {
            name: "exact",
            reason: "a baseline's error needs the exact solution".into(),
        })?;
    let start = Instant::now();
    let b = solve_baseline(problem, scheme)?;
    let seconds = start.elapsed().as_secs_f64();
    let predicted = b.predict(&test.axes)?;
    Ok((relative_errors(&[predicted], &exact[..1]).0, seconds))
}

/// Trains the GP model of `problem` with `settings` (whose `method` is used as given) and evaluates it on
/// the test grid and by its residual indicator; solves again with raised precisions (then the other
/// spectral family and the broadband start) while the indicator's error measure stays above
/// `refine.target` ([`solve_refined`];
/// the command line and the suite refine, the paper's table and the fluids pass [`Refine::OFF`]: one
/// solve at the given settings). `progress` sees every outer iteration of every solve.
///
/// # Errors
/// The problem's and the solver's errors (see [`solve_refined`]).
pub fn run(
    problem: &Problem,
    settings: &Settings,
    refine: Refine,
    progress: impl FnMut(&OuterIteration<'_>) -> ControlFlow<()>,
) -> Result<Outcome> {
    let refined = solve_refined(problem, settings, refine, progress)?;
    let seconds = refined.attempts.iter().map(|a| a.seconds).sum();
    let (solution, indicator) = (refined.solution, refined.indicator);
    let dims = problem.axes().len();
    let sample = |points: usize| -> Result<Sampled> {
        let axes = problem.test_points(points);
        let predicted = solution.predict_fields(&axes)?;
        let exact = finite_exact_on(problem, &axes)?;
        Ok(Sampled { axes, predicted, exact })
    };
    let test = sample(test_points_per_axis(dims))?;
    let plot = if plot_points_per_axis(dims) == test_points_per_axis(dims) {
        test.clone()
    } else {
        sample(plot_points_per_axis(dims))?
    };
    let components_kept = solution.components_kept();
    let (rel_l2_error, field_errors) = match &test.exact {
        Some(e) => {
            let (all, per) = relative_errors(&test.predicted, e);
            (Some(all), Some(per))
        }
        None => (None, None),
    };
    Ok(Outcome {
        problem: problem.name().to_string(),
        grid: problem.axes().iter().map(|a| a.points).collect(),
        method: settings.method,
        iterations: solution.report.iterations,
        report: solution.report,
        seconds,
        rel_l2_error,
        field_errors,
        indicator,
        attempts: refined.attempts,
        chosen: refined.chosen,
        components_kept,
        test,
        plot,
    })
}

/// One problem of a manufactured [`Suite`] solved as the command line solves it ([`run`], with the
/// suite's settings for its size), beside the classical baselines: what [`run_suite`] gives per problem.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteResult {
    /// The problem's seed (its index in the suite).
    pub seed: u64,
    /// The solver's refusal (its typed error's message) where it did not solve the problem.
    pub refused: Option<String>,
    /// `‖u − u*‖₂ / ‖u*‖₂` on the test grid; `∞` where refused.
    pub error: f64,
    /// The residual indicator's value ([`Indicator::value`]); `∞` where refused.
    pub indicator: f64,
    /// The indicator's stability estimate alone ([`Indicator::estimate`]); NaN where it does not apply.
    pub estimate: f64,
    /// The kept solve's equation log-precision; NaN where refused.
    pub log_precision: f64,
    /// The kept solve's spectral family.
    pub spectrum: Spectrum,
    /// Whether the kept solve started from the broadband frequencies.
    pub broadband: bool,
    /// Solves made.
    pub solves: usize,
    /// Seconds of training, every solve's; NaN where refused.
    pub seconds: f64,
    /// Second-order finite differences on the same grid: relative L2 error and seconds, where they apply.
    pub finite_differences: Option<(f64, f64)>,
    /// Chebyshev collocation on as many points: relative L2 error and seconds, where it applies.
    pub chebyshev: Option<(f64, f64)>,
}

/// Solves problems `first..first + count` of `suite` with `spectrum` and `refine` (see [`run`]) and the
/// baselines beside each, in seed order; a problem the solver refuses is a result (`refused`), not an
/// error. `solved` sees each result as this process finishes it and `progress` every outer iteration (for
/// the caller's display). Under a process group installed on this thread
/// ([`crate::solvers::distributed`]) the problems are shared among the processes — each solved by one, in
/// turn, its result sent to all — and every process returns every result.
///
/// # Errors
/// A seed the suite cannot draw ([`Suite::problem`]); a failed exchange between processes.
pub fn run_suite(
    suite: &Suite,
    (first, count): (u64, u64),
    (spectrum, refine): (Spectrum, Refine),
    solved: impl FnMut(&SuiteResult),
    progress: impl Fn(u64, &OuterIteration<'_>),
) -> Result<Vec<SuiteResult>> {
    let solved = std::cell::RefCell::new(solved);
    let count = usize::try_from(count).map_err(|_| crate::solvers::Error::InvalidParameter {
        name: "count",
        reason: format!("{count} problems do not fit this machine's address space"),
    })?;
    crate::solvers::distributed::shared(count, |items| {
        items
            .map(|k| {
                let result = suite_result(suite, first + k as u64, spectrum, refine, &progress)?;
                (solved.borrow_mut())(&result);
                Ok(result)
            })
            .collect()
    })
}

/// Problem `seed` of `suite` solved ([`run_suite`]).
fn suite_result(
    suite: &Suite,
    seed: u64,
    spectrum: Spectrum,
    refine: Refine,
    progress: &impl Fn(u64, &OuterIteration<'_>),
) -> Result<SuiteResult> {
    let m = suite.problem(seed)?;
    let settings = Settings {
        spectrum,
        ..settings_for(&m.problem, Method::Exact, None, None)
    };
    let solved = run(&m.problem, &settings, refine, |p| {
        progress(seed, p);
        ControlFlow::Continue(())
    });
    Ok(match solved {
        Ok(out) => {
            let kept = &out.attempts[out.chosen];
            SuiteResult {
                seed,
                refused: None,
                error: out.rel_l2_error.unwrap_or(f64::NAN),
                indicator: out.indicator.value(),
                estimate: out.indicator.estimate().unwrap_or(f64::NAN),
                log_precision: kept.log_precisions[0],
                spectrum: kept.spectrum,
                broadband: kept.start == FrequencyInit::Band,
                solves: out.attempts.len(),
                seconds: out.seconds,
                finite_differences: baseline(&m.problem, Scheme::FiniteDifferences, &out.test).ok(),
                chebyshev: baseline(&m.problem, Scheme::Chebyshev, &out.test).ok(),
            }
        }
        Err(e) => SuiteResult {
            seed,
            refused: Some(e.to_string()),
            error: f64::INFINITY,
            indicator: f64::INFINITY,
            estimate: f64::NAN,
            log_precision: f64::NAN,
            spectrum,
            broadband: false,
            solves: 0,
            seconds: f64::NAN,
            finite_differences: None,
            chebyshev: None,
        },
    })
}

/// A suite's result as values that cross between processes.
impl Part for SuiteResult {
    fn encode(&self, out: &mut Vec<f64>) {
        let dof = match self.spectrum {
            Spectrum::Gaussian => 0.0,
            Spectrum::StudentT { dof } => f64::from(dof),
        };
        let pair = |p: Option<(f64, f64)>| p.map_or([0.0, 0.0, 0.0], |(e, s)| [1.0, e, s]);
        out.extend([
            self.seed as f64,
            self.error,
            self.indicator,
            self.estimate,
            self.log_precision,
            dof,
            f64::from(u8::from(self.broadband)),
            self.solves as f64,
            self.seconds,
        ]);
        out.extend(pair(self.finite_differences));
        out.extend(pair(self.chebyshev));
        if let Some(why) = &self.refused {
            out.extend(why.chars().map(|c| f64::from(u32::from(c))));
        }
    }
    fn decode(values: &[f64]) -> Result<Self> {
        let (head, refused) = values
            .split_at_checked(15)
            .ok_or_else(|| crate::solvers::distributed::garbled("a suite's result"))?;
        let pair = |v: &[f64]| (v[0] == 1.0).then_some((v[1], v[2]));
        let refused = (!refused.is_empty()).then(|| refused.iter().filter_map(|c| char::from_u32(*c as u32)).collect());
        Ok(SuiteResult {
            seed: head[0] as u64,
            refused,
            error: head[1],
            indicator: head[2],
            estimate: head[3],
            log_precision: head[4],
            spectrum: match head[5] {
                0.0 => Spectrum::Gaussian,
                dof => Spectrum::StudentT { dof: dof as u32 },
            },
            broadband: head[6] != 0.0,
            solves: head[7] as usize,
            seconds: head[8],
            finite_differences: pair(&head[9..12]),
            chebyshev: pair(&head[12..15]),
        })
    }
}

/// Draws the solution, the exact solution and the pointwise error of every field (SVG): curves for 1D
/// problems, heat maps (first axis vertical) for 2D ones.
///
/// # Errors
/// [`PlotError`] for a non-SVG name, a problem of 3+ dimensions or a failed write.
pub fn plot(outcome: &Outcome, problem: &Problem, path: &Path) -> std::result::Result<(), PlotError> {
    let names = problem.axis_names();
    let sampled = &outcome.plot;
    let errors: Option<Vec<Vec<f64>>> = sampled.exact.as_ref().map(|ex| {
        sampled
            .predicted
            .iter()
            .zip(ex)
            .map(|(p, e)| p.iter().zip(e).map(|(a, b)| a - b).collect())
            .collect()
    });
    match sampled.axes.len() {
        1 => {
            let mut panels = Vec::new();
            for (f, field) in problem.fields().iter().enumerate() {
                let mut curves = vec![Curve {
                    label: format!("GP {field}"),
                    values: &sampled.predicted[f],
                    dashed: true,
                }];
                if let Some(ex) = &sampled.exact {
                    curves.insert(
                        0,
                        Curve {
                            label: format!("exact {field}"),
                            values: &ex[f],
                            dashed: false,
                        },
                    );
                }
                panels.push(Panel {
                    title: field.clone(),
                    curves,
                });
                if let Some(err) = &errors {
                    panels.push(Panel {
                        title: format!("error in {field}"),
                        curves: vec![Curve {
                            label: "GP − exact".into(),
                            values: &err[f],
                            dashed: false,
                        }],
                    });
                }
            }
            crate::plot::line_panels(path, names[0], &sampled.axes[0], &panels)
        }
        2 => {
            let mut maps = Vec::new();
            for (f, field) in problem.fields().iter().enumerate() {
                maps.push(Heatmap {
                    title: format!("GP {field}"),
                    values: &sampled.predicted[f],
                });
                if let Some(ex) = &sampled.exact {
                    maps.push(Heatmap {
                        title: format!("exact {field}"),
                        values: &ex[f],
                    });
                }
                if let Some(err) = &errors {
                    maps.push(Heatmap {
                        title: format!("error in {field}"),
                        values: &err[f],
                    });
                }
            }
            crate::plot::heatmaps(path, (names[0], names[1]), (&sampled.axes[0], &sampled.axes[1]), &maps)
        }
        d => Err(PlotError::Data(format!(
            "plots are drawn for 1D and 2D problems, this one has {d} axes"
        ))),
    }
}
