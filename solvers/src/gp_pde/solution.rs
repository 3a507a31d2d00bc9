//! The fitted model [`solve`](super::solve) returns: the GP posterior of every field, which predicts
//! anywhere on a tensor grid, and the learned spectral mixtures by name.

use ndarray::{ArrayD, ArrayView1, IxDyn};
use sparsimony_core::Report;

use super::kernel::{Component, SpectralMixture};
use super::kron::mode_product;
use super::objective::Objective;
use crate::{Error, Result};

/// One axis of the collocation grid: `points` evenly spaced from `lower` by `step`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GridAxis {
    pub(crate) lower: f64,
    pub(crate) step: f64,
    pub(crate) points: usize,
}

/// A solved PDE: per field, the grid values and the GP posterior mean `(⊗_d k_d(x*_d, X_d)) α_f` with
/// the weights `α_f = C_f⁻¹ u_f` kept from the solve; the kernels learned per field and axis; the
/// objective and the [`Report`] of the iterate kept (the one with the lowest objective).
///
/// Grids are row-major, the first axis slowest. The report counts outer iterations; it is judged by the
/// largest relative residual at which the kept iterate's conjugate-gradient solves stopped (unconverged
/// when [`Settings::cg_iterations`](super::Settings::cg_iterations) cut one short of
/// [`Settings::cg_tolerance`](super::Settings::cg_tolerance)), or is exact when its inner systems were
/// factored (or for the paper's Adam, which has no inner solve).
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub(crate) axes: Vec<GridAxis>,
    pub(crate) kernels: Vec<Vec<SpectralMixture>>,
    pub(crate) values: Vec<Vec<f64>>,
    pub(crate) weights: Vec<Vec<f64>>,
    /// `ln v` and `ln τ`, the log precisions of the scaled equation residuals and boundary misfit.
    pub log_precisions: [f64; 2],
    /// The objective of the kept iterate.
    pub objective: Objective,
    /// How the solve ended (see the type's docs).
    pub report: Report,
}

/// One mixture component of a learned kernel, in the units of its axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LearnedComponent {
    /// Its weight: the share of the prior variance it carries.
    pub weight: f64,
    /// Its frequency `μ`, cycles per unit of the axis.
    pub frequency: f64,
    /// Its length scale `1/(2πσ)`, in units of the axis (`σ` the spectral scale).
    pub length_scale: f64,
}

/// A [`Solution`] as plain data, to save it and restore it ([`Solution::to_parts`],
/// [`Solution::from_parts`]; the Python package pickles solutions so).
#[derive(Debug, Clone, PartialEq)]
pub struct SolutionParts {
    /// Per grid axis: `(lower end, step, points)`.
    pub axes: Vec<(f64, f64, usize)>,
    /// Per field, then per axis: the learned kernel.
    pub kernels: Vec<Vec<SpectralMixture>>,
    /// Per field: the values on the grid (row-major).
    pub values: Vec<Vec<f64>>,
    /// Per field: the posterior-mean weights `α_f` on the grid (row-major).
    pub weights: Vec<Vec<f64>>,
    /// `ln v` and `ln τ`.
    pub log_precisions: [f64; 2],
    /// The objective of the kept iterate.
    pub objective: Objective,
    /// How the solve ended.
    pub report: Report,
}

impl crate::Fitted for Solution {
    fn report(&self) -> &crate::Report {
        &self.report
    }
}

impl Solution {
    /// The solution as plain data.
    pub fn to_parts(&self) -> SolutionParts {
        SolutionParts {
            axes: self.axes.iter().map(|a| (a.lower, a.step, a.points)).collect(),
            kernels: self.kernels.clone(),
            values: self.values.clone(),
            weights: self.weights.clone(),
            log_precisions: self.log_precisions,
            objective: self.objective,
            report: self.report,
        }
    }

    /// The solution [`to_parts`](Self::to_parts) gave, checked.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] `solution` for parts that do not fit together: no fields or axes, an
    /// axis with no points or a non-finite end or step, a kernel count other than one per field and axis,
    /// or values and weights not one per grid point; non-finite values or weights.
    pub fn from_parts(parts: SolutionParts) -> Result<Self> {
        let bad = |reason: String| {
            Err(Error::InvalidParameter {
                name: "solution",
                reason,
            })
        };
        let fields = parts.values.len();
        if fields == 0 || parts.axes.is_empty() {
            return bad("no fields or no axes".into());
        }
        let mut size = 1usize;
        for (d, &(lower, step, points)) in parts.axes.iter().enumerate() {
            if points == 0 || !lower.is_finite() || !(step.is_finite() && step >= 0.0) {
                return bad(format!("axis {d} is ({lower}, {step}, {points} points)"));
            }
            size = match size.checked_mul(points) {
                Some(s) => s,
                None => return bad("the grid's size overflows".into()),
            };
        }
        if parts.kernels.len() != fields || parts.kernels.iter().any(|k| k.len() != parts.axes.len()) {
            return bad("one kernel per field and axis is needed".into());
        }
        if parts.weights.len() != fields || parts.values.iter().chain(&parts.weights).any(|v| v.len() != size) {
            return bad(format!(
                "values and weights need {size} entries (the grid's points) per field"
            ));
        }
        if parts
            .values
            .iter()
            .chain(&parts.weights)
            .flatten()
            .any(|v| !v.is_finite())
        {
            return bad("values and weights must be finite".into());
        }
        Ok(Self {
            axes: parts
                .axes
                .iter()
                .map(|&(lower, step, points)| GridAxis { lower, step, points })
                .collect(),
            kernels: parts.kernels,
            values: parts.values,
            weights: parts.weights,
            log_precisions: parts.log_precisions,
            objective: parts.objective,
            report: parts.report,
        })
    }

    /// The number of fields.
    pub fn fields(&self) -> usize {
        self.values.len()
    }

    /// The collocation grid's shape (points per axis).
    pub fn grid_shape(&self) -> Vec<usize> {
        self.axes.iter().map(|a| a.points).collect()
    }

    fn check_field(&self, field: usize) -> Result<()> {
        if field < self.fields() {
            Ok(())
        } else {
            Err(Error::InvalidParameter {
                name: "field",
                reason: format!("the problem has {} field(s), got index {field}", self.fields()),
            })
        }
    }

    /// The grid values of `field`, shaped as the grid.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a field out of range.
    pub fn values(&self, field: usize) -> Result<ArrayD<f64>> {
        self.check_field(field)?;
        shaped(self.grid_shape(), self.values[field].clone())
    }

    /// The posterior mean of `field` on the tensor grid of the given coordinates per axis, shaped
    /// `(points[0].len(), points[1].len(), …)`. Points may lie anywhere (outside the domain the GP
    /// extrapolates, with the usual caution).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a field out of range or a grid whose values would take more than
    /// 16 GiB; [`Error::Shape`] for a wrong number of axes; [`Error::NonFinite`] for a non-finite
    /// coordinate.
    pub fn predict(&self, field: usize, points: &[ArrayView1<'_, f64>]) -> Result<ArrayD<f64>> {
        self.predict_derivative(field, &vec![0; self.axes.len()], points)
    }

    /// The partial derivative of the posterior mean of `field`, `orders[d]` times along axis `d`, on the
    /// tensor grid of the given coordinates per axis (shaped as [`predict`](Self::predict)'s): the
    /// mean is `Σⱼ k(x − xⱼ) wⱼ` with a product kernel, so its derivatives are the kernel's, exact (no
    /// finite differences).
    ///
    /// # Errors
    /// As [`predict`](Self::predict); [`Error::Shape`] for `orders` of another length than the axes;
    /// the kernel's error for an order it does not have (above 4).
    pub fn predict_derivative(
        &self,
        field: usize,
        orders: &[usize],
        points: &[ArrayView1<'_, f64>],
    ) -> Result<ArrayD<f64>> {
        self.check_field(field)?;
        if orders.len() != self.axes.len() {
            return Err(Error::Shape {
                what: "derivative orders (one per grid axis)",
                expected: self.axes.len(),
                found: orders.len(),
            });
        }
        if points.len() != self.axes.len() {
            return Err(Error::Shape {
                what: "prediction axes (one coordinate array per grid axis)",
                expected: self.axes.len(),
                found: points.len(),
            });
        }
        for (d, p) in points.iter().enumerate() {
            if let Some(i) = p.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite {
                    what: "prediction coordinates",
                    row: i,
                    col: d,
                });
            }
        }
        super::problem::check_output("prediction grid", points.iter().map(|p| p.len()), 1)?;
        // The work arrays: per axis the cross-covariance (points × grid points) and the partial
        // products, whose largest is bounded by the output and the grid values together.
        let grid: f64 = self.axes.iter().map(|a| a.points as f64).product();
        let out: f64 = points.iter().map(|p| p.len() as f64).product();
        let cross = points
            .iter()
            .zip(&self.axes)
            .map(|(p, a)| p.len() as f64 * a.points as f64)
            .fold(0.0, f64::max);
        let partial = points
            .iter()
            .zip(&self.axes)
            .map(|(p, a)| p.len() as f64 / a.points as f64)
            .fold(1.0, |acc, r| acc * r.max(1.0));
        crate::data::check_bytes(
            "points",
            8.0 * (cross + 2.0 * grid * partial + out),
            || {
                let counts: Vec<String> = points.iter().map(|p| p.len().to_string()).collect();
                format!("a prediction on {} points", counts.join(" × "))
            },
            ": predict on fewer points at a time",
        )?;
        if points.iter().any(|p| p.is_empty()) {
            // No points on some axis: an empty grid (the mode products below need a nonempty one).
            return shaped(points.iter().map(|p| p.len()).collect(), Vec::new());
        }
        let mut y = self.weights[field].clone();
        let mut shape = self.grid_shape();
        for (d, p) in points.iter().enumerate() {
            let axis = self.axes[d];
            let kernel = &self.kernels[field][d];
            let mut cross = faer::Mat::<f64>::zeros(p.len(), axis.points);
            for (i, &x) in p.iter().enumerate() {
                for j in 0..axis.points {
                    cross[(i, j)] = kernel.derivative(x - (axis.lower + j as f64 * axis.step), orders[d])?;
                }
            }
            y = mode_product(cross.as_ref(), &y, &shape, d);
            shape[d] = p.len();
        }
        shaped(shape, y)
    }

    /// Every field's posterior mean on the tensor grid of `axes` ([`predict`](Self::predict)), each
    /// flattened row-major (first axis slowest).
    ///
    /// # Errors
    /// As [`predict`](Self::predict).
    pub fn predict_fields(&self, axes: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        let views: Vec<ArrayView1<'_, f64>> = axes.iter().map(|a| a.as_slice().into()).collect();
        (0..self.fields())
            .map(|f| Ok(self.predict(f, &views)?.iter().copied().collect()))
            .collect()
    }

    /// The learned kernels' components per field and axis.
    pub fn components(&self) -> Vec<Vec<Vec<LearnedComponent>>> {
        let learned = |c: &Component| LearnedComponent {
            weight: c.weight,
            frequency: c.mean,
            length_scale: 1.0 / (2.0 * std::f64::consts::PI * c.scale),
        };
        self.kernels
            .iter()
            .map(|axes| {
                axes.iter()
                    .map(|k| k.components().iter().map(learned).collect())
                    .collect()
            })
            .collect()
    }

    /// Mixture components kept per field and axis: those with weight above `1e-6` of the largest (the log
    /// domain's Jeffreys prior drives the others towards zero).
    pub fn components_kept(&self) -> Vec<Vec<usize>> {
        self.components()
            .iter()
            .map(|axes| {
                axes.iter()
                    .map(|cs| {
                        let top = cs.iter().fold(0.0f64, |m, c| m.max(c.weight));
                        cs.iter().filter(|c| c.weight > 1e-6 * top).count()
                    })
                    .collect()
            })
            .collect()
    }
}

/// Values on a tensor grid as an array of its shape (row-major).
fn shaped(shape: Vec<usize>, values: Vec<f64>) -> Result<ArrayD<f64>> {
    let expected = shape.iter().product();
    let found = values.len();
    ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|_| Error::Shape {
        what: "values on the tensor grid",
        expected,
        found,
    })
}
