//! Gaussian-process PDE solvers with spectral-mixture kernels (Fang et al., "Solving High Frequency and
//! Multi-Scale PDEs with Gaussian Processes", ICLR 2024). This module grows with issue 5; so far it holds
//! the per-dimension kernels of the method and their derivatives.

pub mod kernel;

pub use kernel::{Component, SpectralMixture, Spectrum};
