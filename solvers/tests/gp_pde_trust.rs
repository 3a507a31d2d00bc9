//! What says whether to trust a GP-PDE solution: the stability estimate (`gp_pde::stability`) against
//! closed forms — the smallest eigenvalue of Helmholtz operators on intervals and squares with Dirichlet
//! data, a null space found, the estimated error against the true error of solutions that are not
//! resolved to round-off — and the refinement that selects by it (`gp_pde::refine`).

use sparsimony_solvers::Estimator;
use std::ops::ControlFlow;

use sparsimony_solvers::gp_pde::accuracy::{residual_indicator, test_errors};
use sparsimony_solvers::gp_pde::refine::{MAX_RAISES, PRECISION_STEP, Refine, solve_refined};
use sparsimony_solvers::gp_pde::stability::{Shortfall, shortfall, stability};
use sparsimony_solvers::gp_pde::suite::{Class, Family, Suite, manufactured};
use sparsimony_solvers::gp_pde::{FrequencyInit, Method, Problem, Settings, settings_for};

fn solved(text: &str) -> (Problem, sparsimony_solvers::gp_pde::Solution) {
    let p = Problem::from_toml(text).unwrap();
    let s = Settings {
        method: Method::Exact,
        iterations: 30,
        learning_rate: 0.01,
        ..Settings::default()
    };
    let solution = s.fit(&p.discretize().unwrap()).unwrap();
    (p, solution)
}

/// A Helmholtz problem `Δu + k2·u` on `[0, upper]^dims` with Dirichlet data from `u`.
fn helmholtz(dims: usize, upper: &str, points: usize, k2: f64, u: &str) -> String {
    let names = ["x", "y"];
    let mut t = "name = \"h\"\n".to_string();
    for a in &names[..dims] {
        t.push_str(&format!(
            "[[axis]]\nname = \"{a}\"\nlower = 0\nupper = {upper}\npoints = {points}\n"
        ));
    }
    let laplacian = if dims == 1 { "u_xx" } else { "u_xx + u_yy" };
    t + &format!("[[equation]]\noperator = \"{laplacian} + {k2}*u\"\n[exact]\nu = \"{u}\"\n")
}

#[test]
fn the_smallest_eigenvalue_matches_the_closed_form_and_a_null_space_is_found() {
    // u_xx + k²u on [0, 2π]: eigenvalues k² − n²/4, n ≥ 1. k² = 4 is one of them (n = 4): sin(2x)
    // solves the homogeneous problem, and the data cannot fix its multiple.
    let tau = "6.283185307179586";
    for u in ["0", "sin(x) + 0.3*sin(3*x)"] {
        let (p, s) = solved(&helmholtz(1, tau, 120, 4.0, u));
        let st = stability(&p, &s).unwrap().unwrap();
        assert!(st.singular() && st.estimate.is_infinite(), "u = {u}: {st:?}");
        let indicator = residual_indicator(&p, &s).unwrap();
        assert!(indicator.null_space() && indicator.value().is_infinite());
    }
    // k² = 4.5: the nearest eigenvalue is 4.5 − 16/4 = 0.5, away from zero.
    let (p, s) = solved(&helmholtz(1, tau, 120, 4.5, "sin(x) + 0.3*sin(3*x)"));
    let st = stability(&p, &s).unwrap().unwrap();
    assert!(!st.singular(), "{st:?}");
    assert!((st.eigenvalue - 0.5).abs() < 5e-3, "{st:?}");
    // Δu + 60u on [0, 1]²: eigenvalues 60 − π²(m² + n²); the nearest zero is 60 − 5π² = 10.65.
    let (p, s) = solved(&helmholtz(2, "1", 40, 60.0, "sin(3*x)*exp(y) + x*y"));
    let st = stability(&p, &s).unwrap().unwrap();
    let exact = 60.0 - 5.0 * std::f64::consts::PI.powi(2);
    assert!(
        !st.singular() && (st.eigenvalue - exact).abs() < 1e-2 * exact,
        "{st:?} against {exact}"
    );
    // Poisson on [0, 1]: π², the first Dirichlet eigenvalue of −u_xx.
    let (p, s) = solved(&helmholtz(1, "1", 80, 0.0, "sin(5*x) + x"));
    let st = stability(&p, &s).unwrap().unwrap();
    let pi2 = std::f64::consts::PI.powi(2);
    assert!((st.eigenvalue - pi2).abs() < 1e-3 * pi2, "{st:?}");
    // k² = 12.5π² on [0, 1], between (3π)² and (4π)²: two eigenvalues of opposite signs, ±3.5π², share
    // the smallest modulus (their mixture's Rayleigh quotient is near zero: no null space for all that).
    let (p, s) = solved(&helmholtz(1, "1", 140, 12.5 * pi2, "sin(7*x) + x"));
    let st = stability(&p, &s).unwrap().unwrap();
    assert!(
        !st.singular() && (st.eigenvalue - 3.5 * pi2).abs() < 2e-2 * 3.5 * pi2,
        "{st:?}"
    );
    // (19π)² on [0, 1]: sin(19πx) solves the homogeneous problem; at 100 points, 10 per wavelength.
    let (p, s) = solved(&helmholtz(
        1,
        "1",
        100,
        (19.0 * std::f64::consts::PI).powi(2),
        "sin(3*x)",
    ));
    let st = stability(&p, &s).unwrap().unwrap();
    assert!(st.singular(), "{st:?}");
    // A resonance the grid places too high (k = 60, 150 points: 15 per wavelength, the nearest eigenvalue
    // 37 placed near 84), well posed: not a null space.
    let (p, s) = solved(&helmholtz(1, "1", 150, 3600.0, "sin(3*x) + x"));
    let st = stability(&p, &s).unwrap().unwrap();
    assert!(!st.singular(), "{st:?}");
}

#[test]
fn the_estimate_follows_the_true_error_where_the_residual_alone_does_not() {
    // Indefinite Helmholtz from the suite's class, on grids coarse enough for errors of 2e-4 to 1e-2:
    // the estimate within a factor 3 below and 4 above the true error on every one. Measured when
    // written: 0.92–1.05 of the error in 1D; 0.70–3.49 on the 40² grid (12 points per wavelength), where
    // the auxiliary problem's own second-order error shifts the resonances it is to measure.
    let mut checked = 0;
    for (dims, points) in [(1, 60), (1, 90), (2, 40)] {
        for seed in 0..4 {
            let m = manufactured(
                Class::IndefiniteHelmholtz,
                Family::IndefiniteHelmholtz,
                dims,
                points,
                seed,
            )
            .unwrap();
            let (p, s) = solved(&m.toml);
            let error = test_errors(&p, &s).unwrap().unwrap().0;
            let estimate = stability(&p, &s).unwrap().unwrap().estimate;
            if error < 1e-7 {
                continue;
            }
            assert!(
                (1.0 / 3.0..=4.0).contains(&(estimate / error)),
                "{}: estimate {estimate:e}, error {error:e}",
                m.describe()
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "{checked} problems with errors above 1e-7");
}

#[test]
fn the_estimate_stays_out_of_problems_beyond_its_scope() {
    // A space-time problem without data on its final face, and a first-order equation: no estimate.
    let heat = "name = \"heat\"\n[[axis]]\nname = \"t\"\nlower = 0\nupper = 1\npoints = 20\n[[axis]]\nname = \"x\"\n\
                lower = 0\nupper = 1\npoints = 20\n[[equation]]\noperator = \"u_t - 0.1*u_xx\"\n[boundary]\n\
                faces = [\"t-\", \"x-\", \"x+\"]\n[exact]\nu = \"exp(-0.1*t)*sin(x)\"\n";
    let advection = "name = \"a\"\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 40\n[[equation]]\n\
                     operator = \"u_x\"\n[exact]\nu = \"sin(3*x)\"\n";
    for text in [heat, advection] {
        let (p, s) = solved(text);
        assert!(stability(&p, &s).unwrap().is_none());
        assert!(residual_indicator(&p, &s).unwrap().stability.is_none());
    }
}

#[test]
fn refinement_keeps_the_solve_its_measure_prefers_and_that_solve_is_the_more_accurate() {
    // An indefinite Helmholtz problem on 40² (conjugate gradients, ln v = 20 at first): its residual,
    // amplified by the operator, leaves an error the estimate sees; raised precisions lower both.
    let m = manufactured(Class::IndefiniteHelmholtz, Family::IndefiniteHelmholtz, 2, 40, 15).unwrap();
    let s = settings_for(&m.problem, Method::Exact, None, None);
    let go = |refine: Refine| solve_refined(&m.problem, &s, refine, |_| ControlFlow::Continue(())).unwrap();
    let once = go(Refine::OFF);
    assert_eq!(once.attempts.len(), 1);
    let refined = go(Refine {
        target: 1e-12,
        other_spectrum: false,
    });
    // The raises, then (the target unmet) the broadband start in the given family at the best raise's
    // precisions.
    let (band, raises) = refined.attempts.split_last().unwrap();
    let n = raises.len();
    assert!((2..=MAX_RAISES + 1).contains(&n), "{:?}", refined.attempts);
    for (i, a) in raises.iter().enumerate() {
        assert_eq!(
            a.log_precisions[0],
            s.log_equation_precision + i as f64 * PRECISION_STEP
        );
        assert_eq!((a.start, a.spectrum), (FrequencyInit::Source, s.spectrum));
    }
    for a in &refined.attempts {
        assert!(a.measure >= refined.attempts[refined.chosen].measure);
    }
    let best_raise = raises.iter().map(|a| a.measure).fold(f64::INFINITY, f64::min);
    let at = raises.iter().find(|a| a.measure == best_raise).unwrap();
    assert_eq!(
        (band.start, band.spectrum, band.log_precisions),
        (FrequencyInit::Band, s.spectrum, at.log_precisions)
    );
    // The raises stop where one stops helping, or at the cap.
    assert!(n == MAX_RAISES + 1 || raises[n - 1].measure >= raises[n - 2].measure);
    assert_eq!(refined.attempts[0].measure, once.attempts[0].measure);
    let error =
        |r: &sparsimony_solvers::gp_pde::refine::Refined| test_errors(&m.problem, &r.solution).unwrap().unwrap().0;
    let (first, kept) = (error(&once), error(&refined));
    assert!(
        refined.chosen > 0 && kept < 0.5 * first,
        "kept {kept:e} against the first solve's {first:e}"
    );
    // Adam learns its precisions: one solve whatever the target.
    let adam = Settings {
        method: Method::Adam,
        iterations: 3,
        ..s.clone()
    };
    let r = solve_refined(&m.problem, &adam, Refine::DEFAULT, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(r.attempts.len(), 1);
}

#[test]
fn the_other_family_then_the_broadband_start_are_tried_last_and_the_lowest_estimate_kept() {
    // The 1D indefinite Helmholtz problem of `refine`'s module text: k = 30, a wave of 45 rad per unit
    // and a bump on 200 points; measured when written: Student-t stays at 3.4e-4 at every precision,
    // the Gaussian family reaches 4e-5 at the best Student-t attempt's precision.
    let m = manufactured(Class::IndefiniteHelmholtz, Family::IndefiniteHelmholtz, 1, 200, 37).unwrap();
    let s = settings_for(&m.problem, Method::Exact, None, None);
    let r = solve_refined(&m.problem, &s, Refine::DEFAULT, |_| ControlFlow::Continue(())).unwrap();
    let last = r.attempts.last().unwrap();
    assert_eq!(
        last.spectrum,
        sparsimony_solvers::gp_pde::Spectrum::Gaussian,
        "{:?}",
        r.attempts
    );
    // Gaussian last twice: the other family from the peaks, then the broadband start (the target of
    // 1e-5 was not met); the raises before them in the given family.
    let n = r.attempts.len();
    assert!(
        r.attempts[..n - 2]
            .iter()
            .all(|a| a.spectrum == s.spectrum && a.start == FrequencyInit::Source)
    );
    assert_eq!(
        (r.attempts[n - 2].spectrum, r.attempts[n - 2].start),
        (sparsimony_solvers::gp_pde::Spectrum::Gaussian, FrequencyInit::Source)
    );
    assert_eq!(last.start, FrequencyInit::Band);
    let best = r.attempts.iter().map(|a| a.measure).fold(f64::INFINITY, f64::min);
    assert_eq!(r.attempts[r.chosen].measure, best);
    let error = test_errors(&m.problem, &r.solution).unwrap().unwrap().0;
    assert!(error < 1e-4, "{error:e}: {:?}", r.attempts);
}

/// A problem on `[0, 1]^n` (the axes named by `axes`) with the given fields, operators, Dirichlet faces and
/// exact solutions.
fn posed(axes: &str, fields: &[&str], operators: &[&str], faces: &str, exact: &[&str]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("\"{f}\"")).collect();
    let mut t = format!("name = \"p\"\nfields = [{}]\n", quoted.join(", "));
    for a in axes.chars() {
        t.push_str(&format!(
            "[[axis]]\nname = \"{a}\"\nlower = 0\nupper = 1\npoints = 24\n"
        ));
    }
    for o in operators {
        t.push_str(&format!("[[equation]]\noperator = \"{o}\"\n"));
    }
    t.push_str(&format!("[boundary]\nfaces = {faces}\n[exact]\n"));
    for (f, e) in fields.iter().zip(exact) {
        t.push_str(&format!("{f} = \"{e}\"\n"));
    }
    t
}

#[test]
fn boundary_data_too_few_for_the_equations_orders_are_counted_and_flagged() {
    let count = |text: &str| shortfall(&Problem::from_toml(text).unwrap()).unwrap();
    let laplace = |faces: &str| posed("xy", &["u"], &["u_xx + u_yy"], faces, &["sin(3*x)*sinh(3*y) + x*y"]);
    // Laplace's equation without data on one face: sin(πx)·sinh(πy)-like modes can be added.
    assert_eq!(
        count(&laplace(r#"["x-", "x+", "y-"]"#)),
        Some(Shortfall {
            axis: 1,
            order: 2,
            faces: [true, false]
        })
    );
    assert_eq!(count(&laplace(r#"["x-", "x+", "y-", "y+"]"#)), None);
    // Enough data, or none needed: the heat equation's final face; an axis with no derivative along it;
    // a first-order system (u_x = v, v_x = f) with data at one end, an initial-value problem; a
    // degenerate face (x·u_xx + u_x at x = 0, where bounded solutions need no data).
    let heat = posed(
        "tx",
        &["u"],
        &["u_t - 0.1*u_xx"],
        r#"["t-", "x-", "x+"]"#,
        &["exp(-t)*sin(x)"],
    );
    let ode_family = posed("xy", &["u"], &["u_xx + u"], r#"["x-", "x+"]"#, &["sin(2*x)*cos(y)"]);
    let system = |faces| {
        posed(
            "x",
            &["u", "v"],
            &["u_x - v", "v_x"],
            faces,
            &["sin(2*x)", "2*cos(2*x)"],
        )
    };
    let degenerate = posed("x", &["u"], &["x*u_xx + u_x"], r#"["x+"]"#, &["cos(2*x)"]);
    for text in [heat, ode_family, system(r#"["x-"]"#), degenerate] {
        assert_eq!(count(&text), None, "{text}");
    }
    // Too few: the system without data; a fourth derivative with values alone; the degenerate equation
    // without its one face.
    assert_eq!(count(&system("[]")).map(|s| s.order), Some(1));
    let plate = posed("x", &["u"], &["u_xxxx"], r#"["x-", "x+"]"#, &["sin(2*x)"]);
    assert_eq!(count(&plate).map(|s| (s.axis, s.order)), Some((0, 4)));
    let degenerate = posed("x", &["u"], &["x*u_xx + u_x"], r#"["x-"]"#, &["cos(2*x)"]);
    assert_eq!(count(&degenerate).map(|s| s.order), Some(2));
    // Fichera's condition, b ≥ a' where a vanishes: x·u_xx + b·u_x at x = 0 has the second homogeneous
    // solution x^(1−b), bounded (so not fixed by boundedness) for b < 1; the same mirrored at x = 1; a
    // coefficient that is only small at the face (e^(30x) at 0) is no degenerate face.
    for (operator, face, short) in [
        ("x*u_xx", "x+", true),
        ("x*u_xx + 0.5*u_x", "x+", true),
        ("x*u_xx + 2*u_x", "x+", false),
        ("(1 - x)*u_xx - u_x", "x-", false),
        ("(1 - x)*u_xx + u_x", "x-", true),
        ("exp(30*x)*u_xx", "x+", true),
    ] {
        let text = posed("x", &["u"], &[operator], &format!("[\"{face}\"]"), &["cos(2*x)"]);
        assert_eq!(count(&text).is_some(), short, "{operator} with {face}");
    }
    // A term whose coefficient vanishes everywhere does not set the order.
    let text = posed("x", &["u"], &["e*x*u_xxxx + u_xx"], r#"["x-", "x+"]"#, &["cos(2*x)"])
        .replace("fields", "parameters = { e = 0 }\nfields");
    assert_eq!(count(&text), None);

    // Solved, the one-face-short Laplace problem is flagged whatever its residuals: an infinite estimate,
    // not trusted, not refined, and the words name the axis and the face given. Its error is far from
    // the same problem's with the fourth face.
    let text = laplace(r#"["x-", "x+", "y-"]"#);
    let (p, s) = solved(&text);
    let indicator = residual_indicator(&p, &s).unwrap();
    assert!(indicator.null_space() && indicator.value().is_infinite() && !indicator.trusted(1.0));
    assert_eq!(indicator.estimate(), Some(f64::INFINITY));
    let words = indicator.shortfall.unwrap().describe(&p);
    assert!(
        words.contains("along `y`")
            && words.contains("on y- only")
            && words.contains("both faces of `y`")
            && words.contains("first-order system"),
        "{words}"
    );
    let settings = settings_for(&p, Method::Exact, None, None);
    let r = solve_refined(&p, &settings, Refine::DEFAULT, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(r.attempts.len(), 1);
    assert!(r.indicator.null_space());
    let error = test_errors(&p, &r.solution).unwrap().unwrap().0;
    let full = Problem::from_toml(&laplace(r#"["x-", "x+", "y-", "y+"]"#)).unwrap();
    let f = solve_refined(&full, &settings, Refine::DEFAULT, |_| ControlFlow::Continue(())).unwrap();
    let full_error = test_errors(&full, &f.solution).unwrap().unwrap().0;
    // No problem of the suites is short of data (their space-time problems leave the final face free,
    // first order in time), nor any built-in benchmark.
    for dims in 1..=3 {
        for suite in [Suite::today(dims, 8), Suite::broad(dims, 8)] {
            for i in 0..3 * suite.classes.len() as u64 {
                let m = suite.problem(i).unwrap();
                assert_eq!(shortfall(&m.problem).unwrap(), None, "{}", m.describe());
            }
        }
    }
    for name in Problem::benchmark_names() {
        assert_eq!(shortfall(&Problem::benchmark(name).unwrap()).unwrap(), None, "{name}");
    }
    // Measured when written: 0.91 against 1.1e-4 with the fourth face.
    assert!(
        error > 0.1 && full_error < 1e-3 && !f.indicator.null_space(),
        "one face short: {error:e}; all faces: {full_error:e}"
    );
}

#[test]
fn a_step_the_dense_factorisation_refuses_is_taken_by_conjugate_gradients() {
    // Out of the suite's seeds (1D broadened, seed 210): a Gaussian-modulated wave under Allen–Cahn on
    // 200 points, whose Gauss–Newton matrix (positive definite in exact arithmetic) fails Cholesky at
    // working precision. It once stopped the solve with a typed "singular" error, with refinement off
    // too; measured when written: 4.7e-6, the estimate 4.7e-6.
    let text = "name = \"ac\"\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 200\n[[equation]]\n\
                operator = \"u_xx + u*(u^2 - 1)\"\n[exact]\n\
                u = \"(-0.9091)*exp(-((x - 0.5362)^2)/0.0211)*sin(38.3322*x + 5.7687)\"\n";
    let p = Problem::from_toml(text).unwrap();
    let s = settings_for(&p, Method::Exact, None, None);
    let mut cg = 0;
    let r = solve_refined(&p, &s, Refine::OFF, |it| {
        cg += it.cg_iterations;
        ControlFlow::Continue(())
    })
    .unwrap();
    assert!(cg > 0, "the dense path never fell back");
    let error = test_errors(&p, &r.solution).unwrap().unwrap().0;
    let estimate = r.indicator.estimate().unwrap();
    assert!(
        error < 1e-4 && estimate < 1e-4 && r.indicator.trusted(3e-4),
        "{error:e}, {:?}",
        r.indicator
    );
}

#[test]
fn a_chirp_is_solved_from_the_broadband_start() {
    // A chirp's local frequency sweeps a band (here 0 to 42 rad per unit) where the peaks start finds a
    // cluster of poles; from them the solves stayed at 8e-5 (Student-t) and 1.2e-4 (Gaussian), from
    // components spread over the band 1.9e-7 (measured when written, as the broadened 1D suite's
    // chirp, seed 1).
    let text = "name = \"chirp\"\nparameters = { k = 1.805 }\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 200\n\
                [[equation]]\noperator = \"u_xx + k^2*u\"\n[exact]\nu = \"(-0.6206)*sin(20.9662*(x^2) + 1.7825)\"\n";
    let p = Problem::from_toml(text).unwrap();
    let s = settings_for(&p, Method::Exact, None, None);
    let r = solve_refined(&p, &s, Refine::DEFAULT, |_| ControlFlow::Continue(())).unwrap();
    let kept = r.attempts[r.chosen];
    assert_eq!(kept.start, FrequencyInit::Band, "{:?}", r.attempts);
    assert!(
        r.attempts
            .iter()
            .filter(|a| a.start == FrequencyInit::Source)
            .all(|a| a.measure > 1e-5)
    );
    let error = test_errors(&p, &r.solution).unwrap().unwrap().0;
    assert!(error < 1e-6 && kept.measure < 1e-6, "{error:e}: {:?}", r.attempts);
}
