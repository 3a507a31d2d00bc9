//! Kronecker matrix–vector products `y = (A₁ ⊗ A₂ ⊗ … ⊗ A_K) x` on the GPU with dense factors, never forming
//! the product: one mode product per factor (first factor slowest, as [`sparsimony_core::Kronecker`]),
//! the intermediate vectors staying on the device. Work `N · Σ nₖ` for an `N`-point grid.

use bytemuck::{Pod, Zeroable};

use crate::error::{check_finite, check_len};
use crate::{GpuContext, GpuError};

const KRON_WGSL: &str = include_str!("shaders/kron.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Dims {
    left: u32,
    m: u32,
    n: u32,
    right: u32,
    total: u32,
    row_stride: u32,
    _pad: [u32; 2],
}

/// A dense factor `A` (`nrows × ncols`, column-major `f32`).
#[derive(Debug, Clone, Copy)]
pub struct Factor<'a> {
    /// The entries, column-major.
    pub data: &'a [f32],
    /// Rows.
    pub nrows: usize,
    /// Columns.
    pub ncols: usize,
}

/// `y = (A₁ ⊗ … ⊗ A_K) x`, with `x` indexed with the first factor's index slowest.
///
/// # Errors
/// Shape and finiteness errors, sizes over `u32` or the device limits, and the device errors.
pub fn kron_matvec(ctx: &GpuContext, factors: &[Factor<'_>], x: &[f32]) -> Result<Vec<f32>, GpuError> {
    if factors.is_empty() {
        return Err(sparsimony_core::Error::Empty {
            what: "Kronecker factors",
        }
        .into());
    }
    for f in factors {
        check_len("factor (nrows · ncols values)", f.nrows * f.ncols, f.data.len())?;
        check_finite("factor", f.data)?;
    }
    let ncols: usize = factors.iter().map(|f| f.ncols).product();
    check_len("x (product of the factors' columns)", ncols, x.len())?;
    check_finite("x", x)?;
    let to_u32 = |what, v: usize| u32::try_from(v).map_err(|_| GpuError::IndexOverflow { what, value: v });
    let pipeline = ctx.pipeline("kron_mode_product", KRON_WGSL, "mode_product")?;
    // dims[k] is the current extent of mode k: mₖ once factor k has been applied, nₖ before.
    let mut dims: Vec<usize> = factors.iter().map(|f| f.ncols).collect();
    let mut current = ctx.storage_buffer("Kronecker x", x, wgpu::BufferUsages::empty())?;
    let mut len = ncols;
    for (k, f) in factors.iter().enumerate() {
        let left: usize = dims[..k].iter().product();
        let right: usize = dims[k + 1..].iter().product();
        let total = left * f.nrows * right;
        dims[k] = f.nrows;
        let groups = to_u32("Kronecker intermediate length", total.div_ceil(64))?;
        let (gx, gy) = ctx.grid(groups);
        let params = ctx.uniform(&Dims {
            left: to_u32("Kronecker left extent", left)?,
            m: to_u32("factor rows", f.nrows)?,
            n: to_u32("factor columns", f.ncols)?,
            right: to_u32("Kronecker right extent", right)?,
            total: to_u32("Kronecker intermediate length", total)?,
            row_stride: gx * 64,
            _pad: [0; 2],
        })?;
        let factor = ctx.storage_buffer("Kronecker factor", f.data, wgpu::BufferUsages::empty())?;
        let next = ctx.storage_buffer(
            "Kronecker intermediate",
            &vec![0f32; total.max(1)],
            wgpu::BufferUsages::COPY_SRC,
        )?;
        if total > 0 {
            ctx.dispatch(&pipeline, &[&params, &factor, &current, &next], (gx, gy))?;
        }
        current = next;
        len = total;
    }
    ctx.read_back(&current, len)
}
