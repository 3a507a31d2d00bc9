//! Gaussian-process PDE solvers with spectral-mixture kernels (Fang et al., "Solving High Frequency and
//! Multi-Scale PDEs with Gaussian Processes", ICLR 2024). The data flow one way through one file per
//! concern: per-dimension kernels with their derivatives ([`kernel`]); PDE operators on tensor grids
//! ([`operator`]), written as expressions ([`expr`], expanded into polynomial terms by `algebra`) in
//! TOML problems ([`problem`]); an axis's kernel matrices (`axis`); the Kronecker/eigen algebra of their product over the grid ([`kron`]); the
//! collocation model in whitened coordinates (`model`), its objective and gradients (`objective`) and
//! its Gauss–Newton systems (`gauss_newton`); the spectral initialisation of the frequencies (`init`);
//! the training ([`solver`]); the fitted [`Solution`] and its errors against an exact solution
//! ([`accuracy`]).

pub mod accuracy;
mod algebra;
mod axis;
pub mod baseline;
mod benchmarks;
pub mod expr;
mod gauss_newton;
mod init;
pub mod kernel;
pub mod kron;
mod model;
mod objective;
pub mod operator;
pub mod problem;
pub mod refine;
mod settings;
mod solution;
pub mod solver;
pub mod stability;
pub mod suite;
#[cfg(test)]
mod tests;

pub use kernel::{Component, SpectralMixture, Spectrum};
pub use kron::KroneckerEigen;
pub use objective::Objective;
pub use operator::{Axis, Coefficient, Derivative, Discretization, Equation, Faces, Grid, Term};
pub use problem::Problem;
pub use settings::{FrequencyInit, Method, Settings, settings_for};
pub use solution::{LearnedComponent, Solution, SolutionParts};
pub use solver::{OuterIteration, solve};
