//! The drift of a single-index model's correlation loss for a batch of iterates — what Langevin chains in
//! lockstep need every step — with the sample resident on the GPU.
//!
//! For `B` iterates `Θ` (`B × d`) and the sample `X` (`n × d`), `y`, link `σ = Σ_j c_j h_j` (normalised
//! Hermite polynomials `h_j = He_j/√(j!)`): `Z = X Θᵀ` (one GEMM), `W = y ⊙ σ′(Z)` (one elementwise
//! kernel), `G = Xᵀ W` (one GEMM); only `Θ` goes up and `G` comes back, `B·d` values each way.

use bytemuck::{Pod, Zeroable};

use crate::error::{check_finite, check_len};
use crate::gemm::gemm_resident;
use crate::{GpuContext, GpuError};

const WEIGHTS_WGSL: &str = include_str!("shaders/hermite_weights.wgsl");
const BLOCK: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    len: u32,
    n: u32,
    degree: u32,
    row_stride: u32,
}

/// A single-index sample resident on the GPU (`f32`): `X` and `Xᵀ`, `y`, and the link's derivative.
#[derive(Debug)]
pub struct GpuCorrelationDrift {
    x: wgpu::Buffer,
    xt: wgpu::Buffer,
    y: wgpu::Buffer,
    slope: wgpu::Buffer,
    degree: usize,
    n: usize,
    d: usize,
}

impl GpuCorrelationDrift {
    /// Uploads the sample `x` (`n × d`, **row-major**: one sample per row), `y` (`n`) and the link's Hermite
    /// coefficients `c_j` (of the normalised `h_j`; at most 31).
    ///
    /// # Errors
    /// Shape and finiteness errors, an empty sample, more than 31 coefficients, sizes over `u32` or the
    /// device limits, device errors.
    pub fn new(
        ctx: &GpuContext,
        x: &[f32],
        y: &[f32],
        n: usize,
        d: usize,
        coefficients: &[f64],
    ) -> Result<Self, GpuError> {
        check_len("x (n · d values)", n * d, x.len())?;
        check_len("y (one value per sample)", n, y.len())?;
        check_finite("x", x)?;
        check_finite("y", y)?;
        if n == 0 || d == 0 || coefficients.len() < 2 || coefficients.len() > 31 {
            return Err(GpuError::Input(sparsimony_core::Error::InvalidParameter {
                name: "coefficients",
                reason: "need a sample (n, d > 0) and 2 to 31 Hermite coefficients",
            }));
        }
        // σ′ = Σ_j c_j √j h_{j−1} = Σ_m a_m He_m with a_m = c_{m+1} √(m+1) / √(m!).
        let mut factorial = 1.0f64;
        let mut slope = Vec::with_capacity(coefficients.len() - 1);
        for m in 0..coefficients.len() - 1 {
            if m > 0 {
                factorial *= m as f64;
            }
            slope.push((coefficients[m + 1] * ((m + 1) as f64).sqrt() / factorial.sqrt()) as f32);
        }
        check_finite("link coefficients", &slope)?;
        // X column-major (n × d) is the transpose of the row-major input; Xᵀ column-major is the input.
        let xc: Vec<f32> = (0..n * d).map(|q| x[(q % n) * d + q / n]).collect();
        Ok(Self {
            x: ctx.storage_buffer("single-index X", &xc, wgpu::BufferUsages::empty())?,
            xt: ctx.storage_buffer("single-index Xᵀ", x, wgpu::BufferUsages::empty())?,
            y: ctx.storage_buffer("single-index y", y, wgpu::BufferUsages::empty())?,
            slope: ctx.storage_buffer("link derivative", &slope, wgpu::BufferUsages::empty())?,
            degree: slope.len(),
            n,
            d,
        })
    }

    /// `Σ_i y_i σ′(⟨θ_c, x_i⟩) x_i` for every row `θ_c` of `thetas` (`B × d`, row-major), returned `B × d`
    /// row-major — not divided by `n`.
    ///
    /// # Errors
    /// Shape and finiteness errors, sizes over `u32`, device errors.
    pub fn drift_sums(&self, ctx: &GpuContext, thetas: &[f32]) -> Result<Vec<f32>, GpuError> {
        let (n, d) = (self.n, self.d);
        if thetas.is_empty() || !thetas.len().is_multiple_of(d) {
            return Err(GpuError::Input(sparsimony_core::Error::DimensionMismatch {
                what: "thetas (B rows of d values)",
                expected: d,
                found: thetas.len(),
            }));
        }
        check_finite("thetas", thetas)?;
        let b = thetas.len() / d;
        let len = u32::try_from(n * b).map_err(|_| GpuError::IndexOverflow {
            what: "samples × iterates",
            value: n * b,
        })?;
        // Θᵀ column-major (d × B) is the row-major Θ.
        let theta = ctx.storage_buffer("iterates", thetas, wgpu::BufferUsages::empty())?;
        let z = gemm_resident::<f32>(ctx, &self.x, &theta, n, d, b)?;
        let pipeline = ctx.pipeline("hermite_weights", WEIGHTS_WGSL, "weights")?;
        let (gx, gy) = ctx.grid((n * b).div_ceil(BLOCK) as u32);
        let params = ctx.uniform(&Params {
            len,
            n: n as u32,
            degree: self.degree as u32,
            row_stride: gx * BLOCK as u32,
        })?;
        ctx.dispatch(&pipeline, &[&params, &self.y, &self.slope, &z], (gx, gy))?;
        let g = gemm_resident::<f32>(ctx, &self.xt, &z, d, n, b)?;
        // G column-major (d × B) is the row-major B × d result.
        ctx.read_back(&g, d * b)
    }

    /// The sample size `n`.
    pub fn samples(&self) -> usize {
        self.n
    }

    /// The dimension `d`.
    pub fn dim(&self) -> usize {
        self.d
    }
}
