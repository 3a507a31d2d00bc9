// Batched normal equations: for each problem b (one workgroup), with X_b (n × d, column-major) and y_b,
// optionally centred: gram = XᵀX/n (d × d), cross = Xᵀy/n (d), stats = [yᵀy/n, mean(y), mean(X_j)...].
// Entries are dot products over the n rows, summed in row order with fma.

const MAXD: u32 = 256u;

struct Dims {
    batch: u32,
    n: u32,
    d: u32,
    intercept: u32,
    groups_x: u32,
    _p0: u32,
    _p1: u32,
    _p2: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> gram: array<f32>;
@group(0) @binding(4) var<storage, read_write> cross: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;

var<workgroup> mean: array<f32, 257>; // the d column means, then the mean of y at index d

// Column k of the augmented matrix [X y] at row r (k == d is y).
fn col(b: u32, k: u32, r: u32) -> f32 {
    if (k < dims.d) {
        return x[(b * dims.d + k) * dims.n + r];
    }
    return y[b * dims.n + r];
}

@compute @workgroup_size(64)
fn batch_gram(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let b = wid.x + wid.y * dims.groups_x;
    if (b >= dims.batch) {
        return;
    }
    let n = dims.n;
    let d = dims.d;
    for (var k = lid; k <= d; k = k + 64u) {
        var s = 0.0;
        if (dims.intercept != 0u) {
            for (var r = 0u; r < n; r = r + 1u) {
                s = s + col(b, k, r);
            }
            s = s / f32(n);
        }
        mean[k] = s;
    }
    workgroupBarrier();
    // Entries: the upper triangle of the Gram matrix (i ≤ j), then Xᵀy, then yᵀy.
    let pairs = d * (d + 1u) / 2u;
    let total = pairs + d + 1u;
    for (var e = lid; e < total; e = e + 64u) {
        var a = d;
        var c = d;
        if (e < pairs) {
            // e = j(j+1)/2 + i with i ≤ j.
            var j = u32((sqrt(8.0 * f32(e) + 1.0) - 1.0) * 0.5);
            while (j * (j + 1u) / 2u > e) {
                j = j - 1u;
            }
            while ((j + 1u) * (j + 2u) / 2u <= e) {
                j = j + 1u;
            }
            a = e - j * (j + 1u) / 2u;
            c = j;
        } else if (e < pairs + d) {
            a = e - pairs;
        }
        let ma = mean[a];
        let mc = mean[c];
        var s = 0.0;
        for (var r = 0u; r < n; r = r + 1u) {
            s = fma(col(b, a, r) - ma, col(b, c, r) - mc, s);
        }
        s = s / f32(n);
        if (e < pairs) {
            gram[(b * d + c) * d + a] = s;
            gram[(b * d + a) * d + c] = s;
        } else if (e < pairs + d) {
            cross[b * d + a] = s;
        } else {
            stats[b * (d + 2u)] = s;
        }
    }
    for (var k = lid; k <= d; k = k + 64u) {
        if (k < d) {
            stats[b * (d + 2u) + 2u + k] = mean[k];
        } else {
            stats[b * (d + 2u) + 1u] = mean[d];
        }
    }
}
