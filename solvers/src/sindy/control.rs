//! Model-predictive control with a fitted SINDYc model, on the host: the controller's settings as users
//! write them (TOML), and the closed loop simulated against a plant, to choose the settings before the
//! controller ([`sparsimony_core::mpc`], the same code) goes onto a device.
//!
//! ```toml
//! horizon = 10          # control periods in the horizon
//! dt = 0.01             # control period, in the model's time unit
//! substeps = 2          # RK4 steps per period for the prediction [default 1]
//! target = [8.49, 8.49, 27.0]
//! q = [1.0, 1.0, 1.0]   # state weights
//! q_final = [1.0, 1.0, 1.0]  # last step's state weights [default q]
//! r = [0.001]           # input weights
//! r_delta = [0.0]       # input-rate weights [default 0]
//! u_min = [-50.0]
//! u_max = [50.0]
//! max_iter = 200        # QP iterations per step at most [default 200]
//! tol = 1e-8            # the QP's tolerance on the plan's relative change [default 1e-8]
//! ```

use ndarray::{Array1, Array2, ArrayView1};
use serde::Deserialize;
use sparsimony_core::mpc::{Mpc, MpcSettings};
use sparsimony_core::sindy::SindyModel;

use crate::{Error, Progress, Result};

/// A controller's settings, owning their arrays (the TOML format is in the module's documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerSettings {
    /// Control periods in the horizon.
    pub horizon: usize,
    /// The control period, in the model's time unit.
    pub dt: f64,
    /// RK4 steps per period for the prediction.
    pub substeps: usize,
    /// The target state.
    pub target: Vec<f64>,
    /// State weights, steps 1 … N − 1.
    pub q: Vec<f64>,
    /// State weights of the last step.
    pub q_final: Vec<f64>,
    /// Input weights.
    pub r: Vec<f64>,
    /// Input-rate weights.
    pub r_delta: Vec<f64>,
    /// Lower input bounds.
    pub u_min: Vec<f64>,
    /// Upper input bounds.
    pub u_max: Vec<f64>,
    /// QP iterations per control step at most.
    pub max_iter: usize,
    /// The QP's tolerance on the relative change of the plan.
    pub tol: f64,
}

/// The TOML form, with its optional keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Toml {
    horizon: usize,
    dt: f64,
    substeps: Option<usize>,
    target: Vec<f64>,
    q: Vec<f64>,
    q_final: Option<Vec<f64>>,
    r: Vec<f64>,
    r_delta: Option<Vec<f64>>,
    u_min: Vec<f64>,
    u_max: Vec<f64>,
    max_iter: Option<usize>,
    tol: Option<f64>,
}

impl ControllerSettings {
    /// Parses the TOML form, filling the defaults (`substeps` 1, `q_final` = `q`, `r_delta` zeros,
    /// `max_iter` 200, `tol` 1e-8). The values are checked when a controller is built from them.
    ///
    /// # Errors
    /// [`Error::Problem`] for TOML that does not parse, unknown keys or missing ones (located in the
    /// text).
    pub fn from_toml(text: &str) -> Result<Self> {
        let t: Toml = toml::from_str(text).map_err(|e| Error::toml(text, &e))?;
        Ok(Self {
            horizon: t.horizon,
            dt: t.dt,
            substeps: t.substeps.unwrap_or(1),
            q_final: t.q_final.unwrap_or_else(|| t.q.clone()),
            r_delta: t.r_delta.unwrap_or_else(|| vec![0.0; t.r.len()]),
            target: t.target,
            q: t.q,
            r: t.r,
            u_min: t.u_min,
            u_max: t.u_max,
            max_iter: t.max_iter.unwrap_or(200),
            tol: t.tol.unwrap_or(1e-8),
        })
    }

    /// The core's borrowed settings.
    pub fn view(&self) -> MpcSettings<'_, f64> {
        MpcSettings {
            horizon: self.horizon,
            dt: self.dt,
            substeps: self.substeps,
            target: &self.target,
            q: &self.q,
            q_final: &self.q_final,
            r: &self.r,
            r_delta: &self.r_delta,
            u_min: &self.u_min,
            u_max: &self.u_max,
            max_iter: self.max_iter,
            tol: self.tol,
        }
    }
}

/// A closed loop simulated by [`closed_loop`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClosedLoop {
    /// The states at the control instants, `steps + 1` rows (the start first).
    pub states: Array2<f64>,
    /// The inputs applied over each period, `steps` rows.
    pub inputs: Array2<f64>,
    /// `|x − x*| / |x*|` at the end (`|x − x*|` when the target is 0).
    pub final_distance: f64,
    /// The first time (periods × `dt`, 0 for the start itself) from which the distance stayed below 1 %;
    /// `None` if it did not.
    pub settled_at: Option<f64>,
    /// The largest |u| of any input.
    pub max_abs_u: f64,
    /// `Σ dt · ½ (Σ_i q_i (x_i − x*_i)² + Σ_j r_j u_j²)` over the periods, at the states where the inputs
    /// were chosen.
    pub cost: f64,
    /// The most QP iterations of one control step.
    pub max_qp_iterations: usize,
    /// Steps whose QP stopped at its cap (their plans are feasible and were applied).
    pub capped_steps: usize,
    /// Steps that failed and applied the safe input, and the first failure's message.
    pub failed_steps: usize,
    /// The first failure, if any.
    pub first_failure: Option<String>,
}

/// Simulates `steps` control periods: the controller over `model` chooses each input at the plant's
/// state, the plant (`plant`, a continuous-time model with the same states and controls) moves under it
/// for one period by `plant_substeps` RK4 steps. `progress` is told of each period (task `"closed loop"`,
/// the objective its cost so far).
///
/// # Errors
/// [`Error::Core`] for settings the controller refuses (an empty box, lengths that do not match the
/// model); [`Error::Shape`] for a plant of other dimensions, or `x0` of the wrong length;
/// [`Error::InvalidParameter`] for `plant_substeps = 0` or a run whose trace (or the controller's scratch)
/// exceeds the memory; [`Error::NonFiniteResult`] when the plant's state overflows.
pub fn closed_loop(
    model: SindyModel<'_, f64>,
    settings: &ControllerSettings,
    plant: SindyModel<'_, f64>,
    plant_substeps: usize,
    x0: ArrayView1<'_, f64>,
    steps: usize,
    progress: &Progress,
) -> Result<ClosedLoop> {
    let mpc = Mpc::new(model, settings.view())?;
    let (n, m) = (model.n_states(), model.n_controls());
    for (what, expected, found) in [
        ("the plant's states (as the model's)", n, plant.n_states()),
        ("the plant's controls (as the model's)", m, plant.n_controls()),
        ("x0 (the model's states)", n, x0.len()),
    ] {
        if expected != found {
            return Err(Error::Shape { what, expected, found });
        }
    }
    if plant_substeps == 0 {
        return Err(Error::InvalidParameter {
            name: "plant_substeps",
            reason: "must be at least 1".into(),
        });
    }
    let values = (steps as f64 + 1.0) * (n + m) as f64 + mpc.scratch_len() as f64;
    crate::data::check_bytes("steps", 8.0 * values, || format!("{steps} periods"), "")?;
    let target = Array1::from(settings.target.clone());
    // Euclidean norms scaled by the largest entry, so that no square overflows.
    let norm = |v: ArrayView1<'_, f64>| {
        let big = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if big == 0.0 || !big.is_finite() {
            return big;
        }
        big * v.iter().map(|x| (x / big).powi(2)).sum::<f64>().sqrt()
    };
    let scale = norm(target.view());
    let distance = |x: ArrayView1<'_, f64>| {
        let d = norm((&x - &target).view());
        if scale > 0.0 { d / scale } else { d }
    };
    let mut out = ClosedLoop {
        states: Array2::zeros((steps + 1, n)),
        inputs: Array2::zeros((steps, m)),
        final_distance: distance(x0),
        settled_at: (distance(x0) < 0.01).then_some(0.0),
        max_abs_u: 0.0,
        cost: 0.0,
        max_qp_iterations: 0,
        capped_steps: 0,
        failed_steps: 0,
        first_failure: None,
    };
    out.states.row_mut(0).assign(&x0);
    let mut x = x0.to_vec();
    let (mut u, mut plan) = (vec![0.0; m], vec![0.0; settings.horizon * m]);
    mpc.safe_input(&mut u);
    plan.chunks_exact_mut(m).for_each(|c| c.copy_from_slice(&u));
    let mut scratch = vec![0.0; mpc.scratch_len()];
    let mut rk4 = vec![0.0; sparsimony_core::ode::rk4_scratch_len(n)];
    let h = settings.dt / plant_substeps as f64;
    let counter = progress.counter("closed loop", steps);
    for k in 0..steps {
        match mpc.step(&x, &mut u, &mut plan, &mut scratch) {
            Ok(step) => {
                out.max_qp_iterations = out.max_qp_iterations.max(step.iterations);
                out.capped_steps += usize::from(!step.converged);
            }
            Err(e) => {
                out.failed_steps += 1;
                out.first_failure.get_or_insert_with(|| format!("step {k}: {e}"));
            }
        }
        let error: f64 = (0..n).map(|i| settings.q[i] * (x[i] - target[i]).powi(2)).sum();
        let effort: f64 = (0..m).map(|j| settings.r[j] * u[j] * u[j]).sum();
        out.cost += settings.dt * 0.5 * (error + effort);
        out.max_abs_u = u.iter().fold(out.max_abs_u, |a, v| a.max(v.abs()));
        out.inputs.row_mut(k).assign(&ArrayView1::from(&u));
        let moved = (0..plant_substeps).try_for_each(|_| plant.rk4_step(h, &mut x, &u, &mut rk4));
        if moved.is_err() || x.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFiniteResult {
                what: "the plant's state",
                cause: format!(
                    "in period {k}: the plant diverged, under the controller or through its own integration \
                     ({plant_substeps} RK4 steps per period of {}: more steps, or a shorter period, if that is unstable)",
                    settings.dt
                ),
            });
        }
        out.states.row_mut(k + 1).assign(&ArrayView1::from(&x));
        let d = distance(out.states.row(k + 1));
        if !out.cost.is_finite() || !d.is_finite() {
            return Err(Error::NonFiniteResult {
                what: "the closed loop's cost or distance to the target",
                cause: format!("in period {k}: the plant's state grew beyond what its squares can hold"),
            });
        }
        if d >= 0.01 {
            out.settled_at = None;
        } else if out.settled_at.is_none() {
            out.settled_at = Some((k + 1) as f64 * settings.dt);
        }
        out.final_distance = d;
        counter.step(Some(out.cost));
    }
    Ok(out)
}
