//! `sparsimony langevin`: Langevin dynamics with averaging — a simulated single-index model or tensor PCA
//! (the averaged read-out beside the last iterate and online SGD, with the overlap against time), or a
//! user's data with a given link.

use sparsimony::solvers::Estimator;
use std::path::PathBuf;

use clap::ValueEnum;
use serde_json::json;
use sparsimony::solvers::Error;
use sparsimony::solvers::langevin::{
    CorrelationLoss, Langevin, LangevinFit, Link, Objective, OnlineSgd, Readout, SingleIndex, TensorPca,
};

use super::{Bar, CliResult, Samples, print_json, with_flag_names};

/// `sparsimony langevin`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Simulate a model with θ* = e₁ and recover θ*: the single-index model x ~ N(0, I_d),
    /// y = h_k(⟨θ*, x⟩) + noise, or tensor PCA (n copies of θ*^⊗k plus standard Gaussian noise).
    Simulate(SimulateArgs),
    /// Fit a user's samples (one per row of X) with a given link.
    Fit(FitArgs),
}

/// The dynamics' settings both subcommands take.
#[derive(Debug, clap::Args)]
struct Dynamics {
    /// The signal strength ε, from 1e-3 to 1e8 [default: 2√d] (at 0 the dynamics is pure diffusion and
    /// its estimate a random direction).
    #[arg(long)]
    signal: Option<f64>,
    /// The step h (time units).
    #[arg(long, default_value_t = 0.05)]
    step: f64,
    /// The horizon T (time units).
    #[arg(long, default_value_t = 400.0)]
    time: f64,
    /// Seed of the start and the Brownian increments.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON: {"estimate", "readout", "steps", and for simulate "overlap": {"averaged", "last",
    /// "online_sgd"}, "n", "curve": {"time", "averaged", "last"}}.
    #[arg(long)]
    json: bool,
}

/// The simulated model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Model {
    /// x ~ N(0, I_d), y = h_k(⟨θ*, x⟩) + noise.
    SingleIndex,
    /// n copies of θ*^⊗k plus tensors of i.i.d. N(0, 1) entries (kept as their mean: d^k values).
    TensorPca,
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
struct SimulateArgs {
    /// The model.
    #[arg(long, value_enum, default_value_t = Model::SingleIndex)]
    model: Model,
    /// Dimension d (≥ 2).
    #[arg(long)]
    d: usize,
    /// The information exponent k: the link's Hermite degree (1 to 30), or the tensor's order (≥ 2).
    #[arg(long)]
    k: usize,
    /// Samples [default: 10·d^⌈k/2⌉, the paper's].
    #[arg(long)]
    n: Option<usize>,
    /// Noise standard deviation of y (single-index only).
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// Write the overlap |⟨θ̂, θ*⟩| against time (averaged read-out and last iterate) as an SVG plot.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Seed of the samples.
    #[arg(long, default_value_t = 1)]
    data_seed: u64,
    #[command(flatten)]
    dynamics: Dynamics,
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
struct FitArgs {
    /// The samples x, one per row (.csv with header, or .npy).
    #[arg(long, value_name = "FILE")]
    x: PathBuf,
    /// The responses y, one per row of X.
    #[arg(long, value_name = "FILE")]
    y: PathBuf,
    /// The link: `hermiteK` (the normalised Hermite polynomial of degree K), or its Hermite
    /// coefficients c₀,c₁,… (σ = Σ c_j h_j).
    #[arg(long)]
    link: String,
    #[command(flatten)]
    dynamics: Dynamics,
}

/// Runs `sparsimony langevin`.
pub fn run(a: Args) -> CliResult {
    let result = match a.command {
        Command::Simulate(s) => simulate(s),
        Command::Fit(f) => fit(f),
    };
    result.map_err(|e| {
        with_flag_names(
            e,
            &[
                ("signal", "--signal"),
                ("step", "--step"),
                ("time", "--time"),
                ("d", "--d (or the columns of X)"),
                ("k", "--k"),
                ("noise", "--noise"),
                ("n", "--n"),
                ("link", "--link"),
            ],
        )
    })
}

fn langevin(d: usize, s: &Dynamics, bar: &Bar) -> Result<Langevin, String> {
    if let Some(signal) = s.signal
        && !(1e-3..=1e8).contains(&signal)
    {
        return Err(format!(
            "--signal: must lie in [1e-3, 1e8], got {signal:?} (at 0 the dynamics is pure diffusion and its estimate a random direction)"
        ));
    }
    Ok(Langevin {
        signal: s.signal.unwrap_or(2.0 * (d as f64).sqrt()),
        step: s.step,
        time: s.time,
        seed: s.seed,
        progress: bar.callback(),
        ..Langevin::default()
    })
}

fn simulate(s: SimulateArgs) -> CliResult {
    if let Some(p) = &s.plot {
        sparsimony::plot::require_svg(p).map_err(|e| format!("--plot {e}"))?;
    }
    if s.d < 2 {
        return Err(format!("--d: the sphere needs dimension at least 2, got {}", s.d).into());
    }
    // The link (single-index) is checked before the default n, which grows with k.
    let link = match s.model {
        Model::SingleIndex => Some(Link::hermite(s.k)?),
        Model::TensorPca => None,
    };
    let n =
        s.n.map_or(10.0 * (s.d as f64).powi(s.k.min(1000).div_ceil(2) as i32), |n| n as f64);
    if n < 2.0 {
        return Err("--n: at least 2 samples".into());
    }
    // The dynamics' work per step: two products with the n × d design (single-index), a contraction of
    // the d^k tensor (tensor PCA); plus online SGD's one pass.
    let per_step = match s.model {
        Model::SingleIndex => 4.0 * n * s.d as f64,
        Model::TensorPca => 2.0 * (s.d as f64).powi(s.k.min(1000) as i32),
    };
    let bar = Bar::new("Langevin steps", s.dynamics.json);
    let estimator = langevin(s.d, &s.dynamics, &bar)?;
    super::work::check(
        "the simulation",
        estimator.steps()? as f64 * per_step + 4.0 * n * s.d as f64,
        "--time (or raise --step), --n or --d",
    )?;
    // About 100 points of the overlap path after the burn-in.
    let every = ((1.0 - estimator.burn_in) * s.dynamics.time / s.dynamics.step / 100.0).ceil() as usize;
    let mut curve = Curve::default();
    let (fitted, sgd) = match s.model {
        Model::SingleIndex => {
            let link = link.ok_or("the single-index model's link")?;
            let model = SingleIndex::new(s.d, link, s.noise)?;
            let (x, y) = model.sample(s.data_seed, 0, n as usize)?;
            // The simulated data are no file of the user's: their defects are the settings'.
            let loss = CorrelationLoss::new(x.view(), y.view(), &model.link).map_err(|e| match e {
                Error::Magnitude { value, .. } => format!(
                    "the simulated responses reach {value:e}, beyond ±1e100 where their products overflow: lower --noise"
                ),
                Error::NonFinite { .. } => "the simulated responses are not finite: lower --noise".to_string(),
                e => e.to_string(),
            })?;
            let fitted = run_curve(&estimator, &loss, every, &mut curve);
            bar.finish();
            (
                fitted?,
                OnlineSgd {
                    link: model.link.clone(),
                    ..OnlineSgd::default()
                }
                .fit((x.view(), y.view()))?
                .direction,
            )
        }
        Model::TensorPca => {
            if s.noise != 0.0 {
                return Err(
                    "--noise: only for --model single-index (tensor PCA's noise is its Gaussian tensors)".into(),
                );
            }
            let model = TensorPca::new(s.d, s.k, n)?;
            let tensor = model.sample(s.data_seed)?;
            let fitted = run_curve(&estimator, &tensor, every, &mut curve);
            bar.finish();
            let sgd = OnlineSgd {
                seed: s.data_seed,
                ..OnlineSgd::default()
            };
            (fitted?, sgd.fit(&model)?.direction)
        }
    };
    if let Some(path) = &s.plot {
        use sparsimony::plot::{Curve as Line, Panel, line_panels};
        let title = match s.model {
            Model::SingleIndex => format!("single-index, h_{}, d = {}, n = {n:.0}", s.k, s.d),
            Model::TensorPca => format!("tensor PCA, order {}, d = {}, n = {n:.0}", s.k, s.d),
        };
        let panel = Panel {
            title: format!("{title}: overlap |⟨θ̂, θ*⟩|"),
            curves: vec![
                Line {
                    label: "averaged read-out".into(),
                    values: &curve.averaged,
                    dashed: false,
                },
                Line {
                    label: "last iterate".into(),
                    values: &curve.last,
                    dashed: true,
                },
            ],
        };
        line_panels(path, "time", &curve.time, &[panel])?;
    }
    let overlaps = (fitted.estimate[0].abs(), fitted.last[0].abs(), sgd[0].abs());
    report(&s.dynamics, &fitted, Some((n as usize, overlaps, curve)))?;
    if let (Some(path), false) = (&s.plot, s.dynamics.json) {
        outln!("plot written to {}", path.display())?;
    }
    Ok(())
}

/// The overlap with `θ* = e₁` against time.
#[derive(Debug, Default)]
struct Curve {
    time: Vec<f64>,
    averaged: Vec<f64>,
    last: Vec<f64>,
}

fn run_curve(
    estimator: &Langevin,
    objective: &impl Objective,
    every: usize,
    curve: &mut Curve,
) -> sparsimony::solvers::Result<LangevinFit> {
    estimator.run_observed(objective, every, |t, estimate, theta| {
        curve.time.push(t);
        curve.averaged.push(estimate[0].abs());
        curve.last.push(theta[0].abs());
    })
}

fn fit(f: FitArgs) -> CliResult {
    let link = parse_link(&f.link)?;
    let samples = Samples::read(&f.x, &f.y)?;
    let (x, y) = (samples.x.values(), samples.y.view());
    let bar = Bar::new("Langevin steps", f.dynamics.json);
    let estimator = Langevin {
        link,
        ..langevin(x.ncols(), &f.dynamics, &bar)?
    };
    super::work::check(
        "the dynamics",
        estimator.steps()? as f64 * 4.0 * x.nrows() as f64 * x.ncols() as f64,
        "--time (or raise --step), or use fewer samples",
    )?;
    let fitted = estimator.fit((x, y));
    bar.finish();
    report(&f.dynamics, &fitted.map_err(|e| samples.locate(e.into()))?, None)
}

/// `hermiteK` or comma-separated Hermite coefficients.
fn parse_link(text: &str) -> Result<Link, Box<dyn std::error::Error>> {
    let t = text.trim();
    if let Some(k) = t.strip_prefix("hermite") {
        let k: usize = k
            .parse()
            .map_err(|_| format!("--link {t}: expected hermiteK with K a degree from 1 to 30, e.g. hermite3"))?;
        return Link::hermite(k).map_err(|_| format!("--link {t}: the Hermite degree K must lie in 1..=30").into());
    }
    let coefficients: Vec<f64> = t
        .split(',')
        .map(|c| c.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("--link {t}: expected hermiteK or Hermite coefficients such as 0,0,0,1"))?;
    if coefficients.len() > 31 {
        return Err(format!(
            "--link: at most 31 coefficients (degree 30), got {}",
            coefficients.len()
        )
        .into());
    }
    Ok(Link::new(coefficients)?)
}

/// Prints the fit; `truth`: the simulation's sample count and the overlaps with θ*.
fn report(s: &Dynamics, fit: &LangevinFit, truth: Option<(usize, (f64, f64, f64), Curve)>) -> CliResult {
    let readout = match fit.readout {
        Readout::Mean => "mean",
        Readout::SecondMoment => "second_moment",
        Readout::Last => "last",
        Readout::Auto => "auto",
    };
    if s.json {
        let mut v = json!({
            "estimate": fit.estimate.to_vec(),
            "readout": readout,
            "steps": fit.report.iterations,
        });
        if let Some((n, (averaged, last, sgd), curve)) = truth {
            v["n"] = json!(n);
            v["overlap"] = json!({"averaged": averaged, "last": last, "online_sgd": sgd});
            v["curve"] = json!({"time": curve.time, "averaged": curve.averaged, "last": curve.last});
        }
        print_json(&v)?;
        return Ok(());
    }
    outln!("{} Langevin steps; read-out: {readout}", fit.report.iterations)?;
    if let Some((n, (averaged, last, sgd), _)) = truth {
        outln!(
            "n = {n}: overlap |⟨θ̂, θ*⟩| averaged {averaged:.4}, last iterate {last:.4}, online SGD (one pass) {sgd:.4}"
        )?;
    } else {
        let shown: Vec<String> = fit.estimate.iter().map(|v| format!("{v:.6}")).collect();
        outln!("θ̂ = [{}]", shown.join(", "))?;
    }
    Ok(())
}
