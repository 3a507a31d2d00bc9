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
    /// An input holds NaN or ±∞.
    #[error("{what} holds a non-finite value at row {row}, column {col}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Row of the first such value.
        row: usize,
        /// Column of the first such value (0 for vectors).
        col: usize,
    },
    /// A parameter is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// An iterative solver stopped at its cap before reaching its tolerance.
    #[error("did not converge in {iterations} iterations: {measure} reached {reached:e}, asked for {tolerance:e}")]
    NotConverged {
        /// Iterations performed.
        iterations: usize,
        /// The stopping measure (e.g. "duality gap").
        measure: &'static str,
        /// Its value at the end.
        reached: f64,
        /// The tolerance asked for.
        tolerance: f64,
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
    /// A problem description is malformed (TOML syntax, unknown keys, missing data).
    #[error("problem description: {0}")]
    Problem(String),
    /// An error of the GPU backend, as it printed (the CPU path stays available).
    #[error("GPU: {0}")]
    Gpu(String),
    /// An error from the core kernels.
    #[error(transparent)]
    Core(#[from] sparsimony_core::Error),
}

/// `Result` with the solvers' [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(feature = "gpu")]
impl From<sparsimony_gpu::GpuError> for Error {
    fn from(e: sparsimony_gpu::GpuError) -> Self {
        Error::Gpu(e.to_string())
    }
}
