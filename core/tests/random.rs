//! Samplers against their closed-form distributions (moments and Kolmogorov–Smirnov distance).
mod common;

use common::rng;
use sparsimony_core::Error;
use sparsimony_core::random::{fill_gaussian, fill_laplace, gaussian, laplace, uniform_open01};

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

#[test]
fn laplace_matches_its_distribution() {
    let (loc, b) = (-0.5, 1.5);
    let mut s = vec![0.0f64; N];
    fill_laplace(&mut rng(62), &mut s, loc, b).unwrap();
    let m = s.iter().sum::<f64>() / N as f64;
    let v = s.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (N - 1) as f64;
    let sd = (2.0f64).sqrt() * b;
    assert!((m - loc).abs() < 5.0 * sd / (N as f64).sqrt(), "mean {m}");
    // Var of the sample variance for Laplace: (μ4 − σ⁴)/n with μ4 = 24b⁴, σ⁴ = 4b⁴.
    assert!(
        (v - 2.0 * b * b).abs() < 5.0 * (20.0 * b.powi(4) / N as f64).sqrt(),
        "variance {v}"
    );
    let cdf = |x: f64| {
        if x < loc {
            0.5 * ((x - loc) / b).exp()
        } else {
            1.0 - 0.5 * (-(x - loc) / b).exp()
        }
    };
    let d = ks(&mut s, cdf);
    assert!(d < ks_critical(), "KS distance {d}");
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
    assert!(matches!(
        laplace(&mut r, 0.0, f64::INFINITY),
        Err(Error::InvalidParameter { name: "scale", .. })
    ));
}
