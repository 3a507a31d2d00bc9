//! Operators against naive dense references, in f32 and f64.
mod common;

use common::*;
use sparsimony_core::{CsrView, DenseColMajor, Error, Kronecker, LinearOperator, Real};

fn check_op<T: Real>(op: &dyn LinearOperator<T>, dense: &[f64], m: usize, n: usize, seed: u64) {
    let mut r = rng(seed);
    let x = randn(&mut r, n);
    let z = randn(&mut r, m);
    let mut scratch = vec![T::zero(); op.scratch_len()];
    let mut y = vec![T::zero(); m];
    op.apply(&cast::<T>(&x), &mut y, &mut scratch).unwrap();
    let want = naive_matvec(dense, m, n, m, &x, false);
    assert!(
        rel_err(&y, &want) < tol::<T>(1e-5, 1e-13),
        "apply: {}",
        rel_err(&y, &want)
    );
    let mut w = vec![T::zero(); n];
    op.apply_adjoint(&cast::<T>(&z), &mut w, &mut scratch).unwrap();
    let want = naive_matvec(dense, m, n, m, &z, true);
    assert!(
        rel_err(&w, &want) < tol::<T>(1e-5, 1e-13),
        "adjoint: {}",
        rel_err(&w, &want)
    );
}

fn dense_cases<T: Real>() {
    let (m, n, ld) = (7, 5, 9);
    let data = randn(&mut rng(1), ld * n);
    let compact: Vec<f64> = (0..n).flat_map(|j| data[j * ld..j * ld + m].to_vec()).collect();
    let data_t = cast::<T>(&data);
    let op = DenseColMajor::with_leading_dim(&data_t, m, n, ld).unwrap();
    check_op::<T>(&op, &compact, m, n, 2);
    assert_eq!(
        op.get(3, 2).to_f64_lossless(),
        T::lit(data[3 + 2 * ld]).to_f64_lossless()
    );
}

/// A random sparse matrix (dense copy) and its CSR form with unsorted and duplicated column indices.
fn random_csr(m: usize, n: usize, seed: u64) -> (Vec<f64>, Vec<usize>, Vec<usize>, Vec<f64>) {
    let mut r = rng(seed);
    let vals = randn(&mut r, m * n);
    let mut dense = vec![0.0; m * n];
    let (mut indptr, mut indices, mut values) = (vec![0], vec![], vec![]);
    for i in 0..m {
        // Row 2 stays empty; other rows keep about a third of the entries, stored in reverse column order.
        for j in (0..n).rev() {
            if i != 2 && (i * 7 + j * 3) % 3 == 0 {
                // Split each value into two duplicates that add up.
                let v = vals[i + j * m];
                indices.extend([j, j]);
                values.extend([0.25 * v, 0.75 * v]);
                dense[i + j * m] = v;
            }
        }
        indptr.push(indices.len());
    }
    (dense, indptr, indices, values)
}

fn csr_cases<T: Real>() {
    let (m, n) = (8, 6);
    let (dense, indptr, indices, values) = random_csr(m, n, 3);
    let values_t = cast::<T>(&values);
    let op = CsrView::new(m, n, &indptr, &indices, &values_t).unwrap();
    assert_eq!(op.nnz(), values.len());
    check_op::<T>(&op, &dense, m, n, 4);
}

fn kron_cases<T: Real>() {
    // Three rectangular factors: dense, CSR, dense.
    let (a, am, an) = (randn(&mut rng(5), 3 * 4), 3, 4);
    let (c, cm, cn) = (randn(&mut rng(6), 2 * 3), 2, 3);
    let (bd, indptr, indices, values) = random_csr(5, 2, 7);
    let (a_t, c_t, v_t) = (cast::<T>(&a), cast::<T>(&c), cast::<T>(&values));
    let fa = DenseColMajor::new(&a_t, am, an).unwrap();
    let fb = CsrView::new(5, 2, &indptr, &indices, &v_t).unwrap();
    let fc = DenseColMajor::new(&c_t, cm, cn).unwrap();

    let two: [&dyn LinearOperator<T>; 2] = [&fa, &fb];
    let k2 = Kronecker::new(&two).unwrap();
    let (d2, m2, n2) = kron_dense(&[(a.clone(), am, an), (bd.clone(), 5, 2)]);
    assert_eq!((k2.nrows(), k2.ncols()), (m2, n2));
    check_op::<T>(&k2, &d2, m2, n2, 8);

    let three: [&dyn LinearOperator<T>; 3] = [&fa, &fb, &fc];
    let k3 = Kronecker::new(&three).unwrap();
    let (d3, m3, n3) = kron_dense(&[(a.clone(), am, an), (bd.clone(), 5, 2), (c.clone(), cm, cn)]);
    check_op::<T>(&k3, &d3, m3, n3, 9);

    // A Kronecker product nested inside another, and a single factor.
    let nested: [&dyn LinearOperator<T>; 2] = [&k2, &fc];
    check_op::<T>(&Kronecker::new(&nested).unwrap(), &d3, m3, n3, 10);
    let one: [&dyn LinearOperator<T>; 1] = [&fc];
    check_op::<T>(&Kronecker::new(&one).unwrap(), &c, cm, cn, 11);
}

#[test]
fn dense_matches_naive_f64() {
    dense_cases::<f64>();
}
#[test]
fn dense_matches_naive_f32() {
    dense_cases::<f32>();
}
#[test]
fn csr_matches_dense_f64() {
    csr_cases::<f64>();
}
#[test]
fn csr_matches_dense_f32() {
    csr_cases::<f32>();
}
#[test]
fn kronecker_matches_formed_product_f64() {
    kron_cases::<f64>();
}
#[test]
fn kronecker_matches_formed_product_f32() {
    kron_cases::<f32>();
}

#[test]
fn bad_input_is_a_typed_error() {
    let data = [1.0f64, 2.0, 3.0, f64::NAN, 5.0, 6.0];
    assert!(matches!(
        DenseColMajor::new(&data, 2, 3),
        Err(Error::NonFinite { index: 3, .. })
    ));
    assert!(matches!(
        DenseColMajor::new(&data[..5], 2, 3),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(DenseColMajor::<f64>::new(&[], 0, 3), Err(Error::Empty { .. })));
    assert!(matches!(
        DenseColMajor::new(&data[..2], 2, 0),
        Err(Error::Empty {
            what: "operator columns"
        })
    ));
    assert!(matches!(
        DenseColMajor::with_leading_dim(&data, 3, 2, 2),
        Err(Error::InvalidParameter { .. })
    ));

    let ok = [1.0f64, 2.0, 3.0, 4.0];
    let op = DenseColMajor::new(&ok, 2, 2).unwrap();
    let mut y = [0.0; 3];
    assert_eq!(
        op.apply(&[1.0, 1.0], &mut y, &mut []),
        Err(Error::DimensionMismatch {
            what: "y",
            expected: 2,
            found: 3
        })
    );

    // CSR: wrong indptr length, decreasing indptr, column out of range, NaN value, wrong last pointer.
    let v = [1.0f64, 2.0];
    assert!(matches!(
        CsrView::new(2, 2, &[0, 2], &[0, 1], &v),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        CsrView::new(2, 2, &[0, 2, 1], &[0, 1], &v),
        Err(Error::InvalidSparseStructure { position: 1, .. })
    ));
    assert!(matches!(
        CsrView::new(2, 2, &[0, 1, 2], &[0, 2], &v),
        Err(Error::InvalidSparseStructure { .. })
    ));
    assert!(matches!(
        CsrView::new(2, 2, &[0, 1, 2], &[0, 1], &[1.0, f64::INFINITY]),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        CsrView::new(2, 2, &[0, 1, 1], &[0, 1], &v),
        Err(Error::InvalidSparseStructure { .. })
    ));

    // Kronecker: no factors; scratch too small.
    assert!(matches!(Kronecker::<f64>::new(&[]), Err(Error::Empty { .. })));
    let factors: [&dyn LinearOperator<f64>; 3] = [&op, &op, &op];
    let k = Kronecker::new(&factors).unwrap();
    let mut y = [0.0; 8];
    assert!(matches!(
        k.apply(&[1.0; 8], &mut y, &mut [0.0; 3]),
        Err(Error::ScratchTooSmall { .. })
    ));
}

/// nalgebra's matrices (feature `nalgebra`) against the naive product: a stack `SMatrix` in f32 and f64, a
/// heap `DMatrix`, and a strided view (every other row).
#[test]
fn nalgebra_matrices_match_naive() {
    use nalgebra::{DMatrix, SMatrix};
    let (m, n) = (5, 3);
    let dense = randn(&mut rng(41), m * n); // column-major, as nalgebra stores it
    check_op::<f64>(&SMatrix::<f64, 5, 3>::from_column_slice(&dense), &dense, m, n, 42);
    check_op::<f32>(
        &SMatrix::<f32, 5, 3>::from_column_slice(&cast::<f32>(&dense)),
        &dense,
        m,
        n,
        43,
    );
    let big = randn(&mut rng(44), 10 * 7);
    let d = DMatrix::from_column_slice(10, 7, &big);
    check_op::<f64>(&d, &big, 10, 7, 45);
    let rows: Vec<usize> = (0..10).step_by(2).collect();
    let view = d.select_rows(&rows);
    let picked: Vec<f64> = (0..7)
        .flat_map(|j| rows.iter().map(|&i| big[i + 10 * j]).collect::<Vec<_>>())
        .collect();
    check_op::<f64>(&view, &picked, 5, 7, 46);
    // Shapes are checked like every other operator's.
    let mut y = [0.0; 5];
    assert!(matches!(
        SMatrix::<f64, 5, 3>::zeros().apply(&[1.0; 2], &mut y, &mut []),
        Err(Error::DimensionMismatch { .. })
    ));
}
