// Row-wise sparse matrix product C = A B (CSR × CSR), one thread per row of A (Gustavson's algorithm with
// a hash accumulator, in the spirit of SMASH): the row's products are accumulated into a private
// open-addressing table in global memory (capacity a power of two ≥ twice the row's upper bound, linear
// probing, key 0xFFFFFFFF = empty), in the order of A's row and then B's rows, so results are
// deterministic. `count` reports the row's distinct columns; `gather` then writes them, sorted by column,
// at the row's offset in C.

struct Dims {
    rows: u32,
    row_stride: u32,
    _p0: u32,
    _p1: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a_ptr: array<u32>;
@group(0) @binding(2) var<storage, read> a_idx: array<u32>;
@group(0) @binding(3) var<storage, read> a_val: array<f32>;
@group(0) @binding(4) var<storage, read> b_ptr: array<u32>;
@group(0) @binding(5) var<storage, read> b_idx: array<u32>;
@group(0) @binding(6) var<storage, read> b_val: array<f32>;
@group(0) @binding(7) var<storage, read> table_ptr: array<u32>; // row i's table: [table_ptr[i], table_ptr[i+1])
@group(0) @binding(8) var<storage, read_write> keys: array<u32>;
@group(0) @binding(9) var<storage, read_write> vals: array<f32>;
@group(0) @binding(10) var<storage, read_write> counts: array<u32>;

const EMPTY: u32 = 0xFFFFFFFFu;

@compute @workgroup_size(64)
fn count(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * dims.row_stride;
    if (i >= dims.rows) {
        return;
    }
    let t0 = table_ptr[i];
    let cap = table_ptr[i + 1u] - t0;
    for (var s = 0u; s < cap; s = s + 1u) {
        keys[t0 + s] = EMPTY;
        vals[t0 + s] = 0.0;
    }
    var distinct = 0u;
    for (var p = a_ptr[i]; p < a_ptr[i + 1u]; p = p + 1u) {
        let k = a_idx[p];
        let av = a_val[p];
        for (var q = b_ptr[k]; q < b_ptr[k + 1u]; q = q + 1u) {
            let j = b_idx[q];
            var h = (j * 2654435761u) & (cap - 1u);
            loop {
                let key = keys[t0 + h];
                if (key == j) {
                    vals[t0 + h] = vals[t0 + h] + av * b_val[q];
                    break;
                }
                if (key == EMPTY) {
                    keys[t0 + h] = j;
                    vals[t0 + h] = av * b_val[q];
                    distinct = distinct + 1u;
                    break;
                }
                h = (h + 1u) & (cap - 1u);
            }
        }
    }
    counts[i] = distinct;
}

