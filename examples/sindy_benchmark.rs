//! SINDy fitting speed and memory on Lorenz trajectories of 10⁴, 10⁵ and 10⁶ samples (second-order finite
//! differences, degree-2 polynomial library, STLSQ threshold 0.1: PySINDy's defaults), with the data written
//! out so that `benches/sindy_peers.py` times PySINDy on exactly the same arrays in the same run
//! (`bash benches/sindy.sh` does both and prints the ratios).
//!
//! Memory is measured with a counting allocator: the peak heap allocated during the fit, beside the size of
//! the data and of the library matrix `Θ` that a materialising implementation would hold.
//!
//! The 10⁶-sample trajectory is also written as CSV, so that the script can time the command line end to end
//! (`sparsimony sindy --data lorenz_1000000.npy|csv`) beside the fit.
//!
//! `cargo run --release --example sindy_benchmark -- target/bench-sindy`
use sparsimony::solvers::Estimator;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ndarray_npy::WriteNpyExt;
use sparsimony::solvers::sindy::{Sindy, Time, Trajectory};

#[path = "support/lorenz.rs"]
mod lorenz;
use lorenz::lorenz;

/// Counts live and peak heap bytes.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/bench-sindy".into()));
    std::fs::create_dir_all(&out).expect("create the output folder");
    let dt = 0.002;
    let model = Sindy::default();
    let mut results = Vec::new();
    println!(
        "{:>9} {:>10} {:>12} {:>12} {:>12}  equations",
        "samples", "fit (ms)", "peak heap", "data", "Θ would be"
    );
    for n in [10_000, 100_000, 1_000_000] {
        let x = lorenz([-8.0, 8.0, 27.0], n, dt, 10);
        x.write_npy(std::fs::File::create(out.join(format!("lorenz_{n}.npy"))).expect("write data"))
            .expect("write data");
        if n == 1_000_000 {
            // The same samples as CSV (shortest round-trip decimals), for the command line's end-to-end timing.
            use std::io::Write;
            let file = std::fs::File::create(out.join(format!("lorenz_{n}.csv"))).expect("write data");
            let mut w = std::io::BufWriter::new(file);
            writeln!(w, "x,y,z").expect("write data");
            for r in x.rows() {
                writeln!(w, "{},{},{}", r[0], r[1], r[2]).expect("write data");
            }
            w.flush().expect("write data");
        }
        let traj = [Trajectory::new(x.view(), Time::Step(dt))];
        let reps = if n >= 1_000_000 { 5 } else { 20 };
        let mut times = Vec::new();
        let mut peak = 0;
        let mut fit = None;
        for _ in 0..reps {
            let base = LIVE.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            let t0 = Instant::now();
            let f = model.fit(&traj).expect("Lorenz fit");
            times.push(t0.elapsed().as_secs_f64());
            peak = PEAK.load(Ordering::Relaxed) - base;
            fit = Some(f);
        }
        times.sort_by(f64::total_cmp);
        let best = times[0];
        let fit = fit.expect("at least one repetition");
        let p = fit.feature_names().len();
        println!(
            "{n:>9} {:>10.2} {:>9.1} MB {:>9.1} MB {:>9.1} MB  {}",
            best * 1e3,
            peak as f64 / 1e6,
            (n * 3 * 8) as f64 / 1e6,
            (n * p * 8) as f64 / 1e6,
            fit.equations(3).join(" | ")
        );
        results.push(format!(
            "{{\"n\": {n}, \"seconds\": {best}, \"peak_bytes\": {peak}, \"coef\": {:?}}}",
            fit.coefficients().iter().collect::<Vec<_>>()
        ));
    }
    std::fs::write(
        out.join("sparsimony.json"),
        format!(
            "{{\"dt\": {dt}, \"threads\": {}, \"runs\": [{}]}}",
            rayon::current_num_threads(),
            results.join(", ")
        ),
    )
    .expect("write results");
}
