//! The Lasso on benchopt's simulated problems, timed, with the data written out so that
//! `benches/lasso_peers.py` can time scikit-learn, celer and skglm on exactly the same problems in the same
//! run (`bash benches/lasso.sh` does both and prints the ratios).
//!
//! Problems: n × p designs with AR(1)-correlated columns (corr(Xᵢ, Xⱼ) = ρ^|i−j|, ρ ∈ {0, 0.6}), 10 % of
//! the true coefficients non-zero, signal-to-noise ratio 3; no intercept; α ∈ {0.5, 0.1, 0.05}·α_max; stop at
//! a duality gap of 1e-8·‖y‖²/n (scikit-learn's `tol=1e-8`). Single-threaded.
//!
//! `cargo run --release --example lasso_benchmark -- target/bench-lasso`
use std::path::PathBuf;
use std::time::Instant;

use ndarray::{Array1, Array2};
use ndarray_npy::WriteNpyExt;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony::core::random::standard_normal;
use sparsimony::solvers::regression::ElasticNet;
use sparsimony::solvers::regression::path::alpha_max;

fn simulate(n: usize, p: usize, rho: f64, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Array2::zeros((n, p));
    for i in 0..n {
        let mut prev = standard_normal(&mut rng);
        x[[i, 0]] = prev;
        for j in 1..p {
            prev = rho * prev + (1.0 - rho * rho).sqrt() * standard_normal(&mut rng);
            x[[i, j]] = prev;
        }
    }
    let mut w = Array1::zeros(p);
    for j in 0..p {
        if j % 10 == 0 {
            w[j] = standard_normal(&mut rng);
        }
    }
    let signal = x.dot(&w);
    let sd = (signal.mapv(|v| v * v).mean().unwrap_or(0.0)).sqrt() / 3.0;
    let y = signal.mapv(|v| v + sd * standard_normal(&mut rng));
    (x, y)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/bench-lasso".into()));
    std::fs::create_dir_all(&out)?;
    let mut records = Vec::new();
    println!(
        "{:<22} {:>6} {:>12} {:>8} {:>10} {:>10}",
        "problem", "α/αmax", "time (s)", "epochs", "gap", "nnz"
    );
    for (n, p) in [(100, 10_000), (500, 600), (10_000, 100)] {
        for rho in [0.0, 0.6] {
            let name = format!("{n}x{p}_rho{rho}");
            let (x, y) = simulate(n, p, rho, (n * 31 + p) as u64 + (rho * 10.0) as u64);
            let dir = out.join(&name);
            std::fs::create_dir_all(&dir)?;
            x.write_npy(std::fs::File::create(dir.join("X.npy"))?)?;
            y.write_npy(std::fs::File::create(dir.join("y.npy"))?)?;
            let base = ElasticNet {
                fit_intercept: false,
                tol: 1e-8,
                max_iter: 1_000_000,
                ..ElasticNet::default()
            };
            let amax = alpha_max(&base, x.view(), y.view())?;
            for frac in [0.5, 0.1, 0.05] {
                let model = ElasticNet {
                    alpha: frac * amax,
                    ..base.clone()
                };
                let mut best = f64::INFINITY;
                let mut fit = None;
                for _ in 0..3 {
                    let t = Instant::now();
                    let f = model.fit(x.view(), y.view())?;
                    best = best.min(t.elapsed().as_secs_f64());
                    fit = Some(f);
                }
                let fit = fit.expect("three runs");
                let nnz = fit.n_nonzero();
                println!(
                    "{name:<22} {frac:>6} {best:>12.4e} {:>8} {:>10.2e} {nnz:>10}",
                    fit.report.iterations, fit.report.reached
                );
                records.push(serde_json::json!({
                    "problem": name, "frac": frac, "alpha": model.alpha, "seconds": best,
                    "objective": fit.objective, "gap": fit.report.reached, "nnz": nnz,
                }));
            }
        }
    }
    std::fs::write(out.join("sparsimony.json"), serde_json::to_string_pretty(&records)?)?;
    println!("data and timings written to {}", out.display());
    Ok(())
}
