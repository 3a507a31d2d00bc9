//! The tiled GEMM against a naive f64 product, on sizes that are and are not multiples of the tiles.
use sparsimony_gpu::{GpuError, matmul};

mod common;
use common::context;

fn fill(len: usize, seed: u64) -> Vec<f32> {
    (0..len)
        .map(|i| (((i as u64 * 2654435761 + seed) % 1000) as f32 / 500.0) - 1.0)
        .collect()
}

#[test]
fn gemm_matches_the_naive_product() {
    let Some(ctx) = context() else { return };
    for (m, k, n) in [
        (1, 1, 1),
        (65, 17, 130),
        (3, 200, 5),
        (128, 64, 128),
        (64, 0, 64),
        (100, 33, 1),
    ] {
        let (a, b) = (fill(m * k, 1), fill(k * n, 2));
        let c: Vec<f32> = matmul(&ctx, &a, &b, m, k, n).unwrap();
        for j in 0..n {
            for i in 0..m {
                let want: f64 = (0..k).map(|p| a[i + p * m] as f64 * b[p + j * k] as f64).sum();
                let abs: f64 = (0..k).map(|p| (a[i + p * m] as f64 * b[p + j * k] as f64).abs()).sum();
                let got = c[i + j * m] as f64;
                // f32 accumulation: k roundings of at most ½ ulp of the running absolute sum.
                assert!(
                    (got - want).abs() <= 1e-6 * (k as f64 + 1.0) * abs.max(1e-30),
                    "({m}×{k}×{n}) C[{i},{j}] = {got}, want {want}"
                );
            }
        }
    }
    assert!(matches!(
        matmul(&ctx, &[1.0f32; 3], &[1.0; 4], 2, 2, 2),
        Err(GpuError::Input(_))
    ));
}

#[test]
fn gemm_in_f64_where_the_adapter_has_it() {
    let Some(ctx) = context() else { return };
    let (m, k, n) = (70, 45, 33);
    let a: Vec<f64> = fill(m * k, 3).iter().map(|v| *v as f64 + 1e-9).collect();
    let b: Vec<f64> = fill(k * n, 4).iter().map(|v| *v as f64).collect();
    match matmul(&ctx, &a, &b, m, k, n) {
        Ok(c) => {
            for j in 0..n {
                for i in 0..m {
                    let want: f64 = (0..k).map(|p| a[i + p * m] * b[p + j * k]).sum();
                    assert!((c[i + j * m] - want).abs() < 1e-13 * k as f64, "C[{i},{j}]");
                }
            }
            eprintln!("f64 GEMM ran on {}", ctx.adapter_info().name);
        }
        // Without SHADER_F64 the refusal must say so (and f32 stays available).
        Err(GpuError::MissingFeature { feature, .. }) => {
            assert!(!ctx.supports_f64());
            assert_eq!(feature, "SHADER_F64");
            eprintln!("the adapter has no SHADER_F64: f64 GEMM refused as it should be");
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn core_solvers_run_unchanged_on_the_dense_gpu_operator() {
    use sparsimony_core::forward_backward::minimize_alloc;
    use sparsimony_core::linalg::{power_iteration, power_iteration_scratch_len};
    use sparsimony_core::prox::L1;
    use sparsimony_core::{DenseColMajor, FbOptions, LeastSquares, LinearOperator};
    use sparsimony_gpu::GpuDenseOperator;
    let Some(ctx) = context() else { return };
    let (m, n) = (90, 70);
    let a = fill(m * n, 11);
    let cpu = DenseColMajor::new(&a, m, n).unwrap();
    let gpu = GpuDenseOperator::new(&ctx, &a, m, n).unwrap();
    let w_true: Vec<f32> = (0..n).map(|j| if j % 9 == 0 { 1.0 } else { 0.0 }).collect();
    let mut y = vec![0.0f32; m];
    cpu.apply(&w_true, &mut y, &mut []).unwrap();
    let solve = |op: &dyn LinearOperator<f32>| {
        let f = LeastSquares::new(op, &y, 1.0 / m as f32).unwrap();
        let mut w = vec![0.0f32; n];
        minimize_alloc(&f, &L1::new(1e-3).unwrap(), &mut w, &FbOptions::default(), None).unwrap();
        w
    };
    let (wc, wg) = (solve(&cpu), solve(&gpu));
    for (g, c) in wg.iter().zip(&wc) {
        assert!((g - c).abs() <= 1e-3 * c.abs().max(1.0), "GPU {g} vs CPU {c}");
    }
    // The power iteration (‖A‖²) through apply and apply_adjoint.
    let norm = |op: &dyn LinearOperator<f32>| {
        let mut scratch = vec![0.0f32; power_iteration_scratch_len(op)];
        power_iteration(op, 500, 1e-6, &mut scratch).unwrap()
    };
    let (nc, ng) = (norm(&cpu), norm(&gpu));
    assert!((nc - ng).abs() <= 1e-4 * nc, "‖A‖²: CPU {nc} vs GPU {ng}");
    assert!(gpu.last_error().is_none());
}
