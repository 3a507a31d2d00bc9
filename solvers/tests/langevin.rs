//! Langevin dynamics with averaging against what must hold: the Hermite links against their explicit
//! polynomials; the averaged read-out reaching a high overlap with `θ*` where the last iterate stays at
//! the equator's scale `d^{−1/2}`; typed errors for bad input.

use ndarray::Array2;
use sparsimony_solvers::Error;
use sparsimony_solvers::Estimator;
use sparsimony_solvers::langevin::{
    Chain, CorrelationLoss, Langevin, Link, Objective, OnlineSgd, Readout, SingleIndex, TensorPca, hermite,
};

#[test]
fn hermite_links_are_the_normalised_polynomials() {
    for z in [-2.5, -0.3, 0.0, 0.7, 3.1] {
        let explicit = [
            (1.0, 0.0),
            (z, 1.0),
            ((z * z - 1.0) / 2f64.sqrt(), 2.0 * z / 2f64.sqrt()),
            ((z * z * z - 3.0 * z) / 6f64.sqrt(), (3.0 * z * z - 3.0) / 6f64.sqrt()),
            (
                (z.powi(4) - 6.0 * z * z + 3.0) / 24f64.sqrt(),
                (4.0 * z.powi(3) - 12.0 * z) / 24f64.sqrt(),
            ),
        ];
        for (k, (v, dv)) in explicit.iter().enumerate() {
            let (a, b) = hermite(k, z);
            assert!((a - v).abs() < 1e-12 && (b - dv).abs() < 1e-12, "h_{k}({z})");
        }
        let link = Link::new(vec![0.5, 0.0, 0.0, 2.0, -1.0]).unwrap();
        let (v, dv) = link.eval(z);
        let (h3, d3) = hermite(3, z);
        let (h4, d4) = hermite(4, z);
        assert!((v - (0.5 + 2.0 * h3 - h4)).abs() < 1e-12);
        assert!((dv - (2.0 * d3 - d4)).abs() < 1e-12);
        assert_eq!(link.information_exponent(), 3);
    }
    // Orthonormal under N(0, 1): E[h_3 h_3] = 1 and E[h_3 h_4] = 0 by Gauss–Hermite-free Monte Carlo on
    // the model's own samples is too loose; use Simpson on the Gaussian density instead.
    let (m, lim) = (40_000, 12.0);
    let (mut e33, mut e34) = (0.0, 0.0);
    for i in 0..=m {
        let z = -lim + 2.0 * lim * i as f64 / m as f64;
        let w = if i == 0 || i == m {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let g = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt() * w * 2.0 * lim / (3.0 * m as f64);
        e33 += g * hermite(3, z).0.powi(2);
        e34 += g * hermite(3, z).0 * hermite(4, z).0;
    }
    assert!((e33 - 1.0).abs() < 1e-9 && e34.abs() < 1e-9, "{e33} {e34}");
}

/// The paper's effect at a size that runs in seconds: `d = 30`, `k* = 3`, `n = 10 d²`, horizon 500. "High" is an
/// overlap of 0.7; the last iterate is held to `3/√d = 0.55`, three times the equator's scale `d^{−1/2}`
/// (a uniform point has `E⟨θ, θ*⟩² = 1/d`).
#[test]
fn the_averaged_read_out_finds_the_direction_where_the_last_iterate_does_not() {
    let d = 30;
    let model = SingleIndex::new(d, Link::hermite(3).unwrap(), 0.0).unwrap();
    let (x, y) = model.sample(1, 0, 10 * d * d).unwrap();
    let mut last = Vec::new();
    for seed in 0..3 {
        let fit = Langevin {
            seed,
            time: 500.0,
            link: model.link.clone(),
            ..Langevin::default()
        }
        .fit((x.view(), y.view()))
        .unwrap();
        assert_eq!(fit.readout, Readout::Mean);
        let overlap = fit.estimate[0].abs();
        assert!(overlap > 0.7, "seed {seed}: averaged overlap {overlap}");
        last.push(fit.last[0].abs());
    }
    last.sort_by(f64::total_cmp);
    assert!(last[1] < 3.0 / (d as f64).sqrt(), "last-iterate overlaps {last:?}");
}

/// Even `k*`: the mean carries no sign, the second moment's top eigenvector does the work.
#[test]
fn an_even_information_exponent_is_read_from_the_second_moment() {
    let d = 20;
    let model = SingleIndex::new(d, Link::hermite(4).unwrap(), 0.0).unwrap();
    let (x, y) = model.sample(2, 0, 10 * d * d).unwrap();
    let fit = Langevin {
        link: model.link.clone(),
        ..Langevin::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    assert_eq!(fit.readout, Readout::SecondMoment);
    assert!(fit.estimate[0].abs() > 0.8, "overlap {}", fit.estimate[0]);
    let norm: f64 = fit.estimate.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!((norm - 1.0).abs() < 1e-12);
}

/// Online SGD warm-started at the averaged estimate keeps (or improves) its overlap on fresh samples,
/// and refuses a start of the wrong length.
#[test]
fn online_sgd_refines_the_averaged_estimate() {
    let d = 30;
    let model = SingleIndex::new(d, Link::hermite(3).unwrap(), 0.0).unwrap();
    let (x, y) = model.sample(1, 0, 10 * d * d).unwrap();
    let fit = Langevin {
        link: model.link.clone(),
        ..Langevin::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    let (xf, yf) = model.sample(1, 10 * (d * d) as u64, 20_000).unwrap();
    let sparsimony_solvers::langevin::SgdFit {
        direction: refined,
        report,
    } = OnlineSgd {
        step: Some(2e-4),
        init: Some(fit.estimate.clone()),
        link: model.link.clone(),
        ..OnlineSgd::default()
    }
    .fit((xf.view(), yf.view()))
    .unwrap();
    assert_eq!(report.iterations, 20_000);
    assert!(
        refined[0].abs() > fit.estimate[0].abs().max(0.9),
        "{} → {}",
        fit.estimate[0],
        refined[0]
    );
    let bad = OnlineSgd {
        init: Some(ndarray::Array1::zeros(3)),
        ..OnlineSgd::default()
    };
    assert!(matches!(bad.fit((xf.view(), yf.view())), Err(Error::Shape { .. })));
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(matches!(
        Link::new(vec![1.0, 0.0]),
        Err(Error::InvalidParameter { name: "link", .. })
    ));
    assert!(matches!(
        Link::hermite(0),
        Err(Error::InvalidParameter { name: "k", .. })
    ));
    let link = Link::hermite(3).unwrap();
    assert!(matches!(
        SingleIndex::new(1, link.clone(), 0.0),
        Err(Error::InvalidParameter { name: "d", .. })
    ));
    let est = Langevin {
        link: link.clone(),
        ..Langevin::default()
    };
    let x = Array2::<f64>::zeros((0, 3));
    let y = ndarray::Array1::<f64>::zeros(0);
    assert!(matches!(est.fit((x.view(), y.view())), Err(Error::Empty { .. })));
    let mut x = Array2::<f64>::ones((4, 3));
    let y = ndarray::Array1::<f64>::ones(4);
    x[(2, 1)] = f64::NAN;
    assert!(matches!(est.fit((x.view(), y.view())), Err(Error::NonFinite { .. })));
    let x = Array2::<f64>::ones((4, 1));
    assert!(matches!(
        est.fit((x.view(), y.view())),
        Err(Error::InvalidParameter { name: "d", .. })
    ));
    let x = Array2::<f64>::ones((4, 3));
    for (bad, name) in [
        (
            Langevin {
                step: 0.0,
                ..Langevin::default()
            },
            "step",
        ),
        (
            Langevin {
                signal: -1.0,
                ..Langevin::default()
            },
            "signal",
        ),
        (
            Langevin {
                time: f64::NAN,
                ..Langevin::default()
            },
            "time",
        ),
        (
            Langevin {
                burn_in: 1.0,
                ..Langevin::default()
            },
            "burn_in",
        ),
    ] {
        match bad.fit((x.view(), y.view())) {
            Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

/// `⟨T, θ^{⊗k}⟩` by brute force over every multi-index (the first index most significant).
fn tensor_form(t: &[f64], d: usize, k: usize, theta: &[f64]) -> f64 {
    (0..t.len())
        .map(|flat| {
            let (mut rest, mut product) = (flat, t[flat]);
            for _ in 0..k {
                product *= theta[rest % d];
                rest /= d;
            }
            product
        })
        .sum()
}

/// The spiked tensor's drift is the gradient of `⟨T̄, θ^{⊗k}⟩` (central differences of the brute-force form),
/// and the tensor is `e₁^{⊗k}` plus noise of standard deviation `1/√n`.
#[test]
fn the_tensor_drift_is_the_gradient_of_the_tensor_form() {
    for (d, k) in [(5, 2), (5, 3), (4, 4), (3, 5)] {
        let model = TensorPca::new(d, k, 4.0).unwrap();
        let tensor = model.sample(9).unwrap();
        let t = tensor.values();
        assert_eq!(t.len(), d.pow(k as u32));
        let noise: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, v)| if i == 0 { v - 1.0 } else { *v })
            .collect();
        let sd = (noise.iter().map(|v| v * v).sum::<f64>() / noise.len() as f64).sqrt();
        assert!(
            (sd - 0.5).abs() < 0.5 * 4.0 / (noise.len() as f64).sqrt(),
            "noise sd {sd}"
        );
        let theta: Vec<f64> = (0..d).map(|j| 0.3 + 0.17 * j as f64 - 0.05 * (j * j) as f64).collect();
        let mut drift = vec![0.0; d];
        tensor.drift(&theta, &mut drift).unwrap();
        let h = 1e-5;
        for j in 0..d {
            let (mut up, mut down) = (theta.clone(), theta.clone());
            up[j] += h;
            down[j] -= h;
            let fd = (tensor_form(t, d, k, &up) - tensor_form(t, d, k, &down)) / (2.0 * h);
            assert!(
                (drift[j] - fd).abs() < 1e-7 * (1.0 + fd.abs()),
                "d {d}, k {k}, j {j}: {} vs {fd}",
                drift[j]
            );
        }
    }
}

/// Online SGD's per-sample tensor gradient has the law of `∇⟨Z, θ^{⊗k}⟩` for a fresh Gaussian `Z`: the
/// covariance of brute-force gradients of drawn tensors and of the O(d) draws both match
/// `k I + k(k−1) θθᵀ`, and the mean is the spike's `k⟨θ, e₁⟩^{k−1} e₁`.
#[test]
fn the_fresh_tensor_gradient_has_the_closed_form_law() {
    use rand_core::SeedableRng;
    let (d, k, draws) = (4, 3, 20_000);
    let theta = [0.5, -0.5, 0.5, 0.5];
    let model = TensorPca::new(d, k, 1.0).unwrap();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(4);
    let closed = |i: usize, j: usize| k as f64 * f64::from(i == j) + (k * (k - 1)) as f64 * theta[i] * theta[j];
    let spike = |j: usize| {
        if j == 0 {
            k as f64 * theta[0].powi(k as i32 - 1)
        } else {
            0.0
        }
    };
    let (mut brute, mut fast) = (vec![0.0; d * d], vec![0.0; d * d]);
    let mut mean = vec![0.0; d];
    let mut g = vec![0.0; d];
    for _ in 0..draws {
        // A brute-force gradient of ⟨Z, θ^{⊗3}⟩ for a drawn Z: every slot's contraction.
        let z: Vec<f64> = (0..d * d * d)
            .map(|_| sparsimony_core::random::standard_normal(&mut rng))
            .collect();
        let mut grad = vec![0.0; d];
        for a in 0..d {
            for b in 0..d {
                for c in 0..d {
                    let w = z[(a * d + b) * d + c];
                    grad[a] += w * theta[b] * theta[c];
                    grad[b] += w * theta[a] * theta[c];
                    grad[c] += w * theta[a] * theta[b];
                }
            }
        }
        model.sample_gradient(&theta, &mut rng, &mut g);
        for i in 0..d {
            mean[i] += g[i] / draws as f64;
            for j in 0..d {
                brute[i * d + j] += grad[i] * grad[j] / draws as f64;
                fast[i * d + j] += (g[i] - spike(i)) * (g[j] - spike(j)) / draws as f64;
            }
        }
    }
    // Monte Carlo: each entry's standard error is about √(2·6²/20 000) ≈ 0.06.
    for i in 0..d {
        assert!((mean[i] - spike(i)).abs() < 0.1, "mean {i}: {}", mean[i]);
        for j in 0..d {
            let c = closed(i, j);
            assert!(
                (brute[i * d + j] - c).abs() < 0.3,
                "brute ({i},{j}): {} vs {c}",
                brute[i * d + j]
            );
            assert!(
                (fast[i * d + j] - c).abs() < 0.3,
                "draws ({i},{j}): {} vs {c}",
                fast[i * d + j]
            );
        }
    }
}

/// Tensor PCA at `d = 30`, order 3, `n = 10 d²`: the averaged read-out is high in three seeds while the last
/// iterate stays within three equator scales.
#[test]
fn the_averaged_read_out_finds_a_tensor_spike() {
    let d = 30;
    let tensor = TensorPca::new(d, 3, (10 * d * d) as f64).unwrap().sample(3).unwrap();
    let mut last = Vec::new();
    for seed in 0..3 {
        let fit = Langevin {
            seed,
            time: 300.0,
            signal: 2.0 * (d as f64).sqrt(),
            ..Langevin::default()
        }
        .fit(&tensor)
        .unwrap();
        assert!(fit.estimate[0].abs() > 0.9, "seed {seed}: averaged {}", fit.estimate[0]);
        last.push(fit.last[0].abs());
    }
    last.sort_by(f64::total_cmp);
    assert!(last[1] < 3.0 / (d as f64).sqrt(), "last-iterate overlaps {last:?}");
    assert!(matches!(
        TensorPca::new(300, 4, 1.0).unwrap().sample(0),
        Err(Error::InvalidParameter { name: "d", .. })
    ));
    assert!(matches!(
        TensorPca::new(5, 1, 1.0),
        Err(Error::InvalidParameter { name: "k", .. })
    ));
    assert!(matches!(
        TensorPca::new(5, 3, 0.0),
        Err(Error::InvalidParameter { name: "n", .. })
    ));
}

/// Chains in lockstep are the chains run one by one: the batched drift (two matrix products) agrees with
/// the per-chain pass to rounding, so over a short horizon the paths agree to 1e-9.
#[test]
fn chains_in_lockstep_are_the_chains_run_alone() {
    let d = 12;
    let model = SingleIndex::new(d, Link::hermite(3).unwrap(), 0.1).unwrap();
    let (x, y) = model.sample(5, 0, 20_000).unwrap();
    let loss = CorrelationLoss::new(x.view(), y.view(), &model.link).unwrap();
    let tensor = TensorPca::new(d, 3, 500.0).unwrap().sample(2).unwrap();
    let chains = [
        Chain { seed: 3, signal: 1.0 },
        Chain { seed: 4, signal: 7.0 },
        Chain { seed: 5, signal: 0.0 },
    ];
    let langevin = Langevin {
        time: 2.0,
        ..Langevin::default()
    };
    let together = langevin.run_chains(&loss, &chains).unwrap();
    let together_tensor = langevin.run_chains(&tensor, &chains).unwrap();
    for (c, chain) in chains.iter().enumerate() {
        let alone = Langevin {
            seed: chain.seed,
            signal: chain.signal,
            ..langevin.clone()
        };
        for (fit, batch) in [
            (alone.fit(&loss).unwrap(), &together[c]),
            (alone.fit(&tensor).unwrap(), &together_tensor[c]),
        ] {
            let gap = fit
                .last
                .iter()
                .zip(batch.last.iter())
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(gap < 1e-9, "chain {c}: {gap}");
            assert_eq!(fit.report.iterations, batch.report.iterations);
        }
    }
    assert!(matches!(langevin.run_chains(&loss, &[]), Err(Error::Empty { .. })));
    // 10⁶ chains' second moments (d² = 144 values each) exceed the one-chain bound: refused before allocating.
    let many = vec![Chain { seed: 0, signal: 1.0 }; 1_000_000];
    let second = Langevin {
        readout: Readout::SecondMoment,
        ..langevin.clone()
    };
    assert!(matches!(
        second.run_chains(&loss, &many),
        Err(Error::InvalidParameter { name: "chains", .. })
    ));
}

/// The simulated horizon `steps·h` lies within `h/2` of the requested `T` for every step up to `T` (a
/// brute-force sweep), so a step just under the horizon is one step, not two (`⌈T/h⌉` made it 2h ≈ 2T).
#[test]
fn the_simulated_horizon_is_within_half_a_step_of_the_requested_one() {
    let steps = |time, step| {
        Langevin {
            time,
            step,
            ..Langevin::default()
        }
        .steps()
        .unwrap()
    };
    for (time, step, expected) in [
        (1.0, 0.99, 1),
        (1.0, 0.3, 3),
        (1.0, 0.6, 2),
        (10.0, 0.01, 1000),
        (1.0, 1.0, 1),
    ] {
        let steps = steps(time, step);
        assert_eq!(steps, expected, "T {time}, h {step}");
    }
    for i in 1..=500 {
        let (time, step) = (1.0 + (i % 7) as f64, 0.002 * i as f64);
        let steps = steps(time, step);
        assert!(
            steps >= 1 && (steps as f64 * step - time).abs() <= 0.5 * step + 1e-12,
            "T {time}, h {step}: {steps}"
        );
    }
}
