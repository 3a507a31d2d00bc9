//! The model-predictive controller's pieces against independent references (finite differences, a
//! brute-force solve of the condensed QP), and its behaviour on bad input: typed errors, and the safe input
//! held in `u` on the device.
use sparsimony_core::Error;
use sparsimony_core::linalg::{cholesky_in_place, cholesky_solve};
use sparsimony_core::mpc::{Mpc, MpcSettings};
use sparsimony_core::operator::{DenseColMajor, DenseColMajorMut};
use sparsimony_core::sindy::{Factor, SindyModel};

/// ẋ₀ = −x₀ + 0.5 x₀ x₁ + sin(2 x₁) u₀,  ẋ₁ = cos(x₀) − x₁³ + u₀ u₁ + 0.3 u₁² (inputs x₀ x₁ u₀ u₁).
static FACTORS: [Factor<f64>; 10] = [
    Factor::Power { input: 0, exponent: 1 },
    Factor::Power { input: 0, exponent: 1 },
    Factor::Power { input: 1, exponent: 1 },
    Factor::Sin {
        input: 1,
        frequency: 2.0,
    },
    Factor::Power { input: 2, exponent: 1 },
    Factor::Cos {
        input: 0,
        frequency: 1.0,
    },
    Factor::Power { input: 1, exponent: 3 },
    Factor::Power { input: 2, exponent: 1 },
    Factor::Power { input: 3, exponent: 1 },
    Factor::Power { input: 3, exponent: 2 },
];
static TERM_PTR: [usize; 8] = [0, 1, 3, 5, 6, 7, 9, 10];
static COEF_PTR: [usize; 3] = [0, 3, 7];
static COEF_TERM: [usize; 7] = [0, 1, 2, 3, 4, 5, 6];
static COEF: [f64; 7] = [-1.0, 0.5, 1.0, 1.0, -1.0, 1.0, 0.3];

fn model() -> SindyModel<'static, f64> {
    SindyModel::new(2, 2, &FACTORS, &TERM_PTR, &COEF_PTR, &COEF_TERM, &COEF).unwrap()
}

#[test]
fn jacobian_matches_central_differences() {
    let m = model();
    let (x, u) = ([0.7, -1.3], [0.4, -2.1]);
    let (mut jx, mut ju) = ([0.0; 4], [0.0; 4]);
    m.jacobian(&x, &u, &mut jx, &mut ju).unwrap();
    let eps = 1e-6;
    for j in 0..4 {
        let (mut xp, mut xm, mut up, mut um) = (x, x, u, u);
        if j < 2 {
            xp[j] += eps;
            xm[j] -= eps;
        } else {
            up[j - 2] += eps;
            um[j - 2] -= eps;
        }
        let (mut fp, mut fm) = ([0.0; 2], [0.0; 2]);
        m.rhs(&xp, &up, &mut fp).unwrap();
        m.rhs(&xm, &um, &mut fm).unwrap();
        for i in 0..2 {
            let fd = (fp[i] - fm[i]) / (2.0 * eps);
            let ours = if j < 2 { jx[i + 2 * j] } else { ju[i + 2 * (j - 2)] };
            assert!((ours - fd).abs() < 1e-8, "∂f{i}/∂input{j}: {ours} vs {fd}");
        }
    }
}

static ONE_U: [f64; 1] = [1.0];
static Q2: [f64; 2] = [1.0, 0.5];
static R2: [f64; 2] = [0.1, 0.2];
static RD2: [f64; 2] = [0.05, 0.0];
static LOW2: [f64; 2] = [-1e9, -1e9];
static HIGH2: [f64; 2] = [1e9, 1e9];
static TARGET2: [f64; 2] = [0.5, -0.2];

fn settings(horizon: usize) -> MpcSettings<'static, f64> {
    MpcSettings {
        horizon,
        dt: 0.1,
        substeps: 3,
        target: &TARGET2,
        q: &Q2,
        q_final: &Q2,
        r: &R2,
        r_delta: &RD2,
        u_min: &LOW2,
        u_max: &HIGH2,
        max_iter: 100_000,
        tol: 1e-14,
    }
}

/// With an inactive box the step's plan is the unconstrained minimiser −H⁻¹c (Cholesky). (The
/// sensitivities and H themselves are checked against complex-step derivatives in tests/mpc_reference.rs.)
#[test]
fn unconstrained_step_is_the_newton_point() {
    let horizon = 4;
    let mpc = Mpc::new(model(), settings(horizon)).unwrap();
    let (x, u_prev) = ([0.3, 0.9], [0.2, -0.1]);
    let plan0 = [0.1, 0.0, -0.2, 0.3, 0.0, 0.1, 0.2, -0.1];
    let mut scratch = vec![0.0; mpc.scratch_len()];
    let qp = mpc.condensed_qp(&x, &u_prev, &plan0, &mut scratch).unwrap();
    let (h, c) = (qp.h.to_vec(), qp.c.to_vec());
    let nu = 2 * horizon;
    let mut factor = h.clone();
    cholesky_in_place(&mut DenseColMajorMut::new(&mut factor, nu, nu).unwrap()).unwrap();
    let mut newton: Vec<f64> = c.iter().map(|v| -v).collect();
    cholesky_solve(DenseColMajor::new(&factor, nu, nu).unwrap(), &mut newton).unwrap();

    let (mut u, mut plan) = (u_prev, plan0);
    let step = mpc.step(&x, &mut u, &mut plan, &mut scratch).unwrap();
    assert!(step.converged);
    let mut ours = u.to_vec();
    ours.extend_from_slice(&plan[..nu - 2]);
    for (a, b) in ours.iter().zip(&newton) {
        assert!((a - b).abs() < 1e-9, "{ours:?} vs {newton:?}");
    }
}

#[test]
fn bad_settings_are_typed_errors() {
    let empty_low = [2.0, -1.0];
    let empty_high = [1.0, 1.0];
    let mut s = settings(3);
    s.u_min = &empty_low;
    s.u_max = &empty_high;
    assert!(matches!(
        Mpc::new(model(), s),
        Err(Error::InvalidParameter {
            name: "u_min, u_max",
            ..
        })
    ));
    assert!(matches!(
        Mpc::new(model(), settings(0)),
        Err(Error::InvalidParameter { .. })
    ));
    let mut s = settings(3);
    s.dt = -0.1;
    assert!(matches!(
        Mpc::new(model(), s),
        Err(Error::InvalidParameter { name: "dt", .. })
    ));
    let mut s = settings(3);
    s.r = &ONE_U;
    assert!(matches!(Mpc::new(model(), s), Err(Error::DimensionMismatch { .. })));
    let negative = [-1.0, 1.0];
    let mut s = settings(3);
    s.q = &negative;
    assert!(matches!(Mpc::new(model(), s), Err(Error::InvalidParameter { .. })));
    let nan = [f64::NAN, 0.0];
    let mut s = settings(3);
    s.target = &nan;
    assert!(matches!(Mpc::new(model(), s), Err(Error::NonFinite { .. })));
    // A model without controls.
    let uncontrolled = SindyModel::new(2, 0, &FACTORS[..3], &TERM_PTR[..3], &[0, 1, 2], &[0, 1], &[1.0, 1.0]).unwrap();
    assert!(matches!(
        Mpc::new(uncontrolled, settings(3)),
        Err(Error::InvalidParameter { name: "model", .. })
    ));
}

static BOX_LOW: [f64; 2] = [-1.0, -0.5];
static BOX_HIGH: [f64; 2] = [1.0, 0.5];

/// Every failure of a step leaves the safe input (the last one clamped into the box, or the box's point
/// nearest 0) in `u` and a plan that holds it.
#[test]
fn failures_hold_a_safe_input() {
    let mut s = settings(5);
    s.u_min = &BOX_LOW;
    s.u_max = &BOX_HIGH;
    let mpc = Mpc::new(model(), s).unwrap();
    let mut scratch = vec![0.0; mpc.scratch_len()];
    let mut plan = [0.3; 10];

    // A NaN state.
    let mut u = [3.0, -0.2];
    let err = mpc.step(&[f64::NAN, 0.0], &mut u, &mut plan, &mut scratch).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFinite {
                what: "state x",
                index: 0
            }
        ),
        "{err:?}"
    );
    assert_eq!(u, [1.0, -0.2]);
    assert!(plan.chunks(2).all(|c| c == u));

    // A scratch too short (a horizon beyond what the device reserved).
    let mut u = [f64::NAN, 0.7];
    let mut short = vec![0.0; mpc.scratch_len() - 1];
    let err = mpc.step(&[0.1, 0.2], &mut u, &mut plan, &mut short).unwrap_err();
    assert!(matches!(err, Error::ScratchTooSmall { .. }), "{err:?}");
    assert_eq!(u, [0.0, 0.5]);

    // A state where the model overflows over the horizon (x₁³ at 1e120).
    let mut u = [0.5, 0.1];
    let err = mpc.step(&[0.0, 1e120], &mut u, &mut plan, &mut scratch).unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }), "{err:?}");
    assert_eq!(u, [0.5, 0.1]);

    assert!(plan.chunks(2).all(|c| c == u), "the plan holds the safe input");

    // Wrong lengths: nothing written.
    let mut u = [0.5, 0.1];
    let err = mpc.step(&[0.0, 1.0, 2.0], &mut u, &mut plan, &mut scratch).unwrap_err();
    assert!(matches!(err, Error::DimensionMismatch { .. }));
    assert_eq!(u, [0.5, 0.1]);

    // And a good step keeps inside the box.
    let mut u = [0.0, 0.0];
    let mut plan = [0.0; 10];
    mpc.step(&[2.0, -3.0], &mut u, &mut plan, &mut scratch).unwrap();
    assert!(u[0].abs() <= 1.0 && u[1].abs() <= 0.5, "{u:?}");
}

/// A horizon of one step, and a warm start holding NaN and infinities under a half-infinite box: the step
/// solves (the bad entries restart from the box's point nearest 0).
#[test]
fn one_step_horizon_and_a_non_finite_warm_start() {
    let mpc = Mpc::new(model(), settings(1)).unwrap();
    let mut scratch = vec![0.0; mpc.scratch_len()];
    let (mut u, mut plan) = ([0.1, 0.2], [0.0, 0.0]);
    mpc.step(&[0.3, 0.9], &mut u, &mut plan, &mut scratch).unwrap();
    assert_eq!(plan, u, "the one-step plan repeats the applied input");

    static LOW: [f64; 2] = [f64::NEG_INFINITY, -3.0];
    static HIGH: [f64; 2] = [2.0, f64::INFINITY];
    let mut s = settings(3);
    s.u_min = &LOW;
    s.u_max = &HIGH;
    let mpc = Mpc::new(model(), s).unwrap();
    let mut scratch = vec![0.0; mpc.scratch_len()];
    let mut plan = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.5, 1.0, f64::NAN];
    let mut u = [0.0, 0.0];
    mpc.step(&[0.3, 0.9], &mut u, &mut plan, &mut scratch).unwrap();
    assert!(u.iter().chain(&plan).all(|v| v.is_finite()), "{u:?} {plan:?}");
    assert!(u[0] <= 2.0 && u[1] >= -3.0);

    // A box with no finite point is refused.
    static NOWHERE: [f64; 2] = [f64::INFINITY, 0.0];
    static ANYWHERE: [f64; 2] = [f64::INFINITY, 1.0];
    let mut s = settings(3);
    s.u_min = &NOWHERE;
    s.u_max = &ANYWHERE;
    assert!(matches!(
        Mpc::new(model(), s),
        Err(Error::InvalidParameter {
            name: "u_min, u_max",
            ..
        })
    ));
}

/// Inputs with no effect on the states: the linearisation cannot steer, a typed error.
#[test]
fn inputs_that_do_not_act_are_refused() {
    // ẋ₀ = −x₀, ẋ₁ = −x₁ with one (unused) control.
    static F: [Factor<f64>; 2] = [
        Factor::Power { input: 0, exponent: 1 },
        Factor::Power { input: 1, exponent: 1 },
    ];
    let m = SindyModel::new(2, 1, &F, &[0, 1, 2], &[0, 1, 2], &[0, 1], &[-1.0, -1.0]).unwrap();
    let mut s = settings(3);
    s.r = &ONE_U;
    s.r_delta = &ONE_U;
    s.u_min = &LOW2[..1];
    s.u_max = &HIGH2[..1];
    let mpc = Mpc::new(m, s).unwrap();
    let mut scratch = vec![0.0; mpc.scratch_len()];
    let (mut u, mut plan) = ([0.0], [0.0; 3]);
    let err = mpc.step(&[1.0, 1.0], &mut u, &mut plan, &mut scratch).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "model (∂x/∂u)",
                ..
            }
        ),
        "{err:?}"
    );
}

/// The same controller in f32 (a microcontroller's FPU) chooses the f64 input to single precision.
#[test]
fn f32_controller_agrees_with_f64() {
    let f32_factors: Vec<Factor<f32>> = FACTORS.iter().map(|f| f.cast()).collect();
    let coef: Vec<f32> = COEF.iter().map(|&v| v as f32).collect();
    let m32 = SindyModel::new(2, 2, &f32_factors, &TERM_PTR, &COEF_PTR, &COEF_TERM, &coef).unwrap();
    let cast = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    let (target, q, r, rd) = (cast(&TARGET2), cast(&Q2), cast(&R2), cast(&RD2));
    let (lo, hi) = (cast(&BOX_LOW), cast(&BOX_HIGH));
    let s32 = MpcSettings {
        horizon: 6,
        dt: 0.1f32,
        substeps: 3,
        target: &target,
        q: &q,
        q_final: &q,
        r: &r,
        r_delta: &rd,
        u_min: &lo,
        u_max: &hi,
        max_iter: 5000,
        tol: 1e-6,
    };
    let mut s64 = settings(6);
    s64.u_min = &BOX_LOW;
    s64.u_max = &BOX_HIGH;
    s64.tol = 1e-12;
    let (c32, c64) = (Mpc::new(m32, s32).unwrap(), Mpc::new(model(), s64).unwrap());
    let (mut sc32, mut sc64) = (vec![0.0f32; c32.scratch_len()], vec![0.0f64; c64.scratch_len()]);
    let (mut u32_, mut p32) = ([0.0f32; 2], [0.0f32; 12]);
    let (mut u64_, mut p64) = ([0.0f64; 2], [0.0f64; 12]);
    c32.step(&[1.5f32, -0.7], &mut u32_, &mut p32, &mut sc32).unwrap();
    c64.step(&[1.5, -0.7], &mut u64_, &mut p64, &mut sc64).unwrap();
    for (a, b) in u32_.iter().zip(&u64_) {
        assert!((f64::from(*a) - b).abs() < 1e-4, "{u32_:?} vs {u64_:?}");
    }
}
