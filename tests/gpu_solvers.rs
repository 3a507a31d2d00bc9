//! The solvers on the GPU against their CPU paths: cross-validation grids (on the bundled diabetes data)
//! and SINDy ensembles (STLSQ members solved as one batch).
use sparsimony::solvers::{Estimator, Fitted};
use std::path::Path;

use std::sync::Arc;

use sparsimony::io::read_table;
use sparsimony::solvers::Backend;
use sparsimony::solvers::regression::ElasticNet;
use sparsimony::solvers::regression::path::CrossValidation;

#[path = "../gpu/tests/common/mod.rs"]
mod common;

/// The CLI's JSON output for `args`, with `--gpu` appended when `gpu`.
fn cli_json(args: &[&str], gpu: bool) -> serde_json::Value {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sparsimony"))
        .args(args)
        .args(gpu.then_some("--gpu"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn gpu_cross_validation_agrees_with_the_cpu() {
    let Some(ctx) = common::context() else { return };
    let gpu_backend = Backend::Gpu(Arc::new(ctx));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let x = read_table(&root.join("data/diabetes_X.csv")).unwrap().into_values();
    let y = read_table(&root.join("data/diabetes_y.csv"))
        .unwrap()
        .to_vector(&root.join("data/diabetes_y.csv"))
        .unwrap();
    for l1_ratio in [1.0, 0.5] {
        let model = ElasticNet {
            tol: 1e-6,
            alpha: 1.0,
            l1_ratio,
            ..ElasticNet::default()
        };
        let cv = CrossValidation {
            model,
            n_alphas: 30,
            ..CrossValidation::default()
        };
        let cpu = cv.fit((x.view(), y.view())).unwrap();
        let on_gpu = CrossValidation {
            backend: gpu_backend.clone(),
            ..cv.clone()
        };
        let gpu = on_gpu.fit((x.view(), y.view())).unwrap();
        assert!(gpu.unconverged().is_empty(), "{:?}", gpu.unconverged());
        assert_eq!(gpu.alphas, cpu.alphas);
        let rel = (&gpu.mse_path - &cpu.mse_path)
            .iter()
            .zip(cpu.mse_path.iter())
            .fold(0.0f64, |m, (d, c)| m.max(d.abs() / c));
        assert!(rel < 1e-3, "held-out errors differ by {rel:e} (relative)");
        assert_eq!(gpu.alpha, cpu.alpha, "selected α");
        assert_eq!(gpu.alpha_1se, cpu.alpha_1se, "one-standard-error α");
        assert_eq!(gpu.fit, cpu.fit, "refit at the selected α (on the CPU)");
        eprintln!(
            "l1_ratio {l1_ratio}: α = {}, held-out errors agree to {rel:.1e}",
            gpu.alpha
        );
    }
    // What the GPU does not do is refused, not approximated.
    let positive = ElasticNet {
        positive: true,
        alpha: 1.0,
        ..ElasticNet::default()
    };
    let refused = CrossValidation {
        model: positive,
        backend: gpu_backend,
        ..CrossValidation::default()
    };
    assert!(matches!(
        refused.fit((x.view(), y.view())),
        Err(sparsimony::solvers::Error::InvalidParameter { .. })
    ));
}

#[test]
fn the_cli_selects_the_same_alpha_on_the_gpu() {
    if common::context().is_none() {
        return;
    }
    let args = [
        "regress",
        "--x",
        "data/diabetes_X.csv",
        "--y",
        "data/diabetes_y.csv",
        "--json",
    ];
    let (cpu, gpu) = (cli_json(&args, false), cli_json(&args, true));
    assert_eq!(gpu["selected_alpha"], cpu["selected_alpha"]);
    assert_eq!(gpu["coef"], cpu["coef"]);
}

#[test]
fn sindy_ensembles_on_the_gpu_agree_with_the_cpu() {
    use sparsimony::solvers::regression::Stlsq;
    use sparsimony::solvers::sindy::{Ensemble, Optimizer, Sindy, Time, Trajectory};
    let Some(ctx) = common::context() else { return };
    let gpu_backend = Backend::Gpu(Arc::new(ctx));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = read_table(&root.join("data/lorenz.csv")).unwrap();
    let t = table.values().column(0).to_owned();
    let x = table.values().slice(ndarray::s![.., 1..]).to_owned();
    let traj = [Trajectory::new(x.view(), Time::Points(t.view()))];
    for (drop_terms, normalize) in [(0, false), (2, true)] {
        let model = Sindy {
            optimizer: Optimizer::Ensemble(Box::new(Ensemble {
                drop_terms,
                base: Optimizer::Stlsq(Stlsq {
                    normalize_columns: normalize,
                    ..Stlsq::default()
                }),
                n_models: 12,
                seed: 42,
                ..Ensemble::default()
            })),
            ..Sindy::default()
        };
        let cpu = model.fit(&traj).unwrap();
        let gpu = Sindy {
            backend: gpu_backend.clone(),
            ..model
        }
        .fit(&traj)
        .unwrap();
        assert_eq!(
            gpu.report().converged,
            cpu.report().converged,
            "{} vs {}",
            gpu.report(),
            cpu.report()
        );
        let (ec, eg) = (cpu.ensemble().unwrap(), gpu.ensemble().unwrap());
        assert_eq!(eg.inclusion, ec.inclusion, "inclusion probabilities");
        for (mg, mc) in eg.models.iter().zip(&ec.models) {
            // f32 solves of members that lost a true term (ill-conditioned refits): relative to the member's
            // largest coefficient.
            let scale = mc.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            for (g, c) in mg.iter().zip(mc) {
                assert!((g - c).abs() <= 2e-4 * scale, "member coefficient: GPU {g} vs CPU {c}");
            }
        }
        let rel = (gpu.coefficients() - cpu.coefficients())
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            / 28.0;
        assert!(
            rel < 1e-4,
            "median coefficients differ by {rel:e} (relative to the largest)"
        );
        eprintln!("ensemble (drop {drop_terms}, normalised {normalize}): GPU and CPU agree to {rel:.1e}");
    }
    // A single STLSQ fit is refused on the GPU path rather than silently run on the CPU.
    let single = Sindy {
        backend: gpu_backend,
        ..Sindy::default()
    };
    assert!(matches!(
        single.fit(&traj),
        Err(sparsimony::solvers::Error::InvalidParameter { .. })
    ));
    // The CLI's --gpu gives the CPU's inclusion probabilities.
    let args = [
        "sindy",
        "--data",
        "data/lorenz.csv",
        "--t-column",
        "t",
        "--ensemble",
        "8",
        "--json",
    ];
    let (cpu, gpu) = (cli_json(&args, false), cli_json(&args, true));
    assert_eq!(gpu["inclusion"], cpu["inclusion"]);
    let flat = |v: &serde_json::Value| -> Vec<f64> {
        serde_json::from_value::<Vec<Vec<f64>>>(v["coef"].clone())
            .unwrap()
            .concat()
    };
    for (g, c) in flat(&gpu).iter().zip(flat(&cpu)) {
        assert!((g - c).abs() < 1e-4 * 28.0, "median coefficient: GPU {g} vs CPU {c}");
    }
}

/// Langevin chains in lockstep with the single-index drift on the GPU (`f32`: two GEMMs and a Hermite
/// kernel a step) against the CPU's `f64` drift: each drift to 1e-4 of its scale, and over a short horizon
/// the chains' paths stay together (the same Brownian increments, the drift's rounding the only difference).
#[test]
fn gpu_langevin_drift_agrees_with_the_cpu() {
    use sparsimony::solvers::langevin::{Chain, CorrelationLoss, Langevin, Link, Objective, SingleIndex};
    let Some(ctx) = common::context() else { return };
    let backend = Backend::Gpu(Arc::new(ctx));
    let d = 24;
    let link = Link::new(vec![0.0, 0.0, 0.3, 1.0, -0.2]).unwrap();
    let model = SingleIndex::new(d, link, 0.1).unwrap();
    let (x, y) = model.sample(2, 0, 3000).unwrap();
    let cpu = CorrelationLoss::new(x.view(), y.view(), &model.link).unwrap();
    let gpu = CorrelationLoss::with_backend(x.view(), y.view(), &model.link, &backend).unwrap();
    let thetas: Vec<f64> = (0..5 * d)
        .map(|q| ((q * 37 % 11) as f64 - 5.0) / (5.0 * (d as f64).sqrt()))
        .collect();
    let (mut a, mut b) = (vec![0.0; 5 * d], vec![0.0; 5 * d]);
    cpu.drift_batch(&thetas, &mut a).unwrap();
    gpu.drift_batch(&thetas, &mut b).unwrap();
    let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let gap = a.iter().zip(&b).fold(0.0f64, |m, (u, v)| m.max((u - v).abs()));
    assert!(gap < 1e-4 * scale, "drift gap {gap} against scale {scale}");
    let chains: Vec<Chain> = (0..4).map(|seed| Chain { seed, signal: 8.0 }).collect();
    let langevin = Langevin {
        time: 1.0,
        ..Langevin::default()
    };
    let on_cpu = langevin.run_chains(&cpu, &chains).unwrap();
    let on_gpu = langevin.run_chains(&gpu, &chains).unwrap();
    for (c, g) in on_cpu.iter().zip(&on_gpu) {
        let gap = c
            .last
            .iter()
            .zip(g.last.iter())
            .fold(0.0f64, |m, (u, v)| m.max((u - v).abs()));
        assert!(gap < 1e-4, "path gap {gap}");
    }
    // The estimator's `backend` field takes the same path for a sample `(x, y)`.
    let fit = |backend: Backend| {
        Langevin {
            time: 1.0,
            link: model.link.clone(),
            backend,
            ..Langevin::default()
        }
        .fit((x.view(), y.view()))
        .unwrap()
    };
    let (c, g) = (fit(Backend::Cpu), fit(backend.clone()));
    let gap = c
        .last
        .iter()
        .zip(g.last.iter())
        .fold(0.0f64, |m, (u, v)| m.max((u - v).abs()));
    assert!(gap < 1e-4, "estimator path gap {gap}");
}
