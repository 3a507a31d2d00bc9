//! Elastic net behaviour against optimality conditions, and bad input as typed errors.
use ndarray::{Array1, Array2};
use sparsimony_solvers::Estimator;
use sparsimony_solvers::regression::path::{alpha_grid, alpha_max, path};
use sparsimony_solvers::regression::{ElasticNet, Solver};
use sparsimony_solvers::{Error, Measure, ensure_converged};

/// A correlated design (deterministic) and a sparse-signal response.
fn problem(n: usize, d: usize) -> (Array2<f64>, Array1<f64>) {
    let mut s = 12345u64;
    let mut u = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let z = Array2::from_shape_fn((n, d), |_| u());
    let x = Array2::from_shape_fn((n, d), |(i, j)| {
        z[[i, j]] + if j > 0 { 0.5 * z[[i, j - 1]] } else { 0.0 }
    });
    let y = Array1::from_shape_fn(n, |i| {
        2.0 * x[[i, 1]] - 1.5 * x[[i, 4]] + x[[i, d - 1]] + 0.1 * u() + 0.7
    });
    (x, y)
}

/// KKT conditions of the weighted, possibly non-negative elastic net at the fitted coefficients.
fn assert_kkt(model: &ElasticNet, x: &Array2<f64>, y: &Array1<f64>, coef: &Array1<f64>, intercept: f64, tol: f64) {
    let n = x.nrows() as f64;
    let r = y - &(x.dot(coef) + intercept);
    if model.fit_intercept {
        assert!(r.sum().abs() < tol * n, "the intercept makes the residual sum vanish");
    }
    let (l1, l2) = (model.alpha * model.l1_ratio, model.alpha * (1.0 - model.l1_ratio));
    for j in 0..x.ncols() {
        let p = model.penalty_weights.as_ref().map_or(1.0, |w| w[j]);
        let g = x.column(j).dot(&r) / n - l2 * p * coef[j]; // must lie in l1·p·∂|w_j| (one-sided if positive)
        if coef[j] > 0.0 {
            assert!((g - l1 * p).abs() < tol, "feature {j}: {g} vs {}", l1 * p);
        } else if coef[j] < 0.0 {
            assert!(!model.positive && (g + l1 * p).abs() < tol, "feature {j}");
        } else if model.positive {
            assert!(g <= l1 * p + tol, "feature {j}: {g}");
        } else {
            assert!(g.abs() <= l1 * p + tol, "feature {j}: |{g}| > {}", l1 * p);
        }
    }
}

#[test]
fn partial_lasso_leaves_zero_weight_features_unpenalised() {
    let (x, y) = problem(60, 12);
    let mut w = vec![1.0; 12];
    w[0] = 0.0; // unpenalised: its gradient must vanish
    w[3] = 0.0;
    w[7] = 2.5;
    for solver in [Solver::CoordinateDescent, Solver::Fista] {
        let model = ElasticNet {
            alpha: 0.05,
            penalty_weights: Some(w.clone()),
            tol: 1e-14,
            max_iter: 100_000,
            solver,
            ..ElasticNet::default()
        };
        let fit = model.fit((x.view(), y.view())).unwrap();
        assert_kkt(&model, &x, &y, &fit.coef, fit.intercept, 1e-7);
        assert!(
            fit.coef[0] != 0.0 && fit.coef[3] != 0.0,
            "{solver:?}: unpenalised features are kept"
        );
    }
}

#[test]
fn positive_elastic_net_satisfies_kkt() {
    let (x, y) = problem(50, 10);
    let model = ElasticNet {
        alpha: 0.02,
        l1_ratio: 0.6,
        positive: true,
        tol: 1e-14,
        max_iter: 100_000,
        ..ElasticNet::default()
    };
    let fit = model.fit((x.view(), y.view())).unwrap();
    assert!(fit.coef.iter().all(|c| *c >= 0.0));
    assert!(
        fit.coef.iter().any(|c| *c == 0.0),
        "the negative true coefficient is clipped to 0"
    );
    assert_kkt(&model, &x, &y, &fit.coef, fit.intercept, 1e-7);
}

#[test]
fn alpha_max_zeroes_everything_and_paths_match_single_fits() {
    let (x, y) = problem(40, 8);
    let model = ElasticNet {
        tol: 1e-13,
        alpha: 1.0,
        l1_ratio: 0.8,
        ..ElasticNet::default()
    };
    let amax = alpha_max(&model, x.view(), y.view()).unwrap();
    let at = ElasticNet {
        alpha: amax,
        ..model.clone()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert!(at.coef.iter().all(|c| *c == 0.0));
    assert!((at.intercept - y.mean().unwrap()).abs() < 1e-12);
    let below = ElasticNet {
        alpha: 0.99 * amax,
        ..model.clone()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert_eq!(below.coef.iter().filter(|c| **c != 0.0).count(), 1);

    let alphas = alpha_grid(amax, 8, 1e-2).unwrap();
    assert!((alphas[7] / alphas[0] - 1e-2).abs() < 1e-14);
    let p = path(&model, x.view(), y.view(), &alphas).unwrap();
    for (k, &a) in alphas.iter().enumerate() {
        let single = ElasticNet {
            alpha: a,
            ..model.clone()
        }
        .fit((x.view(), y.view()))
        .unwrap();
        let diff = (&p.coefs.row(k) - &single.coef)
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            diff < 1e-6,
            "α = {a}: warm-started path differs from a cold fit by {diff}"
        );
    }
}

#[test]
fn zero_and_constant_columns_get_zero_coefficients() {
    let (mut x, y) = problem(30, 6);
    x.column_mut(2).fill(0.0);
    x.column_mut(4).fill(3.0);
    let fit = ElasticNet {
        alpha: 0.01,
        ..ElasticNet::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert_eq!((fit.coef[2], fit.coef[4]), (0.0, 0.0));
    let fit = ElasticNet {
        solver: Solver::Fista,
        alpha: 0.01,
        ..ElasticNet::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert_eq!((fit.coef[2], fit.coef[4]), (0.0, 0.0));
}

#[test]
fn bad_input_is_a_typed_error() {
    let (x, y) = problem(20, 5);
    let m = ElasticNet {
        alpha: 0.1,
        ..ElasticNet::default()
    };
    let mut xn = x.clone();
    xn[[7, 2]] = f64::NAN;
    assert_eq!(
        m.fit((xn.view(), y.view())).unwrap_err(),
        Error::NonFinite {
            what: "X",
            row: 7,
            col: 2
        }
    );
    let mut yn = y.clone();
    yn[5] = f64::INFINITY;
    assert!(matches!(
        m.fit((x.view(), yn.view())),
        Err(Error::NonFinite { row: 5, .. })
    ));
    assert!(matches!(
        m.fit((x.view(), y.slice(ndarray::s![..19]))),
        Err(Error::Shape {
            expected: 20,
            found: 19,
            ..
        })
    ));
    let empty = Array2::<f64>::zeros((0, 5));
    assert!(matches!(
        m.fit((empty.view(), Array1::zeros(0).view())),
        Err(Error::Empty { rows: 0, .. })
    ));
    let bad = |model: ElasticNet| matches!(model.fit((x.view(), y.view())), Err(Error::InvalidParameter { .. }));
    assert!(bad(ElasticNet {
        alpha: -1.0,
        ..ElasticNet::default()
    }));
    assert!(bad(ElasticNet {
        alpha: f64::NAN,
        ..ElasticNet::default()
    }));
    assert!(bad(ElasticNet {
        alpha: 1.0,
        l1_ratio: 1.5,
        ..ElasticNet::default()
    }));
    assert!(bad(ElasticNet { tol: 0.0, ..m.clone() }));
    assert!(bad(ElasticNet {
        penalty_weights: Some(vec![1.0, -1.0, 1.0, 1.0, 1.0]),
        ..m.clone()
    }));
    assert!(matches!(
        ElasticNet {
            penalty_weights: Some(vec![1.0; 4]),
            ..m.clone()
        }
        .fit((x.view(), y.view())),
        Err(Error::Shape { .. })
    ));
    // Stopping at the cap is not an error: the last iterate comes back, its report names the gap reached,
    // and `ensure_converged` turns it into the error for callers who want one. (A tolerance below
    // round-off: coordinate descent's exact finisher, which also runs at the cap, solves this small
    // problem to round-off, and a tolerance it can meet would end converged; see the next test.)
    let y_mean = y.mean().unwrap();
    let null_objective = y.iter().map(|v| (v - y_mean).powi(2)).sum::<f64>() / (2.0 * y.len() as f64);
    for solver in [Solver::CoordinateDescent, Solver::Fista] {
        let tight = ElasticNet {
            alpha: 1e-4,
            max_iter: 1,
            tol: 1e-300,
            solver,
            ..m.clone()
        };
        let fit = tight.fit((x.view(), y.view())).unwrap();
        let r = fit.report;
        assert!(
            !r.converged && r.measure == Measure::DualityGap && r.reached > r.tolerance,
            "{r}"
        );
        assert_eq!(r.iterations, 1, "{solver:?}");
        assert!(
            fit.objective < null_objective && fit.n_nonzero() > 0,
            "{solver:?}: the last iterate made progress"
        );
        assert_eq!(ensure_converged(&r), Err(Error::NotConverged(r)));
    }
}

/// Fewer distinct rows than features (15 for 30) and a small α: coordinate descent alone crawls here
/// (without its finisher it ends the default 1000 epochs with spurious non-zeros and fitted values 1e-3
/// off, as scikit-learn's does). At the defaults every fit must now reach the optimum to round-off,
/// certified by the KKT conditions themselves, with at most rank-many non-zeros, and the weighted sparse
/// fit must predict what the repeated-row dense fit predicts (scikit-learn's sample-weight checks).
#[test]
fn wide_ill_conditioned_fits_reach_the_optimum_at_the_defaults() {
    let (x, y) = problem(15, 30);
    let counts: Vec<usize> = (0..15).map(|i| 2 + (i * 3) % 5).collect(); // 2 to 6 copies of each row
    let rows: Vec<usize> = (0..15).flat_map(|i| std::iter::repeat_n(i, counts[i])).collect();
    let xr = x.select(ndarray::Axis(0), &rows);
    let yr = y.select(ndarray::Axis(0), &rows);
    let w = Array1::from_iter(counts.iter().map(|&c| c as f64));
    let yc = &yr - yr.mean().unwrap();
    let xc = &xr - &xr.mean_axis(ndarray::Axis(0)).unwrap();
    let alpha_max = xc.t().dot(&yc).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b)) / xr.nrows() as f64;
    for ratio in [1e-2, 1e-3, 1e-4] {
        let model = ElasticNet {
            alpha: ratio * alpha_max,
            max_iter: 1000,
            tol: 1e-4,
            ..ElasticNet::default()
        };
        let dense = model.fit((xr.view(), yr.view())).unwrap();
        let weighted = model.fit((csc(&x).view(), y.view(), w.view())).unwrap();
        for fit in [&dense, &weighted] {
            assert!(fit.report.converged, "α/αmax {ratio}: {}", fit.report);
            assert!(
                fit.n_nonzero() <= 14,
                "α/αmax {ratio}: {} non-zeros, rank 14",
                fit.n_nonzero()
            );
            assert_kkt(&model, &xr, &yr, &fit.coef, fit.intercept, 1e-10);
        }
        let predicted = |f: &sparsimony_solvers::regression::LinearFit| x.dot(&f.coef) + f.intercept;
        let diff = (predicted(&dense) - predicted(&weighted))
            .mapv(f64::abs)
            .fold(0.0f64, |a, &b| a.max(b));
        assert!(diff < 1e-9, "α/αmax {ratio}: predictions differ by {diff:e}");
    }
}

/// A noiseless signal on a design with a near-duplicate pair carrying coefficients ±c/δ (δ = 1e-6): the
/// random-support estimator reproduces Xw* to 1e-4 of its energy, while the Lasso, which
/// cannot afford ‖w‖₁ ≈ 2c/δ, leaves most of that signal unexplained.
#[test]
fn random_support_fits_signal_along_near_null_directions() {
    use sparsimony_solvers::regression::RandomSupport;
    let (n, d) = (80, 16);
    let (base, _) = problem(n, d);
    let (noise, _) = problem(n + 7, d);
    let mut x = base.clone();
    for i in 0..n {
        x[[i, 5]] = x[[i, 4]] + 1e-6 * noise[[i + 7, 3]] * 10.0;
    }
    let mut w = Array1::zeros(d);
    w[4] = 0.3 / 1e-5;
    w[5] = -0.3 / 1e-5;
    w[9] = 1.0;
    w[13] = -0.7;
    let y = x.dot(&w);
    let signal = y.dot(&y) / n as f64;
    let err = |c: &Array1<f64>, b: f64| {
        let r = x.dot(&(&w - c)) - b;
        r.dot(&r) / n as f64
    };
    let rs = RandomSupport {
        fit_intercept: false,
        ..RandomSupport::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert!(
        err(&rs.fit.coef, rs.fit.intercept) < 1e-4 * signal,
        "random support: {} of {signal}",
        err(&rs.fit.coef, rs.fit.intercept)
    );
    assert!(
        rs.condition_number > 1e5,
        "the design is ill-conditioned ({:e})",
        rs.condition_number
    );
    let lasso = sparsimony_solvers::regression::path::CrossValidation {
        model: ElasticNet {
            fit_intercept: false,
            tol: 1e-6,
            max_iter: 100_000,
            ..ElasticNet::default()
        },
        ..Default::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert!(
        err(&lasso.fit.coef, 0.0) > 1e-3 * signal,
        "the Lasso leaves the near-null signal: {}",
        err(&lasso.fit.coef, 0.0)
    );
}

#[test]
fn a_bad_value_in_a_sparse_design_is_located() {
    let (x, y) = problem(30, 6);
    for (bad, magnitude) in [(f64::NAN, false), (f64::NEG_INFINITY, false), (1e101, true)] {
        let mut xb = x.clone();
        xb[[17, 4]] = bad;
        let mut tri = sprs::TriMat::new((30, 6));
        for ((i, j), &v) in xb.indexed_iter() {
            tri.add_triplet(i, j, v);
        }
        for design in [tri.to_csc(), tri.to_csr()] {
            match (ElasticNet::default().fit((design.view(), y.view())), magnitude) {
                (Err(Error::NonFinite { row: 17, col: 4, .. }), false) => {}
                (Err(Error::Magnitude { row: 17, col: 4, .. }), true) => {}
                (other, _) => panic!("{bad}: {other:?}"),
            }
        }
    }
}

/// `x` as a CSC matrix (every value stored; zeros too, which the solver must treat as values).
fn csc(x: &Array2<f64>) -> sprs::CsMat<f64> {
    let mut tri = sprs::TriMat::new(x.dim());
    for ((i, j), &v) in x.indexed_iter() {
        if v != 0.0 {
            tri.add_triplet(i, j, v);
        }
    }
    tri.to_csc()
}

#[test]
fn weighted_sparse_fits_equal_repeated_rows_and_centre_on_the_weighted_means() {
    let (mut x, y) = problem(60, 12);
    x.mapv_inplace(|v| if v.abs() < 0.3 { 0.0 } else { v }); // sparse, and far from centred
    let counts: Vec<usize> = (0..60).map(|i| (i * 7) % 4).collect(); // 0 to 3, zeros included
    let rows: Vec<usize> = (0..60).flat_map(|i| std::iter::repeat_n(i, counts[i])).collect();
    let xr = x.select(ndarray::Axis(0), &rows);
    let yr = y.select(ndarray::Axis(0), &rows);
    let w = Array1::from_iter(counts.iter().map(|&c| c as f64));
    for (alpha, l1_ratio) in [(0.01, 1.0), (0.05, 0.5)] {
        // The default tolerance: the fits must agree beyond it (see the polish in `cd`).
        let model = ElasticNet {
            alpha,
            l1_ratio,
            max_iter: 1000,
            tol: 1e-4,
            ..ElasticNet::default()
        };
        let weighted = model.fit((csc(&x).view(), y.view(), w.view())).unwrap();
        let repeated = model.fit((csc(&xr).view(), yr.view())).unwrap();
        let dense = model.fit((xr.view(), yr.view())).unwrap();
        assert!(weighted.report.converged && repeated.report.converged);
        for other in [&repeated, &dense] {
            let diff = (&weighted.coef - &other.coef)
                .mapv(f64::abs)
                .fold(0.0f64, |a, &b| a.max(b));
            assert!(
                diff < 1e-9,
                "alpha {alpha}, l1_ratio {l1_ratio}: coefficients differ by {diff:e}"
            );
            assert!((weighted.intercept - other.intercept).abs() < 1e-9);
        }
        assert_kkt(&model, &xr, &yr, &repeated.coef, repeated.intercept, 1e-8);
    }
    // Weights are checked: one per row, finite, non-negative, not all zero (typed errors, no panic).
    let model = ElasticNet::default();
    let sx = csc(&x);
    for bad in [
        Array1::zeros(60),
        Array1::from_elem(59, 1.0),
        Array1::from_elem(60, -1.0),
        Array1::from_elem(60, f64::NAN),
    ] {
        let e = model.fit((sx.view(), y.view(), bad.view())).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidParameter {
                    name: "sample_weight",
                    ..
                } | Error::Shape { .. }
            ),
            "{e}"
        );
    }
    // Subnormal weights are weights like any other: rescaled without overflow.
    let tiny = Array1::from_elem(60, 5e-324);
    let fit = model.fit((sx.view(), y.view(), tiny.view())).unwrap();
    let plain = model.fit((sx.view(), y.view())).unwrap();
    let diff = (&fit.coef - &plain.coef).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
    assert!(diff < 1e-9, "{diff:e}");
}

#[test]
fn a_copy_of_x_beyond_the_memory_cap_is_refused_before_allocating() {
    let row = Array1::<f64>::ones(100_000);
    let x = row.broadcast((1_000_000, 100_000)).unwrap(); // 800 GB as a copy
    let y = Array1::<f64>::ones(1_000_000);
    let e = ElasticNet::default().fit((x, y.view())).unwrap_err();
    assert!(matches!(e, Error::InvalidParameter { name: "X", .. }), "{e}");
    assert!(e.to_string().contains("GiB"), "{e}");
}
