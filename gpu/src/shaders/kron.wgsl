// One mode product of a Kronecker matvec: the input viewed as (left, n, right), the output as
// (left, m, right) with out[l, i, r] = Σ_j A[i, j] in[l, j, r] (A m × n, column-major), one thread per
// output entry, j in increasing order with fma.

struct Dims {
    left: u32,
    m: u32,
    n: u32,
    right: u32,
    total: u32,
    row_stride: u32,
    _p0: u32,
    _p1: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> factor: array<f32>;
@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(64)
fn mode_product(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = gid.x + gid.y * dims.row_stride;
    if (e >= dims.total) {
        return;
    }
    let r = e % dims.right;
    let i = (e / dims.right) % dims.m;
    let l = e / (dims.right * dims.m);
    var acc = 0.0;
    let base = l * dims.n * dims.right + r;
    for (var j = 0u; j < dims.n; j = j + 1u) {
        acc = fma(factor[i + j * dims.m], src[base + j * dims.right], acc);
    }
    dst[e] = acc;
}
