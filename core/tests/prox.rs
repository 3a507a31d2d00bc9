//! Proximal maps against brute-force minimisation and optimality conditions, in f32 and f64.
mod common;

use common::*;
use sparsimony_core::prox::{BoxConstraint, Cel0, GroupL2, L0, L1, Zero};
use sparsimony_core::{Error, Prox, Real};

/// argmin_z step·g(z) + ½(z − v)² over a fine grid (scalar penalties), evaluated with the map's own `value`.
fn brute_force_scalar(g: &dyn Prox<f64>, step: f64, v: f64) -> f64 {
    let (lo, hi, n) = (-6.0, 6.0, 240_001);
    let mut best = (f64::INFINITY, 0.0);
    for k in 0..n {
        let z = lo + (hi - lo) * k as f64 / (n - 1) as f64;
        let c = step * g.value(&[z]).unwrap() + 0.5 * (z - v) * (z - v);
        if c < best.0 {
            best = (c, z);
        }
    }
    best.1
}

fn objective(g: &dyn Prox<f64>, step: f64, z: f64, v: f64) -> f64 {
    step * g.value(&[z]).unwrap() + 0.5 * (z - v) * (z - v)
}

/// The map's output attains the brute-force minimum of the prox objective (to the grid resolution).
fn check_scalar_prox(g: &dyn Prox<f64>, step: f64) {
    for k in 0..=60 {
        let v = -4.5 + 0.15 * k as f64 + 0.013;
        let mut x = [v];
        g.prox(step, &mut x).unwrap();
        let zb = brute_force_scalar(g, step, v);
        let (fx, fb) = (objective(g, step, x[0], v), objective(g, step, zb, v));
        assert!(
            fx <= fb + 1e-8,
            "v = {v}: prox gives {} (obj {fx}), brute force {zb} (obj {fb})",
            x[0]
        );
    }
}

#[test]
fn scalar_maps_attain_the_brute_force_minimum() {
    check_scalar_prox(&L1::new(0.7).unwrap(), 1.3);
    check_scalar_prox(&L1::new(0.7).unwrap().nonnegative(), 1.3);
    check_scalar_prox(&L1::new(0.7).unwrap().with_ridge(0.9).unwrap(), 1.3);
    check_scalar_prox(&L1::new(0.7).unwrap().with_ridge(0.9).unwrap().nonnegative(), 1.3);
    check_scalar_prox(&L0::new(0.9).unwrap(), 0.8);
    check_scalar_prox(&BoxConstraint::new(-1.0, 2.5).unwrap(), 0.5);
    check_scalar_prox(&Zero, 1.0);
    for (a, step) in [(1.3, 0.4), (0.5, 2.0), (1.0, 1.0), (2.0, 0.9)] {
        // γa² < 1 (closed form), = 1 and > 1 (concave piece).
        let norms = [a];
        check_scalar_prox(&Cel0::new(0.6, &norms).unwrap(), step);
    }
}

fn soft_threshold_conditions<T: Real>() {
    // Optimality of x = prox_{γλ‖·‖₁, w}(v): v − x ∈ γλwᵢ ∂|xᵢ|.
    let v: Vec<f64> = randn(&mut rng(20), 50).iter().map(|x| 2.0 * x).collect();
    let w: Vec<f64> = (0..50)
        .map(|i| if i % 7 == 0 { 0.0 } else { 0.5 + (i % 3) as f64 })
        .collect();
    let (lambda, step) = (0.4, 1.5);
    let wt = cast::<T>(&w);
    let g = L1::new(T::lit(lambda)).unwrap().with_weights(&wt).unwrap();
    let mut x = cast::<T>(&v);
    g.prox(T::lit(step), &mut x).unwrap();
    let t = tol::<T>(1e-5, 1e-12);
    for i in 0..50 {
        let (xi, r, bound) = (
            x[i].to_f64_lossless(),
            v[i] - x[i].to_f64_lossless(),
            step * lambda * w[i],
        );
        if xi != 0.0 {
            assert!(
                (r - bound * xi.signum()).abs() <= t * (1.0 + v[i].abs()),
                "coordinate {i}"
            );
        } else {
            assert!(r.abs() <= bound + t, "coordinate {i}");
        }
        if w[i] == 0.0 {
            assert_eq!(
                xi,
                T::lit(v[i]).to_f64_lossless(),
                "zero weight leaves coordinate {i} free"
            );
        }
    }
    let want = lambda * v.iter().zip(&w).map(|(a, b)| a.abs() * b).sum::<f64>();
    let got = g.value(&cast::<T>(&v)).unwrap().to_f64_lossless();
    assert!((got - want).abs() <= t * want);
}

fn group_conditions<T: Real>() {
    // Optimality of block soft thresholding: x_g = 0 iff ‖v_g‖ ≤ γλw_g, else v_g − x_g = γλw_g x_g/‖x_g‖.
    let offsets = [0usize, 3, 4, 9, 12];
    let weights = [1.0, 0.5, 2.0, 1.5];
    let mut v = randn(&mut rng(21), 12);
    v[9..12].iter_mut().for_each(|x| *x *= 0.1); // a group that vanishes
    let (lambda, step) = (0.8, 1.1);
    let wt = cast::<T>(&weights);
    let g = GroupL2::new(T::lit(lambda), &offsets)
        .unwrap()
        .with_weights(&wt)
        .unwrap();
    let mut x = cast::<T>(&v);
    g.prox(T::lit(step), &mut x).unwrap();
    let t = tol::<T>(1e-5, 1e-12);
    for gi in 0..4 {
        let r = offsets[gi]..offsets[gi + 1];
        let bound = step * lambda * weights[gi];
        let vn = v[r.clone()].iter().map(|a| a * a).sum::<f64>().sqrt();
        let xn = x[r.clone()]
            .iter()
            .map(|a| a.to_f64_lossless().powi(2))
            .sum::<f64>()
            .sqrt();
        if vn <= bound {
            assert_eq!(xn, 0.0, "group {gi}");
        } else {
            for i in r {
                let xi = x[i].to_f64_lossless();
                assert!(
                    (v[i] - xi - bound * xi / xn).abs() <= t * (1.0 + v[i].abs()),
                    "group {gi}, index {i}"
                );
            }
        }
    }
    assert!(
        x[9..12].iter().all(|v| *v == T::zero()),
        "the small last group must vanish"
    );
}

#[test]
fn soft_threshold_satisfies_subgradient_conditions_f64() {
    soft_threshold_conditions::<f64>();
}
#[test]
fn soft_threshold_satisfies_subgradient_conditions_f32() {
    soft_threshold_conditions::<f32>();
}
#[test]
fn group_l2_satisfies_optimality_conditions_f64() {
    group_conditions::<f64>();
}
#[test]
fn group_l2_satisfies_optimality_conditions_f32() {
    group_conditions::<f32>();
}

#[test]
fn hard_threshold_and_box_closed_forms_f32() {
    let mut x = [3.0f32, -1.0, 0.5, -2.0, 0.0];
    // Keep |v| > √(2γλ) = √(2·0.5·2) = √2.
    L0::new(2.0f32).unwrap().prox(0.5, &mut x).unwrap();
    assert_eq!(x, [3.0, 0.0, 0.0, -2.0, 0.0]);
    assert_eq!(L0::new(2.0f32).unwrap().value(&x).unwrap(), 4.0);
    let mut y = [3.0f32, -1.0, 0.5];
    BoxConstraint::nonnegative().prox(1.0, &mut y).unwrap();
    assert_eq!(y, [3.0, 0.0, 0.5]);
    assert_eq!(
        BoxConstraint::new(0.0f32, 1.0).unwrap().value(&y).unwrap(),
        f32::INFINITY
    );
}

#[test]
fn cel0_value_matches_the_l0_penalty_away_from_zero() {
    // φ(a, λ; u) = λ for |u| ≥ √(2λ)/a and 0 at u = 0: CEL0 counts like λ‖x‖₀ outside the threshold.
    let norms = [2.0f64, 0.5];
    let g = Cel0::new(0.5, &norms).unwrap();
    assert_eq!(g.value(&[0.0, 0.0]).unwrap(), 0.0);
    assert!((g.value(&[0.6, 2.5]).unwrap() - 1.0).abs() < 1e-15);
}

#[test]
fn bad_parameters_are_typed_errors() {
    assert!(matches!(
        L1::new(-1.0f64),
        Err(Error::InvalidParameter { name: "lambda", .. })
    ));
    assert!(matches!(L1::new(f64::NAN), Err(Error::InvalidParameter { .. })));
    assert!(matches!(
        L1::new(1.0f64).unwrap().with_weights(&[1.0, -2.0]),
        Err(Error::InvalidParameter { .. })
    ));
    let w = [1.0f64, 1.0];
    let g = L1::new(1.0f64).unwrap().with_weights(&w).unwrap();
    assert!(matches!(
        g.prox(1.0, &mut [1.0, 2.0, 3.0]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        L1::new(1.0f64).unwrap().prox(0.0, &mut [1.0]),
        Err(Error::InvalidParameter { name: "step", .. })
    ));
    assert!(matches!(
        GroupL2::new(1.0f64, &[0, 2, 2]),
        Err(Error::InvalidSparseStructure { .. })
    ));
    assert!(matches!(GroupL2::new(1.0f64, &[0]), Err(Error::Empty { .. })));
    assert!(matches!(
        GroupL2::new(1.0f64, &[0, 2]).unwrap().prox(1.0, &mut [1.0; 3]),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        BoxConstraint::new(1.0f64, 0.0),
        Err(Error::InvalidParameter { .. })
    ));
    let n = [1.0f64];
    assert!(matches!(
        Cel0::new(1.0, &n).unwrap().prox(1.0, &mut [f64::NAN]),
        Err(Error::NonFinite { .. })
    ));
}

/// The f32 maps agree with the f64 maps (which the brute-force test above checks) to f32 rounding.
#[test]
fn scalar_maps_in_f32_agree_with_f64() {
    let norms64 = [1.3f64];
    let norms32 = [1.3f32];
    type Pair<'a> = (Box<dyn Prox<f64> + 'a>, Box<dyn Prox<f32> + 'a>, f64);
    let pairs: [Pair<'_>; 5] = [
        (Box::new(L1::new(0.7).unwrap()), Box::new(L1::new(0.7f32).unwrap()), 1.3),
        (
            Box::new(L1::new(0.7).unwrap().nonnegative()),
            Box::new(L1::new(0.7f32).unwrap().nonnegative()),
            1.3,
        ),
        (Box::new(L0::new(0.9).unwrap()), Box::new(L0::new(0.9f32).unwrap()), 0.8),
        (
            Box::new(BoxConstraint::new(-1.0, 2.5).unwrap()),
            Box::new(BoxConstraint::new(-1.0f32, 2.5).unwrap()),
            0.5,
        ),
        (
            Box::new(Cel0::new(0.6, &norms64).unwrap()),
            Box::new(Cel0::new(0.6f32, &norms32).unwrap()),
            0.4,
        ),
    ];
    for (g64, g32, step) in &pairs {
        for k in 0..=60 {
            // Values chosen away from the thresholds, where a rounding difference could flip the branch.
            let v = -4.5 + 0.15 * k as f64 + 0.013;
            let (mut a, mut b) = ([v], [v as f32]);
            g64.prox(*step, &mut a).unwrap();
            g32.prox(*step as f32, &mut b).unwrap();
            assert!(
                (a[0] - b[0] as f64).abs() <= 1e-6 * (1.0 + v.abs()),
                "v = {v}: f64 {} vs f32 {}",
                a[0],
                b[0]
            );
        }
    }
}

#[test]
fn top_k_projection_keeps_the_largest_magnitudes() {
    use sparsimony_core::prox::TopK;
    let v = [0.5f64, -3.0, 2.0, -2.0, 0.1, 2.0, 7.0];
    // Brute force: the projection onto ‖x‖₀ ≤ k minimises ‖x − v‖², i.e. keeps a k-subset of largest |v|.
    for k in 0..=7 {
        let mut x = v;
        TopK::new(k).prox(1.0, &mut x).unwrap();
        assert_eq!(x.iter().filter(|a| **a != 0.0).count(), k.min(7), "k = {k}: {x:?}");
        let kept: f64 = x.iter().map(|a| a * a).sum();
        let mut mags: Vec<f64> = v.iter().map(|a| a * a).collect();
        mags.sort_by(|a, b| b.total_cmp(a));
        assert_eq!(
            kept,
            mags[..k].iter().sum::<f64>(),
            "k = {k}: the kept energy is the k largest"
        );
        assert!(
            x.iter().zip(&v).all(|(a, b)| *a == 0.0 || a == b),
            "kept entries are unchanged"
        );
    }
    // Long vectors, k on both sides of 64 (the scans and the bisection), with ties and signed zeros: the
    // kept set is the brute force's — sort by magnitude, ties to the lower index.
    let mut s = 7u64;
    let v: Vec<f64> = (0..500)
        .map(|i| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let u = ((s >> 33) % 200) as f64 / 8.0 - 12.5; // many repeated magnitudes
            if i % 97 == 0 { -0.0 } else { u }
        })
        .collect();
    for k in [1, 10, 64, 65, 100, 250, 499] {
        let mut x = v.clone();
        TopK::new(k).prox(1.0, &mut x).unwrap();
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&a, &b| v[b].abs().total_cmp(&v[a].abs()).then(a.cmp(&b)));
        let mut expected = vec![0.0; v.len()];
        order[..k].iter().for_each(|&j| expected[j] = v[j]);
        assert_eq!(x, expected, "k = {k}");
        let mut single: Vec<f32> = v.iter().map(|a| *a as f32).collect();
        TopK::new(k).prox(1.0, &mut single).unwrap();
        assert!(
            single.iter().zip(&expected).all(|(a, b)| *a as f64 == *b),
            "f32, k = {k}"
        );
    }
    // Ties at the threshold: the lower indices stay.
    let mut x = [2.0f32, -2.0, 2.0, 1.0];
    TopK::new(2).prox(1.0, &mut x).unwrap();
    assert_eq!(x, [2.0, -2.0, 0.0, 0.0]);
    assert_eq!(TopK::new(1).value(&x).unwrap(), f32::INFINITY);
}
