use std::path::PathBuf;

use clap::ValueEnum;
use serde_json::json;
use sparsimony::io::read_table;
use sparsimony::solvers::regression::Lasso;

use super::{CliResult, print_json};

/// The estimator.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Method {
    /// 1/(2n)‖y − Xw − b‖² + α‖w‖₁ (scikit-learn's scaling), by FISTA with restart, to a duality-gap tolerance.
    Lasso,
}

/// `sparsimony regress`.
#[derive(Debug, clap::Args)]
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
    /// Penalty level α ≥ 0, in the scaling above.
    #[arg(long)]
    alpha: f64,
    /// Fit without an intercept.
    #[arg(long)]
    no_intercept: bool,
    /// Iteration cap.
    #[arg(long, default_value_t = 10_000)]
    max_iter: usize,
    /// Duality-gap tolerance, relative to ‖y − ȳ‖²/n.
    #[arg(long, default_value_t = 1e-6)]
    tol: f64,
    /// Print JSON: {"method", "alpha", "features", "coef", "intercept", "objective", "duality_gap", "n_iter", "selected_alpha"}.
    #[arg(long)]
    json: bool,
}

/// Reads the data, fits, prints.
pub fn run(a: Args) -> CliResult {
    let x = read_table(&a.x)?;
    let y = read_table(&a.y)?.into_vector(&a.y)?;
    if y.len() != x.values.nrows() {
        return Err(format!(
            "{} has {} rows but {} has {}",
            a.x.display(),
            x.values.nrows(),
            a.y.display(),
            y.len()
        )
        .into());
    }
    let Method::Lasso = a.method;
    let model = Lasso {
        alpha: a.alpha,
        fit_intercept: !a.no_intercept,
        max_iter: a.max_iter,
        tol: a.tol,
    };
    let fit = model.fit(x.values.view(), y.view())?;
    if a.json {
        print_json(&json!({
            "method": "lasso",
            "alpha": a.alpha,
            "features": x.columns,
            "coef": fit.coef.to_vec(),
            "intercept": fit.intercept,
            "objective": fit.objective,
            "duality_gap": fit.duality_gap,
            "n_iter": fit.n_iter,
            "selected_alpha": null,
        }));
        return Ok(());
    }
    let (n, d) = x.values.dim();
    println!("Lasso, α = {} — {n} samples, {d} features", a.alpha);
    println!(
        "objective 1/(2n)‖y − Xw − b‖² + α‖w‖₁ = {:.10e}  (duality gap {:.1e}, {} iterations)",
        fit.objective, fit.duality_gap, fit.n_iter
    );
    let width = x.columns.iter().map(String::len).max().unwrap_or(0).max(9);
    println!("{:>width$}  {:>14}", "feature", "coefficient");
    for (name, c) in x.columns.iter().zip(fit.coef.iter()) {
        println!("{name:>width$}  {c:>14.6}");
    }
    println!("{:>width$}  {:>14.6}", "intercept", fit.intercept);
    let kept = fit.coef.iter().filter(|c| **c != 0.0).count();
    println!("{kept} of {d} features selected");
    Ok(())
}
