//! Which training is faster to a given error: the paper's joint Adam on grid values, kernel parameters
//! and precisions, or exact Gauss–Newton solves for the grid values with Adam on the kernel parameters
//! only. Both run on the same benchmark; the error on the test grid is measured at every iteration
//! (outside the clock) and the time at which each error level is first reached is printed.
//!
//! ```sh
//! cargo run --release --example gp_pde_methods                            # poisson_1d-single_sin
//! cargo run --release --example gp_pde_methods -- allencahn_1d-sin_cos 3000   # benchmark, Adam iterations
//! ```

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use sparsimony::pde::{relative_errors, settings_for, test_points_per_axis};
use sparsimony::solvers::gp_pde::{Method, Problem, solve};

const LEVELS: [f64; 7] = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "poisson_1d-single_sin".into());
    let adam_iterations: usize = args.next().map_or(Ok(2000), |s| s.parse())?;
    let problem = Problem::benchmark(&name)?;
    let disc = problem.discretize()?;
    let test = problem.test_points(test_points_per_axis(problem.axes().len()));
    let exact = problem.exact_on(&test)?.ok_or("the benchmark has no exact solution")?;
    println!("{}", problem.description());
    println!(
        "{:>8} {:>7} {:>11} {:>10}  time to reach relative L2 error",
        "method", "iters", "final", "seconds"
    );
    for method in [Method::Exact, Method::Adam] {
        let iterations = (method == Method::Adam).then_some(adam_iterations);
        let s = settings_for(&problem, method, None, iterations);
        let mut reached = [None; LEVELS.len()];
        let mut outside = Duration::ZERO;
        let mut last = f64::NAN;
        let start = Instant::now();
        let trained = solve(&disc, &s, |p| {
            let t = Instant::now();
            let predicted = p.solution().predict_fields(&test).unwrap_or_default();
            if predicted.len() == exact.len() {
                last = relative_errors(&predicted, &exact).0;
                let now = (t - start - outside).as_secs_f64();
                for (k, level) in LEVELS.iter().enumerate() {
                    if last <= *level && reached[k].is_none() {
                        reached[k] = Some(now);
                    }
                }
            }
            outside += t.elapsed();
            ControlFlow::Continue(())
        })?;
        let total = (start.elapsed() - outside).as_secs_f64();
        let marks: Vec<String> = LEVELS
            .iter()
            .zip(&reached)
            .map(|(l, r)| match r {
                Some(t) => format!("{l:.0e}: {t:.1} s"),
                None => format!("{l:.0e}: —"),
            })
            .collect();
        println!(
            "{:>8} {:>7} {:>11.3e} {:>10.1}  {}",
            format!("{method:?}").to_lowercase(),
            trained.report.iterations,
            last,
            total,
            marks.join(", ")
        );
    }
    Ok(())
}
