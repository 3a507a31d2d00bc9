//! Shared by the GPU tests.
use sparsimony_gpu::GpuContext;

/// The GPU context, or a loud skip when there is no adapter — except in CI (`CI=true`), where a missing
/// adapter fails the test.
pub fn context() -> Option<GpuContext> {
    match GpuContext::new() {
        Ok(ctx) => {
            let info = ctx.adapter_info();
            eprintln!(
                "GPU test on adapter `{}` ({:?}, {:?}, driver {})",
                info.name, info.backend, info.device_type, info.driver
            );
            Some(ctx)
        }
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but no GPU adapter ({e}); .ci/run installs mesa-vulkan-drivers and libvulkan1 for this")
        }
        Err(e) => {
            eprintln!("\n*** SKIPPED: GPU test has no adapter: {e}");
            eprintln!("*** install Mesa's software Vulkan (Debian: mesa-vulkan-drivers libvulkan1) to run it ***\n");
            None
        }
    }
}

/// A deterministic ragged CSR matrix: row lengths from 0 to `max_row` (some rows empty); columns unsorted
/// with repeats, or sorted and distinct when `sorted`.
#[allow(dead_code)]
pub fn ragged(
    nrows: usize,
    ncols: usize,
    max_row: usize,
    seed: u64,
    sorted: bool,
) -> (Vec<usize>, Vec<usize>, Vec<f32>) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut indptr, mut indices, mut values) = (vec![0], vec![], vec![]);
    for _ in 0..nrows {
        let len = (next() % (max_row as u64 + 1)) as usize;
        let mut cols: Vec<usize> = (0..len).map(|_| (next() % ncols as u64) as usize).collect();
        if sorted {
            cols.sort_unstable();
            cols.dedup();
        }
        for c in cols {
            indices.push(c);
            values.push(((next() % 2001) as f32 - 1000.0) / 250.0);
        }
        indptr.push(indices.len());
    }
    (indptr, indices, values)
}
