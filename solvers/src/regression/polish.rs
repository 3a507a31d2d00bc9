//! The exact finisher of coordinate descent: feature-sign search from the last iterate.
//!
//! Coordinate descent stops anywhere within its tolerance, at a point that depends on the order of its
//! updates and on round-off, and on ill-conditioned designs (more features than distinct rows, a small
//! `α`) it crawls: two mathematically equal problems (rows repeated, or weighted by their counts) then
//! end far apart, even where the fitted values are unique. On a support with its signs fixed the
//! stationarity condition is linear,
//!
//! ```text
//!     (X_SᵀX_S + n·l2·P_S) w_S = X_Sᵀy − n·l1·P_S·s_S,
//! ```
//!
//! so the optimum is reached exactly by the feature-sign search of Lee, Battle, Raina & Ng (NIPS 2006,
//! "Efficient sparse coding algorithms"): solve that system, walk from the iterate towards its solution
//! and stop at the best of the points where a coefficient crosses zero (the objective falls strictly;
//! a coefficient that reaches zero leaves the support); once the solution keeps its signs, add the zero
//! coefficient that violates its optimality condition most, with the sign of its gradient, and repeat.
//! Started from coordinate descent's iterate, a few rounds suffice. The result is kept only where its
//! stopping measure is no worse than the iterate's, so the finisher can never make a fit worse.

use super::design::{Design, Residual};
use super::gap::{GapInfo, Params, full_gradient, gap_info};

/// The largest support the finisher solves for.
const MAX_SUPPORT: usize = 1000;

/// The most floating-point operations the finisher spends: forming `X_SᵀX_S` (`|S|²·rows`) and the
/// eigendecompositions of its rounds (`|S|³` each).
const MAX_WORK: f64 = 4e9;

/// Rounds of feature-sign search (each a restricted solve and a line search).
const MAX_ROUNDS: usize = 100;

/// The columns the finisher works on, with their Gram matrix and `X_Sᵀy` (grown as features join).
struct Restricted {
    /// Feature indices (positions in the design).
    cols: Vec<usize>,
    /// `X_SᵀX_S`, row `i` holding the products of column `cols[i]` with every column.
    gram: Vec<Vec<f64>>,
    /// `X_jᵀy` (centred, as the design defines it) for each column.
    xty: Vec<f64>,
}

impl Restricted {
    /// Adds feature `j`; `w`, `xtr` must be current (`xtr[j] = X_jᵀr`, `r = y − X w`) and, for its
    /// `X_jᵀy` to be right, `w` supported on the columns already in. Returns the products spent.
    fn add<D: Design>(&mut self, x: &D, j: usize, w: &[f64], xtr: &[f64]) -> f64 {
        let mut column = x.zero_state();
        x.col_axpy(j, -1.0, &mut column);
        let mut row: Vec<f64> = self.cols.iter().map(|&c| x.col_dot(c, &column)).collect();
        row.push(x.col_dot(j, &column));
        for (i, g) in self.gram.iter_mut().enumerate() {
            g.push(row[i]);
        }
        let xty = xtr[j] + self.cols.iter().zip(&row).map(|(&c, &g)| g * w[c]).sum::<f64>();
        self.cols.push(j);
        self.gram.push(row);
        self.xty.push(xty);
        (self.cols.len() * x.state_len()) as f64
    }

    /// The objective (up to the constant `‖y‖²/(2n)`) at values `v` on `cols`.
    fn objective(&self, v: &[f64], nf: f64, p: &Params<'_>) -> f64 {
        let mut f = 0.0;
        for (i, &vi) in v.iter().enumerate() {
            if vi == 0.0 {
                continue;
            }
            let mv: f64 = self.gram[i].iter().zip(v).map(|(g, u)| g * u).sum();
            let pj = p.weight(self.cols[i]);
            f += (0.5 * vi * mv - vi * self.xty[i]) / nf + p.l1 * pj * vi.abs() + 0.5 * p.l2 * pj * vi * vi;
        }
        f
    }
}

/// Runs feature-sign search from `w` (with `r`, `xtr` consistent with it) and returns the [`GapInfo`] of
/// its result when that result's stopping measure is at most `reached` (then `w`, `r` and `xtr` hold it);
/// otherwise restores `w`, `r`, `xtr` and returns `None`. `a[j] = ‖X_j‖²/n`; `active` marks the features
/// not screened out. Skipped (`None`) for supports above [`MAX_SUPPORT`] or work above [`MAX_WORK`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn polish<D: Design>(
    x: &D,
    y: &[f64],
    w: &mut [f64],
    r: &mut Residual,
    xtr: &mut [f64],
    a: &[f64],
    active: &[bool],
    p: &Params<'_>,
    reached: f64,
) -> Option<GapInfo> {
    let (n, d) = (x.nrows(), x.ncols());
    let nf = n as f64;
    let support: Vec<usize> = (0..d).filter(|&j| w[j] != 0.0).collect();
    let k = support.len();
    if k > MAX_SUPPORT || (k * k) as f64 * x.state_len() as f64 > MAX_WORK {
        return None;
    }
    let (saved_w, saved_r, saved_xtr) = (w.to_vec(), r.clone(), xtr.to_vec());
    let mut set = Restricted {
        cols: Vec::with_capacity(k + 1),
        gram: Vec::with_capacity(k + 1),
        xty: Vec::with_capacity(k + 1),
    };
    let mut work = 0.0;
    for &j in &support {
        work += set.add(x, j, w, xtr);
    }
    // `add` counts the columns present when each joined; the support's `X_Sᵀy` needs all of them.
    for (i, &j) in support.iter().enumerate() {
        set.xty[i] = xtr[j] + set.gram[i].iter().zip(&support).map(|(g, &c)| g * w[c]).sum::<f64>();
    }
    // The signs the restricted system is solved with: those of the values, or of the gradient for a
    // feature that joined at zero (0 for an unpenalised one).
    let mut signs: Vec<f64> = support.iter().map(|&j| w[j].signum()).collect();
    let mut member: Vec<bool> = vec![true; k];
    let mut last_added = None;
    for _ in 0..MAX_ROUNDS {
        let q = member.iter().filter(|&&m| m).count();
        work += (q * q * q) as f64; // a Cholesky factorisation's 1/3 q³, an eigendecomposition's ~9 q³ rarely
        if work > MAX_WORK {
            break;
        }
        let current: Vec<f64> = set.cols.iter().map(|&j| w[j]).collect();
        let f_now = set.objective(&current, nf, p);
        let (target, null) = if q == 0 {
            (vec![0.0; current.len()], None)
        } else if let Some(solved) = solve_restricted(&set, &member, &signs, &current, nf, p) {
            solved
        } else {
            break;
        };
        // More non-zeros than the design's rank, with signs no solution holds: the objective falls
        // linearly along the null direction until a coefficient reaches zero, which leaves the support.
        if let Some(next) = null.and_then(|dir| null_step(&set, &current, &dir, &member, p))
            && set.objective(&next, nf, p) < f_now
        {
            apply(x, r, w, &set, &mut member, &mut signs, &next);
            continue;
        }
        let (next, full) = line_search(&set, &current, &target, &member, nf, p);
        // A full step to the restricted optimum is taken unless it raises the objective beyond round-off
        // (near the optimum the decrease is below what the objective can resolve).
        let f_next = set.objective(&next, nf, p);
        let improved = f_next < f_now || (full && f_next <= f_now + 1e-13 * f_now.abs().max(f64::MIN_POSITIVE));
        let improved = improved && next != current;
        if improved {
            apply(x, r, w, &set, &mut member, &mut signs, &next);
        }
        if improved && !full {
            continue; // a coefficient reached zero: solve again on the smaller support
        }
        // The support is solved exactly: add the zero coefficient that most violates its condition.
        full_gradient(x, r, active, xtr);
        work += x.state_len() as f64 * d as f64;
        let Some((j, sign)) = worst_violator(w, xtr, a, active, nf, p) else {
            break; // optimal
        };
        if !improved && last_added == Some(j) {
            break; // the feature added last could not lower the objective: round-off, stop
        }
        last_added = Some(j);
        match set.cols.iter().position(|&c| c == j) {
            Some(i) => {
                member[i] = true;
                signs[i] = sign;
            }
            None => {
                if set.cols.len() >= MAX_SUPPORT {
                    break;
                }
                work += set.add(x, j, w, xtr);
                member.push(true);
                signs.push(sign);
            }
        }
    }
    full_gradient(x, r, active, xtr);
    let all: Vec<usize> = (0..d).collect();
    let (r2, ry) = x.stats(r, y, w);
    let info = gap_info(n, r2, ry, w, xtr, a, &all, p);
    if p.measured(&info) <= reached {
        return Some(info);
    }
    w.copy_from_slice(&saved_w);
    *r = saved_r;
    xtr.copy_from_slice(&saved_xtr);
    None
}

/// Moves `w` (and `r`) to `next` on the columns of `set`; a member that reached zero leaves, the others
/// take the signs of their values.
fn apply<D: Design>(
    x: &D,
    r: &mut Residual,
    w: &mut [f64],
    set: &Restricted,
    member: &mut [bool],
    signs: &mut [f64],
    next: &[f64],
) {
    for (i, &j) in set.cols.iter().enumerate() {
        if next[i] != w[j] {
            x.col_axpy(j, next[i] - w[j], r);
            w[j] = next[i];
        }
        if next[i] == 0.0 {
            member[i] = false;
        } else {
            signs[i] = next[i].signum();
        }
    }
}

/// The point where the walk from `current` along `dir` (a null direction of the restricted system) first
/// carries a member's coefficient (penalised, or under `w ≥ 0`) to zero, that coefficient set to exactly
/// zero; `None` when no coefficient crosses.
fn null_step(set: &Restricted, current: &[f64], dir: &[f64], member: &[bool], p: &Params<'_>) -> Option<Vec<f64>> {
    let (t, i) = (0..current.len())
        .filter(|&i| member[i] && current[i] != 0.0 && current[i] * dir[i] < 0.0)
        .filter(|&i| p.positive || p.l1 * p.weight(set.cols[i]) > 0.0)
        .map(|i| (-current[i] / dir[i], i))
        .min_by(|a, b| a.0.total_cmp(&b.0))?;
    let mut next: Vec<f64> = current.iter().zip(dir).map(|(c, d)| c + t * d).collect();
    next[i] = 0.0;
    (!p.positive || next.iter().all(|&v| v >= 0.0)).then_some(next)
}

/// The zero, unscreened coefficient whose optimality condition is violated most (relative to its
/// column's norm), with the sign it should take: `|X_jᵀr| > n·l1·pⱼ` (`X_jᵀr > n·l1·pⱼ` under `w ≥ 0`),
/// beyond a relative margin of `1e-9` so that round-off cannot make the search cycle.
fn worst_violator(w: &[f64], xtr: &[f64], a: &[f64], active: &[bool], nf: f64, p: &Params<'_>) -> Option<(usize, f64)> {
    let mut best: Option<(f64, usize, f64)> = None;
    for j in 0..w.len() {
        if !active[j] || w[j] != 0.0 || a[j] <= 0.0 {
            continue;
        }
        let g = xtr[j];
        let g = if p.positive { g.max(0.0) } else { g };
        let bound = nf * p.l1 * p.weight(j);
        let excess = g.abs() - bound * (1.0 + 1e-9);
        if excess <= 1e-12 * nf * a[j].sqrt() {
            continue;
        }
        let score = excess / (nf * a[j]).sqrt();
        if best.is_none_or(|(s, _, _)| score > s) {
            let sign = if p.weight(j) == 0.0 { 0.0 } else { g.signum() };
            best = Some((score, j, sign));
        }
    }
    best.map(|(_, j, s)| (j, s))
}

/// The best point on the segment from `current` to `target` (the members' values; others stay zero):
/// the target, or a point where a member's coefficient crosses zero (set to exactly zero there), by the
/// objective; under `w ≥ 0` each point is clipped at zero. Returns the point and whether it is the
/// target itself (unclipped).
fn line_search(
    set: &Restricted,
    current: &[f64],
    target: &[f64],
    member: &[bool],
    nf: f64,
    p: &Params<'_>,
) -> (Vec<f64>, bool) {
    // The point at `t` with coefficient `zero` (a breakpoint) set to zero; whether it was clipped.
    let point = |t: f64, zero: Option<usize>| -> (Vec<f64>, bool) {
        let mut clipped = false;
        let v = (0..current.len())
            .map(|i| {
                let u = if member[i] && Some(i) != zero {
                    current[i] + t * (target[i] - current[i])
                } else {
                    0.0
                };
                if p.positive && u < 0.0 {
                    clipped = true;
                    0.0
                } else {
                    u
                }
            })
            .collect();
        (v, clipped)
    };
    // Breakpoints: a non-zero member coefficient (penalised, or under w ≥ 0) that the segment carries
    // through zero.
    let breaks = (0..current.len())
        .filter(|&i| member[i] && current[i] != 0.0 && current[i] * target[i] <= 0.0)
        .filter(|&i| p.positive || p.l1 * p.weight(set.cols[i]) > 0.0)
        .map(|i| (current[i] / (current[i] - target[i]), i))
        .filter(|&(t, _)| t > 0.0 && t < 1.0);
    let (mut best, clipped) = point(1.0, None);
    let mut full = !clipped;
    let mut best_f = set.objective(&best, nf, p);
    for (t, i) in breaks {
        let (v, _) = point(t, Some(i));
        let f = set.objective(&v, nf, p);
        if f < best_f {
            (best, best_f, full) = (v, f, false);
        }
    }
    (best, full)
}

/// The stationarity system on the members of `set` with signs `signs`, solved as the smallest correction
/// of `current` (non-members at zero): `Δ = M⁺ (b − n·l1·P·s − M v)`, `M⁺` the pseudo-inverse of the
/// equilibrated matrix (eigenvalues below `1e-10` of the largest left out). Returns values for every
/// column of `set` (zero off the members), or `None` when they are not finite; and, where the system is
/// inconsistent (a rank-deficient `X_S` whose range misses the right-hand side), the direction in `M`'s
/// null space along which the objective falls linearly: the right-hand side's part there.
fn solve_restricted(
    set: &Restricted,
    member: &[bool],
    signs: &[f64],
    current: &[f64],
    nf: f64,
    p: &Params<'_>,
) -> Option<(Vec<f64>, Option<Vec<f64>>)> {
    let keep: Vec<usize> = (0..member.len()).filter(|&i| member[i]).collect();
    let q = keep.len();
    let entry = |a: usize, b: usize| {
        let (ia, ib) = (keep[a], keep[b]);
        let v = set.gram[ia][ib];
        if a == b {
            v + nf * p.l2 * p.weight(set.cols[ia])
        } else {
            v
        }
    };
    let scale: Vec<f64> = (0..q)
        .map(|i| {
            let d = entry(i, i);
            if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 }
        })
        .collect();
    let base: Vec<f64> = keep.iter().map(|&i| current[i]).collect();
    let rhs: Vec<f64> = (0..q)
        .map(|a| {
            let i = keep[a];
            let mv: f64 = (0..q).map(|b| entry(a, b) * base[b]).sum();
            scale[a] * (set.xty[i] - nf * p.l1 * p.weight(set.cols[i]) * signs[i] - mv)
        })
        .collect();
    let g = faer::Mat::<f64>::from_fn(q, q, |a, b| scale[a] * entry(a, b) * scale[b]);
    let values = |z: &[f64]| {
        let mut out = vec![0.0; member.len()];
        for (a, &i) in keep.iter().enumerate() {
            out[i] = base[a] + scale[a] * z[a];
        }
        out
    };
    // The usual case, a clearly non-singular system: a Cholesky factorisation (a ninth of the
    // eigendecomposition's cost), kept when no pivot falls below 1e-8 of the largest (a pivot near zero
    // shows a dependent column; the result is checked by the duality gap in any case).
    if let Ok(llt) = g.as_ref().llt(faer::Side::Lower) {
        use faer::linalg::solvers::Solve;
        let l = llt.L();
        let pivots = (0..q).map(|i| l[(i, i)] * l[(i, i)]);
        let (lo, hi) = pivots.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if lo > 1e-8 * hi {
            let z = llt.solve(faer::MatRef::from_column_major_slice(&rhs, q, 1));
            let z: Vec<f64> = (0..q).map(|a| z[(a, 0)]).collect();
            let out = values(&z);
            return out.iter().all(|v| v.is_finite()).then_some((out, None));
        }
    }
    let evd = g.self_adjoint_eigen(faer::Side::Lower).ok()?;
    let lam = evd.S().column_vector();
    let u = evd.U();
    let top = (0..q).map(|i| lam[i]).fold(0.0f64, f64::max);
    if !(top > 0.0 && top.is_finite()) {
        return None;
    }
    let mut z = vec![0.0; q];
    let mut null = vec![0.0; q];
    for e in 0..q {
        let coef = (0..q).map(|a| u[(a, e)] * rhs[a]).sum::<f64>();
        let (target, coef) = if lam[e] <= 1e-10 * top {
            (&mut null, coef)
        } else {
            (&mut z, coef / lam[e])
        };
        for (a, ta) in target.iter_mut().enumerate() {
            *ta += coef * u[(a, e)];
        }
    }
    let out = values(&z);
    let mut dir = vec![0.0; member.len()];
    for (a, &i) in keep.iter().enumerate() {
        dir[i] = scale[a] * null[a];
    }
    let rhs_norm = rhs.iter().map(|v| v * v).sum::<f64>().sqrt();
    let null_norm = null.iter().map(|v| v * v).sum::<f64>().sqrt();
    let dir = (null_norm > 1e-12 * rhs_norm).then_some(dir);
    out.iter().all(|v| v.is_finite()).then_some((out, dir))
}
