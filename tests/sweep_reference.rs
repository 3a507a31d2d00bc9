//! The sweeps written over the estimator trait (`solvers::sweep`) against scikit-learn's `GridSearchCV`
//! and `cross_val_score` with `KFold`: fixtures made by `tests/fixtures/make_sweep_fixtures.py` (the
//! script records the generator version in the file). Also: the splits, the bad settings, and results
//! that do not depend on the thread count.
mod common;
use common::{fixture, matrix, vector};
use serde_json::Value;
use sparsimony::solvers::regression::{ElasticNet, Omp};
use sparsimony::solvers::sweep::{GridSearch, cross_val_score, kfold};
use sparsimony::solvers::{Error, Estimator, Fitted, Score, with_threads};

fn case(name: &str) -> Value {
    fixture("sweep_sklearn.json")["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with(name))
        .unwrap()
        .clone()
}

/// The elastic net at scikit-learn's settings of the fixture (tight tolerance).
fn enet(params: &Value) -> ElasticNet {
    ElasticNet {
        alpha: params["alpha"].as_f64().unwrap(),
        l1_ratio: params.get("l1_ratio").and_then(Value::as_f64).unwrap_or(1.0),
        tol: 1e-14,
        max_iter: 1_000_000,
        ..ElasticNet::default()
    }
}

fn check_grid(name: &str) {
    let c = case(name);
    let (x, y) = (matrix(&c["X"]), vector(&c["y"]));
    let search = GridSearch {
        candidates: c["candidates"].as_array().unwrap().iter().map(enet).collect(),
        folds: c["folds"].as_u64().unwrap() as usize,
        ..GridSearch::default()
    };
    let fit = search.fit((x.view(), y.view())).unwrap();
    let expected = matrix(&c["scores"]);
    assert_eq!(fit.scores.dim(), expected.dim(), "{name}: candidates × folds");
    let worst = (&fit.scores - &expected).iter().fold(0.0f64, |m, d| m.max(d.abs()));
    assert!(
        worst < 1e-8,
        "{name}: fold scores differ from scikit-learn's by {worst:e}"
    );
    assert_eq!(fit.best, c["best"].as_u64().unwrap() as usize, "{name}: best_index_");
    let coef = vector(&c["coef"]);
    let scale = coef.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = (&fit.fit.coef - &coef).iter().fold(0.0f64, |m, d| m.max(d.abs())) / scale;
    assert!(err < 1e-6, "{name}: refit coefficients differ by {err:e} (relative)");
    let intercept = c["intercept"].as_f64().unwrap();
    assert!((fit.fit.intercept - intercept).abs() < 1e-6 * intercept.abs().max(1.0));
    assert!(fit.report().converged, "{name}: the refit converged");
    assert!(
        fit.fold_reports.iter().all(|r| r.converged),
        "{name}: every fold fit converged"
    );
    // The search's score is its refit's.
    assert_eq!(
        fit.score((x.view(), y.view())).unwrap(),
        fit.fit.score((x.view(), y.view())).unwrap()
    );
}

#[test]
fn lasso_grid_search_matches_scikit_learn() {
    check_grid("lasso alpha");
}

#[test]
fn elastic_net_grid_over_two_parameters_matches_scikit_learn() {
    check_grid("elastic net (alpha, l1_ratio)");
}

#[test]
fn cross_val_score_of_another_family_matches_scikit_learn() {
    let c = case("omp cross_val_score");
    let (x, y) = (matrix(&c["X"]), vector(&c["y"]));
    let omp = Omp {
        n_nonzero: Some(c["n_nonzero"].as_u64().unwrap() as usize),
        ..Omp::default()
    };
    let scores = cross_val_score(&omp, (x.view(), y.view()), c["folds"].as_u64().unwrap() as usize).unwrap();
    let expected = vector(&c["scores"]);
    for (k, (a, b)) in scores.iter().zip(&expected).enumerate() {
        assert!((a - b).abs() < 1e-10, "fold {k}: {a} vs scikit-learn's {b}");
    }
}

#[test]
fn folds_are_contiguous_and_cover_every_row_once() {
    let folds = kfold(11, 4).unwrap();
    assert_eq!(folds, vec![0..3, 3..6, 6..9, 9..11]);
    for (n, k) in [(2, 2), (7, 7), (100, 3)] {
        let folds = kfold(n, k).unwrap();
        assert_eq!(folds.len(), k);
        assert_eq!(folds.iter().map(|r| r.len()).sum::<usize>(), n);
        assert!(folds.windows(2).all(|w| w[0].end == w[1].start));
    }
    for (n, k) in [(10, 1), (10, 0), (3, 4)] {
        assert!(matches!(
            kfold(n, k),
            Err(Error::InvalidParameter { name: "folds", .. })
        ));
    }
}

#[test]
fn bad_sweeps_are_typed_errors() {
    let c = case("lasso alpha");
    let (x, y) = (matrix(&c["X"]), vector(&c["y"]));
    let empty: GridSearch<ElasticNet> = GridSearch::default();
    assert!(matches!(
        empty.fit((x.view(), y.view())),
        Err(Error::InvalidParameter { name: "candidates", .. })
    ));
    let short = y.slice(ndarray::s![..10]);
    assert!(matches!(
        cross_val_score(&ElasticNet::default(), (x.view(), short), 5),
        Err(Error::Shape { .. })
    ));
    // A test fold of one row has no R²: leave-one-out is refused, naming the largest fold count.
    let few = (x.slice(ndarray::s![..9, ..]), y.slice(ndarray::s![..9]));
    match cross_val_score(&ElasticNet::default(), few, 5) {
        Err(Error::InvalidParameter { name: "folds", reason }) => assert!(reason.contains("at most 4"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // A bad value is named by its row in the whole data, not in a fold.
    let mut holed = x.clone();
    holed[(57, 2)] = f64::NAN;
    assert!(matches!(
        cross_val_score(&ElasticNet::default(), (holed.view(), y.view()), 5),
        Err(Error::NonFinite { row: 57, col: 2, .. })
    ));
    // A candidate's own error surfaces, named; of several, the first in candidate order, whatever the
    // threads finish first.
    let bad = GridSearch {
        candidates: vec![
            ElasticNet::default(),
            ElasticNet {
                l1_ratio: 2.0,
                ..ElasticNet::default()
            },
            ElasticNet {
                alpha: -1.0,
                ..ElasticNet::default()
            },
        ],
        ..GridSearch::default()
    };
    for threads in [1, 2] {
        assert!(matches!(
            with_threads(threads, || bad.fit((x.view(), y.view()))).unwrap(),
            Err(Error::InvalidParameter { name: "l1_ratio", .. })
        ));
    }
}

#[test]
fn a_sweep_gives_the_same_bits_on_one_thread_and_on_two() {
    let c = case("elastic net (alpha, l1_ratio)");
    let (x, y) = (matrix(&c["X"]), vector(&c["y"]));
    let search = GridSearch {
        candidates: c["candidates"].as_array().unwrap().iter().map(enet).collect(),
        folds: 4,
        ..GridSearch::default()
    };
    let one = with_threads(1, || search.fit((x.view(), y.view())).unwrap()).unwrap();
    let two = with_threads(2, || search.fit((x.view(), y.view())).unwrap()).unwrap();
    assert_eq!(one, two);
}

/// A search is an estimator: it can itself be cross-validated (nested cross-validation).
#[test]
fn a_grid_search_nests_inside_cross_validation() {
    let c = case("elastic net (alpha, l1_ratio)");
    let (x, y) = (matrix(&c["X"]), vector(&c["y"]));
    let inner = GridSearch {
        candidates: vec![
            enet(&serde_json::json!({"alpha": 0.01})),
            enet(&serde_json::json!({"alpha": 0.3})),
        ],
        folds: 3,
        ..GridSearch::default()
    };
    let outer = cross_val_score(&inner, (x.view(), y.view()), 3).unwrap();
    // Each outer fold by hand: the inner search on the training rows, scored on the held-out rows.
    for (k, test) in kfold(x.nrows(), 3).unwrap().into_iter().enumerate() {
        let train: Vec<usize> = (0..x.nrows()).filter(|i| !test.contains(i)).collect();
        let (xt, yt) = (x.select(ndarray::Axis(0), &train), y.select(ndarray::Axis(0), &train));
        let fit = inner.fit((xt.view(), yt.view())).unwrap();
        let (xv, yv) = (x.slice(ndarray::s![test.clone(), ..]), y.slice(ndarray::s![test]));
        let pred = fit.fit.predict(xv).unwrap();
        let mean = yv.mean().unwrap();
        let r2 = 1.0 - (&yv - &pred).mapv(|v| v * v).sum() / yv.mapv(|v| (v - mean).powi(2)).sum();
        assert!((outer[k] - r2).abs() < 1e-12, "outer fold {k}: {} vs {r2}", outer[k]);
    }
}
