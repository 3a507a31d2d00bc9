//! Support-selection methods against their peer tools (fixtures by `tests/fixtures/make_subset_fixtures.py`)
//! and, for IHT and best subset, against exact recovery and optimality properties.
mod common;
use common::fixture;
use ndarray::{Array1, Array2};
use serde_json::Value;
use sparsimony::solvers::Estimator;
use sparsimony::solvers::regression::{BestSubset, Iht, LinearFit, Omp, Stlsq};

fn data(f: &Value) -> (Array2<f64>, Array1<f64>) {
    let rows: Vec<Vec<f64>> = serde_json::from_value(f["X"].clone()).unwrap();
    let x = Array2::from_shape_vec((rows.len(), rows[0].len()), rows.concat()).unwrap();
    (x, serde_json::from_value::<Vec<f64>>(f["y"].clone()).unwrap().into())
}

fn check(name: &str, fit: &LinearFit, coef: &[f64], intercept: f64) {
    let scale = coef.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = fit.coef.iter().zip(coef).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / scale;
    assert!(
        err < 1e-9,
        "{name}: relative coefficient error {err:e}\n{:?}\nvs {coef:?}",
        fit.coef
    );
    for (j, (a, b)) in fit.coef.iter().zip(coef).enumerate() {
        assert_eq!(*a == 0.0, *b == 0.0, "{name}: feature {j} selected differently");
    }
    assert!(
        (fit.intercept - intercept).abs() < 1e-9 * intercept.abs().max(1.0),
        "{name}: intercept"
    );
    eprintln!("{name}: agrees to {err:.1e}");
}

#[test]
fn omp_agrees_with_scikit_learn() {
    let f = fixture("subset_references.json");
    let (x, y) = data(&f);
    for case in f["omp"].as_array().unwrap() {
        let omp = Omp {
            n_nonzero: case["n_nonzero"].as_u64().map(|k| k as usize),
            tol: case["tol"].as_f64(),
            fit_intercept: case["fit_intercept"].as_bool().unwrap(),
        };
        let coef: Vec<f64> = serde_json::from_value(case["coef"].clone()).unwrap();
        check(
            &format!(
                "OMP k={} tol={} intercept={}",
                case["n_nonzero"], case["tol"], case["fit_intercept"]
            ),
            &omp.fit((x.view(), y.view())).unwrap(),
            &coef,
            case["intercept"].as_f64().unwrap(),
        );
    }
}

#[test]
fn stlsq_agrees_with_pysindy() {
    let f = fixture("subset_references.json");
    let (x, y) = data(&f);
    let y = y - 0.5;
    for case in f["stlsq"].as_array().unwrap() {
        let s = Stlsq {
            alpha: case["alpha"].as_f64().unwrap(),
            threshold: case["threshold"].as_f64().unwrap(),
            fit_intercept: false, // PySINDy's STLSQ fits none
            ..Stlsq::default()
        };
        let coef: Vec<f64> = serde_json::from_value(case["coef"].clone()).unwrap();
        check(
            &format!("STLSQ threshold {} alpha {}", s.threshold, s.alpha),
            &s.fit((x.view(), y.view())).unwrap(),
            &coef,
            0.0,
        );
    }
    // A threshold above every coefficient removes them all: a documented all-zero outcome, not an error.
    let all_gone = Stlsq {
        threshold: 100.0,
        ..Stlsq::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert!(all_gone.coef.iter().all(|c| *c == 0.0));
}

/// Noiseless y = X w* with a 4-sparse w* on a generic design: the true support is the only 4-subset with
/// zero residual, so best subset must find it exactly, and IHT (well conditioned here) too.
#[test]
fn best_subset_and_iht_recover_a_noiseless_support() {
    let (x, _) = data(&fixture("subset_references.json"));
    let x = x.slice(ndarray::s![.., ..12]).to_owned();
    let mut w = Array1::zeros(12);
    for (j, v) in [(1, 2.0), (4, -1.5), (7, 1.0), (10, 3.0)] {
        w[j] = v;
    }
    let y = x.dot(&w) + 4.0;
    let best = BestSubset {
        n_nonzero: Some(4),
        fit_intercept: true,
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert_eq!(best.report.iterations, 495, "C(12, 4) subsets examined");
    assert!((&best.coef - &w).iter().all(|d| d.abs() < 1e-10) && (best.intercept - 4.0).abs() < 1e-10);
    assert!(best.objective < 1e-20);
    let iht = Iht {
        n_nonzero: Some(4),
        ..Iht::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert!((&iht.coef - &w).iter().all(|d| d.abs() < 1e-8), "{:?}", iht.coef);

    // With noise, best subset's residual is no larger than that of any support OMP or IHT find.
    let f = fixture("subset_references.json");
    let (x, y) = data(&f);
    let x = x.slice(ndarray::s![.., ..14]).to_owned();
    let best = BestSubset {
        n_nonzero: Some(3),
        fit_intercept: true,
    }
    .fit((x.view(), y.view()))
    .unwrap();
    let omp = Omp {
        n_nonzero: Some(3),
        ..Omp::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    let iht = Iht {
        n_nonzero: Some(3),
        ..Iht::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert!(best.objective <= omp.objective + 1e-12 && best.objective <= iht.objective + 1e-12);
}

#[test]
fn bad_parameters_are_typed_errors() {
    let (x, y) = data(&fixture("subset_references.json"));
    use sparsimony::solvers::Error;
    assert!(matches!(
        Omp {
            n_nonzero: Some(0),
            ..Omp::default()
        }
        .fit((x.view(), y.view())),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Omp {
            tol: Some(-1.0),
            ..Omp::default()
        }
        .fit((x.view(), y.view())),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Iht {
            n_nonzero: Some(0),
            ..Iht::default()
        }
        .fit((x.view(), y.view())),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Stlsq {
            threshold: -0.1,
            ..Stlsq::default()
        }
        .fit((x.view(), y.view())),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        BestSubset {
            n_nonzero: Some(12),
            fit_intercept: true
        }
        .fit((x.view(), y.view())),
        Err(Error::InvalidParameter { .. })
    ));
    let mut xn = x.clone();
    xn[[3, 3]] = f64::NAN;
    assert!(matches!(
        Omp::default().fit((xn.view(), y.view())),
        Err(Error::NonFinite { row: 3, col: 3, .. })
    ));
}
