//! Solving a [`Problem`] end to end, as the `pde` subcommand and the PDE examples do: pick the training
//! method for the grid size, train, predict on the paper's test grid and measure the relative L2 error
//! against the exact solution; plot solution, exact solution and error.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use crate::plot::{Curve, Heatmap, Panel, PlotError};
use crate::solvers::Result;
use crate::solvers::gp_pde::accuracy::finite_exact_on;
pub use crate::solvers::gp_pde::accuracy::{
    Indicator, TRUST_THRESHOLD, relative_errors, residual_indicator, test_points_per_axis,
};
use crate::solvers::gp_pde::baseline::{Scheme, solve_baseline};
use crate::solvers::gp_pde::refine::solve_refined;
pub use crate::solvers::gp_pde::refine::{Attempt, REFINE_TARGET, Refine};
pub use crate::solvers::gp_pde::settings_for;
use crate::solvers::gp_pde::{Method, OuterIteration, Problem, Settings};

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
