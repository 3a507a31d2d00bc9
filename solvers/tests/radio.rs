//! The radio family: the measurement operator against a direct evaluation of its definition and its
//! adjoint by the dot-product test, the calibration's monotone criterion and gains recovered, and bad
//! input refused.

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::LinearOperator;
use sparsimony_core::random::standard_normal;
use sparsimony_solvers::Error;
use sparsimony_solvers::Estimator;
use sparsimony_solvers::radio::{
    Complex64, Ddes, Measurement, Observation, Outer, Prior, Sampling, SelfCalibration, Simulation, Stage,
    ordered_data, padded_grid_size, snr_db,
};

fn random_ddes(size: usize, n_antennas: usize, n_times: usize, seed: u64) -> Ddes {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut d = Ddes::constant(size, n_antennas, n_times, Complex64::new(0.0, 0.0)).unwrap();
    for tap in d.taps_mut() {
        *tap = Complex64::new(standard_normal(&mut rng), standard_normal(&mut rng));
    }
    d
}

fn small(n_antennas: usize, image_size: usize, dde_size: usize, n_times: usize, seed: u64) -> Simulation {
    Simulation {
        n_antennas,
        n_times,
        image_size,
        dde_size,
        levels: vec![(3, 10.0), (4, 0.1), (3, 1e-5)],
        seed,
        ..Simulation::default()
    }
}

/// The largest relative difference between `Φx` (random DDEs of side 3, random `x`) and the model summed
/// directly, `m = Σ_a Σ_b u1_first[a] conj(u2_second[b]) Σ_l x[l] exp(−2πi (k − a + b)·(l − o) / P)`, both
/// orientations, `o` the origin of phase (pixel 0 on the cells, the centre pixel off them).
fn largest_difference_from_the_direct_sum(obs: &Observation) -> f64 {
    let (n, p) = (obs.image_size, obs.grid_size as f64);
    let origin = match obs.sampling {
        Sampling::Cells => 0.0,
        Sampling::Nufft { .. } => (n / 2) as f64,
    };
    let u1 = random_ddes(3, 5, 2, 10);
    let u2 = random_ddes(3, 5, 2, 11);
    let phi = Measurement::new(obs, &u1, &u2).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let x: Vec<f64> = (0..n * n).map(|_| standard_normal(&mut rng)).collect();
    let mut y = vec![0.0; phi.nrows()];
    let mut scratch = vec![0.0; phi.scratch_len()];
    phi.apply(&x, &mut y, &mut scratch).unwrap();
    let dft = |fv: f64, fu: f64| -> Complex64 {
        let mut acc = Complex64::new(0.0, 0.0);
        for lv in 0..n {
            for lu in 0..n {
                let angle = -2.0 * std::f64::consts::PI * (fv * (lv as f64 - origin) + fu * (lu as f64 - origin)) / p;
                acc += x[lv * n + lu] * Complex64::from_polar(1.0, angle);
            }
        }
        acc
    };
    let mut worst: f64 = 0.0;
    for (j, b) in obs.baselines.iter().enumerate() {
        for (orientation, (first, second, kv, ku)) in
            [(b.antenna1, b.antenna2, b.v, b.u), (b.antenna2, b.antenna1, -b.v, -b.u)]
                .into_iter()
                .enumerate()
        {
            let (d1, d2) = (u1.kernel(b.time, first), u2.kernel(b.time, second));
            let mut m = Complex64::new(0.0, 0.0);
            for (ia, a) in d1.iter().enumerate() {
                for (ib, bb) in d2.iter().enumerate() {
                    let (av, au) = ((ia / 3) as f64 - 1.0, (ia % 3) as f64 - 1.0);
                    let (bv, bu) = ((ib / 3) as f64 - 1.0, (ib % 3) as f64 - 1.0);
                    m += a * bb.conj() * dft(kv - av + bv, ku - au + bu);
                }
            }
            let r = 2 * j + orientation;
            let got = Complex64::new(y[2 * r], y[2 * r + 1]);
            worst = worst.max((got - m).norm() / m.norm().max(1.0));
        }
    }
    worst
}

#[test]
fn operator_equals_its_definition_summed_directly() {
    let sim = small(5, 24, 3, 2, 3).simulate().unwrap();
    let worst = largest_difference_from_the_direct_sum(&sim.observation);
    assert!(worst < 1e-10, "on the cells: largest relative difference {worst:e}");
    // Off the cells: every frequency moved by a fraction of a cell, through the NUFFT.
    let mut obs = sim.observation.clone();
    obs.sampling = Sampling::Nufft { tolerance: 1e-13 };
    for (j, b) in obs.baselines.iter_mut().enumerate() {
        b.u += 0.37 * ((j % 5) as f64 - 2.0) / 2.0;
        b.v -= 0.23 * ((j % 3) as f64 - 1.0);
    }
    let worst = largest_difference_from_the_direct_sum(&obs);
    assert!(worst < 1e-10, "off the cells: largest relative difference {worst:e}");
    // Cells that are not integers are refused on the cells.
    obs.sampling = Sampling::Cells;
    let u = random_ddes(3, 5, 2, 10);
    assert!(matches!(
        Measurement::new(&obs, &u, &u),
        Err(Error::Visibility { name: "uv", .. })
    ));
}

#[test]
fn adjoint_passes_the_dot_product_test() {
    for (s, seed, sampling) in [
        (1, 1, Sampling::Cells),
        (3, 2, Sampling::Cells),
        (5, 3, Sampling::Cells),
        (1, 1, Sampling::Nufft { tolerance: 1e-6 }),
        (3, 2, Sampling::Nufft { tolerance: 1e-6 }),
        (5, 3, Sampling::Nufft { tolerance: 1e-12 }),
    ] {
        let sim = small(7, 24, s, 2, seed).simulate().unwrap();
        let mut obs = sim.observation.clone();
        obs.sampling = sampling;
        if sampling != Sampling::Cells {
            obs.baselines.iter_mut().for_each(|b| b.u += 0.3);
        }
        let u1 = random_ddes(s, 7, 2, seed + 100);
        let u2 = random_ddes(s, 7, 2, seed + 200);
        let phi = Measurement::new(&obs, &u1, &u2).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x: Vec<f64> = (0..phi.ncols()).map(|_| standard_normal(&mut rng)).collect();
        let z: Vec<f64> = (0..phi.nrows()).map(|_| standard_normal(&mut rng)).collect();
        let mut ax = vec![0.0; phi.nrows()];
        let mut atz = vec![0.0; phi.ncols()];
        let mut scratch = vec![0.0; phi.scratch_len()];
        phi.apply(&x, &mut ax, &mut scratch).unwrap();
        phi.apply_adjoint(&z, &mut atz, &mut scratch).unwrap();
        let lhs: f64 = ax.iter().zip(&z).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&atz).map(|(a, b)| a * b).sum();
        let scale = ax.iter().map(|v| v * v).sum::<f64>().sqrt() * z.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(
            (lhs - rhs).abs() <= 1e-12 * scale,
            "S = {s}, {sampling:?}: ⟨Φx, z⟩ = {lhs}, ⟨x, Φᵀz⟩ = {rhs}"
        );
    }
}

#[test]
fn simulated_data_are_the_operator_under_the_true_ddes() {
    let sim = Simulation {
        input_snr: 20.0,
        ..small(6, 20, 3, 1, 5)
    }
    .simulate()
    .unwrap();
    let obs = &sim.observation;
    let phi = Measurement::new(obs, &sim.ddes, &sim.ddes).unwrap();
    let mut y = vec![0.0; phi.nrows()];
    let mut scratch = vec![0.0; phi.scratch_len()];
    phi.apply(sim.image.as_slice().unwrap(), &mut y, &mut scratch).unwrap();
    let data = ordered_data(obs).unwrap();
    let residual = y.iter().zip(&data).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
    // Noise of standard deviation σ per visibility, counted in both orientations: E‖r‖² = 2Mσ².
    let expected = 2.0 * obs.values.len() as f64 * sim.noise_std.powi(2);
    assert!(
        (residual / expected - 1.0).abs() < 0.35,
        "‖r‖² = {residual:e}, expected about {expected:e}"
    );
    let rms = (y.iter().map(|v| v * v).sum::<f64>() / (phi.nrows() / 2) as f64).sqrt();
    assert!((sim.noise_std / rms - 0.1).abs() < 1e-9, "20 dB: σ = RMS / 10");
}

/// Each stage minimises its own criterion (the DDE stage's model and start differ from the DIE stage's):
/// within a stage it must never rise.
fn never_rises_within_a_stage(history: &[Outer]) {
    for stage in [Stage::Die, Stage::Dde] {
        let criteria: Vec<f64> = history
            .iter()
            .filter(|o| o.stage == stage)
            .map(|o| o.criterion)
            .collect();
        assert!(!criteria.is_empty(), "no outer iteration in the {stage:?} stage");
        for w in criteria.windows(2) {
            assert!(
                w[1] <= w[0] * (1.0 + 1e-12),
                "the {stage:?} criterion rose: {criteria:?}"
            );
        }
    }
}

#[test]
fn direction_independent_gains_are_recovered_and_the_criterion_never_rises() {
    // Gains only (S = 1), noiseless: the calibration should find them up to a global phase, on the cells
    // and off them.
    for sampling in [Sampling::Cells, Sampling::Nufft { tolerance: 1e-9 }] {
        let sim = Simulation {
            sampling,
            ..small(12, 32, 1, 1, 7)
        }
        .simulate()
        .unwrap();
        let cal = SelfCalibration {
            dde_size: 1,
            die_max_outer: 30,
            dde_max_outer: 30,
            tol: 1e-6,
            ..SelfCalibration::default()
        };
        let fit = cal.fit((&sim.observation, sim.bright.view())).unwrap();
        never_rises_within_a_stage(&fit.history);
        let error = fit.ddes[0].relative_error(&sim.ddes).unwrap();
        assert!(error < 1e-2, "{sampling:?}: gain error {error}");
    }
}

#[test]
fn a_zero_weight_drops_a_visibility_and_weights_scale_the_rows() {
    // Every fifth visibility replaced by garbage and given weight 0: the same fit as without those rows.
    let sim = Simulation {
        sampling: Sampling::Nufft { tolerance: 1e-10 },
        ..small(10, 24, 1, 1, 13)
    }
    .simulate()
    .unwrap();
    // The alternation alone is stable to rounding, so the two fits agree to 1e-6; the joint steps' conjugate
    // gradients amplify the rounding of sums that differ by exact zeros (the problem is ill-conditioned
    // along the valley they move in), so with them the two fits land on the same criterion, not the same
    // bits.
    let cal = SelfCalibration {
        dde_size: 1,
        die_max_outer: 8,
        dde_max_outer: 4,
        joint_steps: 0,
        ..SelfCalibration::default()
    };
    let mut garbage = sim.observation.clone();
    let weights: Vec<f64> = (0..garbage.values.len())
        .map(|j| if j % 5 == 0 { 0.0 } else { 1.0 })
        .collect();
    for (j, y) in garbage.values.iter_mut().enumerate() {
        if j % 5 == 0 {
            *y = Complex64::new(1e6, -3e5);
        }
    }
    garbage.weights = Some(weights.clone());
    let mut kept = sim.observation.clone();
    let keep: Vec<usize> = (0..kept.values.len()).filter(|j| j % 5 != 0).collect();
    kept.baselines = keep.iter().map(|&j| kept.baselines[j]).collect();
    kept.values = keep.iter().map(|&j| kept.values[j]).collect();
    let a = cal.fit((&garbage, sim.bright.view())).unwrap();
    let b = cal.fit((&kept, sim.bright.view())).unwrap();
    let diff = (&a.faint - &b.faint).mapv(f64::abs).sum() / b.faint.mapv(f64::abs).sum();
    assert!(
        diff < 1e-6,
        "weight 0 against dropping the rows: faint parts differ by {diff:e}"
    );
    let joint = SelfCalibration {
        joint_steps: 5,
        ..cal.clone()
    };
    let a = joint.fit((&garbage, sim.bright.view())).unwrap();
    let b = joint.fit((&kept, sim.bright.view())).unwrap();
    let last = |f: &sparsimony_solvers::radio::SelfCalibrated| f.history.last().unwrap().criterion;
    let faint = sim.faint();
    let (snr_a, snr_b) = (snr_db(&a.faint, &faint), snr_db(&b.faint, &faint));
    assert!(
        (last(&a) / last(&b) - 1.0).abs() < 0.2 && (snr_a - snr_b).abs() < 1.0,
        "with joint steps, weight 0 against dropping the rows: criterion {:e} against {:e}, faint SNR {snr_a:.2} against {snr_b:.2} dB",
        last(&a),
        last(&b)
    );

    // The operator's rows and the ordered data are scaled by √(w/w̄), whatever the weights' units.
    let mut weighted = sim.observation.clone();
    let n = weighted.values.len();
    weighted.weights = Some((0..n).map(|j| 1e6 * (1.0 + (j % 3) as f64)).collect());
    let mean = (0..n).map(|j| 1.0 + (j % 3) as f64).sum::<f64>() / n as f64;
    let (plain, scaled) = (
        ordered_data(&sim.observation).unwrap(),
        ordered_data(&weighted).unwrap(),
    );
    for (j, (p, q)) in plain.chunks_exact(4).zip(scaled.chunks_exact(4)).enumerate() {
        let s = ((1.0 + (j % 3) as f64) / mean).sqrt();
        assert!(
            p.iter()
                .zip(q)
                .all(|(a, b)| (a * s - b).abs() <= 1e-12 * b.abs().max(1.0))
        );
    }
    // Each operator row scaled by √(w/w̄) of its visibility (in both orientations).
    let unit = Ddes::constant(1, 10, 1, Complex64::new(1.0, 0.0)).unwrap();
    let (plain_op, weighted_op) = (
        Measurement::new(&sim.observation, &unit, &unit).unwrap(),
        Measurement::new(&weighted, &unit, &unit).unwrap(),
    );
    let image = sim.image.as_slice().unwrap();
    let (mut yp, mut yw) = (vec![0.0; plain_op.nrows()], vec![0.0; plain_op.nrows()]);
    plain_op
        .apply(image, &mut yp, &mut vec![0.0; plain_op.scratch_len()])
        .unwrap();
    weighted_op
        .apply(image, &mut yw, &mut vec![0.0; weighted_op.scratch_len()])
        .unwrap();
    for (j, (p, q)) in yp.chunks_exact(4).zip(yw.chunks_exact(4)).enumerate() {
        let s = ((1.0 + (j % 3) as f64) / mean).sqrt();
        assert!(
            p.iter()
                .zip(q)
                .all(|(a, b)| (a * s - b).abs() <= 1e-10 * b.abs().max(1e-3))
        );
    }
    // On noisy data, unequal weights: every block minimises the weighted criterion, which never rises.
    let noisy = Simulation {
        sampling: Sampling::Nufft { tolerance: 1e-10 },
        input_snr: 25.0,
        ..small(10, 24, 1, 1, 14)
    }
    .simulate()
    .unwrap();
    let mut obs = noisy.observation.clone();
    obs.weights = Some((0..obs.values.len()).map(|j| [0.3, 1.0, 5.0][j % 3]).collect());
    let fit = cal.fit((&obs, noisy.bright.view())).unwrap();
    never_rises_within_a_stage(&fit.history);

    let mut bad = sim.observation.clone();
    bad.weights = Some(vec![1.0; 3]);
    assert!(matches!(ordered_data(&bad), Err(Error::Shape { .. })));
    assert!(matches!(
        cal.fit((&bad, sim.bright.view())).unwrap_err(),
        Error::Shape { .. }
    ));
    bad.weights = Some(vec![0.0; sim.observation.values.len()]);
    assert!(matches!(
        cal.fit((&bad, sim.bright.view())).unwrap_err(),
        Error::Visibility { name: "weight", .. }
    ));
    bad.weights = Some(
        (0..sim.observation.values.len())
            .map(|j| if j == 4 { f64::NAN } else { 1.0 })
            .collect(),
    );
    assert!(matches!(
        cal.fit((&bad, sim.bright.view())).unwrap_err(),
        Error::Visibility {
            name: "weight",
            index: 4,
            ..
        }
    ));
}

#[test]
fn dde_calibration_closes_most_of_the_gap_and_the_criterion_never_rises() {
    for sampling in [Sampling::Cells, Sampling::Nufft { tolerance: 1e-8 }] {
        let sim = Simulation {
            sampling,
            ..small(30, 31, 3, 1, 11)
        }
        .simulate()
        .unwrap();
        let faint = sim.faint();
        let cal = SelfCalibration {
            dde_size: 3,
            dde_max_outer: 40,
            ..SelfCalibration::default()
        };
        let fit = cal.fit((&sim.observation, sim.bright.view())).unwrap();
        never_rises_within_a_stage(&fit.history);
        let unit = Ddes::constant(1, 30, 1, Complex64::new(1.0, 0.0)).unwrap();
        let none = cal.image(&sim.observation, sim.bright.view(), &unit).unwrap();
        let (a, b, c) = (
            snr_db(&none.faint, &faint),
            snr_db(&fit.die_faint, &faint),
            snr_db(&fit.faint, &faint),
        );
        assert!(
            b > a && c > b + 10.0,
            "{sampling:?}: no calibration {a:.1} dB, DIE {b:.1} dB, DDE {c:.1} dB"
        );
    }
}

#[test]
fn bad_observations_are_refused_by_name() {
    let sim = small(5, 24, 3, 1, 1).simulate().unwrap();
    let cal = SelfCalibration {
        dde_size: 3,
        ..SelfCalibration::default()
    };
    let fails = |obs: &Observation| cal.fit((obs, sim.bright.view())).unwrap_err();
    let mut obs = sim.observation.clone();
    obs.baselines[2].antenna2 = 9;
    assert!(matches!(fails(&obs), Error::Visibility { name: "antenna", .. }));
    let mut obs = sim.observation.clone();
    obs.baselines[0].u = (obs.grid_size / 2) as f64;
    assert!(matches!(fails(&obs), Error::Visibility { name: "uv", .. }));
    // The grid's lowest cell −P/2 (even P) is on the grid, but the reversed baseline's +P/2 is not: it was
    // read past the spectrum's end (a panic) before the band was made symmetric.
    for s in [1, 3] {
        let mut obs = sim.observation.clone();
        obs.grid_size = padded_grid_size(obs.image_size, s) + (padded_grid_size(obs.image_size, s) % 2);
        obs.baselines[0].v = -((obs.grid_size / 2) as f64) + s as f64 - 1.0;
        let cal = SelfCalibration {
            dde_size: s,
            ..SelfCalibration::default()
        };
        assert!(matches!(
            cal.fit((&obs, sim.bright.view())).unwrap_err(),
            Error::Visibility {
                name: "uv",
                index: 0,
                ..
            }
        ));
    }
    let mut obs = sim.observation.clone();
    obs.values[3].im = f64::NAN;
    assert!(matches!(fails(&obs), Error::NonFinite { row: 3, .. }));
    let mut obs = sim.observation.clone();
    obs.baselines[1].time = 1;
    assert!(matches!(fails(&obs), Error::Visibility { name: "time", .. }));
    let mut obs = sim.observation.clone();
    obs.values.clear();
    obs.baselines.clear();
    assert!(matches!(fails(&obs), Error::Empty { .. }));
    let mut obs = sim.observation.clone();
    obs.grid_size = 100_000;
    assert!(matches!(fails(&obs), Error::InvalidParameter { name: "grid_size", .. }));
    let huge = Simulation {
        n_antennas: 100_000,
        ..Simulation::default()
    };
    assert!(matches!(
        huge.simulate().unwrap_err(),
        Error::InvalidParameter { name: "antennas", .. }
    ));
    for (prior, name) in [
        (
            Prior::Sara {
                levels: 0,
                max_iter: 10,
                tol: 1e-4,
            },
            "sara_levels",
        ),
        (
            Prior::Sara {
                levels: 4,
                max_iter: 0,
                tol: 1e-4,
            },
            "prior",
        ),
        (
            Prior::Sara {
                levels: 4,
                max_iter: 10,
                tol: f64::NAN,
            },
            "prior",
        ),
    ] {
        let bad = SelfCalibration { prior, ..cal.clone() };
        match bad.fit((&sim.observation, sim.bright.view())) {
            Err(Error::InvalidParameter { name: got, .. }) => assert_eq!(got, name, "{prior:?}"),
            other => panic!("{prior:?}: expected {name} refused, got {other:?}"),
        }
    }
    let no_galaxy = Simulation {
        galaxy: Some(f64::NAN),
        ..small(5, 24, 3, 1, 1)
    };
    assert!(matches!(
        no_galaxy.simulate().unwrap_err(),
        Error::InvalidParameter { name: "galaxy", .. }
    ));
    let small_bright = ndarray::Array2::<f64>::zeros((23, 24));
    assert!(matches!(
        cal.fit((&sim.observation, small_bright.view())).unwrap_err(),
        Error::Shape { .. }
    ));
    let dark = ndarray::Array2::<f64>::zeros((24, 24));
    assert!(matches!(
        cal.fit((&sim.observation, dark.view())).unwrap_err(),
        Error::Singular { .. }
    ));
}

#[test]
fn sara_prior_images_extended_emission_and_the_criterion_never_rises() {
    // A galaxy as the faint part, seen by 30 antennas over 2 time steps.
    let sim = Simulation {
        levels: vec![(3, 10.0)],
        galaxy: Some(1.0),
        ..small(30, 32, 3, 2, 5)
    }
    .simulate()
    .unwrap();
    let faint = sim.faint();
    let l1 = SelfCalibration {
        dde_size: 3,
        image_max_iter: 3000,
        ..SelfCalibration::default()
    };
    let sara = SelfCalibration {
        prior: Prior::sara(),
        eta: 1e-2,
        dde_max_outer: 15,
        ..l1.clone()
    };
    // With the true DDEs, the dictionary that fits extended emission images it better than ℓ1.
    let with_l1 = l1.image(&sim.observation, sim.bright.view(), &sim.ddes).unwrap();
    let with_sara = sara.image(&sim.observation, sim.bright.view(), &sim.ddes).unwrap();
    let (a, b) = (snr_db(&with_l1.faint, &faint), snr_db(&with_sara.faint, &faint));
    // Self-calibration under SARA: monotone, and the DDE stage improves on the DIE stage.
    let fit = sara.fit((&sim.observation, sim.bright.view())).unwrap();
    never_rises_within_a_stage(&fit.history);
    let (die, dde) = (snr_db(&fit.die_faint, &faint), snr_db(&fit.faint, &faint));
    eprintln!("true DDEs: ℓ1 {a:.2} dB, SARA {b:.2} dB; SARA self-calibration: DIE {die:.2} dB, DDE {dde:.2} dB");
    assert!(b > a + 1.0, "true DDEs: ℓ1 {a:.2} dB, SARA {b:.2} dB");
    assert!(dde > die + 3.0, "SARA: DIE {die:.2} dB, DDE {dde:.2} dB");
}
