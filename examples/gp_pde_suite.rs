//! The GP-PDE solver on seeded manufactured problems it was not tuned for (`solvers::gp_pde::suite`), by
//! class: today's suite (Poisson, Helmholtz, Allen–Cahn and advection with solutions mixing separable
//! high-frequency waves, smooth non-separable terms and polynomials) and the broadened suite's classes
//! (waves up to 120 rad per unit, waves under envelopes, chirps, interior layers, oblique waves,
//! indefinite Helmholtz, advection–diffusion in space and time, variable conductivity), in 1D, 2D and
//! 3D. Prints each problem's relative L2 error (on the paper's test grid), time and residual indicator
//! (`gp_pde::accuracy::residual_indicator`, and how many errors it flags), then the distribution per
//! set and per class: median, 90th percentile and the worst problem with its solution. Beside each
//! linear constant-coefficient problem, the baselines on the same number of points per axis
//! (`solvers::gp_pde::baseline`): second-order finite differences on the same grid and Chebyshev
//! collocation, solved directly, their errors on the same test grid — so the table says where each
//! method wins. A problem the solver refuses (a typed error) counts as failed, with an infinite error.
//! Each problem is solved as the command line solves it: again with raised collocation precisions, then
//! the other spectral family, then the broadband start, while the estimated error stays above 1e-5
//! (`gp_pde::refine`; the column `ln v/n` gives the kept solve's log-precision, `g` where the Gaussian
//! family won, `b` where the broadband start did, and the number of solves); `--no-refine` for one
//! solve.
//!
//! ```sh
//! cargo run --release --example gp_pde_suite                          # the broadened suite: 50 problems in 1D (200 points) and 2D (120²), 20 in 3D (32³)
//! cargo run --release --example gp_pde_suite -- --set today --dims 1,2  # today's suite
//! cargo run --release --example gp_pde_suite -- --dims 2 --count 20 --grid 60
//! cargo run --release --example gp_pde_suite -- --first 100           # seeds 100, 101, …
//! cargo run --release --example gp_pde_suite -- --gaussian            # the Gaussian spectrum
//! cargo run --release --example gp_pde_suite -- --no-refine           # one solve per problem (no raised precisions)
//! cargo run --release --example gp_pde_suite -- --show 7 --dims 2     # the TOML of problem 7 (for `sparsimony pde --problem`)
//! cargo run --release --example gp_pde_suite -- --set today,conduction --scatter indicator.svg
//! cargo run --release --example gp_pde_suite -- --dims 1 --grid 200,40  # two grids (the second coarse)
//! cargo build --release --features mpi --example gp_pde_suite && mpirun -n 4 target/release/examples/gp_pde_suite
//! ```
//!
//! Under `mpirun` (feature `mpi`) each set's problems are shared among the ranks (`pde::run_suite`), each
//! solved by one rank; rank 0 prints its own as they finish and the others' when they arrive.
//!
//! `--set` takes a comma-separated list: `broad` (every class in turn, `Class::broad`), `today` (the
//! original suite: the fixed cycle of Poisson, Helmholtz, Allen–Cahn and advection with mixed terms) and
//! any class by name (`chirp`, `conduction`, …), each drawn from the same seeds; `--dims` and `--grid`
//! comma-separated lists (the grid's default is 200, 120 and 32 points per axis in 1D, 2D and 3D), each a
//! set of its own; `--count` the problems per set (default 50, 20 in 3D). `--scatter FILE.svg` draws
//! every problem's indicator against its error (log–log), one colour per set, with the threshold and the
//! error levels the indicator is judged at.

use sparsimony::pde::{Refine, SuiteResult, TRUST_THRESHOLD, run_suite};
use sparsimony::plot::{Mark, Scatter, log_scatter};
use sparsimony::solvers::gp_pde::suite::{Class, Suite};
use sparsimony::solvers::gp_pde::{Settings, Spectrum};

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

/// A comma-separated list.
fn list<T: std::str::FromStr>(text: &str) -> Result<Vec<T>, String>
where
    T::Err: std::fmt::Display,
{
    text.split(',')
        .map(|v| v.parse().map_err(|e| format!("`{v}`: {e}")))
        .collect()
}

/// One problem's outcome.
struct Outcome {
    class: Class,
    error: f64,
    indicator: f64,
    seconds: f64,
    description: String,
    fd: Option<(f64, f64)>,
    cheb: Option<(f64, f64)>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Under `mpirun` (feature `mpi`): the problems shared among the ranks, rank 0 printing.
    #[cfg(feature = "mpi")]
    {
        use sparsimony::solvers::distributed::{Group, mpi::World, with_group};
        let world = std::rc::Rc::new(World::init()?);
        if world.size() > 1 {
            if world.rank() > 0 {
                sparsimony::output::silence_process();
            }
            let group: std::rc::Rc<dyn Group> = world.clone();
            if let Err(e) = with_group(group, suite)? {
                eprintln!("error: process {}: {e}", world.rank());
                world.abort(1);
            }
            return Ok(());
        }
    }
    suite()
}

/// The suite's sets as the arguments ask, each printed as it is solved.
fn suite() -> Result<(), Box<dyn std::error::Error>> {
    let (mut dims, mut count, mut grids, mut first, mut show) = (vec![1, 2, 3], None, vec![None], 0u64, None);
    let mut spectrum = Settings::default().spectrum;
    let (mut sets, mut scatter, mut refine) = (vec!["broad".to_string()], None, Refine::DEFAULT);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--dims" => dims = list(&value()?)?,
            "--count" => count = Some(value()?.parse::<u64>()?),
            "--grid" => grids = list::<usize>(&value()?)?.into_iter().map(Some).collect(),
            "--first" => first = value()?.parse()?,
            "--show" => show = Some(value()?.parse::<u64>()?),
            "--gaussian" => spectrum = Spectrum::Gaussian,
            "--no-refine" => refine = Refine::OFF,
            "--set" => sets = list(&value()?)?,
            "--scatter" => {
                let path = std::path::PathBuf::from(value()?);
                sparsimony::plot::require_svg(&path)?;
                scatter = Some(path);
            }
            _ => return Err(format!("unknown argument {a}").into()),
        }
    }
    // The other spectral family is tried only where the user did not choose one.
    refine.other_spectrum &= spectrum == Settings::default().spectrum;
    // Per set: (error, indicator) of every problem, for the scatter plot.
    let mut groups: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for &d in &dims {
        for &grid in &grids {
            for set in &sets {
                let points = grid.unwrap_or(Suite::default_points(d));
                let suite = match set.as_str() {
                    "broad" => Suite::broad(d, points),
                    "today" => Suite::today(d, points),
                    class => {
                        // One class: its place in the list of every class.
                        let class: Class = class.parse()?;
                        let every = Class::broad(3);
                        let at = every.iter().position(|c| *c == class).unwrap_or_default();
                        Suite {
                            dims: d,
                            points,
                            classes: &every[at..=at],
                        }
                    }
                };
                if let Some(i) = show {
                    print!("{}", suite.problem(i)?.toml);
                    continue;
                }
                let count = count.unwrap_or(if d == 3 { 20 } else { 50 });
                let label = format!("{d}D {set}, {points}");
                let outcomes = run_set(&suite, &label, first, count, spectrum, refine)?;
                groups.push((label, outcomes.iter().map(|o| (o.error, o.indicator)).collect()));
            }
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

/// Solves problems `first..first + count` of `suite`, printing each and the set's distribution.
fn run_set(
    suite: &Suite,
    label: &str,
    first: u64,
    count: u64,
    spectrum: Spectrum,
    refine: Refine,
) -> Result<Vec<Outcome>, Box<dyn std::error::Error>> {
    println!("\n{label} points per axis");
    println!(
        "{:>5} {:20} {:20} {:>19} {:>9} {:>9} {:>7} {:>19} {:>19}  solution",
        "seed",
        "class",
        "family",
        "GP: rel. L2, s",
        "indicator",
        "estimate",
        "ln v/n",
        "FD: rel. L2, s",
        "Chebyshev: rel. L2, s"
    );
    // Each problem printed as it is solved here; under MPI, the other ranks' problems once they arrive.
    let mut printed = 0usize;
    let results = run_suite(
        suite,
        (first, count),
        (spectrum, refine),
        |r| {
            print_result(suite, r);
            printed += 1;
        },
        |i, p| eprint!("\r{i}: iteration {}   ", p.iteration + 1),
    );
    eprint!("\r{:40}\r", "");
    let results = results?;
    let mut outcomes = Vec::with_capacity(results.len());
    for r in &results {
        let m = suite.problem(r.seed)?;
        outcomes.push(Outcome {
            class: m.class,
            error: r.error,
            indicator: r.indicator,
            seconds: r.seconds,
            description: m.describe(),
            fd: r.finite_differences,
            cheb: r.chebyshev,
        });
    }
    if printed < results.len() {
        // Under MPI: rank 0 solved the first share; the rest follow in seed order.
        for r in &results[printed..] {
            print_result(suite, r);
        }
    }
    summarize(label, &outcomes);
    Ok(outcomes)
}

/// One problem's line: its error and time, indicator, estimate, the kept solve and the baselines, or the
/// solver's refusal.
fn print_result(suite: &Suite, r: &SuiteResult) {
    let Ok(m) = suite.problem(r.seed) else { return };
    if let Some(why) = &r.refused {
        println!(
            "{:>5} {:20} {:20} refused: {why}",
            r.seed,
            m.class.name(),
            m.family.name()
        );
        return;
    }
    if r.error.is_finite() {
        println!(
            "{:>5} {:20} {:20} {:>10.2e} {:>8.2} {:>9.1e} {:>9.1e} {:>4.0}{}{}/{} {} {}  {}",
            r.seed,
            m.class.name(),
            m.family.name(),
            r.error,
            r.seconds,
            r.indicator,
            r.estimate,
            r.log_precision,
            if r.spectrum == Spectrum::Gaussian { "g" } else { "" },
            if r.broadband { "b" } else { "" },
            r.solves,
            cell(r.finite_differences),
            cell(r.chebyshev),
            m.solution
        );
    }
}

/// The set's distribution, the indicator's record, the worst problem, the baselines and the
/// distribution per class.
fn summarize(label: &str, outcomes: &[Outcome]) {
    let errors: Vec<f64> = outcomes.iter().map(|o| o.error).collect();
    let times: Vec<f64> = outcomes.iter().map(|o| o.seconds).filter(|s| s.is_finite()).collect();
    let refused = outcomes.iter().filter(|o| o.error.is_infinite()).count();
    println!(
        "{label}: {} problems ({refused} refused): rel. L2 median {:.2e}, 90th percentile {:.2e}; seconds median {:.2}, 90th percentile {:.2}, total {:.1}",
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
        let chosen: Vec<&Outcome> = outcomes.iter().filter(|o| keep(o.error)).collect();
        (
            chosen.iter().filter(|o| o.indicator > TRUST_THRESHOLD).count(),
            chosen.len(),
        )
    };
    let (bad_flagged, bad) = flagged(&|e| e > 1e-3);
    let (good_flagged, good) = flagged(&|e| e < 1e-5);
    println!(
        "indicator (threshold {TRUST_THRESHOLD:.0e}): flags {bad_flagged} of the {bad} problems with error above 1e-3 (refusals included) and {good_flagged} of the {good} below 1e-5"
    );
    if let Some(o) = outcomes.iter().max_by(|a, b| a.error.total_cmp(&b.error)) {
        println!("worst: {:.2e}, {}", o.error, o.description);
    }
    // Where each baseline applies: the GP beside it.
    for (name, pick) in [
        (
            "finite differences",
            (|o: &Outcome| o.fd) as fn(&Outcome) -> Option<(f64, f64)>,
        ),
        ("Chebyshev", |o: &Outcome| o.cheb),
    ] {
        let pairs: Vec<[f64; 2]> = outcomes.iter().filter_map(|o| Some([o.error, pick(o)?.0])).collect();
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
    let mut classes: Vec<Class> = outcomes.iter().map(|o| o.class).collect();
    classes.dedup();
    classes.sort_by_key(|c| c.name());
    classes.dedup();
    if classes.len() > 1 {
        println!(
            "{:22} {:>3} {:>9} {:>9} {:>9}",
            "per class", "n", "median", "90th", "worst"
        );
        for c in classes {
            let e: Vec<f64> = outcomes.iter().filter(|o| o.class == c).map(|o| o.error).collect();
            println!(
                "{:22} {:>3} {:>9.2e} {:>9.2e} {:>9.2e}",
                c.name(),
                e.len(),
                quantile(&e, 0.5),
                quantile(&e, 0.9),
                quantile(&e, 1.0)
            );
        }
    }
}
