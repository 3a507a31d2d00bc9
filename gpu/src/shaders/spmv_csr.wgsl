// y = A x for a CSR matrix A (f32 values, u32 indices), one thread per row.
// The grid may be two-dimensional when there are more than 65535 workgroups of rows.

struct Dims {
    nrows: u32,
    ncols: u32,
    row_stride: u32, // rows covered by one line of workgroups in x: num_workgroups.x * 64
    _pad: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> indptr: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read> values: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn spmv_row(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x + gid.y * dims.row_stride;
    if (row >= dims.nrows) {
        return;
    }
    var acc = 0.0;
    let end = indptr[row + 1u];
    for (var k = indptr[row]; k < end; k = k + 1u) {
        acc = fma(values[k], x[indices[k]], acc);
    }
    y[row] = acc;
}

// The vector variant for long rows: 32 lanes per row (two rows per workgroup), each lane summing a strided
// part of the row, then a tree reduction in workgroup memory.
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn spmv_vector(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let half = lid / 32u;
    let lane = lid % 32u;
    // Two rows per workgroup; row_stride is the number of rows per line of workgroups in x.
    let row = 2u * (wid.x + wid.y * (dims.row_stride / 2u)) + half;
    var acc = 0.0;
    if (row < dims.nrows) {
        let end = indptr[row + 1u];
        for (var k = indptr[row] + lane; k < end; k = k + 32u) {
            acc = fma(values[k], x[indices[k]], acc);
        }
    }
    partial[lid] = acc;
    workgroupBarrier();
    for (var stride = 16u; stride > 0u; stride = stride / 2u) {
        if (lane < stride) {
            partial[lid] = partial[lid] + partial[lid + stride];
        }
        workgroupBarrier();
    }
    if (lane == 0u && row < dims.nrows) {
        y[row] = partial[lid];
    }
}
