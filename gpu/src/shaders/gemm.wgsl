// C = A B (f32, or f64 with SHADER_F64), all column-major: A is m × k, B is k × n, C is m × n.
// A 16 × 16 workgroup computes a 64 × 64 tile of C, each thread a 4 × 4 block (rows lid.x + 16 r,
// columns lid.y + 16 c), marching over k in slabs of 16 staged through workgroup memory.

// The scalar type; the f64 kernel is this source with `f32` replaced by `f64` on this line.
alias Scalar = f32;

struct Dims {
    m: u32,
    k: u32,
    n: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<Scalar>;
@group(0) @binding(2) var<storage, read> b: array<Scalar>;
@group(0) @binding(3) var<storage, read_write> c: array<Scalar>;

var<workgroup> a_tile: array<Scalar, 1024>; // 64 rows × 16 k, a_tile[i + 64 kk]
var<workgroup> b_tile: array<Scalar, 1024>; // 16 k × 64 columns, b_tile[kk + 16 j]

@compute @workgroup_size(16, 16)
fn gemm(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let row0 = wid.x * 64u;
    let col0 = wid.y * 64u;
    var acc: array<Scalar, 16>;
    for (var t = 0u; t < 16u; t = t + 1u) {
        acc[t] = 0.0;
    }
    for (var k0 = 0u; k0 < dims.k; k0 = k0 + 16u) {
        for (var t = 0u; t < 4u; t = t + 1u) {
            let e = li + 256u * t;
            let i = e % 64u;
            let kk = e / 64u;
            let gi = row0 + i;
            let gk = k0 + kk;
            var v: Scalar = 0.0;
            if (gi < dims.m && gk < dims.k) {
                v = a[gi + gk * dims.m];
            }
            a_tile[e] = v;
            let kb = e % 16u;
            let j = e / 16u;
            let gkb = k0 + kb;
            let gj = col0 + j;
            var w: Scalar = 0.0;
            if (gkb < dims.k && gj < dims.n) {
                w = b[gkb + gj * dims.k];
            }
            b_tile[e] = w;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < 16u; kk = kk + 1u) {
            var av: array<Scalar, 4>;
            var bv: array<Scalar, 4>;
            for (var r = 0u; r < 4u; r = r + 1u) {
                av[r] = a_tile[lid.x + 16u * r + 64u * kk];
                bv[r] = b_tile[kk + 16u * (lid.y + 16u * r)];
            }
            for (var r = 0u; r < 4u; r = r + 1u) {
                for (var q = 0u; q < 4u; q = q + 1u) {
                    acc[r * 4u + q] = fma(av[r], bv[q], acc[r * 4u + q]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var r = 0u; r < 4u; r = r + 1u) {
        for (var q = 0u; q < 4u; q = q + 1u) {
            let gi = row0 + lid.x + 16u * r;
            let gj = col0 + lid.y + 16u * q;
            if (gi < dims.m && gj < dims.n) {
                c[gi + gj * dims.m] = acc[r * 4u + q];
            }
        }
    }
}
