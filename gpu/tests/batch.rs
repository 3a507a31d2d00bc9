//! Batched normal equations and the batched elastic net against the CPU path (`sparsimony-solvers`'
//! `ElasticNet` in f64), on ragged sizes: d = 1, d not a multiple of the workgroup, d > n, large batches
//! that need a 2-D grid, with and without intercepts.
use ndarray::{Array1, Array2};
use sparsimony_gpu::{Batch, BatchElasticNet, GpuError, batch_normal_equations};
use sparsimony_solvers::Estimator;
use sparsimony_solvers::regression::ElasticNet;

mod common;
use common::context;

/// `batch` problems `n × d` (column-major blocks) with 3 active features, noise, and an offset.
fn problems(batch: usize, n: usize, d: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..batch {
        let block: Vec<f64> = (0..n * d).map(|_| 2.0 * uniform() + 0.3).collect();
        for i in 0..n {
            let mut v = 1.5 + 0.05 * uniform();
            for (j, w) in [(0, 2.0), (d / 2, -1.0), (d - 1, 0.5)] {
                v += w * block[j * n + i];
            }
            y.push(v as f32);
        }
        x.extend(block.iter().map(|v| *v as f32));
    }
    (x, y)
}

fn cpu_fit(x: &[f32], y: &[f32], n: usize, d: usize, alpha: f64, l1_ratio: f64, intercept: bool) -> (Vec<f64>, f64) {
    let xm = Array2::from_shape_fn((n, d), |(i, j)| x[j * n + i] as f64);
    let ym = Array1::from_iter(y.iter().map(|v| *v as f64));
    let fit = ElasticNet {
        fit_intercept: intercept,
        tol: 1e-10,
        max_iter: 100_000,
        alpha,
        l1_ratio,
        ..ElasticNet::default()
    }
    .fit((xm.view(), ym.view()))
    .unwrap();
    (fit.coef.to_vec(), fit.intercept)
}

#[test]
fn batched_normal_equations_match_the_cpu() {
    let Some(ctx) = context() else { return };
    for (batch, n, d, center) in [(3, 17, 1, true), (5, 40, 67, false), (2, 9, 20, true)] {
        let (x, y) = problems(batch, n, d, 11);
        let ne = batch_normal_equations(
            &ctx,
            &Batch {
                x: &x,
                y: &y,
                batch,
                n,
                d,
            },
            center,
        )
        .unwrap();
        for b in 0..batch {
            let col = |j: usize| -> Vec<f64> { (0..n).map(|i| x[b * n * d + j * n + i] as f64).collect() };
            let yy: Vec<f64> = (0..n).map(|i| y[b * n + i] as f64).collect();
            let mean = |v: &[f64]| if center { v.iter().sum::<f64>() / n as f64 } else { 0.0 };
            let ym = mean(&yy);
            for a in 0..d {
                let ca = col(a);
                let ma = mean(&ca);
                assert!((ne.x_mean[b * d + a] as f64 - ma).abs() < 1e-5);
                for c in 0..d {
                    let cc = col(c);
                    let mc = mean(&cc);
                    let want: f64 = ca.iter().zip(&cc).map(|(p, q)| (p - ma) * (q - mc)).sum::<f64>() / n as f64;
                    let got = ne.gram[b * d * d + c * d + a] as f64;
                    assert!(
                        (got - want).abs() < 1e-5 * want.abs().max(1.0),
                        "G[{a},{c}] {got} vs {want}"
                    );
                }
                let want: f64 = ca.iter().zip(&yy).map(|(p, q)| (p - ma) * (q - ym)).sum::<f64>() / n as f64;
                assert!((ne.cross[b * d + a] as f64 - want).abs() < 1e-5 * want.abs().max(1.0));
            }
            let want: f64 = yy.iter().map(|q| (q - ym) * (q - ym)).sum::<f64>() / n as f64;
            assert!((ne.y_sq[b] as f64 - want).abs() < 1e-5 * want.max(1.0));
        }
    }
}

#[test]
fn batched_elastic_net_matches_the_cpu_fit() {
    let Some(ctx) = context() else { return };
    for (batch, n, d, l1_ratio, intercept) in [
        (4, 50, 1, 1.0, true),
        (7, 60, 70, 1.0, true),  // d > workgroup, not a multiple of it
        (5, 30, 45, 0.5, false), // d > n, elastic net, no intercept
        (3, 200, 50, 1.0, true), // the benchmark's shape
    ] {
        let (x, y) = problems(batch, n, d, 3 + d as u64);
        let alphas: Vec<f32> = (0..batch).map(|b| 0.02 * (1 + b) as f32).collect();
        let model = BatchElasticNet {
            l1_ratio: l1_ratio as f32,
            fit_intercept: intercept,
            tol: 1e-6,
            ..Default::default()
        };
        let fit = model
            .fit(
                &ctx,
                &Batch {
                    x: &x,
                    y: &y,
                    batch,
                    n,
                    d,
                },
                &alphas,
            )
            .unwrap();
        for b in 0..batch {
            let (xb, yb) = (&x[b * n * d..(b + 1) * n * d], &y[b * n..(b + 1) * n]);
            let (w, c) = cpu_fit(xb, yb, n, d, alphas[b] as f64, l1_ratio, intercept);
            let scale = w.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (j, wj) in w.iter().enumerate() {
                let got = fit.coef[b * d + j] as f64;
                assert!(
                    (got - wj).abs() < 2e-3 * scale,
                    "problem {b} (d = {d}) coef {j}: GPU {got} vs CPU {wj}"
                );
            }
            assert!(
                (fit.intercept[b] as f64 - c).abs() < 2e-3 * c.abs().max(1.0),
                "intercept {b}"
            );
        }
    }
}

#[test]
fn batched_fit_errors_are_typed() {
    let Some(ctx) = context() else { return };
    let (x, y) = problems(2, 20, 5, 1);
    let data = Batch {
        x: &x,
        y: &y,
        batch: 2,
        n: 20,
        d: 5,
    };
    let model = BatchElasticNet::default();
    assert!(matches!(model.fit(&ctx, &data, &[0.1]), Err(GpuError::Input(_))));
    let short = Batch { x: &x[1..], ..data };
    assert!(matches!(model.fit(&ctx, &short, &[0.1, 0.1]), Err(GpuError::Input(_))));
    let mut nan = x.clone();
    nan[7] = f32::NAN;
    assert!(matches!(
        model.fit(&ctx, &Batch { x: &nan, ..data }, &[0.1, 0.1]),
        Err(GpuError::Input(sparsimony_core::Error::NonFinite { index: 7, .. }))
    ));
    assert!(matches!(model.fit(&ctx, &data, &[0.1, 0.0]), Err(GpuError::Input(_))));
    let capped = BatchElasticNet {
        max_epochs: 1,
        tol: 1e-7,
        ..model
    };
    // Stopping at the epoch cap is not an error: each problem's report says so, with the gap reached.
    let fit = capped.fit(&ctx, &data, &[1e-4, 1e-4]).unwrap();
    assert_eq!(fit.reports.len(), 2);
    for r in &fit.reports {
        assert!(!r.converged && r.iterations == 1 && r.reached > r.tolerance, "{r}");
    }
    assert!(fit.coef.iter().all(|c| c.is_finite()));
}

#[test]
fn large_batches_fold_into_a_2d_grid_and_match_the_closed_form() {
    let Some(ctx) = context() else { return };
    // 70 000 one-feature Lasso problems: more workgroups than one grid dimension holds (65 535).
    let (batch, n) = (70_000, 4);
    let x: Vec<f32> = (0..batch * n)
        .map(|k| ((k * 7919) % 13) as f32 / 13.0 + (k % n) as f32)
        .collect();
    let y: Vec<f32> = (0..batch * n)
        .map(|k| 2.0 * x[k] + ((k * 31) % 5) as f32 * 0.1)
        .collect();
    let alphas: Vec<f32> = (0..batch).map(|b| (1 + b % 7) as f32 * 0.05).collect();
    let fit = BatchElasticNet::default()
        .fit(
            &ctx,
            &Batch {
                x: &x,
                y: &y,
                batch,
                n,
                d: 1,
            },
            &alphas,
        )
        .unwrap();
    for b in (0..batch).step_by(997).chain([batch - 1]) {
        // Closed form with one centred feature: w = S(cov(x, y), α) / var(x).
        let xs: Vec<f64> = (0..n).map(|i| x[b * n + i] as f64).collect();
        let ys: Vec<f64> = (0..n).map(|i| y[b * n + i] as f64).collect();
        let (mx, my) = (xs.iter().sum::<f64>() / n as f64, ys.iter().sum::<f64>() / n as f64);
        let var = xs.iter().map(|v| (v - mx) * (v - mx)).sum::<f64>() / n as f64;
        let cov = xs.iter().zip(&ys).map(|(p, q)| (p - mx) * (q - my)).sum::<f64>() / n as f64;
        let a = alphas[b] as f64;
        let w = cov.signum() * (cov.abs() - a).max(0.0) / var;
        assert!(
            (fit.coef[b] as f64 - w).abs() < 1e-4 * w.abs().max(1.0),
            "problem {b}: {} vs {w}",
            fit.coef[b]
        );
        assert!((fit.intercept[b] as f64 - (my - w * mx)).abs() < 1e-3);
    }
}

#[test]
fn batched_stlsq_matches_the_cpu() {
    use sparsimony_gpu::BatchStlsq;
    use sparsimony_solvers::regression::{NormalEquations, Stlsq};
    let Some(ctx) = context() else { return };
    for (models, n, p, targets) in [(3, 80, 10, 3), (2, 150, 70, 2), (4, 20, 1, 1)] {
        let mut grams = Vec::new();
        let (mut index, mut cross) = (Vec::new(), Vec::new());
        let mut cpu = Vec::new();
        for model in 0..models {
            let (x, _) = problems(1, n, p, 100 + model as u64);
            let xm = Array2::from_shape_fn((n, p), |(i, j)| x[j * n + i] as f64);
            // Targets: sparse combinations with small and large coefficients, plus a little noise.
            let ym = Array2::from_shape_fn((n, targets), |(i, t)| {
                (0..p)
                    .filter(|j| (j + t) % 4 == 0)
                    .map(|j| xm[(i, j)] * if j % 8 == 0 { 2.0 } else { 0.3 })
                    .sum::<f64>()
                    + 1e-3 * ((i * 7 + t) % 11) as f64
            });
            let ne = NormalEquations::from_arrays(xm.view(), ym.view()).unwrap();
            grams.extend((0..p * p).map(|q| ne.gram(q % p, q / p) as f32));
            for t in 0..targets {
                index.push(model as u32);
                cross.extend((0..p).map(|j| ne.cross(j, t) as f32));
                cpu.push(
                    Stlsq {
                        threshold: 0.1,
                        ..Stlsq::default()
                    }
                    .fit((&ne, t))
                    .unwrap(),
                );
            }
        }
        let solved = BatchStlsq {
            threshold: 0.1,
            ..BatchStlsq::default()
        }
        .fit_normal(&ctx, p, &grams, &index, &cross)
        .unwrap();
        for (b, cpu_fit) in cpu.iter().enumerate() {
            let want = &cpu_fit.coef;
            let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (j, w) in want.iter().enumerate() {
                let got = solved.coef[b * p + j] as f64;
                assert_eq!(
                    got == 0.0,
                    *w == 0.0,
                    "problem {b} (p = {p}) term {j}: GPU {got} vs CPU {w}"
                );
                assert!(
                    (got - w).abs() < 1e-3 * scale,
                    "problem {b} (p = {p}) term {j}: GPU {got} vs CPU {w}"
                );
            }
            let (rg, rc) = (&solved.reports[b], &cpu_fit.report);
            assert!(
                rg.iterations >= 1 && rg.converged == rc.converged,
                "GPU {rg} vs CPU {rc}"
            );
        }
    }
    // Two identical columns without ridge: singular, named.
    let g = [1.0f32, 1.0, 1.0, 1.0];
    let none = BatchStlsq {
        alpha: 0.0,
        threshold: 0.0,
        ..BatchStlsq::default()
    };
    assert!(matches!(
        none.fit_normal(&ctx, 2, &g, &[0], &[1.0, 1.0]),
        Err(GpuError::Singular { problem: 0 })
    ));
    assert!(matches!(
        none.fit_normal(&ctx, 2, &g, &[1], &[1.0, 1.0]),
        Err(GpuError::Input(_))
    ));
}
