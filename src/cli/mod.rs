//! One module per subcommand; each has its clap `Args` and a `run` that prints the result.

#[cfg(feature = "gpu")]
pub mod devices;
pub mod inspect;
pub mod pde;
pub mod regress;
pub mod sindy;

/// The error type of the subcommands: any error, printed by `main` as `error: …`.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Prints a JSON value on one line.
pub fn print_json(v: &serde_json::Value) {
    println!("{v}");
}
