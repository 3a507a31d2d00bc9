//! Spherical Langevin dynamics against closed forms: Brownian motion on the sphere decorrelates as
//! `E⟨θ_t, θ_0⟩ = exp(−(d−1)t/2)`; with the drift of a linear loss `L = −κ⟨a, θ⟩` the stationary law is von
//! Mises–Fisher of concentration `c = 2εκ`, whose mean `E⟨a, θ⟩` is `coth c − 1/c` on `S²` and a ratio of
//! one-dimensional integrals in any dimension (quadrature here). The averages against direct sums.
mod common;

use common::rng;
use sparsimony_core::Error;
use sparsimony_core::langevin::{IterateAverage, SphericalLangevin};

fn unit(d: usize, j: usize) -> Vec<f64> {
    let mut v = vec![0.0; d];
    v[j] = 1.0;
    v
}

#[test]
fn brownian_motion_on_the_sphere_decorrelates_at_the_closed_form_rate() {
    let (d, h, steps, chains) = (10, 2.5e-4, 800, 4000);
    let dynamics = SphericalLangevin::new(h, 0.0).unwrap();
    let mut r = rng(5);
    let mut scratch = vec![0.0; d];
    let overlaps: Vec<f64> = (0..chains)
        .map(|_| {
            let mut theta = unit(d, 0);
            for _ in 0..steps {
                dynamics
                    .step(&mut theta, &mut scratch, &mut r, |_, b| {
                        b.fill(0.0);
                        Ok(())
                    })
                    .unwrap();
            }
            let norm: f64 = theta.iter().map(|t| t * t).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-12);
            theta[0]
        })
        .collect();
    let n = chains as f64;
    let mean = overlaps.iter().sum::<f64>() / n;
    let se = (overlaps.iter().map(|o| (o - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
    let exact = (-(d as f64 - 1.0) * h * steps as f64 / 2.0).exp();
    // Five standard errors, plus the scheme's O(h) bias: per step the retraction's factor
    // E[(1 + h χ²_{d−1})^{−1/2}] exceeds exp(−h(d−1)/2) by about h²((d−1)² + 3(d−1))/4, i.e. 5e-3 relative
    // over these 800 steps.
    assert!(
        (mean - exact).abs() < 5.0 * se + 5e-3 * exact,
        "E⟨θ_t, θ_0⟩ = {mean} ± {se}, exact {exact}"
    );
}

/// `E⟨a, θ⟩` under the density `∝ exp(c⟨a, θ⟩)` on `S^{d−1}`: `∫ t e^{ct} (1−t²)^{(d−3)/2} dt / ∫ e^{ct} (1−t²)^{(d−3)/2} dt`
/// over `[−1, 1]` (Simpson, 20 000 panels).
fn von_mises_fisher_mean(c: f64, d: usize) -> f64 {
    let m = 20_000;
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..=m {
        let t = -1.0 + 2.0 * i as f64 / m as f64;
        let w = if i == 0 || i == m {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let f = (c * t).exp() * (1.0 - t * t).max(0.0).powf((d as f64 - 3.0) / 2.0);
        num += w * t * f;
        den += w * f;
    }
    num / den
}

#[test]
fn a_linear_loss_has_the_von_mises_fisher_law_as_stationary_distribution() {
    // On S²: E⟨a, θ⟩ = coth c − 1/c, and the quadrature agrees with it.
    let c: f64 = 2.0;
    let closed = 1.0 / c.tanh() - 1.0 / c;
    assert!((von_mises_fisher_mean(c, 3) - closed).abs() < 1e-8);
    for (d, kappa, signal) in [(3usize, 1.0, 1.0), (8, 2.0, 1.5)] {
        let dynamics = SphericalLangevin::new(1e-3, signal).unwrap();
        let exact = von_mises_fisher_mean(2.0 * signal * kappa, d);
        let a = unit(d, d - 1);
        let mut scratch = vec![0.0; d];
        let mut r = rng(11 + d as u64);
        // Independent chains, each past its burn-in, give independent batch means.
        let batches: Vec<f64> = (0..40)
            .map(|_| {
                let mut theta = unit(d, 0);
                let mut sum = 0.0;
                for step in 0..60_000 {
                    dynamics
                        .step(&mut theta, &mut scratch, &mut r, |_, b| {
                            b.iter_mut().zip(&a).for_each(|(bj, aj)| *bj = kappa * aj);
                            Ok(())
                        })
                        .unwrap();
                    if step >= 10_000 {
                        sum += theta[d - 1];
                    }
                }
                sum / 50_000.0
            })
            .collect();
        let n = batches.len() as f64;
        let mean = batches.iter().sum::<f64>() / n;
        let se = (batches.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / (n - 1.0) / n).sqrt();
        // Five standard errors and the O(h) bias of the step (h = 1e-3).
        assert!(
            (mean - exact).abs() < 5.0 * se + 5e-3,
            "d = {d}: E⟨a, θ⟩ = {mean} ± {se}, von Mises–Fisher {exact}"
        );
    }
}

#[test]
fn averages_equal_direct_sums_and_read_out_the_direction() {
    let d = 3;
    let iterates = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.6, -0.8]];
    let (mut mean, mut second) = (vec![9.0; d], vec![9.0; d * d]);
    let mut avg = IterateAverage::new(&mut mean, Some(&mut second)).unwrap();
    for t in &iterates {
        avg.add(t).unwrap();
    }
    assert_eq!(avg.count(), 4);
    for j in 0..d {
        let direct = iterates.iter().map(|t| t[j]).sum::<f64>() / 4.0;
        assert!((avg.mean()[j] - direct).abs() < 1e-15);
        for i in 0..d {
            let direct = iterates.iter().map(|t| t[i] * t[j]).sum::<f64>() / 4.0;
            assert!((avg.second_moment().unwrap()[i * d + j] - direct).abs() < 1e-15);
        }
    }
    let mut out = vec![0.0; d];
    avg.direction(&mut out).unwrap();
    let norm: f64 = avg.mean().iter().map(|m| m * m).sum::<f64>().sqrt();
    for (o, m) in out.iter().zip(avg.mean()) {
        assert!((o - m / norm).abs() < 1e-15);
    }
}

#[test]
fn f32_follows_f64_and_bad_input_is_an_error() {
    let d = 5;
    let dynamics = SphericalLangevin::new(1e-2, 1.0).unwrap();
    let (mut a, mut b) = (unit(d, 1), vec![0.0f32, 1.0, 0.0, 0.0, 0.0]);
    let (mut sa, mut sb) = (vec![0.0; d], vec![0.0f32; d]);
    let (mut ra, mut rb) = (rng(3), rng(3));
    for _ in 0..50 {
        dynamics
            .step(&mut a, &mut sa, &mut ra, |t, g| {
                g.iter_mut().zip(t).for_each(|(g, t)| *g = -t);
                Ok(())
            })
            .unwrap();
        dynamics
            .step(&mut b, &mut sb, &mut rb, |t, g| {
                g.iter_mut().zip(t).for_each(|(g, t)| *g = -t);
                Ok(())
            })
            .unwrap();
    }
    for (x, y) in a.iter().zip(&b) {
        assert!((x - *y as f64).abs() < 1e-5, "{a:?} vs {b:?}");
    }

    assert!(matches!(
        SphericalLangevin::new(0.0, 1.0),
        Err(Error::InvalidParameter { name: "step", .. })
    ));
    assert!(matches!(
        SphericalLangevin::new(1.0, -1.0),
        Err(Error::InvalidParameter { name: "signal", .. })
    ));
    let mut r = rng(0);
    let zero = |_: &[f64], b: &mut [f64]| {
        b.fill(0.0);
        Ok(())
    };
    let mut s1 = vec![0.0];
    assert!(matches!(
        dynamics.step(&mut [1.0], &mut s1, &mut r, zero),
        Err(Error::InvalidParameter { name: "theta", .. })
    ));
    let mut s = vec![0.0; 2];
    assert!(matches!(
        dynamics.step(&mut [f64::NAN, 1.0], &mut s, &mut r, zero),
        Err(Error::NonFinite {
            what: "theta",
            index: 0
        })
    ));
    assert!(matches!(
        dynamics.step(&mut [0.0, 0.0], &mut s, &mut r, zero),
        Err(Error::InvalidParameter { name: "theta", .. })
    ));
    assert!(matches!(
        dynamics.step(&mut [1.0, 0.0], &mut s, &mut r, |_, b: &mut [f64]| {
            b[1] = f64::INFINITY;
            Ok(())
        }),
        Err(Error::NonFinite {
            what: "drift",
            index: 1
        })
    ));
    assert!(matches!(
        dynamics.step(&mut [1.0, 0.0, 0.0], &mut s, &mut r, zero),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut empty: [f64; 0] = [];
    assert!(matches!(
        IterateAverage::new(&mut empty, None),
        Err(Error::Empty { .. })
    ));
    let (mut m, mut sec) = (vec![0.0; 2], vec![0.0; 3]);
    assert!(matches!(
        IterateAverage::new(&mut m, Some(&mut sec)),
        Err(Error::DimensionMismatch { .. })
    ));
    let mut avg = IterateAverage::new(&mut m, None).unwrap();
    assert!(matches!(avg.add(&[1.0, f64::NAN]), Err(Error::NonFinite { .. })));
    assert!(matches!(
        avg.direction(&mut [0.0, 0.0]),
        Err(Error::InvalidParameter { .. })
    ));
}
