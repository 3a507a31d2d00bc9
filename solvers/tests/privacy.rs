//! The LDP estimators against what must hold whatever the noise: consistency as the privacy loss grows
//! (the non-private answer), the error falling like `n^{-1/2}` (the rates' exponent in `n`), support
//! recovery where the noise allows it, the simulation shortcut equal in distribution to the per-user path,
//! and typed errors for bad settings and data.

use ndarray::{Array1, Array2};
use sparsimony_solvers::Error;
use sparsimony_solvers::Estimator;
use sparsimony_solvers::privacy::{Baseline, LdpIht, NonInteractive, Population, Scaling};
use sparsimony_solvers::regression::{ElasticNet, Iht};

fn l2_error(coef: &Array1<f64>, theta: &Array1<f64>) -> f64 {
    coef.iter().zip(theta).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt()
}

/// Least squares on the log-log points: the slope.
fn slope(x: &[f64], y: &[f64]) -> f64 {
    let (lx, ly): (Vec<f64>, Vec<f64>) = (x.iter().map(|v| v.ln()).collect(), y.iter().map(|v| v.ln()).collect());
    let (mx, my) = (
        lx.iter().sum::<f64>() / lx.len() as f64,
        ly.iter().sum::<f64>() / ly.len() as f64,
    );
    let num: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let den: f64 = lx.iter().map(|a| (a - mx).powi(2)).sum();
    num / den
}

#[test]
fn non_interactive_is_consistent_without_noise_and_falls_like_one_over_root_n() {
    let pop = Population::sparse(3, 2, 0.5).unwrap();
    // Clipping at 3 (a data-independent choice, so the guarantee holds as stated) biases the clipped
    // statistics by well under 1 % on this unit-scale data.
    let base = NonInteractive {
        clip_x: Some(3.0),
        clip_y: Some(3.0),
        threshold: 0.0,
        eigenvalue_floor: 0.5,
        scaling: Scaling::Given,
        ..NonInteractive::default()
    };
    // A large ε: the answer approaches least squares on the clipped data, i.e. θ*.
    let loose = NonInteractive {
        epsilon: 400.0,
        k: Some(2),
        ..base.clone()
    };
    let fit = loose.simulate(&pop, 200_000, 0, 1).unwrap();
    assert_eq!(fit.support, vec![0, 1]);
    assert!(l2_error(fit.coef(), &pop.theta) < 0.06, "{:?}", fit.coef());
    assert_eq!(fit.messages_per_user, 2);
    assert_eq!((fit.guarantee.epsilon, fit.guarantee.delta), (400.0, 1e-5));

    // At ε = 2 the error falls with n at the slope −½ of the rate Õ(d√k/(√n ε)) (mean over seeds).
    let private = NonInteractive { epsilon: 2.0, ..base };
    let mean_error = |n: usize, public: usize| {
        (0..4)
            .map(|s| {
                let est = NonInteractive {
                    seed: s,
                    ..private.clone()
                };
                l2_error(est.simulate(&pop, n, public, 100 + s).unwrap().coef(), &pop.theta)
            })
            .sum::<f64>()
            / 4.0
    };
    let ns = [1e6, 1e7];
    let errors: Vec<f64> = ns.iter().map(|&n| mean_error(n as usize, 0)).collect();
    let b = slope(&ns, &errors);
    assert!((-0.75..=-0.3).contains(&b), "slope {b} from errors {errors:?}");

    // Public unlabeled data: the covariance is noise-free and the users' whole budget goes to x y.
    let public = mean_error(1_000_000, 100_000);
    assert!(
        public < errors[0],
        "public data did not help: {public} against {}",
        errors[0]
    );
    let one = NonInteractive { seed: 1, ..private }
        .simulate(&pop, 1000, 1000, 3)
        .unwrap();
    assert_eq!(one.messages_per_user, 1);
}

#[test]
fn the_gaussian_sum_shortcut_has_the_per_user_distribution() {
    // The same users, fitted with every message drawn per user and with the noise sum drawn at once: over
    // seeds, the estimates' means and spreads agree within sampling error.
    let pop = Population::sparse(3, 1, 0.3).unwrap();
    let (x, y) = pop.sample(11, 0, 2000).unwrap();
    let est = NonInteractive {
        epsilon: 2.0,
        threshold: 0.0,
        clip_x: Some(2.5),
        clip_y: Some(2.5),
        scaling: Scaling::Given,
        ..NonInteractive::default()
    };
    let runs = 60;
    let (mut per_user, mut shortcut) = (Vec::new(), Vec::new());
    for s in 0..runs {
        let e = NonInteractive { seed: s, ..est.clone() };
        per_user.push(e.fit((x.view(), y.view())).unwrap().coef()[0]);
        shortcut.push(e.simulate(&pop, 2000, 0, 11).unwrap().coef()[0]);
    }
    let stats = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (
            m,
            (v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt(),
        )
    };
    let ((ma, sa), (mb, sb)) = (stats(&per_user), stats(&shortcut));
    let se = ((sa * sa + sb * sb) / runs as f64).sqrt();
    assert!((ma - mb).abs() < 4.0 * se, "means {ma} and {mb} (standard error {se})");
    assert!((sa / sb - 1.0).abs() < 0.45, "spreads {sa} and {sb}");
}

#[test]
fn ldp_iht_recovers_the_support_where_the_noise_allows_and_improves_with_n() {
    let pop = Population::sparse(4, 1, 0.1).unwrap();
    let est = LdpIht {
        epsilon: 8.0,
        k: 1,
        sparsity_factor: 1,
        clip_x: Some(1.5),
        clip_y: Some(1.5),
        ..LdpIht::default()
    };
    let fit = est.simulate(&pop, 100_000, 5).unwrap();
    assert_eq!(fit.support, vec![0], "{:?}", fit.coef());
    assert_eq!(fit.messages_per_user, 1);
    assert_eq!(fit.guarantee.delta, 0.0);
    // Batches sized from the messages: within the paper's T = ⌈ln n⌉ rounds; as set when set.
    assert!((1..=(100_000f64).ln().ceil() as usize).contains(&fit.linear.report.iterations));
    let seven = LdpIht {
        rounds: Some(7),
        ..est.clone()
    };
    assert_eq!(seven.simulate(&pop, 10_000, 5).unwrap().linear.report.iterations, 7);
    // The same protocol on rows given as data (the per-user path of `fit`) agrees with the simulation of
    // the same users.
    let (x, y) = pop.sample(5, 0, 20_000).unwrap();
    let a = est.fit((x.view(), y.view())).unwrap();
    let b = est.simulate(&pop, 20_000, 5).unwrap();
    assert_eq!(a.coef(), b.coef());
    // More users, smaller error (mean over seeds).
    let mean_error = |n: usize| {
        (0..4)
            .map(|s| {
                l2_error(
                    LdpIht { seed: s, ..est.clone() }
                        .simulate(&pop, n, 20 + s)
                        .unwrap()
                        .coef(),
                    &pop.theta,
                )
            })
            .sum::<f64>()
            / 4.0
    };
    let (small, large) = (mean_error(10_000), mean_error(200_000));
    assert!(large < small, "error {small} at 1e4 users, {large} at 2e5");
}

/// The default radius `√d` against the paper's worst-case bound `r̄` (with its `k′ = 8k` and `T = ⌈ln n⌉`)
/// on the same users: clipping the gradients keeps the iteration's fixed point (the documented Stein
/// argument), so the default recovers the support where `r̄`'s noise, about 40× larger here, buries it.
#[test]
fn the_default_radius_recovers_the_support_where_the_worst_case_radius_cannot() {
    let pop = Population::sparse(20, 2, 1.0).unwrap();
    let n = 50_000;
    let (mut default_hits, mut paper_hits, mut paper_error) = (0, 0, 0.0f64);
    for s in 0..4 {
        let default = LdpIht {
            k: 2,
            seed: s,
            ..LdpIht::default()
        }
        .simulate(&pop, n, 10 + s)
        .unwrap();
        let paper = LdpIht {
            k: 2,
            seed: s,
            sparsity_factor: 8,
            rounds: Some((n as f64).ln().ceil() as usize),
            radius: Some(f64::MAX),
            ..LdpIht::default()
        }
        .simulate(&pop, n, 10 + s)
        .unwrap();
        default_hits += usize::from(default.support == [0, 1]);
        paper_hits += usize::from(paper.support == [0, 1]);
        paper_error = paper_error.max(l2_error(paper.coef(), &pop.theta));
    }
    assert!(
        default_hits >= 3,
        "the default recovered the support in {default_hits} of 4 seeds"
    );
    assert_eq!(paper_hits, 0);
    assert!(paper_error > 0.8, "worst-case radius error {paper_error}");
}

/// The non-private baselines, streamed into normal equations, equal the regression module's estimators
/// fitted on the same users' records materialised as a matrix.
#[test]
fn baselines_equal_the_regression_estimators_on_the_materialised_records() {
    let pop = Population::sparse(12, 3, 0.5).unwrap();
    let n = 3000;
    let (x, y) = pop.sample(7, 0, n).unwrap();
    let lasso = Baseline::Lasso.simulate(&pop, n, 7).unwrap();
    let direct = ElasticNet {
        alpha: 0.5 * (2.0 * 24f64.ln() / n as f64).sqrt(),
        l1_ratio: 1.0,
        fit_intercept: false,
        tol: 1e-12,
        ..ElasticNet::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    for (a, b) in lasso.coef.iter().zip(&direct.coef) {
        assert!((a - b).abs() < 1e-6, "{} vs {}", lasso.coef, direct.coef);
    }
    let iht = Baseline::Iht { k: 3 }.simulate(&pop, n, 7).unwrap();
    let direct = Iht {
        n_nonzero: Some(3),
        fit_intercept: false,
        ..Iht::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    for (a, b) in iht.coef.iter().zip(&direct.coef) {
        assert!((a - b).abs() < 1e-9, "{} vs {}", iht.coef, direct.coef);
    }
    assert!((iht.objective - direct.objective).abs() < 1e-9 * direct.objective.abs().max(1.0));
}

/// Where the covariance messages' noise dominates (d = 10, 10⁵ users), the noise-level eigenvalue floor
/// keeps the solve from amplifying it: the error stays at the scale of `‖θ*‖ = 1` (it reached 10–100
/// with a floor relative to the trace alone).
#[test]
fn the_noise_level_floor_keeps_a_noise_dominated_covariance_from_amplifying() {
    let pop = Population::sparse(10, 2, 1.0).unwrap();
    for s in 0..3 {
        let fit = NonInteractive {
            k: Some(2),
            clip_x: Some(2.0),
            clip_y: Some(2.0),
            seed: s,
            ..NonInteractive::default()
        }
        .simulate(&pop, 100_000, 0, 30 + s)
        .unwrap();
        let e = l2_error(fit.coef(), &pop.theta);
        assert!(e < 1.5, "error {e}: {}", fit.coef());
    }
}

#[test]
fn bad_settings_and_data_are_typed_errors() {
    let pop = Population::sparse(4, 2, 1.0).unwrap();
    fn bad<T: std::fmt::Debug>(r: Result<T, Error>, name: &str) {
        match r {
            Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
            other => panic!("expected InvalidParameter {name}, got {other:?}"),
        }
    }
    bad(
        NonInteractive {
            epsilon: 0.0,
            ..NonInteractive::default()
        }
        .simulate(&pop, 10, 0, 0),
        "epsilon",
    );
    bad(
        NonInteractive {
            delta: 1.0,
            ..NonInteractive::default()
        }
        .simulate(&pop, 10, 0, 0),
        "delta",
    );
    bad(
        NonInteractive {
            k: Some(5),
            ..NonInteractive::default()
        }
        .simulate(&pop, 10, 0, 0),
        "k",
    );
    bad(
        LdpIht {
            k: 9,
            ..LdpIht::default()
        }
        .simulate(&pop, 10, 0),
        "k",
    );
    bad(
        LdpIht {
            epsilon: f64::NAN,
            ..LdpIht::default()
        }
        .simulate(&pop, 10, 0),
        "epsilon",
    );
    bad(
        LdpIht {
            clip_x: Some(-1.0),
            ..LdpIht::default()
        }
        .simulate(&pop, 10, 0),
        "clip_x",
    );
    bad(Population::sparse(3, 4, 1.0).map(|_| ()), "k");
    let mut x = Array2::<f64>::zeros((5, 3));
    x[(2, 1)] = f64::NAN;
    let y = Array1::<f64>::zeros(5);
    assert!(matches!(
        NonInteractive::default().fit((x.view(), y.view())),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        LdpIht::default().fit((x.view(), y.view())),
        Err(Error::NonFinite { .. })
    ));
    let x = Array2::<f64>::zeros((5, 3));
    assert!(matches!(
        LdpIht::default().fit((x.view(), Array1::<f64>::zeros(4).view())),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        NonInteractive::default().simulate(&pop, 0, 0, 0),
        Err(Error::InvalidParameter { name: "n", .. })
    ));
}

/// The stated privacy-noise error of each estimator against the spread of its estimates over the users'
/// randomizer seeds on the same users (an independent Monte Carlo): within the sampling error of 24 seeds
/// and the first-order approximations, a factor 1.6 either way.
#[test]
fn the_stated_noise_error_matches_the_spread_over_randomizer_seeds() {
    let pop = Population::sparse(10, 2, 1.0).unwrap();
    let n = 100_000;
    let spread = |fits: &[sparsimony_solvers::privacy::LdpFit]| {
        let m = fits.len() as f64;
        let mean: Vec<f64> = (0..2)
            .map(|j| fits.iter().map(|f| f.coef()[j]).sum::<f64>() / m)
            .collect();
        let sd = (fits
            .iter()
            .map(|f| (0..2).map(|j| (f.coef()[j] - mean[j]).powi(2)).sum::<f64>())
            .sum::<f64>()
            / (m - 1.0))
            .sqrt();
        let stated = fits.iter().map(|f| f.noise_error).sum::<f64>() / m;
        (sd, stated)
    };
    for eps in [1.0, 4.0] {
        let ni: Vec<_> = (0..24)
            .map(|s| {
                let est = NonInteractive {
                    epsilon: eps,
                    k: Some(2),
                    seed: s,
                    ..NonInteractive::default()
                };
                est.simulate(&pop, n, 0, 1).unwrap()
            })
            .collect();
        let iht: Vec<_> = (0..24)
            .map(|s| {
                let est = LdpIht {
                    epsilon: eps,
                    k: 2,
                    seed: s,
                    ..LdpIht::default()
                };
                est.simulate(&pop, n, 1).unwrap()
            })
            .collect();
        for (name, fits) in [("non-interactive", &ni), ("LDP-IHT", &iht)] {
            let (sd, stated) = spread(fits);
            assert!(
                (stated / sd) > 1.0 / 1.6 && (stated / sd) < 1.6,
                "{name}, ε = {eps}: stated noise error {stated:.4}, spread over seeds {sd:.4}"
            );
        }
    }
    // Where the noise swamps the signal the fit says so; where it does not, it does not.
    let few = NonInteractive {
        epsilon: 1.0,
        k: Some(2),
        ..NonInteractive::default()
    };
    assert!(few.simulate(&pop, 10_000, 0, 1).unwrap().noise_dominated());
    let many = NonInteractive {
        epsilon: 4.0,
        k: Some(2),
        ..NonInteractive::default()
    };
    let fit = many.simulate(&pop, 3_000_000, 0, 1).unwrap();
    assert!(!fit.noise_dominated(), "{:?} ± {}", fit.coef(), fit.noise_error);
}

/// The same users' data in other units (x ×100, y ×1000): with the scales learnt privately, the fit finds
/// the same support and coefficients in the new units (×10) within its stated error; with the scales
/// taken as given, the unit-scale defaults clip the rescaled data to nothing useful.
#[test]
fn private_scales_make_the_fit_independent_of_the_data_units() {
    let pop = Population::sparse(5, 2, 1.0).unwrap();
    let (x, y) = pop.sample(21, 0, 200_000).unwrap();
    let (x2, y2) = (&x * 100.0, &y * 1000.0);
    let est = NonInteractive {
        epsilon: 4.0,
        k: Some(2),
        ..NonInteractive::default()
    };
    let a = est.fit((x.view(), y.view())).unwrap();
    let b = est.fit((x2.view(), y2.view())).unwrap();
    assert_eq!(a.support, vec![0, 1]);
    assert_eq!(b.support, a.support);
    assert_eq!(a.scales.users, 10_000);
    // The learnt scales against the population's: x's standard deviation 1, y's √(‖θ*‖² + σ²) = √2, to
    // within the bisection's quarter octave.
    assert!(
        (a.scales.x - 1.0).abs() < 0.2 && (a.scales.y / 2f64.sqrt() - 1.0).abs() < 0.2,
        "{:?}",
        a.scales
    );
    assert!(
        (b.scales.x / a.scales.x / 100.0 - 1.0).abs() < 0.2,
        "{:?} {:?}",
        a.scales,
        b.scales
    );
    assert!(
        (b.scales.y / a.scales.y / 1000.0 - 1.0).abs() < 0.2,
        "{:?} {:?}",
        a.scales,
        b.scales
    );
    let bar = 3.0 * (a.noise_error * 10.0 + b.noise_error);
    assert!(
        l2_error(&(a.coef() * 10.0), b.coef()) < bar,
        "{:?} ×10 against {:?} (bar {bar})",
        a.coef(),
        b.coef()
    );
    // Both near θ* in their units: 1/√2 and 10/√2.
    assert!(
        l2_error(a.coef(), &pop.theta) < 3.0 * a.noise_error + 0.1,
        "{:?}",
        a.coef()
    );
    let given = NonInteractive {
        scaling: Scaling::Given,
        ..est.clone()
    };
    let c = given.fit((x2.view(), y2.view())).unwrap();
    let truth = &pop.theta * 10.0;
    let relative = |coef: &Array1<f64>| l2_error(coef, &truth) / 10.0;
    assert!(
        relative(c.coef()) > 0.75 && relative(b.coef()) < 0.5,
        "the unit-scale defaults on data ×100/×1000: {:?}; with the learnt scales: {:?}",
        c.coef(),
        b.coef()
    );
    // LDP-IHT likewise: the same support, and coefficients ×10 within three stated errors.
    let iht = LdpIht {
        epsilon: 4.0,
        k: 2,
        ..LdpIht::default()
    };
    let (a, b) = (
        iht.fit((x.view(), y.view())).unwrap(),
        iht.fit((x2.view(), y2.view())).unwrap(),
    );
    assert_eq!(a.support, vec![0, 1], "{:?}", a.coef());
    assert_eq!(b.support, a.support, "{:?}", b.coef());
    let bar = 3.0 * (a.noise_error * 10.0 + b.noise_error);
    assert!(
        l2_error(&(a.coef() * 10.0), b.coef()) < bar,
        "LDP-IHT: {:?} ×10 against {:?} (bar {bar})",
        a.coef(),
        b.coef()
    );
    // Too few users to learn the scales: an error that says what to do.
    let (xs, ys) = pop.sample(22, 0, 1000).unwrap();
    let e = est.fit((xs.view(), ys.view())).unwrap_err().to_string();
    assert!(e.contains("give the scales"), "{e}");
}

/// Correlated designs (AR(1) on the four neighbouring features of θ*). At ρ = 0.6 the clipped loss's
/// curvature along θ* is near 2, where a unit step barely contracts; the step measured from the messages
/// (a secant) settles, and the fit finds the support with the scales learnt privately. At ρ = 0.85 the
/// design is too ill-conditioned for hard thresholding to settle in `⌈ln n⌉` rounds: every answer with
/// a wrong support must then say it is not to be trusted (its last gradient still stands out). A right
/// support may come with coefficients off along the design's weak directions, where the gradient is
/// small: that the messages cannot show (seed 0 here: error 0.30 against a stated 0.015). The verdict
/// errs the other way too: at d = 10 with k′ = 8 the last gradient carries much of the iterate's own noise,
/// and seed 1 at ρ = 0.6 is flagged unsettled (ratio 10.7) with an error below 0.15 — so only the support
/// and the error are asserted there.
#[test]
fn ldp_iht_settles_on_a_correlated_design_and_says_so_when_it_cannot() {
    let fit = |rho: f64, s: u64| {
        let mut pop = Population::sparse(10, 4, 0.5).unwrap();
        pop.correlation = rho;
        let fit = LdpIht {
            epsilon: 4.0,
            k: 4,
            seed: s,
            ..LdpIht::default()
        }
        .simulate(&pop, 300_000, 40 + s)
        .unwrap();
        let error = l2_error(fit.coef(), &pop.theta);
        (fit, error)
    };
    for s in 0..3 {
        let (f, error) = fit(0.6, s);
        assert_eq!(f.support, [0, 1, 2, 3], "seed {s}: {:?}", f.coef());
        assert!(error < 0.15, "seed {s}: error {error} (stated noise {})", f.noise_error);
    }
    let mut flagged = 0;
    for s in 0..4 {
        let (f, error) = fit(0.85, s);
        if f.support != [0, 1, 2, 3] {
            assert!(
                !f.trusted(),
                "seed {s}: error {error}, stated {}, {}",
                f.noise_error,
                f.linear.report
            );
            assert!(!f.linear.report.converged, "seed {s}: {}", f.linear.report);
            flagged += 1;
        }
    }
    assert!(flagged > 0, "ρ = 0.85 was expected to defeat the rounds in some seed");
}
