//! The radio family's non-uniform FFT (`radio::Nufft`) against what it replaces and what it approximates:
//! per tolerance, the kernel width, the error against the measurement equation summed directly
//! (`max |V − V_dft| / Σ|x|` on a subset of the visibilities), and the time of one apply + adjoint pair
//! beside the paper's gridded operator (`Measurement` with direction-independent gains, visibilities
//! snapped to integer cells) on the same image and number of visibilities, measured in the same run.
//!
//! `cargo run --release --example radio_nufft [-- --image 256] [--visibilities 100000] [--reps 5]`
use std::time::Instant;

#[path = "support/timing.rs"]
mod timing;
use timing::median_time;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony::core::LinearOperator;
use sparsimony::core::random::{standard_normal, uniform_open01};
use sparsimony::solvers::radio::{
    Baseline, Complex64, Ddes, Measurement, Nufft, Observation, Sampling, direct_dft, padded_grid_size,
};

fn flag(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a count"))
}

/// One apply and one adjoint of `op`, timed as a pair.
fn pair_time(op: &dyn LinearOperator<f64>, x: &[f64], reps: usize) -> f64 {
    let (mut y, mut back) = (vec![0.0; op.nrows()], vec![0.0; op.ncols()]);
    let mut scratch = vec![0.0; op.scratch_len()];
    median_time(reps, || {
        op.apply(x, &mut y, &mut scratch).unwrap();
        op.apply_adjoint(&y, &mut back, &mut scratch).unwrap();
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = flag(&args, "--image", 256);
    let visibilities = flag(&args, "--visibilities", 100_000);
    let reps = flag(&args, "--reps", 5).max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    // A sparse sky of 200 point sources, and uv points filling a disc of radius ½ cycle per pixel more
    // densely at its centre (as an array's baselines do).
    let mut image = vec![0.0; n * n];
    for _ in 0..200 {
        let pixel = (uniform_open01(&mut rng) * (n * n) as f64) as usize;
        image[pixel] += standard_normal(&mut rng).abs();
    }
    let frequencies: Vec<[f64; 2]> = (0..visibilities)
        .map(|_| {
            let radius = 0.5 * uniform_open01(&mut rng).powi(2);
            let angle = 2.0 * std::f64::consts::PI * uniform_open01(&mut rng);
            [radius * angle.cos(), radius * angle.sin()]
        })
        .collect();
    let subset = &frequencies[..frequencies.len().min(2000)];
    let start = Instant::now();
    let exact = direct_dft(&image, n, subset);
    let dft_time = start.elapsed().as_secs_f64() * (visibilities as f64 / subset.len() as f64);
    let scale: f64 = image.iter().map(|v| v.abs()).sum();

    // The paper's operator: the same number of visibilities on integer cells of the padded grid.
    let p = padded_grid_size(n, 1);
    let half = (p / 2) as i64;
    let cell = |nu: f64| ((nu * p as f64).round() as i64).clamp(1 - half, p as i64 - 1 - half);
    let n_antennas = (1.0 + (1.0 + 8.0 * visibilities as f64).sqrt()).ceil() as usize / 2 + 1;
    let mut pairs = (0..n_antennas).flat_map(|a| (a + 1..n_antennas).map(move |b| (a, b)));
    let baselines: Vec<Baseline> = frequencies
        .iter()
        .map(|f| {
            let (antenna1, antenna2) = pairs.next().expect("enough antenna pairs");
            Baseline {
                antenna1,
                antenna2,
                time: 0,
                u: cell(f[0]) as f64,
                v: cell(f[1]) as f64,
            }
        })
        .collect();
    let observation = Observation {
        image_size: n,
        grid_size: p,
        n_antennas,
        n_times: 1,
        values: vec![Complex64::new(0.0, 0.0); baselines.len()],
        baselines,
        sampling: Sampling::Cells,
        weights: None,
    };
    let gains = Ddes::constant(1, n_antennas, 1, Complex64::new(1.0, 0.0)).unwrap();
    let gridded = Measurement::new(&observation, &gains, &gains).unwrap();
    // Measurement models each visibility twice (the baseline and its reverse): its pair time is halved to
    // compare per visibility.
    let gridded_time = pair_time(&gridded, &image, reps) / 2.0;

    println!(
        "image {n}², {visibilities} visibilities, {} threads; direct DFT of the 200 sources ≈ {dft_time:.2} s per apply (timed on {})",
        rayon::current_num_threads(),
        subset.len()
    );
    println!("gridded paper operator (S = 1, {p}² grid): {gridded_time:.4} s per apply + adjoint");
    println!(
        "{:>9} {:>5} {:>6} {:>12} {:>12} {:>10} {:>8}",
        "tolerance", "width", "grid", "error", "build s", "pair s", "/gridded"
    );
    for tolerance in [1e-3, 1e-6, 1e-9, 1e-12, 1e-15] {
        let start = Instant::now();
        let op = Nufft::new(n, &frequencies, tolerance).unwrap();
        let build = start.elapsed().as_secs_f64();
        let probe = Nufft::new(n, subset, tolerance).unwrap();
        let mut y = vec![0.0; probe.nrows()];
        probe
            .apply(&image, &mut y, &mut vec![0.0; probe.scratch_len()])
            .unwrap();
        let error = y
            .chunks_exact(2)
            .zip(&exact)
            .map(|(a, b)| (Complex64::new(a[0], a[1]) - b).norm())
            .fold(0.0, f64::max)
            / scale;
        let pair = pair_time(&op, &image, reps);
        println!(
            "{tolerance:>9.0e} {:>5} {:>6} {error:>12.2e} {build:>12.4} {pair:>10.4} {:>8.2}",
            op.kernel().width(),
            op.grid_size(),
            pair / gridded_time
        );
    }
}
