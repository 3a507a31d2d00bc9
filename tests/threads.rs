//! The thread knob (`solvers::with_threads`, the CLI's `--threads`): results are bit-identical on one
//! thread and on two, since every parallel split depends on the problem's size only.
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
