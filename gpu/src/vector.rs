//! Vectors resident on the GPU with the elementwise proximal maps and the reductions a forward–backward
//! iteration needs: soft and hard thresholding, box projection, dot products and the largest magnitude.
//! Reductions sum 256-entry blocks in a fixed tree on the device and the block results in order on the
//! host, so they are deterministic.

use bytemuck::{Pod, Zeroable};

use crate::error::{check_finite, check_len};
use crate::{GpuContext, GpuError};

const PROX_WGSL: &str = include_str!("shaders/vector_prox.wgsl");
const REDUCE_WGSL: &str = include_str!("shaders/vector_reduce.wgsl");
const BLOCK: usize = 256;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    len: u32,
    op: u32,
    a: f32,
    b: f32,
    row_stride: u32,
    _pad: [u32; 3],
}

/// An `f32` vector on the device.
#[derive(Debug)]
pub struct GpuVector {
    buffer: wgpu::Buffer,
    len: usize,
}

impl GpuVector {
    /// Uploads `values` (finite).
    ///
    /// # Errors
    /// Non-finite values, sizes over `u32` or the device limits, device errors.
    pub fn upload(ctx: &GpuContext, values: &[f32]) -> Result<Self, GpuError> {
        check_finite("vector", values)?;
        u32::try_from(values.len()).map_err(|_| GpuError::IndexOverflow {
            what: "vector length",
            value: values.len(),
        })?;
        let buffer = ctx.storage_buffer("vector", values, wgpu::BufferUsages::COPY_SRC)?;
        Ok(Self {
            buffer,
            len: values.len(),
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the vector has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The values, read back.
    ///
    /// # Errors
    /// Device errors.
    pub fn download(&self, ctx: &GpuContext) -> Result<Vec<f32>, GpuError> {
        ctx.read_back(&self.buffer, self.len)
    }

    fn elementwise(&mut self, ctx: &GpuContext, op: u32, a: f32, b: f32) -> Result<(), GpuError> {
        if self.len == 0 {
            return Ok(());
        }
        let pipeline = ctx.pipeline("vector_prox", PROX_WGSL, "prox")?;
        let (gx, gy) = ctx.grid(self.len.div_ceil(BLOCK) as u32);
        let params = ctx.uniform(&Params {
            len: self.len as u32,
            op,
            a,
            b,
            row_stride: gx * BLOCK as u32,
            _pad: [0; 3],
        })?;
        ctx.dispatch(&pipeline, &[&params, &self.buffer], (gx, gy))
    }

    /// `v ← prox_{λ‖·‖₁}(v)`: soft thresholding at `lambda ≥ 0` (as [`sparsimony_core::prox::soft_threshold`]).
    ///
    /// # Errors
    /// A negative or non-finite `lambda`; device errors.
    pub fn soft_threshold(&mut self, ctx: &GpuContext, lambda: f32) -> Result<(), GpuError> {
        check_level("lambda", lambda)?;
        self.elementwise(ctx, 0, lambda, 0.0)
    }

    /// Hard thresholding: keeps `vᵢ` when `|vᵢ| > threshold`, else 0 (the ℓ0 proximal map at threshold
    /// `√(2γλ)`).
    ///
    /// # Errors
    /// A negative or non-finite `threshold`; device errors.
    pub fn hard_threshold(&mut self, ctx: &GpuContext, threshold: f32) -> Result<(), GpuError> {
        check_level("threshold", threshold)?;
        self.elementwise(ctx, 1, threshold, 0.0)
    }

    /// Projection onto the box `[lo, hi]`.
    ///
    /// # Errors
    /// `lo > hi` or NaN bounds; device errors.
    pub fn clamp(&mut self, ctx: &GpuContext, lo: f32, hi: f32) -> Result<(), GpuError> {
        if lo.is_nan() || hi.is_nan() || lo > hi {
            return Err(sparsimony_core::Error::InvalidParameter {
                name: "lo, hi",
                reason: "need lo ≤ hi",
            }
            .into());
        }
        self.elementwise(ctx, 2, lo, hi)
    }

    fn reduce(&self, ctx: &GpuContext, other: &GpuVector, op: u32) -> Result<Vec<f32>, GpuError> {
        if self.len == 0 {
            return Ok(Vec::new());
        }
        let groups = self.len.div_ceil(BLOCK);
        let pipeline = ctx.pipeline("vector_reduce", REDUCE_WGSL, "reduce")?;
        let params = ctx.uniform(&Params {
            len: self.len as u32,
            op,
            a: 0.0,
            b: 0.0,
            row_stride: 0,
            _pad: [0; 3],
        })?;
        let partial = ctx.output::<f32>("partial sums", groups)?;
        ctx.dispatch(
            &pipeline,
            &[&params, &self.buffer, &other.buffer, &partial],
            ctx.grid(groups as u32),
        )?;
        ctx.read_back(&partial, groups)
    }

    /// `Σ uᵢ vᵢ` (block sums in `f32`, the blocks summed in `f64` on the host).
    ///
    /// # Errors
    /// Different lengths; device errors.
    pub fn dot(&self, ctx: &GpuContext, other: &GpuVector) -> Result<f64, GpuError> {
        if other.len != self.len {
            check_len("vectors of a dot product", self.len, other.len)?;
        }
        Ok(self.reduce(ctx, other, 0)?.iter().map(|&v| v as f64).sum())
    }

    /// `‖v‖²`.
    ///
    /// # Errors
    /// Device errors.
    pub fn norm2_sq(&self, ctx: &GpuContext) -> Result<f64, GpuError> {
        self.dot(ctx, self)
    }

    /// `max |vᵢ|` (0 for an empty vector).
    ///
    /// # Errors
    /// Device errors.
    pub fn max_abs(&self, ctx: &GpuContext) -> Result<f32, GpuError> {
        Ok(self.reduce(ctx, self, 1)?.into_iter().fold(0.0, f32::max))
    }
}

fn check_level(name: &'static str, v: f32) -> Result<(), GpuError> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(sparsimony_core::Error::InvalidParameter {
            name,
            reason: "must be finite and ≥ 0",
        }
        .into())
    }
}
