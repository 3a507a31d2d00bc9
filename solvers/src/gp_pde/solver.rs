//! Training the GP collocation model (`model`): the paper's joint Adam on grid values, kernel
//! parameters and precisions ([`Method::Adam`]), or ours ([`Method::Exact`]): for fixed kernel parameters
//! the grid values minimise a (Gauss–Newton-linearised) least-squares problem, solved exactly in the
//! whitened coordinates `z` of `u = (⊗_d Q_d Λ_d^½) z` (`C_d = Q_d Λ_d Q_dᵀ`: prior `‖z‖²`, derivatives
//! through `K_d⁽ᵐ⁾ Q_d Λ_d^-½`, never `C⁻¹`) — by its normal matrix, assembled from the explicit maps, and
//! a Cholesky factorisation up to [`Settings::dense_limit`] unknowns, above it (and where that
//! factorisation fails at working precision) by preconditioned conjugate gradients (preconditioner: the mean-coefficient diagonal plus the boundary faces' low-rank terms by
//! the Woodbury identity; inexact when capped, as [`OuterIteration::cg_residual`] reports),
//! and Adam moves only the kernel parameters along the gradient of the profiled objective (by the envelope
//! theorem, `∂J/∂θ` at the inner minimiser).

use std::ops::ControlFlow;

use super::axis::AxisFactor;
use super::init::initial_theta;
use super::model::Model;
use super::objective::{Evaluation, Objective};
use super::operator::Discretization;
use super::settings::{Method, Settings};
use super::solution::{GridAxis, Solution};
use crate::krylov::conjugate_gradients;
use crate::{Error, Estimator, Measure, Report, Result};

/// One outer iteration, as passed to the monitor of [`solve`].
pub struct OuterIteration<'a> {
    /// The iteration (0-based).
    pub iteration: usize,
    /// The objective at the start of the iteration.
    pub objective: Objective,
    /// Gauss–Newton steps taken in this iteration's inner solve (0 for Adam).
    pub gauss_newton_steps: usize,
    /// Conjugate-gradient iterations spent in them (0 for dense solves and Adam).
    pub cg_iterations: usize,
    /// The largest relative residual a conjugate-gradient solve stopped at (0 when none ran): above
    /// [`Settings::cg_tolerance`] when [`Settings::cg_iterations`] cut it short, so the step was inexact.
    pub cg_residual: f64,
    cg_tolerance: f64,
    model: &'a Model<'a>,
    factors: &'a [Vec<AxisFactor>],
    values: &'a [Vec<f64>],
    weights: &'a [Vec<f64>],
    log_precisions: [f64; 2],
}

impl OuterIteration<'_> {
    /// The solve's equation and boundary log-precisions (`ln v`, `ln τ`): fixed for the exact method,
    /// Adam's current ones.
    pub fn log_precisions(&self) -> [f64; 2] {
        self.log_precisions
    }

    /// The current solution, as [`solve`] would return it if it stopped here (a copy of the grid values
    /// and kernels).
    pub fn solution(&self) -> Solution {
        let report = inner_report(
            self.iteration + 1,
            self.cg_iterations,
            self.cg_residual,
            self.cg_tolerance,
        );
        snapshot(
            self.model,
            self.factors,
            self.values,
            self.weights,
            self.log_precisions,
            self.objective,
            report,
        )
    }
}

/// The report of an iterate after `iterations` outer iterations: judged by the conjugate-gradient
/// residual its inner solves stopped at, or exact when none ran.
fn inner_report(iterations: usize, cg_iterations: usize, cg_residual: f64, cg_tolerance: f64) -> Report {
    if cg_iterations > 0 {
        Report::new(iterations, Measure::Residual, cg_residual, cg_tolerance)
    } else {
        Report::exact(iterations)
    }
}

/// The fitted model of kernels `factors`, grid values and posterior weights.
fn snapshot(
    model: &Model<'_>,
    factors: &[Vec<AxisFactor>],
    values: &[Vec<f64>],
    weights: &[Vec<f64>],
    log_precisions: [f64; 2],
    objective: Objective,
    report: Report,
) -> Solution {
    let axes = model
        .disc
        .grid
        .axes()
        .iter()
        .enumerate()
        .map(|(d, a)| GridAxis {
            lower: a.lower,
            step: factors[0][d].step,
            points: model.shape[d],
        })
        .collect();
    Solution {
        axes,
        kernels: factors
            .iter()
            .map(|f| f.iter().map(|a| a.kernel.clone()).collect())
            .collect(),
        values: values.to_vec(),
        weights: weights.to_vec(),
        log_precisions,
        objective,
        report,
    }
}

/// Adam (Kingma & Ba) with the usual β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
struct Adam {
    rate: f64,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    fn new(rate: f64, n: usize) -> Self {
        Self {
            rate,
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    fn step(&mut self, x: &mut [f64], g: &[f64]) {
        self.t += 1;
        let (b1, b2) = (0.9f64, 0.999f64);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for i in 0..x.len() {
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g[i];
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g[i] * g[i];
            x[i] -= self.rate * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + 1e-8);
        }
    }
}

/// The model of a discretization with these settings (checked).
pub(crate) fn model<'a>(disc: &'a Discretization, s: &Settings) -> Result<Model<'a>> {
    let positive = |x: f64| x > 0.0 && x.is_finite();
    let checks = [
        (
            "components",
            s.components >= 1,
            format!("at least 1 mixture component is needed, got {}", s.components),
        ),
        (
            "jitter",
            positive(s.jitter),
            format!("must be positive and finite, got {}", s.jitter),
        ),
        (
            "learning_rate",
            positive(s.learning_rate),
            format!("must be positive and finite, got {}", s.learning_rate),
        ),
        (
            "boundary_weight",
            positive(s.boundary_weight),
            format!("must be positive and finite, got {}", s.boundary_weight),
        ),
    ];
    if let Some((name, _, reason)) = checks.into_iter().find(|c| !c.1) {
        return Err(Error::InvalidParameter { name, reason });
    }
    if s.components > MAX_COMPONENTS {
        return Err(Error::InvalidParameter {
            name: "components",
            reason: format!(
                "at most {MAX_COMPONENTS} mixture components per field and axis (the paper uses up to 100), got {}",
                s.components
            ),
        });
    }
    Model::new(disc, s.spectrum, s.components, s.jitter, s.boundary_weight)
}

/// The most mixture components [`model`] takes per field and axis: each costs a kernel evaluation per lag
/// of every axis in every outer iteration.
const MAX_COMPONENTS: usize = 1000;

/// `H δ = −g` by a Cholesky factorisation of `H` (all fields stacked, field-major); `None` when `H` is not
/// positive definite at working precision.
fn dense_solve(h: faer::Mat<f64>, g: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    use faer::linalg::solvers::Solve;
    let n: usize = g.iter().map(Vec::len).sum();
    let llt = h.as_ref().llt(faer::Side::Lower).ok()?;
    let flat: Vec<f64> = g.iter().flatten().map(|x| -x).collect();
    let x = llt.solve(faer::MatRef::from_column_major_slice(&flat, n, 1));
    let mut out = Vec::with_capacity(g.len());
    let mut k = 0;
    for v in g {
        out.push((0..v.len()).map(|i| x[(k + i, 0)]).collect());
        k += v.len();
    }
    Some(out)
}

/// What an inner solve did.
#[derive(Default)]
struct InnerReport {
    steps: usize,
    cg_iterations: usize,
    cg_residual: f64,
}

/// Minimises `J` over the grid values for fixed kernels and precisions: Gauss–Newton steps (one
/// suffices for a linear PDE) in the whitened coordinates `z` of `Model::whitening`, each solved
/// exactly (dense Cholesky up to [`Settings::dense_limit`] unknowns, preconditioned CG above and after a
/// failed factorisation), with a
/// backtracking line search; returns what it did and the evaluation at the new `u`.
fn inner_solve(
    model: &Model<'_>,
    fac: &[Vec<AxisFactor>],
    u: &mut [Vec<f64>],
    log_v: f64,
    log_tau: f64,
    s: &Settings,
) -> Result<(InnerReport, Evaluation)> {
    let linear = model.disc.equations.iter().all(|e| e.is_linear());
    let mut steps = 0;
    let (mut cg_iterations, mut cg_residual) = (0, 0.0f64);
    // The kernels are fixed here: the whitening (per-axis eigendecompositions) serves every step. The
    // state is z, and everything is evaluated from it (see the model's documentation).
    let wh = model.whitening(fac)?;
    let mut z = model.whiten(&wh, u);
    let (mut ev, mut current) = model.evaluate(fac, &wh, &z, log_v, log_tau);
    // Dense while the factorisation succeeds: after a failure the remaining steps go to the conjugate
    // gradients rather than form and fail the same matrix again.
    let mut dense = model.len() * u.len() <= s.dense_limit;
    for _ in 0..s.gauss_newton_steps.max(1) {
        let gz = model.gradient(&wh, &ev, &current, &z, log_v, log_tau);
        // Where the Cholesky factorisation fails (a matrix positive definite in exact arithmetic whose
        // condition passes 1e16 at high precisions: a Gaussian-modulated wave under Allen–Cahn at
        // ln v = 24 once stopped the solve here), the same step by conjugate gradients, which report
        // the residual they reach.
        let direct = if dense {
            dense_solve(model.gauss_newton_matrix(&wh, &ev, log_v, log_tau), &gz)
        } else {
            None
        };
        dense &= direct.is_some();
        let dz = if let Some(dz) = direct {
            dz
        } else {
            let pre = model.preconditioner(&wh, &ev, log_v, log_tau)?;
            let hess = |p: &[Vec<f64>]| model.gauss_newton(&wh, &ev, p, log_v, log_tau);
            let (dz, its, reached) = conjugate_gradients(hess, |r| pre.apply(r), &gz, s.cg_tolerance, s.cg_iterations);
            cg_iterations += its;
            cg_residual = cg_residual.max(reached);
            dz
        };
        steps += 1;
        let before = ev.objective.total;
        let mut step = 1.0;
        let accepted = loop {
            let trial: Vec<Vec<f64>> = z
                .iter()
                .zip(&dz)
                .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + step * y).collect())
                .collect();
            let (tev, tu) = model.evaluate(fac, &wh, &trial, log_v, log_tau);
            if tev.objective.total <= before {
                (z, ev, current) = (trial, tev, tu);
                break true;
            }
            if step < 1e-4 {
                break false;
            }
            step *= 0.5;
        };
        // A linear equation is solved by one full step; otherwise stop when the objective settles (an
        // iteratively solved step leaves changes at the level of its residual, not round-off).
        let settled = before - ev.objective.total <= 1e-9 * before.abs().max(1.0);
        let stopped = crate::regression::interrupt::stop_requested();
        if !accepted || settled || (linear && step == 1.0) || stopped {
            break;
        }
    }
    u.iter_mut().zip(current).for_each(|(a, b)| *a = b);
    Ok((
        InnerReport {
            steps,
            cg_iterations,
            cg_residual,
        },
        ev,
    ))
}

/// The paper's joint method keeps the grid values `u` as its state: `J` at `u` and `∇_u J = W⁻ᵀ ∇_z J`, both
/// from the whitened coordinates `z = W⁻¹u` of the current kernels (`W⁻ᵀ = ⊗_d Q_d Λ_d^-½`).
pub(crate) fn joint_evaluation(
    model: &Model<'_>,
    fac: &[Vec<AxisFactor>],
    u: &[Vec<f64>],
    log_v: f64,
    log_tau: f64,
) -> Result<(Evaluation, Vec<Vec<f64>>)> {
    let wh = model.whitening(fac)?;
    let z = model.whiten(&wh, u);
    let (ev, current) = model.evaluate(fac, &wh, &z, log_v, log_tau);
    let gz = model.gradient(&wh, &ev, &current, &z, log_v, log_tau);
    let gu = gz.iter().zip(&wh.eigen).map(|(g, e)| e.inverse_sqrt(g)).collect();
    Ok((ev, gu))
}

impl Estimator<&Discretization> for Settings {
    type Fitted = Solution;

    /// Trains the GP model of the discretized problem ([`solve`] with no monitor; the settings'
    /// `progress` still sees every outer iteration).
    ///
    /// # Errors
    /// As [`solve`].
    fn fit(&self, disc: &Discretization) -> Result<Solution> {
        solve(disc, self, |_| ControlFlow::Continue(()))
    }
}

/// Trains the GP model of `disc`; `monitor` sees every outer iteration (and may stop the run by returning
/// `ControlFlow::Break`, its own rule). A stop asked through [`crate::regression::interrupt`] ends the
/// run the same way, at the next outer iteration or inner-step poll.
///
/// # Errors
/// The discretization's and the settings' errors; [`Error::Diverged`] with the last finite objective
/// when the optimizer diverges (a non-finite objective or kernel).
pub fn solve(
    disc: &Discretization,
    s: &Settings,
    mut monitor: impl FnMut(&OuterIteration<'_>) -> ControlFlow<()>,
) -> Result<Solution> {
    let model = model(disc, s)?;
    let n = model.len();
    let mut u: Vec<Vec<f64>> = vec![vec![0.0; n]; disc.fields];
    let (mut log_v, mut log_tau) = (s.log_equation_precision, s.log_boundary_precision);
    let joint = s.method == Method::Adam;
    let mut theta = initial_theta(&model, s, true);
    let spread = initial_theta(&model, s, false);
    // The first outer iteration's kernels, inner solve and evaluation, when already computed below.
    let mut first = None;
    if !joint && spread != theta {
        // A homogeneous equation: the boundary data show the solution's spectrum along the faces, which
        // may or may not be that of the interior (advection's travelling wave: yes, 2e-6 against 0.12;
        // Burgers' shock seen from its constant ends: no, 1.2e-2 against 2.0e-3; in 1D, where the faces
        // are two points, the start is the envelope alone: a straight line, 4e-6 against 0.97). Both starts are
        // solved (to convergence, whatever the per-iteration cap), and the one with the lower objective is
        // kept.
        let trial = Settings {
            gauss_newton_steps: s.gauss_newton_steps.max(20),
            ..s.clone()
        };
        let solved = |theta: &[f64], u: &mut [Vec<f64>]| -> Result<(Vec<Vec<AxisFactor>>, InnerReport, Evaluation)> {
            let fac = model.factors(theta)?;
            let (report, ev) = inner_solve(&model, &fac, u, log_v, log_tau, &trial)?;
            Ok((fac, report, ev))
        };
        let mut v = u.clone();
        let from_spread = solved(&spread, &mut v)?;
        let from_peaks = solved(&theta, &mut u)?;
        let (j_spread, j_peaks) = (from_spread.2.objective.total, from_peaks.2.objective.total);
        first = Some(if j_spread < j_peaks || !j_peaks.is_finite() {
            (theta, u) = (spread, v);
            from_spread
        } else {
            from_peaks
        });
    }
    let n_theta = theta.len();
    let mut adam = Adam::new(s.learning_rate, n_theta + if joint { disc.fields * n + 2 } else { 0 });
    let mut last = None;
    let mut done = 0;
    let mut kept: Option<Solution> = None;
    let steps = s.progress.counter("gp_pde", s.iterations);
    // The joint method's gradient in the grid values, from the latest evaluation.
    let mut gradient_u = Vec::new();
    for it in 0..s.iterations {
        let diverged = |last: Option<Objective>| Error::Diverged {
            iteration: it,
            last_finite: last.map_or(f64::NAN, |o| o.total),
        };
        // After the choice of start above, the chosen solve is this iteration's (it ran to convergence).
        let (fac, inner, ev) = match first.take() {
            Some(done) => done,
            None => {
                // Kernels the settings' own start cannot build (a kernel matrix singular at this jitter)
                // are reported as they are; kernels Adam's steps made unbuildable are a divergence.
                let fac = model
                    .factors(&theta)
                    .map_err(|e| if it == 0 { e } else { diverged(last) })?;
                let (inner, ev) = if joint {
                    let (ev, gu) = joint_evaluation(&model, &fac, &u, log_v, log_tau)?;
                    gradient_u = gu;
                    (InnerReport::default(), ev)
                } else {
                    inner_solve(&model, &fac, &mut u, log_v, log_tau, s)?
                };
                (fac, inner, ev)
            }
        };
        if !ev.objective.total.is_finite() {
            return Err(diverged(last));
        }
        last = Some(ev.objective);
        done = it + 1;
        // The profiled objective is what the outer loop minimises, and Adam does not descend monotonically:
        // the lowest iterate is kept.
        let progress = OuterIteration {
            iteration: it,
            objective: ev.objective,
            gauss_newton_steps: inner.steps,
            cg_iterations: inner.cg_iterations,
            cg_residual: inner.cg_residual,
            cg_tolerance: s.cg_tolerance,
            model: &model,
            factors: &fac,
            values: &u,
            weights: ev.weights(),
            log_precisions: [log_v, log_tau],
        };
        if kept.as_ref().is_none_or(|k| ev.objective.total < k.objective.total) {
            kept = Some(progress.solution());
        }
        steps.step(Some(ev.objective.total));
        // The caller's own rule, or the process-wide stop hook (Ctrl-C in Python; see
        // `regression::interrupt`), polled here as by every family's fits: the best iterate so far.
        if crate::regression::interrupt::stop_requested() || monitor(&progress).is_break() {
            break;
        }
        let (gt, glv, glt) = model.gradient_theta(&fac, &ev, log_v, log_tau)?;
        if joint {
            let mut x: Vec<f64> = theta
                .iter()
                .copied()
                .chain(u.iter().flatten().copied())
                .chain([log_v, log_tau])
                .collect();
            let g: Vec<f64> = gt
                .iter()
                .copied()
                .chain(gradient_u.iter().flatten().copied())
                .chain([glv, glt])
                .collect();
            adam.step(&mut x, &g);
            theta.copy_from_slice(&x[..n_theta]);
            for f in 0..disc.fields {
                u[f].copy_from_slice(&x[n_theta + f * n..n_theta + (f + 1) * n]);
            }
            log_v = x[x.len() - 2];
            log_tau = x[x.len() - 1];
        } else {
            adam.step(&mut theta, &gt);
        }
    }
    let mut solution = kept.ok_or(Error::InvalidParameter {
        name: "iterations",
        reason: "must be at least 1".into(),
    })?;
    solution.report.iterations = done;
    Ok(solution)
}
