//! Langevin dynamics with averaging against what must hold: the Hermite links against their explicit
//! polynomials; the averaged read-out reaching a high overlap with `θ*` where the last iterate stays at
//! the equator's scale `d^{−1/2}`; typed errors for bad input.

use ndarray::Array2;
use sparsimony_solvers::Error;
use sparsimony_solvers::langevin::{Langevin, Link, OnlineSgd, Readout, SingleIndex, hermite};

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
    let (x, y) = model.sample(1, 0, 10 * d * d);
    let mut last = Vec::new();
    for seed in 0..3 {
        let fit = Langevin {
            seed,
            time: 500.0,
            ..Langevin::default()
        }
        .fit(x.view(), y.view(), &model.link)
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
    let (x, y) = model.sample(2, 0, 10 * d * d);
    let fit = Langevin::default().fit(x.view(), y.view(), &model.link).unwrap();
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
    let (x, y) = model.sample(1, 0, 10 * d * d);
    let fit = Langevin::default().fit(x.view(), y.view(), &model.link).unwrap();
    let (xf, yf) = model.sample(1, 10 * (d * d) as u64, 20_000);
    let (refined, report) = OnlineSgd {
        step: Some(2e-4),
        init: Some(fit.estimate.clone()),
        ..OnlineSgd::default()
    }
    .fit(xf.view(), yf.view(), &model.link)
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
    assert!(matches!(
        bad.fit(xf.view(), yf.view(), &model.link),
        Err(Error::Shape { .. })
    ));
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
    let est = Langevin::default();
    let x = Array2::<f64>::zeros((0, 3));
    let y = ndarray::Array1::<f64>::zeros(0);
    assert!(matches!(est.fit(x.view(), y.view(), &link), Err(Error::Empty { .. })));
    let mut x = Array2::<f64>::ones((4, 3));
    let y = ndarray::Array1::<f64>::ones(4);
    x[(2, 1)] = f64::NAN;
    assert!(matches!(
        est.fit(x.view(), y.view(), &link),
        Err(Error::NonFinite { .. })
    ));
    let x = Array2::<f64>::ones((4, 1));
    assert!(matches!(
        est.fit(x.view(), y.view(), &link),
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
        match bad.fit(x.view(), y.view(), &link) {
            Err(Error::InvalidParameter { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}
