//! Lasso, elastic net and their cross-validation against scikit-learn: fixtures made by
//! `tests/fixtures/make_regression_fixtures.py` (the script records the generator version in the file).
mod common;
use common::{fixture, matrix, vector};
use ndarray::{Array1, Array2};
use sparsimony::solvers::Estimator;
use sparsimony::solvers::regression::path::CrossValidation;
use sparsimony::solvers::regression::{ElasticNet, LinearFit, Precompute, Solver};
use sparsimony::sprs;

fn csr(x: &Array2<f64>) -> sprs::CsMat<f64> {
    let mut t = sprs::TriMat::new(x.dim());
    for ((i, j), &v) in x.indexed_iter() {
        if v != 0.0 {
            t.add_triplet(i, j, v);
        }
    }
    t.to_csr()
}

/// Max |Δ| relative to the largest reference coefficient, plus identical supports and intercepts.
fn compare(name: &str, fit: &LinearFit, coef: &Array1<f64>, intercept: f64, tol: f64) -> f64 {
    let scale = coef.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = fit.coef.iter().zip(coef).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / scale;
    assert!(err < tol, "{name}: relative coefficient error {err:e}");
    for (j, (a, b)) in fit.coef.iter().zip(coef).enumerate() {
        assert_eq!(
            *a == 0.0,
            *b == 0.0,
            "{name}: coefficient {j} selected differently ({a} vs {b})"
        );
    }
    assert!(
        (fit.intercept - intercept).abs() <= tol * intercept.abs().max(1.0),
        "{name}: intercept {} vs {intercept}",
        fit.intercept
    );
    err
}

#[test]
fn fits_agree_with_scikit_learn() {
    for case in fixture("regression_sklearn.json")["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, y) = (matrix(&case["X"]), vector(&case["y"]));
        let (coef, intercept) = (vector(&case["coef"]), case["intercept"].as_f64().unwrap());
        let model = ElasticNet {
            alpha: case["alpha"].as_f64().unwrap(),
            l1_ratio: case["l1_ratio"].as_f64().unwrap(),
            fit_intercept: case["fit_intercept"].as_bool().unwrap(),
            positive: case["positive"].as_bool().unwrap(),
            max_iter: 1_000_000,
            tol: 1e-15,
            ..ElasticNet::default()
        };
        let gram = ElasticNet {
            precompute: Precompute::Always,
            ..model.clone()
        };
        let no_gram = ElasticNet {
            precompute: Precompute::Never,
            ..model.clone()
        };
        let mut solvers = vec![
            ("cd dense", no_gram.fit((x.view(), y.view())).unwrap()),
            ("cd Gram", gram.fit((x.view(), y.view())).unwrap()),
        ];
        let fista = ElasticNet {
            solver: Solver::Fista,
            ..model.clone()
        };
        solvers.push(("fista dense", fista.fit((x.view(), y.view())).unwrap()));
        if case["sparse"].as_bool().unwrap() {
            solvers.push(("cd sparse CSR", model.fit((csr(&x).view(), y.view())).unwrap()));
            solvers.push(("cd sparse CSC", model.fit((csr(&x).to_csc().view(), y.view())).unwrap()));
        }
        for (solver, fit) in &solvers {
            let err = compare(&format!("{name} [{solver}]"), fit, &coef, intercept, 1e-6);
            assert!(fit.report.converged, "{name} [{solver}]: {}", fit.report);
            eprintln!("{name} [{solver}]: max |Δcoef|/max |coef| = {err:.1e}, {}", fit.report);
        }
    }
}

#[test]
fn cross_validation_chooses_scikit_learns_alpha() {
    for case in fixture("regression_sklearn.json")["cv_cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (x, y) = (matrix(&case["X"]), vector(&case["y"]));
        let model = ElasticNet {
            l1_ratio: case["l1_ratio"].as_f64().unwrap(),
            tol: 1e-12,
            max_iter: 1_000_000,
            ..ElasticNet::default()
        };
        let cv = CrossValidation {
            model,
            ..CrossValidation::default()
        }
        .fit((x.view(), y.view()))
        .unwrap();
        assert!(cv.unconverged().is_empty(), "{name}: {:?}", cv.unconverged());
        // The same grid ...
        let alphas = vector(&case["alphas"]);
        assert_eq!(cv.alphas.len(), alphas.len());
        for (a, b) in cv.alphas.iter().zip(&alphas) {
            assert!((a - b).abs() <= 1e-12 * b, "{name}: grid {a} vs {b}");
        }
        // ... the same held-out errors ...
        let mse = vector(&case["mse_mean"]);
        let ours = cv.mse_path.mean_axis(ndarray::Axis(1)).unwrap();
        let mse_err = ours.iter().zip(&mse).fold(0.0f64, |m, (a, b)| m.max((a - b).abs() / b));
        assert!(mse_err < 1e-6, "{name}: mean held-out error differs by {mse_err:e}");
        // ... hence the same choice, and the same refit.
        let alpha = case["alpha"].as_f64().unwrap();
        assert!(
            (cv.alpha - alpha).abs() <= 1e-12 * alpha,
            "{name}: chose {} vs {alpha}",
            cv.alpha
        );
        let err = compare(
            name,
            &cv.fit,
            &vector(&case["coef"]),
            case["intercept"].as_f64().unwrap(),
            1e-6,
        );
        eprintln!(
            "{name}: α = {:.6e} as scikit-learn; mean-MSE path within {mse_err:.1e}; refit within {err:.1e}",
            cv.alpha
        );
    }
}

/// Cross-validation on a sparse design (the matrix stays sparse: CSC coordinate descent, implicit centring)
/// reproduces the dense computation, which the test above ties to scikit-learn.
#[test]
fn sparse_cross_validation_matches_dense() {
    let f = fixture("regression_sklearn.json");
    let case = f["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["sparse"].as_bool().unwrap())
        .unwrap();
    let (x, y) = (matrix(&case["X"]), vector(&case["y"]));
    let model = ElasticNet {
        l1_ratio: 0.8,
        tol: 1e-12,
        max_iter: 1_000_000,
        ..ElasticNet::default()
    };
    let cv = CrossValidation {
        model,
        n_alphas: 20,
        ..CrossValidation::default()
    };
    let dense = cv.fit((x.view(), y.view())).unwrap();
    let sparse = cv.fit((csr(&x).view(), y.view())).unwrap();
    assert_eq!(dense.alpha, sparse.alpha);
    let mse = (&dense.mse_path - &sparse.mse_path)
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        mse < 1e-9 * dense.mse_path.iter().fold(0.0f64, |m, v| m.max(*v)),
        "held-out errors differ by {mse}"
    );
    compare(
        "sparse CV refit",
        &sparse.fit,
        &dense.fit.coef,
        dense.fit.intercept,
        1e-8,
    );
}
