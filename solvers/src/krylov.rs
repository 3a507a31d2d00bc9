//! Preconditioned conjugate gradients over vectors made of several fields (a model's parameter blocks
//! stacked), shared by the Gauss–Newton steps of the GP-PDE solver and of radio self-calibration.

/// The inner product of two vectors of fields (field by field, then summed in order).
pub(crate) fn dot(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>())
        .sum()
}

/// Iterations without progress after which [`conjugate_gradients`] stops.
const STALL: usize = 500;

/// Preconditioned conjugate gradients on `H δ = −g` (all fields stacked), to a relative residual
/// `tolerance`, `cap` iterations, or a stall (`STALL` iterations in which the residual's norm has not
/// halved); returns δ, the iterations used and the relative residual reached.
pub(crate) fn conjugate_gradients(
    apply: impl Fn(&[Vec<f64>]) -> Vec<Vec<f64>>,
    precondition: impl Fn(&[Vec<f64>]) -> Vec<Vec<f64>>,
    g: &[Vec<f64>],
    tolerance: f64,
    cap: usize,
) -> (Vec<Vec<f64>>, usize, f64) {
    let mut x: Vec<Vec<f64>> = g.iter().map(|v| vec![0.0; v.len()]).collect();
    let mut r: Vec<Vec<f64>> = g.iter().map(|v| v.iter().map(|a| -a).collect()).collect();
    let mut z = precondition(&r);
    let mut p = z.clone();
    let mut rz = dot(&r, &z);
    let r0 = dot(&r, &r);
    let (mut best, mut best_at) = (r0, 0);
    for it in 0..cap {
        let rr = dot(&r, &r);
        // Round-off bounds the reachable residual: stop when it has not halved in `STALL` iterations.
        if rr < 0.25 * best {
            (best, best_at) = (rr, it);
        } else if it - best_at >= STALL {
            return (x, it, (rr / r0).sqrt());
        }
        // Stopped from outside (Ctrl-C in Python; see `regression::interrupt`): the iterate so far.
        if rr <= tolerance * tolerance * r0 || rr == 0.0 || crate::regression::interrupt::stop_requested() {
            return (x, it, (rr / r0).sqrt());
        }
        let hp = apply(&p);
        let alpha = rz / dot(&p, &hp);
        for f in 0..x.len() {
            for i in 0..x[f].len() {
                x[f][i] += alpha * p[f][i];
                r[f][i] -= alpha * hp[f][i];
            }
        }
        z = precondition(&r);
        let rz_new = dot(&r, &z);
        let beta = rz_new / rz;
        rz = rz_new;
        for f in 0..x.len() {
            for i in 0..x[f].len() {
                p[f][i] = z[f][i] + beta * p[f][i];
            }
        }
    }
    let rr = dot(&r, &r);
    (x, cap, (rr / r0).sqrt())
}
