//! Samplers against their closed-form distributions (moments, Kolmogorov–Smirnov distance, and χ² for the
//! exact integer samplers).
mod common;

use common::rng;
use sparsimony_core::Error;
use sparsimony_core::random::exact::{
    MAX_GAUSSIAN_VARIANCE, bernoulli_exp, discrete_gaussian, discrete_laplace, isqrt, uniform_below,
};
use sparsimony_core::random::{fill_gaussian, gaussian, uniform_open01};

/// Kolmogorov–Smirnov statistic of `samples` against `cdf`.
fn ks(samples: &mut [f64], cdf: impl Fn(f64) -> f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = samples.len() as f64;
    samples.iter().enumerate().fold(0.0f64, |d, (i, &x)| {
        let f = cdf(x);
        d.max((f - i as f64 / n).abs()).max(((i + 1) as f64 / n - f).abs())
    })
}

const N: usize = 200_000;
/// The KS critical value at level 0.001 is 1.95/√n.
fn ks_critical() -> f64 {
    1.95 / (N as f64).sqrt()
}

#[test]
fn gaussian_matches_the_normal_distribution() {
    let (mean, sd) = (1.5, 2.0);
    let mut r = rng(60);
    let mut s: Vec<f64> = (0..N).map(|_| gaussian(&mut r, mean, sd).unwrap()).collect();
    let m = s.iter().sum::<f64>() / N as f64;
    let v = s.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (N - 1) as f64;
    assert!((m - mean).abs() < 5.0 * sd / (N as f64).sqrt(), "mean {m}");
    assert!(
        (v - sd * sd).abs() < 5.0 * sd * sd * (2.0 / N as f64).sqrt(),
        "variance {v}"
    );
    let d = ks(&mut s, |x| {
        0.5 * (1.0 + libm::erf((x - mean) / (sd * std::f64::consts::SQRT_2)))
    });
    assert!(d < ks_critical(), "KS distance {d}");

    // The filler draws from the same distribution.
    let mut f = vec![0.0f64; N];
    fill_gaussian(&mut rng(61), &mut f, mean, sd).unwrap();
    let d = ks(&mut f, |x| {
        0.5 * (1.0 + libm::erf((x - mean) / (sd * std::f64::consts::SQRT_2)))
    });
    assert!(d < ks_critical(), "KS distance {d}");
}

/// The ziggurat's rare branches — the wedges (about 1 % of draws) and the tail beyond `r = 3.654` (about
/// 2.6e-4) — against the normal distribution: χ² over 64 equiprobable bins, and the tail counts beyond `r`
/// and beyond 4.5 against their binomial expectations.
#[test]
fn normal_tail_and_fine_histogram() {
    let n = 4_000_000usize;
    let mut r = rng(63);
    let phi = |x: f64| 0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2));
    let bins = 64usize;
    let mut counts = vec![0usize; bins];
    let (mut beyond_r, mut beyond_far) = (0usize, 0usize);
    for _ in 0..n {
        let x = sparsimony_core::random::standard_normal(&mut r);
        counts[((phi(x) * bins as f64) as usize).min(bins - 1)] += 1;
        beyond_r += usize::from(x.abs() > 3.654152885361009);
        beyond_far += usize::from(x.abs() > 4.5);
    }
    let expected = n as f64 / bins as f64;
    let chi2: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
    // 63 degrees of freedom: the 0.999 quantile is 103.4.
    assert!(chi2 < 103.4, "χ² = {chi2}");
    for (count, threshold) in [(beyond_r, 3.654152885361009), (beyond_far, 4.5)] {
        let p = 2.0 * phi(-threshold);
        let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
        assert!(
            (count as f64 - mean).abs() < 4.0 * sd + 1.0,
            "{count} draws beyond {threshold}, expected {mean} ± {sd}"
        );
    }
}

/// χ² of `counts` against the probabilities `p` (cells with expectation below 5 are pooled into the last).
fn chi2(counts: &[usize], p: &[f64]) -> (f64, usize) {
    let n = counts.iter().sum::<usize>() as f64;
    let (mut stat, mut cells, mut pooled_c, mut pooled_p) = (0.0, 0usize, 0.0, 0.0);
    for (&c, &q) in counts.iter().zip(p) {
        if n * q < 5.0 {
            pooled_c += c as f64;
            pooled_p += q;
        } else {
            stat += (c as f64 - n * q).powi(2) / (n * q);
            cells += 1;
        }
    }
    if pooled_p > 0.0 {
        stat += (pooled_c - n * pooled_p).powi(2) / (n * pooled_p);
        cells += 1;
    }
    (stat, cells - 1)
}

/// The 0.999 quantile of χ² with `k` degrees of freedom, by the Wilson–Hilferty approximation (within
/// a few per cent for k ≥ 3).
fn chi2_critical(k: usize) -> f64 {
    let k = k as f64;
    let z = 3.09;
    k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
}

/// Histogram of integer draws over `[−reach, reach]` (the two outermost cells hold the tails) against the
/// normalised weights `w(z)`.
fn integer_fit(draw: &mut dyn FnMut() -> i128, reach: i128, w: impl Fn(i128) -> f64, n: usize) -> (f64, usize) {
    let cells = (2 * reach + 1) as usize;
    let mut counts = vec![0usize; cells];
    for _ in 0..n {
        let z = draw().clamp(-reach, reach);
        counts[(z + reach) as usize] += 1;
    }
    // The tails' weight summed far enough out that the rest is below 1e-12.
    let far = 60 * reach;
    let total: f64 = (-far..=far).map(&w).sum();
    let mut p: Vec<f64> = (-reach..=reach).map(|z| w(z) / total).collect();
    let tail: f64 = (reach + 1..=far).map(&w).sum::<f64>() / total;
    p[0] += tail;
    p[cells - 1] += tail;
    chi2(&counts, &p)
}

#[test]
fn exact_samplers_match_their_distributions() {
    let mut r = rng(62);
    let n = 200_000;
    // Discrete Laplace of scale t: P ∝ e^(−|z|/t).
    for t in [1u64, 3, 17] {
        let (stat, k) = integer_fit(
            &mut || discrete_laplace(&mut r, t),
            4 * t as i128,
            |z| (-(z.abs() as f64) / t as f64).exp(),
            n,
        );
        assert!(
            stat < chi2_critical(k),
            "discrete Laplace t = {t}: χ² = {stat} on {k} dof"
        );
    }
    // Discrete Gaussian N_ℤ(0, σ²): P ∝ e^(−z²/(2σ²)), at a σ below, at and above one grid step.
    for s2 in [1u64, 5, 200] {
        let reach = 4 * ((s2 as f64).sqrt().ceil() as i128);
        let (stat, k) = integer_fit(
            &mut || i128::from(discrete_gaussian(&mut r, s2).unwrap()),
            reach,
            |z| (-((z * z) as f64) / (2.0 * s2 as f64)).exp(),
            n,
        );
        assert!(
            stat < chi2_critical(k),
            "discrete Gaussian σ² = {s2}: χ² = {stat} on {k} dof"
        );
    }
    // Bernoulli trials of exp(−num/den), above and below 1.
    for (num, den) in [(7u128, 3u128), (1, 1), (2, 9), (0, 5)] {
        let hits = (0..n).filter(|_| bernoulli_exp(&mut r, num, den)).count() as f64;
        let p = (-(num as f64) / den as f64).exp();
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (hits / n as f64 - p).abs() <= 5.0 * se + 1e-12,
            "Bern(exp(−{num}/{den})): {} against {p}",
            hits / n as f64
        );
    }
    // Uniform integers below a bound that is not a power of two, on the 64- and the 128-bit path.
    for bound in [6u128, 3 << 64] {
        let mut counts = [0usize; 3];
        for _ in 0..60_000 {
            let x = uniform_below(&mut r, bound);
            assert!(x < bound);
            counts[(x / (bound / 3)) as usize] += 1;
        }
        let (stat, k) = chi2(&counts, &[1.0 / 3.0; 3]);
        assert!(stat < chi2_critical(k).max(13.8), "uniform below {bound}: χ² = {stat}");
    }
    assert_eq!(isqrt(0), 0);
    assert_eq!(isqrt(u64::MAX), u64::from(u32::MAX));
    for m in [1u64, 2, 3, 4, 15, 16, 17, 1 << 56, (1 << 56) - 1] {
        let s = isqrt(m);
        assert!(s * s <= m && (s + 1) * (s + 1) > m, "isqrt({m}) = {s}");
    }
    assert!(discrete_gaussian(&mut r, 0).is_err());
    assert!(discrete_gaussian(&mut r, MAX_GAUSSIAN_VARIANCE + 1).is_err());
}

#[test]
fn same_seed_same_samples_in_f32_and_f64() {
    let a: Vec<f64> = (0..100)
        .map(|_| 0.0)
        .scan(rng(7), |r, _| Some(gaussian(r, 0.0, 1.0).unwrap()))
        .collect();
    let b: Vec<f32> = (0..100)
        .map(|_| 0.0)
        .scan(rng(7), |r, _| Some(gaussian(r, 0.0f32, 1.0).unwrap()))
        .collect();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(*x as f32, *y, "f32 samples are the f64 samples rounded");
    }
    let c: Vec<f64> = (0..100)
        .map(|_| 0.0)
        .scan(rng(7), |r, _| Some(gaussian(r, 0.0, 1.0).unwrap()))
        .collect();
    assert_eq!(a, c);
    let u: Vec<f64> = (0..10_000)
        .map(|_| 0.0)
        .scan(rng(8), |r, _| Some(uniform_open01(r)))
        .collect();
    assert!(u.iter().all(|&x| x > 0.0 && x < 1.0));
}

#[test]
fn bad_parameters_are_typed_errors() {
    let mut r = rng(9);
    assert!(matches!(
        gaussian(&mut r, 0.0, -1.0),
        Err(Error::InvalidParameter { name: "std_dev", .. })
    ));
    assert!(matches!(
        gaussian(&mut r, f64::NAN, 1.0),
        Err(Error::InvalidParameter { name: "location", .. })
    ));
}
