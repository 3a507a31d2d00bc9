//! Kronecker solves, products and log-determinants against the dense computation on small grids.
use ndarray::Array2;
use sparsimony_core::linalg::{cholesky_in_place, cholesky_solve};
use sparsimony_core::operator::DenseColMajorMut;
use sparsimony_solvers::gp_pde::{Component, KroneckerEigen, SpectralMixture, Spectrum};

/// A symmetric positive semi-definite n × n matrix A Aᵀ / n (rank-deficient when `rank < n`).
fn spd(n: usize, rank: usize, seed: u64) -> Array2<f64> {
    let a = Array2::from_shape_fn((n, rank), |(i, j)| {
        (((i * 31 + j * 17) as u64 * 2654435761 + seed) % 1000) as f64 / 500.0 - 1.0
    });
    a.dot(&a.t()) / n as f64
}

/// The formed Kronecker product, first factor slowest.
fn kron(factors: &[Array2<f64>]) -> Array2<f64> {
    factors.iter().skip(1).fold(factors[0].clone(), |acc, f| {
        let (m, n) = (acc.nrows(), f.nrows());
        Array2::from_shape_fn((m * n, m * n), |(r, c)| acc[(r / n, c / n)] * f[(r % n, c % n)])
    })
}

fn check(factors: Vec<Array2<f64>>, noise: f64) {
    let views: Vec<_> = factors.iter().map(|f| f.view()).collect();
    let ke = KroneckerEigen::new(&views).unwrap();
    let k = kron(&factors);
    let n = k.nrows();
    assert_eq!(ke.len(), n);
    let v: Vec<f64> = (0..n).map(|i| ((i * 7 % 13) as f64 - 6.0) / 3.0).collect();
    // K v.
    let kv = ke.apply(&v).unwrap();
    for i in 0..n {
        let want: f64 = (0..n).map(|j| k[(i, j)] * v[j]).sum();
        assert!((kv[i] - want).abs() < 1e-12 * n as f64, "K v at {i}");
    }
    // (K + σ²I)⁻¹ v and log det by a dense Cholesky factorisation.
    let mut a: Vec<f64> = (0..n * n)
        .map(|q| k[(q % n, q / n)] + if q % n == q / n { noise } else { 0.0 })
        .collect();
    let mut m = DenseColMajorMut::new(&mut a, n, n).unwrap();
    cholesky_in_place(&mut m).unwrap();
    let mut x = v.clone();
    cholesky_solve(m.as_ref(), &mut x).unwrap();
    let logdet: f64 = (0..n).map(|i| 2.0 * m.as_ref().get(i, i).ln()).sum();
    let y = ke.solve(&v, noise).unwrap();
    let scale = x.iter().fold(1.0f64, |s, t| s.max(t.abs()));
    for i in 0..n {
        assert!((y[i] - x[i]).abs() < 1e-9 * scale, "solve at {i}: {} vs {}", y[i], x[i]);
    }
    assert!((ke.log_det(noise).unwrap() - logdet).abs() < 1e-9 * logdet.abs().max(1.0));
}

#[test]
fn kronecker_algebra_matches_the_dense_computation() {
    check(vec![spd(3, 3, 1), spd(4, 4, 2)], 0.1);
    check(vec![spd(2, 2, 3), spd(3, 3, 4), spd(2, 2, 5)], 0.05);
    // Rank-deficient factors: the noise makes the system definite.
    check(vec![spd(5, 2, 6), spd(3, 1, 7)], 1e-3);
    // The method's own factors: spectral-mixture Gram matrices on two grids.
    let kernel = SpectralMixture::new(
        Spectrum::StudentT { dof: 5 },
        vec![
            Component {
                weight: 1.0,
                mean: 2.0,
                scale: 0.8,
            },
            Component {
                weight: 0.5,
                mean: 0.0,
                scale: 0.3,
            },
        ],
    )
    .unwrap();
    let gram = |n: usize| {
        let x: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
        Array2::from_shape_fn((n, n), |(i, j)| kernel.value(x[i] - x[j]))
    };
    check(vec![gram(6), gram(5)], 1e-4);
}

#[test]
fn kronecker_errors_are_typed() {
    let a = spd(3, 3, 1);
    let mut asym = a.clone();
    asym[(0, 1)] += 1.0;
    assert!(KroneckerEigen::new(&[asym.view()]).is_err());
    assert!(KroneckerEigen::new(&[Array2::<f64>::zeros((2, 3)).view()]).is_err());
    assert!(KroneckerEigen::new(&[]).is_err());
    let ke = KroneckerEigen::new(&[spd(4, 1, 2).view()]).unwrap();
    assert!(ke.solve(&[1.0; 3], 0.1).is_err(), "wrong length");
    assert!(ke.solve(&[1.0; 4], -1.0).is_err(), "negative noise");
    assert!(ke.solve(&[1.0; 4], 0.0).is_err(), "singular without noise");
}
