use std::ops::ControlFlow;
use std::path::PathBuf;

use serde_json::json;
use sparsimony::pde::{Refine, TRUST_THRESHOLD, plot, settings_for};
use sparsimony::solvers::gp_pde::{Method, Problem, Spectrum};

use super::{Bar, CliResult, print_json};

/// `sparsimony pde`.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// A built-in benchmark by name (see --list).
    #[arg(long, value_name = "NAME", required_unless_present_any = ["problem", "list"], conflicts_with = "problem")]
    benchmark: Option<String>,
    /// A problem description (TOML: domain, grid, operator, source, boundary, exact solution).
    #[arg(long, value_name = "FILE")]
    problem: Option<PathBuf>,
    /// List the built-in benchmarks and exit.
    #[arg(long, conflicts_with_all = ["benchmark", "problem", "components", "grid", "iters", "lr", "plot"])]
    list: bool,
    /// Mixture components per field and axis.
    #[arg(long, value_name = "Q")]
    components: Option<usize>,
    /// Collocation points per axis (one number for every axis, or one per axis, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "N,..")]
    grid: Vec<usize>,
    /// Outer iterations, 1 to 10⁶ (default: exact 30, or 10 above 1000 unknowns; Adam 2000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    iters: Option<u32>,
    /// The training method: exact (Gauss–Newton solves for the grid values — Cholesky up to 1000
    /// unknowns, preconditioned conjugate gradients above — and Adam on the kernel parameters) or adam
    /// (the paper's joint Adam on grid values, kernel parameters and precisions).
    #[arg(long, value_parser = super::by_name::<Method>(&Method::NAMES), default_value = "exact")]
    method: Method,
    /// The mixture's spectral family: student_t (Matérn-5/2 × cosine, the paper's GP-HM-StM),
    /// student_t3 (Matérn-3/2 × cosine) or gaussian (GP-HM-GM) [default: the problem's `[solver]
    /// spectrum`, else student_t].
    #[arg(long, value_parser = super::by_name::<Spectrum>(&Spectrum::NAMES))]
    spectrum: Option<Spectrum>,
    /// Adam's learning rate (default 0.01; 0.001 for exact solves above 1000 unknowns).
    #[arg(long)]
    lr: Option<f64>,
    /// Print the result as one JSON object. Where the data do not determine the solution (`null_space`
    /// true, `missing_data` naming what is missing when too few boundary data were given), the infinite
    /// `residual_indicator` is written as null, as JSON has no infinity.
    #[arg(long)]
    json: bool,
    /// Draw solution, exact solution and error to this SVG file.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Fail (exit 1, after printing the result) when the indicator — the largest of the PDE residual at
    /// the collocation grid's cell midpoints tested against 7-cell binomial bumps, the boundary misfit
    /// there, relative to the equation's and the data's scale, and the relative error estimated through
    /// the operator's amplification of them (one elliptic equation with data on every face) — exceeds X;
    /// the table's verdict and JSON `trusted` are then judged against X. Without it an indicator above
    /// 3e-4 is a warning on stderr.
    #[arg(long, value_name = "X")]
    max_indicator: Option<f64>,
    /// One solve at the settings given. By default the exact method solves again with its collocation
    /// precisions raised (ln v + 4, at most twice) while the estimated error stays above 1e-5 and falls,
    /// then with the other spectral family (unless --spectrum or the problem chose one), then from a
    /// broadband start (components spread over the band the data show, for chirps), and keeps the solve
    /// with the lowest.
    #[arg(long)]
    no_refine: bool,
}

/// The library's parameters of a solve, named by the flags that set them.
const FLAGS: &[(&str, &str)] = &[
    ("components", "--components"),
    ("learning_rate", "--lr"),
    ("iterations", "--iters"),
    ("grid", "--grid"),
];

/// The solve's work, roughly: per outer iteration, with `N` grid points, `F` fields and `Σ nₖ` points
/// summed over the axes, a Kronecker product costs about `4·F·N·Σ nₖ`; the exact method takes its
/// Gauss–Newton steps by Cholesky (`(F·N)³/3`) up to its dense limit and by conjugate gradients (a typical
/// 300 products, the cap where lower) above; Adam takes a few products an iteration.
fn solve_work(problem: &Problem, s: &sparsimony::solvers::gp_pde::Settings) -> f64 {
    let points: f64 = problem.axes().iter().map(|x| x.points as f64).product();
    let axis_sum: f64 = problem.axes().iter().map(|x| x.points as f64).sum();
    let unknowns = points * problem.fields().len() as f64;
    let product = 4.0 * unknowns * axis_sum;
    let steps = s.gauss_newton_steps.max(1) as f64;
    let per_iteration = match s.method {
        Method::Exact if unknowns <= s.dense_limit as f64 => steps * (unknowns.powi(3) / 3.0 + product),
        Method::Exact => steps * (s.cg_iterations.min(300) as f64) * product,
        Method::Adam => 4.0 * product,
    };
    s.iterations as f64 * per_iteration
}

/// Runs `sparsimony pde`.
pub fn run(a: Args) -> CliResult {
    if a.list {
        for name in Problem::benchmark_names() {
            let p = Problem::benchmark(name)?;
            outln!("{name:26} {}", p.description())?;
        }
        return Ok(());
    }
    let mut problem = match (&a.benchmark, &a.problem) {
        (Some(name), _) => Problem::benchmark(name)?,
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Problem::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        (None, None) => return Err("give --benchmark NAME or --problem FILE".into()),
    };
    if let Some(path) = &a.plot {
        // Refused before the solve rather than after it.
        sparsimony::plot::require_svg(path)?;
        let inputs: Vec<(&str, &std::path::Path)> = a.problem.iter().map(|p| ("--problem", p.as_path())).collect();
        sparsimony::output::check_outputs(&[("--plot", path)], &inputs)?;
    }
    // The settings the user typed are named by their flags.
    let named = |e: sparsimony::solvers::Error| super::with_flag_names(e.into(), FLAGS);
    if !a.grid.is_empty() {
        problem = problem.with_grid(&a.grid).map_err(named)?;
    }
    let method = a.method;
    let mut s = settings_for(&problem, method, a.components, a.iters.map(|i| i as usize));
    if let Some(spectrum) = a.spectrum {
        s.spectrum = spectrum;
    }
    if let Some(lr) = a.lr {
        s.learning_rate = lr;
    }
    if let Some(x) = a.max_indicator.filter(|x| !(*x >= 0.0 && x.is_finite())) {
        return Err(format!("--max-indicator: must be non-negative and finite, got {x}").into());
    }
    // The other spectral family is tried only where neither the user nor the problem chose one.
    let refine = if a.no_refine {
        Refine::OFF
    } else {
        Refine {
            other_spectrum: a.spectrum.is_none() && problem.spectrum().is_none(),
            ..Refine::DEFAULT
        }
    };
    // A grid beyond memory is said as such before its work is estimated. The estimate counts every
    // solve a refinement may make.
    problem.check_memory().map_err(named)?;
    let solves = refine.max_solves(&problem, s.method).map_err(named)?;
    let (what, reduce) = if solves > 1 {
        (
            format!("the solve (up to {solves} solves with refinement)"),
            "--grid or --iters (--no-refine: one solve)",
        )
    } else {
        ("the solve".to_string(), "--grid or --iters")
    };
    super::work::check(&what, solves as f64 * solve_work(&problem, &s), reduce)?;
    let bar = Bar::new(
        &format!(
            "{} {:?} {:?} Q={}",
            problem.name(),
            problem.axes().iter().map(|x| x.points).collect::<Vec<_>>(),
            s.method,
            s.components
        ),
        a.json,
    );
    s.progress = bar.callback();
    // Each solve restarts the bar: its message says which solve it shows.
    let mut solve = 0;
    let out = sparsimony::pde::run(&problem, &s, refine, |p| {
        if p.iteration == 0 {
            solve += 1;
        }
        let which = if solves > 1 {
            format!("solve {solve} of ≤ {solves} (ln v {:.0})  ", p.log_precisions()[0])
        } else {
            String::new()
        };
        let cg = if p.cg_iterations > 0 {
            format!("  CG {} (rel. residual {:.1e})", p.cg_iterations, p.cg_residual)
        } else {
            String::new()
        };
        bar.message(format!(
            "{which}objective {:.6e}  residual rms {:.2e}  boundary rms {:.2e}{cg}",
            p.objective.total, p.objective.residual_rms, p.objective.boundary_rms
        ));
        ControlFlow::Continue(())
    });
    bar.finish();
    let out = out.map_err(named)?;
    if let Some(path) = &a.plot {
        plot(&out, &problem, path)?;
    }
    if !out.report.converged {
        // As the Python package's ConvergenceWarning.
        warn!(
            "warning: the inner solves stopped at relative residual {:.2e}, above their tolerance {:.1e}: \
             the Gauss–Newton steps were inexact",
            out.report.reached, out.report.tolerance
        );
    }
    let threshold = a.max_indicator.unwrap_or(TRUST_THRESHOLD);
    let trusted = out.indicator.trusted(threshold);
    if let Some(short) = out.indicator.shortfall {
        warn!(
            "warning: {}; this solution is one of many and is not to be trusted",
            short.describe(&problem)
        );
    } else if let Some(s) = out.indicator.stability.filter(|s| s.singular()) {
        warn!(
            "warning: the operator has a null space under the boundary data: its smallest eigenvalue cannot be \
             told apart from zero at this grid ({:.1e} extrapolated to a zero spacing, {:.1e} on the finest \
             grid); the data do not determine the solution, and this one is not to be trusted",
            s.eigenvalue, s.fine
        );
    } else if !trusted && a.max_indicator.is_none() {
        warn!(
            "warning: the indicator {:.2e} is above {threshold:.0e}: the solution does not satisfy the PDE (or \
             its boundary data) between the collocation points, or the operator amplifies that residual into \
             a larger error, and is not to be trusted; try more --components, a finer --grid or another \
             --spectrum",
            out.indicator.value()
        );
    }
    if a.json {
        print_json(&json!({
            "problem": out.problem,
            "rel_l2_error": out.rel_l2_error,
            "seconds": out.seconds,
            "components_kept": out.components_kept,
            "grid": out.grid,
            "method": format!("{:?}", out.method).to_lowercase(),
            "iterations": out.iterations,
            "inner_solves_converged": out.report.converged,
            "field_errors": out.field_errors,
            "residual_indicator": out.indicator.value(),
            "pde_residual": out.indicator.residual,
            "boundary_residual": out.indicator.boundary,
            "error_estimate": out.indicator.estimate().filter(|e| e.is_finite()),
            "smallest_eigenvalue": out.indicator.stability.map(|s| s.eigenvalue),
            "null_space": out.indicator.null_space(),
            "missing_data": out.indicator.shortfall.map(|s| s.describe(&problem)),
            "trusted": trusted,
            "attempts": out.attempts.iter().map(|t| json!({
                "log_precisions": t.log_precisions,
                "spectrum": t.spectrum.to_string(),
                "start": t.start.name(),
                "error_measure": t.measure,
                "seconds": t.seconds,
            })).collect::<Vec<_>>(),
            "chosen_attempt": out.chosen,
        }))?;
    } else {
        outln!("problem          {}", out.problem)?;
        outln!("grid             {:?}", out.grid)?;
        outln!("method           {:?} ({} iterations)", out.method, out.iterations)?;
        match (out.rel_l2_error, &out.field_errors) {
            (Some(e), Some(per)) if per.len() > 1 => {
                let fields: Vec<String> = problem
                    .fields()
                    .iter()
                    .zip(per)
                    .map(|(f, x)| format!("{f} {x:.3e}"))
                    .collect();
                outln!("rel. L2 error    {e:.3e} ({})", fields.join(", "))?;
            }
            (Some(e), _) => outln!("rel. L2 error    {e:.3e}")?,
            _ => outln!("rel. L2 error    (no exact solution given)")?,
        }
        let estimate = match out.indicator.stability {
            _ if out.indicator.shortfall.is_some() => ", null space: too few boundary data".to_string(),
            Some(s) if s.singular() => format!(
                ", null space: smallest eigenvalue {:.1e}, finest grid {:.1e}",
                s.eigenvalue, s.fine
            ),
            Some(s) => format!(", estimated error {:.2e}", s.estimate),
            None => String::new(),
        };
        outln!(
            "indicator        {:.2e} (PDE residual {:.2e}, boundary {:.2e}, off the grid{estimate}){}",
            out.indicator.value(),
            out.indicator.residual,
            out.indicator.boundary,
            if trusted { "" } else { ": NOT TRUSTED" }
        )?;
        if out.attempts.len() > 1 {
            let each: Vec<String> = out
                .attempts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mark = if i == out.chosen { " (kept)" } else { "" };
                    format!(
                        "ln v {:.0} {} {}: {:.2e}{mark}",
                        t.log_precisions[0],
                        t.spectrum,
                        t.start.name(),
                        t.measure
                    )
                })
                .collect();
            outln!("refined          {}", each.join(", "))?;
        }
        outln!("seconds          {:.2}", out.seconds)?;
        outln!("components kept  {:?}", out.components_kept)?;
        if let Some(path) = &a.plot {
            outln!("plot             {}", path.display())?;
        }
    }
    if let Some(max) = a.max_indicator.filter(|_| !trusted) {
        return Err(format!(
            "--max-indicator: the residual indicator {:.2e} exceeds {max:e}: the solution is not to be trusted",
            out.indicator.value()
        )
        .into());
    }
    Ok(())
}
