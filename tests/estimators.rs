//! One test per row of ARCHITECTURE.md's estimator table: each estimator fits through its configuration's
//! `fit`, predicts (where that means something) and returns the shared `Report`. Predictions and scores are
//! checked against loops written here (`X w + b` and `1 − SS_res/SS_tot` summed by hand); the numerical
//! quality of each fit is tested against scikit-learn and PySINDy elsewhere (`*_reference.rs`).
use sparsimony::solvers::{Estimator, Fitted, Score};
use std::path::Path;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use sparsimony::io::read_table;
use sparsimony::solvers::regression::path::{CrossValidation, alpha_grid, alpha_max, path};
use sparsimony::solvers::regression::{
    BestSubset, ElasticNet, Iht, LinearFit, Omp, Precompute, RandomSupport, Solver, Stlsq, WarmStart,
};
use sparsimony::solvers::sindy::{Ensemble, Optimizer, Regularizer, Sindy, Sr3, Time, Trajectory};
use sparsimony::solvers::{Measure, Report, ensure_converged};
use sparsimony::sprs;

/// A deterministic design (`n × d`, samples in rows) and a response with 3 true features, an intercept 2
/// and a little noise.
fn problem(n: usize, d: usize) -> (Array2<f64>, Array1<f64>) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let x = Array2::from_shape_fn((n, d), |_| next());
    let y = Array1::from_shape_fn(n, |i| {
        2.0 + 3.0 * x[(i, 0)] - 2.0 * x[(i, 3)] + 1.5 * x[(i, 5)] + 0.01 * next()
    });
    (x, y)
}

/// `X w + b` and `R²`, by loops.
fn by_hand(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>, coef: &[f64], b: f64) -> (Vec<f64>, f64) {
    let pred: Vec<f64> = (0..x.nrows())
        .map(|i| b + (0..x.ncols()).map(|j| x[(i, j)] * coef[j]).sum::<f64>())
        .collect();
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let (mut res, mut tot) = (0.0, 0.0);
    for (i, &p) in pred.iter().enumerate() {
        res += (y[i] - p) * (y[i] - p);
        tot += (y[i] - mean) * (y[i] - mean);
    }
    (pred, 1.0 - res / tot)
}

/// `fit.predict` and `fit.score` against the loops, and the report's basic promises.
fn check_linear(name: &str, fit: &LinearFit, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>, measure: Measure) {
    let coef = fit.coef.to_vec();
    let (pred, r2) = by_hand(x, y, &coef, fit.intercept);
    let ours = fit.predict(x).unwrap();
    for (a, b) in ours.iter().zip(&pred) {
        assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{name}: predict {a} vs {b}");
    }
    let score = fit.score((x, y)).unwrap();
    assert!((score - r2).abs() < 1e-12, "{name}: score {score} vs {r2}");
    assert!(score > 0.99, "{name}: R² {score} on a problem it should fit");
    let r = fit.report;
    assert_eq!(r.measure, measure, "{name}: {r}");
    assert!(r.converged && r.iterations >= 1, "{name}: {r}");
    assert!(ensure_converged(&r).is_ok());
    assert!(
        fit.objective.is_finite() && fit.objective >= 0.0,
        "{name}: objective {}",
        fit.objective
    );
    // A design with the wrong number of columns is refused, not broadcast.
    assert!(fit.predict(x.slice(ndarray::s![.., 1..])).is_err(), "{name}");
}

#[test]
fn elastic_net_every_solver_and_design() {
    let (x, y) = problem(80, 10);
    let base = ElasticNet {
        alpha: 1e-3,
        l1_ratio: 0.9,
        ..ElasticNet::default()
    };
    for (name, model) in [
        ("cd", base.clone()),
        (
            "cd Gram",
            ElasticNet {
                precompute: Precompute::Always,
                ..base.clone()
            },
        ),
        (
            "fista",
            ElasticNet {
                solver: Solver::Fista,
                ..base.clone()
            },
        ),
    ] {
        let fit = model.fit((x.view(), y.view())).unwrap();
        check_linear(name, &fit, x.view(), y.view(), Measure::DualityGap);
        assert!(fit.report.reached <= fit.report.tolerance);
    }
    // Sparse designs: the same model, and predictions from a sparse X.
    let csr = sprs::CsMat::csr_from_dense(x.view(), 0.0);
    let fit = base.fit((csr.view(), y.view())).unwrap();
    check_linear("cd sparse", &fit, x.view(), y.view(), Measure::DualityGap);
    let sparse_pred = fit.predict_sparse(csr.view()).unwrap();
    let (pred, _) = by_hand(x.view(), y.view(), &fit.coef.to_vec(), fit.intercept);
    for (a, b) in sparse_pred.iter().zip(&pred) {
        assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()));
    }
    // The score of a sparse X is the dense one's.
    let (dense, sparse) = (
        fit.score((x.view(), y.view())).unwrap(),
        fit.score((csr.view(), y.view())).unwrap(),
    );
    assert!((dense - sparse).abs() <= 1e-12, "{dense} vs {sparse}");
}

#[test]
fn support_selection_estimators() {
    let (x, y) = problem(60, 12);
    let (xv, yv) = (x.view(), y.view());
    let omp = Omp {
        n_nonzero: Some(3),
        ..Omp::default()
    }
    .fit((xv, yv))
    .unwrap();
    check_linear("omp", &omp, xv, yv, Measure::Exact);
    assert_eq!((omp.n_nonzero(), omp.report.iterations), (3, 3));
    let iht = Iht {
        n_nonzero: Some(3),
        ..Iht::default()
    }
    .fit((xv, yv))
    .unwrap();
    check_linear("iht", &iht, xv, yv, Measure::RelativeChange);
    let stlsq = Stlsq {
        threshold: 0.5,
        ..Stlsq::default()
    }
    .fit((xv, yv))
    .unwrap();
    check_linear("stlsq", &stlsq, xv, yv, Measure::SupportChange);
    assert_eq!((stlsq.n_nonzero(), stlsq.report.reached), (3, 0.0));
    let best = BestSubset {
        n_nonzero: Some(3),
        ..BestSubset::default()
    }
    .fit((xv, yv))
    .unwrap();
    check_linear("best subset", &best, xv, yv, Measure::Exact);
    assert_eq!(best.report.iterations, 220, "C(12, 3) subsets");
    // The defaults select scikit-learn's max(d/10, 1) features.
    assert_eq!(Omp::default().fit((xv, yv)).unwrap().n_nonzero(), 1);
}

#[test]
fn cross_validation_path_and_random_support() {
    let (x, y) = problem(100, 10);
    let (xv, yv) = (x.view(), y.view());
    let cv = CrossValidation {
        n_alphas: 20,
        ..CrossValidation::default()
    }
    .fit((xv, yv))
    .unwrap();
    check_linear("lasso cv", &cv.fit, xv, yv, Measure::DualityGap);
    assert_eq!(cv.predict(xv).unwrap(), cv.fit.predict(xv).unwrap());
    assert_eq!(cv.score((xv, yv)).unwrap(), cv.fit.score((xv, yv)).unwrap());
    assert_eq!(cv.path_reports.dim(), (20, 5));
    assert!(cv.unconverged().is_empty());

    let model = ElasticNet::default();
    let alphas = alpha_grid(alpha_max(&model, xv, yv).unwrap(), 10, 1e-2).unwrap();
    let p = path(&model, xv, yv, &alphas).unwrap();
    assert_eq!(p.reports.len(), 10);
    assert!(
        p.reports
            .iter()
            .all(|r| r.converged && r.measure == Measure::DualityGap)
    );

    let rs = RandomSupport::default().fit((xv, yv)).unwrap();
    check_linear("random support", &rs.fit, xv, yv, Measure::DualityGap);
    assert_eq!(rs.predict(xv).unwrap(), rs.fit.predict(xv).unwrap());
}

/// The case: nearly collinear column pairs make some fits of the path stop at their cap. The
/// cross-validation keeps them (their held-out errors count), reports them, and still selects and refits.
/// (The tolerance is below round-off: coordinate descent's exact finisher, which also runs at the cap,
/// now solves these small fits to round-off, so a tolerance it can meet would leave none unconverged.)
#[test]
fn cross_validation_goes_on_past_unconverged_path_fits() {
    let (mut x, y) = problem(60, 8);
    for i in 0..60 {
        x[(i, 1)] = x[(i, 0)] * (1.0 + 1e-9 * (i % 3) as f64);
    }
    let cv = CrossValidation {
        model: ElasticNet {
            max_iter: 3,
            tol: 1e-300,
            ..ElasticNet::default()
        },
        n_alphas: 15,
        ..CrossValidation::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    let unconverged = cv.unconverged();
    assert!(!unconverged.is_empty());
    for (a, k, r) in &unconverged {
        assert!(
            !r.converged && r.iterations == 3 && r.reached > r.tolerance,
            "α {a}, fold {k}: {r}"
        );
        assert!(cv.mse_path[(*a, *k)].is_finite());
    }
    assert!(cv.alphas.contains(&cv.alpha) && cv.fit.coef.iter().all(|c| c.is_finite()));
}

fn lorenz() -> (Array2<f64>, Array1<f64>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = read_table(&root.join("data/lorenz.csv")).unwrap();
    let t = table.values().column(0).to_owned();
    (table.values().slice(ndarray::s![.., 1..]).to_owned(), t)
}

#[test]
fn sindy_with_every_optimizer() {
    let (x, t) = lorenz();
    let traj = [Trajectory::new(x.view(), Time::Points(t.view()))];
    let optimizers = [
        ("stlsq", Optimizer::Stlsq(Stlsq::default()), Measure::SupportChange),
        (
            "sr3",
            Optimizer::Sr3(Sr3 {
                lambda: Sr3::l0_weight_for_threshold(0.1, 1.0),
                regularizer: Regularizer::L0,
                max_iter: 10_000,
                ..Sr3::default()
            }),
            Measure::CoefficientChange,
        ),
        (
            "lasso",
            Optimizer::ElasticNet(ElasticNet {
                alpha: 1e-3,
                fit_intercept: false,
                ..ElasticNet::default()
            }),
            Measure::DualityGap,
        ),
        (
            "ensemble",
            Optimizer::Ensemble(Box::new(Ensemble {
                n_models: 6,
                ..Ensemble::default()
            })),
            Measure::SupportChange,
        ),
    ];
    for (name, optimizer, measure) in optimizers {
        let fit = Sindy {
            optimizer,
            ..Sindy::default()
        }
        .fit(&traj)
        .unwrap();
        let r: &Report = fit.report();
        assert!(r.converged && r.iterations >= 1 && r.measure == measure, "{name}: {r}");
        // predict is Ξ θ(x): the rows for the first samples, by hand from the printed library.
        let pred = fit.predict(x.slice(ndarray::s![..5, ..]), None).unwrap();
        let names = fit.feature_names();
        for i in 0..5 {
            let (a, b, c) = (x[(i, 0)], x[(i, 1)], x[(i, 2)]);
            let theta = |n: &str| match n {
                "1" => 1.0,
                "x0" => a,
                "x1" => b,
                "x2" => c,
                "x0^2" => a * a,
                "x0 x1" => a * b,
                "x0 x2" => a * c,
                "x1^2" => b * b,
                "x1 x2" => b * c,
                "x2^2" => c * c,
                other => panic!("unexpected term {other}"),
            };
            for s in 0..3 {
                let want: f64 = names
                    .iter()
                    .enumerate()
                    .map(|(j, n)| fit.coefficients()[(s, j)] * theta(n))
                    .sum();
                assert!((pred[(i, s)] - want).abs() <= 1e-9 * (1.0 + want.abs()), "{name}");
            }
        }
        let score = fit.score((&traj, &Default::default())).unwrap();
        assert!(score > 0.99, "{name}: R² {score}");
    }
}

/// PDE-FIND on the heat equation `u_t = 0.5 u_xx`, sampled from its exact solution `e^{−0.5 k² t} sin(k x)`
/// plus a second mode: the default library and STLSQ keep the one true term.
#[test]
fn pde_find_recovers_the_heat_equation() {
    use sparsimony::solvers::sindy::PdeFind;
    let (nx, nt, nu) = (128, 200, 0.5);
    let xs = Array1::from_shape_fn(nx, |i| i as f64 * 2.0 * std::f64::consts::PI / nx as f64);
    let dt = 0.002;
    let u = ndarray::Array3::from_shape_fn((nx, nt, 1), |(i, k, _)| {
        let t = k as f64 * dt;
        (-nu * t).exp() * xs[i].sin() + 0.5 * (-nu * 4.0 * t).exp() * (2.0 * xs[i]).cos()
    });
    let fit = PdeFind {
        optimizer: Optimizer::Stlsq(Stlsq {
            threshold: 0.05,
            ..Stlsq::default()
        }),
        ..PdeFind::default()
    }
    .fit((u.view().into_dyn(), &[xs.view()], Time::Step(dt)))
    .unwrap();
    let r = fit.report();
    assert!(r.converged && r.measure == Measure::SupportChange, "{r}");
    let names = fit.feature_names();
    let kept: Vec<(&str, f64)> = (0..names.len())
        .filter(|&j| fit.coefficients()[(0, j)] != 0.0)
        .map(|j| (names[j].as_str(), fit.coefficients()[(0, j)]))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].0, "x0_11");
    assert!((kept[0].1 - nu).abs() < 1e-3, "{kept:?}");
}

/// The one progress callback: a cross-validation reports each fold, an ensemble each member, the GP-PDE
/// solver each outer iteration (with its objective); `done` counts up to `total` whatever the thread.
#[test]
fn progress_reports_every_step() {
    use sparsimony::solvers::Progress;
    use std::sync::{Arc, Mutex};
    type Log = Arc<Mutex<Vec<(String, usize, usize, bool)>>>;
    let record = |log: &Log| {
        let log = log.clone();
        Progress::new(move |s| {
            log.lock()
                .unwrap()
                .push((s.task.to_string(), s.done, s.total, s.objective.is_some()))
        })
    };
    let check = |log: &Log, task: &str, total: usize, objective: bool| {
        let mut seen = log.lock().unwrap().clone();
        seen.sort_by_key(|s| s.1);
        let want: Vec<_> = (1..=total).map(|k| (task.to_string(), k, total, objective)).collect();
        assert_eq!(seen, want);
    };
    let (x, y) = problem(60, 6);
    let log = Arc::new(Mutex::new(Vec::new()));
    CrossValidation {
        n_alphas: 5,
        folds: 4,
        progress: record(&log),
        ..CrossValidation::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    check(&log, "cross-validation", 4, false);

    let (xs, t) = lorenz();
    let log = Arc::new(Mutex::new(Vec::new()));
    Sindy {
        optimizer: Optimizer::Ensemble(Box::new(Ensemble {
            n_models: 7,
            progress: record(&log),
            ..Ensemble::default()
        })),
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(xs.view(), Time::Points(t.view()))])
    .unwrap();
    check(&log, "ensemble", 7, false);

    use sparsimony::solvers::gp_pde::Problem;
    let p = Problem::benchmark("poisson_1d-single_sin")
        .unwrap()
        .with_grid(&[60])
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut s = sparsimony::pde::settings_for(&p, sparsimony::solvers::gp_pde::Method::Exact, Some(4), Some(3));
    s.progress = record(&log);
    s.fit(&p.discretize().unwrap()).unwrap();
    check(&log, "gp_pde", 3, true);
}

/// The GP-PDE solver's fitted `Solution`: grid values shaped as the grid; the posterior mean predicted at
/// the collocation points themselves reproduces them (`K C⁻¹ u = u − jitter·C⁻¹u`, so to round-off); the
/// learned components by name; typed errors for a bad field or axis count.
#[test]
fn gp_pde_solution_predicts_and_reports() {
    use sparsimony::solvers::Error;
    use sparsimony::solvers::gp_pde::{Method, Problem};
    let p = Problem::benchmark("poisson_2d-sin_sin")
        .unwrap()
        .with_grid(&[24, 20])
        .unwrap();
    let s = sparsimony::pde::settings_for(&p, Method::Exact, Some(3), Some(2));
    let sol = s.fit(&p.discretize().unwrap()).unwrap();
    assert_eq!((sol.fields(), sol.grid_shape()), (1, vec![24, 20]));
    let r = sol.report;
    assert!(r.converged && r.iterations == 2 && r.measure == Measure::Exact, "{r}");
    let values = sol.values(0).unwrap();
    assert_eq!(values.shape(), &[24, 20]);
    let grid: Vec<Array1<f64>> = p
        .axes()
        .iter()
        .map(|a| Array1::linspace(a.lower, a.upper, a.points))
        .collect();
    let views: Vec<ArrayView1<'_, f64>> = grid.iter().map(|g| g.view()).collect();
    let at_grid = sol.predict(0, &views).unwrap();
    let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = at_grid
        .iter()
        .zip(values.iter())
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        worst <= 1e-6 * scale,
        "prediction at the grid differs from the grid values by {worst:e}"
    );
    // Elsewhere: the shape of the requested tensor grid.
    let x = Array1::linspace(0.1, 0.2, 7);
    let y = Array1::linspace(0.3, 0.4, 5);
    assert_eq!(sol.predict(0, &[x.view(), y.view()]).unwrap().shape(), &[7, 5]);
    let comps = sol.components();
    assert_eq!((comps.len(), comps[0].len(), comps[0][0].len()), (1, 2, 3));
    assert!(
        comps[0]
            .iter()
            .flatten()
            .all(|c| c.weight >= 0.0 && c.length_scale > 0.0)
    );
    assert!(matches!(sol.values(1), Err(Error::InvalidParameter { .. })));
    assert!(matches!(sol.predict(0, &[x.view()]), Err(Error::Shape { .. })));
}

/// A kernel matrix that is not positive definite at working precision (no jitter to speak of, a smooth
/// kernel on a fine grid) is the typed `Singular` error naming the matrix and the setting that fixes it.
#[test]
fn gp_pde_singular_kernel_matrix_is_a_typed_error() {
    use sparsimony::solvers::Error;
    use sparsimony::solvers::gp_pde::{FrequencyInit, Method, Problem, Spectrum};
    let p = Problem::benchmark("poisson_1d-single_sin")
        .unwrap()
        .with_grid(&[400])
        .unwrap();
    let mut s = sparsimony::pde::settings_for(&p, Method::Exact, Some(1), Some(1));
    s.jitter = 1e-300;
    s.spectrum = Spectrum::Gaussian;
    s.frequencies = FrequencyInit::Uniform { scale: 0.0 };
    match s.fit(&p.discretize().unwrap()) {
        Err(Error::Singular { what, detail }) => {
            assert!(
                what.contains("kernel matrix") && detail.contains("jitter"),
                "{what}: {detail}"
            )
        }
        other => panic!("expected Singular, got {:?}", other.map(|s| s.objective)),
    }
}

/// α = 0 is least squares: its duality gap degenerates (it equals the objective), so the fit is judged
/// by the largest gradient component, converges, and matches least squares by QR on the centred data.
#[test]
fn alpha_zero_is_least_squares_judged_by_its_gradient() {
    use sparsimony::solvers::regression::least_squares;
    let (x, y) = problem(50, 6);
    let xc = &x - &x.mean_axis(ndarray::Axis(0)).unwrap();
    let yc = &y - y.mean().unwrap();
    let ls = least_squares(xc.view(), yc.view()).unwrap();
    for solver in [Solver::CoordinateDescent, Solver::Fista] {
        let fit = ElasticNet {
            alpha: 0.0,
            tol: 1e-12,
            max_iter: 100_000,
            solver,
            ..ElasticNet::default()
        }
        .fit((x.view(), y.view()))
        .unwrap();
        let r = fit.report;
        assert!(r.converged && r.measure == Measure::Gradient, "{solver:?}: {r}");
        let err = (&fit.coef - &ls).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            err < 1e-8,
            "{solver:?}: coefficients differ from least squares by {err:e}"
        );
    }
}

#[test]
fn warm_starts_reach_the_cold_optimum_and_refuse_bad_starts() {
    let (x, y) = problem(200, 40);
    let model = ElasticNet {
        alpha: 0.01,
        tol: 1e-12,
        ..ElasticNet::default()
    };
    let cold = model.fit((x.view(), y.view())).unwrap();
    // From a perturbed optimum, dense and sparse: the same coefficients (the optimum is unique here).
    let start = cold.coef.mapv(|v| v + 0.3);
    let csc = {
        let mut t = sprs::TriMat::new(x.dim());
        for ((i, j), &v) in x.indexed_iter() {
            t.add_triplet(i, j, v);
        }
        t.to_csc()
    };
    let fits = [
        model
            .fit(WarmStart {
                data: (x.view(), y.view()),
                start: start.view(),
            })
            .unwrap(),
        model
            .fit(WarmStart {
                data: (csc.view(), y.view()),
                start: start.view(),
            })
            .unwrap(),
    ];
    for warm in &fits {
        let diff = warm
            .coef
            .iter()
            .zip(&cold.coef)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff < 1e-6, "warm start ended {diff:e} from the cold optimum");
        assert!(warm.report.converged);
    }
    // A view of columns 2..10 of the CSC matrix (its column pointers start at an offset): the same fit as
    // the dense columns.
    let cols = ElasticNet::default();
    let sliced = cols.fit((csc.slice_outer(2..10), y.view())).unwrap();
    let dense = cols.fit((x.slice(ndarray::s![.., 2..10]), y.view())).unwrap();
    let diff = sliced
        .coef
        .iter()
        .zip(&dense.coef)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        diff < 1e-9 && (sliced.intercept - dense.intercept).abs() < 1e-9,
        "{diff:e}"
    );
    // From the optimum itself: at most the one epoch that checks it.
    let again = model
        .fit(WarmStart {
            data: (x.view(), y.view()),
            start: cold.coef.view(),
        })
        .unwrap();
    assert!(again.report.iterations <= 1, "{}", again.report);
    // A start of the wrong length, or with NaN, is refused with the problem named.
    let short = Array1::zeros(39);
    assert!(matches!(
        model.fit(WarmStart {
            data: (x.view(), y.view()),
            start: short.view()
        }),
        Err(sparsimony::solvers::Error::Shape { found: 39, .. })
    ));
    let mut nan = cold.coef.clone();
    nan[7] = f64::NAN;
    assert!(matches!(
        model.fit(WarmStart {
            data: (csc.view(), y.view()),
            start: nan.view()
        }),
        Err(sparsimony::solvers::Error::NonFinite { row: 7, .. })
    ));
}

/// The estimator shape checked by the compiler: every family's estimators implement the one trait with
/// the data they take, and their fitted values report. A family that drifts from the shape stops this
/// test from building.
#[test]
fn every_family_fits_through_the_one_trait() {
    use sparsimony::solvers::gp_pde::{Discretization, Settings, Solution};
    use sparsimony::solvers::langevin::{CorrelationLoss, Langevin, LangevinFit, OnlineSgd, SgdFit, TensorPca};
    use sparsimony::solvers::privacy::{LdpFit, LdpIht, NonInteractive};
    use sparsimony::solvers::radio::{Observation, SelfCalibrated, SelfCalibration};
    use sparsimony::solvers::regression::{CvFit, NormalEquations, RandomSupportFit, WarmStart};
    use sparsimony::solvers::sindy::{OptimizerFit, PdeFind, PdeFit, SindyFit};
    use sparsimony::solvers::sweep::{GridSearch, GridSearchFit, Samples};
    use sparsimony::sprs::CsMatView;
    use std::any::type_name;
    type Sparse<'a> = (CsMatView<'a, f64>, ArrayView1<'a, f64>);
    type Weighted<'a> = (CsMatView<'a, f64>, ArrayView1<'a, f64>, ArrayView1<'a, f64>);
    type Pde<'a> = (ndarray::ArrayViewD<'a, f64>, &'a [ArrayView1<'a, f64>], Time<'a>);
    /// The estimator's and its fitted value's names, when `E` fits `D` into `F`.
    fn shape<D, E: Estimator<D, Fitted = F>, F: Fitted>() -> (&'static str, &'static str) {
        (type_name::<E>(), type_name::<F>())
    }
    let families = [
        shape::<Samples<'static>, ElasticNet, LinearFit>(),
        shape::<Sparse<'static>, ElasticNet, LinearFit>(),
        shape::<Weighted<'static>, ElasticNet, LinearFit>(),
        shape::<WarmStart<'static, Samples<'static>>, ElasticNet, LinearFit>(),
        shape::<(&'static NormalEquations, usize), ElasticNet, LinearFit>(),
        shape::<Samples<'static>, CrossValidation, CvFit>(),
        shape::<Sparse<'static>, CrossValidation, CvFit>(),
        shape::<Samples<'static>, Omp, LinearFit>(),
        shape::<Samples<'static>, Iht, LinearFit>(),
        shape::<Samples<'static>, Stlsq, LinearFit>(),
        shape::<(&'static NormalEquations, usize), Stlsq, LinearFit>(),
        shape::<Samples<'static>, BestSubset, LinearFit>(),
        shape::<Samples<'static>, RandomSupport, RandomSupportFit>(),
        shape::<Samples<'static>, GridSearch<ElasticNet>, GridSearchFit<LinearFit>>(),
        shape::<&'static [Trajectory<'static>], Sindy, SindyFit>(),
        shape::<&'static NormalEquations, Sr3, OptimizerFit>(),
        shape::<Pde<'static>, PdeFind, PdeFit>(),
        shape::<&'static Discretization, Settings, Solution>(),
        shape::<Samples<'static>, NonInteractive, LdpFit>(),
        shape::<Samples<'static>, LdpIht, LdpFit>(),
        shape::<Samples<'static>, Langevin, LangevinFit>(),
        shape::<&'static CorrelationLoss<'static>, Langevin, LangevinFit>(),
        shape::<Samples<'static>, OnlineSgd, SgdFit>(),
        shape::<&'static TensorPca, OnlineSgd, SgdFit>(),
        shape::<(&'static Observation, ArrayView2<'static, f64>), SelfCalibration, SelfCalibrated>(),
    ];
    // Every family is there: regression, SINDy, GP-PDE, privacy, Langevin, radio.
    for module in ["regression", "sindy", "gp_pde", "privacy", "langevin", "radio", "sweep"] {
        assert!(
            families.iter().any(|(e, _)| e.contains(&format!("::{module}::"))),
            "no estimator of {module}"
        );
    }
}
