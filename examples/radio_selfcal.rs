//! Joint imaging and direction-dependent self-calibration (Repetti, Birdi, Dabbech & Wiaux, MNRAS 470,
//! 2017) on the paper's simulation: the SNR of the image's faint part (`20 log₁₀ ‖ε*‖/‖ε − ε*‖`, the bright
//! sources being known) for
//! (a) imaging with no calibration (unit gains), (b) the direction-independent stage alone, (c) the
//! DDE stage, (d) imaging with the true DDEs (the limit), beside the authors' toolbox run under Octave
//! on the same simulation (REFERENCES.md), with times and the DDE and image blocks' shares.
//!
//! `cargo run --release --example radio_selfcal [-- --antennas 200] [--seed 1] [--quick] [--plot radio.svg]`
//!
//! * `--quick`: 40 antennas, a 63-pixel image, `S = 3`;
//! * `--prior l1|sara` (ℓ1 by default; `--eta` 1e-4 for ℓ1, 1e-2 for SARA, the paper's), `--galaxy E`
//!   (the faint part an extended galaxy of energy `E` instead of compact sources), `--times T`,
//!   `--dde-size S`;
//! * `--m31`: the paper's M31-like case — 100 antennas, 10 time steps, `S = 9`, SARA, a galaxy of energy 1;
//! * `--max-outer K` caps the DDE stage's outer iterations (100), `--limit-iter K` the image steps of
//!   (a) and (d) (20 000);
//! * `--plot F.svg`: the true faint part, the dirty image and the four reconstructions side by side;
//! * `--joint-steps K`: the DDE stage's joint Levenberg–Marquardt steps per outer iteration (5; 0: the
//!   paper's alternation alone);
//! * `--study`: the seed study — seeds 1..=`--seeds` (5) × `--sizes` (50,100,200 antennas) × `--snrs`
//!   (150,30 dB input SNR), ℓ1, the four SNRs and the times as a table (`--plot F.svg`: the gap to the
//!   true-DDE limit per case).
use sparsimony::solvers::Estimator;
use std::time::Instant;

use sparsimony::solvers::Progress;
use sparsimony::solvers::radio::{
    Complex64, Ddes, Measurement, Prior, SelfCalibration, Simulated, Simulation, Stage, ordered_data, snr_db,
};

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// The four faint-part SNRs of one simulation (dB) and the calibration's time (s) and outer iterations.
struct Outcome {
    snr: [f64; 4],
    seconds: f64,
    outer: usize,
}

/// Images with unit gains and with the true DDEs, and calibrates: the four SNRs.
fn outcome(truth: &Simulated, cal: &SelfCalibration, limit: &SelfCalibration) -> Outcome {
    let obs = &truth.observation;
    let faint = truth.faint();
    let unit = Ddes::constant(1, obs.n_antennas, obs.n_times, Complex64::new(1.0, 0.0)).expect("valid");
    let none = limit.image(obs, truth.bright.view(), &unit).expect("imaging runs");
    let best = limit
        .image(obs, truth.bright.view(), &truth.ddes)
        .expect("imaging runs");
    let t = Instant::now();
    let fit = cal.fit((obs, truth.bright.view())).expect("calibration runs");
    Outcome {
        snr: [
            snr_db(&none.faint, &faint),
            snr_db(&fit.die_faint, &faint),
            snr_db(&fit.faint, &faint),
            snr_db(&best.faint, &faint),
        ],
        seconds: t.elapsed().as_secs_f64(),
        outer: fit.history.len(),
    }
}

/// `--study`: seeds × array sizes × input SNRs, the four SNRs and the DDE stage's gap to the limit.
fn study(args: &[String], joint_steps: usize) {
    let list = |name: &str, default: &str| -> Vec<f64> {
        flag(args, name)
            .unwrap_or_else(|| default.into())
            .split(',')
            .map(|v| v.trim().parse().expect("a comma-separated list of numbers"))
            .collect()
    };
    let seeds: u64 = flag(args, "--seeds").map_or(5, |v| v.parse().expect("--seeds: a count"));
    let (sizes, snrs) = (list("--sizes", "50,100,200"), list("--snrs", "150,30"));
    println!(
        "Seed study: ℓ1, 127×127 image, S = 5, η = 1e-4, {joint_steps} joint steps per outer iteration; faint-part SNR (dB)"
    );
    println!("input SNR  antennas  seed  (a) none  (b) DIE  (c) DDE  (d) true  gap (d)−(c)  outer  seconds");
    let mut gaps: Vec<(f64, f64, f64)> = Vec::new();
    for &input_snr in &snrs {
        for &size in &sizes {
            for seed in 1..=seeds {
                let sim = Simulation {
                    n_antennas: size as usize,
                    input_snr,
                    seed,
                    ..Simulation::default()
                };
                let truth = sim.simulate().expect("a valid simulation");
                let cal = SelfCalibration {
                    joint_steps,
                    ..SelfCalibration::default()
                };
                let limit = SelfCalibration {
                    image_max_iter: 20_000,
                    ..cal.clone()
                };
                let o = outcome(&truth, &cal, &limit);
                let gap = o.snr[3] - o.snr[2];
                println!(
                    "{input_snr:>9}  {size:>8}  {seed:>4}  {:>8.2}  {:>7.2}  {:>7.2}  {:>8.2}  {gap:>11.2}  {:>5}  {:>7.1}",
                    o.snr[0], o.snr[1], o.snr[2], o.snr[3], o.outer, o.seconds
                );
                gaps.push((input_snr, size, gap));
            }
        }
    }
    println!("\nGap to the true-DDE limit (dB): median and largest per input SNR and array size");
    for &input_snr in &snrs {
        for &size in &sizes {
            let mut g: Vec<f64> = gaps
                .iter()
                .filter(|c| c.0 == input_snr && c.1 == size)
                .map(|c| c.2)
                .collect();
            g.sort_by(f64::total_cmp);
            if let (Some(median), Some(worst)) = (g.get(g.len() / 2), g.last()) {
                println!("  {input_snr:>5} dB, {size:>3} antennas: median {median:.2}, largest {worst:.2}");
            }
        }
    }
    if let Some(path) = flag(args, "--plot") {
        use sparsimony::plot::{Curve, Panel, line_panels};
        let x: Vec<f64> = (0..gaps.len() / snrs.len().max(1)).map(|i| i as f64).collect();
        let per: Vec<Vec<f64>> = snrs
            .iter()
            .map(|&s| gaps.iter().filter(|c| c.0 == s).map(|c| c.2).collect())
            .collect();
        let panels: Vec<Panel<'_>> = snrs
            .iter()
            .zip(&per)
            .map(|(s, g)| Panel {
                title: format!("gap to the true-DDE limit (dB), input SNR {s} dB; cases: sizes {sizes:?} × seeds"),
                curves: vec![Curve {
                    label: "(d) − (c)".into(),
                    values: g,
                    dashed: false,
                }],
            })
            .collect();
        line_panels(path.as_ref(), "case", &x, &panels).expect("the plot is written");
        println!("Wrote {path}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let joint_steps = flag(&args, "--joint-steps").map_or(SelfCalibration::default().joint_steps, |v| {
        v.parse().expect("--joint-steps: a count")
    });
    if args.iter().any(|a| a == "--study") {
        study(&args, joint_steps);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let m31 = args.iter().any(|a| a == "--m31");
    let count = |name: &str, default: usize| flag(&args, name).map_or(default, |v| v.parse().expect("a count"));
    let number = |name: &str, default: f64| flag(&args, name).map_or(default, |v| v.parse().expect("a number"));
    let prior = match flag(&args, "--prior") {
        None if m31 => Prior::sara(),
        None => Prior::L1,
        Some(name) => name.parse::<Prior>().expect("--prior: one of Prior::NAMES"),
    };
    let galaxy = flag(&args, "--galaxy")
        .map(|v| v.parse::<f64>().expect("--galaxy takes an energy"))
        .or(m31.then_some(1.0));
    let seed: u64 = flag(&args, "--seed").map_or(1, |v| v.parse().expect("--seed takes an integer"));
    let sim = Simulation {
        n_antennas: count(
            "--antennas",
            if quick {
                40
            } else if m31 {
                100
            } else {
                200
            },
        ),
        n_times: count("--times", if m31 { 10 } else { 1 }),
        image_size: if quick { 63 } else { 127 },
        dde_size: count(
            "--dde-size",
            if quick {
                3
            } else if m31 {
                9
            } else {
                5
            },
        ),
        // With a galaxy, the faint part is the galaxy: the compact sources are the bright level alone.
        levels: if galaxy.is_some() {
            vec![(10, 10.0)]
        } else {
            Simulation::default().levels
        },
        galaxy,
        seed,
        ..Simulation::default()
    };
    let t0 = Instant::now();
    let truth = sim.simulate().expect("a valid simulation");
    println!(
        "Simulation: {} antennas, {} time steps, {} visibilities, {}×{} image on a {}×{} grid, S = {}, input SNR {} dB, {} prior ({:.2} s)",
        sim.n_antennas,
        sim.n_times,
        truth.observation.values.len(),
        sim.image_size,
        sim.image_size,
        truth.observation.grid_size,
        truth.observation.grid_size,
        sim.dde_size,
        sim.input_snr,
        if prior == Prior::L1 { "ℓ1" } else { "SARA" },
        t0.elapsed().as_secs_f64()
    );
    let faint = truth.faint();
    let defaults = SelfCalibration::default();
    let cal = SelfCalibration {
        dde_size: sim.dde_size,
        prior,
        eta: number("--eta", prior.paper_eta()),
        dde_sweeps: flag(&args, "--sweeps").map_or(defaults.dde_sweeps, |v| v.parse().expect("--sweeps: a count")),
        image_max_iter: flag(&args, "--image-iter")
            .map_or(defaults.image_max_iter, |v| v.parse().expect("--image-iter: a count")),
        dde_max_outer: count("--max-outer", defaults.dde_max_outer),
        tol: flag(&args, "--tol").map_or(defaults.tol, |v| v.parse().expect("--tol: a number")),
        dde_nu: flag(&args, "--nu").map_or(defaults.dde_nu, |v| v.parse().expect("--nu: a number")),
        joint_steps,
        progress: {
            let start = Instant::now();
            Progress::new(move |s| {
                eprintln!(
                    "  outer {:>3}: criterion {:.6e} ({:.1} s)",
                    s.done,
                    s.objective.unwrap_or(f64::NAN),
                    start.elapsed().as_secs_f64()
                )
            })
        },
        ..defaults
    };
    let limit = SelfCalibration {
        image_max_iter: count("--limit-iter", 20_000),
        ..cal.clone()
    };
    let obs = &truth.observation;
    {
        use sparsimony::core::LinearOperator;
        let phi = Measurement::new(obs, &truth.ddes, &truth.ddes).expect("valid");
        let x = truth.image.as_slice().expect("standard layout");
        let (mut y, mut back) = (vec![0.0; phi.nrows()], vec![0.0; phi.ncols()]);
        let mut scratch = vec![0.0; phi.scratch_len()];
        let t = Instant::now();
        for _ in 0..20 {
            phi.apply(x, &mut y, &mut scratch).expect("shapes agree");
            phi.apply_adjoint(&y, &mut back, &mut scratch).expect("shapes agree");
        }
        println!(
            "One Φ and Φᵀ pair (an image step's cost): {:.2} ms",
            t.elapsed().as_secs_f64() * 50.0
        );
    }
    let unit = Ddes::constant(1, obs.n_antennas, obs.n_times, Complex64::new(1.0, 0.0)).expect("valid");
    let none = limit.image(obs, truth.bright.view(), &unit).expect("imaging runs");
    let best = limit
        .image(obs, truth.bright.view(), &truth.ddes)
        .expect("imaging runs");
    let t1 = Instant::now();
    let fit = cal.fit((obs, truth.bright.view())).expect("calibration runs");
    let total = t1.elapsed().as_secs_f64();
    let die_outer = fit.history.iter().filter(|o| o.stage == Stage::Die).count();
    let die_time = fit
        .history
        .iter()
        .rfind(|o| o.stage == Stage::Die)
        .map_or(0.0, |o| o.seconds);
    println!(
        "\nFaint-part SNR (dB), this run beside the authors' toolbox (n_a = 200: -32.9, -18.5, 13.1 after 9 outer / 14.1 at its stop, 23.0; n_a = 100: -41.6, -25.0, 10.9, 23.8)"
    );
    println!(
        "  (a) no calibration      {:>7.2}   ({:.1} s, {} image steps)",
        snr_db(&none.faint, &faint),
        none.seconds[0],
        none.report.iterations
    );
    println!(
        "  (b) DIE stage           {:>7.2}   ({:.1} s, {} outer)",
        snr_db(&fit.die_faint, &faint),
        die_time,
        die_outer
    );
    println!(
        "  (c) DDE stage           {:>7.2}   ({:.1} s in all, {} outer; converged: {})",
        snr_db(&fit.faint, &faint),
        total,
        fit.history.len() - die_outer,
        fit.report.converged
    );
    println!(
        "  (d) true DDEs           {:>7.2}   ({:.1} s, {} image steps)",
        snr_db(&best.faint, &faint),
        best.seconds[0],
        best.report.iterations
    );
    if let Some(path) = flag(&args, "--plot") {
        use sparsimony::core::LinearOperator;
        use sparsimony::plot::{Heatmap, heatmaps};
        // The dirty image: Φᵀy under unit gains, scaled so its peak matches the true image's.
        let phi = Measurement::new(obs, &unit, &unit).expect("valid");
        let mut dirty = vec![0.0; phi.ncols()];
        let mut scratch = vec![0.0; phi.scratch_len()];
        phi.apply_adjoint(
            &ordered_data(obs).expect("the simulated observation"),
            &mut dirty,
            &mut scratch,
        )
        .expect("shapes agree");
        let peak = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let scale = peak(truth.image.as_slice().expect("standard layout")) / peak(&dirty).max(f64::MIN_POSITIVE);
        dirty.iter_mut().for_each(|v| *v *= scale);
        let axis: Vec<f64> = (0..sim.image_size).map(|i| i as f64).collect();
        let slice = |a: &ndarray::Array2<f64>| a.as_slice().expect("standard layout").to_vec();
        let maps = [
            ("true faint part", slice(&faint)),
            ("dirty image (unit gains)", dirty),
            ("(a) no calibration", slice(&none.faint)),
            ("(b) DIE stage", slice(&fit.die_faint)),
            ("(c) DDE calibration", slice(&fit.faint)),
            ("(d) true DDEs", slice(&best.faint)),
        ];
        let maps: Vec<Heatmap<'_>> = maps
            .iter()
            .map(|(title, values)| Heatmap {
                title: (*title).into(),
                values,
            })
            .collect();
        heatmaps(path.as_ref(), ("v (pixel)", "u (pixel)"), (&axis, &axis), &maps).expect("the plot is written");
        println!("Wrote {path}");
    }
    println!(
        "DDE error after calibration (best phase per time step): {:.3}; gain scale ĝ = {:.3}",
        fit.ddes[0].relative_error(&truth.ddes).expect("same shape"),
        fit.gain_scale
    );
    println!(
        "Time: image blocks {:.1} s ({:.0} %), DDE blocks {:.1} s ({:.0} %), joint steps {:.1} s ({:.0} %), of {:.1} s",
        fit.seconds[0],
        100.0 * fit.seconds[0] / total,
        fit.seconds[1],
        100.0 * fit.seconds[1] / total,
        fit.seconds[2],
        100.0 * fit.seconds[2] / total,
        total
    );
    println!("\nouter  stage  criterion       data term      image steps  joint steps  seconds");
    for (i, o) in fit.history.iter().enumerate() {
        println!(
            "{:>5}  {:<5}  {:<14.6e}  {:<14.6e}  {:>11}  {:>11}  {:>7.1}",
            i + 1,
            if o.stage == Stage::Die { "DIE" } else { "DDE" },
            o.criterion,
            o.data,
            o.image_iterations,
            o.joint_steps,
            o.seconds
        );
    }
}
