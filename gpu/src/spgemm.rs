//! Sparse × sparse products on the GPU, `C = A B` with CSR operands (row-wise Gustavson products with hash
//! accumulators, one thread per row of A; see `shaders/spgemm_count.wgsl`). Two passes: accumulate and
//! count the distinct columns of each row, then write them sorted. The host computes the per-row upper
//! bounds (to size the tables) and the prefix sums between the passes.

use bytemuck::{Pod, Zeroable};
use sparsimony_core::{CsrView, LinearOperator};

use crate::error::check_len;
use crate::{GpuContext, GpuError};

const COUNT_WGSL: &str = include_str!("shaders/spgemm_count.wgsl");
const GATHER_WGSL: &str = include_str!("shaders/spgemm_gather.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Dims {
    rows: u32,
    row_stride: u32,
    _pad: [u32; 2],
}

/// A CSR matrix returned from the GPU (`u32` indices widened to `usize`), rows sorted by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    /// Rows.
    pub nrows: usize,
    /// Columns.
    pub ncols: usize,
    /// Row pointers (`nrows + 1`).
    pub indptr: Vec<usize>,
    /// Column indices.
    pub indices: Vec<usize>,
    /// Values.
    pub values: Vec<f32>,
}

fn to_u32(what: &'static str, v: usize) -> Result<u32, GpuError> {
    u32::try_from(v).map_err(|_| GpuError::IndexOverflow { what, value: v })
}

/// `C = A B` for CSR `A` (`m × k`) and `B` (`k × n`). Each entry of `C` sums its products in the order of
/// `A`'s row, then `B`'s rows; a column that receives products is stored even if they cancel to zero.
///
/// # Errors
/// A shape mismatch, sizes over `u32` or the device's limits (the hash tables take up to four times the
/// products' upper bound), device errors.
pub fn spgemm(ctx: &GpuContext, a: &CsrView<'_, f32>, b: &CsrView<'_, f32>) -> Result<Csr, GpuError> {
    check_len("rows of B (columns of A)", a.ncols(), b.nrows())?;
    let m = a.nrows();
    // Upper bound of each row's entries, and table capacities (powers of two ≥ twice the bound).
    let mut table_ptr = Vec::with_capacity(m + 1);
    table_ptr.push(0u32);
    let mut total = 0usize;
    for i in 0..m {
        let bound: usize = a.row(i).0.iter().map(|&k| b.indptr()[k + 1] - b.indptr()[k]).sum();
        total += if bound == 0 { 0 } else { (2 * bound).next_power_of_two() };
        table_ptr.push(to_u32("hash table entries", total)?);
    }
    let u32s = |v: &[usize], what| -> Result<Vec<u32>, GpuError> { v.iter().map(|&x| to_u32(what, x)).collect() };
    let usage = wgpu::BufferUsages::empty();
    let groups = to_u32("rows", m.div_ceil(64))?;
    let (gx, gy) = ctx.grid(groups.max(1));
    let dims = ctx.uniform(&Dims {
        rows: to_u32("rows", m)?,
        row_stride: gx * 64,
        _pad: [0; 2],
    })?;
    let buffers = [
        ctx.storage_buffer("A indptr", &u32s(a.indptr(), "A indptr")?, usage)?,
        ctx.storage_buffer("A indices", &u32s(a.indices(), "A indices")?, usage)?,
        ctx.storage_buffer("A values", a.values(), usage)?,
        ctx.storage_buffer("B indptr", &u32s(b.indptr(), "B indptr")?, usage)?,
        ctx.storage_buffer("B indices", &u32s(b.indices(), "B indices")?, usage)?,
        ctx.storage_buffer("B values", b.values(), usage)?,
    ];
    let tables = ctx.storage_buffer("hash table offsets", &table_ptr, usage)?;
    let keys = ctx.output::<u32>("hash keys", total)?;
    let vals = ctx.output::<f32>("hash values", total)?;
    let counts = ctx.output::<u32>("row counts", m)?;
    if m > 0 {
        let count = ctx.pipeline("spgemm_count", COUNT_WGSL, "count")?;
        let mut bind: Vec<&wgpu::Buffer> = vec![&dims];
        bind.extend(buffers.iter());
        bind.extend([&tables, &keys, &vals, &counts]);
        ctx.dispatch(&count, &bind, (gx, gy))?;
    }
    let row_counts = ctx.read_back::<u32>(&counts, m)?;
    let mut indptr = vec![0usize; m + 1];
    for i in 0..m {
        indptr[i + 1] = indptr[i] + row_counts[i] as usize;
    }
    let nnz = indptr[m];
    let c_ptr = ctx.storage_buffer("C indptr", &u32s(&indptr, "C indptr")?, usage)?;
    let c_idx = ctx.output::<u32>("C indices", nnz)?;
    let c_val = ctx.output::<f32>("C values", nnz)?;
    if nnz > 0 {
        let gather = ctx.pipeline("spgemm_gather", GATHER_WGSL, "gather")?;
        ctx.dispatch(
            &gather,
            &[&dims, &tables, &keys, &vals, &c_ptr, &c_idx, &c_val],
            (gx, gy),
        )?;
    }
    Ok(Csr {
        nrows: m,
        ncols: b.ncols(),
        indptr,
        indices: ctx
            .read_back::<u32>(&c_idx, nnz)?
            .into_iter()
            .map(|j| j as usize)
            .collect(),
        values: ctx.read_back::<f32>(&c_val, nnz)?,
    })
}
