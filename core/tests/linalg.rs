//! Dense kernels against manufactured solutions and independent computations, in f32 and f64.
mod common;

use common::*;
use sparsimony_core::linalg::{
    cholesky_in_place, cholesky_solve, norm2, power_iteration, power_iteration_scratch_len, qr_least_squares,
};
use sparsimony_core::operator::DenseColMajorMut;
use sparsimony_core::{DenseColMajor, Error, Kronecker, LinearOperator, Real};

/// A = B Bᵀ + n I, column-major, n × n.
fn spd(n: usize, seed: u64) -> Vec<f64> {
    let b = randn(&mut rng(seed), n * n);
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i + j * n] =
                (0..n).map(|k| b[i + k * n] * b[j + k * n]).sum::<f64>() + if i == j { n as f64 } else { 0.0 };
        }
    }
    a
}

fn cholesky_case<T: Real>() {
    let n = 12;
    let a = spd(n, 30);
    let x_true = randn(&mut rng(31), n);
    let b = naive_matvec(&a, n, n, n, &x_true, false);
    let mut l = cast::<T>(&a);
    cholesky_in_place(&mut DenseColMajorMut::new(&mut l, n, n).unwrap()).unwrap();
    // L Lᵀ reproduces A (lower triangle).
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..=j)
                .map(|k| l[i + k * n].to_f64_lossless() * l[j + k * n].to_f64_lossless())
                .sum();
            assert!((s - a[i + j * n]).abs() <= tol::<T>(1e-4, 1e-12) * a[i + i * n].abs());
        }
    }
    let mut x = cast::<T>(&b);
    cholesky_solve(DenseColMajor::new(&l, n, n).unwrap(), &mut x).unwrap();
    assert!(rel_err(&x, &x_true) < tol::<T>(1e-4, 1e-12), "{}", rel_err(&x, &x_true));
}

#[test]
fn cholesky_solves_a_manufactured_system_f64() {
    cholesky_case::<f64>();
}
#[test]
fn cholesky_solves_a_manufactured_system_f32() {
    cholesky_case::<f32>();
}

#[test]
fn cholesky_rejects_an_indefinite_matrix() {
    // [[1, 2], [2, 1]] has eigenvalues 3 and −1: the second pivot is 1 − 4 = −3.
    let mut a = [1.0f64, 2.0, 2.0, 1.0];
    let r = cholesky_in_place(&mut DenseColMajorMut::new(&mut a, 2, 2).unwrap());
    assert_eq!(r, Err(Error::NotPositiveDefinite { pivot: 1, value: -3.0 }));
}

fn qr_case<T: Real>() {
    let (m, n) = (30, 7);
    let a = randn(&mut rng(32), m * n);
    // Consistent system: the exact solution is recovered with zero residual.
    let x_true = randn(&mut rng(33), n);
    let mut b = cast::<T>(&naive_matvec(&a, m, n, m, &x_true, false));
    let (mut f, mut tau) = (cast::<T>(&a), vec![T::zero(); n]);
    let res = qr_least_squares(&mut DenseColMajorMut::new(&mut f, m, n).unwrap(), &mut b, &mut tau).unwrap();
    assert!(rel_err(&b[..n], &x_true) < tol::<T>(1e-4, 1e-12));
    assert!(res.to_f64_lossless() < tol::<T>(1e-4, 1e-11));

    // Inconsistent system: compare with the normal equations solved by Cholesky (an independent path, f64),
    // and check the residual is orthogonal to the columns.
    let rhs = randn(&mut rng(34), m);
    let mut b = cast::<T>(&rhs);
    let (mut f, mut tau) = (cast::<T>(&a), vec![T::zero(); n]);
    let res = qr_least_squares(&mut DenseColMajorMut::new(&mut f, m, n).unwrap(), &mut b, &mut tau).unwrap();
    let mut ata: Vec<f64> = (0..n * n)
        .map(|k| (0..m).map(|i| a[i + (k % n) * m] * a[i + (k / n) * m]).sum())
        .collect();
    let mut atb = naive_matvec(&a, m, n, m, &rhs, true);
    cholesky_in_place(&mut DenseColMajorMut::new(&mut ata, n, n).unwrap()).unwrap();
    cholesky_solve(DenseColMajor::new(&ata, n, n).unwrap(), &mut atb).unwrap();
    assert!(rel_err(&b[..n], &atb) < tol::<T>(1e-4, 1e-11));
    let x: Vec<f64> = b[..n].iter().map(|v| v.to_f64_lossless()).collect();
    let r: Vec<f64> = naive_matvec(&a, m, n, m, &x, false)
        .iter()
        .zip(&rhs)
        .map(|(p, q)| p - q)
        .collect();
    let atr = naive_matvec(&a, m, n, m, &r, true);
    assert!(atr.iter().all(|v| v.abs() < tol::<T>(1e-3, 1e-11)));
    assert!((res.to_f64_lossless() - norm2(&r)).abs() < tol::<T>(1e-4, 1e-11) * norm2(&r));
}

#[test]
fn qr_least_squares_matches_normal_equations_f64() {
    qr_case::<f64>();
}
#[test]
fn qr_least_squares_matches_normal_equations_f32() {
    qr_case::<f32>();
}

#[test]
fn qr_reports_rank_deficiency_and_bad_shapes() {
    // Third column = first + second.
    let mut a = vec![1.0f64, 2.0, 3.0, 4.0, 0.0, 1.0, 0.0, 1.0, 1.0, 3.0, 3.0, 5.0];
    let mut b = vec![1.0; 4];
    let mut tau = vec![0.0; 3];
    let r = qr_least_squares(&mut DenseColMajorMut::new(&mut a, 4, 3).unwrap(), &mut b, &mut tau);
    assert!(matches!(r, Err(Error::RankDeficient { column: 2, .. })), "{r:?}");
    let mut wide = vec![1.0f64; 6];
    let r = qr_least_squares(
        &mut DenseColMajorMut::new(&mut wide, 2, 3).unwrap(),
        &mut [1.0; 2],
        &mut [0.0; 3],
    );
    assert!(matches!(r, Err(Error::InvalidParameter { .. })));
    let mut sq = vec![1.0f64, 0.0, 0.0, 1.0];
    let r = qr_least_squares(
        &mut DenseColMajorMut::new(&mut sq, 2, 2).unwrap(),
        &mut [1.0, f64::NAN],
        &mut [0.0; 2],
    );
    assert!(matches!(r, Err(Error::NonFinite { .. })));
}

fn power_case<T: Real>() {
    // A = Q diag(s) with orthonormal-column Q built from a Givens rotation: ‖A‖² = max s².
    let (c, s) = (0.6, 0.8);
    let a = [3.0 * c, 3.0 * s, -2.0 * s, 2.0 * c]; // columns: 3·(c, s), 2·(−s, c)
    let at = cast::<T>(&a);
    let op = DenseColMajor::new(&at, 2, 2).unwrap();
    let mut scratch = vec![T::zero(); power_iteration_scratch_len(&op)];
    let l = power_iteration(&op, 500, T::lit(tol::<T>(1e-7, 1e-14)), &mut scratch).unwrap();
    assert!((l.to_f64_lossless() - 9.0).abs() < tol::<T>(1e-4, 1e-10));

    // ‖A ⊗ B‖² = ‖A‖² ‖B‖², through the never-formed Kronecker operator.
    let b = [1.0, 0.0, 0.0, 0.0, 0.5, 0.0]; // 3 × 2, singular values 1 and 0.5
    let bt = cast::<T>(&b);
    let opb = DenseColMajor::new(&bt, 3, 2).unwrap();
    let factors: [&dyn LinearOperator<T>; 2] = [&op, &opb];
    let k = Kronecker::new(&factors).unwrap();
    let mut scratch = vec![T::zero(); power_iteration_scratch_len(&k)];
    let l = power_iteration(&k, 500, T::lit(tol::<T>(1e-7, 1e-14)), &mut scratch).unwrap();
    assert!((l.to_f64_lossless() - 9.0).abs() < tol::<T>(1e-4, 1e-10));
}

#[test]
fn power_iteration_finds_the_squared_spectral_norm_f64() {
    power_case::<f64>();
}
#[test]
fn power_iteration_finds_the_squared_spectral_norm_f32() {
    power_case::<f32>();
}

#[test]
fn power_iteration_reports_non_convergence() {
    // Two close singular values converge slowly: one iteration cannot reach 1e-15.
    let a = [1.0f64, 0.0, 0.0, 0.999];
    let op = DenseColMajor::new(&a, 2, 2).unwrap();
    let mut scratch = vec![0.0; power_iteration_scratch_len(&op)];
    assert!(matches!(
        power_iteration(&op, 1, 1e-15, &mut scratch),
        Err(Error::NotConverged { iterations: 1, .. })
    ));
}

#[test]
fn norm2_avoids_overflow_and_underflow() {
    assert!((norm2(&[3e200f64, 4e200]) - 5e200).abs() <= 4.0 * f64::EPSILON * 5e200);
    assert!((norm2(&[3e-30f32, 4e-30]) - 5e-30).abs() < 1e-36);
    assert_eq!(norm2::<f64>(&[]), 0.0);
}
