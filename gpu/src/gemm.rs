//! Dense matrix products on the GPU: a tiled GEMM in `f32`, or `f64` where the adapter has `SHADER_F64` (64 × 64 tiles of the output per workgroup, 4 × 4
//! per thread, k staged in slabs of 16 through workgroup memory).

use bytemuck::{Pod, Zeroable};

use sparsimony_core::LinearOperator;

use crate::error::{ErrorSlot, check_finite, check_len};
use crate::{GpuContext, GpuError};

const GEMM_WGSL: &str = include_str!("shaders/gemm.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Dims {
    m: u32,
    k: u32,
    n: u32,
    _pad: u32,
}

/// The GEMM source for `f64`: the `f32` kernel with its scalar alias changed.
fn gemm_f64_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| GEMM_WGSL.replace("alias Scalar = f32;", "alias Scalar = f64;"))
}

/// A scalar the GEMM kernel takes.
pub trait GemmScalar: bytemuck::Pod + sparsimony_core::Real {
    /// The kernel's cache name and source.
    #[doc(hidden)]
    fn kernel() -> (&'static str, &'static str);
    /// Whether the device can run it.
    #[doc(hidden)]
    fn supported(ctx: &GpuContext) -> bool;
}

impl GemmScalar for f32 {
    fn kernel() -> (&'static str, &'static str) {
        ("gemm_f32", GEMM_WGSL)
    }
    fn supported(_: &GpuContext) -> bool {
        true
    }
}

impl GemmScalar for f64 {
    fn kernel() -> (&'static str, &'static str) {
        ("gemm_f64", gemm_f64_source())
    }
    fn supported(ctx: &GpuContext) -> bool {
        ctx.supports_f64()
    }
}

/// `C = A B` in `f32` (any device) or `f64` (devices with `SHADER_F64`) with all matrices column-major: `a` is `m × k`, `b` is `k × n`, the result `m × n`.
/// Each entry is accumulated over `k` in increasing order with fused multiply–adds.
///
/// # Errors
/// Shape and finiteness errors; sizes over `u32` or the device's buffer limits; the device errors of
/// [`GpuError`].
pub fn matmul<T: GemmScalar>(
    ctx: &GpuContext,
    a: &[T],
    b: &[T],
    m: usize,
    k: usize,
    n: usize,
) -> Result<Vec<T>, GpuError> {
    if !T::supported(ctx) {
        return Err(GpuError::MissingFeature {
            feature: "SHADER_F64",
            adapter: ctx.adapter_info().name.clone(),
        });
    }
    check_len("a (m · k values)", m * k, a.len())?;
    check_len("b (k · n values)", k * n, b.len())?;
    check_finite("a", a)?;
    check_finite("b", b)?;
    if m == 0 || n == 0 {
        return Ok(vec![T::zero(); m * n]);
    }
    let ab = ctx.storage_buffer("A", a, wgpu::BufferUsages::empty())?;
    let bb = ctx.storage_buffer("B", b, wgpu::BufferUsages::empty())?;
    let c = gemm_resident::<T>(ctx, &ab, &bb, m, k, n)?;
    ctx.read_back(&c, m * n)
}

/// `C = A B` on buffers already on the device (sizes checked by the caller; `m, n > 0`); returns `C`'s
/// buffer.
pub(crate) fn gemm_resident<T: GemmScalar>(
    ctx: &GpuContext,
    a: &wgpu::Buffer,
    b: &wgpu::Buffer,
    m: usize,
    k: usize,
    n: usize,
) -> Result<wgpu::Buffer, GpuError> {
    let to_u32 = |what, v: usize| u32::try_from(v).map_err(|_| GpuError::IndexOverflow { what, value: v });
    let dims = Dims {
        m: to_u32("m", m)?,
        k: to_u32("k", k)?,
        n: to_u32("n", n)?,
        _pad: 0,
    };
    let max_dim = ctx.device().limits().max_compute_workgroups_per_dimension as usize;
    let (gx, gy) = (m.div_ceil(64), n.div_ceil(64));
    if gx > max_dim || gy > max_dim {
        return Err(GpuError::IndexOverflow {
            what: "output tiles along one dimension",
            value: gx.max(gy),
        });
    }
    let (name, source) = T::kernel();
    let pipeline = ctx.pipeline(name, source, "gemm")?;
    let params = ctx.uniform(&dims)?;
    let c = ctx.output::<T>("C", m * n)?;
    ctx.dispatch(&pipeline, &[&params, a, b, &c], (gx as u32, gy as u32))?;
    Ok(c)
}

/// A dense `f32` matrix on the GPU as a core [`LinearOperator`]: `A` and `Aᵀ` resident (column-major), each
/// `apply` a GEMM with one right-hand side (uploading `x`, reading `y` back), so core's solvers run on it
/// unchanged. A device failure is [`sparsimony_core::Error::Device`]; [`GpuDenseOperator::last_error`]
/// then gives the [`GpuError`].
#[derive(Debug)]
pub struct GpuDenseOperator<'a> {
    ctx: &'a GpuContext,
    a: wgpu::Buffer,
    at: wgpu::Buffer,
    nrows: usize,
    ncols: usize,
    last_error: ErrorSlot,
}

impl<'a> GpuDenseOperator<'a> {
    /// Uploads `a` (`nrows × ncols`, column-major, finite) and its transpose.
    ///
    /// # Errors
    /// Shape and finiteness errors, sizes over the device limits, device errors.
    pub fn new(ctx: &'a GpuContext, a: &[f32], nrows: usize, ncols: usize) -> Result<Self, GpuError> {
        check_len("a (nrows · ncols values)", nrows * ncols, a.len())?;
        check_finite("a", a)?;
        let at: Vec<f32> = (0..nrows * ncols)
            .map(|q| a[(q / ncols) + (q % ncols) * nrows])
            .collect();
        Ok(Self {
            ctx,
            a: ctx.storage_buffer("dense A", a, wgpu::BufferUsages::empty())?,
            at: ctx.storage_buffer("dense Aᵀ", &at, wgpu::BufferUsages::empty())?,
            nrows,
            ncols,
            last_error: ErrorSlot::default(),
        })
    }

    /// The error behind the last [`sparsimony_core::Error::Device`], if any (taken).
    pub fn last_error(&self) -> Option<GpuError> {
        self.last_error.take()
    }

    fn run(&self, m: &wgpu::Buffer, rows: usize, cols: usize, x: &[f32], y: &mut [f32]) -> sparsimony_core::Result<()> {
        for (what, expected, found) in [("x", cols, x.len()), ("y", rows, y.len())] {
            if expected != found {
                return Err(sparsimony_core::Error::DimensionMismatch { what, expected, found });
            }
        }
        if rows == 0 {
            return Ok(());
        }
        if cols == 0 {
            y.fill(0.0);
            return Ok(());
        }
        let result = (|| {
            check_finite("x", x)?;
            let xb = self.ctx.storage_buffer("x", x, wgpu::BufferUsages::empty())?;
            let c = gemm_resident::<f32>(self.ctx, m, &xb, rows, cols, 1)?;
            self.ctx.read_back::<f32>(&c, rows)
        })();
        self.last_error.deliver("GPU dense product", result, y)
    }
}

impl LinearOperator<f32> for GpuDenseOperator<'_> {
    fn nrows(&self) -> usize {
        self.nrows
    }
    fn ncols(&self) -> usize {
        self.ncols
    }
    fn apply(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32]) -> sparsimony_core::Result<()> {
        self.run(&self.a, self.nrows, self.ncols, x, y)
    }
    fn apply_adjoint(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32]) -> sparsimony_core::Result<()> {
        self.run(&self.at, self.ncols, self.nrows, x, y)
    }
}
