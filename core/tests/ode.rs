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

mod dopri5 {
    use sparsimony_core::Error;
    use sparsimony_core::ode::{Dopri5, Dopri5State, dopri5_scratch_len};

    fn oscillator(tol: f64) -> (f64, Dopri5State<f64>) {
        let omega = 2.0;
        let mut y = [1.0, 0.0];
        let mut scratch = [0.0; dopri5_scratch_len(2)];
        let mut state = Dopri5State::default();
        let mut f = |_t: f64, y: &[f64], d: &mut [f64]| {
            d[0] = y[1];
            d[1] = -omega * omega * y[0];
            Ok(())
        };
        Dopri5::new(tol, tol)
            .integrate(&mut f, 0.0, 10.0, &mut y, &mut state, &mut scratch)
            .unwrap();
        let err = (y[0] - (omega * 10.0f64).cos())
            .abs()
            .max((y[1] + omega * (omega * 10.0f64).sin()).abs());
        (err, state)
    }

    #[test]
    fn error_follows_the_tolerance() {
        let (e6, s6) = oscillator(1e-6);
        let (e10, s10) = oscillator(1e-10);
        assert!(e6 < 1e-4 && e10 < 1e-8, "errors {e6:e}, {e10:e}");
        assert!(e10 < e6 / 100.0);
        // A fifth-order method needs about 10^(4/5) ≈ 6× the steps for 10⁴× the accuracy.
        let ratio = s10.accepted as f64 / s6.accepted as f64;
        assert!((3.0..12.0).contains(&ratio), "step ratio {ratio}");
        assert_eq!(s10.evaluations, 1 + 1 + 6 * (s10.accepted + s10.rejected));
    }

    #[test]
    fn integrates_backwards_and_in_pieces() {
        // y' = −y: y(t) = e^{−t}; go 0 → 1 in ten output intervals, then back to 0.
        let mut y = [1.0];
        let mut scratch = [0.0; dopri5_scratch_len(1)];
        let mut state = Dopri5State::default();
        let mut f = |_t: f64, y: &[f64], d: &mut [f64]| {
            d[0] = -y[0];
            Ok(())
        };
        let solver = Dopri5::new(1e-12, 1e-12);
        for k in 0..10 {
            let (a, b) = (k as f64 / 10.0, (k + 1) as f64 / 10.0);
            solver
                .integrate(&mut f, a, b, &mut y, &mut state, &mut scratch)
                .unwrap();
            assert!((y[0] - (-b).exp()).abs() < 1e-11);
        }
        solver
            .integrate(&mut f, 1.0, 0.0, &mut y, &mut state, &mut scratch)
            .unwrap();
        assert!((y[0] - 1.0).abs() < 1e-10);
    }

    #[test]
    fn blow_up_is_reported_with_the_time_reached() {
        // y' = y², y(0) = 1: y = 1/(1 − t) blows up at t = 1.
        let mut y = [1.0];
        let mut scratch = [0.0; dopri5_scratch_len(1)];
        let mut f = |_t: f64, y: &[f64], d: &mut [f64]| {
            d[0] = y[0] * y[0];
            Ok(())
        };
        let err = Dopri5::new(1e-8, 1e-8)
            .integrate(&mut f, 0.0, 2.0, &mut y, &mut Dopri5State::default(), &mut scratch)
            .unwrap_err();
        match err {
            Error::NotConverged { reached, .. } => assert!((reached - 1.0).abs() < 1e-3, "reached {reached}"),
            other => panic!("expected NotConverged, got {other:?}"),
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        let mut f = |_t: f32, _y: &[f32], _d: &mut [f32]| Ok(());
        let mut y = [1.0f32];
        let mut st = Dopri5State::default();
        let solver = Dopri5::new(0.0f32, 1e-6);
        assert!(matches!(
            solver.integrate(&mut f, 0.0, 1.0, &mut y, &mut st, &mut [0.0; 8]),
            Err(Error::InvalidParameter { .. })
        ));
        let solver = Dopri5::new(1e-6f32, 1e-6);
        assert!(matches!(
            solver.integrate(&mut f, 0.0, 1.0, &mut y, &mut st, &mut [0.0; 3]),
            Err(Error::ScratchTooSmall { .. })
        ));
        assert!(matches!(
            solver.integrate(&mut f, 0.0, f32::NAN, &mut y, &mut st, &mut [0.0; 8]),
            Err(Error::InvalidParameter { .. })
        ));
    }
}
