//! The allocation-free SINDy model against hand-written right-hand sides.
use sparsimony_core::Error;
use sparsimony_core::ode::{Dopri5, Dopri5State, dopri5_scratch_len, rk4_scratch_len};
use sparsimony_core::sindy::{Factor, SindyModel};

const P1: fn(usize) -> Factor<f64> = |i| Factor::Power { input: i, exponent: 1 };

/// A model's arrays: factors, term pointers, coefficient pointers, term indices, values.
type Arrays = (Vec<Factor<f64>>, Vec<usize>, Vec<usize>, Vec<usize>, Vec<f64>);

/// Lorenz as a SINDy model: terms x, y, z, xz, xy.
fn lorenz_arrays() -> Arrays {
    let factors = vec![P1(0), P1(1), P1(2), P1(0), P1(2), P1(0), P1(1)];
    let term_ptr = vec![0, 1, 2, 3, 5, 7];
    let coef_ptr = vec![0, 2, 5, 7];
    let coef_term = vec![0, 1, 0, 1, 3, 2, 4];
    let coef_value = vec![-10.0, 10.0, 28.0, -1.0, -1.0, -8.0 / 3.0, 1.0];
    (factors, term_ptr, coef_ptr, coef_term, coef_value)
}

fn lorenz(y: &[f64], d: &mut [f64]) {
    d[0] = 10.0 * (y[1] - y[0]);
    d[1] = y[0] * (28.0 - y[2]) - y[1];
    d[2] = y[0] * y[1] - 8.0 / 3.0 * y[2];
}

#[test]
fn lorenz_right_hand_side_and_integration() {
    let (f, tp, cp, ct, cv) = lorenz_arrays();
    let model = SindyModel::new(3, 0, &f, &tp, &cp, &ct, &cv).unwrap();
    assert_eq!((model.n_terms(), model.n_nonzero()), (5, 7));
    let x = [1.5, -2.0, 20.0];
    let (mut d, mut want) = ([0.0; 3], [0.0; 3]);
    model.rhs(&x, &[], &mut d).unwrap();
    lorenz(&x, &mut want);
    for i in 0..3 {
        assert!((d[i] - want[i]).abs() < 1e-12);
    }
    // Integrating the model and the hand-written system gives the same trajectory.
    let solver = Dopri5::new(1e-10, 1e-10);
    let (mut a, mut b) = ([-8.0, 8.0, 27.0], [-8.0, 8.0, 27.0]);
    let mut scratch = vec![0.0; dopri5_scratch_len(3)];
    model
        .integrate(
            &solver,
            &mut |_t, _u| {},
            0.0,
            1.0,
            &mut a,
            &mut Dopri5State::default(),
            &mut scratch,
        )
        .unwrap();
    let mut f = |_t: f64, y: &[f64], d: &mut [f64]| {
        lorenz(y, d);
        Ok(())
    };
    solver
        .integrate(&mut f, 0.0, 1.0, &mut b, &mut Dopri5State::default(), &mut scratch)
        .unwrap();
    for i in 0..3 {
        assert!((a[i] - b[i]).abs() < 1e-8, "{a:?} vs {b:?}");
    }
    let mut c = [-8.0, 8.0, 27.0];
    let mut s4 = [0.0; rk4_scratch_len(3)];
    model.rk4_step(1e-3, &mut c, &[], &mut s4).unwrap();
    assert!(c.iter().all(|v| v.is_finite()));
}

#[test]
fn controls_powers_and_trigonometric_factors_in_f32() {
    // ẋ = 0.5 u − x² sin(2x) + cos(u) (one state, one control).
    let factors = [
        Factor::Power { input: 1, exponent: 1 },
        Factor::Power { input: 0, exponent: 2 },
        Factor::Sin {
            input: 0,
            frequency: 2.0f32,
        },
        Factor::Cos {
            input: 1,
            frequency: 1.0,
        },
    ];
    let term_ptr = [0, 1, 3, 4];
    let model = SindyModel::new(1, 1, &factors, &term_ptr, &[0, 3], &[0, 1, 2], &[0.5, -1.0, 1.0]).unwrap();
    let (x, u) = (0.7f32, -0.3f32);
    let mut d = [0.0f32];
    model.rhs(&[x], &[u], &mut d).unwrap();
    let want = 0.5 * u - x * x * (2.0 * x).sin() + u.cos();
    assert!((d[0] - want).abs() < 1e-6);
    // A bias term is an empty product.
    let bias = SindyModel::new(1, 0, &factors[..0], &[0, 0], &[0, 1], &[0], &[3.0f32]).unwrap();
    bias.rhs(&[5.0], &[], &mut d).unwrap();
    assert_eq!(d[0], 3.0);
}

#[test]
fn malformed_models_are_errors() {
    let (f, tp, cp, ct, cv) = lorenz_arrays();
    assert!(matches!(
        SindyModel::new(2, 0, &f, &tp, &cp, &ct, &cv),
        Err(Error::DimensionMismatch { .. })
    ));
    let bad_term = [0, 1, 0, 1, 3, 2, 9];
    assert!(matches!(
        SindyModel::new(3, 0, &f, &tp, &cp, &bad_term, &cv),
        Err(Error::InvalidSparseStructure { .. })
    ));
    let decreasing = [0, 1, 2, 1, 5, 7];
    assert!(matches!(
        SindyModel::new(3, 0, &f, &decreasing, &cp, &ct, &cv),
        Err(Error::InvalidSparseStructure { .. })
    ));
    let far = [Factor::Power { input: 3, exponent: 1 }];
    assert!(matches!(
        SindyModel::new(3, 0, &far, &[0, 1], &[0, 1, 1, 1], &[0], &[1.0]),
        Err(Error::InvalidSparseStructure { .. })
    ));
    let mut nan = cv.clone();
    nan[2] = f64::NAN;
    assert!(matches!(
        SindyModel::new(3, 0, &f, &tp, &cp, &ct, &nan),
        Err(Error::NonFinite { .. })
    ));
    let model = SindyModel::new(3, 0, &f, &tp, &cp, &ct, &cv).unwrap();
    assert!(matches!(
        model.rhs(&[1.0, 2.0], &[], &mut [0.0; 3]),
        Err(Error::DimensionMismatch { .. })
    ));
}
