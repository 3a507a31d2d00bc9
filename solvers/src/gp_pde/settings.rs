//! The GP-PDE solver's settings — the estimator users configure ([`Settings`], whose
//! [`Estimator::fit`](crate::Estimator::fit) trains the model), its [`Method`] and [`FrequencyInit`] —
//! and [`settings_for`], the settings a command line, an example or the Python package starts from.

use super::kernel::Spectrum;
use super::problem::Problem;
use crate::{Error, Progress, Result};

/// How the grid values are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The paper's: Adam on grid values, kernel parameters and the two log precisions together.
    Adam,
    /// Ours: grid values solved exactly (Gauss–Newton + CG) for the current kernel, Adam on the kernel.
    Exact,
}

impl Method {
    /// The methods' names (CLI `--method`, Python `method=`), as [`Display`](std::fmt::Display) writes them.
    pub const NAMES: [&'static str; 2] = ["exact", "adam"];
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Exact => "exact",
            Method::Adam => "adam",
        })
    }
}

impl std::str::FromStr for Method {
    type Err = Error;

    /// A method by its name (one of [`Method::NAMES`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"method"`) naming the choices.
    fn from_str(name: &str) -> Result<Self> {
        match name {
            "exact" => Ok(Method::Exact),
            "adam" => Ok(Method::Adam),
            other => Err(crate::error::unknown_name("method", other, &Method::NAMES)),
        }
    }
}

/// Where the mixture components' frequencies start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FrequencyInit {
    /// The paper's: `μ_q = q/(Q−1) · scale` (cycles per unit), equal weights `1/Q`, `ln σ = −ln(√2 π)`
    /// (lengthscale 1).
    Uniform {
        /// The highest initial frequency, cycles per unit.
        scale: f64,
    },
    /// Ours: at the frequencies of the sinusoids in each axis's lines of the equations' sources (damped,
    /// growing and modulated ones too), found by ESPRIT (exact for sums of sinusoids, however close),
    /// weighted by their windowed amplitude divided by `(2πs)^m` for an `m`-th order operator along the
    /// axis (a leading-order estimate of the solution's spectrum), plus the envelope at frequency 0; where
    /// the sources vanish (a homogeneous equation), at those of the boundary data on the grid lines along the axis that lie in a face; where neither
    /// has a signal (1D, homogeneous), the envelope at frequency 0 alone, with components spread evenly
    /// up to half the Nyquist frequency switched off (the spread at equal weights is the alternative
    /// start [`solve`](super::solve) also tries for a homogeneous equation).
    Source,
    /// A broadband start: `Q` components spread evenly over `[0, top)`, each as wide as the spacing
    /// `top/Q`, at equal weights — a flat spectrum, for solutions whose spectrum is a band rather than
    /// peaks (a chirp, whose local frequency sweeps the band). `top` is 1.5× the highest frequency
    /// [`Source`](Self::Source) detects along the axis, at most half the Nyquist frequency (that half
    /// where it detects none). It is [`refine`](super::refine)'s last attempt; there it took the 2D chirps
    /// `sin(a(x² + y²))` of the broadened suite at 120² from 3.5e-5–1e-3 to 1e-6–1e-5.
    Band,
}

impl FrequencyInit {
    /// A short name: `uniform`, `peaks` or `band`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Uniform { .. } => "uniform",
            Self::Source => "peaks",
            Self::Band => "band",
        }
    }
}

/// The GP-PDE solver's settings: the estimator, whose [`Estimator::fit`](crate::Estimator::fit) of a
/// [`Discretization`](super::Discretization) trains the model (as [`solve`](super::solve) does without a
/// monitor).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Spectral family of every kernel.
    pub spectrum: Spectrum,
    /// Mixture components `Q` per field and axis.
    pub components: usize,
    /// Initial frequencies.
    pub frequencies: FrequencyInit,
    /// Diagonal jitter relative to `k(0)`.
    pub jitter: f64,
    /// Joint Adam or exact inner solves.
    pub method: Method,
    /// Outer (Adam) iterations.
    pub iterations: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Boundary weight `w_b` (the paper's 200).
    pub boundary_weight: f64,
    /// Initial (Adam) or fixed (Exact) `ln v`, the log precision of the scaled equation residuals.
    pub log_equation_precision: f64,
    /// Initial (Adam) or fixed (Exact) `ln τ`, the log precision of the scaled boundary misfit.
    pub log_boundary_precision: f64,
    /// Cap on Gauss–Newton steps per inner solve (1 suffices for a linear PDE).
    pub gauss_newton_steps: usize,
    /// Inner systems with up to this many unknowns (grid points × fields) are formed and factored
    /// (Cholesky: `O(n³)` time, `O(n²)` memory; a step whose factorisation fails at working precision is
    /// taken by the conjugate gradients instead); larger ones are solved by preconditioned conjugate
    /// gradients in whitened coordinates (see the module documentation), which reach the same solution
    /// 10–30× sooner on 2D grids of a few thousand points (Helmholtz 64²: 1.9 s against 46 s).
    pub dense_limit: usize,
    /// Relative residual at which those conjugate gradients stop.
    pub cg_tolerance: f64,
    /// Cap on conjugate-gradient iterations per Gauss–Newton step.
    pub cg_iterations: usize,
    /// Called after every outer iteration with its objective (task `"gp_pde"`, `total` = `iterations`).
    pub progress: Progress,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            spectrum: Spectrum::StudentT { dof: 5 },
            components: 30,
            frequencies: FrequencyInit::Source,
            jitter: 1e-10,
            method: Method::Exact,
            iterations: 200,
            learning_rate: 0.01,
            boundary_weight: 200.0,
            log_equation_precision: 24.0,
            log_boundary_precision: 24.0,
            gauss_newton_steps: 20,
            dense_limit: 1000,
            cg_tolerance: 1e-8,
            cg_iterations: 3000,
            progress: Progress::default(),
        }
    }
}

/// The settings a command line, an example or the Python package starts from: the defaults with
/// `method` and `components`, the spectral family the problem asks for ([`Problem::spectrum`]), and per
/// method a learning rate and a default of `iterations` — exact: 30 outer iterations at learning rate
/// 0.01 (on the kernel parameters alone) and jitter 1e-12 where the inner systems are factored, 10 at
/// 0.001 where they are solved by conjugate gradients, with at most 3 Gauss–Newton steps each; Adam:
/// 2000 at the paper's 0.01.
pub fn settings_for(
    problem: &Problem,
    method: Method,
    components: Option<usize>,
    iterations: Option<usize>,
) -> Settings {
    let mut s = Settings {
        method,
        ..Settings::default()
    };
    if let Some(q) = components {
        s.components = q;
    }
    if let Some(spectrum) = problem.spectrum() {
        s.spectrum = spectrum;
    }
    // (Saturating: a grid too large to solve is refused later, by the discretization, with its size.)
    let unknowns = problem
        .axes()
        .iter()
        .fold(problem.fields().len(), |n, a| n.saturating_mul(a.points));
    let (default_iterations, learning_rate) = match method {
        Method::Exact if unknowns <= s.dense_limit => {
            // Factored inner solves are exact whatever C's condition, and a smaller jitter leaves the
            // prior closer to the kernel: the 1D suite (200 points) went from median 2.1e-6 to 1.7e-7
            // at 1e-12 against 1e-10. Conjugate gradients keep 1e-10 (the default): there the jitter
            // also bounds the conditioning of the inner systems, and 1e-12 was 2–4× less accurate and
            // slower on the 2D suite at 120².
            s.jitter = 1e-12;
            (30, 0.01)
        }
        Method::Exact => {
            // Conjugate-gradient inner solves: each outer iteration warm-starts from the last, so a few
            // Gauss–Newton steps per iteration suffice for a nonlinear equation. Their iterations grow
            // with the equation precision v, and on these grids the error does not improve above
            // ln v = 20 (Poisson 2D sin(100x)sin(100y), 400²: 2.6e-8 in 23 s at 20, 2.4e-8 in 48 s at 24).
            s.gauss_newton_steps = 3;
            s.log_equation_precision = 20.0;
            s.log_boundary_precision = 20.0;
            (10, 0.001)
        }
        Method::Adam => (2000, 0.01),
    };
    s.iterations = iterations.unwrap_or(default_iterations);
    s.learning_rate = learning_rate;
    s
}
