//! Device vectors: proximal maps against core's, reductions against f64 sums, on lengths around the block.
use sparsimony_core::prox::soft_threshold;
use sparsimony_gpu::{GpuError, GpuVector};

mod common;
use common::context;

fn fill(len: usize, seed: u64) -> Vec<f32> {
    (0..len)
        .map(|i| ((i as u64 * 2654435761 + seed * 97) % 2001) as f32 / 400.0 - 2.5)
        .collect()
}

#[test]
fn proximal_maps_match_core() {
    let Some(ctx) = context() else { return };
    for len in [0, 1, 255, 256, 257, 70_001] {
        let v = fill(len, len as u64);
        let mut g = GpuVector::upload(&ctx, &v).unwrap();
        g.soft_threshold(&ctx, 0.7).unwrap();
        let soft = g.download(&ctx).unwrap();
        for (a, x) in soft.iter().zip(&v) {
            assert_eq!(*a, soft_threshold(*x, 0.7, false), "soft threshold of {x}");
        }
        let mut g = GpuVector::upload(&ctx, &v).unwrap();
        g.hard_threshold(&ctx, 1.1).unwrap();
        for (a, x) in g.download(&ctx).unwrap().iter().zip(&v) {
            assert_eq!(*a, if x.abs() > 1.1 { *x } else { 0.0 });
        }
        g.clamp(&ctx, -0.5, 2.0).unwrap();
        assert!(g.download(&ctx).unwrap().iter().all(|a| (-0.5..=2.0).contains(a)));
    }
}

#[test]
fn reductions_match_f64_sums() {
    let Some(ctx) = context() else { return };
    for len in [1, 255, 256, 257, 100_003] {
        let (u, w) = (fill(len, 1), fill(len, 2));
        let (gu, gw) = (
            GpuVector::upload(&ctx, &u).unwrap(),
            GpuVector::upload(&ctx, &w).unwrap(),
        );
        let want: f64 = u.iter().zip(&w).map(|(a, b)| *a as f64 * *b as f64).sum();
        let abs: f64 = u.iter().zip(&w).map(|(a, b)| (*a as f64 * *b as f64).abs()).sum();
        let got = gu.dot(&ctx, &gw).unwrap();
        // Tree sums of 256 in f32: ≤ 9 roundings of the block's absolute sum each.
        assert!(
            (got - want).abs() <= 9.0 * f32::EPSILON as f64 * abs + 1e-30,
            "len {len}: {got} vs {want}"
        );
        let norm = gu.norm2_sq(&ctx).unwrap();
        let want_norm: f64 = u.iter().map(|a| (*a as f64).powi(2)).sum();
        assert!((norm - want_norm).abs() <= 9.0 * f32::EPSILON as f64 * want_norm);
        assert_eq!(gu.max_abs(&ctx).unwrap(), u.iter().fold(0.0f32, |m, a| m.max(a.abs())));
        // Deterministic: the same answer every time.
        assert_eq!(gu.dot(&ctx, &gw).unwrap(), got);
    }
    let (a, b) = (
        GpuVector::upload(&ctx, &[1.0; 3]).unwrap(),
        GpuVector::upload(&ctx, &[1.0; 4]).unwrap(),
    );
    assert!(matches!(a.dot(&ctx, &b), Err(GpuError::Input(_))));
    assert!(matches!(GpuVector::upload(&ctx, &[f32::NAN]), Err(GpuError::Input(_))));
    let mut c = GpuVector::upload(&ctx, &[1.0; 3]).unwrap();
    assert!(c.soft_threshold(&ctx, -1.0).is_err() && c.clamp(&ctx, 1.0, 0.0).is_err());
}
