//! The elastic net's objective and its duality gap, the stopping measure shared by coordinate descent
//! (`cd.rs`), FISTA (`fista.rs`) and the exact finisher (`polish.rs`): the penalty and tolerance
//! parameters of a solve, the gap at an iterate (scikit-learn's formula extended to penalty weights, see
//! `cd.rs`) and the gradient `Xᵀr` it is computed from.

use sparsimony_core::{Measure, Report};

use super::design::{Design, Residual};

/// Penalty and stopping parameters of one coordinate-descent solve.
#[derive(Debug, Clone)]
pub(crate) struct Params<'a> {
    /// `l1 = α·ρ`.
    pub l1: f64,
    /// `l2 = α·(1 − ρ)`.
    pub l2: f64,
    /// Per-feature weights (`None`: all 1).
    pub weights: Option<&'a [f64]>,
    /// Constrain `w ≥ 0`.
    pub positive: bool,
    /// Stop when the duality gap (objective's scaling) is at most this (with an ℓ1 penalty).
    pub tol_gap: f64,
    /// Without an ℓ1 penalty (least squares, ridge), where the duality gap degenerates to the objective:
    /// stop when the largest gradient component `|X_jᵀr − n·l2·p_j·w_j|` (projected under `w ≥ 0`) is at
    /// most this.
    pub tol_gradient: f64,
    /// Cap on coordinate-descent epochs (passes over the working set).
    pub max_epochs: usize,
}

impl Params<'_> {
    #[inline]
    pub(crate) fn weight(&self, j: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[j])
    }

    /// The stopping measure and its tolerance: the duality gap with an ℓ1 penalty, the largest gradient
    /// component without one.
    pub(crate) fn stopping(&self) -> (Measure, f64) {
        if self.l1 > 0.0 {
            (Measure::DualityGap, self.tol_gap)
        } else {
            (Measure::Gradient, self.tol_gradient)
        }
    }

    /// The stopping measure's value in `info`.
    pub(crate) fn measured(&self, info: &GapInfo) -> f64 {
        if self.l1 > 0.0 { info.gap } else { info.gradient }
    }
}

/// The outcome of a solve: the objective at the returned `w` and the report, judged by the duality gap
/// (unconverged when the epoch cap came first; `w` then holds the last iterate).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Solved {
    pub objective: f64,
    pub report: Report,
}

/// The primal objective, the duality gap and the dual scaling at `w`, for the features in `features` (all of
/// them for the full problem). `xtr[j]` must hold `X_jᵀ r` for those features; `(r2, ry) = (‖r‖², rᵀy)`.
pub(crate) struct GapInfo {
    pub objective: f64,
    pub gap: f64,
    /// `c/λ` with `λ = n·l1`: `θ = (c/λ)·r̃`, so `x̃ⱼᵀθ = theta_scale·gⱼ`.
    pub theta_scale: f64,
    /// The largest (projected) gradient component `|X_jᵀr − n·l2·p_j·w_j|` over the features.
    pub gradient: f64,
}

/// Gradient of the augmented problem, unnormalised: `gⱼ = X_jᵀ r − n·l2·pⱼ·wⱼ`.
#[inline]
pub(crate) fn aug_grad(xtr_j: f64, n: f64, l2: f64, p: f64, w: f64) -> f64 {
    xtr_j - n * l2 * p * w
}

/// `(Σ pⱼ|wⱼ|, Σ pⱼwⱼ²)`.
fn penalty_norms(w: &[f64], p: &Params<'_>) -> (f64, f64) {
    w.iter().enumerate().fold((0.0, 0.0), |(a, b), (j, &wj)| {
        let pj = p.weight(j);
        (a + pj * wj.abs(), b + pj * wj * wj)
    })
}

/// The objective `1/(2n)‖r‖² + l1 Σ pⱼ|wⱼ| + (l2/2) Σ pⱼwⱼ²` from `‖r‖²`.
pub(crate) fn objective(n: f64, r2: f64, w: &[f64], p: &Params<'_>) -> f64 {
    let (l1n, l2n) = penalty_norms(w, p);
    r2 / (2.0 * n) + p.l1 * l1n + 0.5 * p.l2 * l2n
}

/// The [`GapInfo`] at `w`; `a[j] = ‖X_j‖²/n`.
///
/// Unpenalised features (`pⱼ = 0`) put equality constraints `x̃ⱼᵀθ = 0` on the dual that the rescaled
/// residual does not meet, so they are left out of the dual norm (as skglm does) and the gap gains instead
/// a stationarity term for them: `Σ (gⱼ/n)²/(2aⱼ)`, what optimising each of them alone would still gain.
/// Without it, a gap tolerance could be met while an unpenalised coefficient is still off its optimum.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gap_info(
    n: usize,
    r2: f64,
    ry: f64,
    w: &[f64],
    xtr: &[f64],
    a: &[f64],
    features: &[usize],
    p: &Params<'_>,
) -> GapInfo {
    let n = n as f64;
    let lambda = n * p.l1;
    let (l1n, l2n) = penalty_norms(w, p);
    let mut dual_norm = 0.0f64;
    let mut gradient = 0.0f64;
    let mut unpenalised = 0.0f64;
    for &j in features {
        let pj = p.weight(j);
        let g = aug_grad(xtr[j], n, p.l2, pj, w[j]);
        // Under w ≥ 0, a coefficient at 0 whose gradient points below 0 is optimal there.
        let projected = if p.positive && w[j] == 0.0 { g.max(0.0) } else { g.abs() };
        gradient = gradient.max(projected);
        if pj == 0.0 && a[j] > 0.0 {
            unpenalised += (projected / n).powi(2) / (2.0 * a[j]);
        }
        if pj > 0.0 {
            let g = if p.positive { g.max(0.0) } else { g.abs() };
            dual_norm = dual_norm.max(g / pj);
        }
    }
    let c = if dual_norm > lambda && dual_norm > 0.0 {
        lambda / dual_norm
    } else {
        1.0
    };
    let gap_n = 0.5 * (r2 + n * p.l2 * l2n) * (1.0 + c * c) + lambda * l1n - c * ry;
    let objective = r2 / (2.0 * n) + p.l1 * l1n + 0.5 * p.l2 * l2n;
    let theta_scale = if lambda > 0.0 { c / lambda } else { 0.0 };
    GapInfo {
        objective,
        gap: gap_n.max(0.0) / n + unpenalised,
        theta_scale,
        gradient,
    }
}

/// `xtr[j] = X_jᵀr` for every feature not screened out (`active`), 0 for the others.
pub(crate) fn full_gradient<D: Design>(x: &D, r: &Residual, active: &[bool], xtr: &mut [f64]) {
    for (j, g) in xtr.iter_mut().enumerate() {
        *g = if active[j] { x.col_dot(j, r) } else { 0.0 };
    }
}
