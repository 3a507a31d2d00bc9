//! The `sparsimony` command-line program: one subcommand per model family.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

const EXAMPLES: &str = "Examples:
  sparsimony regress --x data/diabetes_X.csv --y data/diabetes_y.csv --alpha 0.1
  sparsimony regress --x X.npy --y y.npy --alpha 0.05 --no-intercept --json
  sparsimony sindy --data data/lorenz.csv --t-column t
  sparsimony sindy --data data/lorenz.csv --t-column t --diff savgol --ensemble 20 --json
  sparsimony pde --benchmark poisson_1d-single_sin --plot poisson.svg
  sparsimony pde --problem problem.toml --grid 64,64 --json
  sparsimony ldp simulate --n 1000000 --d 20 --k 2 --epsilon 4 --method iht
  sparsimony ldp fit --x X.csv --y y.csv --epsilon 1 --k 3 --method noninteractive --json
  sparsimony langevin simulate --d 100 --k 3
  sparsimony langevin fit --x X.npy --y y.npy --link hermite3 --json
  sparsimony radio simulate --out sim --antennas 100
  sparsimony radio calibrate --vis sim/vis.csv --bright sim/bright.npy --truth sim/truth.npy --out image.fits
  sparsimony inspect data/diabetes_X.csv
  sparsimony devices";

/// Sparse scientific modeling from the command line.
///
/// Data files are CSV with a header row, or NumPy `.npy` arrays (1-D or 2-D, f64 or f32). Results are
/// printed as text, or as JSON with `--json`.
#[derive(Debug, Parser)]
#[command(name = "sparsimony", version, about, long_about = None, propagate_version = true, after_help = EXAMPLES)]
struct Cli {
    /// Threads for the parallel work (cross-validation folds, ensembles, SINDy's blocks, the PDE solver's
    /// products); default one per core, or RAYON_NUM_THREADS. Results are the same for every count.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sparse linear regression (Lasso) of y on the columns of X.
    Regress(cli::regress::Args),
    /// Discover equations of motion from a trajectory (SINDy): ẋ = Ξ θ(x, u) with Ξ sparse.
    Sindy(cli::sindy::Args),
    /// Solve a PDE with a spectral-mixture Gaussian process (a built-in benchmark or a TOML problem).
    Pde(cli::pde::Args),
    /// Sparse regression under local differential privacy: simulated users, or rows privatized per user.
    Ldp(cli::ldp::Args),
    /// Langevin dynamics with averaging: recover a single-index model's direction (simulated, or a user's data).
    Langevin(cli::langevin::Args),
    /// Radio interferometric imaging with direction-dependent self-calibration (simulate, calibrate).
    Radio(cli::radio::Args),
    /// Shape, column names and per-column statistics of a data file (checks that it reads cleanly).
    Inspect(cli::inspect::Args),
    /// The GPU adapter sparsimony would use.
    #[cfg(feature = "gpu")]
    Devices(cli::devices::Args),
}

fn main() -> ExitCode {
    let args = Cli::parse();
    let run = move || match args.command {
        Command::Regress(a) => cli::regress::run(a),
        Command::Sindy(a) => cli::sindy::run(a),
        Command::Pde(a) => cli::pde::run(a),
        Command::Ldp(a) => cli::ldp::run(a),
        Command::Langevin(a) => cli::langevin::run(a),
        Command::Radio(a) => cli::radio::run(a),
        Command::Inspect(a) => cli::inspect::run(a),
        #[cfg(feature = "gpu")]
        Command::Devices(a) => cli::devices::run(a),
    };
    let result = match args.threads {
        None => run(),
        Some(0) => Err("--threads must be at least 1".into()),
        // The pool wants a `Send` result: the error's message, or nothing for a closed pipe.
        Some(n) => match sparsimony::solvers::with_threads(n, || {
            run().map_err(|e| (!is_broken_pipe(e.as_ref())).then(|| e.to_string()))
        }) {
            Ok(Ok(())) | Ok(Err(None)) => Ok(()),
            Ok(Err(Some(message))) => Err(message.into()),
            Err(e) => Err(e.into()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that closed the pipe (`| head`) wanted no more: end quietly, as Unix tools do.
        Err(e) if is_broken_pipe(e.as_ref()) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write as _;
            // A bare I/O error reaching here is a failed write of the output (reads name their file).
            let what = if e.downcast_ref::<std::io::Error>().is_some() {
                "cannot write the output: "
            } else {
                ""
            };
            let _ = writeln!(std::io::stderr(), "error: {what}{e}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `e` is a write to a closed pipe.
fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
