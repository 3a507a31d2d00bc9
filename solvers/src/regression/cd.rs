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
//!   `(pⱼ − |x̃ⱼᵀθ|)/‖x̃ⱼ‖`) plus the current support, to a gap of 0.3× the outer gap (checked after the
//!   first epoch, then every 5). The set holds the support and as many again of the best-scored features
//!   (celer's pruning rule), and at least 10 and the support plus the zero coefficients that violate their
//!   optimality condition (at most `n` of them: a Lasso solution has at most `n` non-zeros); it doubles
//!   instead when the outer gap fell by less than half since the last outer iteration, so the method ends
//!   with the full problem at worst. (Doubling at every outer iteration grew the set to 50× the support on
//!   wide problems, where the inner solves then spent most of the time.)
//! * **An exact finisher** (`polish.rs`): once the tolerance is met or the epoch cap reached, feature-sign
//!   search from the last iterate lands on the optimum to round-off (kept only where it lowers the stopping
//!   measure), so that equal problems posed differently (weights or repeated rows, dense or sparse) give
//!   the same answer, and a crawl on an ill-conditioned design still ends converged.

use sparsimony_core::Report;

use super::design::{Design, Residual};
use super::gap::{Params, Solved, aug_grad, full_gradient, gap_info, objective};
use crate::Result;

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

/// The state for `w` built from scratch (features outside `ws` must be zero).
fn residual_of<D: Design>(x: &D, y: &[f64], w: &[f64], ws: &[usize]) -> Residual {
    let mut r = x.residual(y);
    for &j in ws {
        if w[j] != 0.0 {
            x.col_axpy(j, w[j], &mut r);
        }
    }
    r
}

/// Epochs between Anderson extrapolations (and inner gap checks).
const ANDERSON_K: usize = 5;

/// Anderson extrapolation of the last `K + 1` working-set iterates (as skglm's `AndersonCD`, after
/// Bertrand & Massias, AISTATS 2021): the affine combination of the iterates whose successive differences
/// combine to the smallest norm. Returns `None` when the small `K × K` system is singular.
fn anderson(history: &[Vec<f64>]) -> Option<Vec<f64>> {
    let k = history.len() - 1;
    let diffs: Vec<Vec<f64>> = (0..k)
        .map(|i| history[i + 1].iter().zip(&history[i]).map(|(a, b)| a - b).collect())
        .collect();
    let mut c = vec![0.0; k * k];
    for a in 0..k {
        for b in 0..=a {
            let v: f64 = diffs[a].iter().zip(&diffs[b]).map(|(u, v)| u * v).sum();
            c[a + b * k] = v;
            c[b + a * k] = v;
        }
    }
    let trace: f64 = (0..k).map(|i| c[i + i * k]).sum();
    if trace == 0.0 {
        return None;
    }
    (0..k).for_each(|i| c[i + i * k] += 1e-12 * trace); // Tikhonov, for nearly parallel differences
    let mut m = sparsimony_core::operator::DenseColMajorMut::new(&mut c, k, k).ok()?;
    sparsimony_core::linalg::cholesky_in_place(&mut m).ok()?;
    let mut z = vec![1.0; k];
    sparsimony_core::linalg::cholesky_solve(m.as_ref(), &mut z).ok()?;
    let s: f64 = z.iter().sum();
    if s == 0.0 || !s.is_finite() {
        return None;
    }
    let len = history[0].len();
    Some(
        (0..len)
            .map(|i| (0..k).map(|a| z[a] / s * history[a + 1][i]).sum())
            .collect(),
    )
}

/// Minimises `P` over `w` (a warm start, updated in place) with the state `r` consistent with `w`.
pub(crate) fn solve<D: Design>(x: &D, y: &[f64], w: &mut [f64], r: &mut Residual, p: &Params<'_>) -> Result<Solved> {
    let (n, d) = (x.nrows(), x.ncols());
    let nf = n as f64;
    let a: Vec<f64> = (0..d).map(|j| x.col_norm2(j) / nf).collect();
    let all: Vec<usize> = (0..d).collect();
    let mut active = vec![true; d]; // not screened out
    let mut xtr = vec![0.0; d];
    let mut epochs = 0;
    let mut ws_size = 0usize;
    let mut last_outer = f64::INFINITY;
    // Set when the caller asks the fit to stop (see `interrupt`): the current iterate is returned.
    let mut stopped = false;
    loop {
        // Outer iteration: full gap, screening, new working set.
        full_gradient(x, r, &active, &mut xtr);
        let (r2, ry) = x.stats(r, y, w);
        let info = gap_info(n, r2, ry, w, &xtr, &a, &all, p);
        let ((measure, tolerance), reached) = (p.stopping(), p.measured(&info));
        if reached <= tolerance || epochs >= p.max_epochs || stopped {
            // Polished when converged or at the epoch cap (kept only where it improves the measure, so
            // a cap reached near the optimum can still end converged; the solve costs at most
            // `POLISH_MAX_WORK`, a few epochs on the support), not when stopped from outside, which must
            // return at once.
            let info = if !stopped {
                super::polish::polish(x, y, w, r, &mut xtr, &a, &active, p, reached).unwrap_or(info)
            } else {
                info
            };
            return Ok(Solved {
                objective: info.objective,
                report: Report::new(epochs, measure, p.measured(&info), tolerance),
            });
        }
        // Radius of the gap-safe sphere around θ: √(2·gap)/λ in the unnormalised scaling (λ = n·l1).
        let radius = if p.l1 > 0.0 {
            (2.0 * info.gap * nf).sqrt() / (nf * p.l1)
        } else {
            f64::INFINITY
        };
        let mut scores: Vec<(f64, usize)> = Vec::with_capacity(d);
        let mut violating = 0usize; // zero coefficients that are not optimal at zero
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
            let g = if p.positive { g } else { g.abs() };
            let corr = info.theta_scale * g;
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
            violating += usize::from(w[j] == 0.0 && g > nf * p.l1 * pj);
            scores.push((if w[j] != 0.0 { f64::NEG_INFINITY } else { score }, j));
        }
        let support = scores.iter().filter(|(s, _)| *s == f64::NEG_INFINITY).count();
        let stalled = reached > 0.5 * last_outer;
        last_outer = reached;
        ws_size = if stalled { 2 * ws_size } else { 0 }
            .max(2 * support)
            .max((support + violating).min(n))
            .max(10)
            .min(scores.len());
        if ws_size < scores.len() {
            scores.select_nth_unstable_by(ws_size - 1, |a, b| a.0.total_cmp(&b.0));
        }
        let mut ws: Vec<usize> = scores[..ws_size].iter().map(|&(_, j)| j).collect();
        ws.sort_unstable();

        // Inner iterations: coordinate descent on the working set, Anderson-extrapolated every K epochs,
        // to 0.3 × the outer gap (or gradient).
        let tol_in = (0.3 * reached).max(tolerance);
        let mut history: Vec<Vec<f64>> = Vec::with_capacity(ANDERSON_K + 1);
        let mut inner_epochs = 0;
        loop {
            for &j in &ws {
                update(x, j, a[j], w, r, p);
            }
            epochs += 1;
            inner_epochs += 1;
            if super::interrupt::stop_requested() {
                stopped = true;
                break;
            }
            history.push(ws.iter().map(|&j| w[j]).collect());
            // The gap is checked after the first epoch (on well-conditioned working sets one is often
            // enough, as skglm finds) and then with every extrapolation.
            let full = history.len() > ANDERSON_K;
            if !full && inner_epochs > 1 && epochs < p.max_epochs {
                continue;
            }
            if full {
                if let Some(extrapolated) = anderson(&history).filter(|e| !p.positive || e.iter().all(|v| *v >= 0.0)) {
                    let mut candidate = w.to_vec();
                    ws.iter().zip(&extrapolated).for_each(|(&j, &v)| candidate[j] = v);
                    let r_cand = residual_of(x, y, &candidate, &ws);
                    let now = objective(nf, x.stats(r, y, w).0, w, p);
                    if objective(nf, x.stats(&r_cand, y, &candidate).0, &candidate, p) < now {
                        w.copy_from_slice(&candidate);
                        *r = r_cand;
                    }
                }
                history.clear();
            }
            for &j in &ws {
                xtr[j] = x.col_dot(j, r);
            }
            let (r2, ry) = x.stats(r, y, w);
            let inner = gap_info(n, r2, ry, w, &xtr, &a, &ws, p);
            if p.measured(&inner) <= tol_in || epochs >= p.max_epochs {
                break;
            }
        }
    }
}
