//! The GPU Kronecker matvec against core's never-formed Kronecker operator and, for two factors, the
//! explicitly formed product.
use sparsimony_core::{DenseColMajor, Kronecker, LinearOperator};
use sparsimony_gpu::kron::Factor;
use sparsimony_gpu::{GpuError, kron_matvec};

mod common;
use common::context;

fn fill(len: usize, seed: u64) -> Vec<f32> {
    (0..len)
        .map(|i| ((i as u64 * 2654435761 + seed * 97) % 1000) as f32 / 500.0 - 1.0)
        .collect()
}

#[test]
fn kronecker_matvec_matches_core() {
    let Some(ctx) = context() else { return };
    for shapes in [
        vec![(3, 4), (5, 2)],
        vec![(7, 7), (1, 3), (4, 6)],
        vec![(65, 30), (2, 70)],
        vec![(1, 1)],
    ] {
        let data: Vec<Vec<f32>> = shapes
            .iter()
            .enumerate()
            .map(|(k, (m, n))| fill(m * n, k as u64))
            .collect();
        let gpu_factors: Vec<Factor<'_>> = shapes
            .iter()
            .zip(&data)
            .map(|(&(m, n), d)| Factor {
                data: d,
                nrows: m,
                ncols: n,
            })
            .collect();
        let dense: Vec<DenseColMajor<'_, f32>> = shapes
            .iter()
            .zip(&data)
            .map(|(&(m, n), d)| DenseColMajor::new(d, m, n).unwrap())
            .collect();
        let ops: Vec<&dyn LinearOperator<f32>> = dense.iter().map(|d| d as &dyn LinearOperator<f32>).collect();
        let kron = Kronecker::new(&ops).unwrap();
        let x = fill(kron.ncols(), 9);
        let mut want = vec![0.0f32; kron.nrows()];
        let mut scratch = vec![0.0f32; kron.scratch_len()];
        kron.apply(&x, &mut want, &mut scratch).unwrap();
        let got = kron_matvec(&ctx, &gpu_factors, &x).unwrap();
        assert_eq!(got.len(), want.len());
        let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        let err = got.iter().zip(&want).fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        let work: usize = shapes.iter().map(|s| s.1).sum();
        assert!(err <= 4.0 * f32::EPSILON * work as f32 * scale, "{shapes:?}: {err:e}");
    }
    // Two factors against the formed product (A ⊗ B)[(i, k), (j, l)] = A[i, j] B[k, l].
    let (a, b) = (fill(6, 1), fill(12, 2)); // A 2 × 3, B 3 × 4
    let x = fill(12, 3);
    let got = kron_matvec(
        &ctx,
        &[
            Factor {
                data: &a,
                nrows: 2,
                ncols: 3,
            },
            Factor {
                data: &b,
                nrows: 3,
                ncols: 4,
            },
        ],
        &x,
    )
    .unwrap();
    for i in 0..2 {
        for k in 0..3 {
            let want: f32 = (0..3)
                .flat_map(|j| (0..4).map(move |l| (j, l)))
                .map(|(j, l)| a[i + 2 * j] * b[k + 3 * l] * x[j * 4 + l])
                .sum();
            assert!((got[i * 3 + k] - want).abs() < 1e-5);
        }
    }
    assert!(matches!(kron_matvec(&ctx, &[], &x), Err(GpuError::Input(_))));
    assert!(matches!(
        kron_matvec(
            &ctx,
            &[Factor {
                data: &a,
                nrows: 2,
                ncols: 3
            }],
            &x
        ),
        Err(GpuError::Input(_))
    ));
}
