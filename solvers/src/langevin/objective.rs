//! What the dynamics follow: the drift `b(θ) = −∇L(θ)` of an empirical loss on a fixed sample, for one
//! iterate or for a batch of independent chains at once.

use faer::{MatMut, MatRef};
use ndarray::{ArrayView1, ArrayView2, CowArray, Ix2};
use rayon::prelude::*;

use super::Link;
use crate::{Backend, Error, Result};

/// Samples per piece of the parallel gradient (a size-only split: the same sums on any number of threads).
const PIECE: usize = 8192;

/// An empirical loss on the unit sphere, given by its drift.
pub trait Objective: Sync {
    /// The dimension `d` of the sphere `S^{d−1}`.
    fn dim(&self) -> usize;

    /// The information exponent `k*` of the problem (its parity chooses [`Readout::Auto`](super::Readout)).
    fn information_exponent(&self) -> usize;

    /// `b(θ) = −∇L(θ)` (the Euclidean gradient; the dynamics project it) written into `out` (`d` entries).
    ///
    /// # Errors
    /// Whatever the objective cannot compute (a device failure, say); the built-in objectives never fail.
    fn drift(&self, theta: &[f64], out: &mut [f64]) -> Result<()>;

    /// The drifts of `B` iterates at once: `thetas` and `out` are `B × d`, one iterate per row (row-major).
    /// The default calls [`Objective::drift`] per row; an objective whose drift is a matrix product
    /// overrides it with one product for all rows.
    ///
    /// # Errors
    /// As [`Objective::drift`].
    fn drift_batch(&self, thetas: &[f64], out: &mut [f64]) -> Result<()> {
        let d = self.dim();
        out.par_chunks_mut(d)
            .zip(thetas.par_chunks(d))
            .try_for_each(|(o, t)| self.drift(t, o))
    }
}

/// The correlation loss of a single-index sample, `L(θ) = −(1/n) Σ_i y_i σ(⟨θ, x_i⟩)`, whose drift
/// `b = (1/n) Σ_i y_i σ′(⟨θ, x_i⟩) x_i` costs one pass over the sample (`O(nd)`); for a batch of `B`
/// iterates it is two matrix products, `Z = X Θᵀ` and `B = Xᵀ (y ⊙ σ′(Z)) / n`, split over the samples —
/// on the CPU in `f64`, or with [`CorrelationLoss::with_backend`] on a GPU in `f32` (the sample resident,
/// `B·d` values each way a step).
#[derive(Debug, Clone)]
pub struct CorrelationLoss<'a> {
    x: CowArray<'a, f64, Ix2>,
    y: ArrayView1<'a, f64>,
    link: Link,
    #[cfg(feature = "gpu")]
    gpu: Option<
        std::sync::Arc<(
            std::sync::Arc<sparsimony_gpu::GpuContext>,
            sparsimony_gpu::GpuCorrelationDrift,
        )>,
    >,
}

impl<'a> CorrelationLoss<'a> {
    /// The loss of the samples `x` (one per row, `n × d`), responses `y` and link `σ`; `x` is copied only
    /// when it is not in standard (row-major, contiguous) layout.
    ///
    /// # Errors
    /// [`Error::Empty`] (no sample), [`Error::InvalidParameter`] (`d < 2`, named `"d"`),
    /// [`Error::NonFinite`] and [`Error::Shape`] (`y` not one value per row).
    pub fn new(x: ArrayView2<'a, f64>, y: ArrayView1<'a, f64>, link: &Link) -> Result<Self> {
        let (n, d) = x.dim();
        if n == 0 || d == 0 {
            return Err(Error::Empty {
                what: "X",
                rows: n,
                cols: d,
            });
        }
        if d < 2 {
            return Err(Error::InvalidParameter {
                name: "d",
                reason: format!("the sphere needs at least 2 features, got {d}"),
            });
        }
        crate::data::check_matrix("X", x)?;
        crate::data::check_vector("y (one value per row of X)", y, n)?;
        // Nothing to fit: the drift would be the noise alone, and the estimate a confident random direction.
        if x.iter().all(|v| *v == 0.0) {
            return Err(Error::Degenerate {
                what: "X",
                reason: "is all zero: the samples carry no direction to recover".into(),
            });
        }
        if y.iter().all(|v| *v == y[0]) {
            return Err(Error::Degenerate {
                what: "y",
                reason: format!(
                    "is constant (every value {}): a response that does not vary with x carries no information about the direction",
                    y[0]
                ),
            });
        }
        let x = if x.is_standard_layout() {
            CowArray::from(x)
        } else {
            CowArray::from(x.as_standard_layout().into_owned())
        };
        Ok(Self {
            x,
            y,
            link: link.clone(),
            #[cfg(feature = "gpu")]
            gpu: None,
        })
    }

    /// As [`CorrelationLoss::new`], with the drifts computed on `backend`: on [`Backend::Gpu`] the sample
    /// is uploaded once (`f32`) and each drift is two GEMMs and a Hermite kernel there, agreeing with the
    /// CPU's to single precision (relative `1e-4` of the drift's scale).
    ///
    /// # Errors
    /// As [`CorrelationLoss::new`]; [`Error::Gpu`](crate::Error) when the sample cannot be put on the device.
    pub fn with_backend(
        x: ArrayView2<'a, f64>,
        y: ArrayView1<'a, f64>,
        link: &Link,
        backend: &Backend,
    ) -> Result<Self> {
        let loss = Self::new(x, y, link)?;
        match backend {
            Backend::Cpu => Ok(loss),
            #[cfg(feature = "gpu")]
            Backend::Gpu(ctx) => {
                let (n, d) = loss.x.dim();
                let x32: Vec<f32> = loss.rows().iter().map(|&v| v as f32).collect();
                let y32: Vec<f32> = loss.y.iter().map(|&v| v as f32).collect();
                let drift = sparsimony_gpu::GpuCorrelationDrift::new(ctx, &x32, &y32, n, d, link.coefficients())?;
                Ok(Self {
                    gpu: Some(std::sync::Arc::new((ctx.clone(), drift))),
                    ..loss
                })
            }
        }
    }

    /// The samples (`n × d`, standard layout) and responses.
    pub fn sample(&self) -> (ArrayView2<'_, f64>, ArrayView1<'_, f64>) {
        (self.x.view(), self.y)
    }

    /// The link.
    pub fn link(&self) -> &Link {
        &self.link
    }

    fn rows(&self) -> &[f64] {
        // Standard layout by construction.
        self.x.as_slice().unwrap_or(&[])
    }
}

impl Objective for CorrelationLoss<'_> {
    fn dim(&self) -> usize {
        self.x.ncols()
    }

    fn information_exponent(&self) -> usize {
        self.link.information_exponent()
    }

    fn drift(&self, theta: &[f64], out: &mut [f64]) -> Result<()> {
        #[cfg(feature = "gpu")]
        if self.gpu.is_some() {
            return self.drift_batch(theta, out);
        }
        let d = theta.len();
        let n = self.y.len();
        let pieces: Vec<Vec<f64>> = crate::parallel::parts_in_pieces(n, PIECE, |samples| {
            let mut part = vec![0.0; d];
            let rows = &self.rows()[samples.start * d..samples.end * d];
            for (r, row) in rows.chunks_exact(d).enumerate() {
                let z: f64 = row.iter().zip(theta).map(|(a, b)| a * b).sum();
                let w = self.y[samples.start + r] * self.link.eval(z).1;
                part.iter_mut().zip(row).for_each(|(b, a)| *b += w * a);
            }
            Ok(part)
        })?;
        out.fill(0.0);
        for part in &pieces {
            out.iter_mut().zip(part).for_each(|(o, p)| *o += p / n as f64);
        }
        Ok(())
    }

    fn drift_batch(&self, thetas: &[f64], out: &mut [f64]) -> Result<()> {
        let d = self.dim();
        let n = self.y.len();
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &self.gpu {
            let (ctx, drift) = &**gpu;
            let t32: Vec<f32> = thetas.iter().map(|&v| v as f32).collect();
            let sums = drift.drift_sums(ctx, &t32)?;
            out.iter_mut()
                .zip(&sums)
                .for_each(|(o, &s)| *o = f64::from(s) / n as f64);
            return Ok(());
        }
        let chains = thetas.len() / d;
        let theta = MatRef::from_row_major_slice(thetas, chains, d);
        let pieces: Vec<faer::Mat<f64>> = crate::parallel::parts_in_pieces(n, PIECE, |samples| {
            let rows = &self.rows()[samples.start * d..samples.end * d];
            let m = samples.len();
            let xp = MatRef::from_row_major_slice(rows, m, d);
            // Z = X_p Θᵀ (m × B), then W = y ⊙ σ′(Z) in place, then X_pᵀ W (d × B).
            let mut z = faer::Mat::<f64>::zeros(m, chains);
            faer::linalg::matmul::matmul(
                z.as_mut(),
                faer::Accum::Replace,
                xp,
                theta.transpose(),
                1.0,
                faer::Par::Seq,
            );
            for c in 0..chains {
                for r in 0..m {
                    z[(r, c)] = self.y[samples.start + r] * self.link.eval(z[(r, c)]).1;
                }
            }
            let mut part = faer::Mat::<f64>::zeros(d, chains);
            faer::linalg::matmul::matmul(
                part.as_mut(),
                faer::Accum::Replace,
                xp.transpose(),
                z.as_ref(),
                1.0 / n as f64,
                faer::Par::Seq,
            );
            Ok(part)
        })?;
        out.fill(0.0);
        let mut o = MatMut::from_row_major_slice_mut(out, chains, d);
        for part in &pieces {
            for c in 0..chains {
                for j in 0..d {
                    o[(c, j)] += part[(j, c)];
                }
            }
        }
        Ok(())
    }
}
