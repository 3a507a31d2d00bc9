//! Sparse identification of nonlinear dynamics (SINDy; Brunton, Proctor & Kutz, PNAS 2016), split as
//! PySINDy splits it, so that its users find their way:
//!
//! * [`differentiation`]: derivatives from samples (finite differences, Savitzky–Golay smoothing, spectral);
//! * [`library`]: candidate functions (polynomial, Fourier, custom; concatenated or tensored);
//! * [`optimizer`]: sparse regression on the library's normal equations (STLSQ, SR3, ensembles);
//! * [`model`]: [`Sindy`] ties them together — several trajectories, control inputs (SINDYc), discrete
//!   time; [`fitted`]: [`SindyFit`] prints, predicts, scores and simulates the model; [`export`]: the
//!   model in the form of [`sparsimony_core::sindy`], where it runs without allocation on a
//!   microcontroller;
//! * [`weak`]: the weak (integral) form for noisy data, with no differentiation at all;
//! * [`pde`]: PDE-FIND, the same regression on fields sampled on space–time grids;
//! * [`control`]: model-predictive control with a SINDYc model — the controller's settings (TOML) and
//!   the closed loop simulated on the host before [`sparsimony_core::mpc`] goes onto a device.
//!
//! Fitting never forms the library matrix: it is evaluated in blocks of rows and accumulated into
//! `ΘᵀΘ` and `ΘᵀẊ` ([`crate::regression::NormalEquations`]), so memory does not grow with the samples
//! beyond the data themselves.
//!
//! ```
//! use ndarray::Array2;
//! use sparsimony_solvers::Estimator;
//! use sparsimony_solvers::sindy::{Sindy, Time, Trajectory};
//! // ẋ = −2x sampled exactly: x(t) = e^{−2t}.
//! let dt = 0.001;
//! let x = Array2::from_shape_fn((2000, 1), |(i, _)| (-2.0 * dt * i as f64).exp());
//! let fit = Sindy::default().fit(&[Trajectory::new(x.view(), Time::Step(dt))]).unwrap();
//! assert_eq!(fit.equations(3), vec!["-2.000 x0"]);
//! ```

pub mod control;
pub mod differentiation;
pub mod export;
pub mod fitted;
pub mod library;
pub mod model;
pub mod optimizer;
pub mod pde;
mod samples;
pub mod weak;

pub use control::{ClosedLoop, ControllerSettings, closed_loop};
pub use differentiation::{Differentiation, Time};
pub use export::ExportedModel;
pub use fitted::{ControlFn, SimulateOptions, SindyFit};
pub use library::{CustomFunction, Library};
pub use model::Sindy;
pub use optimizer::{Ensemble, Optimizer, OptimizerFit, Regularizer, Sr3};
pub use pde::{PdeFind, PdeFit, PdeLibrary};
pub use samples::Trajectory;
pub use weak::WeakForm;
