//! SINDy with control, then model-predictive control with the identified model: the Lorenz case of Kaiser,
//! Kutz & Brunton (Proc. R. Soc. A 2018). Four time units of an excitation of the forced Lorenz system (u
//! in the first equation), 400 samples, with and without 1 % measurement noise; SINDYc identifies a model from it; the
//! no_std controller (`sparsimony_core::mpc`, the code the Cortex-M firmware runs) then drives the true
//! system from points on the attractor to the unstable fixed point (√72, √72, 27), beside the same controller
//! over the true model.
//!
//! ```text
//! cargo run --release --example sindy_mpc [-- --json] [--plot loop.svg] [--save-training train.csv]
//!                                          [--export-firmware]
//! ```
//!
//! `--json` prints one object per run (model, start, `final_distance` = |x − x*|/|x*| at the end, the time
//! it settled within 1 %, the largest |u|, the closed-loop cost, microseconds per control step);
//! `--save-training` writes the noisy excitation (t, x, y, z, u) for `benches/sindy_mpc.py`, which runs
//! PySINDy plus a SciPy MPC on it; `--export-firmware` rewrites `examples/firmware/src/sindyc_lorenz.rs`.
use ndarray::{Array2, Axis};
use sparsimony::core::ode::{rk4_scratch_len, rk4_step};
use sparsimony::core::random::gaussian;
use sparsimony::core::sindy::{Factor, SindyModel};
use sparsimony::solvers::Estimator;
use sparsimony::solvers::regression::Stlsq;
use sparsimony::solvers::sindy::{Differentiation, Optimizer, Sindy, SindyFit, Time, Trajectory};
use std::time::Instant;

#[allow(dead_code)]
#[path = "firmware/src/lorenz_mpc.rs"]
pub mod lorenz_mpc;
use lorenz_mpc::{DT, Outcome, TARGET, attractor_points, closed_loop, lorenz_rhs};

/// Sampling step of the excitation.
pub const TRAIN_DT: f64 = 0.01;
/// Samples of the excitation (4 time units: the low-data regime of Kaiser et al.).
pub const TRAIN_SAMPLES: usize = 400;
/// Measurement noise, relative to each state's standard deviation.
pub const NOISE: f64 = 0.01;
/// Control periods of each closed-loop run (10 time units).
pub const STEPS: usize = 1000;
/// Starting points on the attractor.
pub const STARTS: usize = 5;

/// The excitation: a sum of sines the controller never plays.
pub fn excitation(t: f64) -> f64 {
    20.0 * (2.1 * t).sin() + 15.0 * (7.3 * t).sin() * (0.9 * t).cos()
}

/// The forced Lorenz system from (−8, 8, 27) under [`excitation`], RK4 with 10 steps per sample, with
/// seeded Gaussian noise of `noise` × each state's standard deviation: (states, input).
pub fn training_data(noise: f64) -> (Array2<f64>, Array2<f64>) {
    let mut x = Array2::zeros((TRAIN_SAMPLES, 3));
    let mut u = Array2::zeros((TRAIN_SAMPLES, 1));
    let mut y = [-8.0, 8.0, 27.0];
    let mut scratch = [0.0; rk4_scratch_len(3)];
    let h = TRAIN_DT / 10.0;
    for i in 0..TRAIN_SAMPLES {
        let t0 = i as f64 * TRAIN_DT;
        x.row_mut(i).iter_mut().zip(&y).for_each(|(a, b)| *a = *b);
        u[(i, 0)] = excitation(t0);
        for s in 0..10 {
            let mut f = |t: f64, y: &[f64], d: &mut [f64]| {
                lorenz_rhs(y, excitation(t), d);
                Ok(())
            };
            rk4_step(&mut f, t0 + s as f64 * h, h, &mut y, &mut scratch).expect("the forced system stays finite");
        }
    }
    if noise > 0.0 {
        let mut rng = <rand_chacha::ChaCha8Rng as rand_core::SeedableRng>::seed_from_u64(2018);
        let std = x.std_axis(Axis(0), 0.0);
        for mut row in x.rows_mut() {
            for (v, s) in row.iter_mut().zip(&std) {
                *v += gaussian(&mut rng, 0.0, noise * s).expect("a valid noise level");
            }
        }
    }
    (x, u)
}

/// SINDYc on the excitation: degree-2 polynomials in (x, y, z, u), STLSQ with threshold 0.5;
/// Savitzky–Golay-smoothed differences when the data are noisy, fourth-order differences otherwise.
pub fn fit(noise: f64) -> SindyFit {
    let (x, u) = training_data(noise);
    Sindy {
        differentiation: if noise > 0.0 {
            Differentiation::smoothed()
        } else {
            Differentiation::finite_difference(4)
        },
        optimizer: Optimizer::Stlsq(Stlsq {
            threshold: 0.5,
            alpha: 0.0,
            ..Stlsq::default()
        }),
        state_names: Some(vec!["x".into(), "y".into(), "z".into()]),
        control_names: Some(vec!["u".into()]),
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(x.view(), Time::Step(TRAIN_DT)).with_control(u.view())])
    .expect("the SINDYc fit succeeds")
}

/// The firmware source of the model identified from noisy data.
pub fn firmware_source(fit: &SindyFit) -> String {
    fit.export()
        .expect("polynomial terms export")
        .to_rust_source("sindyc_lorenz", "f64")
        .expect("a valid module name and scalar type")
}

/// Where the firmware reads it from.
pub fn firmware_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/firmware/src/sindyc_lorenz.rs")
}

const fn power(input: usize) -> Factor<f64> {
    Factor::Power { input, exponent: 1 }
}
static TRUE_FACTORS: [Factor<f64>; 8] = [
    power(0),
    power(1),
    power(2),
    power(3),
    power(0),
    power(2),
    power(0),
    power(1),
];
static TRUE_TERM_PTR: [usize; 7] = [0, 1, 2, 3, 4, 6, 8];
static TRUE_COEF_PTR: [usize; 4] = [0, 3, 6, 8];
static TRUE_COEF_TERM: [usize; 8] = [0, 1, 3, 0, 1, 4, 5, 2];
static TRUE_COEF: [f64; 8] = [
    -lorenz_mpc::SIGMA,
    lorenz_mpc::SIGMA,
    1.0,
    lorenz_mpc::RHO,
    -1.0,
    -1.0,
    1.0,
    -lorenz_mpc::BETA,
];

/// The true system as a model, for the reference controller.
pub fn true_model() -> SindyModel<'static, f64> {
    SindyModel::new(
        3,
        1,
        &TRUE_FACTORS,
        &TRUE_TERM_PTR,
        &TRUE_COEF_PTR,
        &TRUE_COEF_TERM,
        &TRUE_COEF,
    )
    .expect("a well-formed model")
}

struct Run {
    model: &'static str,
    start: usize,
    outcome: Outcome,
    micros_per_step: f64,
    trace: Vec<([f64; 3], f64)>,
}

fn run(name: &'static str, model: SindyModel<'_, f64>, start: usize, x0: [f64; 3]) -> Run {
    let mut trace = Vec::with_capacity(STEPS);
    let clock = Instant::now();
    let nanos = || clock.elapsed().as_nanos() as u64;
    let outcome = closed_loop(model, x0, STEPS, nanos, |_, x, u| trace.push((*x, u))).expect("the closed loop runs");
    Run {
        model: name,
        start,
        outcome,
        micros_per_step: outcome.controller_ticks as f64 * 1e-3 / STEPS as f64,
        trace,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let value = |f: &str| args.iter().position(|a| a == f).and_then(|i| args.get(i + 1)).cloned();
    let json = flag("--json");

    let clean = fit(0.0);
    let noisy = fit(NOISE);
    if !json {
        print!("SINDYc from {} clean samples:\n{clean}", clean.n_samples());
        print!(
            "SINDYc from {} samples with {}% noise:\n{noisy}",
            noisy.n_samples(),
            NOISE * 100.0
        );
    }
    if flag("--export-firmware") {
        std::fs::write(firmware_path(), firmware_source(&noisy)).expect("write the firmware model");
        eprintln!("wrote {}", firmware_path().display());
    }
    if let Some(path) = value("--save-training") {
        let (x, u) = training_data(NOISE);
        let mut csv = String::from("t,x,y,z,u\n");
        for i in 0..x.nrows() {
            let t = i as f64 * TRAIN_DT;
            csv += &format!("{t},{},{},{},{}\n", x[(i, 0)], x[(i, 1)], x[(i, 2)], u[(i, 0)]);
        }
        std::fs::write(&path, csv).expect("write the training data");
        eprintln!("wrote {path}");
    }
    let (clean_export, noisy_export) = (clean.export().expect("export"), noisy.export().expect("export"));
    let models = [
        ("true model", true_model()),
        ("SINDYc, clean data", clean_export.view().expect("a valid model")),
        ("SINDYc, 1% noise", noisy_export.view().expect("a valid model")),
    ];
    let starts = attractor_points::<STARTS>().expect("the attractor points");
    let mut runs = Vec::new();
    for (name, model) in &models {
        for (k, x0) in starts.iter().enumerate() {
            runs.push(run(name, *model, k, *x0));
        }
    }
    if json {
        for r in &runs {
            let o = &r.outcome;
            let settled = o.settled_at.is_finite().then_some(o.settled_at);
            let line = serde_json::json!({
                "model": r.model, "start": r.start, "x0": starts[r.start],
                "final_distance": o.final_distance, "settled_at": settled, "max_abs_u": o.max_abs_u,
                "cost": o.cost, "micros_per_step": r.micros_per_step,
                "max_qp_iterations": o.max_qp_iterations, "capped_steps": o.capped_steps,
                "failed_steps": o.failed_steps,
            });
            println!("{line}");
        }
    } else {
        println!(
            "\nclosed loop, {} time units from {} points on the attractor to x* = ({:.4}, {:.4}, {}), |u| ≤ {}:",
            STEPS as f64 * DT,
            STARTS,
            TARGET[0],
            TARGET[1],
            TARGET[2],
            lorenz_mpc::U_MAX
        );
        println!(
            "{:<20} {:>5} {:>12} {:>10} {:>9} {:>9} {:>8} {:>7}",
            "model", "start", "|x−x*|/|x*|", "settled t", "max |u|", "cost", "µs/step", "QP it"
        );
        for r in &runs {
            let o = &r.outcome;
            println!(
                "{:<20} {:>5} {:>12.2e} {:>10} {:>9.2} {:>9.2} {:>8.1} {:>7}",
                r.model,
                r.start,
                o.final_distance,
                if o.settled_at.is_finite() {
                    format!("{:.2}", o.settled_at)
                } else {
                    "never".into()
                },
                o.max_abs_u,
                o.cost,
                r.micros_per_step,
                o.max_qp_iterations
            );
        }
    }
    if let Some(path) = value("--plot") {
        use sparsimony::plot::{Curve, Panel, line_panels};
        let times: Vec<f64> = (0..STEPS).map(|k| k as f64 * DT).collect();
        let pick = |name: &str| runs.iter().find(|r| r.model == name && r.start == 0).expect("run");
        let (truth, noisy_run) = (pick("true model"), pick("SINDYc, 1% noise"));
        let series =
            |r: &Run, i: usize| -> Vec<f64> { r.trace.iter().map(|(x, u)| if i < 3 { x[i] } else { *u }).collect() };
        let data: Vec<(Vec<f64>, Vec<f64>)> = (0..4).map(|i| (series(truth, i), series(noisy_run, i))).collect();
        let panels: Vec<Panel<'_>> = ["x", "y", "z", "u"]
            .iter()
            .zip(&data)
            .map(|(name, (a, b))| Panel {
                title: format!("{name} under MPC from start 0"),
                curves: vec![
                    Curve {
                        label: "MPC with the true model".into(),
                        values: a,
                        dashed: false,
                    },
                    Curve {
                        label: "MPC with SINDYc (1% noise)".into(),
                        values: b,
                        dashed: true,
                    },
                ],
            })
            .collect();
        line_panels(std::path::Path::new(&path), "t", &times, &panels).expect("write the plot");
        eprintln!("plot written to {path}");
    }
}
