//! Classical direct solvers for linear problems, as baselines for the GP solver on the same number of
//! points per axis: second-order finite differences on the problem's equispaced grid, and Chebyshev
//! collocation on Chebyshev–Gauss–Lobatto points.
//!
//! * **Scope.** One field, one linear equation with constant coefficients whose terms each differentiate
//!   along at most one axis, to order at most 2 (Poisson, Helmholtz, advection, heat), in one or two
//!   dimensions; anything else is [`Error::Problem`].
//! * **Boundary conditions.** Dirichlet data on both faces of an axis with second derivatives, and on the
//!   inflow face only of an axis with first derivatives only (the outflow face's data, which the GP fits
//!   in least squares, would over-determine the square collocation system); the problem must list those
//!   faces.
//! * **Schemes.** Finite differences: the three-point second derivative, the central first derivative,
//!   and at an outflow face the one-sided second-order first derivative `(3uₙ − 4uₙ₋₁ + uₙ₋₂)/(2h)`.
//!   Chebyshev: the barycentric differentiation matrix `D` (Trefethen, *Spectral Methods in MATLAB*, ch. 6)
//!   and `D²`.
//! * **Solve.** Per axis the operator is a dense matrix `M_d` on the unknown nodes; the system
//!   `Σ_d I ⊗ M_d ⊗ I` is solved by LU in 1D and by fast diagonalisation in 2D (the Sylvester equation
//!   `A X + X Bᵀ = R` through the complex eigendecompositions of `A` and `B`: `O(N³)` for an `N × N`
//!   grid, against `O(N⁶)` for LU of the whole system), refined against the residual while it decreases
//!   (the eigenvectors of first-derivative matrices are ill-conditioned).
//! * **Values off the nodes** ([`Baseline::predict`]): barycentric interpolation for Chebyshev (spectrally
//!   accurate), local cubic interpolation for finite differences (fourth order, below the scheme's own
//!   second-order error).

use faer::linalg::solvers::Solve;
use faer::{Mat, MatRef, c64};

use super::operator::Axis;
use super::problem::Problem;
use crate::{Error, Measure, Report, Result};

/// The discretization of a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Second-order finite differences on the problem's equispaced grid.
    FiniteDifferences,
    /// Chebyshev collocation on as many Chebyshev–Gauss–Lobatto points per axis.
    Chebyshev,
}

impl Scheme {
    /// The scheme's name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::FiniteDifferences => "finite differences",
            Scheme::Chebyshev => "chebyshev",
        }
    }
}

/// A baseline's solution: values at its nodes.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// The discretization.
    pub scheme: Scheme,
    /// The nodes along each axis, increasing.
    pub nodes: Vec<Vec<f64>>,
    /// The solution at the tensor grid of `nodes`, row-major (first axis slowest).
    pub values: Vec<f64>,
    /// The relative residual `‖L u − f‖/‖f‖` of the solved collocation system (Frobenius norms over the
    /// unknown nodes).
    pub residual: f64,
}

/// The nodes of `scheme` on `axis`.
fn nodes(scheme: Scheme, axis: &Axis) -> Result<Vec<f64>> {
    Ok(match scheme {
        Scheme::FiniteDifferences => axis.coordinates()?,
        Scheme::Chebyshev => {
            let (n, mid, half) = (
                axis.points,
                0.5 * (axis.lower + axis.upper),
                0.5 * (axis.upper - axis.lower),
            );
            let mut x: Vec<f64> = (0..n)
                .map(|j| mid - half * (std::f64::consts::PI * j as f64 / (n - 1) as f64).cos())
                .collect();
            (x[0], x[n - 1]) = (axis.lower, axis.upper);
            x
        }
    })
}

/// Barycentric weights of Chebyshev–Gauss–Lobatto points: `(−1)^j`, halved at both ends.
fn chebyshev_weights(n: usize) -> Vec<f64> {
    (0..n)
        .map(|j| {
            let s = if j % 2 == 0 { 1.0 } else { -1.0 };
            if j == 0 || j == n - 1 { 0.5 * s } else { s }
        })
        .collect()
}

/// The first- and second-derivative matrices of `scheme` at the nodes `x` (for finite differences, the
/// first-derivative rows of the two ends are one-sided; the second-derivative rows there are never used,
/// as both ends of a second-order axis are data).
fn derivative_matrices(scheme: Scheme, x: &[f64]) -> (Mat<f64>, Mat<f64>) {
    let n = x.len();
    match scheme {
        Scheme::Chebyshev => {
            let w = chebyshev_weights(n);
            let mut d1 = Mat::<f64>::zeros(n, n);
            for i in 0..n {
                let mut diag = 0.0;
                for j in (0..n).filter(|&j| j != i) {
                    let v = (w[j] / w[i]) / (x[i] - x[j]);
                    d1[(i, j)] = v;
                    diag -= v;
                }
                d1[(i, i)] = diag;
            }
            let d2 = &d1 * &d1;
            (d1, d2)
        }
        Scheme::FiniteDifferences => {
            let h = x[1] - x[0];
            let mut d1 = Mat::<f64>::zeros(n, n);
            let mut d2 = Mat::<f64>::zeros(n, n);
            for i in 1..n - 1 {
                d1[(i, i - 1)] = -0.5 / h;
                d1[(i, i + 1)] = 0.5 / h;
                d2[(i, i - 1)] = 1.0 / (h * h);
                d2[(i, i)] = -2.0 / (h * h);
                d2[(i, i + 1)] = 1.0 / (h * h);
            }
            // One-sided second-order first derivatives at the ends (used where an end is not data).
            (d1[(0, 0)], d1[(0, 1)], d1[(0, 2)]) = (-1.5 / h, 2.0 / h, -0.5 / h);
            (d1[(n - 1, n - 1)], d1[(n - 1, n - 2)], d1[(n - 1, n - 3)]) = (1.5 / h, -2.0 / h, 0.5 / h);
            (d1, d2)
        }
    }
}

/// Solves a linear `problem` on its grid's number of points per axis with `scheme` (see the module
/// documentation for what is supported).
///
/// # Errors
/// [`Error::Problem`] for a problem outside the scope (naming why); [`Error::Decomposition`] when an
/// axis operator's eigendecomposition does not converge; [`Error::Singular`] when the
/// collocation system is; [`Error::NotConverged`] when a 2D system is too ill-conditioned for the fast
/// diagonalisation (see `sylvester`); the problem's own errors.
pub fn solve_baseline(problem: &Problem, scheme: Scheme) -> Result<Baseline> {
    let unsupported = |why: String| Err(Error::problem(format!("the {} baseline: {why}", scheme.name())));
    let axes = problem.axes();
    let dims = axes.len();
    if dims > 2 || problem.fields().len() != 1 {
        return unsupported(format!(
            "solves one field in 1 or 2 dimensions; this problem has {} field(s) and {dims} axes",
            problem.fields().len()
        ));
    }
    if axes.iter().any(|a| a.points < 4) {
        return unsupported("needs at least 4 points per axis".into());
    }
    let x: Vec<Vec<f64>> = axes.iter().map(|a| nodes(scheme, a)).collect::<Result<_>>()?;
    let data = problem.on_points(&x)?;
    let [equation] = data.equations.as_slice() else {
        return unsupported(format!(
            "solves one equation; this problem has {}",
            data.equations.len()
        ));
    };
    // c[d][m]: coefficient of the m-th derivative along axis d; c0 of u; constant terms move to the source.
    let mut c = vec![[0.0f64; 3]; dims];
    let (mut c0, mut constant) = (0.0, 0.0);
    for t in &equation.terms {
        let Some(coefficient) = t.coefficient.constant() else {
            return unsupported("solves operators with constant coefficients".into());
        };
        match t.factors.as_slice() {
            [] => constant += coefficient,
            [f] => {
                let along: Vec<usize> = (0..dims).filter(|&d| f.orders[d] > 0).collect();
                match along.as_slice() {
                    [] => c0 += coefficient,
                    [d] if f.orders[*d] <= 2 => c[*d][f.orders[*d]] += coefficient,
                    _ => {
                        return unsupported(
                            "solves operators whose terms each differentiate along one axis, to order 2 at most".into(),
                        );
                    }
                }
            }
            _ => return unsupported("solves linear equations (this one has a product of fields)".into()),
        }
    }
    // The Dirichlet ends of each axis: both for a second-order axis, the inflow end for a first-order one.
    let mut ends = Vec::with_capacity(dims);
    for (d, cd) in c.iter().enumerate() {
        let e = if cd[2] != 0.0 {
            [true, true]
        } else if cd[1] != 0.0 {
            [cd[1] > 0.0, cd[1] < 0.0]
        } else {
            return unsupported(format!("axis {} is never differentiated", d + 1));
        };
        if (e[0] && !data.faces[d][0]) || (e[1] && !data.faces[d][1]) {
            return unsupported(format!(
                "needs Dirichlet data on the {} face(s) of axis {}",
                if e[0] && e[1] { "two" } else { "inflow" },
                d + 1
            ));
        }
        ends.push(e);
    }
    let m: Vec<Mat<f64>> = (0..dims)
        .map(|d| {
            let (d1, d2) = derivative_matrices(scheme, &x[d]);
            Mat::from_fn(x[d].len(), x[d].len(), |i, j| {
                c[d][1] * d1[(i, j)] + c[d][2] * d2[(i, j)]
            })
        })
        .collect();
    let unknown: Vec<Vec<usize>> = (0..dims)
        .map(|d| {
            let n = x[d].len();
            (0..n)
                .filter(|&i| !((i == 0 && ends[d][0]) || (i == n - 1 && ends[d][1])))
                .collect()
        })
        .collect();

    // Full-grid values as an n₀ × n₁ matrix (n₁ = 1 in 1D): the data on boundary nodes, zero elsewhere.
    let (n0, n1) = (x[0].len(), if dims == 2 { x[1].len() } else { 1 });
    let is_unknown = |i: usize, j: usize| {
        unknown[0].binary_search(&i).is_ok() && (dims == 1 || unknown[1].binary_search(&j).is_ok())
    };
    let g = Mat::from_fn(n0, n1, |i, j| {
        if is_unknown(i, j) {
            0.0
        } else {
            data.boundary[0][i * n1 + j]
        }
    });
    // L g = M₀ g + g M₁ᵀ + c₀ g, restricted to the unknown nodes: moved to the right-hand side.
    let mut lg = &m[0] * &g + &g * faer::Scale(c0);
    if dims == 2 {
        lg += &g * m[1].transpose();
    }
    let (u0, u1): (&[usize], Vec<usize>) = (&unknown[0], if dims == 2 { unknown[1].clone() } else { vec![0] });
    let rhs = Mat::from_fn(u0.len(), u1.len(), |a, b| {
        let (i, j) = (u0[a], u1[b]);
        data.sources[0][i * n1 + j] - constant - lg[(i, j)]
    });
    let restrict = |mat: &Mat<f64>, idx: &[usize]| Mat::from_fn(idx.len(), idx.len(), |a, b| mat[(idx[a], idx[b])]);
    let mut a = restrict(&m[0], u0);
    for k in 0..u0.len() {
        a[(k, k)] += c0;
    }
    let (solution, residual) = if dims == 1 {
        let lu = a.partial_piv_lu();
        let s = lu.solve(&rhs);
        let r = &a * &s - &rhs;
        (s, r.norm_l2() / rhs.norm_l2().max(f64::MIN_POSITIVE))
    } else {
        sylvester(a.as_ref(), restrict(&m[1], &u1).as_ref(), rhs.as_ref())?
    };
    if !solution
        .col_iter()
        .flat_map(|c| c.iter().copied().collect::<Vec<_>>())
        .all(f64::is_finite)
    {
        return Err(Error::Singular {
            what: "the collocation system",
            detail: format!("{} baseline, no finite solution", scheme.name()),
        });
    }
    let mut values = g;
    for (a, &i) in u0.iter().enumerate() {
        for (b, &j) in u1.iter().enumerate() {
            values[(i, j)] = solution[(a, b)];
        }
    }
    Ok(Baseline {
        scheme,
        nodes: x,
        values: (0..n0 * n1).map(|k| values[(k / n1, k % n1)]).collect(),
        residual,
    })
}

/// `A X + X Bᵀ = R` by the eigendecompositions `A = V_a Λ_a V_a⁻¹`, `B = V_b Λ_b V_b⁻¹`:
/// `X = V_a [(V_a⁻¹ R V_b⁻ᵀ) ⊘ (λ_a,i + λ_b,j)] V_bᵀ`. With ill-conditioned eigenvectors (first-derivative
/// matrices) that solve is inexact, so it serves as the right preconditioner of restarted GMRES on the
/// system itself, which then converges in one or two iterations where the eigenvectors are well
/// conditioned. Returns `X` and its relative residual.
///
/// # Errors
/// [`Error::NotConverged`] with the residual reached when GMRES ends above `10⁻⁸` (Chebyshev
/// first-derivative matrices of a hundred points or more, whose eigenvectors make the preconditioner
/// noise: the paper's advection at 200²).
fn sylvester(a: MatRef<'_, f64>, b: MatRef<'_, f64>, r: MatRef<'_, f64>) -> Result<(Mat<f64>, f64)> {
    let ea = a.eigen().map_err(|e| {
        Error::eigen(
            "the collocation system's first factor",
            e,
            "use a 1D grid or fewer points",
        )
    })?;
    let eb = b.eigen().map_err(|e| {
        Error::eigen(
            "the collocation system's second factor",
            e,
            "use a 1D grid or fewer points",
        )
    })?;
    let (va, vb) = (ea.U(), eb.U());
    let (la, lb) = (ea.S().column_vector(), eb.S().column_vector());
    let scale = la.iter().chain(lb.iter()).map(|v| v.norm()).fold(0.0f64, f64::max);
    if let Some((i, j)) = (0..la.nrows())
        .flat_map(|i| (0..lb.nrows()).map(move |j| (i, j)))
        .find(|&(i, j)| (la[i] + lb[j]).norm() <= 1e-13 * scale)
    {
        return Err(Error::Singular {
            what: "the collocation system",
            detail: format!("eigenvalues of the two axes' operators cancel ({} + {})", la[i], lb[j]),
        });
    }
    let (lu_a, lu_b) = (va.partial_piv_lu(), vb.partial_piv_lu());
    let precondition = |rhs: MatRef<'_, f64>| -> Mat<f64> {
        let rc = Mat::<c64>::from_fn(rhs.nrows(), rhs.ncols(), |i, j| c64::new(rhs[(i, j)], 0.0));
        let y = lu_a.solve(&rc); // V_a⁻¹ R
        let mut yt = lu_b.solve(y.transpose()); // (V_a⁻¹ R V_b⁻ᵀ)ᵀ
        for j in 0..yt.ncols() {
            for i in 0..yt.nrows() {
                yt[(i, j)] /= la[j] + lb[i];
            }
        }
        let w = vb * &yt; // V_b Yᵀ
        let xc = va * w.transpose();
        Mat::from_fn(xc.nrows(), xc.ncols(), |i, j| xc[(i, j)].re)
    };
    let apply = |x: MatRef<'_, f64>| a * x + x * b.transpose();
    let x = gmres(apply, precondition, r, 1e-14, 40, 200);
    let res = (r.to_owned() - apply(x.as_ref())).norm_l2() / r.norm_l2().max(f64::MIN_POSITIVE);
    if res > 1e-8 {
        return Err(Error::NotConverged(Report::new(200, Measure::Residual, res, 1e-14)));
    }
    Ok((x, res))
}

/// Right-preconditioned restarted GMRES (Saad & Schultz 1986) on matrices as vectors: solves
/// `L(X) = R` through `L(M⁻¹(Y)) = R`, `X = M⁻¹(Y)`, with `restart` Arnoldi steps per cycle, until the
/// relative residual is `tolerance` or `cap` steps have run.
fn gmres(
    apply: impl Fn(MatRef<'_, f64>) -> Mat<f64>,
    precondition: impl Fn(MatRef<'_, f64>) -> Mat<f64>,
    r: MatRef<'_, f64>,
    tolerance: f64,
    restart: usize,
    cap: usize,
) -> Mat<f64> {
    let dot = |p: &Mat<f64>, q: &Mat<f64>| -> f64 {
        (0..p.ncols())
            .map(|j| (0..p.nrows()).map(|i| p[(i, j)] * q[(i, j)]).sum::<f64>())
            .sum()
    };
    let norm_r = r.norm_l2().max(f64::MIN_POSITIVE);
    let mut x = Mat::<f64>::zeros(r.nrows(), r.ncols());
    let mut steps = 0;
    while steps < cap {
        let res = r.to_owned() - apply(x.as_ref());
        let beta = res.norm_l2();
        if beta <= tolerance * norm_r {
            break;
        }
        let mut v = vec![&res * faer::Scale(1.0 / beta)];
        let mut z: Vec<Mat<f64>> = Vec::new();
        // Hessenberg columns, Givens rotations, and the rotated right-hand side.
        let mut h: Vec<Vec<f64>> = Vec::new();
        let mut rot: Vec<(f64, f64)> = Vec::new();
        let mut g = vec![beta];
        for k in 0..restart {
            steps += 1;
            z.push(precondition(v[k].as_ref()));
            let mut w = apply(z[k].as_ref());
            let mut col = vec![0.0; k + 2];
            for (i, vi) in v.iter().enumerate() {
                col[i] = dot(&w, vi);
                w -= vi * faer::Scale(col[i]);
            }
            col[k + 1] = w.norm_l2();
            for (i, &(c, s)) in rot.iter().enumerate() {
                let (p, q) = (col[i], col[i + 1]);
                (col[i], col[i + 1]) = (c * p + s * q, -s * p + c * q);
            }
            let rho = col[k].hypot(col[k + 1]);
            let (c, s) = if rho == 0.0 {
                (1.0, 0.0)
            } else {
                (col[k] / rho, col[k + 1] / rho)
            };
            (col[k], col[k + 1]) = (rho, 0.0);
            rot.push((c, s));
            g.push(-s * g[k]);
            g[k] *= c;
            let breakdown = w.norm_l2() <= f64::EPSILON * rho;
            h.push(col);
            if !breakdown {
                let norm_w = w.norm_l2();
                v.push(w * faer::Scale(1.0 / norm_w));
            }
            if g[k + 1].abs() <= tolerance * norm_r || breakdown || steps >= cap {
                break;
            }
        }
        // Back substitution in the triangular Hessenberg factor, then x += Σ y_i z_i.
        let m = h.len();
        let mut y = vec![0.0; m];
        for i in (0..m).rev() {
            let t: f64 = (i + 1..m).map(|j| h[j][i] * y[j]).sum();
            y[i] = if h[i][i] != 0.0 { (g[i] - t) / h[i][i] } else { 0.0 };
        }
        for (zi, yi) in z.iter().zip(&y) {
            x += zi * faer::Scale(*yi);
        }
    }
    x
}

impl Baseline {
    /// The solution on the tensor grid with the given coordinates per axis (row-major, first axis
    /// slowest): barycentric interpolation for Chebyshev, local cubic for finite differences.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong number of axes, or a baseline whose values do not fill its 1D or 2D
    /// grid of nodes.
    pub fn predict(&self, points: &[Vec<f64>]) -> Result<Vec<f64>> {
        let nodes: usize = self.nodes.iter().map(Vec::len).product();
        if self.nodes.is_empty() || self.nodes.len() > 2 || nodes == 0 || self.values.len() != nodes {
            return Err(Error::Shape {
                what: "baseline values (one per node of its 1D or 2D grid)",
                expected: nodes,
                found: self.values.len(),
            });
        }
        if points.len() != self.nodes.len() {
            return Err(Error::Shape {
                what: "axes of the prediction grid",
                expected: self.nodes.len(),
                found: points.len(),
            });
        }
        // Per axis, the interpolation matrix W_d (points × nodes); the result is W₀ V W₁ᵀ.
        let w: Vec<Mat<f64>> = self
            .nodes
            .iter()
            .zip(points)
            .map(|(x, p)| interpolation_matrix(self.scheme, x, p))
            .collect();
        let n1 = self.nodes.get(1).map_or(1, Vec::len);
        let v = Mat::from_fn(self.nodes[0].len(), n1, |i, j| self.values[i * n1 + j]);
        let mut out = &w[0] * &v;
        if let Some(w1) = w.get(1) {
            out = &out * w1.transpose();
        }
        Ok((0..out.nrows() * out.ncols())
            .map(|k| out[(k / out.ncols(), k % out.ncols())])
            .collect())
    }
}

/// Rows of interpolation weights from the nodes `x` to the points `p`.
fn interpolation_matrix(scheme: Scheme, x: &[f64], p: &[f64]) -> Mat<f64> {
    let n = x.len();
    let mut w = Mat::<f64>::zeros(p.len(), n);
    for (row, &t) in p.iter().enumerate() {
        match scheme {
            Scheme::Chebyshev => {
                let bw = chebyshev_weights(n);
                if let Some(j) = x.iter().position(|&xj| xj == t) {
                    w[(row, j)] = 1.0;
                    continue;
                }
                let terms: Vec<f64> = (0..n).map(|j| bw[j] / (t - x[j])).collect();
                let total: f64 = terms.iter().sum();
                for j in 0..n {
                    w[(row, j)] = terms[j] / total;
                }
            }
            Scheme::FiniteDifferences => {
                // The four nodes around t (the ends clamp; fewer on a shorter axis), Lagrange weights.
                let width = n.min(4);
                let h = if n > 1 { x[1] - x[0] } else { 1.0 };
                let k = (((t - x[0]) / h).floor() as isize - 1).clamp(0, (n - width) as isize) as usize;
                for j in k..k + width {
                    w[(row, j)] = (k..k + width)
                        .filter(|&m| m != j)
                        .map(|m| (t - x[m]) / (x[j] - x[m]))
                        .product();
                }
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(operator: &str, exact: &str, points: usize, dims: usize, extra: &str) -> Problem {
        let names = ["x", "y"];
        let axes: String = names[..dims]
            .iter()
            .map(|n| format!("[[axis]]\nname = \"{n}\"\nlower = 0\nupper = 1\npoints = {points}\n"))
            .collect();
        Problem::from_toml(&format!(
            "name = \"t\"\n{extra}\n{axes}[[equation]]\noperator = \"{operator}\"\n[exact]\nu = \"{exact}\"\n"
        ))
        .unwrap()
    }

    fn error(b: &Baseline, p: &Problem) -> f64 {
        let e = p.exact_on(&b.nodes).unwrap().unwrap().remove(0);
        let num: f64 = b.values.iter().zip(&e).map(|(a, b)| (a - b) * (a - b)).sum();
        (num / e.iter().map(|v| v * v).sum::<f64>()).sqrt()
    }

    #[test]
    fn finite_differences_are_exact_on_quadratics_and_second_order() {
        // The three-point Laplacian is exact on polynomials of degree ≤ 3 per axis.
        let p = problem("u_xx + u_yy", "x^2*y + x*y^3 + 1", 12, 2, "");
        let b = solve_baseline(&p, Scheme::FiniteDifferences).unwrap();
        assert!(error(&b, &p) < 1e-13, "{}", error(&b, &p));
        // Halving h divides the error of a smooth non-polynomial solution by about 4.
        let e = |n| {
            let p = problem("u_xx + u_yy + 4*u", "sin(3*x*y) + exp(x)", n, 2, "");
            error(&solve_baseline(&p, Scheme::FiniteDifferences).unwrap(), &p)
        };
        let ratio = e(21) / e(41);
        assert!((3.6..4.4).contains(&ratio), "{ratio}");
    }

    #[test]
    fn chebyshev_converges_spectrally_and_interpolates() {
        let p = problem("u_xx + u_yy", "exp(x*y)*sin(2*x + y)", 24, 2, "");
        let b = solve_baseline(&p, Scheme::Chebyshev).unwrap();
        assert!(error(&b, &p) < 1e-12, "{}", error(&b, &p));
        assert!(b.residual < 1e-12);
        let grid = vec![vec![0.1, 0.33, 0.9], vec![0.05, 0.5]];
        let exact = p.exact_on(&grid).unwrap().unwrap().remove(0);
        let got = b.predict(&grid).unwrap();
        for (g, e) in got.iter().zip(&exact) {
            assert!((g - e).abs() < 1e-11, "{g} vs {e}");
        }
    }

    #[test]
    fn advection_uses_the_inflow_face_and_1d_solves() {
        // u_t + 3 u_x = f on the square: first order in both axes (inflow faces t = 0 and x = 0).
        let p = Problem::from_toml(
            "name = \"a\"\nparameters = { beta = 3 }\n[[axis]]\nname = \"t\"\nlower = 0\nupper = 1\npoints = 28\n\
             [[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 28\n[[equation]]\noperator = \"u_t + beta*u_x\"\n\
             [exact]\nu = \"sin(2*x - 5*t) + t*x\"\n",
        )
        .unwrap();
        let b = solve_baseline(&p, Scheme::Chebyshev).unwrap();
        assert!(error(&b, &p) < 1e-10, "{}", error(&b, &p));
        let f = solve_baseline(&p, Scheme::FiniteDifferences).unwrap();
        assert!(error(&f, &p) < 2e-2, "{}", error(&f, &p));
        let p1 = problem("u_xx - 2*u_x + u", "cos(5*x)", 30, 1, "");
        assert!(error(&solve_baseline(&p1, Scheme::Chebyshev).unwrap(), &p1) < 1e-12);
        let f1 = solve_baseline(&p1, Scheme::FiniteDifferences).unwrap();
        let grid = vec![vec![0.0, 0.37, 1.0]];
        let e1 = p1.exact_on(&grid).unwrap().unwrap().remove(0);
        for (g, e) in f1.predict(&grid).unwrap().iter().zip(&e1) {
            assert!((g - e).abs() < 1e-2, "{g} vs {e}");
        }
    }

    #[test]
    fn a_baseline_built_by_hand_is_checked_before_it_predicts() {
        let short = Baseline {
            scheme: Scheme::FiniteDifferences,
            nodes: vec![vec![0.0, 1.0]],
            values: vec![1.0, 3.0],
            residual: 0.0,
        };
        // Two nodes: linear interpolation.
        assert_eq!(short.predict(&[vec![0.5]]).unwrap(), vec![2.0]);
        let ragged = Baseline {
            values: vec![1.0],
            ..short.clone()
        };
        assert!(matches!(ragged.predict(&[vec![0.5]]), Err(Error::Shape { .. })));
        let empty = Baseline {
            nodes: vec![],
            values: vec![],
            ..short
        };
        assert!(empty.predict(&[]).is_err());
    }

    #[test]
    fn unsupported_problems_say_why() {
        let nonlinear = problem("u_xx + u^3", "sin(x)", 10, 1, "");
        let e = solve_baseline(&nonlinear, Scheme::Chebyshev).unwrap_err().to_string();
        assert!(e.contains("linear"), "{e}");
        let mixed = problem("u_xy + u_xx + u_yy", "x*y", 10, 2, "");
        let e = solve_baseline(&mixed, Scheme::FiniteDifferences)
            .unwrap_err()
            .to_string();
        assert!(e.contains("one axis"), "{e}");
    }
}
