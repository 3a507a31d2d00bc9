//! Wall-clock timing for the examples' benchmark tables.
use std::time::Instant;

/// The median wall time in seconds of `reps` runs of `f` (`reps ≥ 1`).
pub fn median_time(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
