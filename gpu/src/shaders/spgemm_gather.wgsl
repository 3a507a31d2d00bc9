// The second pass of the sparse product (see spgemm_count.wgsl): each row's distinct columns, sorted, at
// its offset in C.

struct Dims {
    rows: u32,
    row_stride: u32,
    _p0: u32,
    _p1: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> table_ptr: array<u32>;
@group(0) @binding(2) var<storage, read> keys: array<u32>;
@group(0) @binding(3) var<storage, read> vals: array<f32>;
@group(0) @binding(4) var<storage, read> c_ptr: array<u32>;
@group(0) @binding(5) var<storage, read_write> c_idx: array<u32>;
@group(0) @binding(6) var<storage, read_write> c_val: array<f32>;

const EMPTY: u32 = 0xFFFFFFFFu;

@compute @workgroup_size(64)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x + gid.y * dims.row_stride;
    if (i >= dims.rows) {
        return;
    }
    let t0 = table_ptr[i];
    let cap = table_ptr[i + 1u] - t0;
    let c0 = c_ptr[i];
    var len = 0u;
    for (var s = 0u; s < cap; s = s + 1u) {
        let key = keys[t0 + s];
        if (key != EMPTY) {
            // Insertion into the row's sorted prefix.
            var pos = len;
            while (pos > 0u && c_idx[c0 + pos - 1u] > key) {
                c_idx[c0 + pos] = c_idx[c0 + pos - 1u];
                c_val[c0 + pos] = c_val[c0 + pos - 1u];
                pos = pos - 1u;
            }
            c_idx[c0 + pos] = key;
            c_val[c0 + pos] = vals[t0 + s];
            len = len + 1u;
        }
    }
}
