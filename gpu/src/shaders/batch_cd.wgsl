// Batched elastic net by coordinate descent on normal equations (one workgroup per problem):
//   min_w  1/(2n)‖y − Xw‖² + α(ρ‖w‖₁ + (1−ρ)/2‖w‖²)
// with G = XᵀX/n, c = Xᵀy/n, y2 = yᵀy/n. The state is g = c − G w (= Xᵀr/n). Each coordinate update is
// made by one thread and broadcast; the O(d) update of g is spread over the workgroup. Every `check_every`
// epochs the duality gap (scikit-learn's formula for the Gram case) is computed; the problem stops when it
// is at most tol · y2.

const MAXD: u32 = 256u;

struct Params {
    batch: u32,
    d: u32,
    max_epochs: u32,
    check_every: u32,
    l1_ratio: f32,
    tol: f32,
    groups_x: u32,
    _p0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gram: array<f32>;
@group(0) @binding(2) var<storage, read> cross: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> alphas: array<f32>;
@group(0) @binding(5) var<storage, read_write> coef: array<f32>;
@group(0) @binding(6) var<storage, read_write> report: array<f32>; // per problem: gap, epochs

var<workgroup> w: array<f32, 256>;
var<workgroup> g: array<f32, 256>;
var<workgroup> red_sum: array<vec4<f32>, 64>;
var<workgroup> red_max: array<f32, 64>;
var<workgroup> delta_shared: f32;
var<workgroup> done_shared: u32;
var<workgroup> gap_shared: f32;

@compute @workgroup_size(64)
fn batch_cd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let b = wid.x + wid.y * params.groups_x;
    if (b >= params.batch) {
        return;
    }
    let d = params.d;
    let go = b * d * d;
    let alpha = alphas[b];
    let l1 = alpha * params.l1_ratio;
    let l2 = alpha * (1.0 - params.l1_ratio);
    let y2 = stats[b * (d + 2u)];
    for (var i = lid; i < d; i = i + 64u) {
        w[i] = 0.0;
        g[i] = cross[b * d + i];
    }
    if (lid == 0u) {
        done_shared = 0u;
        gap_shared = 3.4e38;
    }
    workgroupBarrier();
    var epoch = 0u;
    loop {
        if (epoch >= params.max_epochs) {
            break;
        }
        for (var j = 0u; j < d; j = j + 1u) {
            if (lid == 0u) {
                let gjj = gram[go + j * d + j];
                let wj = w[j];
                var wn = 0.0;
                if (gjj > 0.0) {
                    let z = g[j] + gjj * wj;
                    wn = sign(z) * max(abs(z) - l1, 0.0) / (gjj + l2);
                }
                delta_shared = wn - wj;
                w[j] = wn;
            }
            let delta = workgroupUniformLoad(&delta_shared);
            if (delta != 0.0) {
                for (var i = lid; i < d; i = i + 64u) {
                    g[i] = g[i] - delta * gram[go + j * d + i];
                }
            }
            workgroupBarrier();
        }
        epoch = epoch + 1u;
        if (epoch % params.check_every == 0u || epoch == params.max_epochs) {
            // Partial sums: wᵀc, wᵀg, ‖w‖₁, ‖w‖²; and max |g − l2 w|.
            var s = vec4<f32>(0.0);
            var m = 0.0;
            for (var i = lid; i < d; i = i + 64u) {
                let wi = w[i];
                s = s + vec4<f32>(wi * cross[b * d + i], wi * g[i], abs(wi), wi * wi);
                m = max(m, abs(g[i] - l2 * wi));
            }
            red_sum[lid] = s;
            red_max[lid] = m;
            workgroupBarrier();
            for (var stride = 32u; stride > 0u; stride = stride / 2u) {
                if (lid < stride) {
                    red_sum[lid] = red_sum[lid] + red_sum[lid + stride];
                    red_max[lid] = max(red_max[lid], red_max[lid + stride]);
                }
                workgroupBarrier();
            }
            if (lid == 0u) {
                let t = red_sum[0];
                let wc = t.x;
                let r2 = max(y2 - wc - t.y, 0.0); // ‖r‖²/n = y2 − 2wᵀc + wᵀGw, wᵀGw = wᵀc − wᵀg
                let dual = red_max[0];
                var k = 1.0;
                var gap = r2;
                if (dual > l1) {
                    k = l1 / dual;
                    gap = 0.5 * r2 * (1.0 + k * k);
                }
                gap = gap + l1 * t.z - k * (y2 - wc) + 0.5 * l2 * (1.0 + k * k) * t.w;
                gap_shared = gap;
                if (gap <= params.tol * y2) {
                    done_shared = 1u;
                }
            }
            if (workgroupUniformLoad(&done_shared) != 0u) {
                break;
            }
        }
    }
    for (var i = lid; i < d; i = i + 64u) {
        coef[b * d + i] = w[i];
    }
    if (lid == 0u) {
        report[2u * b] = gap_shared;
        report[2u * b + 1u] = f32(epoch);
    }
}
