//! Lorenz from noisy samples: finite differences, Savitzky–Golay-smoothed differences and the weak form
//! side by side at increasing noise, with the coefficient error ‖Ξ − Ξ*‖/‖Ξ*‖, the terms found, and the
//! fit time. Noise is Gaussian with standard deviation `level · rms(x)`.
//!
//! `cargo run --release --example sindy_lorenz_noise [-- --plot lorenz.svg]`; the plot shows, at 5 % noise,
//! the noisy data, the true trajectory and each method's model simulated from the true initial state.
use sparsimony::solvers::Estimator;
use std::time::Instant;

use ndarray::{Array1, Array2, s};
use sparsimony::core::random::standard_normal;
use sparsimony::solvers::sindy::{Differentiation, SimulateOptions, Sindy, Time, Trajectory, WeakForm};

#[path = "support/lorenz.rs"]
mod lorenz;
use lorenz::lorenz;

fn main() {
    let (n, dt) = (10_000, 0.002);
    let clean = lorenz([-8.0, 8.0, 27.0], n, dt, 20);
    let rms = (clean.mapv(|v| v * v).sum() / clean.len() as f64).sqrt();
    let names: Vec<String> = ["1", "x", "y", "z", "x^2", "x y", "x z", "y^2", "y z", "z^2"]
        .map(String::from)
        .into();
    let mut truth = Array2::<f64>::zeros((3, 10));
    for (s, term, c) in [
        (0, 1, -10.0),
        (0, 2, 10.0),
        (1, 1, 28.0),
        (1, 2, -1.0),
        (1, 6, -1.0),
        (2, 3, -8.0 / 3.0),
        (2, 5, 1.0),
    ] {
        truth[(s, term)] = c;
    }
    let methods: [(&str, Sindy); 3] = [
        ("finite differences", Sindy::default()),
        (
            "Savitzky–Golay (21, 3)",
            Sindy {
                differentiation: Differentiation::SmoothedFiniteDifference {
                    window: 21,
                    polyorder: 3,
                    order: 2,
                },
                ..Sindy::default()
            },
        ),
        (
            "weak form (400 bumps)",
            Sindy {
                weak_form: Some(WeakForm::default()),
                ..Sindy::default()
            },
        ),
    ];
    println!("Lorenz, {n} samples, dt = {dt}; error = ‖Ξ − Ξ*‖/‖Ξ*‖; terms: found/true (extra)");
    println!(
        "{:>6}  {:<24} {:>10} {:>12} {:>9}",
        "noise", "method", "error", "terms", "fit (ms)"
    );
    let mut rng = <rand_chacha::ChaCha8Rng as rand_core::SeedableRng>::seed_from_u64(1);
    let horizon = 1000; // samples simulated for the plot (2 time units)
    let mut simulated: Vec<(String, Array2<f64>)> = Vec::new();
    let mut shown: Option<Array2<f64>> = None;
    for level in [0.001, 0.01, 0.05, 0.1, 0.2] {
        let noisy = clean.mapv(|v| v + level * rms * standard_normal(&mut rng));
        for (name, model) in &methods {
            let model = Sindy {
                state_names: Some(vec!["x".into(), "y".into(), "z".into()]),
                ..model.clone()
            };
            let t0 = Instant::now();
            let fit = model
                .fit(&[Trajectory::new(noisy.view(), Time::Step(dt))])
                .expect("fit");
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            assert_eq!(fit.feature_names(), names.as_slice());
            let c = fit.coefficients();
            let err = (c - &truth).mapv(|v| v * v).sum().sqrt() / truth.mapv(|v| v * v).sum().sqrt();
            let found = c.iter().zip(&truth).filter(|(a, b)| **a != 0.0 && **b != 0.0).count();
            let extra = c.iter().zip(&truth).filter(|(a, b)| **a != 0.0 && **b == 0.0).count();
            println!(
                "{:>5.1}%  {name:<24} {err:>10.2e} {:>8}/7 ({extra}) {ms:>9.2}",
                level * 100.0,
                found
            );
            if level == 0.05 {
                let times = Array1::from_iter((0..horizon).map(|k| k as f64 * dt));
                // A model may blow up; the plot then shows it up to where it stopped.
                let sim = fit
                    .simulate(clean.row(0), times.view(), None, &SimulateOptions::default())
                    .unwrap_or_else(|_| Array2::from_elem((horizon, 3), f64::NAN));
                simulated.push((name.to_string(), sim));
                shown = Some(noisy.slice(s![..horizon, ..]).to_owned());
            }
        }
    }
    let args: Vec<String> = std::env::args().collect();
    if let (Some(path), Some(noisy)) = (
        args.iter().position(|a| a == "--plot").and_then(|i| args.get(i + 1)),
        shown,
    ) {
        use sparsimony::plot::{Curve, Panel, line_panels};
        let t: Vec<f64> = (0..horizon).map(|k| k as f64 * dt).collect();
        let columns: Vec<Vec<Vec<f64>>> = (0..3)
            .map(|s| {
                let mut v = vec![noisy.column(s).to_vec(), clean.column(s).slice(s![..horizon]).to_vec()];
                v.extend(simulated.iter().map(|(_, sim)| sim.column(s).to_vec()));
                v
            })
            .collect();
        let panels: Vec<Panel<'_>> = ["x", "y", "z"]
            .iter()
            .zip(&columns)
            .map(|(state, cols)| {
                let mut curves = vec![
                    Curve {
                        label: "data (5 % noise)".into(),
                        values: &cols[0],
                        dashed: false,
                    },
                    Curve {
                        label: "true".into(),
                        values: &cols[1],
                        dashed: false,
                    },
                ];
                curves.extend(simulated.iter().zip(&cols[2..]).map(|((name, _), v)| Curve {
                    label: name.clone(),
                    values: v,
                    dashed: true,
                }));
                Panel {
                    title: format!("{state}: models fitted at 5 % noise, simulated"),
                    curves,
                }
            })
            .collect();
        line_panels(std::path::Path::new(path), "t", &t, &panels).expect("write the plot");
        println!("plot written to {path}");
    }
}
