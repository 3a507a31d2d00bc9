//! The closed loop of Kaiser, Kutz & Brunton (2018)'s Lorenz case: the true Lorenz system with the input in
//! its first equation as the plant, a model-predictive controller over a SINDYc model, one control step per
//! period `DT`. No allocation, no `std`: the firmware runs it, and `examples/sindy_mpc.rs` and
//! `tests/firmware_qemu.rs` include this file, so the host runs exactly the same code.

use sparsimony_core::mpc::{Mpc, MpcSettings, scratch_len};
use sparsimony_core::ode::{rk4_scratch_len, rk4_step};
use sparsimony_core::sindy::SindyModel;
use sparsimony_core::{Real, Result};

/// Lorenz parameters (σ, ρ, β).
pub const SIGMA: f64 = 10.0;
/// ρ.
pub const RHO: f64 = 28.0;
/// β.
pub const BETA: f64 = 8.0 / 3.0;
/// The target: the unstable fixed point (√(β(ρ − 1)), √(β(ρ − 1)), ρ − 1) = (√72, √72, 27).
pub const TARGET: [f64; 3] = [8.485_281_374_238_57, 8.485_281_374_238_57, 27.0];
/// Control period (the model's time unit).
pub const DT: f64 = 0.01;
/// Prediction horizon, in control periods.
pub const HORIZON: usize = 10;
/// RK4 steps per period for the controller's model.
pub const MODEL_SUBSTEPS: usize = 2;
/// RK4 steps per period for the plant.
pub const PLANT_SUBSTEPS: usize = 10;
/// The input box |u| ≤ U_MAX.
pub const U_MAX: f64 = 50.0;
/// The input weight R (the state weights are 1).
pub const R: f64 = 1e-3;
/// QP iterations per control step at most.
pub const QP_MAX_ITER: usize = 200;
/// Control periods of each closed loop on the device (10 time units; the host test reruns them bit for bit).
pub const DEVICE_STEPS: usize = 1000;
/// Starting points the device flies from.
pub const DEVICE_STARTS: usize = 5;
/// Scratch the controller needs.
pub const SCRATCH: usize = scratch_len(3, 1, HORIZON);

/// The true system's right-hand side.
pub fn lorenz_rhs(x: &[f64], u: f64, d: &mut [f64]) {
    d[0] = SIGMA * (x[1] - x[0]) + u;
    d[1] = x[0] * (RHO - x[2]) - x[1];
    d[2] = x[0] * x[1] - BETA * x[2];
}

/// The plant over one control period under the held input `u`: `PLANT_SUBSTEPS` RK4 steps.
pub fn plant(x: &mut [f64; 3], u: f64) -> Result<()> {
    let mut scratch = [0.0; rk4_scratch_len(3)];
    let h = DT / PLANT_SUBSTEPS as f64;
    for _ in 0..PLANT_SUBSTEPS {
        rk4_step(
            &mut |_t, y: &[f64], d: &mut [f64]| {
                lorenz_rhs(y, u, d);
                Ok(())
            },
            0.0,
            h,
            x,
            &mut scratch,
        )?;
    }
    Ok(())
}

/// Starting points on the attractor: the uncontrolled system from (−8, 8, 27) after 5 time units, then every
/// 1.37 time units.
pub fn attractor_points<const K: usize>() -> Result<[[f64; 3]; K]> {
    let mut x = [-8.0, 8.0, 27.0];
    for _ in 0..500 {
        plant(&mut x, 0.0)?;
    }
    let mut points = [[0.0; 3]; K];
    for p in points.iter_mut() {
        *p = x;
        for _ in 0..137 {
            plant(&mut x, 0.0)?;
        }
    }
    Ok(points)
}

/// `|x − x*| / |x*|`.
pub fn distance(x: &[f64; 3]) -> f64 {
    let d2: f64 = x.iter().zip(&TARGET).map(|(a, b)| (a - b) * (a - b)).sum();
    let t2: f64 = TARGET.iter().map(|t| t * t).sum();
    sqrt(d2 / t2)
}

/// `√x` through the core's float trait (no `std` here).
fn sqrt<T: Real>(x: T) -> T {
    x.sqrt()
}

/// How a closed-loop run went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// `|x − x*| / |x*|` at the end.
    pub final_distance: f64,
    /// The first time at which the distance fell below 1 % and stayed there (`f64::INFINITY` if never).
    pub settled_at: f64,
    /// The largest |u| applied.
    pub max_abs_u: f64,
    /// Σ over the steps of ½|x − x*|² + ½ r u² times `DT` (the closed loop's cost).
    pub cost: f64,
    /// The most QP iterations in one control step.
    pub max_qp_iterations: usize,
    /// Control steps whose QP hit its cap (the input was still feasible and applied).
    pub capped_steps: usize,
    /// Control steps that failed and applied the safe input.
    pub failed_steps: usize,
    /// The caller's clock summed over the controller's steps alone (the plant not included).
    pub controller_ticks: u64,
    /// The caller's clock over the slowest control step.
    pub max_controller_ticks: u64,
}

/// Runs `steps` control periods from `x0` with the controller over `model`, calling `each(k, x, u)` after
/// the controller chose `u` at state `x` in period `k`; `clock()` (any monotone count: nanoseconds on a
/// host, SysTick ticks on the device) is read around each control step. The plant is simulated in f64;
/// the controller computes in `T` (f32 as on a microcontroller's FPU, or f64), the measured state rounded
/// to `T`. Its settings: Q = I (state), R = 10⁻³ (input), |u| ≤ 50, a horizon of 0.1 time units, the QP
/// to a relative change of 1e-8 (1e-5 in f32) or `QP_MAX_ITER` iterations.
pub fn closed_loop<T: Real>(
    model: SindyModel<'_, T>,
    x0: [f64; 3],
    steps: usize,
    mut clock: impl FnMut() -> u64,
    mut each: impl FnMut(usize, &[f64; 3], f64),
) -> Result<Outcome> {
    let (target, q) = (TARGET.map(T::lit), [T::one(); 3]);
    let (r, r_delta, low, high) = ([T::lit(R)], [T::zero()], [T::lit(-U_MAX)], [T::lit(U_MAX)]);
    let single = core::mem::size_of::<T>() == 4;
    let settings = MpcSettings {
        horizon: HORIZON,
        dt: T::lit(DT),
        substeps: MODEL_SUBSTEPS,
        target: &target,
        q: &q,
        q_final: &q,
        r: &r,
        r_delta: &r_delta,
        u_min: &low,
        u_max: &high,
        max_iter: QP_MAX_ITER,
        tol: T::lit(if single { 1e-5 } else { 1e-8 }),
    };
    let mpc = Mpc::new(model, settings)?;
    let mut scratch = [T::zero(); SCRATCH];
    let mut plan = [T::zero(); HORIZON];
    let (mut x, mut u) = (x0, [T::zero()]);
    let mut out = Outcome {
        final_distance: distance(&x),
        settled_at: f64::INFINITY,
        max_abs_u: 0.0,
        cost: 0.0,
        max_qp_iterations: 0,
        capped_steps: 0,
        failed_steps: 0,
        controller_ticks: 0,
        max_controller_ticks: 0,
    };
    for k in 0..steps {
        let start = clock();
        let measured = x.map(T::lit);
        let result = mpc.step(&measured, &mut u, &mut plan, &mut scratch);
        let ticks = clock().saturating_sub(start);
        out.controller_ticks += ticks;
        out.max_controller_ticks = out.max_controller_ticks.max(ticks);
        match result {
            Ok(step) => {
                out.max_qp_iterations = out.max_qp_iterations.max(step.iterations);
                out.capped_steps += usize::from(!step.converged);
            }
            Err(_) => out.failed_steps += 1,
        }
        let applied = u[0].to_f64_lossless();
        each(k, &x, applied);
        let e2: f64 = x.iter().zip(&TARGET).map(|(a, b)| (a - b) * (a - b)).sum();
        out.cost += DT * 0.5 * (e2 + R * applied * applied);
        out.max_abs_u = out.max_abs_u.max(applied.max(-applied));
        plant(&mut x, applied)?;
        let d = distance(&x);
        if d >= 0.01 {
            out.settled_at = f64::INFINITY;
        } else if out.settled_at.is_infinite() {
            out.settled_at = (k + 1) as f64 * DT;
        }
    }
    out.final_distance = distance(&x);
    Ok(out)
}
