//! PDE-FIND on fluid and pattern-forming equations: generate a field with a pseudo-spectral solver
//! (ETDRK4 on rustfft), discover its equation from the samples, print it with the coefficient error, and
//! simulate the discovered equation to compare with the data.
//!
//! `cargo run --release --example pde_find -- burgers` (viscous Burgers, u_t = −u u_x + 0.1 u_xx) or
//! `-- ks` (Kuramoto–Sivashinsky, u_t = −u u_x − u_xx − u_xxxx); add `--plot FILE.svg` to draw data and
//! simulated snapshots.
use sparsimony::solvers::Estimator;
use std::time::Instant;

use ndarray::{Array1, Array2, Array3};
use sparsimony::solvers::regression::Stlsq;
use sparsimony::solvers::sindy::{Differentiation, Optimizer, PdeFind, PdeLibrary, Time};

#[path = "support/spectral.rs"]
mod spectral;
use spectral::Etdrk4;

/// A test problem: grid, times, initial condition, and the true equation's terms.
struct Problem {
    name: &'static str,
    n: usize,
    length: f64,
    /// Output interval and number of snapshots; the first `skip` are a transient left out of the data.
    dt: f64,
    snapshots: usize,
    skip: usize,
    substeps: usize,
    u0: fn(f64) -> f64,
    /// True coefficients by PySINDy-style term name.
    truth: &'static [(&'static str, f64)],
    derivative_order: usize,
    threshold: f64,
}

const BURGERS: Problem = Problem {
    name: "viscous Burgers",
    n: 256,
    length: 2.0 * std::f64::consts::PI,
    dt: 0.02,
    snapshots: 201,
    skip: 0,
    substeps: 20,
    u0: |x| x.sin() + 0.5 * (2.0 * x).cos(),
    truth: &[("u_11", 0.1), ("uu_1", -1.0)],
    derivative_order: 2,
    threshold: 0.05,
};

const KS: Problem = Problem {
    name: "Kuramoto–Sivashinsky",
    n: 512,
    length: 32.0 * std::f64::consts::PI,
    dt: 0.05,
    snapshots: 1601,
    skip: 800,
    substeps: 10,
    u0: |x| (x / 16.0).cos() * (1.0 + (x / 16.0).sin()),
    truth: &[("u_11", -1.0), ("u_1111", -1.0), ("uu_1", -1.0)],
    derivative_order: 4,
    threshold: 2.0,
};

/// Snapshots `(n, t)` of the equation `u_t = L u + a u u_x` with Fourier symbol `symbol`.
fn solve(p: &Problem, symbol: &dyn Fn(f64) -> f64, a: f64, u0: &[f64], snapshots: usize) -> Array2<f64> {
    let solver = Etdrk4::new(p.n, p.length, p.dt / p.substeps as f64, symbol, a);
    let mut u = u0.to_vec();
    let mut out = Array2::zeros((p.n, snapshots));
    for s in 0..snapshots {
        out.column_mut(s).iter_mut().zip(&u).for_each(|(o, v)| *o = *v);
        solver.advance(&mut u, p.substeps);
    }
    out
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "burgers".into());
    let (p, symbol): (&Problem, Box<dyn Fn(f64) -> f64>) = match which.as_str() {
        "burgers" => (&BURGERS, Box::new(|k: f64| -0.1 * k * k)),
        "ks" => (&KS, Box::new(|k: f64| k * k - k.powi(4))),
        other => {
            eprintln!("unknown problem `{other}`: use burgers or ks");
            std::process::exit(2);
        }
    };
    let x = Array1::from_iter((0..p.n).map(|i| i as f64 * p.length / p.n as f64));
    let u0: Vec<f64> = x.iter().map(|&v| (p.u0)(v)).collect();
    let t0 = Instant::now();
    let full = solve(p, &symbol, -1.0, &u0, p.snapshots);
    let data = full.slice(ndarray::s![.., p.skip..]).to_owned();
    let (nx, nt) = data.dim();
    println!(
        "{}: {nx} points × {nt} snapshots (dt {}), generated in {:.2} s",
        p.name,
        p.dt,
        t0.elapsed().as_secs_f64()
    );

    let model = PdeFind {
        library: PdeLibrary {
            fd_order: 4,
            derivative_order: p.derivative_order,
            ..PdeLibrary::default()
        },
        differentiation: Differentiation::finite_difference(4),
        optimizer: Optimizer::Stlsq(Stlsq {
            alpha: 1e-5,
            normalize_columns: true,
            threshold: p.threshold,
            ..Stlsq::default()
        }),
        field_names: Some(vec!["u".into()]),
    };
    let u3: Array3<f64> = data.clone().into_shape_with_order((nx, nt, 1)).expect("n·t values");
    let t0 = Instant::now();
    let fit = model
        .fit((u3.into_dyn().view(), &[x.view()], Time::Step(p.dt)))
        .expect("PDE-FIND fit");
    let seconds = t0.elapsed().as_secs_f64();
    print!(
        "discovered in {seconds:.3} s ({} samples, {} terms):\n{fit}",
        fit.n_samples(),
        fit.feature_names().len()
    );
    let truth: Vec<f64> = fit
        .feature_names()
        .iter()
        .map(|n| p.truth.iter().find(|(t, _)| t == n).map_or(0.0, |(_, c)| *c))
        .collect();
    let coef = fit.coefficients().row(0);
    let err = coef
        .iter()
        .zip(&truth)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt()
        / truth.iter().map(|b| b * b).sum::<f64>().sqrt();
    let extra: Vec<&String> = fit
        .feature_names()
        .iter()
        .zip(coef)
        .zip(&truth)
        .filter(|((_, c), t)| **c != 0.0 && **t == 0.0)
        .map(|((n, _), _)| n)
        .collect();
    println!("coefficient error ‖ξ − ξ*‖/‖ξ*‖ = {err:.2e}; spurious terms: {extra:?}");

    // Simulate the discovered equation when it has the solver's form (linear derivative terms + u u_x).
    let mut linear = [0.0; 5];
    let mut nonlinear = 0.0;
    let mut simulable = true;
    for (name, &c) in fit.feature_names().iter().zip(coef) {
        if c == 0.0 {
            continue;
        }
        match name.as_str() {
            "u" => linear[0] = c,
            "uu_1" => nonlinear = c,
            n if n.starts_with("u_") && n[2..].chars().all(|ch| ch == '1') => linear[n.len() - 2] = c,
            _ => simulable = false,
        }
    }
    if simulable {
        // Fourier symbol of Σ c_d ∂ᵈ: c_d (ik)ᵈ, real for even d; odd terms would need a complex symbol.
        if linear[1] != 0.0 || linear[3] != 0.0 {
            println!("(odd derivative terms: not simulated)");
            return;
        }
        let sym = move |k: f64| linear[0] - linear[2] * k * k + linear[4] * k.powi(4);
        let start: Vec<f64> = data.column(0).to_vec();
        let horizon = (nt / 4).max(2);
        let sim = solve(p, &sym, nonlinear, &start, horizon);
        let truth = data.slice(ndarray::s![.., ..horizon]);
        let diff = (&sim - &truth).mapv(|v| v * v).sum().sqrt() / truth.mapv(|v| v * v).sum().sqrt();
        println!(
            "simulating the discovered equation over {:.2} time units: relative L2 error {diff:.2e}",
            (horizon - 1) as f64 * p.dt
        );
        let args: Vec<String> = std::env::args().collect();
        if let Some(path) = args.iter().position(|a| a == "--plot").and_then(|i| args.get(i + 1)) {
            use sparsimony::plot::{Curve, Panel, line_panels};
            let snaps = [0, horizon / 2, horizon - 1];
            let cols: Vec<(Vec<f64>, Vec<f64>)> = snaps
                .iter()
                .map(|&k| (truth.column(k).to_vec(), sim.column(k).to_vec()))
                .collect();
            let panels: Vec<Panel<'_>> = snaps
                .iter()
                .zip(&cols)
                .map(|(&k, (a, b))| Panel {
                    title: format!("u(x, t = {:.2})", (p.skip + k) as f64 * p.dt),
                    curves: vec![
                        Curve {
                            label: "data".into(),
                            values: a,
                            dashed: false,
                        },
                        Curve {
                            label: "discovered equation".into(),
                            values: b,
                            dashed: true,
                        },
                    ],
                })
                .collect();
            line_panels(
                std::path::Path::new(path),
                "x",
                x.as_slice().expect("contiguous grid"),
                &panels,
            )
            .expect("write the plot");
            println!("plot written to {path}");
        }
    } else {
        println!("(the discovered equation has terms the spectral solver does not take: not simulated)");
    }
}
