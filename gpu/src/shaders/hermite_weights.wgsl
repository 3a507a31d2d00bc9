// The single-index correlation loss's per-sample weights for a batch of iterates:
//   w[i] = y[i mod n] · σ′(z[i]),   σ′(z) = Σ_m a_m He_m(z)
// with He_m the probabilists' Hermite polynomials (He_0 = 1, He_1 = z, He_{m+1} = z He_m − m He_{m−1}) and
// a_m the derivative's coefficients, computed in place over z (n × B, column-major: one column per iterate).

struct Params {
    len: u32,
    n: u32,
    degree: u32, // number of coefficients a_0 … a_{degree−1}
    row_stride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read_write> z: array<f32>;

@compute @workgroup_size(256)
fn weights(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * params.row_stride;
    if (i >= params.len) {
        return;
    }
    let t = z[i];
    var prev = 0.0;
    var cur = 1.0;
    var slope = 0.0;
    for (var m = 0u; m < params.degree; m = m + 1u) {
        slope = slope + a[m] * cur;
        let next = t * cur - f32(m) * prev;
        prev = cur;
        cur = next;
    }
    z[i] = y[i % params.n] * slope;
}
