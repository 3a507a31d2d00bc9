//! Property tests of hostile input: arbitrary bytes and strings fed to every reader and parser (CSV, `.npy`,
//! TOML problems, expressions), and arbitrary small data — NaN, ±∞, ±1e308, empty, constant and duplicated
//! columns — to the estimators. The properties: nothing panics, and every `Ok` result is finite. Case counts
//! are set per test (`PROPTEST_CASES` raises them all for a longer hunt).
use sparsimony::solvers::Estimator;
use std::path::PathBuf;

use ndarray::{Array1, Array2};
use proptest::prelude::*;
use sparsimony::io::read_table;
use sparsimony::solvers::gp_pde::Problem;
use sparsimony::solvers::gp_pde::expr::Expr;
use sparsimony::solvers::regression::path::CrossValidation;
use sparsimony::solvers::regression::{BestSubset, ElasticNet, Iht, LinearFit, Omp, Solver, Stlsq};
use sparsimony::solvers::sindy::{Sindy, Time, Trajectory};

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sparsimony-prop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A value as hostile data holds them: ordinary numbers mostly, and the edge cases.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -10.0..10.0f64,
        1 => Just(0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(1e308),
        1 => Just(-1e308),
        1 => Just(1e-310),
    ]
}

/// A value as clean data holds them (so that the fits run, not only the checks).
fn clean() -> impl Strategy<Value = f64> {
    prop_oneof![8 => -10.0..10.0f64, 1 => Just(0.0), 1 => -1e-3..1e-3f64]
}

/// A design of up to 12 × 5 values — half the time clean, half hostile — with a column possibly duplicated
/// or made constant, and a response.
fn data() -> impl Strategy<Value = (Array2<f64>, Array1<f64>)> {
    (0usize..13, 0usize..6, any::<bool>()).prop_flat_map(|(n, d, hostile)| {
        let v = move || if hostile { value().boxed() } else { clean().boxed() };
        (
            proptest::collection::vec(v(), n * d),
            proptest::collection::vec(v(), n),
            0usize..3,
        )
            .prop_map(move |(xs, ys, twist)| {
                let mut x = Array2::from_shape_vec((n, d), xs).unwrap();
                if d >= 2 && twist == 1 {
                    let c = x.column(0).to_owned();
                    x.column_mut(1).assign(&c);
                } else if d >= 1 && twist == 2 {
                    x.column_mut(0).fill(3.0);
                }
                (x, Array1::from(ys))
            })
    })
}

fn finite_fit(name: &str, f: &LinearFit) {
    assert!(
        f.coef.iter().all(|c| c.is_finite()) && f.intercept.is_finite() && f.objective.is_finite(),
        "{name}: a non-finite Ok result: {f:?}"
    );
    assert!(!f.report.reached.is_nan(), "{name}: NaN measure: {:?}", f.report);
}

/// `PROPTEST_CASES` when set, `default` otherwise.
fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok());
    ProptestConfig::with_cases(n.unwrap_or(default))
}

proptest! {
    #![proptest_config(cases(2000))]

    /// The readers never panic on arbitrary bytes.
    #[test]
    fn readers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), npy in any::<bool>()) {
        let path = temp(if npy { "f.npy" } else { "f.csv" }, &bytes);
        if let Ok(t) = read_table(&path) {
            prop_assert_eq!(t.values().ncols(), t.columns.len());
        }
    }

    /// `.npy` files with a valid magic and a mangled header or body never panic.
    #[test]
    fn npy_headers_never_panic(header in "[ -~]{0,80}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let h = header.as_bytes();
        bytes.extend_from_slice(&(h.len() as u16).to_le_bytes());
        bytes.extend_from_slice(h);
        bytes.extend_from_slice(&body);
        let _ = read_table(&temp("h.npy", &bytes));
    }

    /// Expressions: any string parses or is refused; a parsed one evaluates without panicking.
    #[test]
    fn expressions_never_panic(text in "[-+*/^(),.0-9a-z xy]{0,40}") {
        if let Ok(e) = Expr::parse(&text, &["x", "y"], &[("a", 2.0)]) {
            let _ = e.eval(&[0.3, -1.7]);
        }
    }

    /// TOML problems: arbitrary text, and a valid problem with a stretch of it replaced, parse or are
    /// refused; a parsed small problem discretises or is refused, never panics.
    #[test]
    fn problems_never_panic(noise in "[ -~\n]{0,60}", at in 0usize..200) {
        let valid = "name = \"p\"\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 12\n[[equation]]\n\
                     operator = \"u_xx\"\nsource = \"-sin(x)\"\n[boundary]\nu = \"sin(x)\"\n";
        let cut = at.min(valid.len());
        let cut = (0..=cut).rev().find(|&c| valid.is_char_boundary(c)).unwrap_or(0);
        for text in [noise.clone(), format!("{}{}{}", &valid[..cut], noise, &valid[cut..])] {
            if let Ok(p) = Problem::from_toml(&text) {
                let points: usize = p.axes().iter().map(|a| a.points).product();
                if points <= 10_000 {
                    let _ = p.discretize();
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(cases(1000))]

    /// Every regression estimator on hostile data: an error, or a finite fit.
    #[test]
    fn regression_estimators_never_panic_and_fit_finite((x, y) in data(), alpha in prop_oneof![Just(0.0), Just(0.1), Just(1e300)]) {
        let (xv, yv) = (x.view(), y.view());
        for solver in [Solver::CoordinateDescent, Solver::Fista] {
            let m = ElasticNet { alpha, solver, max_iter: 200, ..ElasticNet::default() };
            if let Ok(f) = m.fit((xv, yv)) { finite_fit("elastic net", &f); }
        }
        if let Ok(f) = (Omp { n_nonzero: Some(1), ..Omp::default() }).fit((xv, yv)) { finite_fit("omp", &f); }
        if let Ok(f) = (Iht { n_nonzero: Some(1), max_iter: 200, ..Iht::default() }).fit((xv, yv)) { finite_fit("iht", &f); }
        if let Ok(f) = Stlsq::default().fit((xv, yv)) { finite_fit("stlsq", &f); }
        if let Ok(f) = (BestSubset { n_nonzero: Some(1), ..BestSubset::default() }).fit((xv, yv)) { finite_fit("best subset", &f); }
        let cv = CrossValidation { folds: 2, n_alphas: 3, model: ElasticNet { max_iter: 100, ..ElasticNet::default() }, ..CrossValidation::default() };
        if let Ok(f) = cv.fit((xv, yv)) {
            finite_fit("cross-validation", &f.fit);
            prop_assert!(f.mse_path.iter().all(|v| v.is_finite()));
        }
    }

    /// SINDy on hostile trajectories: an error, or finite coefficients.
    #[test]
    fn sindy_never_panics_and_fits_finite((x, _) in data(), dt in prop_oneof![Just(0.1), Just(1e-300), Just(1e300)]) {
        if let Ok(f) = Sindy::default().fit(&[Trajectory::new(x.view(), Time::Step(dt))]) {
            prop_assert!(f.coefficients().iter().all(|c| c.is_finite()), "{:?}", f.coefficients());
        }
    }
}

/// The generated data are clean often enough that the fits themselves run (not only the input checks).
#[test]
fn the_generated_data_reach_the_fits() {
    let mut runner = proptest::test_runner::TestRunner::new(cases(128));
    let ok = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&data(), |(x, y)| {
            if (ElasticNet {
                alpha: 0.1,
                ..ElasticNet::default()
            })
            .fit((x.view(), y.view()))
            .is_ok()
            {
                ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    let ok = ok.into_inner();
    assert!(ok >= 20, "only {ok} of the generated problems were fitted");
}
