//! Langevin dynamics with averaging (Wei, Damian & Lee, "Improved high-dimensional estimation with
//! Langevin dynamics and stochastic weight averaging", ICLR 2026, arXiv 2603.06028): recover a hidden
//! direction `θ* ∈ S^{d−1}` of a single-index model from `n ≳ d^{k*/2}` samples, where online SGD needs
//! `d^{k*−1}`, by reading out the time average of spherical Langevin dynamics on the empirical loss.
//!
//! * [`Link`]: links as Hermite expansions, with their information exponent `k*`;
//! * [`SingleIndex`]: `x ~ N(0, I_d)`, `y = σ(⟨θ*, x⟩) + noise`, samples regenerated from `(seed, index)`;
//! * [`TensorPca`]: `n` noisy copies of the spike `θ*^{⊗k}`, kept as their mean [`SpikedTensor`];
//! * [`Objective`]: what the dynamics follow — the drift of an empirical loss ([`CorrelationLoss`] of a
//!   single-index sample, [`SpikedTensor`]), for one iterate or a batch of chains;
//! * [`Langevin`]: the dynamics (core's [`SphericalLangevin`](sparsimony_core::langevin::SphericalLangevin)
//!   step, the averages of [`IterateAverage`](sparsimony_core::langevin::IterateAverage)) and their
//!   read-outs, for one chain or many in lockstep ([`Chain`]);
//! * [`OnlineSgd`]: the baseline, and the refinement warm-started from the averaged estimate.

mod estimator;
mod link;
mod model;
mod objective;
mod tensor;

pub use estimator::{Chain, Langevin, LangevinFit, OnlineSgd, Readout, SgdFit};
pub use link::{Link, hermite};
pub use model::SingleIndex;
pub use objective::{CorrelationLoss, Objective};
pub use tensor::{MAX_TENSOR_ENTRIES, SpikedTensor, TensorPca};
