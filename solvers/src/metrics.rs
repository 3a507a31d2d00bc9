//! Scores of fitted models, as scikit-learn computes them.

use ndarray::ArrayView1;

/// scikit-learn's `r2_score` (with `force_finite`): `R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²`; for a constant `y`,
/// 1 when predicted exactly and 0 otherwise. `y` and `pred` must have the same length (extra entries of
/// the longer one are ignored).
pub fn r2_score(y: ArrayView1<'_, f64>, pred: ArrayView1<'_, f64>) -> f64 {
    let mean = y.sum() / y.len() as f64;
    let ss_res: f64 = y.iter().zip(pred).map(|(a, b)| (a - b) * (a - b)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean) * (a - mean)).sum();
    match (ss_tot > 0.0, ss_res > 0.0) {
        (true, _) => 1.0 - ss_res / ss_tot,
        (false, false) => 1.0,
        (false, true) => 0.0,
    }
}
