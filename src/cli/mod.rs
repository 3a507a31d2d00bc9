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
pub mod langevin;
pub mod ldp;
pub mod mpc;
pub mod pde;
pub mod radio;
pub mod regress;
pub mod sindy;
pub mod work;

/// The error type of the subcommands: any error, printed by `main` as `error: …`.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Prints a JSON value on one line.
///
/// # Errors
/// The write's error (a closed pipe, a full disk).
pub fn print_json(v: &serde_json::Value) -> std::io::Result<()> {
    outln!("{v}")
}

/// Samples from two files: `X` (one sample per row) and `y` (one value per row of `X`), their row counts
/// checked against each other.
pub struct Samples {
    /// The samples, one per row.
    pub x: sparsimony::io::Table,
    /// The responses.
    pub y: ndarray::Array1<f64>,
    y_table: sparsimony::io::Table,
    x_path: std::path::PathBuf,
    y_path: std::path::PathBuf,
}

impl Samples {
    /// Reads `x` and `y`.
    ///
    /// # Errors
    /// The files' read errors; `y` not one column; differing row counts, naming both files.
    pub fn read(x: &std::path::Path, y: &std::path::Path) -> Result<Self, Box<dyn std::error::Error>> {
        let table = sparsimony::io::read_table(x)?;
        let y_table = sparsimony::io::read_table(y)?;
        let values = y_table.to_vector(y)?;
        if values.len() != table.values().nrows() {
            return Err(format!(
                "{} has {} rows but {} has {}",
                x.display(),
                table.values().nrows(),
                y.display(),
                values.len()
            )
            .into());
        }
        Ok(Self {
            x: table,
            y: values,
            y_table,
            x_path: x.into(),
            y_path: y.into(),
        })
    }

    /// A data error of the library re-worded with its place in these files (see [`locate_in_files`]).
    pub fn locate(&self, e: Box<dyn std::error::Error>) -> Box<dyn std::error::Error> {
        locate_in_files(e, &[("X", &self.x, &self.x_path), ("y", &self.y_table, &self.y_path)])
    }
}

/// A data error of the library — a non-finite value, one beyond ±1e100, an input with nothing to fit —
/// re-worded with its place in the user's files, as a person finds it (the line and column name of a
/// CSV). `files` are `(prefix, table, path)`: an error about an input whose name starts with the prefix
/// (`X`, `y`, `public X`) is located in that file (the longest prefix that matches). Other errors
/// unchanged.
pub fn locate_in_files(
    e: Box<dyn std::error::Error>,
    files: &[(&str, &sparsimony::io::Table, &std::path::Path)],
) -> Box<dyn std::error::Error> {
    use sparsimony::solvers::Error;
    let file = |what: &str| {
        files
            .iter()
            .filter(|(prefix, _, _)| what.starts_with(prefix))
            .max_by_key(|(prefix, _, _)| prefix.len())
    };
    let at = |what: &str, row: usize, col: usize| {
        file(what).map(|(_, table, path)| table.locate(path, row, if table.columns.len() > 1 { col } else { 0 }))
    };
    let located = match e.downcast_ref::<Error>() {
        Some(Error::NonFinite { what, row, col }) => {
            at(what, *row, *col).map(|at| format!("{at}: not a finite number"))
        }
        Some(Error::Magnitude { what, row, col, value }) => at(what, *row, *col).map(|at| {
            format!("{at}: {value:e} is beyond ±1e100, where squares and products overflow: rescale the data")
        }),
        Some(Error::Degenerate { what, reason }) => {
            file(what).map(|(_, _, path)| format!("{}: {reason}", path.display()))
        }
        _ => None,
    };
    located.map_or(e, Into::into)
}

/// A flag whose value is one of a library enum's names (`T::NAMES`), parsed by the enum's `FromStr`: the
/// help and the refusal of a wrong value list the library's names, so the CLI never keeps its own list.
/// A name with `_` is also accepted with `-` (the spelling clap's enums used before, `student-t`).
pub fn by_name<T>(names: &'static [&'static str]) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let values = names.iter().map(|&name| {
        let value = clap::builder::PossibleValue::new(name);
        if name.contains('_') {
            value.alias(name.replace('_', "-"))
        } else {
            value
        }
    });
    clap::builder::TypedValueParser::try_map(clap::builder::PossibleValuesParser::new(values), |name| {
        name.replace('-', "_").parse::<T>()
    })
}

/// The library's [`InvalidParameter`](sparsimony::solvers::Error::InvalidParameter) error with its
/// parameter named by the flag the user typed (`flags`: parameter name → flag); any other error unchanged.
pub fn with_flag_names(e: Box<dyn std::error::Error>, flags: &[(&str, &str)]) -> Box<dyn std::error::Error> {
    use sparsimony::solvers::Error;
    // The core's parameter errors (a randomizer's `sensitivity`) reach here wrapped in the solvers'.
    let (name, reason) = match e.downcast_ref::<Error>() {
        Some(Error::InvalidParameter { name, reason }) => (*name, reason.clone()),
        Some(Error::Core(sparsimony::core::Error::InvalidParameter { name, reason })) => (*name, reason.to_string()),
        _ => return e,
    };
    match flags.iter().find(|(n, _)| *n == name) {
        Some((_, flag)) => format!("{flag}: {reason}").into(),
        None => e,
    }
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

/// For a fit that met a singular system: names the columns that make it singular — an exact duplicate or
/// proportional pair, or a constant (with an intercept) or zero column — when there are such columns among
/// the first 2 000 (the pair search is quadratic). `None` when none is found: then the collinearity
/// involves more than two columns, and the library's own message stands.
pub fn singular_columns(columns: &[String], x: ndarray::ArrayView2<'_, f64>, centred: bool) -> Option<String> {
    let d = x.ncols().min(2000);
    let cols: Vec<Vec<f64>> = (0..d)
        .map(|j| {
            let c = x.column(j);
            let mean = if centred { c.sum() / c.len().max(1) as f64 } else { 0.0 };
            c.iter().map(|v| v - mean).collect()
        })
        .collect();
    let norms: Vec<f64> = cols
        .iter()
        .map(|c| c.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    let scale = norms.iter().fold(0.0f64, |m, v| m.max(*v));
    if let Some(j) = (0..d).find(|&j| norms[j] <= 1e-12 * scale.max(f64::MIN_POSITIVE)) {
        let what = if centred {
            "constant (it duplicates the intercept)"
        } else {
            "zero"
        };
        return Some(format!("column `{}` is {what}: drop it", columns[j]));
    }
    for i in 0..d {
        for j in i + 1..d {
            let dot: f64 = cols[i].iter().zip(&cols[j]).map(|(a, b)| a * b).sum();
            if dot.abs() >= (1.0 - 1e-10) * norms[i] * norms[j] {
                return Some(format!(
                    "columns `{}` and `{}` are {}: the least-squares system on both is singular; drop one",
                    columns[i],
                    columns[j],
                    if (dot - norms[i] * norms[j]).abs() <= 1e-12 * norms[i] * norms[j] && norms[i] == norms[j] {
                        "identical"
                    } else {
                        "proportional"
                    }
                ));
            }
        }
    }
    None
}

/// Whether `e` is a singular or rank-deficient system met by a fit.
pub fn is_singular(e: &(dyn std::error::Error + 'static)) -> bool {
    use sparsimony::core::Error as Core;
    use sparsimony::solvers::Error;
    matches!(
        e.downcast_ref::<Error>(),
        Some(Error::Singular { .. } | Error::Core(Core::NotPositiveDefinite { .. } | Core::RankDeficient { .. }))
    )
}
