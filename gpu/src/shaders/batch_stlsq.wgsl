// Batched STLSQ (PySINDy's sequentially thresholded ridge regression) on normal equations, one workgroup
// per problem. Problem b uses Gram matrix G = gram[gram_index[b]] (p × p, column-major) and right-hand
// side c = cross[b] (p). Each round solves (D G_SS D + α D²) z = D c_S on the support S by Cholesky
// (D = diag(G)^(-1/2), equilibration), sets w_S = D z, and drops |w_j| < threshold; it stops when a round
// drops nothing, then refits with α = 0 on the support when `unbias` is set. scratch[b] holds the p × p
// factor. status[b] = rounds, with bit 31 set when the support was still shrinking at max_iter, or
// 0xFFFFFFFF when a system was not positive definite.

struct Params {
    batch: u32,
    p: u32,
    max_iter: u32,
    unbias: u32,
    threshold: f32,
    alpha: f32,
    groups_x: u32,
    _p0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gram: array<f32>;
@group(0) @binding(2) var<storage, read> gram_index: array<u32>;
@group(0) @binding(3) var<storage, read> cross: array<f32>;
@group(0) @binding(4) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(5) var<storage, read_write> coef: array<f32>;
@group(0) @binding(6) var<storage, read_write> status: array<u32>;

var<workgroup> support: array<u32, 256>; // support, as a list of feature indices
var<workgroup> z: array<f32, 256>;
var<workgroup> w: array<f32, 256>;
var<workgroup> count: u32;
var<workgroup> failed: u32;
var<workgroup> pivot: f32;

// Solves on the current support with ridge `ridge`; leaves w (full length) set. Returns nothing; sets
// `failed` when the system is not positive definite.
fn solve(b: u32, lid: u32, ridge: f32) {
    let p = params.p;
    let go = gram_index[b] * p * p;
    let so = b * p * p;
    let s = workgroupUniformLoad(&count);
    // M = D G_SS D + ridge D², column-major s × s in scratch; rhs z = D c_S.
    for (var e = lid; e < s * s; e = e + 64u) {
        let a = e % s;
        let c = e / s;
        let ia = support[a];
        let ic = support[c];
        let da = inverseSqrt(max(gram[go + ia * p + ia], 1e-30));
        let dc = inverseSqrt(max(gram[go + ic * p + ic], 1e-30));
        var v = da * gram[go + ic * p + ia] * dc;
        if (a == c) {
            v = v + ridge * da * da;
        }
        scratch[so + e] = v;
    }
    for (var a = lid; a < s; a = a + 64u) {
        let ia = support[a];
        z[a] = inverseSqrt(max(gram[go + ia * p + ia], 1e-30)) * cross[b * p + ia];
    }
    workgroupBarrier();
    // Right-looking Cholesky, lower triangle.
    for (var k = 0u; k < s; k = k + 1u) {
        if (lid == 0u) {
            let d = scratch[so + k * s + k];
            if (!(d > 1e-12)) {
                failed = 1u;
                pivot = 1.0;
            } else {
                pivot = sqrt(d);
            }
            scratch[so + k * s + k] = pivot;
        }
        let piv = workgroupUniformLoad(&pivot);
        for (var i = k + 1u + lid; i < s; i = i + 64u) {
            scratch[so + k * s + i] = scratch[so + k * s + i] / piv;
        }
        workgroupBarrier();
        let m = s - k - 1u;
        for (var e = lid; e < m * m; e = e + 64u) {
            let i = k + 1u + e % m;
            let j = k + 1u + e / m;
            if (j <= i) {
                scratch[so + j * s + i] = scratch[so + j * s + i] - scratch[so + k * s + i] * scratch[so + k * s + j];
            }
        }
        workgroupBarrier();
    }
    // Forward and back substitution (one thread: s² operations).
    if (lid == 0u && failed == 0u) {
        for (var i = 0u; i < s; i = i + 1u) {
            var t = z[i];
            for (var j = 0u; j < i; j = j + 1u) {
                t = t - scratch[so + j * s + i] * z[j];
            }
            z[i] = t / scratch[so + i * s + i];
        }
        for (var ii = 0u; ii < s; ii = ii + 1u) {
            let i = s - 1u - ii;
            var t = z[i];
            for (var j = i + 1u; j < s; j = j + 1u) {
                t = t - scratch[so + i * s + j] * z[j];
            }
            z[i] = t / scratch[so + i * s + i];
        }
    }
    workgroupBarrier();
    for (var j = lid; j < p; j = j + 64u) {
        w[j] = 0.0;
    }
    workgroupBarrier();
    for (var a = lid; a < s; a = a + 64u) {
        let ia = support[a];
        w[ia] = z[a] * inverseSqrt(max(gram[go + ia * p + ia], 1e-30));
    }
    workgroupBarrier();
}

@compute @workgroup_size(64)
fn batch_stlsq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let b = wid.x + wid.y * params.groups_x;
    if (b >= params.batch) {
        return;
    }
    let p = params.p;
    if (lid == 0u) {
        for (var j = 0u; j < p; j = j + 1u) {
            support[j] = j;
        }
        count = p;
        failed = 0u;
    }
    workgroupBarrier();
    var rounds = 0u;
    loop {
        if (rounds >= max(params.max_iter, 1u)) {
            break;
        }
        rounds = rounds + 1u;
        solve(b, lid, params.alpha);
        if (workgroupUniformLoad(&failed) != 0u) {
            break;
        }
        // Threshold: keep |w_j| ≥ threshold (thread 0 compacts the support in order).
        var same = 0u;
        if (lid == 0u) {
            let before = count;
            var kept = 0u;
            for (var a = 0u; a < before; a = a + 1u) {
                let j = support[a];
                if (abs(w[j]) >= params.threshold) {
                    support[kept] = j;
                    kept = kept + 1u;
                } else {
                    w[j] = 0.0;
                }
            }
            count = kept;
            failed = select(0u, 2u, kept == before); // 2: converged (nothing dropped)
        }
        let state = workgroupUniformLoad(&failed);
        if (state == 2u) {
            break;
        }
        if (workgroupUniformLoad(&count) == 0u) {
            break;
        }
    }
    // Stable support (nothing dropped in the last round) or nothing left: converged.
    let stable = workgroupUniformLoad(&failed) == 2u || workgroupUniformLoad(&count) == 0u;
    if (lid == 0u && failed == 2u) {
        failed = 0u;
    }
    let broke = workgroupUniformLoad(&failed);
    if (broke == 0u && params.unbias != 0u && workgroupUniformLoad(&count) > 0u) {
        solve(b, lid, 0.0);
    }
    let bad = workgroupUniformLoad(&failed);
    for (var j = lid; j < p; j = j + 64u) {
        coef[b * p + j] = w[j];
    }
    if (lid == 0u) {
        status[b] = select(rounds | select(0x80000000u, 0u, stable), 0xFFFFFFFFu, bad == 1u);
    }
}
