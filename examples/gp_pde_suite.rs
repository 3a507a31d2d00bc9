//! The GP-PDE solver on seeded manufactured problems it was not tuned for (`solvers::gp_pde::suite`):
//! Poisson, Helmholtz, Allen–Cahn and advection in 1D and 2D, with solutions mixing separable
//! high-frequency waves, smooth non-separable terms (of `x·y`, `x + y`, radial bumps, exponentials) and
//! polynomials. Prints each problem's relative L2 error (on the paper's test grid), time and residual
//! indicator (`gp_pde::accuracy::residual_indicator`, and how many errors it flags), then the
//! distribution per dimension: median, 90th percentile and the worst problem with its solution. Beside
//! each linear problem, the baselines on the same number of points per axis (`solvers::gp_pde::baseline`):
//! second-order finite differences on the same grid and Chebyshev collocation, solved directly, their
//! errors on the same test grid — so the table says where each method wins.
//!
//! ```sh
//! cargo run --release --example gp_pde_suite                          # 50 problems in 1D (200 points), 50 in 2D (120²)
//! cargo run --release --example gp_pde_suite -- --dims 2 --count 20 --grid 60
//! cargo run --release --example gp_pde_suite -- --first 100           # seeds 100, 101, …
//! cargo run --release --example gp_pde_suite -- --gaussian            # the Gaussian spectrum
//! cargo run --release --example gp_pde_suite -- --show 7 --dims 2     # the TOML of problem 7 (for `sparsimony pde --problem`)
//! cargo run --release --example gp_pde_suite -- --family suite,conduction --scatter indicator.svg
//! cargo run --release --example gp_pde_suite -- --dims 1 --grid 200,40  # two grids (the second coarse)
//! ```
//!
//! `--family` takes a comma-separated list: `suite` (the fixed cycle of Poisson, Helmholtz, Allen–Cahn and
//! advection) and any family by name (`conduction`: coefficients that vary in space), each drawn from the
//! same seeds; `--grid` a comma-separated list of points per axis, each a set of its own. `--scatter
//! FILE.svg` draws every problem's indicator against its error (log–log), one colour per set (dimension,
//! family, grid), with the threshold and the error levels the indicator is judged at.

use std::ops::ControlFlow;

use sparsimony::pde::{TRUST_THRESHOLD, baseline, run, settings_for};
use sparsimony::plot::{Mark, Scatter, log_scatter};
use sparsimony::solvers::gp_pde::baseline::Scheme;
use sparsimony::solvers::gp_pde::suite::{Family, Suite, manufactured};
use sparsimony::solvers::gp_pde::{Method, Settings, Spectrum};

/// A baseline's error and seconds, or a dash where it does not apply.
fn cell(r: Option<(f64, f64)>) -> String {
    r.map_or(format!("{:>19}", "—"), |(e, s)| format!("{e:>10.2e} {s:>8.3}"))
}

/// The value below which a share `q` of the sorted `v` lies (nearest rank).
fn quantile(v: &[f64], q: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((q * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut dims, mut count, mut grids, mut first, mut show) = (vec![1, 2], 50u64, vec![None], 0u64, None);
    let mut spectrum = Settings::default().spectrum;
    let (mut families, mut scatter): (Vec<Option<Family>>, Option<std::path::PathBuf>) = (vec![None], None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--dims" => dims = vec![value()?.parse()?],
            "--count" => count = value()?.parse()?,
            "--grid" => {
                grids = value()?
                    .split(',')
                    .map(|g| g.parse().map(Some))
                    .collect::<Result<_, _>>()?
            }
            "--first" => first = value()?.parse()?,
            "--show" => show = Some(value()?.parse::<u64>()?),
            "--gaussian" => spectrum = Spectrum::Gaussian,
            "--family" => {
                families = value()?
                    .split(',')
                    .map(|f| if f == "suite" { Ok(None) } else { f.parse().map(Some) })
                    .collect::<Result<_, _>>()?
            }
            "--scatter" => {
                let path = std::path::PathBuf::from(value()?);
                sparsimony::plot::require_svg(&path)?;
                scatter = Some(path);
            }
            _ => return Err(format!("unknown argument {a}").into()),
        }
    }
    // Per dimension and family: (error, indicator) of every problem, for the scatter plot.
    let mut groups: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let mut sets = Vec::new();
    for &d in &dims {
        for &grid in &grids {
            sets.extend(families.iter().map(|&f| (d, grid, f)));
        }
    }
    for (d, grid, family) in sets {
        let suite = Suite {
            dims: d,
            points: grid.unwrap_or(if d == 1 { 200 } else { 120 }),
        };
        let draw = |i: u64| match family {
            None => suite.problem(i),
            Some(f) => manufactured(f, d, suite.points, i),
        };
        if let Some(i) = show {
            print!("{}", draw(i)?.toml);
            continue;
        }
        let set = family.map_or("suite", Family::name);
        println!("\n{d}D {set}, {} points per axis", suite.points);
        println!(
            "{:>5} {:11} {:>19} {:>9} {:>19} {:>19}  solution",
            "seed", "family", "GP: rel. L2, s", "indicator", "FD: rel. L2, s", "Chebyshev: rel. L2, s"
        );
        let mut results = Vec::new();
        let mut indicators = Vec::new();
        for i in first..first + count {
            let m = draw(i)?;
            let settings = Settings {
                spectrum,
                ..settings_for(&m.problem, Method::Exact, None, None)
            };
            let out = run(&m.problem, &settings, |p| {
                eprint!("\r{i}: iteration {} / {}   ", p.iteration + 1, settings.iterations);
                ControlFlow::Continue(())
            })?;
            eprint!("\r{:40}\r", "");
            let error = out.rel_l2_error.unwrap_or(f64::NAN);
            let fd = baseline(&m.problem, Scheme::FiniteDifferences, &out.test).ok();
            let cheb = baseline(&m.problem, Scheme::Chebyshev, &out.test).ok();
            println!(
                "{:>5} {:11} {:>10.2e} {:>8.2} {:>9.1e} {} {}  {}",
                i,
                m.family.name(),
                error,
                out.seconds,
                out.indicator.value(),
                cell(fd),
                cell(cheb),
                m.solution
            );
            results.push((error, out.seconds, m, fd, cheb));
            indicators.push(out.indicator.value());
        }
        groups.push((
            format!("{d}D {set}, {}", suite.points),
            results.iter().map(|r| r.0).zip(indicators.iter().copied()).collect(),
        ));
        let errors: Vec<f64> = results.iter().map(|r| r.0).collect();
        let times: Vec<f64> = results.iter().map(|r| r.1).collect();
        println!(
            "{d}D {set}, {} problems: rel. L2 median {:.2e}, 90th percentile {:.2e}; seconds median {:.2}, 90th percentile {:.2}, total {:.1}",
            errors.len(),
            quantile(&errors, 0.5),
            quantile(&errors, 0.9),
            quantile(&times, 0.5),
            quantile(&times, 0.9),
            times.iter().sum::<f64>()
        );
        // The residual indicator against the error it is to reveal: every error above 1e-3 should be
        // flagged (indicator above TRUST_THRESHOLD), few below 1e-5.
        let flagged = |keep: &dyn Fn(f64) -> bool| {
            let chosen: Vec<f64> = errors
                .iter()
                .zip(&indicators)
                .filter(|(e, _)| keep(**e))
                .map(|p| *p.1)
                .collect();
            (chosen.iter().filter(|i| **i > TRUST_THRESHOLD).count(), chosen.len())
        };
        let (bad_flagged, bad) = flagged(&|e| e > 1e-3);
        let (good_flagged, good) = flagged(&|e| e < 1e-5);
        println!(
            "indicator (threshold {TRUST_THRESHOLD:.0e}): flags {bad_flagged} of the {bad} problems with error above 1e-3 and {good_flagged} of the {good} below 1e-5"
        );
        if let Some((e, _, m, _, _)) = results.iter().max_by(|a, b| a.0.total_cmp(&b.0)) {
            println!("worst: {e:.2e}, {}", m.describe());
        }
        // Where each baseline applies: the GP beside it.
        for (k, name) in [(3, "finite differences"), (4, "Chebyshev")] {
            let pairs: Vec<[f64; 2]> = results
                .iter()
                .filter_map(|r| Some([r.0, if k == 3 { r.3 } else { r.4 }?.0]))
                .collect();
            if pairs.is_empty() {
                continue;
            }
            let median = |i: usize| quantile(&pairs.iter().map(|p| p[i]).collect::<Vec<_>>(), 0.5);
            println!(
                "GP against {name} on the {} problems it solves: median rel. L2 {:.2e} against {:.2e}; the GP more accurate on {}",
                pairs.len(),
                median(0),
                median(1),
                pairs.iter().filter(|p| p[0] < p[1]).count()
            );
        }
    }
    if let Some(path) = scatter {
        let series: Vec<Scatter<'_>> = groups
            .iter()
            .map(|(label, points)| Scatter {
                label: label.clone(),
                points,
            })
            .collect();
        let mark = |label: &str, value, vertical| Mark {
            label: label.into(),
            value,
            vertical,
        };
        log_scatter(
            &path,
            "GP-PDE residual indicator against the true error",
            ("relative L2 error", "residual indicator"),
            &series,
            &[
                mark("trust threshold", TRUST_THRESHOLD, false),
                mark("error 1e-3 (flag all above)", 1e-3, true),
                mark("error 1e-5 (flag few below)", 1e-5, true),
            ],
        )?;
        println!("scatter plot: {}", path.display());
    }
    Ok(())
}
