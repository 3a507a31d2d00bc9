//! Forward–backward against closed forms, KKT conditions and an independent least-squares solver.
mod common;

use common::*;
use sparsimony_core::forward_backward::{FbState, StopReason, minimize, minimize_alloc, scratch_len};
use sparsimony_core::linalg::{power_iteration_scratch_len, qr_least_squares};
use sparsimony_core::operator::DenseColMajorMut;
use sparsimony_core::prox::{BoxConstraint, Cel0, L1, Zero};
use sparsimony_core::{
    Acceleration, DenseColMajor, Error, FbOptions, Kronecker, LeastSquares, LinearOperator, Real, StepSize,
};

const SCHEMES: [Acceleration; 3] = [Acceleration::None, Acceleration::Fista, Acceleration::FistaRestart];

fn opts<T: Real>(acc: Acceleration, max_iter: usize) -> FbOptions<T> {
    FbOptions {
        max_iter,
        acceleration: acc,
        ..FbOptions::default()
    }
}

/// Lasso in scikit-learn's scaling, 1/(2n)‖y − Xw‖² + α‖w‖₁, on an orthogonal design XᵀX = n I, where the
/// solution is the closed form w = S_α(Xᵀy/n).
fn lasso_orthogonal_closed_form<T: Real>() {
    let (n, d) = (8, 4);
    // Columns of a scaled 8-point Hadamard-like matrix: orthogonal, each with squared norm n.
    let h = |i: usize, j: usize| {
        if (i & (j + 1)).count_ones().is_multiple_of(2) {
            1.0
        } else {
            -1.0
        }
    };
    let x: Vec<f64> = (0..d)
        .flat_map(|j| (0..n).map(move |i| h(i, [0, 1, 3, 6][j])))
        .collect();
    for j in 0..d {
        for k in 0..d {
            let g: f64 = (0..n).map(|i| x[i + j * n] * x[i + k * n]).sum();
            assert_eq!(g, if j == k { n as f64 } else { 0.0 }, "design must be orthogonal");
        }
    }
    let y = randn(&mut rng(40), n);
    let xty = naive_matvec(&x, n, d, n, &y, true);
    // α halfway between the smallest and largest |Xᵀy/n|: both the zero and the shrunk cases occur,
    // whatever the seeded y.
    let magnitudes: Vec<f64> = xty.iter().map(|v| (v / n as f64).abs()).collect();
    let alpha = 0.5
        * (magnitudes.iter().cloned().fold(f64::INFINITY, f64::min) + magnitudes.iter().cloned().fold(0.0, f64::max));
    let want: Vec<f64> = xty
        .iter()
        .map(|v| (v / n as f64).signum() * ((v / n as f64).abs() - alpha).max(0.0))
        .collect();
    assert!(
        want.contains(&0.0) && want.iter().any(|w| *w != 0.0),
        "test must exercise both cases"
    );

    let (xt, yt) = (cast::<T>(&x), cast::<T>(&y));
    let op = DenseColMajor::new(&xt, n, d).unwrap();
    let f = LeastSquares::new(op, &yt, T::lit(1.0 / n as f64)).unwrap();
    let g = L1::new(T::lit(alpha)).unwrap();
    for acc in SCHEMES {
        let mut w = vec![T::zero(); d];
        let rep = minimize_alloc(&f, &g, &mut w, &opts(acc, 5000), None).unwrap();
        assert_eq!(rep.stop, StopReason::Tolerance);
        assert!(
            rel_err(&w, &want) < tol::<T>(1e-5, 1e-10),
            "{acc:?}: {:?} vs {want:?}",
            w
        );
        for (wi, ww) in w.iter().zip(&want) {
            assert_eq!(*wi == T::zero(), *ww == 0.0, "{acc:?}: support must match exactly");
        }
    }
}

#[test]
fn lasso_matches_the_orthogonal_closed_form_f64() {
    lasso_orthogonal_closed_form::<f64>();
}
#[test]
fn lasso_matches_the_orthogonal_closed_form_f32() {
    lasso_orthogonal_closed_form::<f32>();
}

/// A correlated random design: column j = z_j + 0.6 z_{j−1}.
fn correlated_design(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let z = randn(&mut rng(seed), n * d);
    (0..n * d)
        .map(|k| z[k] + if k >= n { 0.6 * z[k - n] } else { 0.0 })
        .collect()
}

/// KKT conditions of the Lasso: |X_jᵀ(y − Xw)|/n ≤ α, with equality and the sign of w_j on the support.
fn lasso_kkt<T: Real>() {
    let (n, d) = (60, 25);
    let x = correlated_design(n, d, 41);
    let mut w_true = vec![0.0; d];
    for (j, v) in [(2, 1.5), (7, -2.0), (11, 1.0), (20, 0.7)] {
        w_true[j] = v;
    }
    let noise = randn(&mut rng(42), n);
    let y: Vec<f64> = naive_matvec(&x, n, d, n, &w_true, false)
        .iter()
        .zip(&noise)
        .map(|(a, e)| a + 0.1 * e)
        .collect();
    let alpha = 0.05;
    let (xt, yt) = (cast::<T>(&x), cast::<T>(&y));
    let op = DenseColMajor::new(&xt, n, d).unwrap();
    let f = LeastSquares::new(op, &yt, T::lit(1.0 / n as f64)).unwrap();
    let g = L1::new(T::lit(alpha)).unwrap();
    let mut w = vec![T::zero(); d];
    minimize_alloc(&f, &g, &mut w, &opts(Acceleration::FistaRestart, 20_000), None).unwrap();
    let wf: Vec<f64> = w.iter().map(|v| v.to_f64_lossless()).collect();
    let r: Vec<f64> = y
        .iter()
        .zip(naive_matvec(&x, n, d, n, &wf, false))
        .map(|(a, b)| a - b)
        .collect();
    let c: Vec<f64> = naive_matvec(&x, n, d, n, &r, true)
        .iter()
        .map(|v| v / n as f64)
        .collect();
    let t = tol::<T>(2e-3, 1e-6) * alpha;
    for j in 0..d {
        if wf[j] != 0.0 {
            assert!(
                (c[j] - alpha * wf[j].signum()).abs() <= t,
                "support coordinate {j}: {} vs {}",
                c[j],
                alpha
            );
        } else {
            assert!(c[j].abs() <= alpha + t, "zero coordinate {j}: |{}| > {alpha}", c[j]);
        }
    }
    for j in [2, 7, 11, 20] {
        assert!(wf[j] != 0.0, "true coefficient {j} must be selected");
    }
}

#[test]
fn lasso_satisfies_kkt_on_a_correlated_design_f64() {
    lasso_kkt::<f64>();
}
#[test]
fn lasso_satisfies_kkt_on_a_correlated_design_f32() {
    lasso_kkt::<f32>();
}

/// With g = 0 the iteration solves least squares: compare with Householder QR, for a fixed step 1/L from
/// power iteration and with backtracking.
#[test]
fn unpenalised_least_squares_matches_qr() {
    let (n, d) = (40, 6);
    let x = correlated_design(n, d, 43);
    let y = randn(&mut rng(44), n);
    let (mut qa, mut qb, mut tau) = (x.clone(), y.clone(), vec![0.0; d]);
    qr_least_squares(&mut DenseColMajorMut::new(&mut qa, n, d).unwrap(), &mut qb, &mut tau).unwrap();
    let op = DenseColMajor::new(&x, n, d).unwrap();
    let f = LeastSquares::new(op, &y, 1.0).unwrap();
    let mut ps = vec![0.0; power_iteration_scratch_len(&op)];
    let lip = f.lipschitz(1000, 1e-12, &mut ps).unwrap() * (1.0 + 1e-9);
    for step in [
        StepSize::Lipschitz(lip),
        StepSize::Backtracking {
            initial: 1e-3,
            increase: 2.0,
        },
    ] {
        let mut w = vec![0.0; d];
        let o = FbOptions {
            max_iter: 50_000,
            tol: 1e-13,
            acceleration: Acceleration::FistaRestart,
            step,
        };
        let rep = minimize_alloc(&f, &Zero, &mut w, &o, None).unwrap();
        assert!(rel_err(&w, &qb[..d]) < 1e-9, "{step:?}: {}", rel_err(&w, &qb[..d]));
        assert!(
            rep.lipschitz <= 2.0 * lip * 1.0001,
            "backtracking overshoots at most by its factor"
        );
    }
}

/// Non-negative least squares: KKT conditions w ≥ 0, ∇f ≥ 0, w ⊙ ∇f = 0.
#[test]
fn nonnegative_least_squares_satisfies_kkt() {
    let (n, d) = (30, 8);
    let x = correlated_design(n, d, 45);
    let y = randn(&mut rng(46), n);
    let op = DenseColMajor::new(&x, n, d).unwrap();
    let f = LeastSquares::new(op, &y, 1.0).unwrap();
    let mut w = vec![0.0; d];
    let o = FbOptions {
        max_iter: 50_000,
        tol: 1e-12,
        ..FbOptions::default()
    };
    minimize_alloc(&f, &BoxConstraint::nonnegative(), &mut w, &o, None).unwrap();
    let r: Vec<f64> = naive_matvec(&x, n, d, n, &w, false)
        .iter()
        .zip(&y)
        .map(|(a, b)| a - b)
        .collect();
    let grad = naive_matvec(&x, n, d, n, &r, true);
    assert!(w.contains(&0.0) && w.iter().any(|v| *v > 0.0));
    for j in 0..d {
        assert!(
            w[j] >= 0.0 && grad[j] >= -1e-7 && (w[j] * grad[j]).abs() <= 1e-7,
            "coordinate {j}"
        );
    }
}

/// The Kronecker operator through the solver gives what the formed matrix gives.
#[test]
fn kronecker_least_squares_matches_formed_matrix() {
    let (a, b) = (randn(&mut rng(47), 5 * 3), randn(&mut rng(48), 4 * 2));
    let (k, m, n) = kron_dense(&[(a.clone(), 5, 3), (b.clone(), 4, 2)]);
    let y = randn(&mut rng(49), m);
    let (fa, fb) = (
        DenseColMajor::new(&a, 5, 3).unwrap(),
        DenseColMajor::new(&b, 4, 2).unwrap(),
    );
    let factors: [&dyn LinearOperator<f64>; 2] = [&fa, &fb];
    let kron = Kronecker::new(&factors).unwrap();
    let formed = DenseColMajor::new(&k, m, n).unwrap();
    let g = L1::new(0.1).unwrap();
    let o = FbOptions {
        max_iter: 20_000,
        tol: 1e-13,
        ..FbOptions::default()
    };
    let mut w1 = vec![0.0; n];
    minimize_alloc(&LeastSquares::new(kron, &y, 1.0).unwrap(), &g, &mut w1, &o, None).unwrap();
    let mut w2 = vec![0.0; n];
    minimize_alloc(&LeastSquares::new(formed, &y, 1.0).unwrap(), &g, &mut w2, &o, None).unwrap();
    assert!(rel_err(&w1, &w2) < 1e-9);
}

#[test]
fn cel0_recovers_a_sparse_signal_in_f32() {
    // Noiseless sparse recovery with CEL0 (the ℓ0-like relaxation) from a zero start.
    let (n, d) = (40, 20);
    let x = correlated_design(n, d, 50);
    let mut w_true = vec![0.0; d];
    w_true[3] = 2.0;
    w_true[12] = -1.5;
    let y = naive_matvec(&x, n, d, n, &w_true, false);
    let norms: Vec<f32> = (0..d)
        .map(|j| x[j * n..(j + 1) * n].iter().map(|v| v * v).sum::<f64>().sqrt() as f32)
        .collect();
    let (xt, yt) = (cast::<f32>(&x), cast::<f32>(&y));
    let f = LeastSquares::new(DenseColMajor::new(&xt, n, d).unwrap(), &yt, 1.0).unwrap();
    let g = Cel0::new(0.5f32, &norms).unwrap();
    let mut w = vec![0.0f32; d];
    // CEL0's prox needs γaᵢ² < 1 for the closed form; the step 1/L ≤ 1/max aᵢ² satisfies it.
    let o = FbOptions {
        max_iter: 20_000,
        tol: 1e-6,
        acceleration: Acceleration::None,
        ..FbOptions::default()
    };
    minimize_alloc(&f, &g, &mut w, &o, None).unwrap();
    assert!(rel_err(&w, &w_true) < 1e-3, "{w:?}");
}

#[test]
fn caller_criterion_and_non_convergence() {
    let (n, d) = (20, 5);
    let x = correlated_design(n, d, 51);
    let y = randn(&mut rng(52), n);
    let f = LeastSquares::new(DenseColMajor::new(&x, n, d).unwrap(), &y, 1.0).unwrap();
    let g = L1::new(0.01).unwrap();
    let mut seen = 0;
    let mut stop_at_3 = |s: &FbState<'_, f64>| {
        seen = s.iteration;
        s.iteration == 3
    };
    let mut w = vec![0.0; d];
    let rep = minimize_alloc(&f, &g, &mut w, &FbOptions::default(), Some(&mut stop_at_3)).unwrap();
    assert_eq!((rep.iterations, rep.stop, seen), (3, StopReason::Criterion, 3));

    let mut w = vec![0.0; d];
    let o = FbOptions {
        max_iter: 2,
        tol: 1e-14,
        ..FbOptions::default()
    };
    let rep = minimize_alloc(&f, &g, &mut w, &o, None).unwrap();
    assert_eq!(
        (rep.iterations, rep.stop, rep.converged()),
        (2, StopReason::IterationCap, false)
    );
    let report = rep.report(o.tol);
    assert!(!report.converged && report.reached > report.tolerance && report.reached.is_finite());
    // The last iterate is left in x: the same as stopping the same run after two iterations by a criterion.
    let mut w2 = vec![0.0; d];
    let mut stop_at_2 = |s: &FbState<'_, f64>| s.iteration == 2;
    let o2 = FbOptions { max_iter: 10, ..o };
    let rep2 = minimize_alloc(&f, &g, &mut w2, &o2, Some(&mut stop_at_2)).unwrap();
    assert_eq!((rep2.stop, &w2), (StopReason::Criterion, &w));
    assert!(w.iter().any(|v| *v != 0.0));
}

#[test]
fn bad_input_is_a_typed_error() {
    let x = [1.0f64, 0.0, 0.0, 1.0];
    let op = DenseColMajor::new(&x, 2, 2).unwrap();
    assert!(matches!(
        LeastSquares::new(op, &[1.0, f64::NAN], 1.0),
        Err(Error::NonFinite { what: "b", index: 1 })
    ));
    assert!(matches!(
        LeastSquares::new(op, &[1.0], 1.0),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        LeastSquares::new(op, &[1.0, 1.0], 0.0),
        Err(Error::InvalidParameter { .. })
    ));
    let f = LeastSquares::new(op, &[1.0, 1.0], 1.0).unwrap();
    let g = L1::new(0.1).unwrap();
    let mut scratch = vec![0.0; scratch_len(&f)];
    let o = FbOptions::default();
    assert!(matches!(
        minimize(&f, &g, &mut [0.0; 3], &o, &mut scratch, None),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        minimize(&f, &g, &mut [f64::NAN, 0.0], &o, &mut scratch, None),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        minimize(&f, &g, &mut [0.0; 2], &o, &mut scratch[..3], None),
        Err(Error::ScratchTooSmall { .. })
    ));
    let bad = FbOptions {
        step: StepSize::Lipschitz(-1.0),
        ..o
    };
    assert!(matches!(
        minimize(&f, &g, &mut [0.0; 2], &bad, &mut scratch, None),
        Err(Error::InvalidParameter { .. })
    ));
    let bad = FbOptions { max_iter: 0, ..o };
    assert!(matches!(
        minimize(&f, &g, &mut [0.0; 2], &bad, &mut scratch, None),
        Err(Error::InvalidParameter { .. })
    ));
    // A fixed step far too long for f makes the iterates blow up: reported, not returned as an answer.
    let huge = [1e150f64, 0.0, 0.0, 1e150];
    let fh = LeastSquares::new(DenseColMajor::new(&huge, 2, 2).unwrap(), &[1.0, 1.0], 1.0).unwrap();
    let long = FbOptions {
        step: StepSize::Lipschitz(1.0),
        acceleration: Acceleration::None,
        ..o
    };
    let r = minimize(&fh, &Zero, &mut [0.0; 2], &long, &mut scratch, None);
    assert!(matches!(r, Err(Error::NonFinite { .. })), "{r:?}");
}
