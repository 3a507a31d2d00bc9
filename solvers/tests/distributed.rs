//! Work shared among processes gives the bits of one process: cross-validation folds, grid searches, the
//! LDP servers' sums over users, the Langevin drifts, SINDy ensembles' members and radio self-calibration (the measurement
//! operator's rows and the DDE block's antennas), run on 1, 2, 3 and 4 "ranks" of a
//! [`Threads`] group (the transport aside, what an MPI job does), against the same call without a group.
//! A piece that fails on one rank fails every rank.

use ndarray::{Array1, Array2};
use std::rc::Rc;

use sparsimony_solvers::distributed::{Group, Threads, with_group};
use sparsimony_solvers::langevin::{Langevin, Link, SingleIndex};
use sparsimony_solvers::privacy::{LdpIht, NonInteractive, Population};
use sparsimony_solvers::radio::{SelfCalibration, Simulation};
use sparsimony_solvers::regression::ElasticNet;
use sparsimony_solvers::regression::path::CrossValidation;
use sparsimony_solvers::sindy::{Ensemble, Optimizer, Sindy, Time, Trajectory};
use sparsimony_solvers::sweep::GridSearch;
use sparsimony_solvers::{Error, Estimator, with_threads};

/// A regression with correlated columns and a sparse truth.
fn regression(n: usize, d: usize) -> (Array2<f64>, Array1<f64>) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut x = Array2::from_shape_fn((n, d), |_| next());
    for i in 0..n {
        for j in 1..d {
            x[(i, j)] += 0.5 * x[(i, j - 1)];
        }
    }
    let y = Array1::from_shape_fn(n, |i| 2.0 * x[(i, 0)] - 1.5 * x[(i, 3)] + 0.1 * next());
    (x, y)
}

const RANKS: [usize; 3] = [2, 3, 4];

#[test]
fn cross_validation_on_ranks_equals_one_process() {
    let (x, y) = regression(300, 12);
    let cv = CrossValidation {
        folds: 5,
        n_alphas: 30,
        ..CrossValidation::default()
    };
    let alone = cv.fit((x.view(), y.view())).unwrap();
    for size in RANKS {
        let (fits, exchanges) = Threads::run(size, |_| cv.fit((x.view(), y.view())).unwrap()).unwrap();
        assert_eq!(exchanges, 1, "the folds' paths, in one exchange");
        for fit in fits {
            assert_eq!(fit.alpha.to_bits(), alone.alpha.to_bits(), "{size} ranks");
            assert_eq!(fit.mse_path, alone.mse_path, "{size} ranks");
            assert_eq!(fit.path_reports, alone.path_reports, "{size} ranks");
            assert_eq!(fit.fit.coef, alone.fit.coef, "{size} ranks");
        }
    }
}

#[test]
fn a_grid_search_on_ranks_equals_one_process_and_a_failure_ends_every_rank() {
    let (x, y) = regression(200, 8);
    let search = GridSearch {
        candidates: [0.3, 0.03, 0.003, 0.0003]
            .map(|alpha| ElasticNet {
                alpha,
                l1_ratio: 0.7,
                ..ElasticNet::default()
            })
            .to_vec(),
        folds: 4,
        ..GridSearch::default()
    };
    let alone = search.fit((x.view(), y.view())).unwrap();
    for size in RANKS {
        let (fits, exchanges) = Threads::run(size, |_| search.fit((x.view(), y.view())).unwrap()).unwrap();
        assert_eq!(exchanges, 1, "the candidates' scores, in one exchange");
        for fit in fits {
            assert_eq!(fit.scores, alone.scores, "{size} ranks");
            assert_eq!(fit.best, alone.best);
            assert_eq!(fit.fit.coef, alone.fit.coef);
        }
    }
    // The third candidate cannot be fitted: the rank that fitted it reports its own typed error, every
    // other rank the same message from it.
    let mut failing = search.clone();
    failing.candidates[2].l1_ratio = 2.0;
    let expected = failing.fit((x.view(), y.view())).unwrap_err().to_string();
    for size in RANKS {
        let (errors, _) = Threads::run(size, |_| failing.fit((x.view(), y.view())).unwrap_err()).unwrap();
        let typed = errors
            .iter()
            .filter(|e| matches!(e, Error::InvalidParameter { .. }))
            .count();
        assert_eq!(typed, 1, "{size} ranks: {errors:?}");
        for e in &errors {
            match e {
                Error::Remote { message, .. } => assert_eq!(*message, expected),
                other => assert_eq!(other.to_string(), expected),
            }
        }
    }
}

#[test]
fn the_ldp_servers_sums_over_users_on_ranks_equal_one_process() {
    let pop = Population::sparse(6, 2, 0.3).unwrap();
    let iht = LdpIht {
        epsilon: 4.0,
        k: 2,
        ..LdpIht::default()
    };
    let alone = iht.simulate(&pop, 60_000, 7).unwrap();
    let noninteractive = NonInteractive {
        epsilon: 2.0,
        ..NonInteractive::default()
    };
    let alone_ni = noninteractive.simulate(&pop, 20_000, 0, 3).unwrap();
    for size in RANKS {
        let (fits, exchanges) = Threads::run(size, |_| {
            (
                iht.simulate(&pop, 60_000, 7).unwrap(),
                noninteractive.simulate(&pop, 20_000, 0, 3).unwrap(),
            )
        })
        .unwrap();
        // A sum per round of LDP-IHT, the scales' and the non-interactive servers' sums.
        assert!(exchanges > alone.linear.report.iterations, "{exchanges} exchanges");
        for (fit, ni) in fits {
            assert_eq!(fit.coef(), alone.coef(), "LDP-IHT, {size} ranks");
            assert_eq!(fit.linear.report, alone.linear.report);
            assert_eq!(ni.coef(), alone_ni.coef(), "non-interactive, {size} ranks");
        }
    }
}

#[test]
fn langevin_drifts_on_ranks_equal_one_process() {
    let d = 16;
    let model = SingleIndex::new(d, Link::hermite(3).unwrap(), 0.0).unwrap();
    let (x, y) = model.sample(1, 0, 4 * d * d).unwrap();
    let langevin = Langevin {
        link: model.link.clone(),
        ..Langevin::default()
    };
    let alone = langevin.fit((x.view(), y.view())).unwrap();
    for size in RANKS {
        let (fits, exchanges) = Threads::run(size, |_| langevin.fit((x.view(), y.view())).unwrap()).unwrap();
        assert!(exchanges > 10, "a drift per step: {exchanges} exchanges");
        for fit in fits {
            assert_eq!(fit.estimate, alone.estimate, "{size} ranks");
        }
    }
}

#[test]
fn sindy_ensembles_on_ranks_equal_one_process() {
    // A damped rotation with a little deterministic roughness.
    let dt = 0.01;
    let x = Array2::from_shape_fn((2000, 2), |(i, j)| {
        let t = i as f64 * dt;
        let phase = if j == 0 { (2.0 * t).cos() } else { (2.0 * t).sin() };
        (-0.1 * t).exp() * phase + 1e-3 * ((i * 7 + j * 3) % 11) as f64 / 11.0
    });
    let trajectory = [Trajectory::new(x.view(), Time::Step(dt))];
    let bagging = Ensemble {
        n_models: 12,
        seed: 3,
        ..Ensemble::default()
    };
    let library = Ensemble {
        bagging: false,
        drop_terms: 2,
        n_models: 9,
        ..bagging.clone()
    };
    for ensemble in [bagging, library] {
        let model = Sindy {
            optimizer: Optimizer::Ensemble(Box::new(ensemble)),
            ..Sindy::default()
        };
        let alone = model.fit(&trajectory).unwrap();
        for size in RANKS {
            let (fits, exchanges) = Threads::run(size, |_| model.fit(&trajectory).unwrap()).unwrap();
            assert!(exchanges >= 1, "{exchanges} exchanges");
            for fit in fits {
                assert_eq!(fit.coefficients(), alone.coefficients(), "{size} ranks");
                assert_eq!(fit.ensemble().unwrap().models, alone.ensemble().unwrap().models);
            }
        }
    }
}

#[test]
fn radio_self_calibration_on_ranks_equals_one_process() {
    // 780 baselines over 8 time steps: 12 480 model rows, four pieces of the operator's rows (and of the
    // adjoint's grids, summed along a tree), 320 (time, antenna) blocks of the DDE stage.
    let sim = Simulation {
        n_antennas: 40,
        n_times: 8,
        image_size: 31,
        dde_size: 3,
        levels: vec![(3, 10.0), (4, 0.1), (3, 1e-5)],
        seed: 5,
        ..Simulation::default()
    }
    .simulate()
    .unwrap();
    let cal = SelfCalibration {
        dde_size: 3,
        die_max_outer: 2,
        dde_max_outer: 2,
        joint_steps: 2,
        ..SelfCalibration::default()
    };
    let alone = cal.fit((&sim.observation, sim.bright.view())).unwrap();
    for size in RANKS {
        let (fits, exchanges) =
            Threads::run(size, |_| cal.fit((&sim.observation, sim.bright.view())).unwrap()).unwrap();
        assert!(exchanges > 20, "{exchanges} exchanges");
        for fit in fits {
            assert_eq!(fit.faint, alone.faint, "{size} ranks");
            assert_eq!(fit.ddes[0].taps(), alone.ddes[0].taps(), "{size} ranks");
            assert_eq!(fit.ddes[1].taps(), alone.ddes[1].taps(), "{size} ranks");
            let criteria = |f: &sparsimony_solvers::radio::SelfCalibrated| {
                f.history.iter().map(|o| o.criterion).collect::<Vec<_>>()
            };
            assert_eq!(criteria(&fit), criteria(&alone), "{size} ranks");
        }
    }
}

/// One process, as a group.
struct Alone;

impl Group for Alone {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_gather(&self, local: &[f64]) -> sparsimony_solvers::Result<Vec<Vec<f64>>> {
        Ok(vec![local.to_vec()])
    }
}

/// A group installed on a thread of rayon's pool could reach one process's nested sums and not another's:
/// refused, and the closure not run; on another thread it is installed.
#[test]
fn a_group_on_a_pool_thread_is_refused() {
    let refused = with_threads(2, || {
        with_group(Rc::new(Alone), || -> u8 { panic!("ran on a pool thread") })
    })
    .unwrap()
    .unwrap_err();
    assert!(
        matches!(refused, Error::InvalidParameter { name: "group", .. }),
        "{refused}"
    );
    assert_eq!(with_group(Rc::new(Alone), || 7).unwrap(), 7);
}
