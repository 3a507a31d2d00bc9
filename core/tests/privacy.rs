//! The local-privacy randomizers proved by test, the way OpenDP-style libraries check them:
//! (a) unbiasedness and the stated variance by Monte Carlo, with bounds of five standard errors estimated
//! from the same samples; (b) the privacy ratio empirically — for two neighbouring inputs, the frequencies of
//! the outputs over a fixed partition obey `P ≤ e^ε P' + δ` within statistical tolerance — and a
//! deliberately mis-scaled randomizer fails the same check, so the check can fail. The analytic Gaussian
//! calibration is checked against the privacy profile integrated numerically.

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::privacy::{
    Gaussian, Hypercube, L2Ball, Laplace, RandomizedResponse, clip_coordinates, clip_l2, gaussian_delta,
};

/// Mean and standard error of a sample.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

/// Monte Carlo of a vector randomizer at `v`: the unbiasedness coefficient `⟨mean message, v⟩/‖v‖²` (1 when
/// unbiased), the largest standardised deviation of the mean message from `v` over the coordinates, and
/// the mean squared error `E‖M(v) − v‖²` with their standard errors.
struct Moments {
    along: (f64, f64),
    worst_z: f64,
    mse: (f64, f64),
}

fn moments(v: &[f64], n: usize, mut draw: impl FnMut(&[f64], &mut [f64])) -> Moments {
    let d = v.len();
    let v2: f64 = v.iter().map(|x| x * x).sum();
    let mut out = vec![0.0; d];
    let (mut along, mut sq) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut per: Vec<Vec<f64>> = vec![Vec::with_capacity(n); d];
    for _ in 0..n {
        draw(v, &mut out);
        along.push(out.iter().zip(v).map(|(a, b)| a * b).sum::<f64>() / v2);
        sq.push(out.iter().zip(v).map(|(a, b)| (a - b) * (a - b)).sum());
        for (p, o) in per.iter_mut().zip(&out) {
            p.push(*o);
        }
    }
    let worst_z = per
        .iter()
        .zip(v)
        .map(|(p, vj)| {
            let (m, se) = mean_se(p);
            ((m - vj) / se).abs()
        })
        .fold(0.0, f64::max);
    Moments {
        along: mean_se(&along),
        worst_z,
        mse: mean_se(&sq),
    }
}

fn assert_unbiased(name: &str, m: &Moments, variance: f64) {
    let (c, se) = m.along;
    assert!(
        (c - 1.0).abs() <= 5.0 * se,
        "{name}: ⟨E M(v), v⟩/‖v‖² = {c} ± {se}, not 1"
    );
    // d coordinates at 5 standard errors each: a false alarm has probability below 1e-4 for d ≤ 100.
    assert!(
        m.worst_z <= 5.0,
        "{name}: a coordinate of the mean is {} standard errors off",
        m.worst_z
    );
    let (mse, se) = m.mse;
    assert!(
        (mse - variance).abs() <= 5.0 * se + 1e-9 * variance,
        "{name}: E‖M(v) − v‖² = {mse} ± {se}, stated {variance}"
    );
}

/// Whether two samples of a partition's cells obey `P ≤ e^ε P' + δ` (both ways) within five standard errors
/// of the difference, over the cells with at least 200 hits.
fn ratio_holds(a: &[usize], b: &[usize], n: usize, epsilon: f64, delta: f64) -> bool {
    let e = epsilon.exp();
    a.iter().zip(b).all(|(&x, &y)| {
        let (p, q) = (x as f64 / n as f64, y as f64 / n as f64);
        let ok = |p: f64, q: f64| {
            let slack = 5.0 * ((p * (1.0 - p) + e * e * q * (1.0 - q)) / n as f64).sqrt();
            p <= e * q + delta + slack
        };
        x.min(y) < 200 || (ok(p, q) && ok(q, p))
    })
}

/// Cell counts of `n` messages for input `v` under a partition `cell`.
fn histogram(
    v: &[f64],
    n: usize,
    cells: usize,
    mut draw: impl FnMut(&[f64], &mut [f64]),
    cell: impl Fn(&[f64]) -> usize,
) -> Vec<usize> {
    let mut out = vec![0.0; v.len()];
    let mut h = vec![0; cells];
    for _ in 0..n {
        draw(v, &mut out);
        h[cell(&out).min(cells - 1)] += 1;
    }
    h
}

#[test]
fn clipping_projects_onto_the_ball_and_the_box() {
    let mut v = [3.0f64, 4.0];
    assert_eq!(clip_l2(&mut v, 1.0).unwrap(), 5.0);
    assert!((v[0] - 0.6).abs() < 1e-15 && (v[1] - 0.8).abs() < 1e-15);
    let mut inside = [0.1f32, -0.2];
    clip_l2(&mut inside, 1.0).unwrap();
    assert_eq!(inside, [0.1, -0.2]);
    let mut w = [5.0f64, -7.0, 0.5, f64::INFINITY];
    clip_coordinates(&mut w, 2.0).unwrap();
    assert_eq!(w, [2.0, -2.0, 0.5, 2.0]);
    assert!(clip_l2(&mut [f64::NAN], 1.0).is_err());
    assert!(clip_coordinates(&mut [f64::NAN], 1.0).is_err());
    assert!(clip_l2(&mut [1.0f64], 0.0).is_err());
}

#[test]
fn laplace_is_unbiased_with_variance_2b2_and_epsilon_private() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let m = Laplace::new(0.7, 2.0).unwrap();
    let v = [0.3, -1.0, 2.0];
    let mo = moments(&v, 40_000, |v, o| m.privatize(v, o, &mut rng).unwrap());
    assert_unbiased("Laplace", &mo, 3.0 * m.variance());
    // Neighbours 0 and Δ₁ = 2 in one dimension; cells of width 0.5 from −6 to 8.
    let cell = |o: &[f64]| ((o[0] + 6.0) / 0.5).max(0.0) as usize;
    let n = 200_000;
    let check = |mech: &Laplace, rng: &mut ChaCha8Rng| {
        let a = histogram(&[0.0], n, 28, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        let b = histogram(&[2.0], n, 28, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        ratio_holds(&a, &b, n, 0.7, 0.0)
    };
    assert!(check(&m, &mut rng), "the Laplace mechanism breaks its ε");
    // Noise scaled for 3ε while ε is claimed: caught.
    assert!(
        !check(&Laplace::new(2.1, 2.0).unwrap(), &mut rng),
        "a mis-scaled Laplace mechanism passed"
    );
}

#[test]
fn the_analytic_gaussian_calibration_is_the_privacy_profile_inverted() {
    for &(eps, delta) in &[(0.1, 1e-5), (0.5, 1e-6), (1.0, 1e-5), (4.0, 1e-8), (20.0, 1e-3)] {
        let g = Gaussian::analytic(eps, delta, 1.0).unwrap();
        let s = g.sigma();
        // δ(σ) = ∫ max(0, p(x) − e^ε q(x)) dx for p = N(0, σ²), q = N(Δ, σ²), by the trapezoid rule: an
        // independent reference for the closed form.
        let pdf =
            |x: f64, m: f64| (-(x - m) * (x - m) / (2.0 * s * s)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt());
        let (lo, hi, steps) = (-12.0 * s - 1.0, 12.0 * s + 1.0, 400_000);
        let h = (hi - lo) / steps as f64;
        let integrand = |x: f64| (pdf(x, 0.0) - eps.exp() * pdf(x, 1.0)).max(0.0);
        let numeric: f64 = (0..=steps)
            .map(|i| {
                let w = if i == 0 || i == steps { 0.5 } else { 1.0 };
                w * integrand(lo + i as f64 * h)
            })
            .sum::<f64>()
            * h;
        let closed = gaussian_delta(s, eps, 1.0);
        assert!(
            (closed - delta).abs() <= 1e-6 * delta,
            "ε = {eps}: δ(σ*) = {closed}, asked {delta}"
        );
        assert!(
            (numeric - closed).abs() <= 1e-4 * closed + 1e-15,
            "ε = {eps}: profile {numeric} by quadrature, {closed} closed form"
        );
        // The smallest such σ, and below the classic one where that applies.
        assert!(gaussian_delta(s * (1.0 - 1e-6), eps, 1.0) > delta);
        if eps < 1.0 {
            assert!(s < Gaussian::classic(eps, delta, 1.0).unwrap().sigma());
        }
    }
    assert!(Gaussian::analytic(1.0, 0.0, 1.0).is_err());
    assert!(Gaussian::analytic(1.0, 1.0, 1.0).is_err());
    assert!(Gaussian::analytic(-1.0, 1e-5, 1.0).is_err());
    assert!(Gaussian::classic(1.5, 1e-5, 1.0).is_err());
}

#[test]
fn gaussian_is_unbiased_with_variance_sigma2_and_epsilon_delta_private() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (eps, delta) = (1.0, 1e-3);
    let g = Gaussian::analytic(eps, delta, 1.0).unwrap();
    let v = [1.0, -0.5];
    let mo = moments(&v, 40_000, |v, o| g.privatize(v, o, &mut rng).unwrap());
    assert_unbiased("Gaussian", &mo, 2.0 * g.variance());
    // Half-lines {x > t}, the sets where the (ε, δ) bound is tight, as cells of a cumulative histogram.
    let n = 200_000;
    let check = |mech: &Gaussian, rng: &mut ChaCha8Rng| {
        let cell = |o: &[f64]| ((o[0] + 4.0) / 0.25).max(0.0) as usize;
        let a = histogram(&[0.0], n, 40, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        let b = histogram(&[1.0], n, 40, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        let tail = |h: &[usize]| -> Vec<usize> { (0..h.len()).map(|i| h[i..].iter().sum()).collect() };
        let head = |h: &[usize]| -> Vec<usize> { (0..h.len()).map(|i| h[..=i].iter().sum()).collect() };
        ratio_holds(&tail(&a), &tail(&b), n, eps, delta) && ratio_holds(&head(&a), &head(&b), n, eps, delta)
    };
    assert!(check(&g, &mut rng), "the Gaussian mechanism breaks its (ε, δ)");
    let too_little = Gaussian::analytic(eps, 0.2, 1.0).unwrap();
    assert!(
        !check(&too_little, &mut rng),
        "a Gaussian mechanism calibrated for δ = 0.2 passed as δ = 1e-3"
    );
}

#[test]
fn the_l2_ball_randomizer_is_unbiased_and_epsilon_private_in_any_dimension() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for &d in &[1usize, 3, 10, 50] {
        let r = 1.5;
        let m = L2Ball::new(1.0, r, d).unwrap();
        let v: Vec<f64> = (0..d)
            .map(|j| 0.6 * r * if j % 2 == 0 { 1.0 } else { -1.0 } / (d as f64).sqrt())
            .collect();
        let norm = 0.6 * r;
        let mo = moments(&v, 30_000, |v, o| m.privatize(v, o, &mut rng).unwrap());
        assert_unbiased(&format!("ℓ2 ball, d = {d}"), &mo, m.variance(norm));
        // Half the scale (a mis-derived constant) is biased by a factor 2: caught by the same check.
        if d == 10 {
            let half = m.scale() / 2.0;
            let mo = moments(&v, 30_000, |v, o| {
                m.privatize(v, o, &mut rng).unwrap();
                o.iter_mut().for_each(|x| *x *= half / m.scale());
            });
            let (c, se) = mo.along;
            assert!(
                (c - 1.0).abs() > 5.0 * se,
                "a half-scaled ℓ2-ball randomizer looked unbiased: {c} ± {se}"
            );
        }
    }
    // Large d: the scale by log-gamma stays finite and near r (e^ε+1)/(e^ε−1) √(π d/2).
    let big = L2Ball::new(1.0, 1.0, 1_000_000).unwrap();
    let approx = (1f64.exp() + 1.0) / (1f64.exp() - 1.0) * (std::f64::consts::PI * 1e6 / 2.0).sqrt();
    assert!((big.scale() / approx - 1.0).abs() < 1e-5, "{} vs {approx}", big.scale());

    // Privacy: neighbours ±r e₁; cells: the sign of the message's first coordinate crossed with that of its
    // second, where the ratio p/(1 − p) = e^ε is attained.
    let (eps, d, r, n) = (1.0, 5, 1.0, 200_000);
    let cell = |o: &[f64]| (o[0] > 0.0) as usize * 2 + (o[1] > 0.0) as usize;
    let e1: Vec<f64> = (0..d).map(|j| if j == 0 { r } else { 0.0 }).collect();
    let minus: Vec<f64> = e1.iter().map(|x| -x).collect();
    let check = |claimed: f64, mech: &L2Ball, rng: &mut ChaCha8Rng| {
        let a = histogram(&e1, n, 4, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        let b = histogram(&minus, n, 4, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        ratio_holds(&a, &b, n, claimed, 0.0)
    };
    assert!(
        check(eps, &L2Ball::new(eps, r, d).unwrap(), &mut rng),
        "the ℓ2-ball randomizer breaks its ε"
    );
    assert!(
        !check(eps, &L2Ball::new(3.0 * eps, r, d).unwrap(), &mut rng),
        "an ℓ2-ball randomizer run at 3ε passed as ε"
    );
    // A record outside the ball is refused, not silently over-weighted.
    let mut out = vec![0.0; d];
    assert!(
        L2Ball::new(eps, r, d)
            .unwrap()
            .privatize(&[2.0, 0.0, 0.0, 0.0, 0.0], &mut out, &mut rng)
            .is_err()
    );
}

#[test]
fn the_hypercube_randomizer_is_unbiased_and_epsilon_private() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for &d in &[1usize, 2, 7, 64, 100] {
        let bound = 0.8;
        let m = Hypercube::new(2.0, bound, d).unwrap();
        let v: Vec<f64> = (0..d).map(|j| bound * (j as f64 * 0.37 + 0.5).sin()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let mo = moments(&v, 30_000, |v, o| m.privatize(v, o, &mut rng).unwrap());
        assert_unbiased(&format!("hypercube, d = {d}"), &mo, m.variance(norm));
    }
    let (eps, d, n) = (1.5, 6, 200_000);
    let cell = |o: &[f64]| (o.iter().sum::<f64>() > 0.0) as usize * 2 + (o[0] > 0.0) as usize;
    let check = |claimed: f64, mech: &Hypercube, rng: &mut ChaCha8Rng| {
        let a = histogram(&[1.0; 6], n, 4, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        let b = histogram(&[-1.0; 6], n, 4, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        ratio_holds(&a, &b, n, claimed, 0.0)
    };
    assert!(
        check(eps, &Hypercube::new(eps, 1.0, d).unwrap(), &mut rng),
        "the hypercube randomizer breaks its ε"
    );
    assert!(
        !check(eps, &Hypercube::new(3.0 * eps, 1.0, d).unwrap(), &mut rng),
        "a hypercube randomizer at 3ε passed"
    );
}

#[test]
fn randomized_response_is_debiased_and_epsilon_private() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let rr = RandomizedResponse::new(0.5).unwrap();
    for bit in [false, true] {
        let est: Vec<f64> = (0..50_000).map(|_| rr.debias(rr.privatize(bit, &mut rng))).collect();
        let (m, se) = mean_se(&est);
        let truth = if bit { 1.0 } else { 0.0 };
        assert!((m - truth).abs() <= 5.0 * se, "debiased mean {m} ± {se} for {bit}");
        let var = est.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (est.len() - 1) as f64;
        assert!(
            (var / rr.variance() - 1.0).abs() < 0.05,
            "variance {var}, stated {}",
            rr.variance()
        );
    }
    let n = 200_000;
    let count = |rr: &RandomizedResponse, bit: bool, rng: &mut ChaCha8Rng| {
        let ones = (0..n).filter(|_| rr.privatize(bit, rng)).count();
        vec![n - ones, ones]
    };
    let a = count(&rr, true, &mut rng);
    let b = count(&rr, false, &mut rng);
    assert!(ratio_holds(&a, &b, n, 0.5, 0.0));
    let loose = RandomizedResponse::new(1.5).unwrap();
    let a = count(&loose, true, &mut rng);
    let b = count(&loose, false, &mut rng);
    assert!(
        !ratio_holds(&a, &b, n, 0.5, 0.0),
        "randomized response at 3ε passed as ε"
    );
}

#[test]
fn bad_parameters_and_records_are_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    assert!(Laplace::new(0.0, 1.0).is_err());
    assert!(Laplace::new(f64::NAN, 1.0).is_err());
    assert!(L2Ball::new(1.0, 1.0, 0).is_err());
    assert!(Hypercube::new(1.0, -1.0, 3).is_err());
    assert!(RandomizedResponse::new(f64::INFINITY).is_err());
    let m = L2Ball::new(1.0, 1.0, 3).unwrap();
    let mut out = [0.0f64; 2];
    assert!(m.privatize(&[0.1, 0.1, 0.1], &mut out, &mut rng).is_err());
    let mut out = [0.0f64; 3];
    assert!(m.privatize(&[0.1, f64::NAN, 0.1], &mut out, &mut rng).is_err());
    assert!(
        Hypercube::new(1.0, 1.0, 3)
            .unwrap()
            .privatize(&[0.1, 1.5, 0.0], &mut out, &mut rng)
            .is_err()
    );
    // f32 records on a device: the same seed gives the same message.
    let m32 = L2Ball::new(1.0, 1.0, 4).unwrap();
    let v = [0.1f32, -0.2, 0.3, 0.05];
    let (mut a, mut b) = ([0.0f32; 4], [0.0f32; 4]);
    m32.privatize(&v, &mut a, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
    m32.privatize(&v, &mut b, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
    assert_eq!(a, b);
    let norm = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    assert!((norm / m32.scale() - 1.0).abs() < 1e-6, "every message has norm B");
}
