use sparsimony_core::Report;

/// Errors of the solvers, naming the offending input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two inputs disagree in shape.
    #[error("shape mismatch: {what}: expected {expected}, found {found}")]
    Shape {
        /// What was compared.
        what: &'static str,
        /// The expected extent.
        expected: usize,
        /// The given extent.
        found: usize,
    },
    /// An input has no rows or no columns.
    #[error("{what} is empty ({rows} × {cols})")]
    Empty {
        /// Which input.
        what: &'static str,
        /// Its rows.
        rows: usize,
        /// Its columns.
        cols: usize,
    },
    /// An input holds a finite value so large that sums of squares of such values overflow (beyond
    /// [`MAX_MAGNITUDE`](crate::data::MAX_MAGNITUDE)): rescale the data.
    #[error(
        "{what} holds {value:e} at row index {row}, column index {col} (0-based): beyond ±1e100 its squares \
         and products overflow; rescale the data (e.g. divide by its standard deviation)"
    )]
    Magnitude {
        /// Which input.
        what: &'static str,
        /// Row of the first such value.
        row: usize,
        /// Column of the first such value (0 for vectors).
        col: usize,
        /// The value.
        value: f64,
    },
    /// An input holds NaN or ±∞.
    #[error("{what} holds a non-finite value at row index {row}, column index {col} (0-based)")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Row of the first such value.
        row: usize,
        /// Column of the first such value (0 for vectors).
        col: usize,
    },
    /// An input carries nothing to fit: an all-zero design, a constant response.
    #[error("{what} {reason}")]
    Degenerate {
        /// Which input.
        what: &'static str,
        /// What is wrong with it, and what to give instead.
        reason: String,
    },
    /// One record of the data (a visibility) is out of range: its index (0-based, in the order given), the
    /// quantity (`antenna`, `time`, `uv`) and why.
    #[error("visibility {index}: {reason}")]
    Visibility {
        /// The record's index (0-based).
        index: usize,
        /// The quantity out of range.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// A parameter is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// A fit stopped at its iteration cap before reaching its tolerance, and the caller asked for that to
    /// be an error ([`ensure_converged`]). The estimators themselves return the last iterate with an
    /// unconverged [`Report`] instead, as scikit-learn returns the model and warns.
    #[error("did not converge: {0}")]
    NotConverged(Report),
    /// The caller's stop hook asked a fit to stop before it had an iterate to return (see
    /// [`regression::interrupt`](crate::regression::interrupt); Python's Ctrl-C).
    #[error("stopped at the caller's request before a result existed")]
    Stopped,
    /// A matrix that must be positive definite (or nonsingular) is not, numerically.
    #[error("{what} is singular or not positive definite ({detail})")]
    Singular {
        /// Which matrix.
        what: &'static str,
        /// Its size, the setting that would fix it, the factorisation's message.
        detail: String,
    },
    /// An optimizer diverged: its objective or parameters became non-finite.
    #[error(
        "diverged at iteration {iteration}: the objective became non-finite (last finite value {last_finite:e}); \
         lower the learning rate or rescale the problem"
    )]
    Diverged {
        /// The iteration (0-based) at which it happened.
        iteration: usize,
        /// The last finite objective (NaN when there was none).
        last_finite: f64,
    },
    /// A computation produced a non-finite (or overflowing) result from finite data and valid settings: an
    /// extreme setting pushed it past f64's range. Refused rather than returned.
    #[error("{what} is not finite: {cause}")]
    NonFiniteResult {
        /// What came out non-finite.
        what: &'static str,
        /// The likely cause and what to change.
        cause: String,
    },
    /// An expression of a problem description does not parse.
    #[error("cannot parse `{expression}` at character {position}: {message}")]
    Expression {
        /// The expression.
        expression: String,
        /// 1-based character where parsing stopped.
        position: usize,
        /// What was expected there.
        message: String,
    },
    /// A problem description is malformed (TOML syntax, unknown keys, missing data) or outside what the
    /// method asked for supports. `line` and `column` locate it in the TOML text where the parser did.
    #[error("problem description{}: {message}", at_line(*line, *column))]
    Problem {
        /// 1-based line of the TOML text, where the parser located the error.
        line: Option<usize>,
        /// 1-based column (in characters) on that line.
        column: Option<usize>,
        /// What is wrong, and where in the description's sections.
        message: String,
    },
    /// A dense eigen- or singular-value decomposition (faer) stopped at its iteration limit without
    /// converging: the matrix spans a range of magnitudes its iteration cannot resolve.
    #[error("the {decomposition} of {what} did not converge (faer's iteration limit); {remedy}")]
    Decomposition {
        /// Which matrix.
        what: &'static str,
        /// `eigendecomposition` or `singular value decomposition`.
        decomposition: &'static str,
        /// What to change.
        remedy: String,
    },
    /// An error of the GPU backend, kept typed so that a caller can match it (e.g.
    /// [`GpuError::MissingFeature`](sparsimony_gpu::GpuError::MissingFeature) or `NoAdapter`) and fall
    /// back to [`Backend::Cpu`](crate::Backend::Cpu), which stays available.
    #[cfg(feature = "gpu")]
    #[error("GPU: {0}")]
    Gpu(#[from] sparsimony_gpu::GpuError),
    /// A GPU backend was asked for in a build without the `gpu` feature.
    #[error("this build has no GPU backend (build sparsimony-solvers with the `gpu` feature)")]
    NoGpuBackend,
    /// An error of another process of a [`Group`](crate::distributed::Group) (its piece of the work
    /// failed there), or of the exchange between processes (`rank` is then `usize::MAX`).
    #[error("process {rank}: {message}")]
    Remote {
        /// The process whose work failed.
        rank: usize,
        /// Its error, as it printed it.
        message: String,
    },
    /// An error from the core kernels.
    #[error(transparent)]
    Core(#[from] sparsimony_core::Error),
}

fn at_line(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

impl Error {
    /// [`Error::Problem`] for a description that parsed but says something wrong (no location in the text).
    pub(crate) fn problem(message: impl Into<String>) -> Self {
        Self::Problem {
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// [`Error::Problem`] for TOML that does not parse into a description, located in `text`.
    pub(crate) fn toml(text: &str, e: &toml::de::Error) -> Self {
        let (line, column) = match e.span() {
            Some(span) => {
                let before = text.get(..span.start).unwrap_or(text);
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                (
                    Some(before.matches('\n').count() + 1),
                    Some(before[line_start..].chars().count() + 1),
                )
            }
            None => (None, None),
        };
        Self::Problem {
            line,
            column,
            message: e.message().trim_end().to_string(),
        }
    }

    /// faer's Cholesky failure as [`Error::Singular`]: the pivot that was not positive, and the remedy.
    pub(crate) fn not_positive_definite(what: &'static str, e: faer::linalg::solvers::LltError, remedy: &str) -> Self {
        let faer::linalg::solvers::LltError::NonPositivePivot { index } = e;
        Self::Singular {
            what,
            detail: format!("Cholesky pivot {index} (0-based) is not positive; {remedy}"),
        }
    }

    /// faer's eigendecomposition that did not converge, as [`Error::Decomposition`] with the remedy.
    pub(crate) fn eigen(what: &'static str, _: faer::linalg::solvers::EvdError, remedy: &str) -> Self {
        Self::Decomposition {
            what,
            decomposition: "eigendecomposition",
            remedy: remedy.into(),
        }
    }
}

/// The refusal of a name that is not one of `names`.
pub(crate) fn unknown_name(parameter: &'static str, given: &str, names: &[&str]) -> Error {
    Error::InvalidParameter {
        name: parameter,
        reason: format!("unknown name {given:?}: one of {}", names.join(", ")),
    }
}

/// `Result` with the solvers' [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Ok` when `report` converged, [`Error::NotConverged`] with it otherwise: for callers who want a fit that
/// stops at its cap to be an error (`ensure_converged(&fit.report)?`).
///
/// # Errors
/// [`Error::NotConverged`] when `report.converged` is false.
pub fn ensure_converged(report: &Report) -> Result<()> {
    if report.converged {
        Ok(())
    } else {
        Err(Error::NotConverged(*report))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_error_is_located_by_line_and_character_column() {
        // `x` after the string is the error: line 2, the 9th character (`é` is two bytes, one character).
        let text = "a = 1\nb = \"é\" x\n";
        let e = toml::from_str::<toml::Table>(text).unwrap_err();
        match Error::toml(text, &e) {
            Error::Problem { line, column, message } => {
                assert_eq!((line, column), (Some(2), Some(9)), "{message}");
                // The location is in the fields, not repeated in the message.
                assert!(!message.is_empty() && !message.contains("line 2"), "{message:?}");
            }
            other => panic!("{other:?}"),
        }
    }
}
