//! Coordinate descent for the elastic net with working sets and gap-safe screening.
//!
//! The problem, in scikit-learn's scaling, with per-feature weights `pⱼ ≥ 0` (glmnet's `penalty.factor`):
//!
//! ```text
//!     P(w) = 1/(2n) ‖r‖² + l1 Σⱼ pⱼ |wⱼ| + (l2/2) Σⱼ pⱼ wⱼ²,    r = y − X w   (X, y centred with an intercept)
//! ```
//!
//! * **Duality gap.** Writing the elastic net as a Lasso on the augmented design `[X; √(n·l2·P)]`, the
//!   residual rescaled to be dual feasible gives `θ` and the gap `P(w) − D(θ)` (scikit-learn's formula,
//!   extended to weights; unpenalised features are left out of the dual norm, as skglm does).
//! * **Gap-safe screening** (Fercoq, Gramfort & Salmon, ICML 2015; Ndiaye et al., JMLR 2017): a feature with
//!   `|x̃ⱼᵀθ| + √(2·gap)·‖x̃ⱼ‖ < pⱼ` (in the unnormalised scaling) is zero at the optimum and is removed for good.
//! * **Working sets** (celer: Massias, Gramfort & Salmon, ICML 2018; skglm: Bertrand et al., NeurIPS 2022):
//!   coordinate descent runs on the features closest to their dual constraint (score
//!   `(pⱼ − |x̃ⱼᵀθ|)/‖x̃ⱼ‖`) plus the current support, to a gap of 0.3× the outer gap; the set at least doubles
//!   at every outer iteration, so the method ends with the full problem at worst.

use super::design::{Design, Residual};
use crate::{Error, Result};

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
    /// Stop when the duality gap (objective's scaling) is at most this.
    pub tol_gap: f64,
    /// Cap on coordinate-descent epochs (passes over the working set).
    pub max_epochs: usize,
}

impl Params<'_> {
    #[inline]
    fn weight(&self, j: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[j])
    }
}

/// The outcome of a solve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Report {
    pub epochs: usize,
    pub gap: f64,
    pub objective: f64,
}

/// The primal objective, the duality gap and the dual-feasibility scale `c` at `w`, for the features in
/// `features` (all of them for the full problem). `xtr[j]` must hold `X_jᵀ r` for those features.
pub(crate) struct GapInfo {
    pub objective: f64,
    pub gap: f64,
    /// `c/λ` with `λ = n·l1`: `θ = (c/λ)·r̃`, so `x̃ⱼᵀθ = scale·gⱼ`.
    pub theta_scale: f64,
}

/// Gradient of the augmented problem, unnormalised: `gⱼ = X_jᵀ r − n·l2·pⱼ·wⱼ`.
#[inline]
fn aug_grad(xtr_j: f64, n: f64, l2: f64, p: f64, w: f64) -> f64 {
    xtr_j - n * l2 * p * w
}

pub(crate) fn gap_info(r: &[f64], y: &[f64], w: &[f64], xtr: &[f64], features: &[usize], p: &Params<'_>) -> GapInfo {
    let n = r.len() as f64;
    let lambda = n * p.l1;
    let r2: f64 = r.iter().map(|v| v * v).sum();
    let ry: f64 = r.iter().zip(y).map(|(a, b)| a * b).sum();
    let (mut l1n, mut l2n) = (0.0, 0.0);
    for (j, &wj) in w.iter().enumerate() {
        let pj = p.weight(j);
        l1n += pj * wj.abs();
        l2n += pj * wj * wj;
    }
    let mut dual_norm = 0.0f64;
    for &j in features {
        let pj = p.weight(j);
        if pj > 0.0 {
            let g = aug_grad(xtr[j], n, p.l2, pj, w[j]);
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
        gap: gap_n.max(0.0) / n,
        theta_scale,
    }
}

/// One coordinate update of feature `j`; returns the change of `wⱼ`.
#[inline]
fn update<D: Design>(x: &D, j: usize, a_j: f64, w: &mut [f64], r: &mut Residual, p: &Params<'_>) -> f64 {
    let n = x.nrows() as f64;
    let pj = p.weight(j);
    let denom = a_j + p.l2 * pj;
    let old = w[j];
    let new = if denom > 0.0 {
        let z = x.col_dot(j, r) / n + a_j * old;
        sparsimony_core::prox::soft_threshold(z, p.l1 * pj, p.positive) / denom
    } else {
        0.0 // a zero column with no ridge: the coefficient does not affect the fit
    };
    let delta = new - old;
    if delta != 0.0 {
        w[j] = new;
        x.col_axpy(j, delta, r);
    }
    delta
}

/// Minimises `P` over `w` (a warm start, updated in place) with the residual `r` consistent with `w`.
pub(crate) fn solve<D: Design>(x: &D, y: &[f64], w: &mut [f64], r: &mut Residual, p: &Params<'_>) -> Result<Report> {
    let (n, d) = (x.nrows(), x.ncols());
    let nf = n as f64;
    let a: Vec<f64> = (0..d).map(|j| x.col_norm2(j) / nf).collect();
    let all: Vec<usize> = (0..d).collect();
    let mut active = vec![true; d]; // not screened out
    let mut xtr = vec![0.0; d];
    let mut epochs = 0;
    let mut ws_size = 0usize;
    loop {
        // Outer iteration: full gap, screening, new working set.
        let rv = r.materialize();
        for &j in &all {
            xtr[j] = if active[j] { x.col_dot(j, r) } else { 0.0 };
        }
        let info = gap_info(&rv, y, w, &xtr, &all, p);
        if info.gap <= p.tol_gap {
            return Ok(Report {
                epochs,
                gap: info.gap,
                objective: info.objective,
            });
        }
        if epochs >= p.max_epochs {
            return Err(Error::NotConverged {
                iterations: epochs,
                measure: "duality gap",
                reached: info.gap,
                tolerance: p.tol_gap,
            });
        }
        // Radius of the gap-safe sphere around θ: √(2·gap)/λ in the unnormalised scaling (λ = n·l1).
        let radius = if p.l1 > 0.0 {
            (2.0 * info.gap * nf).sqrt() / (nf * p.l1)
        } else {
            f64::INFINITY
        };
        let mut scores: Vec<(f64, usize)> = Vec::with_capacity(d);
        for j in 0..d {
            if !active[j] {
                continue;
            }
            let pj = p.weight(j);
            if pj == 0.0 {
                scores.push((f64::NEG_INFINITY, j)); // unpenalised: always in the working set
                continue;
            }
            let g = aug_grad(xtr[j], nf, p.l2, pj, w[j]);
            let corr = info.theta_scale * if p.positive { g } else { g.abs() };
            let norm = (x.col_norm2(j) + nf * p.l2 * pj).sqrt();
            if corr + radius * norm < pj {
                // Gap-safe: zero at the optimum.
                active[j] = false;
                if w[j] != 0.0 {
                    x.col_axpy(j, -w[j], r);
                    w[j] = 0.0;
                }
                continue;
            }
            let score = if norm > 0.0 { (pj - corr) / norm } else { f64::INFINITY };
            scores.push((if w[j] != 0.0 { f64::NEG_INFINITY } else { score }, j));
        }
        let support = scores.iter().filter(|(s, _)| *s == f64::NEG_INFINITY).count();
        ws_size = (2 * ws_size).max(2 * support).max(10).min(scores.len());
        if ws_size < scores.len() {
            scores.select_nth_unstable_by(ws_size - 1, |a, b| a.0.total_cmp(&b.0));
        }
        let mut ws: Vec<usize> = scores[..ws_size].iter().map(|&(_, j)| j).collect();
        ws.sort_unstable();

        // Inner iterations: coordinate descent on the working set to 0.3 × the outer gap.
        let tol_in = (0.3 * info.gap).max(p.tol_gap);
        loop {
            for _ in 0..10 {
                for &j in &ws {
                    update(x, j, a[j], w, r, p);
                }
                epochs += 1;
            }
            let rv = r.materialize();
            for &j in &ws {
                xtr[j] = x.col_dot(j, r);
            }
            let inner = gap_info(&rv, y, w, &xtr, &ws, p);
            if inner.gap <= tol_in || epochs >= p.max_epochs {
                break;
            }
        }
    }
}
