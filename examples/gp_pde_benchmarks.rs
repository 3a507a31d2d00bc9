//! The benchmarks of Fang et al. (ICLR 2024, "Solving high frequency and multi-scale PDEs with Gaussian
//! processes") solved by `sparsimony::solvers::gp_pde`: the relative L2 error on the paper's test grid and the
//! training time, beside the authors' own GP-HM-StM figure (their run logs, best checkpoint; see
//! REFERENCES.md).
//!
//! ```sh
//! cargo run --release --example gp_pde_benchmarks                    # every benchmark, default budgets
//! cargo run --release --example gp_pde_benchmarks -- poisson_1d-single_sin allencahn_1d-sin_cos
//! cargo run --release --example gp_pde_benchmarks -- --plot plots/    # SVG per problem into plots/
//! cargo run --release --example gp_pde_benchmarks -- --iters 100      # outer iterations for every problem
//! cargo run --release --example gp_pde_benchmarks -- --gaussian       # the Gaussian spectrum (GP-HM-GM)
//! ```
//!
//! Beside each linear benchmark, the classical baselines on as many points per axis, solved directly and
//! measured on the same test grid: second-order finite differences and Chebyshev collocation
//! (`solvers::gp_pde::baseline`; a dash where a baseline does not apply).
//!
//! Exact inner solves throughout: factored up to `Settings::dense_limit` unknowns, preconditioned conjugate
//! gradients above (the 2D benchmarks at the paper's 200² and 400², 10 outer iterations by default).

use std::ops::ControlFlow;
use std::path::PathBuf;

use sparsimony::pde::{Refine, baseline, plot, run, settings_for};
use sparsimony::solvers::gp_pde::baseline::Scheme;
use sparsimony::solvers::gp_pde::{Method, Problem, Settings, Spectrum};

/// The paper's benchmarks with the authors' GP-HM-StM relative L2 error.
const PAPER: &[(&str, f64)] = &[
    ("poisson_1d-single_sin", 6.53e-7),
    ("poisson_1d-sin_cos", 1.08e-6),
    ("poisson_1d-mix_sin", 1.78e-3),
    ("poisson_1d-x_time_sinx", 3.02e-5),
    ("poisson_1d-x2_add_sinx", 2.64e-3),
    ("allencahn_1d-single_sin", 4.90e-6),
    ("allencahn_1d-sin_cos", 4.76e-6),
    ("poisson_2d-sin_sin", 6.87e-5),
    ("poisson_2d-sin_add_cos", 1.02e-3),
    ("allencahn_2d-mix-sincos", 5.68e-3),
    ("advection-sin", 1.43e-4),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut names = Vec::new();
    let mut plot_dir: Option<PathBuf> = None;
    let mut iters = None;
    let mut spectrum = Settings::default().spectrum;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--plot" => plot_dir = Some(args.next().ok_or("--plot needs a directory")?.into()),
            "--iters" => iters = Some(args.next().ok_or("--iters needs a number")?.parse()?),
            "--gaussian" => spectrum = Spectrum::Gaussian,
            _ => names.push(a),
        }
    }
    if names.is_empty() {
        names = PAPER.iter().map(|(n, _)| n.to_string()).collect();
    }
    if let Some(dir) = &plot_dir {
        std::fs::create_dir_all(dir)?;
    }
    println!(
        "{:26} {:>11} {:>6} {:>6} {:>11} {:>9} {:>11} {:>19} {:>19}",
        "problem",
        "grid",
        "method",
        "iters",
        "rel. L2",
        "seconds",
        "GP-HM-StM",
        "FD: rel. L2, s",
        "Chebyshev: rel. L2, s"
    );
    for name in &names {
        let problem = Problem::benchmark(name)?;
        let settings = Settings {
            spectrum,
            ..settings_for(&problem, Method::Exact, None, iters)
        };
        let out = run(&problem, &settings, Refine::OFF, |p| {
            eprint!("\r{name}: iteration {} / {}   ", p.iteration + 1, settings.iterations);
            ControlFlow::Continue(())
        })?;
        eprint!("\r{:60}\r", "");
        let paper = PAPER
            .iter()
            .find(|(n, _)| n == name)
            .map_or("—".to_string(), |(_, e)| format!("{e:.2e}"));
        let grid: Vec<String> = out.grid.iter().map(|n| n.to_string()).collect();
        let cell = |scheme| {
            baseline(&problem, scheme, &out.test)
                .map_or(format!("{:>19}", "—"), |(e, s)| format!("{e:>10.2e} {s:>8.3}"))
        };
        println!(
            "{:26} {:>11} {:>6} {:>6} {:>11.3e} {:>9.1} {:>11} {} {}",
            name,
            grid.join("×"),
            format!("{:?}", out.method).to_lowercase(),
            out.iterations,
            out.rel_l2_error.unwrap_or(f64::NAN),
            out.seconds,
            paper,
            cell(Scheme::FiniteDifferences),
            cell(Scheme::Chebyshev)
        );
        if let Some(dir) = &plot_dir {
            plot(&out, &problem, &dir.join(format!("{name}.svg")))?;
        }
    }
    Ok(())
}
