//! SINDy behaviour beyond the PySINDy fixtures: several trajectories against a brute-force least squares,
//! ensembles, simulation against the true system, export to the core, and bad input.
use ndarray::{Array1, Array2, s};
use sparsimony_core::ode::{rk4_scratch_len, rk4_step};
use sparsimony_solvers::Error;
use sparsimony_solvers::regression::{NormalEquations, Stlsq, least_squares};
use sparsimony_solvers::sindy::{
    CustomFunction, Differentiation, Ensemble, Library, Optimizer, SimulateOptions, Sindy, SindyFit, Time, Trajectory,
};
use sparsimony_solvers::{Estimator, Fitted, Score};

fn lorenz_rhs(y: &[f64], d: &mut [f64]) {
    d[0] = 10.0 * (y[1] - y[0]);
    d[1] = y[0] * (28.0 - y[2]) - y[1];
    d[2] = y[0] * y[1] - 8.0 / 3.0 * y[2];
}

/// Lorenz sampled every `dt` (RK4 with 20 substeps per sample).
fn lorenz(x0: [f64; 3], n: usize, dt: f64) -> Array2<f64> {
    let mut x = Array2::zeros((n, 3));
    let mut y = x0;
    let mut scratch = [0.0; rk4_scratch_len(3)];
    let mut f = |_t: f64, y: &[f64], d: &mut [f64]| {
        lorenz_rhs(y, d);
        Ok(())
    };
    for i in 0..n {
        x.row_mut(i).iter_mut().zip(&y).for_each(|(a, b)| *a = *b);
        for _ in 0..20 {
            rk4_step(&mut f, 0.0, dt / 20.0, &mut y, &mut scratch).unwrap();
        }
    }
    x
}

fn true_lorenz_coef(names: &[String]) -> Array2<f64> {
    let mut c = Array2::zeros((3, names.len()));
    let at = |n: &str| names.iter().position(|s| s == n).unwrap();
    c[(0, at("x0"))] = -10.0;
    c[(0, at("x1"))] = 10.0;
    c[(1, at("x0"))] = 28.0;
    c[(1, at("x1"))] = -1.0;
    c[(1, at("x0 x2"))] = -1.0;
    c[(2, at("x2"))] = -8.0 / 3.0;
    c[(2, at("x0 x1"))] = 1.0;
    c
}

#[test]
fn several_trajectories_equal_least_squares_on_the_stacked_library() {
    let dt = 0.002;
    let (a, b) = (lorenz([-8.0, 8.0, 27.0], 1500, dt), lorenz([3.0, -4.0, 15.0], 900, dt));
    // Threshold 0 and no ridge: the fit is plain least squares on the whole library.
    let model = Sindy {
        optimizer: Optimizer::Stlsq(Stlsq {
            alpha: 0.0,
            threshold: 0.0,
            ..Stlsq::default()
        }),
        ..Sindy::default()
    };
    let fit = model
        .fit(&[
            Trajectory::new(a.view(), Time::Step(dt)),
            Trajectory::new(b.view(), Time::Step(dt)),
        ])
        .unwrap();
    // Brute force: derivatives per trajectory, library materialised by hand, stacked, QR least squares.
    let mut rows: Vec<[f64; 10]> = Vec::new();
    let mut targets: Vec<[f64; 3]> = Vec::new();
    for x in [&a, &b] {
        let d = Differentiation::default()
            .differentiate(x.view(), &Time::Step(dt))
            .unwrap()
            .x_dot;
        for i in 0..x.nrows() {
            let (p, q, r) = (x[(i, 0)], x[(i, 1)], x[(i, 2)]);
            rows.push([1.0, p, q, r, p * p, p * q, p * r, q * q, q * r, r * r]);
            targets.push([d[(i, 0)], d[(i, 1)], d[(i, 2)]]);
        }
    }
    let theta = Array2::from_shape_fn((rows.len(), 10), |(i, j)| rows[i][j]);
    for s in 0..3 {
        let y = Array1::from_iter(targets.iter().map(|t| t[s]));
        let w = least_squares(theta.view(), y.view()).unwrap();
        let got = fit.coefficients().row(s);
        let err = w.iter().zip(got).fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
        assert!(
            err < 1e-7 * w.iter().fold(1.0f64, |m, v| m.max(v.abs())),
            "state {s}: {err:e}"
        );
    }
    assert_eq!(fit.n_samples(), 2400);
}

#[test]
fn weighted_normal_equations_equal_repeated_rows() {
    let x = Array2::from_shape_fn((7, 3), |(i, j)| ((i * 3 + j) as f64 * 0.37).sin());
    let y = Array2::from_shape_fn((7, 2), |(i, j)| ((i + 5 * j) as f64 * 0.21).cos());
    let w = [0.0, 2.0, 1.0, 3.0, 0.0, 1.0, 1.0];
    let mut weighted = NormalEquations::zeros(3, 2);
    let col_major = |a: &Array2<f64>| a.t().iter().copied().collect::<Vec<_>>();
    weighted
        .accumulate(7, &col_major(&x), &col_major(&y), Some(&w))
        .unwrap();
    let rep: Vec<usize> = (0..7).flat_map(|i| std::iter::repeat_n(i, w[i] as usize)).collect();
    let xr = Array2::from_shape_fn((rep.len(), 3), |(i, j)| x[(rep[i], j)]);
    let yr = Array2::from_shape_fn((rep.len(), 2), |(i, j)| y[(rep[i], j)]);
    let plain = NormalEquations::from_arrays(xr.view(), yr.view()).unwrap();
    assert_eq!(weighted.n_samples(), plain.n_samples());
    for a in 0..3 {
        for b in 0..3 {
            assert!((weighted.gram(a, b) - plain.gram(a, b)).abs() < 1e-12);
        }
        for t in 0..2 {
            assert!((weighted.cross(a, t) - plain.cross(a, t)).abs() < 1e-12);
        }
    }
    assert!((weighted.y_sq(1) - plain.y_sq(1)).abs() < 1e-12);
}

/// The public block kernels refuse blocks of the wrong size (a typed error, nothing added) instead of
/// panicking.
#[test]
fn block_kernels_refuse_wrong_sizes() {
    let mut ne = NormalEquations::zeros(3, 1);
    let shape = |r: sparsimony_solvers::Result<()>| matches!(r, Err(Error::Shape { .. }));
    assert!(shape(ne.accumulate(2, &[0.0; 5], &[0.0; 2], None)), "Θ short");
    assert!(shape(ne.accumulate(2, &[0.0; 6], &[0.0; 1], None)), "y short");
    assert!(shape(ne.accumulate(2, &[0.0; 6], &[0.0; 2], Some(&[1.0]))), "weights");
    assert!(shape(ne.add(&NormalEquations::zeros(2, 1))), "features differ");
    assert!(shape(ne.add(&NormalEquations::zeros(3, 2))), "targets differ");
    assert_eq!(ne.n_samples(), 0.0, "nothing was added");
    ne.accumulate(2, &[1.0; 6], &[1.0; 2], None).unwrap();
    assert_eq!((ne.n_samples(), ne.gram(0, 1)), (2.0, 2.0));
    let features = Library::default().expand(&["x".to_string()]).unwrap();
    let p = features.len();
    let column = [0.5, 1.5];
    assert!(shape(features.evaluate(&[], 2, &mut vec![0.0; 2 * p])), "no input");
    assert!(
        shape(features.evaluate(&[&column[..1]], 2, &mut vec![0.0; 2 * p])),
        "short input"
    );
    assert!(
        shape(features.evaluate(&[&column], 2, &mut vec![0.0; 2 * p - 1])),
        "short output"
    );
    let mut out = vec![0.0; 2 * p];
    features.evaluate(&[&column], 2, &mut out).unwrap();
    assert!(out.contains(&1.5), "the linear term holds x");
}

#[test]
fn clean_lorenz_is_recovered_and_simulates_like_the_true_system() {
    let dt = 0.001;
    let x = lorenz([-8.0, 8.0, 27.0], 5000, dt);
    let model = Sindy {
        differentiation: Differentiation::finite_difference(4),
        ..Sindy::default()
    };
    let fit = model.fit(&[Trajectory::new(x.view(), Time::Step(dt))]).unwrap();
    let truth = true_lorenz_coef(fit.feature_names());
    let err = (fit.coefficients() - &truth).iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(err < 1e-3, "coefficient error {err:e}\n{}", fit.coefficients());
    assert_eq!(fit.n_nonzero(), 7);
    // Simulating the model over 0.5 time units stays on the true trajectory.
    let times = Array1::from_iter((0..=500).map(|k| k as f64 * dt));
    let sim = fit
        .simulate(x.row(0), times.view(), None, &SimulateOptions::default())
        .unwrap();
    let dev = (&sim - &x.slice(s![..=500, ..]))
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(dev < 1e-2, "simulation deviates by {dev:e}");
    // The exported core model computes the same right-hand side as predict.
    let exported = fit.export().unwrap();
    assert_eq!(exported.term_names.len(), 5);
    let core = exported.view().unwrap();
    let pred = fit.predict(x.slice(s![..50, ..]), None).unwrap();
    let mut d = [0.0; 3];
    for i in 0..50 {
        core.rhs(x.row(i).as_slice().unwrap(), &[], &mut d).unwrap();
        for s in 0..3 {
            assert!((d[s] - pred[(i, s)]).abs() < 1e-9 * pred[(i, s)].abs().max(1.0));
        }
    }
    let src = exported.to_rust_source("lorenz", "f32").unwrap();
    assert!(src.contains("pub static COEF_VALUE: [f32; 7]") && src.contains("pub fn model()"));
    assert!(format!("{fit}").starts_with("(x0)' = "));
}

#[test]
fn ensembles_aggregate_their_members() {
    let dt = 0.002;
    let x = lorenz([-8.0, 8.0, 27.0], 3000, dt);
    let traj = [Trajectory::new(x.view(), Time::Step(dt))];
    let plain = Sindy::default().fit(&traj).unwrap();
    // One member on every sample without replacement is the plain fit.
    let all = Ensemble {
        n_subset: Some(3000),
        replace: false,
        n_models: 1,
        seed: 3,
        ..Ensemble::default()
    };
    let one = Sindy {
        optimizer: Optimizer::Ensemble(Box::new(all)),
        ..Sindy::default()
    }
    .fit(&traj)
    .unwrap();
    let diff = (one.coefficients() - plain.coefficients())
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(diff < 1e-9, "{diff:e}");
    // Bootstrap and library ensembles keep every true term in every model on clean data.
    let bagging = Ensemble {
        n_models: 15,
        seed: 7,
        ..Ensemble::default()
    };
    for e in [
        bagging.clone(),
        Ensemble {
            bagging: false,
            drop_terms: 1,
            ..bagging
        },
    ] {
        let fit = Sindy {
            optimizer: Optimizer::Ensemble(Box::new(e.clone())),
            ..Sindy::default()
        }
        .fit(&traj)
        .unwrap();
        let ens = fit.ensemble().unwrap();
        assert_eq!(ens.models.len(), 15);
        let truth = true_lorenz_coef(fit.feature_names());
        for ((i, j), t) in truth.indexed_iter() {
            if *t != 0.0 && e.bagging {
                assert_eq!(ens.inclusion[(i, j)], 1.0, "term {j} of state {i}");
            }
        }
        // The aggregate is the coefficient-wise median of the members.
        let mut v: Vec<f64> = ens.models.iter().map(|m| m[(1, 1)]).collect();
        v.sort_by(f64::total_cmp);
        assert_eq!(fit.coefficients()[(1, 1)], v[7]);
        // Same seed, same ensemble.
        let again = Sindy {
            optimizer: Optimizer::Ensemble(Box::new(e)),
            ..Sindy::default()
        }
        .fit(&traj)
        .unwrap();
        assert_eq!(again.coefficients(), fit.coefficients());
    }
}

#[test]
fn custom_and_tensor_libraries() {
    // ẋ = −x + 3u + 0.5 sin(x)·u, with custom and tensored terms in the library that the fit must reject.
    let dt = 0.001;
    let n = 4000;
    let u = Array2::from_shape_fn((n, 1), |(i, _)| (3.0 * i as f64 * dt).cos());
    let mut x = Array2::zeros((n, 1));
    let mut v = 2.0;
    for i in 0..n {
        x[(i, 0)] = v;
        for k in 0..20 {
            let t = (i as f64 + k as f64 / 20.0) * dt;
            let f = |v: f64| -v + 3.0 * (3.0 * t).cos() + 0.5 * v.sin() * (3.0 * t).cos();
            v += dt / 20.0 * f(v + dt / 40.0 * f(v)); // midpoint
        }
    }
    let library = Library::polynomial(1).concat(Library::Custom {
        functions: vec![CustomFunction::new(1, |a| a[0].exp(), |n| format!("exp({})", n[0]))],
        interaction_only: true,
    });
    let library = library.concat(
        Library::Fourier {
            n_frequencies: 1,
            include_sin: true,
            include_cos: false,
        }
        .tensor(Library::polynomial(1)),
    );
    let model = Sindy {
        library,
        optimizer: Optimizer::Stlsq(Stlsq {
            threshold: 0.05,
            ..Stlsq::default()
        }),
        differentiation: Differentiation::finite_difference(4),
        ..Sindy::default()
    };
    let fit = model
        .fit(&[Trajectory::new(x.view(), Time::Step(dt)).with_control(u.view())])
        .unwrap();
    let names = fit.feature_names();
    assert!(names.contains(&"exp(x0)".to_string()) && names.contains(&"sin(1 x0) u0".to_string()));
    assert!(names.contains(&"sin(1 x0) 1".to_string()), "{names:?}");
    let at = |n: &str| names.iter().position(|s| s == n).unwrap();
    let c = fit.coefficients();
    assert!((c[(0, at("x0"))] + 1.0).abs() < 1e-3, "{fit}");
    assert!((c[(0, at("u0"))] - 3.0).abs() < 1e-3, "{fit}");
    assert!((c[(0, at("sin(1 x0) u0"))] - 0.5).abs() < 1e-3, "{fit}");
    // The smooth candidates (1, x, eˣ, sin x, x sin x) are nearly collinear over the data's range, so STLSQ's
    // ridge rounds may keep some; after the refit they must be negligible.
    let others = names
        .iter()
        .enumerate()
        .filter(|(_, n)| !["x0", "u0", "sin(1 x0) u0"].contains(&n.as_str()))
        .fold(0.0f64, |m, (j, _)| m.max(c[(0, j)].abs()));
    assert!(others < 1e-3, "{others:e}: {fit}");
    // A model that keeps the custom term cannot be exported to the core, and says which term is to blame.
    match fit.export() {
        Err(e) => assert!(e.to_string().contains("exp("), "{e}"),
        Ok(_) => assert_eq!(c[(0, at("exp(x0)"))] + c[(0, at("exp(u0)"))], 0.0),
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let dt = 0.01;
    let x = lorenz([-8.0, 8.0, 27.0], 200, dt);
    let model = Sindy::default();
    // Too few samples for the stencil.
    let short = x.slice(s![..2, ..]);
    assert!(matches!(
        model.fit(&[Trajectory::new(short, Time::Step(dt))]),
        Err(Error::InvalidParameter { name: "x", .. })
    ));
    // Times that do not increase.
    let mut t = Array1::from_iter((0..200).map(|i| i as f64 * dt));
    t[50] = t[48];
    let e = model
        .fit(&[Trajectory::new(x.view(), Time::Points(t.view()))])
        .unwrap_err();
    assert!(matches!(e, Error::InvalidParameter { name: "t", .. }), "{e}");
    // NaN in the data, with its position.
    let mut bad = x.clone();
    bad[(17, 2)] = f64::NAN;
    assert_eq!(
        model.fit(&[Trajectory::new(bad.view(), Time::Step(dt))]).unwrap_err(),
        Error::NonFinite {
            what: "x",
            row: 17,
            col: 2
        }
    );
    // A library wider than the data.
    let wide = Sindy {
        library: Library::polynomial(5),
        ..Sindy::default()
    };
    let e = wide
        .fit(&[Trajectory::new(x.slice(s![..40, ..]), Time::Step(dt))])
        .unwrap_err();
    assert!(e.to_string().contains("underdetermined"), "{e}");
    // A threshold that removes every term: a documented all-zero model.
    let all_gone = Sindy {
        optimizer: Optimizer::Stlsq(Stlsq {
            threshold: 1e6,
            ..Stlsq::default()
        }),
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(x.view(), Time::Step(dt))])
    .unwrap();
    assert_eq!(all_gone.n_nonzero(), 0);
    assert_eq!(all_gone.equations(3), vec![" 0.000"; 3]);
    // Wrong state names, missing controls, mixed trajectories.
    let named = Sindy {
        state_names: Some(vec!["a".into()]),
        ..Sindy::default()
    };
    assert!(matches!(
        named.fit(&[Trajectory::new(x.view(), Time::Step(dt))]),
        Err(Error::Shape { .. })
    ));
    let u = Array2::zeros((200, 1));
    let fit_u = model
        .fit(&[Trajectory::new(x.view(), Time::Step(dt)).with_control(u.view())])
        .unwrap();
    assert!(fit_u.predict(x.view(), None).is_err());
    // Scoring a model with controls on a trajectory without them is refused, not scored on stale inputs.
    assert!(matches!(
        fit_u.score((
            &[Trajectory::new(x.view(), Time::Step(dt))],
            &Differentiation::default()
        )),
        Err(Error::InvalidParameter { name: "u", .. })
    ));
    assert!(
        model
            .fit(&[
                Trajectory::new(x.view(), Time::Step(dt)).with_control(u.view()),
                Trajectory::new(x.view(), Time::Step(dt))
            ])
            .is_err()
    );
    // Non-uniform times with the spectral method.
    let spectral = Sindy {
        differentiation: Differentiation::Spectral { derivative: 1 },
        ..Sindy::default()
    };
    let t = Array1::from_iter((0..200).map(|i| i as f64 * dt));
    assert!(
        spectral
            .fit(&[Trajectory::new(x.view(), Time::Points(t.view()))])
            .is_err()
    );
    // A model that blows up in simulation reports how far it got.
    let blow = Sindy {
        library: Library::polynomial(2),
        optimizer: Optimizer::Stlsq(Stlsq {
            threshold: 0.0,
            ..Stlsq::default()
        }),
        ..Sindy::default()
    };
    let xs = Array2::from_shape_fn((100, 1), |(i, _)| 1.0 / (1.0 - i as f64 * 0.005));
    let fit = blow.fit(&[Trajectory::new(xs.view(), Time::Step(0.005))]).unwrap();
    let times = Array1::from_iter((0..=30).map(|k| k as f64 * 0.1));
    match fit.simulate(xs.row(0), times.view(), None, &SimulateOptions::default()) {
        Err(Error::Core(sparsimony_core::Error::NotConverged { reached, .. })) => {
            assert!(reached > 0.5 && reached < 1.5, "reached {reached}")
        }
        other => panic!("expected a blow-up, got {other:?}"),
    }
}

#[test]
fn discrete_time_models_iterate() {
    let mut x = Array2::zeros((200, 1));
    x[(0, 0)] = 0.2;
    for k in 0..199 {
        x[(k + 1, 0)] = 3.7 * x[(k, 0)] * (1.0 - x[(k, 0)]);
    }
    let fit = Sindy {
        discrete_time: true,
        optimizer: Optimizer::Stlsq(Stlsq {
            threshold: 0.01,
            ..Stlsq::default()
        }),
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(x.view(), Time::Step(1.0))])
    .unwrap();
    assert_eq!(fit.lhs(), vec!["(x0)[k+1]"]);
    assert_eq!(fit.equations(3), vec![" 3.700 x0[k] + -3.700 x0[k]^2"]);
    let sim = fit.simulate_discrete(x.row(0), 10, None).unwrap();
    for k in 0..=10 {
        assert!((sim[(k, 0)] - x[(k, 0)]).abs() < 1e-9);
    }
    // Outside [0, 1] the logistic map diverges (x ← −3.7 x² roughly squares): the iteration stops at the
    // last state the model can be evaluated at instead of blaming the data, whose magnitude was fine.
    let start = ndarray::arr1(&[2.0]);
    let diverged = fit.simulate_discrete(start.view(), 50, None).unwrap();
    let rows = diverged.nrows();
    assert!((2..50).contains(&rows), "{rows} rows");
    let mut expected = 2.0f64;
    for k in 0..rows {
        assert!(
            (diverged[(k, 0)] - expected).abs() <= 1e-6 * expected.abs().max(1.0),
            "step {k}"
        );
        expected = 3.7 * expected * (1.0 - expected);
    }
    // An output larger than memory is refused before anything is allocated.
    match fit.simulate_discrete(x.row(0), 1 << 40, None) {
        Err(Error::InvalidParameter { name: "steps", reason }) => assert!(reason.contains("GiB"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        fit.simulate(
            x.row(0),
            Array1::from(vec![0.0, 1.0]).view(),
            None,
            &SimulateOptions::default()
        )
        .is_err()
    );
}

#[test]
fn weak_form_is_exact_without_noise_and_robust_with_it() {
    use sparsimony_solvers::sindy::WeakForm;
    let dt = 0.002;
    let clean = lorenz([-8.0, 8.0, 27.0], 5000, dt);
    let weak = Sindy {
        weak_form: Some(WeakForm::default()),
        ..Sindy::default()
    };
    let fit = weak.fit(&[Trajectory::new(clean.view(), Time::Step(dt))]).unwrap();
    let truth = true_lorenz_coef(fit.feature_names());
    let err = |c: &Array2<f64>| (c - &truth).mapv(|v| v * v).sum().sqrt() / truth.mapv(|v| v * v).sum().sqrt();
    // Integration by parts is exact; only the trapezoid rule errs (O(dt²) on smooth integrands).
    assert!(
        err(fit.coefficients()) < 1e-4,
        "clean weak error {:e}",
        err(fit.coefficients())
    );
    assert_eq!(fit.n_samples(), 400);

    // 10 % noise: finite differences amplify it, the weak form averages it.
    let mut rng = <rand_chacha::ChaCha8Rng as rand_core::SeedableRng>::seed_from_u64(5);
    let noisy = clean.mapv(|v| v + 0.1 * 8.0 * sparsimony_core::random::standard_normal(&mut rng));
    let traj = [Trajectory::new(noisy.view(), Time::Step(dt))];
    let weak_err = err(weak.fit(&traj).unwrap().coefficients());
    let fd_err = err(Sindy::default().fit(&traj).unwrap().coefficients());
    eprintln!("10 % noise: weak {weak_err:.2e}, FD {fd_err:.2e}");
    assert!(
        weak_err < 0.05 && weak_err < fd_err / 3.0,
        "weak {weak_err:e} vs FD {fd_err:e}"
    );
    // Too short for one support, and discrete time, are errors.
    assert!(
        weak.fit(&[Trajectory::new(clean.slice(s![..5, ..]), Time::Step(dt))])
            .is_err()
    );
    let discrete = Sindy {
        discrete_time: true,
        ..weak.clone()
    };
    assert!(discrete.fit(&[Trajectory::new(clean.view(), Time::Step(dt))]).is_err());
}

#[test]
fn elastic_net_on_normal_equations_equals_the_materialised_fit() {
    use sparsimony_solvers::regression::ElasticNet;
    let dt = 0.002;
    let x = lorenz([-8.0, 8.0, 27.0], 2000, dt);
    let enet = ElasticNet {
        fit_intercept: false,
        tol: 1e-12,
        max_iter: 100_000,
        alpha: 0.05,
        ..ElasticNet::default()
    };
    let fit = Sindy {
        optimizer: Optimizer::ElasticNet(enet.clone()),
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(x.view(), Time::Step(dt))])
    .unwrap();
    // The reference: the library and derivatives materialised, and the elastic net on the dense matrix.
    let d = Differentiation::default()
        .differentiate(x.view(), &Time::Step(dt))
        .unwrap()
        .x_dot;
    let theta = Array2::from_shape_fn((x.nrows(), 10), |(i, j)| {
        let (p, q, r) = (x[(i, 0)], x[(i, 1)], x[(i, 2)]);
        [1.0, p, q, r, p * p, p * q, p * r, q * q, q * r, r * r][j]
    });
    for s in 0..3 {
        let reference = enet.fit((theta.view(), d.column(s))).unwrap();
        let got = fit.coefficients().row(s);
        let err = reference
            .coef
            .iter()
            .zip(got)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            err < 1e-6 * reference.coef.iter().fold(1.0f64, |m, v| m.max(v.abs())),
            "state {s}: {err:e}"
        );
    }
    // An intercept has no place in normal equations.
    let with_intercept = Sindy {
        optimizer: Optimizer::ElasticNet(ElasticNet {
            alpha: 0.05,
            ..ElasticNet::default()
        }),
        ..Sindy::default()
    };
    assert!(
        with_intercept
            .fit(&[Trajectory::new(x.view(), Time::Step(dt))])
            .is_err()
    );
}

/// The combinatorial term count matches the expansion (so that a library too large to build is refused
/// by its count, before anything is allocated).
#[test]
fn library_term_counts_match_their_expansion() {
    let names: Vec<String> = (0..4).map(|i| format!("x{i}")).collect();
    let poly = |degree, include_bias, interaction_only| Library::Polynomial {
        degree,
        include_bias,
        interaction_only,
    };
    let libraries = [
        poly(3, true, false),
        poly(3, false, false),
        poly(3, true, true),
        poly(6, false, true),
        Library::fourier(2),
        poly(2, true, false).concat(Library::fourier(1)),
        poly(2, false, false).tensor(Library::fourier(1)),
    ];
    for lib in &libraries {
        let count = lib.n_terms(names.len());
        assert_eq!(count, lib.expand(&names).unwrap().len() as f64, "{lib:?}");
    }
    // Degree 10 in 30 states: C(40, 10) terms, refused by count.
    let thirty: Vec<String> = (0..30).map(|i| format!("s{i}")).collect();
    assert_eq!(Library::polynomial(10).n_terms(30), 847_660_528.0);
    assert!(matches!(
        Library::polynomial(10).expand(&thirty),
        Err(Error::InvalidParameter { name: "library", .. })
    ));
}

#[test]
fn a_fit_rebuilt_from_its_parts_predicts_the_same_and_bad_parts_are_refused() {
    let dt = 0.001;
    let x = lorenz([-8.0, 8.0, 27.0], 2000, dt);
    let u = Array2::from_shape_fn((2000, 1), |(i, _)| (i as f64 * dt).sin());
    let library = Library::polynomial(2);
    let model = Sindy {
        library: library.clone(),
        ..Sindy::default()
    };
    let fit = model
        .fit(&[Trajectory::new(x.view(), Time::Step(dt)).with_control(u.view())])
        .unwrap();
    let rebuilt = SindyFit::from_parts(
        &library,
        fit.state_names().to_vec(),
        fit.control_names().to_vec(),
        fit.coefficients().clone(),
        false,
        *fit.report(),
        fit.n_samples(),
    )
    .unwrap();
    assert_eq!(rebuilt.feature_names(), fit.feature_names());
    assert_eq!(rebuilt.equations(4), fit.equations(4));
    let (xs, us) = (x.slice(s![..40, ..]), u.slice(s![..40, ..]));
    assert_eq!(
        rebuilt.predict(xs, Some(us)).unwrap(),
        fit.predict(xs, Some(us)).unwrap()
    );
    // Coefficients that do not fit the library, or are not finite: typed errors.
    let narrow = fit.coefficients().slice(s![.., 1..]).to_owned();
    let mut nan = fit.coefficients().clone();
    nan[(0, 0)] = f64::NAN;
    for coef in [narrow, nan] {
        let e = SindyFit::from_parts(
            &library,
            fit.state_names().to_vec(),
            fit.control_names().to_vec(),
            coef,
            false,
            *fit.report(),
            fit.n_samples(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::Shape { .. } | Error::NonFinite { .. }), "{e}");
    }
}

/// A stop hook that fires during the normal equations' build (on rayon's workers, which carry it) ends
/// the fit in `Error::Stopped`: there is no iterate of a half-built system to return. Ensemble members,
/// built and fitted on worker threads, stop the same way.
#[test]
fn a_stop_request_during_the_build_is_a_stopped_error() {
    use sparsimony_solvers::regression::interrupt::{POLL_INTERVAL, with_stop_hook};
    let x = lorenz([-8.0, 7.0, 27.0], 2000, 0.002);
    let traj = [Trajectory::new(x.view(), Time::Step(0.002))];
    let ensemble = Sindy {
        optimizer: Optimizer::Ensemble(Box::new(Ensemble {
            bagging: true,
            ..Ensemble::default()
        })),
        ..Sindy::default()
    };
    for model in [Sindy::default(), ensemble] {
        let stopped = with_stop_hook(std::sync::Arc::new(|| true), || {
            std::thread::sleep(POLL_INTERVAL + POLL_INTERVAL / 2); // the hook is polled from the first block on
            model.fit(&traj)
        });
        assert!(matches!(stopped, Err(Error::Stopped)), "{stopped:?}");
        assert!(model.fit(&traj).is_ok(), "without the hook the same fit runs");
    }
}

/// Normal equations of `x` reduced block by block — rows `bounds[k]..bounds[k+1]`, each block widened by
/// `halo` rows — and summed, as a dask worker or an MPI rank would.
fn blockwise(
    model: &Sindy,
    x: &Array2<f64>,
    t: &Array1<f64>,
    u: &Array2<f64>,
    bounds: &[usize],
    halo: usize,
) -> NormalEquations {
    let n = x.nrows();
    let mut total: Option<NormalEquations> = None;
    for w in bounds.windows(2) {
        let (a, b) = (w[0].saturating_sub(halo), (w[1] + halo).min(n));
        let block =
            Trajectory::new(x.slice(s![a..b, ..]), Time::Points(t.slice(s![a..b]))).with_control(u.slice(s![a..b, ..]));
        let ne = model.block_normal_equations(&block, w[0] - a..w[1] - a).unwrap();
        match &mut total {
            Some(sum) => sum.add(&ne).unwrap(),
            None => total = Some(ne),
        }
    }
    total.unwrap()
}

#[test]
fn blocks_widened_by_their_halo_give_the_whole_trajectorys_fit() {
    let n = 3000;
    let x = lorenz([-8.0, 8.0, 27.0], n, 0.002);
    // Non-uniform times (per-row Fornberg weights), and a control input.
    let t = Array1::from_shape_fn(n, |i| 0.002 * i as f64 + 0.0003 * (0.01 * i as f64).sin());
    let u = Array2::from_shape_fn((n, 1), |(i, _)| (0.004 * i as f64).cos());
    let differentiations = [
        Differentiation::finite_difference(2),
        Differentiation::FiniteDifference {
            order: 4,
            derivative: 1,
            drop_endpoints: true,
        },
        Differentiation::SmoothedFiniteDifference {
            window: 11,
            polyorder: 3,
            order: 2,
        },
    ];
    for differentiation in differentiations {
        let model = Sindy {
            differentiation: differentiation.clone(),
            ..Sindy::default()
        };
        let halo = model.block_halo(false).unwrap();
        let whole = model
            .fit(&[Trajectory::new(x.view(), Time::Points(t.view())).with_control(u.view())])
            .unwrap();
        // Blocks of unequal lengths, the shortest just over twice the halo.
        let bounds = [0, 700, 700 + 2 * halo + 1, 1900, n];
        let ne = blockwise(&model, &x, &t, &u, &bounds, halo);
        assert_eq!(ne.n_samples() as usize, whole.n_samples(), "{differentiation:?}");
        let fit = model.fit_normal_equations(&ne, 3, 1).unwrap();
        let (a, b) = (fit.coefficients(), whole.coefficients());
        let scale = b.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let err = a.iter().zip(b).fold(0.0_f64, |m, (p, q)| m.max((p - q).abs())) / scale;
        assert!(
            err < 1e-10,
            "{differentiation:?}: relative coefficient difference {err:e}"
        );
        assert_eq!(fit.feature_names(), whole.feature_names());
        // The halo is no wider than needed: one row less changes the derivatives at the blocks' edges.
        let short = blockwise(&model, &x, &t, &u, &bounds, halo - 1);
        let moved = (0..3).any(|k| (short.cross(0, k) - ne.cross(0, k)).abs() > 1e-9 * ne.cross(0, k).abs())
            || short.n_samples() != ne.n_samples();
        assert!(
            moved,
            "{differentiation:?}: a halo of {} rows gave the same sums",
            halo - 1
        );
    }
}

#[test]
fn block_fits_refuse_what_they_cannot_do() {
    let x = lorenz([-8.0, 8.0, 27.0], 400, 0.002);
    let model = Sindy::default();
    let block = Trajectory::new(x.view(), Time::Step(0.002));
    let spectral = Sindy {
        differentiation: Differentiation::Spectral { derivative: 1 },
        ..Sindy::default()
    };
    assert_eq!(spectral.block_halo(false), None);
    assert_eq!(model.block_halo(true), Some(0));
    assert_eq!(
        Sindy {
            discrete_time: true,
            ..Sindy::default()
        }
        .block_halo(false),
        Some(1)
    );
    let err = model.block_normal_equations(&block, 10..401).unwrap_err();
    assert!(err.to_string().contains("not within the block's 400 rows"), "{err}");
    let ne = model.block_normal_equations(&block, 0..400).unwrap();
    let err = model.fit_normal_equations(&ne, 2, 0).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    let bagged = Sindy {
        optimizer: Optimizer::Ensemble(Box::new(Ensemble {
            bagging: true,
            ..Ensemble::default()
        })),
        ..Sindy::default()
    };
    let err = bagged.fit_normal_equations(&ne, 3, 0).unwrap_err();
    assert!(err.to_string().contains("bagging"), "{err}");
}
