// Elementwise proximal maps and reductions on f32 vectors.
//   op 0: soft thresholding   v ← sign(v) max(|v| − a, 0)           (prox of a‖·‖₁)
//   op 1: hard thresholding   v ← v if v² > a² else 0              (prox of ℓ0 at threshold a)
//   op 2: box projection      v ← min(max(v, a), b)
// Reductions write one partial result per workgroup of 256 (tree order, fixed); the host sums them.
//   op 0: Σ uᵢ vᵢ   op 1: max |uᵢ|

struct Params {
    len: u32,
    op: u32,
    a: f32,
    b: f32,
    row_stride: u32,
    _p0: u32,
    _p1: u32,
    _p2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

var<workgroup> scratch: array<f32, 256>;

@compute @workgroup_size(256)
fn reduce(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let g = wid.x + wid.y * groups.x;
    let i = g * 256u + lid;
    var s = 0.0;
    if (i < params.len) {
        if (params.op == 0u) {
            s = u[i] * w[i];
        } else {
            s = abs(u[i]);
        }
    }
    scratch[lid] = s;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) {
            if (params.op == 0u) {
                scratch[lid] = scratch[lid] + scratch[lid + stride];
            } else {
                scratch[lid] = max(scratch[lid], scratch[lid + stride]);
            }
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        partial[g] = scratch[0];
    }
}
