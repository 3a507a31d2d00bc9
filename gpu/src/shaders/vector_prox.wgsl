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
@group(0) @binding(1) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn prox(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * params.row_stride;
    if (i >= params.len) {
        return;
    }
    let x = v[i];
    if (params.op == 0u) {
        v[i] = sign(x) * max(abs(x) - params.a, 0.0);
    } else if (params.op == 1u) {
        v[i] = select(0.0, x, x * x > params.a * params.a);
    } else {
        v[i] = min(max(x, params.a), params.b);
    }
}

