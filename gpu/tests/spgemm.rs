//! The GPU sparse product against a dense reference product, on ragged matrices with empty rows, repeated
//! products into the same column, and sizes around the workgroup.
use sparsimony_core::CsrView;
use sparsimony_gpu::{GpuError, spgemm};

mod common;
use common::{context, ragged};

fn dense(nrows: usize, ncols: usize, (p, i, v): &(Vec<usize>, Vec<usize>, Vec<f32>)) -> Vec<f64> {
    let mut d = vec![0.0; nrows * ncols];
    for r in 0..nrows {
        for q in p[r]..p[r + 1] {
            d[r * ncols + i[q]] += v[q] as f64;
        }
    }
    d
}

#[test]
fn spgemm_matches_the_dense_product() {
    let Some(ctx) = context() else { return };
    for (m, k, n, ra, rb) in [
        (1, 1, 1, 1, 1),
        (70, 30, 50, 6, 8),
        (130, 5, 200, 4, 60),
        (64, 64, 64, 0, 5),
        (300, 40, 40, 12, 12),
    ] {
        let (a, b) = (
            ragged(m, k, ra, 1 + m as u64, true),
            ragged(k, n, rb, 2 + n as u64, true),
        );
        let av = CsrView::new(m, k, &a.0, &a.1, &a.2).unwrap();
        let bv = CsrView::new(k, n, &b.0, &b.1, &b.2).unwrap();
        let c = spgemm(&ctx, &av, &bv).unwrap();
        let (da, db) = (dense(m, k, &a), dense(k, n, &b));
        let mut got = vec![0.0f64; m * n];
        for r in 0..m {
            assert!(
                c.indices[c.indptr[r]..c.indptr[r + 1]].windows(2).all(|w| w[0] < w[1]),
                "row {r} sorted"
            );
            for q in c.indptr[r]..c.indptr[r + 1] {
                got[r * n + c.indices[q]] = c.values[q] as f64;
            }
        }
        for r in 0..m {
            for j in 0..n {
                let (want, abs) = (0..k).fold((0.0, 0.0), |(s, t), p| {
                    let prod = da[r * k + p] * db[p * n + j];
                    (s + prod, t + prod.abs())
                });
                assert!(
                    (got[r * n + j] - want).abs() <= 4.0 * f32::EPSILON as f64 * abs.max(1e-30),
                    "C[{r},{j}]"
                );
                // Stored exactly where some product lands.
                let touched = a.1[a.0[r]..a.0[r + 1]]
                    .iter()
                    .any(|&p| b.1[b.0[p]..b.0[p + 1]].contains(&j));
                let stored = c.indices[c.indptr[r]..c.indptr[r + 1]].contains(&j);
                assert_eq!(stored, touched, "({m}×{k}×{n}) structure of C[{r},{j}]");
            }
        }
    }
    let (a, b) = (ragged(3, 4, 2, 1, true), ragged(5, 2, 2, 2, true));
    let av = CsrView::new(3, 4, &a.0, &a.1, &a.2).unwrap();
    let bv = CsrView::new(5, 2, &b.0, &b.1, &b.2).unwrap();
    assert!(matches!(spgemm(&ctx, &av, &bv), Err(GpuError::Input(_))));
}
