//! Gaussian-process PDE solvers with spectral-mixture kernels (Fang et al., "Solving High Frequency and
//! Multi-Scale PDEs with Gaussian Processes", ICLR 2024). This module grows with issue 5; so far it holds
//! the per-dimension kernels of the method with their derivatives ([`kernel`]) and the Kronecker algebra of
//! their product over a grid ([`kron`]).

pub mod kernel;
pub mod kron;

pub use kernel::{Component, SpectralMixture, Spectrum};
pub use kron::KroneckerEigen;
