//! RK4 against closed-form solutions: accuracy and the fourth-order convergence rate.
use sparsimony_core::ode::{rk4_scratch_len, rk4_step};
use sparsimony_core::{Error, Real};

/// Harmonic oscillator x'' = −ω² x from (1, 0): x(t) = cos ωt, v(t) = −ω sin ωt.
fn oscillator_error<T: Real>(steps: usize) -> f64 {
    let omega = 2.0;
    let t_end = 3.0;
    let h = T::lit(t_end / steps as f64);
    let mut y = [T::one(), T::zero()];
    let mut scratch = [T::zero(); rk4_scratch_len(2)];
    let mut rhs = |_t: T, y: &[T], d: &mut [T]| {
        d[0] = y[1];
        d[1] = -T::lit(omega * omega) * y[0];
        Ok(())
    };
    for k in 0..steps {
        rk4_step(&mut rhs, T::lit(k as f64) * h, h, &mut y, &mut scratch).unwrap();
    }
    let (x, v) = ((omega * t_end).cos(), -omega * (omega * t_end).sin());
    (y[0].to_f64_lossless() - x)
        .abs()
        .max((y[1].to_f64_lossless() - v).abs())
}

#[test]
fn rk4_converges_at_fourth_order_f64() {
    let (e1, e2) = (oscillator_error::<f64>(100), oscillator_error::<f64>(200));
    let order = (e1 / e2).log2();
    assert!((order - 4.0).abs() < 0.1, "observed order {order}");
    assert!(oscillator_error::<f64>(1000) < 1e-9);
}

#[test]
fn rk4_is_accurate_in_f32() {
    assert!(oscillator_error::<f32>(300) < 1e-4);
}

#[test]
fn time_dependent_rhs_uses_the_stage_times() {
    // y' = 3t², y(0) = 0: y(t) = t³ is a cubic, integrated exactly by RK4 (up to rounding).
    let mut y = [0.0f64];
    let mut scratch = [0.0; rk4_scratch_len(1)];
    let mut rhs = |t: f64, _y: &[f64], d: &mut [f64]| {
        d[0] = 3.0 * t * t;
        Ok(())
    };
    for k in 0..10 {
        rk4_step(&mut rhs, 0.2 * k as f64, 0.2, &mut y, &mut scratch).unwrap();
    }
    assert!((y[0] - 8.0).abs() < 1e-13);
}

#[test]
fn blow_up_and_bad_step_are_errors() {
    let mut y = [1.0f64];
    let mut scratch = [0.0; rk4_scratch_len(1)];
    let mut rhs = |_t: f64, y: &[f64], d: &mut [f64]| {
        d[0] = y[0] * y[0] * 1e200;
        Ok(())
    };
    assert!(matches!(
        rk4_step(&mut rhs, 0.0, 1.0, &mut y, &mut scratch),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        rk4_step(&mut rhs, 0.0, f64::NAN, &mut [1.0], &mut scratch),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        rk4_step(&mut rhs, 0.0, 0.1, &mut [1.0, 2.0], &mut scratch),
        Err(Error::ScratchTooSmall { .. })
    ));
}
