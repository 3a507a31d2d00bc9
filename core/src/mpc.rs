//! Model-predictive control with a fitted SINDy model, on the device: one real-time iteration per control
//! step, no heap, caller-provided scratch, `f32` or `f64`.
//!
//! This is the loop of Kaiser, Kutz & Brunton (Proc. R. Soc. A 2018, "Sparse identification of nonlinear
//! dynamics for model predictive control in the low-data limit") with the real-time iteration of acados
//! (Diehl, Bock & Schlöder 2005): each control step linearises the model once along the previous solution's
//! trajectory, solves the resulting quadratic program, applies the first input and keeps the rest (shifted)
//! as the next step's warm start.
//!
//! ## The problem
//! A continuous-time model `ẋ = f(x, u)` ([`SindyModel`], `n` states, `m ≥ 1` controls), the input held over
//! each control period `dt` (zero-order hold) and integrated by `substeps` classical RK4 steps: the discrete
//! map `x_{k+1} = Φ(x_k, u_k)`. Over a horizon of `N` periods, with `u_{−1}` the input applied last,
//!
//! ```text
//!     J(u) = ½ Σ_{k=1..N} (x_k − x*)ᵀ Q_k (x_k − x*)
//!          + ½ Σ_{k=0..N−1} [ u_kᵀ R u_k + (u_k − u_{k−1})ᵀ RΔ (u_k − u_{k−1}) ]
//!     subject to  u_min ≤ u_k ≤ u_max,
//! ```
//!
//! `Q_k = diag(q)` for `k < N`, `Q_N = diag(q_final)`, `R = diag(r)`, `RΔ = diag(r_delta)`.
//!
//! ## One step (real-time iteration)
//! 1. The nominal trajectory `x̄` from the measured state under the warm-start plan `ū`, with the exact
//!    derivatives `A_k = ∂Φ/∂x`, `B_k = ∂Φ/∂u` of the RK4 map (forward sensitivities through every stage,
//!    from the model's [`SindyModel::jacobian`]).
//! 2. Condensing: `x_k ≈ x̄_k + Σ_{j<k} G_{k,j} (u_j − ū_j)`, `G_{k,j} = A_{k−1}⋯A_{j+1} B_j`, so that
//!    `J(u) = ½ uᵀ H u + cᵀ u + const` over the time-major vector `u = (u_0, …, u_{N−1})` of `N·m` inputs
//!    ([`Mpc::condensed_qp`]).
//! 3. The box-constrained QP by FISTA with adaptive restart ([`crate::forward_backward::minimize`]) on the
//!    step `1/L`, `L` Gershgorin's bound on `λ_max(H)`, from the warm start, at most `max_iter` iterations:
//!    the cost of a step is bounded; an unconverged solve is still feasible and is reported, not an error
//!    (the next step goes on from it, as a real-time iteration does).
//!
//! ## Failures on the device
//! Every error of [`Mpc::step`] (a NaN state, a model that overflows over the horizon, inputs that do not
//! act on the states, a scratch too short) leaves a **safe input** in `u`: the last input clamped into the
//! box (the box's point nearest 0 where that input is not finite), and resets the plan to hold it, so a
//! control loop can apply `u` whatever the outcome and report the error.
//!
//! Δu enters as a quadratic penalty (`r_delta`); hard bounds on Δu would make the feasible set a polytope
//! rather than a box and are not offered.

use crate::Real;
use crate::error::{Error, Result, check_finite, check_len, take_scratch};
use crate::forward_backward::{Acceleration, FbOptions, StepSize, minimize};
use crate::operator::DenseColMajor;
use crate::prox::PeriodicBox;
use crate::sindy::SindyModel;
use crate::smooth::Quadratic;

/// The settings of a controller: horizon, discretisation, weights, input box and the QP's budget. All
/// slices are borrowed, so a controller can live in flash as `static` data.
#[derive(Debug, Clone, Copy)]
pub struct MpcSettings<'a, T> {
    /// Steps in the horizon, `N ≥ 1`.
    pub horizon: usize,
    /// Control period (the model's time unit), `> 0`.
    pub dt: T,
    /// RK4 steps per control period, `≥ 1`.
    pub substeps: usize,
    /// The target state `x*` (`n`).
    pub target: &'a [T],
    /// State weights for steps `1..N−1` (`n`, `≥ 0`).
    pub q: &'a [T],
    /// State weights for the last step `N` (`n`, `≥ 0`).
    pub q_final: &'a [T],
    /// Input weights, penalising `u` itself (`m`, `≥ 0`).
    pub r: &'a [T],
    /// Input-rate weights, penalising `u_k − u_{k−1}` (`m`, `≥ 0`).
    pub r_delta: &'a [T],
    /// Lower bounds of the inputs (`m`; may be `−∞`).
    pub u_min: &'a [T],
    /// Upper bounds of the inputs (`m`; may be `+∞`), `u_min ≤ u_max`.
    pub u_max: &'a [T],
    /// Iteration cap of the QP solver per control step, `≥ 1`.
    pub max_iter: usize,
    /// Tolerance of the QP solver on the relative change of the plan, `≥ 0`.
    pub tol: T,
}

/// What one control step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MpcStep<T> {
    /// QP iterations.
    pub iterations: usize,
    /// Whether the QP met its tolerance before the cap.
    pub converged: bool,
    /// The QP's last relative change of the plan.
    pub relative_change: T,
    /// `J` of the new plan under the linearised model (the QP's objective plus its constant).
    pub predicted_cost: T,
}

/// The condensed QP of one step, `minimize ½ uᵀ H u + cᵀ u + constant` over the box, borrowing the scratch
/// it was built in.
#[derive(Debug)]
pub struct CondensedQp<'s, T> {
    /// `H`, `N·m × N·m`, symmetric, column-major.
    pub h: &'s [T],
    /// `c`, `N·m`.
    pub c: &'s [T],
    /// The constant, so that the objective equals `J` of the linearised model.
    pub constant: T,
    /// The nominal trajectory `x̄_0 … x̄_N`, `(N + 1)·n`, state-major per step.
    pub nominal: &'s [T],
}

/// A model-predictive controller over a continuous-time [`SindyModel`] with controls.
#[derive(Debug, Clone, Copy)]
pub struct Mpc<'a, T> {
    model: SindyModel<'a, T>,
    settings: MpcSettings<'a, T>,
}

/// Scratch elements [`Mpc::step`] needs for `n_states` states, `n_controls` inputs and `horizon` steps, as a
/// `const fn` so that firmware can size a `static` buffer. Saturates at `usize::MAX` (a size no buffer
/// has; [`Mpc::new`] refuses such a horizon).
pub const fn scratch_len(n_states: usize, n_controls: usize, horizon: usize) -> usize {
    let mul = usize::saturating_mul;
    let (n, m, big_n) = (n_states, n_controls, horizon);
    let (nu, nx, w) = (mul(big_n, m), mul(big_n, n), n.saturating_add(m));
    // x̄, [A_k B_k], G, H, c, e; RK4 sensitivities (S, ΣS, dY, dK, [Jx Ju]) and states (y, k, Σk);
    // FISTA's three vectors and its gradient scratch (4·N·m), the final gradient (N·m).
    let parts = [
        mul(big_n.saturating_add(1), n),
        mul(mul(big_n, n), w),
        mul(nx, nu),
        mul(nu, nu),
        nu,
        nx,
        mul(mul(5, n), w),
        mul(3, n),
        mul(5, nu),
    ];
    let mut total = 0usize;
    let mut i = 0;
    while i < parts.len() {
        total = total.saturating_add(parts[i]);
        i += 1;
    }
    total
}

impl<'a, T: Real> Mpc<'a, T> {
    /// Checks and wraps a controller.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a model without controls, a zero horizon or substep count, a
    /// non-positive `dt`, a negative weight, an empty input box (`u_min > u_max`) or one with no finite
    /// point, a zero `max_iter`, a negative or infinite `tol`, or a value whose square overflows (beyond
    /// the fourth root of the largest float); [`Error::DimensionMismatch`] for a slice of the wrong
    /// length; [`Error::NonFinite`] for a non-finite target, weight or `dt` (bounds may be infinite, not
    /// NaN).
    pub fn new(model: SindyModel<'a, T>, settings: MpcSettings<'a, T>) -> Result<Self> {
        let (n, m) = (model.n_states(), model.n_controls());
        let s = &settings;
        if m == 0 {
            return Err(invalid("model", "has no control inputs: nothing to control"));
        }
        if s.horizon == 0 || s.substeps == 0 || s.max_iter == 0 {
            return Err(invalid("horizon, substeps, max_iter", "must be at least 1"));
        }
        if scratch_len(n, m, s.horizon) == usize::MAX {
            return Err(invalid(
                "horizon",
                "so long that the controller's scratch length overflows",
            ));
        }
        check_finite("dt", &[s.dt])?;
        if s.dt <= T::zero() {
            return Err(invalid("dt", "must be positive"));
        }
        if !(s.tol >= T::zero() && s.tol.is_finite()) {
            return Err(invalid("tol", "must be non-negative and finite"));
        }
        for (what, v, len) in [
            ("target (states)", s.target, n),
            ("q (states)", s.q, n),
            ("q_final (states)", s.q_final, n),
            ("r (controls)", s.r, m),
            ("r_delta (controls)", s.r_delta, m),
        ] {
            check_len(what, len, v.len())?;
            check_finite(what, v)?;
        }
        if [s.q, s.q_final, s.r, s.r_delta]
            .iter()
            .any(|w| w.iter().any(|&v| v < T::zero()))
        {
            return Err(invalid("q, q_final, r, r_delta", "weights must be non-negative"));
        }
        // Squares of states and products of weights with them must stay finite: values beyond the fourth
        // root of the largest float (1.2e77 in f64, 4.3e9 in f32) are refused.
        let limit = T::max_value().sqrt().sqrt();
        let beyond = |v: &[T]| v.iter().any(|x| x.abs() > limit && x.is_finite());
        if [s.target, s.q, s.q_final, s.r, s.r_delta, s.u_min, s.u_max]
            .into_iter()
            .any(beyond)
            || s.dt > limit
        {
            return Err(invalid(
                "target, q, q_final, r, r_delta, u_min, u_max, dt",
                "a value beyond the fourth root of the largest float (1.2e77 in f64, 4.3e9 in f32): its squares and products overflow",
            ));
        }
        check_len("u_min (controls)", m, s.u_min.len())?;
        check_len("u_max (controls)", m, s.u_max.len())?;
        let no_finite_point = s
            .u_min
            .iter()
            .zip(s.u_max)
            .any(|(&lo, &hi)| lo == T::infinity() || hi == T::neg_infinity());
        if PeriodicBox::new(s.u_min, s.u_max).is_err() || no_finite_point {
            return Err(invalid(
                "u_min, u_max",
                "the input box is empty (u_min > u_max), has a NaN bound or no finite point: no feasible input",
            ));
        }
        Ok(Self { model, settings })
    }

    /// The model.
    pub fn model(&self) -> &SindyModel<'a, T> {
        &self.model
    }

    /// The settings.
    pub fn settings(&self) -> &MpcSettings<'a, T> {
        &self.settings
    }

    /// Scratch elements [`Mpc::step`] and [`Mpc::condensed_qp`] need (see [`scratch_len`]).
    pub fn scratch_len(&self) -> usize {
        scratch_len(self.model.n_states(), self.model.n_controls(), self.settings.horizon)
    }

    /// One control step at the measured state `x`.
    ///
    /// On entry `u` holds the input applied last (`u_{−1}`, `m`) and `plan` the warm start (`N·m`, time-major;
    /// the shifted plan the previous step left, or any guess, clamped into the box here). On success `u` holds
    /// the input to apply now and `plan` the rest of the new plan shifted by one step (its last input
    /// repeated), ready for the next call.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for `x`, `u` or `plan` of the wrong length (nothing is written then);
    /// otherwise, with the **safe input** in `u` and the plan holding it (see the module's documentation):
    /// [`Error::NonFinite`] for a non-finite state, or a nominal trajectory or Jacobian that overflows over the
    /// horizon; [`Error::InvalidParameter`] when the inputs do not act on the predicted states (`∂x/∂u = 0`
    /// along the horizon); [`Error::ScratchTooSmall`] for a scratch shorter than [`Mpc::scratch_len`].
    pub fn step(&self, x: &[T], u: &mut [T], plan: &mut [T], scratch: &mut [T]) -> Result<MpcStep<T>> {
        let m = self.model.n_controls();
        check_len("u (controls)", m, u.len())?;
        check_len("plan (horizon × controls)", self.settings.horizon * m, plan.len())?;
        check_len("x (states)", self.model.n_states(), x.len())?;
        match self.solve(x, u, plan, scratch) {
            Ok(report) => {
                u.copy_from_slice(&plan[..m]);
                // Shifted by one step; the last block keeps u_{N−1}, so the last input is repeated.
                plan.copy_within(m.., 0);
                Ok(report)
            }
            Err(e) => {
                self.safe_input(u);
                for chunk in plan.chunks_exact_mut(m) {
                    chunk.copy_from_slice(u);
                }
                Err(e)
            }
        }
    }

    /// `u` ← the last input clamped into the box, or the box's point nearest 0 where it is not finite.
    pub fn safe_input(&self, u: &mut [T]) {
        let s = &self.settings;
        for ((v, &lo), &hi) in u.iter_mut().zip(s.u_min).zip(s.u_max) {
            let held = if v.is_finite() { *v } else { T::zero() };
            *v = held.max(lo).min(hi);
        }
    }

    fn solve(&self, x: &[T], u: &[T], plan: &mut [T], scratch: &mut [T]) -> Result<MpcStep<T>> {
        let s = &self.settings;
        let nu = s.horizon * self.model.n_controls();
        let needed = self.scratch_len();
        if scratch.len() < needed {
            return Err(Error::ScratchTooSmall {
                needed,
                found: scratch.len(),
            });
        }
        let bounds = PeriodicBox::new(s.u_min, s.u_max)?;
        self.safe_input_plan(plan);
        let (qp_part, rest) = scratch.split_at_mut(needed - 5 * nu);
        let qp = self.condensed_qp(x, u, plan, qp_part)?;
        let lipschitz = gershgorin(qp.h, nu);
        let f = Quadratic::new(DenseColMajor::new(qp.h, nu, nu)?, qp.c)?;
        let opts = FbOptions {
            max_iter: s.max_iter,
            tol: s.tol,
            acceleration: Acceleration::FistaRestart,
            step: StepSize::Lipschitz(lipschitz.max(T::min_positive_value())),
        };
        let (fb_scratch, grad) = rest.split_at_mut(4 * nu);
        let report = minimize(&f, &bounds, plan, &opts, fb_scratch, None)?;
        let value = crate::smooth::Smooth::value_grad(&f, plan, &mut grad[..nu], &mut [])?;
        Ok(MpcStep {
            iterations: report.iterations,
            converged: report.converged(),
            relative_change: report.relative_change,
            predicted_cost: value + qp.constant,
        })
    }

    /// Clamps the warm start into the box; a non-finite entry becomes the box's point nearest 0.
    fn safe_input_plan(&self, plan: &mut [T]) {
        for chunk in plan.chunks_exact_mut(self.model.n_controls()) {
            self.safe_input(chunk);
        }
    }

    /// The condensed QP of the step at state `x`, last input `u_prev` and nominal plan `plan` (steps 1–2 of
    /// the module's documentation), built in `scratch` (at least [`Mpc::scratch_len`] elements).
    ///
    /// # Errors
    /// As [`Mpc::step`], without the safe input (nothing but `scratch` is written).
    pub fn condensed_qp<'s>(
        &self,
        x: &[T],
        u_prev: &[T],
        plan: &[T],
        scratch: &'s mut [T],
    ) -> Result<CondensedQp<'s, T>> {
        let (n, m, big_n) = (self.model.n_states(), self.model.n_controls(), self.settings.horizon);
        let (nu, nx, w) = (big_n * m, big_n * n, n + m);
        check_len("x (states)", n, x.len())?;
        check_len("u_prev (controls)", m, u_prev.len())?;
        check_len("plan (horizon × controls)", nu, plan.len())?;
        check_finite("state x", x)?;
        check_finite("u_prev", u_prev)?;
        check_finite("plan", plan)?;
        let (nominal, rest) = take_scratch(scratch, (big_n + 1) * n)?;
        let (sens, rest) = take_scratch(rest, big_n * n * w)?;
        let (g, rest) = take_scratch(rest, nx * nu)?;
        let (h, rest) = take_scratch(rest, nu * nu)?;
        let (c, rest) = take_scratch(rest, nu)?;
        let (e, rest) = take_scratch(rest, nx)?;
        let (work, _) = take_scratch(rest, 5 * n * w + 3 * n)?;

        // 1. The nominal trajectory and the sensitivities [A_k B_k] (n × (n + m), column-major) of each period.
        nominal[..n].copy_from_slice(x);
        for k in 0..big_n {
            let (done, next) = nominal.split_at_mut((k + 1) * n);
            let xk = &mut next[..n];
            xk.copy_from_slice(&done[k * n..]);
            let uk = &plan[k * m..(k + 1) * m];
            self.period(xk, uk, &mut sens[k * n * w..(k + 1) * n * w], work)?;
            if let Some(i) = xk.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    what: "predicted state (the model overflows over the horizon)",
                    index: (k + 1) * n + i,
                });
            }
        }
        // 2. G (nx × nu, column-major): row block k holds x_{k+1}'s dependence on u_j,
        //    G_{k,k} = B_k, G_{k,j} = A_k G_{k−1,j} (j < k), 0 above.
        g.fill(T::zero());
        for k in 0..big_n {
            let ab = &sens[k * n * w..(k + 1) * n * w];
            for j in 0..=k {
                for col in 0..m {
                    let gc = (j * m + col) * nx;
                    for i in 0..n {
                        let v = if j == k {
                            ab[i + n * (n + col)]
                        } else {
                            (0..n).fold(T::zero(), |acc, l| ab[i + n * l] * g[gc + (k - 1) * n + l] + acc)
                        };
                        g[gc + k * n + i] = v;
                    }
                }
            }
        }
        if g.iter().all(|&v| v == T::zero()) {
            return Err(invalid(
                "model (∂x/∂u)",
                "the inputs do not act on the predicted states along the horizon: the linearisation cannot steer",
            ));
        }
        // e = x̄_{1..N} − x* − G ū, so that x − x* ≈ G u + e (row block k depends on u_0 … u_k only).
        for k in 0..big_n {
            for i in 0..n {
                let row = k * n + i;
                let gu = (0..(k + 1) * m).fold(T::zero(), |acc, j| g[row + j * nx] * plan[j] + acc);
                e[row] = nominal[(k + 1) * n + i] - self.settings.target[i] - gu;
            }
        }
        let s = &self.settings;
        // Σ over the row blocks from `first` on of q_row · a_row · b_row (G is zero above its block diagonal).
        let weighted = |first: usize, a: &[T], b: &[T]| {
            let mut v = T::zero();
            for k in first..big_n {
                let q = if k + 1 == big_n { s.q_final } else { s.q };
                for (i, &qi) in q.iter().enumerate() {
                    v = qi * a[k * n + i] * b[k * n + i] + v;
                }
            }
            v
        };
        // H = Gᵀ Q G + blockdiag(R) + RΔ's band; c = Gᵀ Q e − RΔ u_{−1} in the first block.
        let constant = weighted(0, e, e) / T::lit(2.0);
        for a in 0..nu {
            let ga = &g[a * nx..(a + 1) * nx];
            for b in a..nu {
                let v = weighted(b / m, ga, &g[b * nx..(b + 1) * nx]);
                h[a + nu * b] = v;
                h[b + nu * a] = v;
            }
            c[a] = weighted(a / m, ga, e);
        }
        for k in 0..big_n {
            for j in 0..m {
                let d = k * m + j;
                let rd = s.r_delta[j];
                // u_k appears in the rate terms k and k + 1 (the latter only before the last step).
                let rate_terms = if k + 1 < big_n { rd + rd } else { rd };
                h[d + nu * d] = h[d + nu * d] + s.r[j] + rate_terms;
                if k + 1 < big_n {
                    let next = d + m;
                    h[d + nu * next] = h[d + nu * next] - rd;
                    h[next + nu * d] = h[next + nu * d] - rd;
                }
            }
        }
        let mut constant = constant;
        for j in 0..m {
            c[j] = c[j] - s.r_delta[j] * u_prev[j];
            constant = s.r_delta[j] * u_prev[j] * u_prev[j] / T::lit(2.0) + constant;
        }
        check_finite("condensed Hessian H", h)?;
        check_finite("condensed gradient c", c)?;
        Ok(CondensedQp {
            h,
            c,
            constant,
            nominal,
        })
    }

    /// One control period from `x` (in place) under `u`: `substeps` RK4 steps carrying the sensitivity
    /// `S = [∂x/∂x₀ ∂x/∂u]` (n × (n + m), column-major) through every stage, written to `sens`.
    fn period(&self, x: &mut [T], u: &[T], sens: &mut [T], work: &mut [T]) -> Result<()> {
        let (n, m) = (self.model.n_states(), self.model.n_controls());
        let nw = n * (n + m);
        let (acc, rest) = work.split_at_mut(nw);
        let (dy, rest) = rest.split_at_mut(nw);
        let (dk, rest) = rest.split_at_mut(nw);
        let (jac, rest) = rest.split_at_mut(nw);
        let (jx, ju) = jac.split_at_mut(n * n);
        let (y, rest) = rest.split_at_mut(n);
        let (kv, rest) = rest.split_at_mut(n);
        let (xacc, _) = rest.split_at_mut(n);
        let h = self.settings.dt / T::lit(self.settings.substeps as f64);
        // S = [I 0].
        sens.fill(T::zero());
        (0..n).for_each(|i| sens[i + n * i] = T::one());
        let weights = [T::one(), T::lit(2.0), T::lit(2.0), T::one()];
        for _ in 0..self.settings.substeps {
            xacc.copy_from_slice(x);
            acc.copy_from_slice(sens);
            for (stage, &wt) in weights.iter().enumerate() {
                // Stage point y = x + a h k_prev, its sensitivity dY = S + a h dK_prev (a = 0, ½, ½, 1).
                let a = [T::zero(), T::lit(0.5), T::lit(0.5), T::one()][stage];
                for i in 0..n {
                    y[i] = if stage == 0 { x[i] } else { a * h * kv[i] + x[i] };
                }
                for i in 0..nw {
                    dy[i] = if stage == 0 { sens[i] } else { a * h * dk[i] + sens[i] };
                }
                self.model.rhs(y, u, kv)?;
                self.model.jacobian(y, u, jx, ju)?;
                // dK = Jx dY + [0 Ju].
                for col in 0..n + m {
                    for i in 0..n {
                        let mut v = (0..n).fold(T::zero(), |s, l| jx[i + n * l] * dy[l + n * col] + s);
                        if col >= n {
                            v = v + ju[i + n * (col - n)];
                        }
                        dk[i + n * col] = v;
                    }
                }
                let f = wt * h / T::lit(6.0);
                xacc.iter_mut().zip(kv.iter()).for_each(|(s, &k)| *s = f * k + *s);
                acc.iter_mut().zip(dk.iter()).for_each(|(s, &d)| *s = f * d + *s);
            }
            x.copy_from_slice(xacc);
            sens.copy_from_slice(acc);
        }
        Ok(())
    }
}

/// Gershgorin's bound on `λ_max` of a symmetric `k × k` column-major matrix: the largest absolute row sum.
fn gershgorin<T: Real>(h: &[T], k: usize) -> T {
    (0..k)
        .map(|i| (0..k).fold(T::zero(), |s, j| s + h[i + k * j].abs()))
        .fold(T::zero(), T::max)
}

fn invalid(name: &'static str, reason: &'static str) -> Error {
    Error::InvalidParameter { name, reason }
}
