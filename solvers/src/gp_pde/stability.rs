//! What the residual cannot say: how much the operator amplifies it. A residual `r = L(u_h) − f` of
//! relative size ε means an error of relative size ε only when the inverse operator treats `r` as it
//! treats `f`. An indefinite Helmholtz operator amplifies the parts of `r` near its resonances (the
//! residual of 4e-5 behind an error of 1.4e-3 on the broadened suite); an operator with a null space
//! under the boundary data (`u_xx + 4u` on `[0, 2π]`) has no unique solution at all, whatever the
//! residual. Both are measured here on an auxiliary finite-difference problem:
//!
//! * **Error estimate** (defect correction): the error `e ≈ u − u_h` solves the operator linearised at
//!   `u_h`, `L'(u_h) e = −r`, with `e = g − u_h` on the Dirichlet faces. It is solved by second-order
//!   finite differences on the grid of the cell midpoints closed by the faces (the residual there is
//!   what the collocation never imposed), by sparse LU; `rms(e)/rms(u_h)` estimates the relative L2
//!   error, the operator's amplification included.
//! * **Null space**: the smallest modulus of an eigenvalue of `L'(u_h)` on that grid and on one of three
//!   quarters the points per axis (inverse iteration), and Richardson's extrapolation of the pair
//!   (second order) to a zero spacing. Where the extrapolated modulus is below [`NULL_FRACTION`] of the
//!   finest grid's, the mode scales with the grid (`C h²`): the operator is singular within what the
//!   grids resolve, the data do not determine the solution, and the estimate is infinite. Where the grid
//!   places that eigenvalue above the extrapolated one, the finite differences under-amplify its mode
//!   by the same factor, and the estimate is inflated by it.
//!
//! * **Data counted** ([`shortfall`]): before any of that, along each axis the equations differentiate
//!   `m` times, a solution needs `m` conditions, and Dirichlet data give one per face. Fewer faces with
//!   data than the order (Laplace's equation without data on one face, `u_xxxx` with values alone)
//!   leave a null space whatever the grid: any solution of the homogeneous equation that vanishes on
//!   the given faces can be added. One face is exempt: where a linear second-order equation
//!   `a u_ss + b u_s + …` (`s` the distance into the domain) degenerates, `a` vanishing there to first
//!   order, and `b ≥ a_s` on the whole face (Fichera's condition: `x·u_xx + u_x` at `x = 0`, whose second
//!   homogeneous solution `ln x` is unbounded, so boundedness fixes it; not `x·u_xx`, whose second
//!   solution `x` is bounded). Terms whose coefficients vanish on the whole grid do not count. The count
//!   applies to systems too (the data then hold for every field). It cannot see a face given on the wrong
//!   side (a backward heat equation).
//!
//! Scope of the estimate: one field and one equation whose terms differentiate at most twice in all (mixed derivatives
//! included), with a second derivative along every axis, Dirichlet data on every face, at least 8
//! points per axis, and at most [`MAX_NODES`] grid points ([`MAX_NODES_3D`] with three axes or more). Elsewhere (systems, space-time problems with a
//! free final face, first-order equations, higher derivatives) there is no estimate, and the residual
//! indicator stands alone.

use std::collections::HashMap;

use faer::Mat;
use faer::linalg::solvers::Solve;
use faer::sparse::{SparseColMat, Triplet};
use ndarray::ArrayView1;

use super::operator::{Axis, Coefficient, Derivative, Term};
use super::problem::Problem;
use super::solution::Solution;
use crate::Result;

/// The largest grid (points in all) the estimate factors in one or two dimensions: 3·10⁵ points (a 2D
/// grid of 550²).
pub const MAX_NODES: usize = 300_000;

/// The same with three axes or more, where sparse LU's fill grows faster than the points: 5·10⁴ (a 3D
/// grid of 36³; 33³ takes about 3 s).
pub const MAX_NODES_3D: usize = 50_000;

/// Inverse-iteration steps per eigenvalue.
const INVERSE_ITERATIONS: usize = 40;

/// The stability of a solution's problem, measured on the auxiliary finite-difference problem (see the
/// module's text).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stability {
    /// The estimated relative L2 error `rms(e)/rms(u_h)` of the solution, over the midpoint grid closed by
    /// the faces; infinite when the operator is [`singular`](Self::singular).
    pub estimate: f64,
    /// The smallest modulus of an eigenvalue of the linearised operator, extrapolated to a zero grid
    /// spacing (in the operator's units: `1/length²` for `Δ`); 0 where a grid's matrix is singular.
    pub eigenvalue: f64,
    /// The same on the finest grid, before the extrapolation.
    pub fine: f64,
}

/// The share of the finest grid's smallest eigenvalue modulus below which the extrapolated one counts
/// as zero: the mode is then the grid's artefact (`C h²`, scaling with the spacing), not the operator's.
pub const NULL_FRACTION: f64 = 0.1;

impl Stability {
    /// Whether the extrapolated eigenvalue is zero within what the grids resolve (at most
    /// [`NULL_FRACTION`] of the finest grid's): a null space under the boundary data.
    pub fn singular(&self) -> bool {
        self.eigenvalue.is_nan() || self.eigenvalue <= NULL_FRACTION * self.fine
    }
}

/// The midpoints of the cells of a uniform axis of `points` points on `[lower, upper]`.
pub(super) fn midpoints(lower: f64, upper: f64, points: usize) -> Vec<f64> {
    let step = (upper - lower) / (points.max(2) - 1) as f64;
    (0..points.saturating_sub(1))
        .map(|i| lower + (i as f64 + 0.5) * step)
        .collect()
}

/// The root mean square, scaled by the largest magnitude first (no overflow or underflow of the squares);
/// NaN propagates.
pub(super) fn rms(v: &[f64]) -> f64 {
    let top = v.iter().fold(0.0f64, |m, x| {
        if x.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(x.abs())
        }
    });
    if top == 0.0 || !top.is_finite() {
        return top;
    }
    let sum: f64 = v.iter().map(|x| (x / top) * (x / top)).sum();
    top * (sum / v.len() as f64).sqrt()
}

/// The midpoints of the cells of a uniform axis, closed by its two ends.
fn closed_midpoints(lower: f64, upper: f64, points: usize) -> Vec<f64> {
    let mut x = vec![lower];
    x.extend(midpoints(lower, upper, points));
    x.push(upper);
    x
}

/// `points` equispaced coordinates on `[lower, upper]`.
fn uniform(lower: f64, upper: f64, points: usize) -> Vec<f64> {
    let step = (upper - lower) / (points - 1) as f64;
    (0..points).map(|i| lower + i as f64 * step).collect()
}

/// The three-point stencil of the `order`-th derivative (0, 1 or 2) at interior node `i` of the
/// increasing coordinates `x` (second order on a uniform axis, first order where the spacing changes).
fn stencil(x: &[f64], i: usize, order: usize) -> Vec<(usize, f64)> {
    if order == 0 {
        return vec![(i, 1.0)];
    }
    let (a, b) = (x[i] - x[i - 1], x[i + 1] - x[i]);
    let w = if order == 1 {
        [-b / (a * (a + b)), (b - a) / (a * b), a / (b * (a + b))]
    } else {
        [2.0 / (a * (a + b)), -2.0 / (a * b), 2.0 / (b * (a + b))]
    };
    vec![(i - 1, w[0]), (i, w[1]), (i + 1, w[2])]
}

/// The operator linearised at the solution on the tensor grid of `nodes`: its sparse matrix (Dirichlet
/// rows `s·I` on the faces, `s` the largest interior diagonal), and the right-hand side of the error
/// equation (`−r` inside, `s·(g − u_h)` on the faces).
struct Linearised {
    /// The matrix's entries `(row, column, value)`, duplicates to be summed.
    rows: Vec<(usize, usize, f64)>,
    /// Grid points (rows and columns).
    n: usize,
    /// Whether each point lies on a face.
    faces: Vec<bool>,
    rhs: Vec<f64>,
    /// The solution at the points.
    u: Vec<f64>,
}

impl Linearised {
    fn build(problem: &Problem, solution: &Solution, nodes: &[Vec<f64>]) -> Result<Self> {
        let data = problem.on_points(nodes)?;
        let equation = &data.equations[0];
        let shape: Vec<usize> = nodes.iter().map(Vec::len).collect();
        let n: usize = shape.iter().product();
        let views: Vec<ArrayView1<'_, f64>> = nodes.iter().map(|p| p.as_slice().into()).collect();
        let mut derivatives: HashMap<Vec<usize>, Vec<f64>> = HashMap::new();
        let mut at = |d: &Derivative| -> Result<Vec<f64>> {
            if let Some(v) = derivatives.get(&d.orders) {
                return Ok(v.clone());
            }
            let v: Vec<f64> = solution
                .predict_derivative(0, &d.orders, &views)?
                .iter()
                .copied()
                .collect();
            derivatives.insert(d.orders.clone(), v.clone());
            Ok(v)
        };
        let u = at(&Derivative {
            field: 0,
            orders: vec![0; nodes.len()],
        })?;
        // Per term: its value at u_h, and per factor the weight of that factor's derivative of e.
        let mut applied = vec![0.0; n];
        let mut parts: Vec<(Vec<usize>, Vec<f64>)> = Vec::new();
        for term in &equation.terms {
            let c = term.coefficient.on_points(nodes);
            let values: Vec<Vec<f64>> = term.factors.iter().map(&mut at).collect::<Result<_>>()?;
            for p in 0..n {
                applied[p] += c[p] * values.iter().map(|v| v[p]).product::<f64>();
            }
            for (j, factor) in term.factors.iter().enumerate() {
                let weight: Vec<f64> = (0..n)
                    .map(|p| {
                        c[p] * values
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| *i != j)
                            .map(|(_, v)| v[p])
                            .product::<f64>()
                    })
                    .collect();
                parts.push((factor.orders.clone(), weight));
            }
        }
        let strides: Vec<usize> = (0..shape.len()).map(|d| shape[d + 1..].iter().product()).collect();
        let index = |p: usize, d: usize| (p / strides[d]) % shape[d];
        let faces = faces_of(&shape);
        let mut rows = Vec::new();
        let mut rhs = vec![0.0; n];
        let mut scale: f64 = 0.0;
        for p in (0..n).filter(|&p| !faces[p]) {
            for (orders, weight) in &parts {
                if weight[p] == 0.0 {
                    continue;
                }
                // The tensor product of the axes' stencils.
                let mut entries = vec![(p, weight[p])];
                for (d, &o) in orders.iter().enumerate() {
                    let (i, stride) = (index(p, d), strides[d]);
                    let s = stencil(&nodes[d], i, o);
                    entries = entries
                        .iter()
                        .flat_map(|&(col, w)| s.iter().map(move |&(j, c)| (col + j * stride - i * stride, w * c)))
                        .collect();
                }
                for (col, w) in entries {
                    if col == p {
                        scale = scale.max(w.abs());
                    }
                    rows.push((p, col, w));
                }
            }
            rhs[p] = data.sources[0][p] - applied[p];
        }
        let scale = if scale > 0.0 { scale } else { 1.0 };
        for p in (0..n).filter(|&p| faces[p]) {
            rows.push((p, p, scale));
            rhs[p] = scale * (data.boundary[0][p] - u[p]);
        }
        Ok(Self { rows, n, faces, rhs, u })
    }

    /// The sparse matrix shifted by `−shift·I` (duplicates summed).
    fn matrix(&self, shift: f64) -> Result<SparseColMat<usize, f64>> {
        let mut t: Vec<Triplet<usize, usize, f64>> = self.rows.iter().map(|&(r, c, v)| Triplet::new(r, c, v)).collect();
        if shift != 0.0 {
            t.extend((0..self.n).map(|p| Triplet::new(p, p, -shift)));
        }
        SparseColMat::try_new_from_triplets(self.n, self.n, &t)
            .map_err(|e| crate::Error::problem(format!("the stability estimate's finite-difference matrix: {e:?}")))
    }

    /// `A x` (unshifted).
    fn apply(&self, x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; self.n];
        for &(r, c, v) in &self.rows {
            y[r] += v * x[c];
        }
        y
    }
}

/// The factored matrix of `system` shifted by `shift`: `solve` applies its inverse; `None` where the
/// factorisation fails or its solutions are not finite (a singular matrix).
struct Factored {
    lu: faer::sparse::linalg::solvers::Lu<usize, f64>,
}

impl Factored {
    fn new(system: &Linearised, shift: f64) -> Result<Option<Self>> {
        Ok(system.matrix(shift)?.sp_lu().ok().map(|lu| Self { lu }))
    }

    fn solve(&self, b: &[f64]) -> Option<Vec<f64>> {
        let x = self.lu.solve(Mat::from_fn(b.len(), 1, |i, _| b[i]));
        let x: Vec<f64> = (0..b.len()).map(|i| x[(i, 0)]).collect();
        x.iter().all(|v| v.is_finite()).then_some(x)
    }
}

/// The eigenvalue of `system` nearest the shift its factored matrix was built with, by inverse iteration
/// from a fixed start (zero on the faces): the modulus of its distance to the shift, `1/‖A⁻¹x‖` for the
/// last normalised iterate `x` (which converges even where two eigenvalues at the same distance mix), and
/// the Rayleigh quotient of `x` (the eigenvalue itself where one mode won); `None` for a singular matrix.
fn inverse_iteration(system: &Linearised, factored: &Factored) -> Option<(f64, f64)> {
    let faces = &system.faces;
    // A deterministic start with every mode in it.
    let mut x: Vec<f64> = (0..system.n)
        .map(|p| {
            if faces[p] {
                0.0
            } else {
                ((p as f64 + 1.0) * 12.9898).sin()
            }
        })
        .collect();
    let mut growth = 0.0;
    for _ in 0..INVERSE_ITERATIONS {
        let mut y = factored.solve(&x)?;
        // The faces' rows are s·I, far from the interior spectrum: keep the iterate off them.
        y.iter_mut().zip(faces).filter(|(_, f)| **f).for_each(|(v, _)| *v = 0.0);
        growth = y.iter().map(|v| v * v).sum::<f64>().sqrt();
        if growth == 0.0 || !growth.is_finite() {
            return None;
        }
        x = y.into_iter().map(|v| v / growth).collect();
    }
    let ax = system.apply(&x);
    let rayleigh = x.iter().zip(&ax).map(|(a, b)| a * b).sum::<f64>();
    Some((1.0 / growth, rayleigh))
}

/// The smallest eigenvalue modulus on the fine grid and the same mode's on the coarse one: signed where
/// inverse iteration settled on one real eigenvalue (its Rayleigh quotient's modulus within 5 % of the
/// growth's), the coarse one then the eigenvalue nearest the fine one (shifted inverse iteration, so
/// that a grid that moves the modes apart by more than their gap still pairs the same mode); otherwise
/// the smallest moduli on both. `None` where a matrix is singular.
fn paired_eigenvalues(fine: &Linearised, factored: &Factored, coarse: &Linearised) -> Result<Option<(f64, f64)>> {
    let Some((modulus, rayleigh)) = inverse_iteration(fine, factored) else {
        return Ok(None);
    };
    if (rayleigh.abs() - modulus).abs() <= 0.05 * modulus {
        // A shift exactly at a coarse eigenvalue makes the shifted matrix singular: move it off.
        for shift in [rayleigh, rayleigh * (1.0 + 1e-6) + 1e-12] {
            if let Some(f) = Factored::new(coarse, shift)?
                && let Some((_, coarse_rayleigh)) = inverse_iteration(coarse, &f)
            {
                return Ok(Some((rayleigh, coarse_rayleigh)));
            }
        }
        return Ok(None);
    }
    let coarse_modulus = Factored::new(coarse, 0.0)?.and_then(|f| inverse_iteration(coarse, &f));
    Ok(coarse_modulus.map(|(m, _)| (modulus, m)))
}

/// Boundary data too few to determine the solution, found by counting ([`shortfall`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shortfall {
    /// The axis (its index in the problem's order).
    pub axis: usize,
    /// The highest derivative order along it, over every field and equation.
    pub order: usize,
    /// Whether its lower and upper faces have Dirichlet data.
    pub faces: [bool; 2],
}

impl Shortfall {
    /// What is missing, in words, naming the axis and its faces as `problem` names them.
    pub fn describe(&self, problem: &Problem) -> String {
        let name = problem.axis_names()[self.axis];
        let given: Vec<String> = self
            .faces
            .iter()
            .zip(["-", "+"])
            .filter(|(on, _)| **on)
            .map(|(_, sign)| format!("{name}{sign}"))
            .collect();
        let given = if given.is_empty() {
            "neither of its faces has Dirichlet data".to_string()
        } else {
            format!("Dirichlet data on {} only", given.join(" and "))
        };
        let fix = if self.order == 2 && self.faces.iter().any(|f| *f) {
            format!(
                "give data on both faces of `{name}` ([boundary] faces), or, for an initial-value problem along \
                 `{name}` (a wave equation in time), write the equation as a first-order system in it (v = u_{name}) \
                 with data for both fields on the one face"
            )
        } else if self.order <= 2 {
            format!("give data on {} face(s) of `{name}` ([boundary] faces)", self.order)
        } else {
            "the solver takes Dirichlet data only, one condition per face".to_string()
        };
        format!(
            "the equations differentiate {} time(s) along `{name}` but {given}: the boundary data do not \
             determine the solution (a solution of the homogeneous equation vanishing on the given faces can \
             be added); {fix}",
            self.order
        )
    }
}

/// The first axis along which `problem`'s boundary data are too few to determine its solution (see the
/// module's text): fewer faces with Dirichlet data than the highest derivative order along it (of the
/// terms whose coefficients do not vanish on the whole grid), a degenerate face that meets Fichera's
/// condition counting as given. `None` where every axis has enough.
///
/// # Errors
/// The problem's evaluation's.
pub fn shortfall(problem: &Problem) -> Result<Option<Shortfall>> {
    let axes = problem.axes();
    let grid: Vec<Vec<f64>> = axes.iter().map(Axis::coordinates).collect::<Result<_>>()?;
    let probe: Vec<Vec<f64>> = axes.iter().map(|a| vec![a.lower]).collect();
    let data = problem.on_points(&probe)?;
    let live = |c: &Coefficient| match c.constant() {
        Some(v) => v != 0.0,
        None => c.on_points(&grid).iter().any(|v| *v != 0.0),
    };
    let terms: Vec<&Term> = data
        .equations
        .iter()
        .flat_map(|e| &e.terms)
        .filter(|t| live(&t.coefficient))
        .collect();
    let scalar = data.equations.len() == 1 && problem.fields().len() == 1;
    for d in 0..axes.len() {
        let order = terms
            .iter()
            .flat_map(|t| &t.factors)
            .map(|f| f.orders[d])
            .max()
            .unwrap_or(0);
        let exempt = |side: usize| scalar && order == 2 && fichera(&terms, &grid, d, side);
        let counted = (0..2).filter(|&side| data.faces[d][side] || exempt(side)).count();
        if counted < order {
            return Ok(Some(Shortfall {
                axis: d,
                order,
                faces: data.faces[d],
            }));
        }
    }
    Ok(None)
}

/// Whether face `side` of axis `d` meets Fichera's condition for the linear second-order equation of
/// `terms` (one field): every term differentiating twice along `d` is `a(x)·u_dd` alone, `a` vanishes on
/// the face (within 1e-9 of its value one grid point in), and there `b_s ≥ a_s`, with `a_s` the inward
/// difference quotient of `a` and `b_s` the inward-signed sum of the `u_d` terms' coefficients.
fn fichera(terms: &[&Term], grid: &[Vec<f64>], d: usize, side: usize) -> bool {
    let n = grid[d].len();
    // The coefficient's values on the slice of the grid at index `i` along `d`.
    let slice = |c: &Coefficient, i: usize| {
        let mut nodes = grid.to_vec();
        nodes[d] = vec![grid[d][i]];
        c.on_points(&nodes)
    };
    let only = |t: &Term, order: usize| {
        t.factors.len() == 1
            && t.factors[0]
                .orders
                .iter()
                .enumerate()
                .all(|(e, &o)| o == if e == d { order } else { 0 })
    };
    let top: Vec<&&Term> = terms
        .iter()
        .filter(|t| t.factors.iter().any(|f| f.orders[d] == 2))
        .collect();
    if top.iter().any(|t| !only(t, 2)) {
        return false;
    }
    let (face, inner, inward) = if side == 0 { (0, 1, 1.0) } else { (n - 1, n - 2, -1.0) };
    let h = (grid[d][inner] - grid[d][face]).abs();
    let len: usize = (0..grid.len()).filter(|&e| e != d).map(|e| grid[e].len()).product();
    let sum = |ts: &[&&Term], i: usize| {
        ts.iter().fold(vec![0.0; len], |mut acc, t| {
            acc.iter_mut().zip(slice(&t.coefficient, i)).for_each(|(a, v)| *a += v);
            acc
        })
    };
    let (a0, a1) = (sum(&top, face), sum(&top, inner));
    let first: Vec<&&Term> = terms.iter().filter(|t| only(t, 1)).collect();
    let b = sum(&first, face);
    a0.iter().zip(&a1).zip(&b).all(|((&a0, &a1), &b)| {
        let slope = (a1 - a0) / h;
        a0.abs() <= 1e-9 * a1.abs() && slope != 0.0 && inward * b / slope >= 1.0
    })
}

/// Whether each point of the tensor grid of `shape` lies on a face.
fn faces_of(shape: &[usize]) -> Vec<bool> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|p| {
            let mut rest = p;
            (0..shape.len()).rev().any(|d| {
                let i = rest % shape[d];
                rest /= shape[d];
                i == 0 || i == shape[d] - 1
            })
        })
        .collect()
}

/// Whether the estimate applies to `problem` (see the module's scope).
///
/// # Errors
/// The problem's evaluation's.
pub fn estimable(problem: &Problem) -> Result<bool> {
    let axes = problem.axes();
    if problem.fields().len() != 1 || axes.iter().any(|a| a.points < 8) {
        return Ok(false);
    }
    let nodes = axes
        .iter()
        .map(|a| a.points + 1)
        .try_fold(1usize, |n, m| n.checked_mul(m));
    let limit = if axes.len() >= 3 { MAX_NODES_3D } else { MAX_NODES };
    if nodes.is_none_or(|n| n > limit) {
        return Ok(false);
    }
    let probe: Vec<Vec<f64>> = axes.iter().map(|a| vec![0.5 * (a.lower + a.upper)]).collect();
    let data = problem.on_points(&probe)?;
    if data.equations.len() != 1 || data.faces.iter().any(|f| !f[0] || !f[1]) {
        return Ok(false);
    }
    let factors = || data.equations[0].terms.iter().flat_map(|t| &t.factors);
    let within = factors().all(|f| f.orders.iter().sum::<usize>() <= 2);
    let elliptic = (0..axes.len()).all(|d| factors().any(|f| f.orders[d] == 2));
    Ok(within && elliptic)
}

/// The [`Stability`] of `solution` on `problem` (solved on the problem's grid), or `None` outside the
/// module's scope.
///
/// # Errors
/// The problem's evaluation and the predictions' errors; [`crate::Error::Problem`] if the sparse matrix
/// cannot be formed.
pub fn stability(problem: &Problem, solution: &Solution) -> Result<Option<Stability>> {
    if !estimable(problem)? {
        return Ok(None);
    }
    let axes = problem.axes();
    let fine: Vec<Vec<f64>> = axes
        .iter()
        .map(|a| closed_midpoints(a.lower, a.upper, a.points))
        .collect();
    let coarse: Vec<Vec<f64>> = axes
        .iter()
        .map(|a| uniform(a.lower, a.upper, 3 * a.points / 4))
        .collect();
    let system = Linearised::build(problem, solution, &fine)?;
    let singular = Stability {
        estimate: f64::INFINITY,
        eigenvalue: 0.0,
        fine: 0.0,
    };
    let Some(factored) = Factored::new(&system, 0.0)? else {
        return Ok(Some(singular));
    };
    let Some(e) = factored.solve(&system.rhs) else {
        return Ok(Some(singular));
    };
    // The same mode on a grid of three quarters the points per axis (close enough for a mode of 19
    // half-waves on 100 points to stay paired; at half the points it traded places with a neighbour).
    let coarse_system = Linearised::build(problem, solution, &coarse)?;
    let Some((fine_eigenvalue, coarse_eigenvalue)) = paired_eigenvalues(&system, &factored, &coarse_system)? else {
        return Ok(Some(singular));
    };
    // Richardson at second order: μ(h) = μ + C h², with the squared ratio of the spacings (mean over
    // the axes).
    let ratio2 = axes
        .iter()
        .zip(&coarse)
        .map(|(a, c)| {
            let (hf, hc) = (a.step(), c[1] - c[0]);
            (hc / hf).powi(2)
        })
        .sum::<f64>()
        / axes.len() as f64;
    let eigenvalue = ((ratio2 * fine_eigenvalue - coarse_eigenvalue) / (ratio2 - 1.0)).abs();
    let fine_modulus = fine_eigenvalue.abs();
    let size = rms(&system.u);
    let null = NULL_FRACTION * fine_modulus;
    // Where the grid places the eigenvalue above its extrapolated value, the auxiliary problem
    // under-amplifies that mode by the same factor: the estimate is inflated by it (a resonance at
    // 15 points per wavelength: the raw estimate 3.7× below the error, the inflated one at it).
    let inflation = if eigenvalue > 0.0 {
        (fine_modulus / eigenvalue).max(1.0)
    } else {
        1.0
    };
    let estimate = if eigenvalue.is_nan() || eigenvalue <= null {
        f64::INFINITY
    } else if size > 0.0 {
        inflation * rms(&e) / size
    } else if rms(&e) == 0.0 {
        0.0
    } else {
        f64::INFINITY
    };
    Ok(Some(Stability {
        estimate,
        eigenvalue,
        fine: fine_modulus,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three-point stencils differentiate a quadratic exactly, on uneven spacing too (the midpoint
    /// grid's half cells at its ends).
    #[test]
    fn stencils_are_exact_on_quadratics_and_the_grid_closes_the_midpoints() {
        let x = closed_midpoints(0.0, 1.0, 5);
        assert_eq!(x, vec![0.0, 0.125, 0.375, 0.625, 0.875, 1.0]);
        let q = |t: f64| 3.0 - 2.0 * t + 5.0 * t * t;
        for i in 1..x.len() - 1 {
            let apply = |order| stencil(&x, i, order).iter().map(|&(j, w)| w * q(x[j])).sum::<f64>();
            assert!((apply(0) - q(x[i])).abs() < 1e-12);
            assert!(
                (apply(1) - (-2.0 + 10.0 * x[i])).abs() < 1e-12,
                "first derivative at {}",
                x[i]
            );
            assert!((apply(2) - 10.0).abs() < 1e-10, "second derivative at {}", x[i]);
        }
        // Faces of a 3 × 4 grid: all but the two interior points (1, 1) and (1, 2).
        let faces = faces_of(&[3, 4]);
        let inside: Vec<usize> = (0..12).filter(|&p| !faces[p]).collect();
        assert_eq!(inside, vec![5, 6]);
    }
}
