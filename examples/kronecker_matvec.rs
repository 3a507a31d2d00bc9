//! Figures for the never-formed Kronecker operator: time of `y = (K₁ ⊗ … ⊗ K_m) x` against the same product
//! with the matrix formed, on grids of growing size, in one run (ratios, not absolute times, are the result).
//!
//! `cargo run --release --example kronecker_matvec`
use std::hint::black_box;
#[path = "support/timing.rs"]
mod timing;
use timing::median_time;

use sparsimony::core::{DenseColMajor, Kronecker, LinearOperator};

/// A dense `n × n` factor, column-major (a smooth kernel matrix, as a GP on a grid gives).
fn factor(n: usize) -> Vec<f64> {
    (0..n * n)
        .map(|k| (-(((k % n) as f64 - (k / n) as f64) / n as f64).powi(2) * 20.0).exp())
        .collect()
}

fn main() -> Result<(), sparsimony::core::Error> {
    println!(
        "{:>5} {:>4} {:>9} {:>14} {:>14} {:>9} {:>12}",
        "dims", "n", "N", "kron (s)", "formed (s)", "ratio", "max |diff|"
    );
    for (dims, n) in [(2, 16), (2, 32), (2, 64), (2, 96), (3, 12), (3, 20), (2, 256), (3, 64)] {
        let f = factor(n);
        let fop = DenseColMajor::new(&f, n, n)?;
        let factors: Vec<&dyn LinearOperator<f64>> = vec![&fop; dims];
        let k = Kronecker::new(&factors)?;
        let big_n = k.ncols();
        let x: Vec<f64> = (0..big_n).map(|i| ((i * 31 % 97) as f64 - 48.0) / 48.0).collect();
        let mut y = vec![0.0; big_n];
        let mut scratch = vec![0.0; k.scratch_len()];
        let reps = if big_n > 100_000 { 3 } else { 11 };
        let tk = median_time(reps, || k.apply(black_box(&x), &mut y, &mut scratch).unwrap());
        // Form the matrix only while it fits comfortably (N² doubles ≤ 800 MB).
        let (formed, diff) = if big_n * big_n <= 100_000_000 {
            let mut dense = vec![0.0; big_n * big_n];
            let mut e = vec![0.0; big_n];
            for j in 0..big_n {
                e[j] = 1.0;
                k.apply(&e, &mut dense[j * big_n..(j + 1) * big_n], &mut scratch)?;
                e[j] = 0.0;
            }
            let d = DenseColMajor::new(&dense, big_n, big_n)?;
            let mut yd = vec![0.0; big_n];
            let td = median_time(reps, || d.apply(black_box(&x), &mut yd, &mut []).unwrap());
            let diff = y.iter().zip(&yd).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            (Some(td), Some(diff))
        } else {
            (None, None)
        };
        let fmt = |v: Option<f64>, p: usize| v.map_or("—".to_string(), |v| format!("{v:.p$e}"));
        println!(
            "{dims:>5} {n:>4} {big_n:>9} {tk:>14.3e} {:>14} {:>9} {:>12}",
            fmt(formed, 3),
            formed.map_or("—".into(), |t| format!("{:.1}×", t / tk)),
            fmt(diff, 1)
        );
    }
    println!(
        "(ratio = formed time / Kronecker time; the formed product costs N² multiply–adds, the Kronecker one N·Σnₖ)"
    );
    Ok(())
}
