use sparsimony::solvers::Estimator;
use std::path::PathBuf;

use clap::ValueEnum;
use serde_json::json;
use sparsimony::solvers::Backend;
use sparsimony::solvers::regression::path::CrossValidation;
use sparsimony::solvers::regression::{BestSubset, ElasticNet, Iht, LinearFit, Omp, RandomSupport, Solver, Stlsq};

use super::{Bar, CliResult, print_json};

/// The estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// 1/(2n)‖y − Xw − b‖² + α‖w‖₁ (scikit-learn's scaling).
    Lasso,
    /// 1/(2n)‖y − Xw − b‖² + α(ρ‖w‖₁ + (1−ρ)/2‖w‖²), ρ = --l1-ratio.
    Enet,
    /// Orthogonal matching pursuit: --k features (default d/10), or until ‖r‖² ≤ --threshold.
    Omp,
    /// Iterative hard thresholding to --k features, then least squares on them.
    Iht,
    /// Sequentially thresholded least squares (PySINDy's STLSQ): --threshold, ridge --alpha (default 0.05).
    Stlsq,
    /// Exhaustive search of the best --k features (tiny problems only).
    BestSubset,
    /// For ill-conditioned designs: Lasso on the design augmented with its normalised singular directions,
    /// then the partial Lasso leaving the directions that carry signal unpenalised (α by --cv folds).
    RandomSupport,
}

/// The algorithm.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SolverArg {
    /// Coordinate descent with working sets and gap-safe screening.
    Cd,
    /// FISTA with adaptive restart.
    Fista,
}

/// `sparsimony regress`.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// The design X: one row per sample, one column per feature (.csv with header, or .npy).
    #[arg(long, value_name = "FILE")]
    x: PathBuf,
    /// The response y: one column (.csv with header) or a 1-D .npy array, one value per row of X.
    #[arg(long, value_name = "FILE")]
    y: PathBuf,
    /// The estimator.
    #[arg(long, value_enum, default_value_t = Method::Lasso)]
    method: Method,
    /// Penalty level α ≥ 0 (lasso, enet), in the scaling above; without it, α is chosen by K-fold
    /// cross-validation. For stlsq, the ridge weight.
    #[arg(long)]
    alpha: Option<f64>,
    /// Number of features to select (omp, iht, best-subset).
    #[arg(long)]
    k: Option<usize>,
    /// Coefficient threshold (stlsq), or residual tolerance ‖r‖² (omp).
    #[arg(long)]
    threshold: Option<f64>,
    /// Mixing ρ ∈ [0, 1] of the elastic net (1 is the Lasso) [default: 0.5].
    #[arg(long)]
    l1_ratio: Option<f64>,
    /// Folds of the cross-validation that chooses α when --alpha is not given (lasso, enet,
    /// random-support) [default: 5].
    #[arg(long)]
    cv: Option<usize>,
    /// Constrain the coefficients to be non-negative.
    #[arg(long)]
    positive: bool,
    /// The algorithm (lasso, enet) [default: cd].
    #[arg(long, value_enum)]
    solver: Option<SolverArg>,
    /// Fit without an intercept.
    #[arg(long)]
    no_intercept: bool,
    /// Iteration cap (lasso, enet, iht, stlsq, random-support) [default: 10000; stlsq: 20].
    #[arg(long)]
    max_iter: Option<usize>,
    /// Tolerance, relative and below 1 (lasso, enet, random-support: the duality gap relative to
    /// ‖y − ȳ‖²/n; iht: the relative change of the coefficients) [default: 1e-6; iht: 1e-10].
    #[arg(long)]
    tol: Option<f64>,
    /// Solve the cross-validation grid (all folds × all α) as one batch on the GPU (lasso and enet without
    /// --alpha); the held-out errors and the final fit stay on the CPU.
    #[arg(long)]
    gpu: bool,
    /// Print JSON: {"method", "alpha", "l1_ratio", "features", "coef", "intercept", "objective", "report":
    /// {"iterations", "converged", "measure", "reached", "tolerance"}, "selected_alpha"}.
    #[arg(long)]
    json: bool,
}

/// Reads the data, fits, prints.
pub fn run(a: Args) -> CliResult {
    let samples = super::Samples::read(&a.x, &a.y)?;
    let (x, y) = (&samples.x, &samples.y);
    let intercept = !a.no_intercept;
    // A bad value the library finds is reported where it is in the file the user gave.
    let locate = |e: Box<dyn std::error::Error>| -> Box<dyn std::error::Error> {
        // The library's parameter names, as the flags the user typed (OMP's tolerance is --threshold).
        let tol = if matches!(a.method, Method::Omp) {
            "--threshold"
        } else {
            "--tol"
        };
        let flags = [
            ("alpha", "--alpha"),
            ("n_nonzero", "--k"),
            ("folds", "--cv"),
            ("max_iter", "--max-iter"),
            ("l1_ratio", "--l1-ratio"),
            ("threshold", "--threshold"),
            ("tol", tol),
        ];
        let e = super::with_flag_names(samples.locate(e), &flags);
        if !super::is_singular(e.as_ref()) {
            return e;
        }
        match super::singular_columns(&x.columns, x.values(), intercept) {
            Some(why) => format!("{}: {why} ({e})", a.x.display()).into(),
            None => e,
        }
    };
    check_flags(&a)?;
    let (xv, yv) = (x.values(), y.view());
    let fitted = (|| -> Result<(LinearFit, Option<f64>), Box<dyn std::error::Error>> {
        Ok(match a.method {
            Method::Lasso | Method::Enet => fit_elastic_net(&a, x.values(), y.view())?,
            Method::Omp => {
                let omp = Omp {
                    n_nonzero: a.k,
                    tol: a.threshold,
                    fit_intercept: intercept,
                };
                (omp.fit((xv, yv))?, None)
            }
            Method::Iht => {
                let d = Iht::default();
                let iht = Iht {
                    n_nonzero: Some(a.k.ok_or("--method iht needs --k")?),
                    max_iter: a.max_iter.unwrap_or(d.max_iter),
                    tol: a.tol.unwrap_or(d.tol),
                    fit_intercept: intercept,
                    ..d
                };
                (iht.fit((xv, yv))?, None)
            }
            Method::Stlsq => {
                let d = Stlsq::default();
                let st = Stlsq {
                    threshold: a.threshold.ok_or("--method stlsq needs --threshold")?,
                    alpha: a.alpha.unwrap_or(0.05),
                    max_iter: a.max_iter.unwrap_or(d.max_iter),
                    fit_intercept: intercept,
                    ..d
                };
                (st.fit((xv, yv))?, None)
            }
            Method::RandomSupport => {
                let mut rs = RandomSupport {
                    fit_intercept: intercept,
                    ..RandomSupport::default()
                };
                rs.cv.folds = a.cv.unwrap_or(rs.cv.folds);
                rs.cv.model.max_iter = a.max_iter.unwrap_or(rs.cv.model.max_iter);
                rs.cv.model.tol = a.tol.unwrap_or(rs.cv.model.tol);
                let bar = Bar::new("random support: cross-validation", a.json);
                rs.cv.progress = bar.callback();
                let f = rs.fit((xv, yv));
                bar.finish();
                let f = f?;
                if f.unconverged_path_fits > 0 {
                    warn!(
                        "warning: {} fits of the cross-validations' paths stopped at their iteration cap and were kept as they were",
                        f.unconverged_path_fits
                    );
                }
                (f.fit, Some(f.alpha))
            }
            Method::BestSubset => {
                let bs = BestSubset {
                    n_nonzero: Some(a.k.ok_or("--method best-subset needs --k")?),
                    fit_intercept: intercept,
                };
                (bs.fit((xv, yv))?, None)
            }
        })
    })();
    let (fit, selected) = fitted.map_err(locate)?;
    // Every number printed is finite, or the run says why not.
    if !(fit.objective.is_finite() && fit.intercept.is_finite() && fit.coef.iter().all(|c| c.is_finite())) {
        return Err(
            "the fit produced non-finite coefficients or objective: rescale X and y (e.g. to unit standard deviation)"
                .into(),
        );
    }
    if !fit.report.converged {
        let hint = match a.method {
            Method::Lasso | Method::Enet | Method::RandomSupport => " (raise --max-iter or --tol)",
            Method::Iht => " (raise --max-iter)",
            _ => "",
        };
        warn!(
            "warning: the fit {}; the coefficients below are its last iterate{hint}",
            fit.report
        );
    }
    if a.method == Method::Omp
        && let Some(k) = a.k
        && fit.n_nonzero() < k
    {
        warn!(
            "warning: omp selected {} of the --k {k} features: the residual was already orthogonal to the \
             remaining columns",
            fit.n_nonzero()
        );
    }
    let alpha = selected.or(a.alpha);
    let l1_ratio = match a.method {
        Method::Lasso => Some(1.0),
        Method::Enet => Some(a.l1_ratio.unwrap_or(0.5)),
        _ => None,
    };
    let method = method_name(a.method);
    let r = &fit.report;
    if a.json {
        print_json(&json!({
            "method": method,
            "alpha": alpha,
            "l1_ratio": l1_ratio,
            "features": x.columns,
            "coef": fit.coef.to_vec(),
            "intercept": fit.intercept,
            "objective": fit.objective,
            "report": {
                "iterations": r.iterations,
                "converged": r.converged,
                "measure": r.measure.name(),
                "reached": r.reached,
                "tolerance": r.tolerance,
            },
            "selected_alpha": selected,
        }))?;
        return Ok(());
    }
    let (n, d) = x.values().dim();
    match (selected, alpha) {
        (Some(s), _) => outln!(
            "{method}, α = {s:.6e} chosen by {}-fold cross-validation — {n} samples, {d} features",
            a.cv.unwrap_or(5)
        )?,
        (None, Some(al)) => outln!("{method}, α = {al:e} — {n} samples, {d} features")?,
        (None, None) => outln!("{method} — {n} samples, {d} features")?,
    }
    if let Some(r) = l1_ratio.filter(|_| a.method == Method::Enet) {
        outln!("l1_ratio ρ = {r}")?;
    }
    match a.method {
        Method::Lasso | Method::Enet => outln!(
            "objective 1/(2n)‖y − Xw − b‖² + α(ρ‖w‖₁ + (1−ρ)/2‖w‖²) = {:.10e}",
            fit.objective
        )?,
        _ => outln!("1/(2n)‖y − Xw − b‖² = {:.10e}", fit.objective)?,
    }
    outln!("{r}")?;
    let width = x.columns.iter().map(String::len).max().unwrap_or(0).clamp(9, 40);
    outln!("{:>width$}  {:>14}", "feature", "coefficient")?;
    for (name, c) in x.columns.iter().zip(fit.coef.iter()) {
        outln!("{name:>width$}  {c:>14.6}")?;
    }
    outln!("{:>width$}  {:>14.6}", "intercept", fit.intercept)?;
    outln!("{} of {d} features selected", fit.n_nonzero())?;
    Ok(())
}

/// Refuses the flags `a.method` does not take, and the combinations that contradict each other, naming
/// them: a flag that is silently ignored gives a fit the user did not ask for.
fn check_flags(a: &Args) -> Result<(), String> {
    let given = [
        ("--alpha", a.alpha.is_some()),
        ("--k", a.k.is_some()),
        ("--threshold", a.threshold.is_some()),
        ("--l1-ratio", a.l1_ratio.is_some()),
        ("--cv", a.cv.is_some()),
        ("--positive", a.positive),
        ("--solver", a.solver.is_some()),
        ("--max-iter", a.max_iter.is_some()),
        ("--tol", a.tol.is_some()),
        ("--gpu", a.gpu),
    ];
    let takes: &[&str] = match a.method {
        Method::Lasso => &[
            "--alpha",
            "--cv",
            "--positive",
            "--solver",
            "--max-iter",
            "--tol",
            "--gpu",
        ],
        Method::Enet => &[
            "--alpha",
            "--l1-ratio",
            "--cv",
            "--positive",
            "--solver",
            "--max-iter",
            "--tol",
            "--gpu",
        ],
        Method::Omp => &["--k", "--threshold"],
        Method::Iht => &["--k", "--max-iter", "--tol"],
        Method::Stlsq => &["--threshold", "--alpha", "--max-iter"],
        Method::BestSubset => &["--k"],
        Method::RandomSupport => &["--cv", "--max-iter", "--tol"],
    };
    let method = method_name(a.method);
    if let Some((flag, _)) = given.iter().find(|(f, on)| *on && !takes.contains(f)) {
        return Err(format!(
            "{flag} does not apply to --method {method} (it takes {})",
            takes.join(", ")
        ));
    }
    let exclusive = [
        (
            a.method == Method::Omp && a.k.is_some() && a.threshold.is_some(),
            "--k",
            "--threshold",
            "omp stops at --k features or at the residual --threshold, not both",
        ),
        (
            a.alpha.is_some() && a.cv.is_some(),
            "--alpha",
            "--cv",
            "--cv chooses α by cross-validation",
        ),
        (
            a.alpha.is_some() && a.gpu,
            "--alpha",
            "--gpu",
            "--gpu solves the cross-validation grid that chooses α",
        ),
    ];
    if let Some((_, f, g, why)) = exclusive.iter().find(|c| c.0) {
        return Err(format!("{f} and {g} contradict each other: {why}"));
    }
    if let Some(r) = a.l1_ratio
        && a.alpha.is_none()
        && r < 1e-3
    {
        return Err(format!(
            "--l1-ratio {r:e} with α chosen by cross-validation: the grid starts at α_max = ‖Xᵀy‖∞/(nρ), \
             which degenerates as ρ → 0 (scikit-learn's grid too); give --alpha, or ρ ≥ 1e-3"
        ));
    }
    if let Some(t) = a.tol
        && !(t > 0.0 && t < 1.0)
    {
        return Err(format!("--tol is a relative tolerance in (0, 1), got {t}"));
    }
    Ok(())
}

/// The method's name as the command line spells it.
fn method_name(m: Method) -> String {
    m.to_possible_value()
        .expect("no skipped variants")
        .get_name()
        .to_string()
}

/// Lasso / elastic net at --alpha, or with α chosen by cross-validation; returns the selected α too.
fn fit_elastic_net(
    a: &Args,
    x: ndarray::ArrayView2<'_, f64>,
    y: ndarray::ArrayView1<'_, f64>,
) -> Result<(LinearFit, Option<f64>), Box<dyn std::error::Error>> {
    let d = ElasticNet::default();
    let model = ElasticNet {
        alpha: a.alpha.unwrap_or(1.0),
        l1_ratio: if a.method == Method::Lasso {
            1.0
        } else {
            a.l1_ratio.unwrap_or(0.5)
        },
        fit_intercept: !a.no_intercept,
        positive: a.positive,
        penalty_weights: None,
        precompute: Default::default(),
        max_iter: a.max_iter.unwrap_or(d.max_iter),
        tol: a.tol.unwrap_or(d.tol),
        solver: match a.solver {
            Some(SolverArg::Fista) => Solver::Fista,
            _ => Solver::CoordinateDescent,
        },
    };
    if a.alpha.is_some() {
        return Ok((model.fit((x, y))?, None));
    }
    let backend = if a.gpu {
        let b = Backend::gpu()?;
        warn!("cross-validating on {}", b.name());
        b
    } else {
        Backend::Cpu
    };
    let bar = Bar::new("cross-validation", a.json);
    let cv = CrossValidation {
        model,
        folds: a.cv.unwrap_or(5),
        backend,
        progress: bar.callback(),
        ..CrossValidation::default()
    };
    let r = cv.fit((x, y));
    bar.finish();
    let r = r?;
    let unconverged = r.unconverged();
    if let Some((ai, fold, worst)) = unconverged
        .iter()
        .copied()
        .max_by(|p, q| p.2.excess().total_cmp(&q.2.excess()))
    {
        warn!(
            "warning: {} of the {} path fits stopped at the iteration cap and were kept as they were \
             (furthest from its tolerance: α = {:.3e}, fold {}: {worst})",
            unconverged.len(),
            r.path_reports.len(),
            r.alphas[ai],
            fold + 1,
        );
    }
    Ok((r.fit, Some(r.alpha)))
}
