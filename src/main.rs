//! The `sparsimony` command-line program: one subcommand per model family.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

const EXAMPLES: &str = "Examples:
  sparsimony regress --x data/diabetes_X.csv --y data/diabetes_y.csv --alpha 0.1
  sparsimony regress --x X.npy --y y.npy --alpha 0.05 --no-intercept --json
  sparsimony sindy --data data/lorenz.csv --t-column t
  sparsimony sindy --data data/lorenz.csv --t-column t --diff savgol --ensemble 20 --json
  sparsimony sindy --data excitation.csv --dt 0.002 --control u --export model.json
  sparsimony mpc --model model.json --settings controller.toml --x0 1,2,25 --steps 1000
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
#[command(allow_negative_numbers = true)]
struct Cli {
    /// Threads for the parallel work (cross-validation folds, ensembles, SINDy's blocks, the PDE solver's
    /// products), at most 4096; default RAYON_NUM_THREADS, else one per core. Results are the same for
    /// every count.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Start work estimated above 10¹³ operations (hours on one machine) instead of refusing it.
    #[arg(long, global = true)]
    no_work_limit: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sparse linear regression (Lasso) of y on the columns of X.
    Regress(cli::regress::Args),
    /// Discover equations of motion from a trajectory (SINDy): ẋ = Ξ θ(x, u) with Ξ sparse.
    Sindy(cli::sindy::Args),
    /// Model-predictive control with an exported SINDYc model, simulated in closed loop against a plant.
    Mpc(cli::mpc::Args),
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
    let args = match Cli::try_parse_from(join_negative_values(std::env::args_os())) {
        Ok(args) => args,
        Err(e) => return parse_failure(&e),
    };
    cli::work::set_unlimited(args.no_work_limit);
    let threads = match thread_count(args.threads) {
        Ok(n) => n,
        Err(message) => return fail(&message),
    };
    let run = || match args.command {
        Command::Regress(a) => cli::regress::run(a),
        Command::Sindy(a) => cli::sindy::run(a),
        Command::Mpc(a) => cli::mpc::run(a),
        Command::Pde(a) => cli::pde::run(a),
        Command::Ldp(a) => cli::ldp::run(a),
        Command::Langevin(a) => cli::langevin::run(a),
        Command::Radio(a) => cli::radio::run(a),
        Command::Inspect(a) => cli::inspect::run(a),
        #[cfg(feature = "gpu")]
        Command::Devices(a) => cli::devices::run(a),
    };
    // The global pool built fallibly, here: rayon's lazy one panics where the system cannot start its
    // threads. The work itself stays on the main thread (its stack, its exit).
    if let Err(e) = sparsimony::solvers::use_threads_globally(threads) {
        return fail(&match args.threads {
            Some(_) => format!("--threads: {}", strip_name(&e.to_string())),
            None => format!("RAYON_NUM_THREADS={threads}: {}", strip_name(&e.to_string())),
        });
    }
    #[cfg(feature = "mpi")]
    let outcome = match processes::join() {
        Ok(Some(job)) => return job.run(run),
        Ok(None) => run(),
        Err(e) => return fail(&format!("MPI: {e}")),
    };
    #[cfg(not(feature = "mpi"))]
    let outcome = run();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => message(e.as_ref()).map_or(ExitCode::SUCCESS, |m| fail(&m)),
    }
}

/// Under `mpirun` (feature `mpi`): every rank runs the command with the MPI world installed as the
/// library's group (`sparsimony::solvers::distributed`), so the piece sums and sweeps are shared among the
/// ranks and every rank holds the single-process result. Rank 0 alone prints and writes files; the others'
/// standard output and error go to /dev/null, except an error of their own, which is printed (naming the
/// rank) before the whole job is ended with `MPI_Abort`, so that no rank waits for one that has given up.
#[cfg(feature = "mpi")]
mod processes {
    use std::process::ExitCode;
    use std::rc::Rc;

    use sparsimony::solvers::distributed::{Group, mpi::World, with_group};

    use super::{fail, message};

    /// An MPI job of several processes.
    pub(super) struct Job {
        world: Rc<World>,
        rank: usize,
        /// Rank > 0: the original standard error, for its own errors.
        stderr: Option<i32>,
    }

    /// The job this process belongs to: `None` for a job of one process (run as without MPI).
    pub(super) fn join() -> Result<Option<Job>, sparsimony::solvers::Error> {
        let world = World::init()?;
        if world.size() == 1 {
            return Ok(None);
        }
        let rank = world.rank();
        let stderr = if rank > 0 {
            sparsimony::output::silence_process()
        } else {
            None
        };
        Ok(Some(Job {
            world: Rc::new(world),
            rank,
            stderr,
        }))
    }

    impl Job {
        /// Runs the command on this rank; on an error, ends the job.
        pub(super) fn run(self, command: impl FnOnce() -> super::cli::CliResult) -> ExitCode {
            let group: Rc<dyn Group> = self.world.clone();
            let outcome = match with_group(group, command) {
                Ok(outcome) => outcome,
                Err(e) => Err(e.into()),
            };
            let Err(e) = outcome else {
                return ExitCode::SUCCESS;
            };
            // A closed pipe ends the run quietly, as without MPI; the job still ends at once, so that no
            // rank waits in an exchange for this one.
            let Some(text) = message(e.as_ref()) else {
                self.world.abort(0)
            };
            match self.stderr {
                None => {
                    fail(&text);
                }
                Some(fd) => {
                    let line = format!("error: process {}: {text}\n", self.rank);
                    // SAFETY: writes a buffer of its own length to the descriptor saved by `join`.
                    unsafe { libc::write(fd, line.as_ptr().cast(), line.len()) };
                }
            }
            self.world.abort(1)
        }
    }
}

/// What a subcommand's error says: nothing for a write to a closed pipe (the reader, `| head`, wanted no
/// more: the run ends quietly, as Unix tools do), and a bare I/O error — a failed write of the output, as
/// reads name their file — said as such.
fn message(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    if is_broken_pipe(e) {
        return None;
    }
    let what = if e.downcast_ref::<std::io::Error>().is_some() {
        "cannot write the output: "
    } else {
        ""
    };
    Some(format!("{what}{e}"))
}

/// The library's `invalid parameter threads: …` message without its prefix (the caller names the flag or
/// the variable).
fn strip_name(message: &str) -> &str {
    message.split_once("`threads`: ").map_or(message, |(_, reason)| reason)
}

/// The pool's size: `--threads`, else `RAYON_NUM_THREADS` (as rayon reads it: a positive count; 0 or
/// unset means one per core), else one per core.
fn thread_count(flag: Option<usize>) -> Result<usize, String> {
    if let Some(n) = flag {
        return Ok(n);
    }
    let per_core = || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    match std::env::var("RAYON_NUM_THREADS") {
        Err(std::env::VarError::NotPresent) => Ok(per_core()),
        Err(std::env::VarError::NotUnicode(v)) => Err(format!("RAYON_NUM_THREADS={v:?}: not a thread count")),
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(0) => Ok(per_core()),
            Ok(n) => Ok(n),
            Err(_) => Err(format!(
                "RAYON_NUM_THREADS={v}: not a thread count (a whole number from 1 to 4096; 0 or unset means one per core)"
            )),
        },
    }
}

/// The command line with each negative number that follows a `--flag` joined to it (`--snr -1e-300` →
/// `--snr=-1e-300`): clap takes `-1` as a value where negative numbers are allowed, but reads `-inf` or
/// `-1e-300` as short options. Every value that parses as a float (infinities and NaN included) is a
/// value; nothing else changes.
fn join_negative_values(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out: Vec<std::ffi::OsString> = Vec::new();
    for arg in args {
        let negative = arg
            .to_str()
            .is_some_and(|a| a.starts_with('-') && a.len() > 1 && a.parse::<f64>().is_ok());
        let joinable = out
            .last()
            .and_then(|p| p.to_str())
            .is_some_and(|p| p.starts_with("--") && p.len() > 2 && !p.contains('='));
        if negative && joinable {
            let flag = out.pop().unwrap_or_default();
            let mut joined = flag;
            joined.push("=");
            joined.push(&arg);
            out.push(joined);
        } else {
            out.push(arg);
        }
    }
    out
}

/// Ends on a command line clap refused, or prints the help or the version it asked for: to stdout with
/// the write checked (a full disk is an error, not exit 0; a closed pipe ends quietly).
fn parse_failure(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    use std::io::Write as _;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let text = e.render().to_string();
        let mut out = std::io::stdout().lock();
        return match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(w) if w.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(w) => fail(&format!("cannot write the output: {w}")),
        };
    }
    let _ = e.print();
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// Prints `error: message` on stderr and returns the failure status.
fn fail(message: &str) -> ExitCode {
    use std::io::Write as _;
    // One write: standard error is unbuffered, and under mpirun another process's lines (MPI_Abort's
    // notice) would otherwise land between the pieces of a formatted line.
    let _ = std::io::stderr().write_all(format!("error: {message}\n").as_bytes());
    ExitCode::FAILURE
}

/// Whether `e` is a write to a closed pipe.
fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
