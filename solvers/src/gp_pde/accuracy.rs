//! Measuring a [`Solution`] against its problem's exact solution, one way for every caller (the command
//! line, the examples, the Python bindings): relative L2 errors on the test grid.

use super::problem::Problem;
use super::solution::Solution;
use crate::{Error, Result};

/// Test points per axis where errors are measured: the paper's 300 in 1D; 100 per axis in 2D and 3D
/// (10⁴ points, plenty for an L2 norm).
pub fn test_points_per_axis(dims: usize) -> usize {
    if dims == 1 { 300 } else { 100 }
}

/// `‖p − e‖₂ / ‖e‖₂` of `predicted` against `exact` (one flattened array per field), over all fields
/// together and per field. A zero exact solution divides by the smallest positive float instead.
pub fn relative_errors(predicted: &[Vec<f64>], exact: &[Vec<f64>]) -> (f64, Vec<f64>) {
    let sq = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
    let norm = |a: &[f64]| a.iter().map(|x| x * x).sum::<f64>();
    let per: Vec<f64> = predicted
        .iter()
        .zip(exact)
        .map(|(p, e)| (sq(p, e) / norm(e).max(f64::MIN_POSITIVE)).sqrt())
        .collect();
    let num: f64 = predicted.iter().zip(exact).map(|(p, e)| sq(p, e)).sum();
    let den: f64 = exact.iter().map(|e| norm(e)).sum();
    ((num / den.max(f64::MIN_POSITIVE)).sqrt(), per)
}

/// The exact solution of every field on the tensor grid of `axes` ([`Problem::exact_on`]), refused
/// where it is not finite: a pole or a typo in it cannot measure an error.
///
/// # Errors
/// [`Problem::exact_on`]'s; [`Error::InvalidParameter`] `exact` naming the field and the first test point
/// (row-major) where it is not finite.
pub fn finite_exact_on(problem: &Problem, axes: &[Vec<f64>]) -> Result<Option<Vec<Vec<f64>>>> {
    let exact = problem.exact_on(axes)?;
    if let Some((f, i)) = exact
        .iter()
        .flatten()
        .enumerate()
        .find_map(|(f, e)| e.iter().position(|v| !v.is_finite()).map(|i| (f, i)))
    {
        return Err(Error::InvalidParameter {
            name: "exact",
            reason: format!(
                "the exact solution of field `{}` is not finite at test point {i} (row-major on the {} grid)",
                problem.fields()[f],
                axes.iter().map(|a| a.len().to_string()).collect::<Vec<_>>().join(" × ")
            ),
        });
    }
    Ok(exact)
}

/// The relative L2 errors of `solution` on `problem`'s test grid ([`test_points_per_axis`]), over all
/// fields and per field ([`relative_errors`]), or `None` when the problem gives no exact solution.
///
/// # Errors
/// [`finite_exact_on`]'s and [`Solution::predict_fields`]'s.
pub fn test_errors(problem: &Problem, solution: &Solution) -> Result<Option<(f64, Vec<f64>)>> {
    let axes = problem.test_points(test_points_per_axis(problem.axes().len()));
    let Some(exact) = finite_exact_on(problem, &axes)? else {
        return Ok(None);
    };
    Ok(Some(relative_errors(&solution.predict_fields(&axes)?, &exact)))
}
