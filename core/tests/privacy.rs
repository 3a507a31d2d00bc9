//! The local-privacy randomizers proved by test, as Google's DP stochastic tester and DP-Auditorium check
//! mechanisms: (a) unbiasedness and the stated variance by Monte Carlo, with bounds of five standard errors
//! estimated from the same samples; (b) a **privacy audit**: for two neighbouring inputs, histograms of the
//! messages over a partition of the output space give a lower confidence bound on ε (Wilson bounds at five
//! standard errors on each cell's probability), which must not exceed the claimed ε — and which exceeds it
//! for a deliberately mis-scaled randomizer, so the audit can fail; (c) an **exact check of the output
//! supports**: every message of one input is a possible message of its neighbour, which the grid mechanisms
//! pass and a floating-point Laplace sampler (`x + b·ln u`, kept here as the counterexample) fails for most
//! of its outputs (Mironov 2012). The Gaussian mechanism's calibration is checked against the discrete
//! Gaussian's privacy profile summed over the integers.

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::privacy::{
    Gaussian, Hypercube, L2Ball, Laplace, RandomizedResponse, clip_coordinates, clip_l2, zcdp_delta,
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

/// Wilson score bounds on a binomial proportion from `k` hits in `n` trials, at `z` standard errors.
fn wilson(k: usize, n: usize, z: f64) -> (f64, f64) {
    let (n, p) = (n as f64, k as f64 / n as f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// A lower confidence bound on the ε of a mechanism from the cell counts `a`, `b` of `n` messages each for
/// two neighbouring inputs: the largest `ln((P_a(S) − δ)/P_b(S))` over the cells `S` and both directions,
/// with `P_a` at its lower and `P_b` at its upper Wilson bound (five standard errors each, so a cell
/// overstates ε with probability below 3·10⁻⁷). Cells may overlap (half-lines): any event is a valid test.
fn epsilon_lower_bound(a: &[usize], b: &[usize], n: usize, delta: f64) -> f64 {
    let one_way = |x: &[usize], y: &[usize]| {
        x.iter()
            .zip(y)
            .map(|(&p, &q)| {
                let (lo, _) = wilson(p, n, 5.0);
                let (_, hi) = wilson(q, n, 5.0);
                if lo > delta {
                    ((lo - delta) / hi).ln()
                } else {
                    f64::NEG_INFINITY
                }
            })
            .fold(f64::NEG_INFINITY, f64::max)
    };
    one_way(a, b).max(one_way(b, a))
}

/// The half-lines `{x > t}` and `{x ≤ t}` of a histogram over ordered cells, where the (ε, δ) bound of an
/// additive mechanism is tight.
fn half_lines(h: &[usize]) -> Vec<usize> {
    let tail = (0..h.len()).map(|i| h[i..].iter().sum::<usize>());
    let head = (0..h.len()).map(|i| h[..=i].iter().sum::<usize>());
    tail.chain(head).collect()
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

/// The audit of an additive mechanism in one dimension: neighbours 0 and `sensitivity`, cells of width
/// `width` from `lo` (64 of them), tested as half-lines.
fn audit_additive(
    n: usize,
    delta: f64,
    sensitivity: f64,
    (lo, width): (f64, f64),
    mut draw: impl FnMut(&[f64], &mut [f64]),
) -> f64 {
    let cell = |o: &[f64]| ((o[0] - lo) / width).max(0.0) as usize;
    let a = histogram(&[0.0], n, 64, &mut draw, cell);
    let b = histogram(&[sensitivity], n, 64, &mut draw, cell);
    epsilon_lower_bound(&half_lines(&a), &half_lines(&b), n, delta)
}

#[test]
fn laplace_is_unbiased_with_variance_2b2_and_passes_the_audit() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let m = Laplace::new(0.7, 2.0, 3).unwrap();
    // The scale is Δ₁/ε up to the grid's relative 2d/2⁴⁰.
    assert!((m.scale() / (2.0 / 0.7) - 1.0).abs() < 1e-9, "scale {}", m.scale());
    assert!((m.variance() / (2.0 * m.scale() * m.scale()) - 1.0).abs() < 1e-9);
    let v = [0.3, -1.0, 2.0];
    let mo = moments(&v, 40_000, |v, o| m.privatize(v, o, &mut rng).unwrap());
    assert_unbiased("Laplace", &mo, 3.0 * m.variance());
    let n = 200_000;
    let one = Laplace::new(0.7, 2.0, 1).unwrap();
    let lb = audit_additive(n, 0.0, 2.0, (-6.0, 0.25), |v, o| one.privatize(v, o, &mut rng).unwrap());
    assert!(lb <= 0.7, "the Laplace mechanism's audited ε ≥ {lb} exceeds its 0.7");
    assert!(lb > 0.5, "the audit should come near the claim on half-lines: {lb}");
    // Noise scaled for 3ε while ε is claimed: caught.
    let loose = Laplace::new(2.1, 2.0, 1).unwrap();
    let lb = audit_additive(n, 0.0, 2.0, (-6.0, 0.25), |v, o| {
        loose.privatize(v, o, &mut rng).unwrap()
    });
    assert!(
        lb > 0.7,
        "a mis-scaled Laplace mechanism passed the audit at 0.7 (bound {lb})"
    );
}

/// The Laplace sampler this crate had before the grid mechanisms, in floating point: `x + noise(u)` with
/// `noise(u) = −b sign(u − ½) ln(1 − 2|u − ½|)` and `u = (k + ½)2⁻⁵³`. Kept as the audit's counterexample.
fn float_laplace_noise(k: u64, b: f64) -> f64 {
    let u = (k as f64 + 0.5) * (1.0 / (1u64 << 53) as f64) - 0.5;
    -b * libm::copysign(1.0, u) * libm::log1p(-2.0 * libm::fabs(u))
}

/// Whether `y` is a possible output of the floating-point Laplace sampler at input 0: some 53-bit `k` has
/// `noise(k) = y` exactly (the noise is non-decreasing in `k`: a binary search for the first `k` at or
/// above `y`).
fn float_laplace_reaches(y: f64, b: f64) -> bool {
    let (mut lo, mut hi) = (0u64, 1u64 << 53);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if float_laplace_noise(mid, b) < y {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo < (1u64 << 53) && float_laplace_noise(lo, b) == y
}

#[test]
fn output_supports_of_neighbours_agree_exactly_for_the_grid_mechanisms_not_for_float_laplace() {
    use rand_core::RngCore;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    // The floating-point sampler at ε = 1, Δ = 1: most outputs of input 1 cannot come from input 0, an
    // infinite privacy loss on an event of large probability.
    let trials = 4000;
    let unreachable = (0..trials)
        .filter(|_| {
            let y = 1.0 + float_laplace_noise(rng.next_u64() >> 11, 1.0);
            !float_laplace_reaches(y, 1.0)
        })
        .count();
    let share = unreachable as f64 / trials as f64;
    assert!(
        share > 0.5,
        "the float Laplace counterexample: only {share} of input 1's outputs are out of input 0's reach"
    );
    // The same replay on the sampler's own outputs from input 0: every one is found (the search is sound).
    assert!((0..200).all(|_| float_laplace_reaches(float_laplace_noise(rng.next_u64() >> 11, 1.0), 1.0)));

    // The grid mechanisms: every message of input 1 is γ times an integer, and every integer is a message
    // of input 0 (the Laplace noise reaches all of ℤ; the Gaussian's within 64σ of the record).
    let lap = Laplace::new(1.0, 1.0, 1).unwrap();
    let gau = Gaussian::new(1.0, 1e-6, 1.0, 1).unwrap();
    for _ in 0..trials {
        let mut o = [0.0f64];
        lap.privatize(&[1.0], &mut o, &mut rng).unwrap();
        let k = o[0] / lap.granularity();
        assert_eq!(k, k.round(), "a Laplace message {} off its grid", o[0]);
        gau.privatize(&[1.0], &mut o, &mut rng).unwrap();
        let k = o[0] / gau.granularity();
        assert_eq!(k, k.round(), "a Gaussian message {} off its grid", o[0]);
        assert!(k.abs() <= 64.0 * (gau.sigma() / gau.granularity() + 1.0));
    }
}

#[test]
fn the_zcdp_conversion_and_the_gaussian_calibration_hold_against_brute_force() {
    for &(eps, delta) in &[(0.1, 1e-5), (0.5, 1e-6), (1.0, 1e-5), (4.0, 1e-8), (20.0, 1e-3)] {
        // The conversion's infimum over α by a fine grid (an independent minimisation).
        let rho = 0.02 + 0.05 * eps;
        let at = |a: f64| ((a - 1.0) * (a * rho - eps) + a * (1.0 - 1.0 / a).ln()).exp() / (a - 1.0);
        let brute = (1..200_000)
            .map(|i| at(1.0 + 1e-4 * 1.0001f64.powi(i)))
            .fold(f64::INFINITY, f64::min)
            .min(1.0);
        let bisected = zcdp_delta(rho, eps);
        assert!(
            bisected <= brute * (1.0 + 1e-6) && bisected >= brute * (1.0 - 1e-3),
            "ε = {eps}, ρ = {rho}: bisection {bisected}, grid {brute}"
        );

        // The calibrated σ/Δ against the privacy profile of the one-dimensional discrete Gaussian with a
        // sensitivity of `steps` grid steps, δ(ε) = Σ_y max(0, p(y) − e^ε p(y − Δ)) summed over ℤ: the
        // zCDP route must be conservative.
        let ratio = Gaussian::new(eps, delta, 1.0, 1).unwrap().sigma();
        for steps in [1i64, 4, 9] {
            let sigma = ratio * steps as f64;
            let reach = (40.0 * sigma) as i64 + 2 * steps;
            let w = |y: i64| (-((y * y) as f64) / (2.0 * sigma * sigma)).exp();
            let total: f64 = (-reach..=reach).map(w).sum();
            let exact: f64 = (-reach..=reach)
                .map(|y| (w(y) - eps.exp() * w(y - steps)).max(0.0) / total)
                .sum();
            assert!(
                exact <= delta,
                "ε = {eps}, Δ = {steps} steps: the discrete Gaussian's δ is {exact}, above the claimed {delta}"
            );
        }
    }
    assert!(Gaussian::new(1.0, 0.0, 1.0, 1).is_err());
    assert!(Gaussian::new(1.0, 1.0, 1.0, 1).is_err());
    assert!(Gaussian::new(-1.0, 1e-5, 1.0, 1).is_err());
    assert!(Gaussian::new(1.0, 1e-5, 1.0, 0).is_err());
}

#[test]
fn gaussian_is_unbiased_with_variance_sigma2_and_passes_the_audit() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (eps, delta) = (1.0, 1e-3);
    let g = Gaussian::new(eps, delta, 1.0, 2).unwrap();
    let v = [1.0, -0.5];
    let mo = moments(&v, 40_000, |v, o| g.privatize(v, o, &mut rng).unwrap());
    assert_unbiased("Gaussian", &mo, 2.0 * g.variance());
    let n = 200_000;
    let one = Gaussian::new(eps, delta, 1.0, 1).unwrap();
    let lb = audit_additive(n, delta, 1.0, (-8.0, 0.25), |v, o| {
        one.privatize(v, o, &mut rng).unwrap()
    });
    assert!(lb <= eps, "the Gaussian mechanism's audited ε ≥ {lb} exceeds its {eps}");
    let too_little = Gaussian::new(eps, 0.2, 1.0, 1).unwrap();
    let lb = audit_additive(n, delta, 1.0, (-8.0, 0.25), |v, o| {
        too_little.privatize(v, o, &mut rng).unwrap()
    });
    assert!(
        lb > eps,
        "a Gaussian mechanism calibrated for δ = 0.2 passed the audit as δ = 1e-3 (bound {lb})"
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
    let audit = |mech: &L2Ball, rng: &mut ChaCha8Rng| {
        let a = histogram(&e1, n, 4, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        let b = histogram(&minus, n, 4, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        epsilon_lower_bound(&a, &b, n, 0.0)
    };
    let lb = audit(&L2Ball::new(eps, r, d).unwrap(), &mut rng);
    assert!(lb <= eps, "the ℓ2-ball randomizer's audited ε ≥ {lb} exceeds its {eps}");
    let lb = audit(&L2Ball::new(3.0 * eps, r, d).unwrap(), &mut rng);
    assert!(lb > eps, "an ℓ2-ball randomizer run at 3ε passed as ε (bound {lb})");
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
    let audit = |mech: &Hypercube, rng: &mut ChaCha8Rng| {
        let a = histogram(&[1.0; 6], n, 4, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        let b = histogram(&[-1.0; 6], n, 4, |v, o| mech.privatize(v, o, rng).unwrap(), cell);
        epsilon_lower_bound(&a, &b, n, 0.0)
    };
    let lb = audit(&Hypercube::new(eps, 1.0, d).unwrap(), &mut rng);
    assert!(
        lb <= eps,
        "the hypercube randomizer's audited ε ≥ {lb} exceeds its {eps}"
    );
    let lb = audit(&Hypercube::new(3.0 * eps, 1.0, d).unwrap(), &mut rng);
    assert!(lb > eps, "a hypercube randomizer at 3ε passed (bound {lb})");
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
    let lb = epsilon_lower_bound(&a, &b, n, 0.0);
    assert!(
        (0.4..=0.5).contains(&lb),
        "randomized response at ε = 0.5: audited bound {lb}"
    );
    let loose = RandomizedResponse::new(1.5).unwrap();
    let a = count(&loose, true, &mut rng);
    let b = count(&loose, false, &mut rng);
    let lb = epsilon_lower_bound(&a, &b, n, 0.0);
    assert!(lb > 0.5, "randomized response at 3ε passed as ε (bound {lb})");
}

#[test]
fn bad_parameters_and_records_are_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    assert!(Laplace::new(0.0, 1.0, 1).is_err());
    assert!(Laplace::new(f64::NAN, 1.0, 1).is_err());
    assert!(Laplace::new(1.0, 1.0, 0).is_err());
    // ε outside the stated range, whatever the randomizer.
    for eps in [1e-7, 501.0, 710.0, 1e308, f64::INFINITY, -1.0] {
        assert!(Laplace::new(eps, 1.0, 1).is_err(), "Laplace at ε = {eps}");
        assert!(Gaussian::new(eps, 1e-5, 1.0, 1).is_err(), "Gaussian at ε = {eps}");
        assert!(L2Ball::new(eps, 1.0, 3).is_err(), "ℓ2 ball at ε = {eps}");
        assert!(
            RandomizedResponse::new(eps).is_err(),
            "randomized response at ε = {eps}"
        );
    }
    // The ends of the range work and give finite messages.
    for eps in [1e-6, 500.0] {
        let mut o = [0.0f64; 2];
        Laplace::new(eps, 1.0, 2)
            .unwrap()
            .privatize(&[0.5, -0.5], &mut o, &mut rng)
            .unwrap();
        assert!(o.iter().all(|x| x.is_finite()), "Laplace at ε = {eps}: {o:?}");
        Gaussian::new(eps, 1e-5, 1.0, 2)
            .unwrap()
            .privatize(&[0.5, -0.5], &mut o, &mut rng)
            .unwrap();
        assert!(o.iter().all(|x| x.is_finite()), "Gaussian at ε = {eps}: {o:?}");
    }
    // A record beyond the grid's reach, or of the wrong length, is refused.
    let mut o = [0.0f64; 1];
    assert!(
        Laplace::new(1.0, 1e-20, 1)
            .unwrap()
            .privatize(&[1e20], &mut o, &mut rng)
            .is_err()
    );
    assert!(
        Laplace::new(1.0, 1.0, 2)
            .unwrap()
            .privatize(&[1.0], &mut o, &mut rng)
            .is_err()
    );
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

#[test]
fn the_truthful_draw_keeps_its_epsilon_at_the_top_of_the_range() {
    // In floating point e^ε/(1 + e^ε) rounds to 1 from ε ≈ 36.7: the truthful side would always be sent.
    // The quantised draw keeps a flip probability of at least 2⁻⁵³ with p/(1 − p) ≤ e^ε, exactly.
    for eps in [1e-6, 0.5, 20.0, 36.0, 40.0, 500.0] {
        let rr = RandomizedResponse::new(eps).unwrap();
        let p = rr.keep_probability();
        assert!(p < 1.0 && p > 0.5, "ε = {eps}: keep probability {p}");
        // ln(p/(1 − p)) ≤ ε, with 1 − p a multiple of 2⁻⁵³ (exact in f64).
        let flip = 1.0 - p;
        assert_eq!(flip * (1u64 << 53) as f64, (flip * (1u64 << 53) as f64).round());
        assert!(
            (p / flip).ln() <= eps * (1.0 + 1e-12),
            "ε = {eps}: loss {}",
            (p / flip).ln()
        );
        // The variance and the debiasing stay finite: an unbiased estimate at any ε of the range.
        assert!(rr.variance().is_finite() && rr.debias(true).is_finite());
        assert!(L2Ball::new(eps, 1.0, 4).unwrap().scale().is_finite());
        assert!(Hypercube::new(eps, 1.0, 4).unwrap().scale().is_finite());
    }
    // At ε = 40 a flip does happen (probability 2⁻⁵³ is too rare to see; the bound is what is tested), and
    // at ε = 20 the flips come at their rate.
    let rr = RandomizedResponse::new(20.0).unwrap();
    assert!((1.0 - rr.keep_probability()) / (1.0 / (1.0 + 20f64.exp())) - 1.0 < 1e-6);
}

#[test]
fn the_exact_samplers_stay_within_their_integers_at_their_limits() {
    use sparsimony_core::random::exact::{MAX_GAUSSIAN_VARIANCE, discrete_gaussian, discrete_laplace};
    // In a debug build any overflow in the acceptance test or the geometric count panics.
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let s = (MAX_GAUSSIAN_VARIANCE as f64).sqrt();
    for _ in 0..2000 {
        let z = discrete_gaussian(&mut rng, MAX_GAUSSIAN_VARIANCE).unwrap();
        assert!((z as f64).abs() <= 64.0 * (s + 1.0));
    }
    for t in [u64::MAX >> 1, u64::MAX] {
        for _ in 0..200 {
            discrete_laplace(&mut rng, t);
        }
    }
    // The mechanisms at the ends of their sensitivity range and at a large dimension.
    let mut o = vec![0.0f64; 1000];
    let v = vec![1e-201; 1000];
    assert!(Laplace::new(1.0, 1e-201, 1).is_err());
    assert!(Gaussian::new(1.0, 1e-5, 1e201, 1).is_err());
    Laplace::new(1e-6, 1e200, 1000)
        .unwrap()
        .privatize(&v, &mut o, &mut rng)
        .unwrap();
    assert!(o.iter().all(|x| x.is_finite()));
    Gaussian::new(1e-4, 1e-10, 1e-200, 1000)
        .unwrap()
        .privatize(&v, &mut o, &mut rng)
        .unwrap();
    assert!(o.iter().all(|x| x.is_finite()));
}
