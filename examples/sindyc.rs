//! SINDYc (Brunton, Proctor & Kutz 2016): a controlled Lotka–Volterra system,
//!
//! ```text
//!     ẋ = 0.5 x − 0.025 x y + u,     ẏ = −0.5 y + 0.005 x y,
//! ```
//!
//! excited by a training input, identified with the control in the library, and then simulated under a
//! different input it never saw, next to the true system.
//!
//! `cargo run --release --example sindyc [-- --plot sindyc.svg]`
use ndarray::{Array1, Array2};
use sparsimony::core::ode::{Dopri5, Dopri5State, dopri5_scratch_len};
use sparsimony::solvers::Estimator;
use sparsimony::solvers::regression::Stlsq;
use sparsimony::solvers::sindy::{Optimizer, SimulateOptions, Sindy, Time, Trajectory};

fn truth(x: &[f64], u: f64, d: &mut [f64]) {
    d[0] = 0.5 * x[0] - 0.025 * x[0] * x[1] + u;
    d[1] = -0.5 * x[1] + 0.005 * x[0] * x[1];
}

/// The true system under `input(t)`, sampled at `times`.
fn simulate_truth(x0: [f64; 2], times: &[f64], input: &dyn Fn(f64) -> f64) -> Array2<f64> {
    let solver = Dopri5::new(1e-11, 1e-11);
    let mut state = Dopri5State::default();
    let mut scratch = vec![0.0; dopri5_scratch_len(2)];
    let mut x = x0;
    let mut out = Array2::zeros((times.len(), 2));
    let mut f = |t: f64, y: &[f64], d: &mut [f64]| {
        truth(y, input(t), d);
        Ok(())
    };
    for (k, &t) in times.iter().enumerate() {
        if k > 0 {
            solver
                .integrate(&mut f, times[k - 1], t, &mut x, &mut state, &mut scratch)
                .expect("the true system stays finite");
        }
        out.row_mut(k).iter_mut().zip(&x).for_each(|(o, v)| *o = *v);
    }
    out
}

fn main() {
    let dt = 0.01;
    let times: Vec<f64> = (0..10_000).map(|k| k as f64 * dt).collect();
    let train_input = |t: f64| 2.0 * (t).sin() + 2.0 * (0.1 * t).sin();
    let x = simulate_truth([60.0, 50.0], &times, &train_input);
    let u = Array2::from_shape_fn((times.len(), 1), |(k, _)| train_input(times[k]));
    let model = Sindy {
        optimizer: Optimizer::Stlsq(Stlsq {
            alpha: 0.0,
            threshold: 1e-3,
            ..Stlsq::default()
        }),
        differentiation: sparsimony::solvers::sindy::Differentiation::finite_difference(4),
        state_names: Some(vec!["x".into(), "y".into()]),
        control_names: Some(vec!["u".into()]),
        ..Sindy::default()
    };
    let fit = model
        .fit(&[Trajectory::new(x.view(), Time::Step(dt)).with_control(u.view())])
        .expect("SINDYc fit");
    print!("identified from {} samples:\n{fit}", fit.n_samples());
    let names = fit.feature_names();
    let mut true_coef = Array2::<f64>::zeros((2, names.len()));
    let at = |n: &str| names.iter().position(|s| s == n).expect("term in the library");
    true_coef[(0, at("x"))] = 0.5;
    true_coef[(0, at("x y"))] = -0.025;
    true_coef[(0, at("u"))] = 1.0;
    true_coef[(1, at("y"))] = -0.5;
    true_coef[(1, at("x y"))] = 0.005;
    let err = (fit.coefficients() - &true_coef).mapv(|v| v * v).sum().sqrt() / true_coef.mapv(|v| v * v).sum().sqrt();
    println!("coefficient error ‖Ξ − Ξ*‖/‖Ξ*‖ = {err:.2e}");

    // A validation input the model never saw: a chirp plus a step.
    let test_input = |t: f64| 3.0 * (0.05 * t * t).sin() + if t > 20.0 { -1.0 } else { 0.0 };
    let horizon: Vec<f64> = (0..=4000).map(|k| k as f64 * dt).collect();
    let reference = simulate_truth([40.0, 30.0], &horizon, &test_input);
    let mut control = |t: f64, u: &mut [f64]| u[0] = test_input(t);
    let predicted = fit
        .simulate(
            Array1::from(vec![40.0, 30.0]).view(),
            Array1::from(horizon.clone()).view(),
            Some(&mut control),
            &SimulateOptions::default(),
        )
        .expect("simulate the identified model");
    let rel = (&predicted - &reference).mapv(|v| v * v).sum().sqrt() / reference.mapv(|v| v * v).sum().sqrt();
    println!(
        "simulated under an unseen input for {} time units: relative L2 error {rel:.2e} against the true system",
        horizon[horizon.len() - 1]
    );
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = args.iter().position(|a| a == "--plot").and_then(|i| args.get(i + 1)) {
        use sparsimony::plot::{Curve, Panel, line_panels};
        let cols: Vec<(Vec<f64>, Vec<f64>)> = (0..2)
            .map(|s| (reference.column(s).to_vec(), predicted.column(s).to_vec()))
            .collect();
        let panels: Vec<Panel<'_>> = ["x", "y"]
            .iter()
            .zip(&cols)
            .map(|(name, (truth, model))| Panel {
                title: format!("{name} under the unseen input"),
                curves: vec![
                    Curve {
                        label: "true system".into(),
                        values: truth,
                        dashed: false,
                    },
                    Curve {
                        label: "SINDYc model".into(),
                        values: model,
                        dashed: true,
                    },
                ],
            })
            .collect();
        line_panels(std::path::Path::new(path), "t", &horizon, &panels).expect("write the plot");
        println!("plot written to {path}");
    }
    for k in (0..horizon.len()).step_by(1000) {
        println!(
            "  t = {:>4.0}: true ({:>8.3}, {:>8.3})  model ({:>8.3}, {:>8.3})",
            horizon[k],
            reference[(k, 0)],
            reference[(k, 1)],
            predicted[(k, 0)],
            predicted[(k, 1)]
        );
    }
}
