//! One module per subcommand; each has its clap `Args` and a `run` that prints the result.
//!
//! Output goes through [`outln!`] (standard output, a write error returned, never a panic: `main` ends a
//! closed pipe quietly with success, as Unix tools do, and reports any other failure) and [`warn!`]
//! (standard error, best effort).

/// `println!` that returns the write's `io::Result` instead of panicking on a closed pipe or a full disk.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// `eprintln!` that never panics (a warning that cannot be written is dropped).
macro_rules! warn {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

#[cfg(feature = "gpu")]
pub mod devices;
pub mod inspect;
pub mod pde;
pub mod regress;
pub mod sindy;

/// The error type of the subcommands: any error, printed by `main` as `error: …`.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Prints a JSON value on one line.
///
/// # Errors
/// The write's error (a closed pipe, a full disk).
pub fn print_json(v: &serde_json::Value) -> std::io::Result<()> {
    outln!("{v}")
}

/// A progress bar on stderr for a long fit: drawn only when stderr is a terminal and the output is not
/// JSON (`quiet`), so scripts and pipes see nothing of it.
pub struct Bar(indicatif::ProgressBar);

impl Bar {
    /// A bar for `task`, hidden when `quiet` or when stderr is not a terminal.
    pub fn new(task: &str, quiet: bool) -> Self {
        let target = if quiet {
            indicatif::ProgressDrawTarget::hidden()
        } else {
            indicatif::ProgressDrawTarget::stderr()
        };
        let bar = indicatif::ProgressBar::with_draw_target(None, target);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(task.to_string());
        Self(bar)
    }

    /// The library callback that moves the bar (and shows the objective, when the fit reports one).
    pub fn callback(&self) -> sparsimony::solvers::Progress {
        let bar = self.0.clone();
        sparsimony::solvers::Progress::new(move |s| {
            bar.set_length(s.total as u64);
            // Parallel steps may report out of order: the bar never moves back.
            bar.set_position(bar.position().max(s.done as u64));
            if let Some(o) = s.objective {
                bar.set_message(format!("objective {o:.6e}"));
            }
        })
    }

    /// Replaces the message after the counts.
    pub fn message(&self, m: String) {
        self.0.set_message(m);
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
