//! Test helpers: seeded random data and naive references computed by explicit index formulas.
#![allow(dead_code)]

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::random::standard_normal;

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `len` standard normal values, as f64.
pub fn randn(rng: &mut ChaCha8Rng, len: usize) -> Vec<f64> {
    (0..len).map(|_| standard_normal(rng)).collect()
}

/// Converts a slice of f64 to T.
pub fn cast<T: sparsimony_core::Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::lit(x)).collect()
}

/// Naive `A x` for a column-major `m × n` matrix with leading dimension `ld`, in f64.
pub fn naive_matvec(a: &[f64], m: usize, n: usize, ld: usize, x: &[f64], transpose: bool) -> Vec<f64> {
    if transpose {
        (0..n).map(|j| (0..m).map(|i| a[i + j * ld] * x[i]).sum()).collect()
    } else {
        (0..m).map(|i| (0..n).map(|j| a[i + j * ld] * x[j]).sum()).collect()
    }
}

/// The Kronecker product of column-major dense matrices, formed explicitly (column-major result).
pub fn kron_dense(factors: &[(Vec<f64>, usize, usize)]) -> (Vec<f64>, usize, usize) {
    let mut acc = (vec![1.0], 1usize, 1usize);
    for (b, p, q) in factors {
        let (a, m, n) = &acc;
        let (rows, cols) = (m * p, n * q);
        let mut c = vec![0.0; rows * cols];
        for i in 0..*m {
            for j in 0..*n {
                for k in 0..*p {
                    for l in 0..*q {
                        c[(i * p + k) + (j * q + l) * rows] = a[i + j * m] * b[k + l * p];
                    }
                }
            }
        }
        acc = (c, rows, cols);
    }
    acc
}

/// Max absolute difference relative to the max absolute reference value.
pub fn rel_err<T: sparsimony_core::Real>(got: &[T], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    got.iter()
        .zip(want)
        .fold(0.0f64, |m, (g, w)| m.max((g.to_f64_lossless() - w).abs()))
        / scale
}

/// A tolerance by precision: `f32` gets `tol32`, `f64` gets `tol64`.
pub fn tol<T>(tol32: f64, tol64: f64) -> f64 {
    if std::mem::size_of::<T>() == 4 { tol32 } else { tol64 }
}
