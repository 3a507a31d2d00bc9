//! The Lasso against scikit-learn: fixtures made by `tests/fixtures/make_lasso_fixtures.py`.
use ndarray::{Array1, Array2};
use sparsimony::solvers::regression::Lasso;

#[test]
fn lasso_agrees_with_scikit_learn() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lasso_sklearn.json"
    ))
    .unwrap();
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let rows: Vec<Vec<f64>> = serde_json::from_value(case["X"].clone()).unwrap();
        let (n, d) = (rows.len(), rows[0].len());
        let x = Array2::from_shape_vec((n, d), rows.concat()).unwrap();
        let y: Array1<f64> = serde_json::from_value::<Vec<f64>>(case["y"].clone()).unwrap().into();
        let want: Vec<f64> = serde_json::from_value(case["coef"].clone()).unwrap();
        let lasso = Lasso {
            alpha: case["alpha"].as_f64().unwrap(),
            fit_intercept: case["fit_intercept"].as_bool().unwrap(),
            max_iter: 200_000,
            tol: 1e-15,
        };
        let fit = lasso.fit(x.view(), y.view()).unwrap();
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = fit
            .coef
            .iter()
            .zip(&want)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
            / scale;
        eprintln!(
            "{name}: max |Δcoef| / max |coef| = {err:.2e}, gap {:.1e}, {} iterations",
            fit.duality_gap, fit.n_iter
        );
        assert!(err < 1e-6, "{name}: relative coefficient error {err}");
        for (j, (a, b)) in fit.coef.iter().zip(&want).enumerate() {
            assert_eq!(
                *a == 0.0,
                *b == 0.0,
                "{name}: coefficient {j} selected differently ({a} vs {b})"
            );
        }
        let b = case["intercept"].as_f64().unwrap();
        assert!(
            (fit.intercept - b).abs() <= 1e-6 * b.abs().max(1.0),
            "{name}: intercept {} vs {b}",
            fit.intercept
        );
    }
}
