//! `sparsimony ldp`: sparse regression under local differential privacy — simulated users, or real rows
//! privatized one by one as each user's device would.

use sparsimony::solvers::Estimator;
use std::path::PathBuf;

use clap::ValueEnum;
use serde_json::json;
use sparsimony::io::read_table;
use sparsimony::solvers::privacy::{LdpFit, LdpIht, NonInteractive, Population, Scaling};

use super::{Bar, CliResult, Samples, print_json, with_flag_names};

/// The estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// One round: users send x̃x̃ᵀ and x̃ỹ through the Gaussian mechanism ((ε, δ)); a closed-form server.
    Noninteractive,
    /// As noninteractive, with the covariance from public unlabeled records (users send x̃ỹ only).
    Public,
    /// LDP iterative hard thresholding: one batch of users per round, ℓ2-ball messages (pure ε).
    Iht,
}

/// How the scales of x and y are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScaleArg {
    /// A twentieth of the users (at least 1800) each send one randomized-response bit from which the server learns the median
    /// scales of |x| and |y|; the fit divides by them and reports the coefficients in the data's units.
    Private,
    /// The data are used as they are: the clipping defaults assume features and responses of unit scale.
    Given,
}

/// `sparsimony ldp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Simulate n users (x ~ N(0, Σ), Σ_ij = ρ^|i−j|, θ* with its first k coefficients 1/√k, noise σ) and fit.
    Simulate(SimulateArgs),
    /// Privatize each row of X, y as its user's device would, then fit.
    Fit(FitArgs),
}

/// The privacy and estimator settings both subcommands take.
#[derive(Debug, clap::Args)]
struct Common {
    /// The privacy loss ε of each user, in [1e-6, 500].
    #[arg(long, default_value_t = 1.0)]
    epsilon: f64,
    /// How the scales of x and y are found before the fit.
    #[arg(long, value_enum, default_value_t = ScaleArg::Private)]
    scale: ScaleArg,
    /// δ of the Gaussian mechanism (noninteractive, public), in [2e-300, 1) [default: 1e-5].
    #[arg(long)]
    delta: Option<f64>,
    /// The estimator.
    #[arg(long, value_enum, default_value_t = MethodArg::Iht)]
    method: MethodArg,
    /// The sparsity k (the coefficients kept).
    #[arg(long)]
    k: usize,
    /// Coordinatewise clipping of x and of y, in the scaled units (see --scale) [default: √(2 ln max(n, 3))].
    #[arg(long)]
    clip: Option<f64>,
    /// iht: this many rounds of equal batches of users (the paper's schedule) [default: batches sized from
    /// the messages: 2B² users first (B the messages' norm), doubled once the averaged gradient sinks into
    /// its noise, the last round taking all users left, at most ⌈ln n⌉ rounds].
    #[arg(long)]
    rounds: Option<usize>,
    /// iht: k′ = this · k coordinates kept each round [default: 2].
    #[arg(long)]
    sparsity_factor: Option<usize>,
    /// iht: the ℓ2 radius each user's gradient is clipped to [default: √d, or the bound the clipped data
    /// give, √d τx(√k′ τx + τy), where that is smaller]. noninteractive, public: the ℓ2 radius x is
    /// clipped to after --clip [default: √d + 1, at most √d times --clip].
    #[arg(long)]
    radius: Option<f64>,
    /// Seed of the users' randomizers.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON: {"method", "coef", "support", "guarantee": {"epsilon", "delta", "messages_per_user"},
    /// "users", "scales": {"x", "y", "users"} (what x and y were divided by, learnt from that many users),
    /// "noise_error" (the privacy noise's expected ℓ2 error on the coefficients), "trusted" (false
    /// when that error reaches a quarter of their norm, or when iht's rounds did not settle; a warning goes
    /// to stderr), "report" ({"iterations", "converged", "measure"}), and for simulate "l2_error",
    /// "support_recovered"}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
struct SimulateArgs {
    /// Users (at least 1).
    #[arg(long)]
    n: usize,
    /// Features.
    #[arg(long)]
    d: usize,
    /// Noise standard deviation σ.
    #[arg(long, default_value_t = 1.0)]
    noise: f64,
    /// Correlation ρ of neighbouring features, in (−1, 1): Σ_ij = ρ^|i−j| (an AR(1) design).
    #[arg(long, default_value_t = 0.0)]
    correlation: f64,
    /// Public unlabeled users (method public) [default: n/10].
    #[arg(long)]
    public_n: Option<usize>,
    /// Seed of the users' records.
    #[arg(long, default_value_t = 1)]
    data_seed: u64,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
struct FitArgs {
    /// The users' features: one row per user (.csv with header, or .npy).
    #[arg(long, value_name = "FILE")]
    x: PathBuf,
    /// The users' responses, one per row of X.
    #[arg(long, value_name = "FILE")]
    y: PathBuf,
    /// Public unlabeled records with the same columns (method public).
    #[arg(long, value_name = "FILE")]
    public: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

/// Runs `sparsimony ldp`.
pub fn run(a: Args) -> CliResult {
    let result = match a.command {
        Command::Simulate(s) => simulate(s),
        Command::Fit(f) => fit(f),
    };
    // The library's parameter names, as the flags the user typed.
    result.map_err(|e| {
        with_flag_names(
            e,
            &[
                ("epsilon", "--epsilon"),
                ("delta", "--delta"),
                ("k", "--k"),
                ("clip_x", "--clip"),
                ("clip_y", "--clip"),
                ("noise", "--noise"),
                ("correlation", "--correlation"),
                ("rounds", "--rounds"),
                ("sparsity_factor", "--sparsity-factor"),
                ("radius", "--radius"),
                ("radius_x", "--radius"),
                ("d", "--d"),
                ("users", "--n/--d (or the rows and columns of X)"),
                ("public", "--public-n (or the rows of --public)"),
                (
                    "sensitivity",
                    "--clip or --radius (the messages' sensitivity grows with their square)",
                ),
                ("n", "--n"),
            ],
        )
    })
}

/// The non-interactive estimator of these settings.
fn non_interactive(c: &Common) -> Result<NonInteractive, String> {
    for (given, flag) in [
        (c.rounds.is_some(), "--rounds"),
        (c.sparsity_factor.is_some(), "--sparsity-factor"),
    ] {
        if given {
            return Err(format!("{flag} applies to --method iht"));
        }
    }
    let d = NonInteractive::default();
    Ok(NonInteractive {
        epsilon: c.epsilon,
        delta: c.delta.unwrap_or(d.delta),
        clip_x: c.clip,
        radius_x: c.radius,
        clip_y: c.clip,
        k: Some(c.k),
        seed: c.seed,
        scaling: scaling(c),
        ..d
    })
}

/// The scaling the flags ask for.
fn scaling(c: &Common) -> Scaling {
    match c.scale {
        ScaleArg::Private => Scaling::default(),
        ScaleArg::Given => Scaling::Given,
    }
}

fn iht(c: &Common, bar: &Bar) -> Result<LdpIht, String> {
    if c.delta.is_some() {
        return Err("--delta applies to the Gaussian mechanism (--method noninteractive or public); iht's ℓ2-ball messages are pure ε".into());
    }
    Ok(LdpIht {
        epsilon: c.epsilon,
        k: c.k,
        clip_x: c.clip,
        clip_y: c.clip,
        rounds: c.rounds,
        sparsity_factor: c.sparsity_factor.unwrap_or(LdpIht::default().sparsity_factor),
        radius: c.radius,
        seed: c.seed,
        scaling: scaling(c),
        progress: bar.callback(),
        ..LdpIht::default()
    })
}

/// Refuses `what` over `n` users with `d` features (and `public` public records for `--method public`)
/// when its work passes the bound: per user, its record (d Gaussians and a dot product), its clipped
/// statistics (the covariance triangle for the non-interactive estimator) and its message; the public
/// covariance; the non-interactive server's eigendecomposition (about 10d³).
fn check_work(method: MethodArg, what: &str, n: usize, d: usize, public: usize, reduce: &str) -> Result<(), String> {
    let (n, d, public) = (n as f64, d as f64, public as f64);
    let work = match method {
        MethodArg::Iht => n * 8.0 * d,
        MethodArg::Noninteractive => n * (8.0 * d + d * d) + 10.0 * d * d * d,
        MethodArg::Public => n * 8.0 * d + public * d * d + 10.0 * d * d * d,
    };
    super::work::check(what, work, reduce)
}

fn simulate(s: SimulateArgs) -> CliResult {
    let c = &s.common;
    if s.public_n.is_some() && c.method != MethodArg::Public {
        return Err("--public-n applies to --method public".into());
    }
    if s.public_n == Some(0) {
        return Err("--public-n: at least 1 public user (the covariance is estimated from them)".into());
    }
    // Public unlabeled users (method public): the flag's, or n/10.
    let public = s.public_n.unwrap_or(s.n / 10);
    if c.method == MethodArg::Public && public < s.d {
        return Err(format!(
            "--public-n: {public} public users{} cannot give the covariance of {} features; at least {} are needed",
            if s.public_n.is_none() {
                " (the default, n/10)"
            } else {
                ""
            },
            s.d,
            s.d
        )
        .into());
    }
    let mut population = Population::sparse(s.d, c.k, s.noise)?;
    population.correlation = s.correlation;
    check_work(
        c.method,
        "the simulation",
        s.n,
        s.d,
        public,
        "--n or --d (or --public-n)",
    )?;
    let bar = Bar::new("LDP-IHT users", c.json);
    let fit = match c.method {
        MethodArg::Noninteractive => non_interactive(c)?.simulate(&population, s.n, 0, s.data_seed),
        MethodArg::Public => non_interactive(c)?.simulate(&population, s.n, public.max(1), s.data_seed),
        MethodArg::Iht => iht(c, &bar)?.simulate(&population, s.n, s.data_seed),
    };
    bar.finish();
    let fit = fit?;
    let error = population.distance(fit.coef());
    let truth: Vec<usize> = (0..c.k).collect();
    let recovered = fit.support == truth;
    report(c, &fit, Some((error, recovered)))
}

fn fit(f: FitArgs) -> CliResult {
    let c = &f.common;
    let samples = Samples::read(&f.x, &f.y)?;
    let (x, y) = (&samples.x, &samples.y);
    let public = match (&f.public, c.method) {
        (Some(p), MethodArg::Public) => Some((read_table(p)?, p)),
        (None, MethodArg::Public) => return Err("--method public needs --public FILE".into()),
        (Some(_), _) => return Err("--public applies to --method public".into()),
        (None, _) => None,
    };
    let (n, d) = x.values().dim();
    let public_rows = public.as_ref().map_or(0, |(p, _)| p.values().nrows());
    check_work(c.method, "the fit", n, d, public_rows, "the rows or columns of --x")?;
    let bar = Bar::new("LDP-IHT users", c.json);
    let fitted = match c.method {
        MethodArg::Noninteractive | MethodArg::Public => match &public {
            Some((p, _)) => non_interactive(c)?.fit((x.values(), y.view(), p.values())),
            None => non_interactive(c)?.fit((x.values(), y.view())),
        },
        MethodArg::Iht => iht(c, &bar)?.fit((x.values(), y.view())),
    };
    bar.finish();
    let fitted = fitted.map_err(|e| match &public {
        Some((table, path)) => super::locate_in_files(e.into(), &[("public X", table, path)]),
        None => e.into(),
    });
    report(c, &fitted.map_err(|e| samples.locate(e))?, None)
}

/// Prints the fit; `truth`: the simulation's ℓ2 error and whether the support was recovered.
fn report(c: &Common, fit: &LdpFit, truth: Option<(f64, bool)>) -> CliResult {
    let method = match c.method {
        MethodArg::Noninteractive => "noninteractive",
        MethodArg::Public => "public",
        MethodArg::Iht => "iht",
    };
    let g = fit.guarantee;
    let r = &fit.linear.report;
    let norm = fit.coef().iter().map(|v| v * v).sum::<f64>().sqrt();
    if fit.noise_dominated() {
        eprintln!(
            "warning: the privacy noise's expected error on the coefficients, {:.3e}, is {} of their norm {norm:.3e}: \
             {} users cannot carry this signal through ε = {} at d = {}; the estimate is not to be trusted (more users, a \
             larger ε, or tighter clipping)",
            fit.noise_error,
            if norm > 0.0 {
                format!("{:.0} %", 100.0 * fit.noise_error / norm)
            } else {
                "all".to_string()
            },
            fit.users,
            g.epsilon,
            fit.coef().len()
        );
    }
    if !r.converged {
        eprintln!(
            "warning: the rounds did not settle: the last round's averaged gradient has {:.1} times the squared norm \
             of its privacy noise (at most {:.1} once settled); the design may be too ill-conditioned (strongly \
             correlated features) for {} rounds, and the estimate is not to be trusted",
            r.reached, r.tolerance, r.iterations
        );
    }
    if c.json {
        let mut v = json!({
            "method": method,
            "coef": fit.coef().to_vec(),
            "support": fit.support,
            "guarantee": {"epsilon": g.epsilon, "delta": g.delta, "messages_per_user": fit.messages_per_user},
            "users": fit.users,
            "noise_error": fit.noise_error,
            "trusted": fit.trusted(),
            "scales": {"x": fit.scales.x, "y": fit.scales.y, "users": fit.scales.users},
            "report": {"iterations": r.iterations, "converged": r.converged, "measure": r.measure.name()},
        });
        if let Some((error, recovered)) = truth {
            v["l2_error"] = json!(error);
            v["support_recovered"] = json!(recovered);
        }
        print_json(&v)?;
        return Ok(());
    }
    outln!(
        "{method}: {} users, each ({:e}, {:e})-LDP with {} message(s)",
        fit.users,
        g.epsilon,
        g.delta,
        fit.messages_per_user
    )?;
    if fit.scales.users > 0 {
        outln!(
            "scales learnt privately from {} users: x / {:.4e}, y / {:.4e} (coefficients in the data's units)",
            fit.scales.users,
            fit.scales.x,
            fit.scales.y
        )?;
    }
    outln!("support {:?}", fit.support)?;
    outln!(
        "privacy noise: expected error {:.3e} on the coefficients (norm {norm:.3e}){}",
        fit.noise_error,
        if !fit.trusted() { ", not to be trusted" } else { "" }
    )?;
    for (j, c) in fit.coef().iter().enumerate().filter(|(_, c)| **c != 0.0) {
        outln!("  θ[{j}] = {c:.6}")?;
    }
    if let Some((error, recovered)) = truth {
        outln!(
            "‖θ̂ − θ*‖₂ = {error:.4e}; support {}recovered",
            if recovered { "" } else { "not " }
        )?;
    }
    Ok(())
}
