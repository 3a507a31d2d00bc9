use bytemuck::{Pod, Zeroable};
use sparsimony_core::{CsrView, LinearOperator};

use crate::error::{ErrorSlot, check_finite, check_len};
use crate::{GpuContext, GpuError};

const SPMV_WGSL: &str = include_str!("shaders/spmv_csr.wgsl");
const WORKGROUP: u32 = 64;
/// Mean stored entries per row from which [`GpuCsr::spmv`] uses the vector kernel.
pub const VECTOR_ROW_LENGTH: usize = 32;

/// The SpMV kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpmvKernel {
    /// One thread per row, summing the row in stored order: best for short rows.
    Row,
    /// 32 threads per row, each summing every 32nd entry, then a tree reduction: best for long rows.
    Vector,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Dims {
    nrows: u32,
    ncols: u32,
    row_stride: u32,
    _pad: u32,
}

/// A CSR matrix resident on the GPU (`f32` values, `u32` indices), uploaded once and applied many times.
///
/// Built from a validated [`CsrView`], so its structure is known to be sound; sizes must fit in `u32`.
#[derive(Debug)]
pub struct GpuCsr {
    nrows: usize,
    ncols: usize,
    nnz: usize,
    indptr: wgpu::Buffer,
    indices: wgpu::Buffer,
    values: wgpu::Buffer,
}

fn to_u32(what: &'static str, v: usize) -> Result<u32, GpuError> {
    u32::try_from(v).map_err(|_| GpuError::IndexOverflow { what, value: v })
}

impl GpuCsr {
    /// Uploads `a` to the device of `ctx`.
    ///
    /// # Errors
    /// [`GpuError::IndexOverflow`] when a size exceeds `u32`, [`GpuError::BufferTooLarge`] when an array
    /// exceeds the device's storage-buffer limit, [`GpuError::Operation`] on a wgpu error.
    pub fn from_view(ctx: &GpuContext, a: &CsrView<'_, f32>) -> Result<Self, GpuError> {
        to_u32("number of rows", a.nrows())?;
        to_u32("number of columns", a.ncols())?;
        to_u32("number of stored entries", a.nnz())?;
        let indptr: Vec<u32> = a.indptr().iter().map(|&p| p as u32).collect();
        let indices: Vec<u32> = a.indices().iter().map(|&j| j as u32).collect();
        Ok(Self {
            nrows: a.nrows(),
            ncols: a.ncols(),
            nnz: a.nnz(),
            indptr: ctx.storage_buffer("CSR indptr", &indptr, wgpu::BufferUsages::empty())?,
            indices: ctx.storage_buffer("CSR indices", &indices, wgpu::BufferUsages::empty())?,
            values: ctx.storage_buffer("CSR values", a.values(), wgpu::BufferUsages::empty())?,
        })
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.nrows
    }
    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.ncols
    }
    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.nnz
    }

    /// `y = A x` on the GPU, returned to the host, with the kernel suited to the mean row length: the row
    /// kernel below [`VECTOR_ROW_LENGTH`] entries per row, the vector kernel from there.
    ///
    /// # Errors
    /// As [`GpuCsr::spmv_with`].
    pub fn spmv(&self, ctx: &GpuContext, x: &[f32]) -> Result<Vec<f32>, GpuError> {
        let kernel = if self.nnz >= VECTOR_ROW_LENGTH * self.nrows.max(1) {
            SpmvKernel::Vector
        } else {
            SpmvKernel::Row
        };
        self.spmv_with(ctx, x, kernel)
    }

    /// `y = A x` with a given kernel. The row kernel sums each row in stored order as the CPU's
    /// [`CsrView`] product does (with fused multiply–adds, so the two agree to a few ulp); the vector kernel
    /// sums 32 strided partial sums in a tree, so it agrees to a few ulp of the row's absolute sum.
    ///
    /// # Errors
    /// A shape error when `x.len() != ncols`, [`sparsimony_core::Error::NonFinite`] for a NaN/∞ in `x`, and the
    /// device errors of [`GpuError`].
    pub fn spmv_with(&self, ctx: &GpuContext, x: &[f32], kernel: SpmvKernel) -> Result<Vec<f32>, GpuError> {
        check_len("x", self.ncols, x.len())?;
        check_finite("x", x)?;
        let (pipeline, rows_per_group) = match kernel {
            SpmvKernel::Row => (ctx.pipeline("spmv_csr_row", SPMV_WGSL, "spmv_row")?, WORKGROUP),
            SpmvKernel::Vector => (ctx.pipeline("spmv_csr_vector", SPMV_WGSL, "spmv_vector")?, 2),
        };
        let groups = (self.nrows as u32).div_ceil(rows_per_group);
        let (gx, gy) = ctx.grid(groups);
        let dims = ctx.uniform(&Dims {
            nrows: self.nrows as u32,
            ncols: self.ncols as u32,
            row_stride: gx * rows_per_group,
            _pad: 0,
        })?;
        let xb = ctx.storage_buffer("x", x, wgpu::BufferUsages::empty())?;
        let y = ctx.output::<f32>("y", self.nrows)?;
        ctx.dispatch(
            &pipeline,
            &[&dims, &self.indptr, &self.indices, &self.values, &xb, &y],
            (gx, gy),
        )?;
        ctx.read_back(&y, self.nrows)
    }
}

/// A CSR matrix on the GPU as a core [`LinearOperator`]: `A` and `Aᵀ` are resident (the transpose is built
/// once on the host), and each `apply` uploads `x` and reads `y` back, so any core solver — the
/// forward–backward driver, the power iteration — runs on it unchanged. A device failure is
/// [`sparsimony_core::Error::Device`]; [`GpuCsrOperator::last_error`] then gives the [`GpuError`].
#[derive(Debug)]
pub struct GpuCsrOperator<'a> {
    ctx: &'a GpuContext,
    a: GpuCsr,
    at: GpuCsr,
    last_error: ErrorSlot,
}

impl<'a> GpuCsrOperator<'a> {
    /// Uploads `a` and its transpose.
    ///
    /// # Errors
    /// As [`GpuCsr::from_view`].
    pub fn new(ctx: &'a GpuContext, a: &CsrView<'_, f32>) -> Result<Self, GpuError> {
        // The transpose by counting sort on columns (rows of Aᵀ in increasing order).
        let (m, n) = (a.nrows(), a.ncols());
        let mut ptr = vec![0usize; n + 1];
        a.indices().iter().for_each(|&j| ptr[j + 1] += 1);
        for j in 0..n {
            ptr[j + 1] += ptr[j];
        }
        let mut next = ptr.clone();
        let mut idx = vec![0usize; a.nnz()];
        let mut val = vec![0f32; a.nnz()];
        for i in 0..m {
            let (cols, vals) = a.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                idx[next[j]] = i;
                val[next[j]] = v;
                next[j] += 1;
            }
        }
        let at = CsrView::new(n, m, &ptr, &idx, &val)?;
        Ok(Self {
            ctx,
            a: GpuCsr::from_view(ctx, a)?,
            at: GpuCsr::from_view(ctx, &at)?,
            last_error: ErrorSlot::default(),
        })
    }

    /// The error behind the last [`sparsimony_core::Error::Device`], if any (taken).
    pub fn last_error(&self) -> Option<GpuError> {
        self.last_error.take()
    }

    fn run(&self, m: &GpuCsr, what: &'static str, x: &[f32], y: &mut [f32]) -> sparsimony_core::Result<()> {
        if y.len() != m.nrows() {
            return Err(sparsimony_core::Error::DimensionMismatch {
                what: "y",
                expected: m.nrows(),
                found: y.len(),
            });
        }
        self.last_error.deliver(what, m.spmv(self.ctx, x), y)
    }
}

impl LinearOperator<f32> for GpuCsrOperator<'_> {
    fn nrows(&self) -> usize {
        self.a.nrows()
    }
    fn ncols(&self) -> usize {
        self.a.ncols()
    }
    fn apply(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32]) -> sparsimony_core::Result<()> {
        self.run(&self.a, "GPU SpMV", x, y)
    }
    fn apply_adjoint(&self, x: &[f32], y: &mut [f32], _scratch: &mut [f32]) -> sparsimony_core::Result<()> {
        self.run(&self.at, "GPU transposed SpMV", x, y)
    }
}
