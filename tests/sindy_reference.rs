//! SINDy against PySINDy 2.1 on committed fixtures (`tests/fixtures/make_sindy_fixtures.py`): the same
//! terms, coefficients to 1e-6 relative, the same printed equations and score; and the differentiation
//! methods against PySINDy's derivatives.
mod common;
use common::{fixture, matrix, vector};
use ndarray::Array2;
use serde_json::Value;
use sparsimony::solvers::regression::Stlsq;
use sparsimony::solvers::sindy::{Differentiation, Library, Optimizer, Regularizer, Sindy, Sr3, Time, Trajectory};
use sparsimony::solvers::{Estimator, Score};

fn model_for(case: &Value) -> Sindy {
    let s = &case["settings"];
    let f = |k: &str| s[k].as_f64().unwrap();
    let u = |k: &str| s[k].as_u64().unwrap() as usize;
    let differentiation = match s["diff"].as_str() {
        Some("savgol") => Differentiation::SmoothedFiniteDifference {
            window: u("window"),
            polyorder: u("polyorder"),
            order: u("order"),
        },
        Some("fd") => Differentiation::finite_difference(u("order")),
        _ => Differentiation::default(),
    };
    let library = match s["library"].as_str().unwrap() {
        "poly" => Library::polynomial(u("degree")),
        "poly+fourier" => Library::polynomial(u("degree")).concat(Library::fourier(u("n_frequencies"))),
        other => panic!("unknown library {other}"),
    };
    let optimizer = match s["optimizer"].as_str().unwrap() {
        "stlsq" => Optimizer::Stlsq(Stlsq {
            alpha: f("alpha"),
            normalize_columns: s["normalize_columns"].as_bool().unwrap_or(false),
            threshold: f("threshold"),
            ..Stlsq::default()
        }),
        "sr3" => Optimizer::Sr3(Sr3 {
            lambda: f("lam"),
            regularizer: match s["regularizer"].as_str().unwrap() {
                "l0" => Regularizer::L0,
                _ => Regularizer::L1,
            },
            nu: f("nu"),
            tol: f("tol"),
            max_iter: u("max_iter"),
            ..Sr3::default()
        }),
        other => panic!("unknown optimizer {other}"),
    };
    Sindy {
        differentiation,
        library,
        optimizer,
        state_names: serde_json::from_value(case["feature_names"].clone()).unwrap(),
        control_names: None,
        discrete_time: s["discrete"].as_bool().unwrap_or(false),
        ..Sindy::default()
    }
}

#[test]
fn fits_agree_with_pysindy() {
    let f = fixture("sindy_references.json");
    for case in f["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let x = matrix(&case["x"]);
        let t_points;
        let time = if case["t"].is_array() {
            t_points = vector(&case["t"]);
            Time::Points(t_points.view())
        } else {
            Time::Step(case["t"].as_f64().unwrap())
        };
        let u = (!case["u"].is_null()).then(|| matrix(&case["u"]));
        let mut traj = Trajectory::new(x.view(), time);
        if let Some(u) = &u {
            traj = traj.with_control(u.view());
        }
        let model = model_for(case);
        let fit = model.fit(&[traj]).unwrap_or_else(|e| panic!("{name}: {e}"));

        let names: Vec<String> = serde_json::from_value(case["features"].clone()).unwrap();
        let ours: Vec<String> = fit.feature_names().iter().map(|s| s.replace("[k]", "")).collect();
        assert_eq!(ours, names, "{name}: feature names");

        let want = matrix(&case["coef"]);
        let got = fit.coefficients();
        assert_eq!(got.dim(), want.dim(), "{name}: coefficient shape");
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = got.iter().zip(&want).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / scale;
        for ((i, j), w) in want.indexed_iter() {
            assert_eq!(
                got[(i, j)] == 0.0,
                *w == 0.0,
                "{name}: term {} of state {i} selected differently",
                names[j]
            );
        }
        assert!(
            err < 1e-6,
            "{name}: relative coefficient error {err:e}\n{got}\nvs\n{want}"
        );

        let eqs: Vec<String> = serde_json::from_value(case["equations"].clone()).unwrap();
        assert_eq!(fit.equations(3), eqs, "{name}: printed equations");

        if let Some(score) = case["score"].as_f64() {
            let ours = fit.score((&[traj], &model.differentiation)).unwrap();
            assert!((ours - score).abs() < 1e-8, "{name}: R² {ours} vs PySINDy {score}");
        }
        eprintln!("{name}: coefficients agree to {err:.1e}");
    }
}

fn max_rel_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.iter().zip(b).fold(0.0f64, |m, (p, q)| m.max((p - q).abs())) / scale
}

#[test]
fn derivatives_agree_with_pysindy() {
    let f = fixture("sindy_references.json");
    let d = &f["derivatives"];

    let nu = &d["nonuniform"];
    let (x, t) = (matrix(&nu["x"]), vector(&nu["t"]));
    for (key, order, derivative) in [("fd2", 2, 1), ("fd4", 4, 1), ("fd3", 3, 1), ("fd2_d2", 2, 2)] {
        let method = Differentiation::FiniteDifference {
            order,
            derivative,
            drop_endpoints: false,
        };
        let ours = method.differentiate(x.view(), &Time::Points(t.view())).unwrap().x_dot;
        let err = max_rel_diff(&ours, &matrix(&nu[key]));
        assert!(err < 1e-9, "non-uniform {key}: {err:e}");
    }

    let sp = &d["spectral"];
    let (x, dt) = (matrix(&sp["x"]), sp["dt"].as_f64().unwrap());
    for (key, derivative) in [("d1", 1), ("d2", 2)] {
        let ours = Differentiation::Spectral { derivative }
            .differentiate(x.view(), &Time::Step(dt))
            .unwrap()
            .x_dot;
        let err = max_rel_diff(&ours, &matrix(&sp[key]));
        assert!(err < 1e-12, "spectral {key}: {err:e}");
    }

    let sg = &d["savgol"];
    let x = matrix(&sg["x"]);
    let method = Differentiation::SmoothedFiniteDifference {
        window: sg["window"].as_u64().unwrap() as usize,
        polyorder: sg["polyorder"].as_u64().unwrap() as usize,
        order: 2,
    };
    let ours = method
        .differentiate(x.view(), &Time::Step(sg["dt"].as_f64().unwrap()))
        .unwrap()
        .x_dot;
    let err = max_rel_diff(&ours, &matrix(&sg["d"]));
    assert!(err < 1e-10, "Savitzky–Golay: {err:e}");
}

#[test]
fn pde_find_agrees_with_pysindy() {
    use sparsimony::solvers::sindy::{PdeFind, PdeLibrary};
    let f = fixture("sindy_references.json");
    for case in f["pdes"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let u2 = matrix(&case["u"]);
        let u = u2
            .clone()
            .into_shape_with_order((u2.nrows(), u2.ncols(), 1))
            .unwrap()
            .into_dyn();
        let x = vector(&case["x"]);
        let lib = &case["library"];
        let opt = &case["optimizer"];
        let model = PdeFind {
            library: PdeLibrary {
                include_bias: lib["include_bias"].as_bool().unwrap(),
                function_library: Library::Polynomial {
                    degree: lib["degree"].as_u64().unwrap() as usize,
                    include_bias: false,
                    interaction_only: false,
                },
                derivative_order: lib["derivative_order"].as_u64().unwrap() as usize,
                ..PdeLibrary::default()
            },
            differentiation: Differentiation::default(),
            optimizer: Optimizer::Stlsq(Stlsq {
                alpha: opt["alpha"].as_f64().unwrap(),
                normalize_columns: opt["normalize_columns"].as_bool().unwrap_or(false),
                threshold: opt["threshold"].as_f64().unwrap(),
                ..Stlsq::default()
            }),
            field_names: None,
        };
        let fit = model
            .fit((u.view(), &[x.view()], Time::Step(case["dt"].as_f64().unwrap())))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let names: Vec<String> = serde_json::from_value(case["features"].clone()).unwrap();
        assert_eq!(fit.feature_names(), names.as_slice(), "{name}: feature names");
        let want = matrix(&case["coef"]);
        let err = max_rel_diff(fit.coefficients(), &want);
        for ((i, j), w) in want.indexed_iter() {
            assert_eq!(
                fit.coefficients()[(i, j)] == 0.0,
                *w == 0.0,
                "{name}: term {} selected differently",
                names[j]
            );
        }
        assert!(
            err < 1e-6,
            "{name}: relative coefficient error {err:e}\n{}\nvs\n{want}",
            fit.coefficients()
        );
        let eqs: Vec<String> = serde_json::from_value(case["equations"].clone()).unwrap();
        assert_eq!(fit.equations(3), eqs, "{name}: printed equations");
        eprintln!("{name}: coefficients agree to {err:.1e}");
    }
}
