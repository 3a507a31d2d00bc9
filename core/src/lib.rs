//! # sparsimony-core
//!
//! The `#![no_std]` heart of sparsimony: everything needed to *solve* and *evaluate* sparse models on any
//! machine, down to a Cortex-M microcontroller.
//!
//! Almost every algorithm in sparsimony minimises a smooth term plus a sparsity-inducing term,
//!
//! ```text
//!     minimize_x  f(A x; data) + g(x)
//! ```
//!
//! and this crate provides the three ingredients and the iteration that combines them:
//!
//! * [`operator`]: the [`LinearOperator`] trait (`A`) with dense column-major, CSR and never-formed Kronecker
//!   implementations;
//! * [`prox`]: the [`Prox`] trait (`g`) with ℓ1, ℓ0, CEL0, group-ℓ2 and box maps;
//! * [`smooth`]: the [`Smooth`] trait (`f`) with the scaled least-squares data term;
//! * [`forward_backward`]: ISTA / FISTA (with adaptive restart and backtracking) on any of them;
//! * [`linalg`]: small dense kernels for on-device fitting (Cholesky, Householder QR least squares, power iteration);
//! * [`ode`]: fixed-step RK4 and adaptive Dormand–Prince integration without allocation;
//! * [`sindy`]: evaluation of fitted sparse dynamical models (SINDy) on the device, with their exact Jacobians;
//! * [`mpc`]: model-predictive control with such a model (one real-time iteration per control step, a
//!   box-constrained condensed QP by FISTA), in caller-provided scratch;
//! * [`random`]: seeded Gaussian sampling and exact integer samplers on a caller's [`rand_core::RngCore`];
//! * [`langevin`]: one step of spherical Langevin dynamics and the running averages of its iterates (the
//!   read-outs of Langevin dynamics with averaging);
//! * [`privacy`]: local-privacy randomizers that run on the user's device (clipping, the Laplace and
//!   Gaussian mechanisms on a grid with exact integer noise, the Duchi–Jordan–Wainwright ℓ2-ball and
//!   hypercube randomizers, randomized response);
//! * [`report`]: the [`Report`] every iterative fit returns (iterations, converged, the stopping measure).
//!
//! ## Conventions
//! * Scalars are generic over [`Real`] (`f32` and `f64`); `f64` is the default elsewhere in sparsimony, `f32` is for
//!   microcontrollers and GPUs.
//! * Dense matrices are **column-major** with an explicit leading dimension (the stride between columns).
//! * Kernels that run inside loops take caller-provided scratch slices; they never allocate. Every type that
//!   needs scratch says how much through a `scratch_len` method. With the `alloc` feature, convenience
//!   wrappers allocate it for you.
//! * Nothing on a data path panics: bad input is a [`Error`].
//! * Inner loops are written as plain `a * b + c`, never `mul_add`: without a hardware FMA (most x86-64 builds,
//!   Cortex-M3) `mul_add` is a software routine that also blocks vectorisation.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
pub mod forward_backward;
pub mod langevin;
pub mod linalg;
pub mod mpc;
pub mod ode;
pub mod operator;
pub mod privacy;
pub mod prox;
pub mod random;
mod real;
pub mod report;
pub mod sindy;
pub mod smooth;

pub use error::{Error, Result};
pub use forward_backward::{Acceleration, FbOptions, FbReport, StepSize};
pub use operator::{CsrView, DenseColMajor, Kronecker, LinearOperator};
pub use prox::Prox;
pub use real::Real;
pub use report::{Measure, Report};
pub use smooth::{LeastSquares, Quadratic, Smooth};
