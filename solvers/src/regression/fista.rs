//! The elastic net by FISTA with adaptive restart on the core forward–backward driver: the generic
//! proximal-gradient path (any core operator could stand in for the dense design).

use sparsimony_core::forward_backward::{FbState, minimize, scratch_len};
use sparsimony_core::prox::L1;
use sparsimony_core::{Acceleration, FbOptions, LeastSquares, LinearOperator, StepSize};

use sparsimony_core::Report;

use super::gap::{Params, Solved, gap_info};
use crate::Result;
use crate::data::ColMajor;

/// Objective and stopping measure (duality gap, or gradient without an ℓ1 penalty) at `w` for the dense
/// (centred) design `x`.
/// `a[j] = ‖X_j‖²/n`.
fn gap_at(x: &ColMajor, y: &[f64], w: &[f64], a: &[f64], p: &Params<'_>) -> (f64, f64) {
    let op = x.as_operator();
    let mut r = vec![0.0; x.nrows()];
    op.apply(w, &mut r, &mut []).expect("shapes checked by the caller");
    r.iter_mut().zip(y).for_each(|(ri, yi)| *ri = yi - *ri);
    let mut xtr = vec![0.0; x.ncols()];
    op.apply_adjoint(&r, &mut xtr, &mut [])
        .expect("shapes checked by the caller");
    let all: Vec<usize> = (0..x.ncols()).collect();
    let r2 = r.iter().map(|v| v * v).sum();
    let ry = r.iter().zip(y).map(|(a, b)| a * b).sum();
    let info = gap_info(x.nrows(), r2, ry, w, &xtr, a, &all, p);
    (info.objective, p.measured(&info))
}

/// Minimises the elastic-net objective of [`Params`] over `w` (warm start in place).
pub(crate) fn solve(x: &ColMajor, y: &[f64], w: &mut [f64], p: &Params<'_>) -> Result<Solved> {
    let (n, d) = (x.nrows(), x.ncols());
    let op = x.as_operator();
    let f = LeastSquares::new(op, y, 1.0 / n as f64)?;
    let mut g = L1::new(p.l1)?.with_ridge(p.l2)?;
    if let Some(wts) = p.weights {
        g = g.with_weights(wts)?;
    }
    if p.positive {
        g = g.nonnegative();
    }
    // max_j ‖X_j‖²/n is a lower bound of the Lipschitz constant ‖X‖²/n: backtracking starts there.
    let a: Vec<f64> = (0..d)
        .map(|j| x.col(j).iter().map(|v| v * v).sum::<f64>() / n as f64)
        .collect();
    let l0 = a.iter().copied().fold(0.0, f64::max);
    let opts = FbOptions {
        max_iter: p.max_epochs,
        tol: 0.0, // stop on the duality gap only
        acceleration: Acceleration::FistaRestart,
        step: StepSize::Backtracking {
            initial: l0.max(f64::MIN_POSITIVE),
            increase: 2.0,
        },
    };
    let (measure, tolerance) = p.stopping();
    let mut gap_reached = |s: &FbState<'_, f64>| s.iteration % 10 == 1 && gap_at(x, y, s.x, &a, p).1 <= tolerance;
    let mut scratch = vec![0.0; scratch_len(&f) + op.scratch_len()];
    // At the cap, `w` holds the last iterate, judged by its gap like any other.
    let fb = minimize(&f, &g, w, &opts, &mut scratch, Some(&mut gap_reached))?;
    let (objective, gap) = gap_at(x, y, w, &a, p);
    Ok(Solved {
        objective,
        report: Report::new(fb.iterations, measure, gap, tolerance),
    })
}
