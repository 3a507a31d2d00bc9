//! Tensor PCA: recover `θ*` from `n` noisy copies of the spike `θ*^{⊗k}`.
//!
//! The sample form: `T_i = θ*^{⊗k} + Z_i`, `i = 1..n`, each `Z_i` with i.i.d. `N(0, 1)` entries (an order-`k`
//! tensor in `(R^d)^{⊗k}`). The loss is `L(θ) = −⟨T̄, θ^{⊗k}⟩` with `T̄ = (1/n) Σ T_i = θ*^{⊗k} + W/√n`, `W`
//! standard Gaussian: `T̄` is sufficient for every statistic of the sample that the dynamics use, so it is
//! drawn directly — one tensor of `d^k` values whatever `n` — and its population loss `−⟨θ, θ*⟩^k` is the
//! single-index model's with the Hermite link `h_k` (information exponent `k`). Online SGD on fresh
//! samples never forms a tensor: at any `θ` of unit norm the gradient of `⟨Z, θ^{⊗k}⟩` for a fresh `Z` is
//! exactly Gaussian with covariance `k I + k(k−1) θθᵀ` ([`TensorPca::sample_gradient`]).

use rand_core::RngCore;
use rayon::prelude::*;
use sparsimony_core::random::standard_normal;

use super::Objective;
use crate::{Error, Result};

/// The largest tensor kept, in entries (`d^k`; 8 bytes each, 512 MiB).
pub const MAX_TENSOR_ENTRIES: usize = 1 << 26;

/// Rows (`d` entries each, the last index) per piece of the parallel drift.
const PIECE: usize = 256;

/// The tensor PCA model of order `k ≥ 2` in dimension `d ≥ 2` with `n` samples and `θ* = e₁`.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorPca {
    dim: usize,
    order: usize,
    samples: f64,
}

impl TensorPca {
    /// The model; `samples` is `n` (real, so that very large `n` stay exact enough: only `1/√n` enters).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `d < 2` (`"d"`), `k < 2` (`"k"`: order 1 is a Gaussian mean, not a
    /// tensor problem) or `n` not positive and finite (`"n"`).
    pub fn new(d: usize, k: usize, samples: f64) -> Result<Self> {
        if d < 2 {
            return Err(Error::InvalidParameter {
                name: "d",
                reason: format!("the sphere needs dimension at least 2, got {d}"),
            });
        }
        if k < 2 {
            return Err(Error::InvalidParameter {
                name: "k",
                reason: format!("the tensor's order must be at least 2, got {k}"),
            });
        }
        if !(samples > 0.0 && samples.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "n",
                reason: format!("must be positive and finite, got {samples}"),
            });
        }
        Ok(Self {
            dim: d,
            order: k,
            samples,
        })
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The order `k` (the information exponent).
    pub fn order(&self) -> usize {
        self.order
    }

    /// The number of samples `n`.
    pub fn samples(&self) -> f64 {
        self.samples
    }

    /// The averaged sample `T̄ = e₁^{⊗k} + W/√n`, drawn from `seed`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"d"`) when `d^k` exceeds [`MAX_TENSOR_ENTRIES`].
    pub fn sample(&self, seed: u64) -> Result<SpikedTensor> {
        let entries = (self.dim as f64).powi(self.order as i32);
        if entries > MAX_TENSOR_ENTRIES as f64 {
            return Err(Error::InvalidParameter {
                name: "d",
                reason: format!(
                    "the order-{} tensor has d^k = {entries:.3e} entries, more than {MAX_TENSOR_ENTRIES} (512 MiB)",
                    self.order
                ),
            });
        }
        let (d, entries) = (self.dim, entries as usize);
        let scale = 1.0 / self.samples.sqrt();
        let mut values = vec![0.0; entries];
        // Rows of the last index, each from its own counter-keyed generator: the same tensor on any
        // number of threads.
        values.par_chunks_mut(d).enumerate().for_each(|(r, row)| {
            let mut rng = crate::simulation::record_rng(seed, r as u64);
            row.iter_mut().for_each(|v| *v = scale * standard_normal(&mut rng));
        });
        values[0] += 1.0;
        Ok(SpikedTensor {
            dim: d,
            order: self.order,
            values,
        })
    }

    /// One fresh sample's gradient `∇⟨T_i, θ^{⊗k}⟩ = k⟨θ, θ*⟩^{k−1} θ* + g` at a unit `θ`, with
    /// `g ~ N(0, k I + k(k−1) θθᵀ)` the law of `∇⟨Z, θ^{⊗k}⟩` for `Z` independent of `θ` (each of the `k`
    /// slots contributes `N(0, I)`, two different slots covary by `θθᵀ`), drawn in `O(d)`.
    pub fn sample_gradient<R: RngCore + ?Sized>(&self, theta: &[f64], rng: &mut R, out: &mut [f64]) {
        let k = self.order as f64;
        // The θθᵀ part: one scalar √(k(k−1)) ζ along θ.
        let radial = (k * (k - 1.0)).sqrt() * standard_normal(rng);
        for (o, t) in out.iter_mut().zip(theta) {
            *o = k.sqrt() * standard_normal(rng) + radial * t;
        }
        out[0] += k * theta[0].powi(self.order as i32 - 1);
    }
}

/// A spiked tensor `T̄` in `(R^d)^{⊗k}`, row-major (the last index fastest); its loss is
/// `L(θ) = −⟨T̄, θ^{⊗k}⟩` and the drift `∇⟨T̄, θ^{⊗k}⟩` (summed over the `k` slots: `T̄` is not symmetrised)
/// costs one pass over the `d^k` entries.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikedTensor {
    dim: usize,
    order: usize,
    values: Vec<f64>,
}

impl SpikedTensor {
    /// The entries, row-major (`d^k`).
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

impl Objective for SpikedTensor {
    fn dim(&self) -> usize {
        self.dim
    }

    fn information_exponent(&self) -> usize {
        self.order
    }

    fn drift(&self, theta: &[f64], out: &mut [f64]) -> Result<()> {
        let (d, k) = (self.dim, self.order);
        // Row r holds the entries T[i_1, …, i_{k−1}, ·]. With p = Π_s θ_{i_s} and p_s the same product
        // without slot s, the row adds p·row to the last slot's gradient and p_s ⟨row, θ⟩ at i_s.
        let pieces: Vec<Vec<f64>> = crate::parallel::parts_in_pieces(self.values.len() / d, PIECE, |piece_rows| {
            let rows = &self.values[piece_rows.start * d..piece_rows.end * d];
            let mut part = vec![0.0; d];
            let mut index = vec![0usize; k - 1];
            let mut without = vec![0.0; k - 1];
            for (r, row) in rows.chunks_exact(d).enumerate() {
                // The row's multi-index, first slot most significant.
                let mut rest = piece_rows.start + r;
                for s in (0..k - 1).rev() {
                    index[s] = rest % d;
                    rest /= d;
                }
                let mut prefix = 1.0;
                for s in 0..k - 1 {
                    without[s] = prefix;
                    prefix *= theta[index[s]];
                }
                let mut suffix = 1.0;
                for s in (0..k - 1).rev() {
                    without[s] *= suffix;
                    suffix *= theta[index[s]];
                }
                let dot: f64 = row.iter().zip(theta).map(|(a, b)| a * b).sum();
                for s in 0..k - 1 {
                    part[index[s]] += without[s] * dot;
                }
                part.iter_mut().zip(row).for_each(|(g, a)| *g += prefix * a);
            }
            Ok(part)
        })?;
        out.fill(0.0);
        for part in &pieces {
            out.iter_mut().zip(part).for_each(|(o, p)| *o += p);
        }
        Ok(())
    }
}
