//! Radio interferometric imaging with direction-dependent self-calibration (Repetti, Birdi, Dabbech &
//! Wiaux, "Non-convex optimization for self-calibration of direction-dependent effects in radio
//! interferometric imaging", MNRAS 470, 2017, arXiv 1701.03689): the image and each antenna's
//! direction-dependent effects (DDEs) estimated jointly, as a non-convex blind deconvolution solved by
//! block-coordinate forward–backward.
//!
//! * [`Observation`]: visibilities with their baselines on the Fourier grid of a zero-padded image;
//! * [`Ddes`]: each antenna's `S × S` Fourier-domain DDE kernel (`S = 1`: a direction-independent gain);
//! * [`Nufft`]: the image's visibilities at arbitrary frequencies (physical `u, v`), a non-uniform FFT
//!   with its exact adjoint, and [`direct_dft`], the measurement equation summed directly;
//! * [`Measurement`]: the measurement operator `Φ = G(U₁, U₂)F` as a core
//!   [`LinearOperator`](sparsimony_core::LinearOperator) (real image in, interleaved complex
//!   visibilities out), with its exact adjoint;
//! * [`SelfCalibration`]: the estimator — the direction-independent stage, then the DDE stage, each
//!   alternating the per-antenna DDE block and the image block, the DDE stage with joint
//!   Levenberg–Marquardt steps over all antennas' kernels and the faint image; [`SelfCalibration::image`]
//!   images with fixed DDEs;
//! * [`KnownSky`]: the known bright sources the calibration is anchored on, an image or
//!   [`PointSource`]s anywhere (their visibilities summed exactly);
//! * [`Prior`]: the faint part's sparsity prior, ℓ1 or SARA ([`Sara`], the Dirac and Daubechies 1–8
//!   dictionary as a tight frame);
//! * [`UvData`]: visibilities as recorded (u, v, w in metres, channels, correlations, weights, flags) and
//!   their reduction to a Stokes I [`Observation`] for an image of given size and cell ([`Imaging`]);
//! * [`Simulation`]: the paper's simulated array, sky and DDEs, and [`snr_db`], its figure of merit.

mod antenna;
mod calibration;
mod checks;
mod dde;
mod joint;
mod nufft;
mod observation;
mod operator;
mod prior;
mod sara;
mod simulation;
mod sky;
mod uvdata;

/// The complex scalar of visibilities and DDE taps (num-complex's, as rustfft uses it).
pub use rustfft::num_complex::Complex64;

pub use calibration::{Outer, SelfCalibrated, SelfCalibration, Stage};
pub use dde::Ddes;
pub use nufft::{ExpSemicircle, MAX_WIDTH, Nufft, direct_dft};
pub use observation::{Baseline, Observation, Sampling, padded_grid_size};
pub use operator::{Measurement, ordered_data};
pub use prior::Prior;
pub use sara::{Basis, Sara};
pub use simulation::{Simulated, Simulation, snr_db};
pub use sky::{KnownSky, PointSource};
pub use uvdata::{Correlation, Imaging, Reduced, SPEED_OF_LIGHT, UvData};
