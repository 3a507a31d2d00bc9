//! Gaussian-process PDE solvers with spectral-mixture kernels (Fang et al., "Solving High Frequency and
//! Multi-Scale PDEs with Gaussian Processes", ICLR 2024): per-dimension kernels with their derivatives
//! ([`kernel`]), the Kronecker algebra of their product over a grid ([`kron`]), PDE operators on tensor
//! grids ([`operator`]), the collocation model and its objective ([`model`]), and its training
//! ([`solver`]).

pub mod expr;
pub mod kernel;
pub mod kron;
pub mod model;
pub mod operator;
pub mod problem;
mod solution;
pub mod solver;

pub use kernel::{Component, SpectralMixture, Spectrum};
pub use kron::KroneckerEigen;
pub use model::Objective;
pub use operator::{Axis, Derivative, Discretization, Equation, Faces, Grid, Term};
pub use problem::Problem;
pub use solution::{LearnedComponent, Solution};
pub use solver::{FrequencyInit, Method, OuterIteration, Settings, solve};
