//! The GPU CSR SpMV against the CPU's `CsrView` product. Runs on any adapter, Mesa's lavapipe in CI.
use sparsimony_core::{CsrView, Error, LinearOperator};
use sparsimony_gpu::{GpuError, SpmvKernel};

mod common;
use common::{context, ragged};

#[test]
fn spmv_matches_the_cpu_on_ragged_and_empty_rows() {
    let Some(ctx) = context() else { return };
    // Sizes around the workgroup of 64 and a larger one that is not a multiple of it.
    // Long rows (up to 400 entries) for the vector kernel, and more rows than one grid line of its
    // workgroups holds (2 × 65 535).
    for (nrows, ncols, max_row) in [
        (1, 1, 1),
        (63, 17, 5),
        (64, 64, 9),
        (65, 3, 4),
        (10_007, 2_000, 40),
        (301, 500, 400),
    ] {
        let (indptr, indices, values) = ragged(nrows, ncols, max_row, nrows as u64, false);
        let a = CsrView::new(nrows, ncols, &indptr, &indices, &values).unwrap();
        let x: Vec<f32> = (0..ncols).map(|j| ((j * 37 % 101) as f32 - 50.0) / 17.0).collect();
        let gpu = sparsimony_gpu::GpuCsr::from_view(&ctx, &a).unwrap();
        let mut cpu = vec![0.0f32; nrows];
        a.apply(&x, &mut cpu, &mut []).unwrap();
        for kernel in [SpmvKernel::Row, SpmvKernel::Vector] {
            let y = gpu.spmv_with(&ctx, &x, kernel).unwrap();
            assert_eq!(y.len(), nrows);
            for i in 0..nrows {
                // The row kernel sums in the CPU's order (fused vs unfused multiply–add), the vector kernel in a
                // tree: either way ≤ 2 ulp per term of the absolute sum.
                let (cols, vals) = a.row(i);
                let abs: f32 = cols.iter().zip(vals).map(|(&j, v)| (v * x[j]).abs()).sum();
                let bound = 2.0 * f32::EPSILON * abs * cols.len().max(1) as f32;
                assert!(
                    (y[i] - cpu[i]).abs() <= bound,
                    "{kernel:?}: row {i} of {nrows}: gpu {} cpu {}",
                    y[i],
                    cpu[i]
                );
                if cols.is_empty() {
                    assert_eq!(y[i], 0.0, "an empty row gives exactly 0");
                }
            }
        }
        assert_eq!(gpu.spmv(&ctx, &x).unwrap().len(), nrows);
    }
}

#[test]
fn spmv_rejects_bad_input_with_typed_errors() {
    let Some(ctx) = context() else { return };
    let (indptr, indices, values) = ragged(10, 4, 3, 1, false);
    let a = CsrView::new(10, 4, &indptr, &indices, &values).unwrap();
    let gpu = sparsimony_gpu::GpuCsr::from_view(&ctx, &a).unwrap();
    assert!(matches!(
        gpu.spmv(&ctx, &[1.0; 3]),
        Err(GpuError::Input(Error::DimensionMismatch { .. }))
    ));
    assert!(matches!(
        gpu.spmv(&ctx, &[1.0, f32::NAN, 0.0, 0.0]),
        Err(GpuError::Input(Error::NonFinite { index: 1, .. }))
    ));
}

#[test]
fn core_solvers_run_unchanged_on_the_gpu_operator() {
    use sparsimony_core::forward_backward::minimize_alloc;
    use sparsimony_core::prox::L1;
    use sparsimony_core::{FbOptions, LeastSquares};
    use sparsimony_gpu::GpuCsrOperator;
    let Some(ctx) = context() else { return };
    let (m, n) = (300, 40);
    let (indptr, indices, values) = ragged(m, n, 8, 5, false);
    let a = CsrView::new(m, n, &indptr, &indices, &values).unwrap();
    let op = GpuCsrOperator::new(&ctx, &a).unwrap();
    // The adjoint against the CPU's.
    let r: Vec<f32> = (0..m).map(|i| ((i * 13 % 29) as f32 - 14.0) / 7.0).collect();
    let (mut cpu, mut gpu) = (vec![0.0f32; n], vec![0.0f32; n]);
    a.apply_adjoint(&r, &mut cpu, &mut []).unwrap();
    op.apply_adjoint(&r, &mut gpu, &mut []).unwrap();
    for (g, c) in gpu.iter().zip(&cpu) {
        assert!((g - c).abs() <= 1e-4 * c.abs().max(1.0));
    }
    // FISTA for the Lasso, once with the CPU operator and once with the GPU one.
    let w_true: Vec<f32> = (0..n)
        .map(|j| if j % 7 == 0 { 1.0 + j as f32 / 10.0 } else { 0.0 })
        .collect();
    let mut y = vec![0.0f32; m];
    a.apply(&w_true, &mut y, &mut []).unwrap();
    let opts = FbOptions::default();
    let solve = |op: &dyn LinearOperator<f32>| {
        let f = LeastSquares::new(op, &y, 1.0 / m as f32).unwrap();
        let mut w = vec![0.0f32; n];
        minimize_alloc(&f, &L1::new(0.01).unwrap(), &mut w, &opts, None).unwrap();
        w
    };
    let (w_cpu, w_gpu) = (solve(&a), solve(&op));
    for (g, c) in w_gpu.iter().zip(&w_cpu) {
        assert!((g - c).abs() <= 1e-3 * c.abs().max(1.0), "GPU {g} vs CPU {c}");
    }
    assert!(op.last_error().is_none());
    // Shape errors stay core errors.
    assert!(matches!(
        op.apply(&[1.0; 3], &mut vec![0.0; m], &mut []),
        Err(Error::DimensionMismatch { .. })
    ));
}
