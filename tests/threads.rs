//! The thread knob (`solvers::with_threads`, the CLI's `--threads`): results are bit-identical on one
//! thread and on two, since every parallel split depends on the problem's size only; and a GP-PDE suite
//! shared among the ranks of a process group gives every rank the single-process results.
use ndarray::Array2;
use sparsimony::solvers::Estimator;
use sparsimony::solvers::gp_pde::{Method, Problem};
use sparsimony::solvers::sindy::{Sindy, Time, Trajectory};
use sparsimony::solvers::with_threads;

/// Lorenz-like data long enough for several groups of SINDy's blocks (40 000 samples).
fn long_trajectory() -> Array2<f64> {
    let (mut x, dt) = (vec![-8.0f64, 8.0, 27.0], 1e-3);
    Array2::from_shape_fn((40_000, 3), |(_, j)| {
        if j == 0 {
            let d = [
                10.0 * (x[1] - x[0]),
                x[0] * (28.0 - x[2]) - x[1],
                x[0] * x[1] - 8.0 / 3.0 * x[2],
            ];
            x.iter_mut().zip(d).for_each(|(v, dv)| *v += dt * dv);
        }
        x[j]
    })
}

#[test]
fn sindy_is_identical_on_one_and_two_threads() {
    let x = long_trajectory();
    let fit = |threads| {
        with_threads(threads, || {
            Sindy::default()
                .fit(&[Trajectory::new(x.view(), Time::Step(1e-3))])
                .unwrap()
        })
        .unwrap()
    };
    let (one, two) = (fit(1), fit(2));
    assert_eq!(one.coefficients(), two.coefficients());
    assert!(one.n_nonzero() > 0);
}

#[test]
fn gp_pde_is_identical_on_one_and_two_threads() {
    // 36 × 40 = 1440 unknowns: above the dense limit, so the conjugate-gradient path and the parallel mode
    // products run.
    let p = Problem::benchmark("poisson_2d-sin_sin")
        .unwrap()
        .with_grid(&[36, 40])
        .unwrap();
    let disc = p.discretize().unwrap();
    let s = sparsimony::pde::settings_for(&p, Method::Exact, Some(4), Some(2));
    let run = |threads| with_threads(threads, || s.fit(&disc).unwrap()).unwrap();
    let (one, two) = (run(1), run(2));
    assert_eq!(one.objective.total, two.objective.total);
    assert_eq!(one.values(0).unwrap(), two.values(0).unwrap());
    assert_eq!(one.report, two.report);
}

#[test]
fn zero_threads_is_an_error() {
    assert!(with_threads(0, || ()).is_err());
}

/// A manufactured suite's problems shared among 2 and 3 ranks of a `Threads` group (the transport
/// aside, what `mpirun` does with `gp_pde_suite`) give every rank the single-process results, timings
/// aside, and the ranks' `solved` callbacks see each problem once in all.
#[test]
fn a_gp_pde_suite_on_ranks_equals_one_process() {
    use sparsimony::pde::{Refine, SuiteResult, run_suite};
    use sparsimony::solvers::distributed::{Part, Threads};
    use sparsimony::solvers::gp_pde::Settings;
    use sparsimony::solvers::gp_pde::suite::Suite;
    let suite = Suite::broad(1, 40);
    let settings = (Settings::default().spectrum, Refine::OFF);
    // Each result's values, timings zeroed, as bits (NaN marks what does not apply).
    let untimed = |mut results: Vec<SuiteResult>| -> Vec<Vec<u64>> {
        results
            .iter_mut()
            .map(|r| {
                r.seconds = 0.0;
                for b in [&mut r.finite_differences, &mut r.chebyshev].into_iter().flatten() {
                    b.1 = 0.0;
                }
                let mut values = Vec::new();
                r.encode(&mut values);
                values.iter().map(|v| v.to_bits()).collect()
            })
            .collect()
    };
    let results = run_suite(&suite, (3, 5), settings, |_| {}, |_, _| {}).unwrap();
    assert_eq!(results.iter().map(|r| r.seed).collect::<Vec<_>>(), [3, 4, 5, 6, 7]);
    assert!(results.iter().all(|r| r.refused.is_some() || r.error.is_finite()));
    assert!(
        results.iter().any(|r| r.error < 1e-2),
        "the suite's 1D problems at 40 points are solvable"
    );
    let alone = untimed(results);
    for size in [2, 3] {
        let (runs, exchanges) = Threads::run(size, |_| {
            let mut seen = 0;
            let results = run_suite(&suite, (3, 5), settings, |_| seen += 1, |_, _| {}).unwrap();
            (untimed(results), seen)
        })
        .unwrap();
        assert_eq!(exchanges, 1);
        assert_eq!(runs.iter().map(|(_, seen)| seen).sum::<usize>(), 5, "{size} ranks");
        for (results, _) in runs {
            assert_eq!(results, alone, "{size} ranks");
        }
    }
}
