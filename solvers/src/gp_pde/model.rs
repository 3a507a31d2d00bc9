//! The GP collocation model of a PDE on a tensor grid: per field and axis a spectral-mixture kernel, the
//! grid values `u_f` of every field, and the negative log joint of Fang et al. (ICLR 2024)
//!
//! ```text
//! J = Σ_f [½ u_fᵀ C_f⁻¹ u_f + ½ log|C_f|]                          (GP prior on the grid values)
//!   + Σ_e (v/2) ‖r_e / s_e‖² − ½ N E ln v                           (equation residuals, all grid points)
//!   + w_b [Σ_f (τ/2) ‖(u_f − g_f)_∂ / t_f‖² − ½ N_∂ F ln τ]         (Dirichlet data)
//! ```
//!
//! with `C_f = ⊗_d (K_fd + jitter·k_fd(0)·I)`, derivatives on the grid `∂^α u = (⊗_d K_d⁽ᵅᵈ⁾ C_d⁻¹) u` (the GP
//! posterior mean's derivatives), `s_e` the RMS of equation `e`'s source and `t_f` that of field `f`'s
//! boundary data (1 where those vanish), so that `v` and `τ` are scale-free precisions. Everything is
//! applied one axis at a time (mode products), at `O(N Σ n_d)` per product and `O(Σ n_d³)` per kernel
//! update, never forming an `N × N` matrix. Gradients in the kernel parameters are analytic (through the
//! Toeplitz lags of the uniform axes), checked against finite differences in the tests.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, MatMut, MatRef, Side};
use rayon::prelude::*;

use super::kernel::{Component, SpectralMixture, Spectrum};
use super::operator::{Derivative, Discretization};
use crate::{Error, Result};

/// Per-axis kernel algebra for one field: `C⁻¹`, `log|C|` and the derivative matrices `K⁽ᵐ⁾C⁻¹`.
#[derive(Debug, Clone)]
pub(crate) struct AxisFactor {
    pub(crate) kernel: SpectralMixture,
    pub(crate) step: f64,
    pub(crate) c_inv: Mat<f64>,
    pub(crate) log_det: f64,
    /// `deriv[m − 1] = K⁽ᵐ⁾ C⁻¹`.
    pub(crate) deriv: Vec<Mat<f64>>,
    /// `C` itself and `kernels[m − 1] = K⁽ᵐ⁾`, for the whitened solves ([`Model::whitening`]).
    c: Mat<f64>,
    kernels: Vec<Mat<f64>>,
}

impl AxisFactor {
    pub(crate) fn new(kernel: SpectralMixture, n: usize, step: f64, max_order: usize, jitter: f64) -> Result<Self> {
        let lags: Vec<Vec<f64>> = (0..=max_order)
            .map(|m| {
                (0..n)
                    .map(|l| kernel.derivative(l as f64 * step, m))
                    .collect::<Result<_>>()
            })
            .collect::<Result<_>>()?;
        let toeplitz = |m: usize| {
            let sign = if m % 2 == 1 { -1.0 } else { 1.0 };
            Mat::from_fn(n, n, |i, j| if i >= j { lags[m][i - j] } else { sign * lags[m][j - i] })
        };
        let k0 = lags[0][0];
        let mut c = toeplitz(0);
        for i in 0..n {
            c[(i, i)] += jitter * k0;
        }
        let llt = c.as_ref().llt(Side::Lower).map_err(|e| Error::Singular {
            what: "an axis's kernel matrix K + jitter·k(0)·I",
            detail: format!("{n} points, jitter {jitter:e}, {e:?}; raise Settings::jitter"),
        })?;
        let log_det = 2.0 * (0..n).map(|i| llt.L()[(i, i)].ln()).sum::<f64>();
        let c_inv = llt.inverse();
        let kernels: Vec<Mat<f64>> = (1..=max_order).map(toeplitz).collect();
        let deriv = kernels.iter().map(|k| k * &c_inv).collect();
        Ok(Self {
            kernel,
            step,
            c_inv,
            log_det,
            deriv,
            c,
            kernels,
        })
    }

    /// `K⁽ᵐ⁾C⁻¹`, or `None` for `m = 0` (the identity).
    fn derivative(&self, m: usize) -> Option<MatRef<'_, f64>> {
        (m > 0).then(|| self.deriv[m - 1].as_ref())
    }

    /// `K⁽ᵐ⁾`, with `K⁽⁰⁾ = C`.
    fn kernel_matrix(&self, m: usize) -> MatRef<'_, f64> {
        if m == 0 {
            self.c.as_ref()
        } else {
            self.kernels[m - 1].as_ref()
        }
    }
}

/// `y = M ×_axis x`: the matrix `m` (`r × shape[axis]`) applied along `axis` of the row-major tensor `x`.
pub(crate) fn along(m: MatRef<'_, f64>, x: &[f64], shape: &[usize], axis: usize) -> Vec<f64> {
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let outer: usize = shape[..axis].iter().product();
    let r = m.nrows();
    let mut y = vec![0.0; outer * r * inner];
    if inner == 1 {
        // The last axis: Y = X Mᵀ over all lines instead of `outer` matrix-vector products.
        let xo = MatRef::from_row_major_slice(x, outer, n);
        let yo = MatMut::from_row_major_slice_mut(&mut y, outer, r);
        crate::parallel::matmul_by_rows(yo, xo, m.transpose());
        return y;
    }
    // One product per outer index, each in column pieces, all in parallel (every entry is computed the
    // same way on any pool).
    y.par_chunks_mut(r * inner)
        .zip(x.par_chunks(n * inner))
        .for_each(|(ys, xs)| {
            let xo = MatRef::from_row_major_slice(xs, n, inner);
            let yo = MatMut::from_row_major_slice_mut(ys, r, inner);
            crate::parallel::matmul_by_columns(yo, m, xo);
        });
    y
}

/// `acc += α Σ_o A_o B_oᵀ` over the unfoldings of two tensors along `axis` (`n_axis × n_axis`): each
/// unfolding's product in column pieces, all in parallel, the pieces added to `acc` in order.
fn unfolded_outer(a: &[f64], b: &[f64], shape: &[usize], axis: usize, acc: &mut Mat<f64>, alpha: f64) {
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let partial: Vec<Vec<Mat<f64>>> = a
        .par_chunks(n * inner)
        .zip(b.par_chunks(n * inner))
        .map(|(ao, bo)| {
            let ao = MatRef::from_row_major_slice(ao, n, inner);
            let bo = MatRef::from_row_major_slice(bo, n, inner);
            crate::parallel::outer_products_by_columns(ao, bo, alpha)
        })
        .collect();
    for part in partial.iter().flatten() {
        *acc += part;
    }
}

/// The preconditioner of [`Model::whitened_preconditioner`]: per field a diagonal plus the boundary faces' low-rank terms (inverted by the Woodbury identity).
pub(crate) struct Preconditioner {
    /// Per field: the diagonal part (grid order).
    diagonals: Vec<Vec<f64>>,
    /// Per field: the faces' terms `U Uᵀ`, when they were kept out of the diagonal.
    faces: Vec<Option<FaceTerms>>,
}

/// The boundary faces' part `U Uᵀ` of a preconditioner (one column of `U` per grid line ending on a face),
/// with the Cholesky factor of the Woodbury capacitance matrix `I + Uᵀ D⁻¹ U`.
struct FaceTerms {
    /// Per face: the entry of `U` at every grid point (one per point: each point lies on one line per
    /// face) and the column it belongs to.
    entries: Vec<(Vec<f64>, Vec<usize>)>,
    capacitance: faer::linalg::solvers::Llt<f64>,
}

impl FaceTerms {
    /// `Uᵀ y`.
    fn project(&self, y: &[f64]) -> Vec<f64> {
        let mut w = vec![0.0; self.capacitance.L().nrows()];
        for (values, cols) in &self.entries {
            for ((x, &c), yi) in values.iter().zip(cols).zip(y) {
                w[c] += x * yi;
            }
        }
        w
    }
}

/// Cap on the rank of the boundary faces' terms that [`Model::whitened_preconditioner`] treats exactly (its
/// capacitance matrix is factored densely); above it they join the diagonal.
const FACE_RANK_LIMIT: usize = 6000;

impl Preconditioner {
    /// `P⁻¹ r`: `O(N)` per field plus the capacitance solve.
    pub(crate) fn apply(&self, r: &[Vec<f64>]) -> Vec<Vec<f64>> {
        use faer::linalg::solvers::Solve;
        r.iter()
            .enumerate()
            .map(|(f, x)| {
                let mut y = x.clone();
                let diag = &self.diagonals[f];
                y.iter_mut().zip(diag).for_each(|(a, p)| *a /= p);
                if let Some(ft) = &self.faces[f] {
                    // Woodbury: (D + U Uᵀ)⁻¹ = D⁻¹ − D⁻¹ U (I + Uᵀ D⁻¹ U)⁻¹ Uᵀ D⁻¹.
                    let w = ft.project(&y);
                    let s = ft.capacitance.solve(MatRef::from_column_major_slice(&w, w.len(), 1));
                    for (values, cols) in &ft.entries {
                        for (i, (x, &c)) in values.iter().zip(cols).enumerate() {
                            y[i] -= x * s[(c, 0)] / diag[i];
                        }
                    }
                }
                y
            })
            .collect()
    }
}

/// One axis of a [`Whitening`].
struct WhitenedAxis {
    /// Eigenvectors `Q_d` of `C_d`.
    q: Mat<f64>,
    /// Its eigenvalues.
    lambda: Vec<f64>,
    /// `maps[0] = Q_d Λ_d^½` (values), `maps[m] = K_d⁽ᵐ⁾ Q_d Λ_d^-½` (`m`-th derivatives).
    maps: Vec<Mat<f64>>,
}

/// Whitened coordinates of the prior, per field and axis (see [`Model::whitening`]).
pub(crate) struct Whitening {
    axes: Vec<Vec<WhitenedAxis>>,
    /// Per field, in grid order: `Π_d λ_d^½`, the diagonal of `(⊗_d Λ_d)^½`.
    sqrt_lambda: Vec<Vec<f64>>,
}

/// Number of trained parameters per mixture component: `ln w`, `μ`, `ln σ`.
pub(crate) const PER_COMPONENT: usize = 3;

/// The model: a discretized PDE, its kernels' family and the precisions; the parameters live outside
/// (`theta`, `u`) so that optimizers can own them.
pub(crate) struct Model<'a> {
    pub(crate) disc: &'a Discretization,
    pub(crate) shape: Vec<usize>,
    pub(crate) spectrum: Spectrum,
    pub(crate) components: usize,
    pub(crate) jitter: f64,
    pub(crate) boundary_weight: f64,
    /// The distinct derivatives the equations use.
    derivs: Vec<Derivative>,
    /// Per equation: `(coefficient, derivative indices)` per term.
    terms: Vec<Vec<(f64, Vec<usize>)>>,
    /// `max_order[f][d]`.
    max_order: Vec<Vec<usize>>,
    pub(crate) mask: Vec<bool>,
    source_scale: Vec<f64>,
    boundary_scale: Vec<f64>,
}

/// The value of the objective and its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    /// The negative log joint `J`.
    pub total: f64,
    /// RMS of the scaled equation residuals `r_e / s_e` over all grid points and equations.
    pub residual_rms: f64,
    /// RMS of the scaled boundary misfit `(u_f − g_f) / t_f` over the boundary points and fields.
    pub boundary_rms: f64,
}

/// What an evaluation keeps for gradients.
pub(crate) struct Evaluation {
    pub(crate) objective: Objective,
    /// Derivative fields, per distinct derivative.
    fields: Vec<Vec<f64>>,
    /// Scaled residuals per equation.
    residuals: Vec<Vec<f64>>,
    /// `C_f⁻¹ u_f`.
    prior: Vec<Vec<f64>>,
    /// `‖r/s‖²` over all equations and grid points.
    residual_sq: f64,
    /// `‖(u − g)_∂/t‖²` over all fields, and the number of its terms.
    boundary_sq: f64,
    boundary_terms: usize,
}

impl Evaluation {
    /// `C_f⁻¹ u_f` per field: the weights of the posterior mean.
    pub(crate) fn weights(&self) -> &[Vec<f64>] {
        &self.prior
    }

    /// `v · r/s`: the weights of the residuals in `∂J/∂(derivative fields)`.
    fn weighted_residuals(&self, v: f64) -> Vec<Vec<f64>> {
        self.residuals
            .iter()
            .map(|r| r.iter().map(|x| v * x).collect())
            .collect()
    }

    /// The product of a term's factors other than the one at `pos`, at grid point `i`: the term's
    /// derivative with respect to that factor.
    fn cofactor(&self, idx: &[usize], pos: usize, i: usize) -> f64 {
        idx.iter()
            .enumerate()
            .filter(|(p, _)| *p != pos)
            .map(|(_, &j)| self.fields[j][i])
            .product()
    }
}

fn rms(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt()
    }
}

impl<'a> Model<'a> {
    pub(crate) fn new(
        disc: &'a Discretization,
        spectrum: Spectrum,
        components: usize,
        jitter: f64,
        boundary_weight: f64,
    ) -> Result<Self> {
        disc.validate()?;
        let dims = disc.grid.axes().len();
        let mut derivs: Vec<Derivative> = Vec::new();
        let mut max_order = vec![vec![0; dims]; disc.fields];
        let terms = disc
            .equations
            .iter()
            .map(|eq| {
                eq.terms
                    .iter()
                    .map(|t| {
                        let idx = t
                            .factors
                            .iter()
                            .map(|f| {
                                for (d, &m) in f.orders.iter().enumerate() {
                                    max_order[f.field][d] = max_order[f.field][d].max(m);
                                }
                                derivs.iter().position(|g| g == f).unwrap_or_else(|| {
                                    derivs.push(f.clone());
                                    derivs.len() - 1
                                })
                            })
                            .collect();
                        (t.coefficient, idx)
                    })
                    .collect()
            })
            .collect();
        let mask: Vec<bool> = (0..disc.grid.len()).map(|i| disc.on_boundary(i)).collect();
        // Data whose RMS is at round-off level (sin(200π) ≈ 1e-14 for a "zero" boundary) count as
        // homogeneous: scaling by them would raise the weights by 1/ε².
        let scale = |v: &[f64]| {
            let s = rms(v);
            if s > 1e-8 { s } else { 1.0 }
        };
        let source_scale = disc.sources.iter().map(|s| scale(s)).collect();
        let boundary_scale = disc
            .boundary
            .iter()
            .map(|g| {
                let on: Vec<f64> = g.iter().zip(&mask).filter(|(_, m)| **m).map(|(x, _)| *x).collect();
                scale(&on)
            })
            .collect();
        let model = Self {
            disc,
            shape: disc.grid.shape(),
            spectrum,
            components,
            jitter,
            boundary_weight,
            derivs,
            terms,
            max_order,
            mask,
            source_scale,
            boundary_scale,
        };
        for f in 0..disc.fields {
            for d in 0..dims {
                let probe = SpectralMixture::new(
                    spectrum,
                    vec![Component {
                        weight: 1.0,
                        mean: 0.0,
                        scale: 1.0,
                    }],
                )?;
                if model.max_order[f][d] > probe.max_order() {
                    return Err(Error::InvalidParameter {
                        name: "kernel",
                        reason: format!(
                            "the operator takes {} derivatives along axis {d}, more than the {spectrum:?} \
                             kernel's {}",
                            model.max_order[f][d],
                            probe.max_order()
                        ),
                    });
                }
            }
        }
        Ok(model)
    }

    pub(crate) fn dims(&self) -> usize {
        self.shape.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Offset of the parameters of field `f`, axis `d` in `theta`.
    pub(crate) fn offset(&self, f: usize, d: usize) -> usize {
        (f * self.dims() + d) * self.components * PER_COMPONENT
    }

    /// Number of kernel parameters.
    pub(crate) fn kernel_parameters(&self) -> usize {
        self.disc.fields * self.dims() * self.components * PER_COMPONENT
    }

    pub(crate) fn kernel(&self, theta: &[f64], f: usize, d: usize) -> Result<SpectralMixture> {
        let o = self.offset(f, d);
        let comps = theta[o..o + self.components * PER_COMPONENT]
            .chunks(PER_COMPONENT)
            .map(|p| Component {
                weight: p[0].exp(),
                mean: p[1],
                scale: p[2].exp(),
            })
            .collect();
        SpectralMixture::new(self.spectrum, comps)
    }

    /// The per-field, per-axis factors for kernel parameters `theta`.
    pub(crate) fn factors(&self, theta: &[f64]) -> Result<Vec<Vec<AxisFactor>>> {
        if let Some(i) = theta.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite {
                what: "kernel parameters",
                row: i,
                col: 0,
            });
        }
        (0..self.disc.fields)
            .map(|f| {
                (0..self.dims())
                    .map(|d| {
                        let a = self.disc.grid.axes()[d];
                        AxisFactor::new(
                            self.kernel(theta, f, d)?,
                            a.points,
                            a.step(),
                            self.max_order[f][d],
                            self.jitter,
                        )
                    })
                    .collect()
            })
            .collect()
    }

    /// `(⊗_d M_d) x` with `M_d = pick(d)` (skipped where `None`).
    fn apply<'m>(&self, x: &[f64], mut pick: impl FnMut(usize) -> Option<MatRef<'m, f64>>) -> Vec<f64> {
        let mut y = x.to_vec();
        for d in 0..self.dims() {
            if let Some(m) = pick(d) {
                y = along(m, &y, &self.shape, d);
            }
        }
        y
    }

    fn derive(&self, fac: &[AxisFactor], x: &[f64], orders: &[usize]) -> Vec<f64> {
        self.apply(x, |d| fac[d].derivative(orders[d]))
    }

    fn derive_transposed(&self, fac: &[AxisFactor], x: &[f64], orders: &[usize]) -> Vec<f64> {
        self.apply(x, |d| fac[d].derivative(orders[d]).map(|m| m.transpose()))
    }

    fn prior_solve(&self, fac: &[AxisFactor], x: &[f64]) -> Vec<f64> {
        self.apply(x, |d| Some(fac[d].c_inv.as_ref()))
    }

    /// Evaluates `J` at `(u, ln v, ln τ)`: derivatives `K⁽ᵐ⁾C⁻¹u`, prior `uᵀC⁻¹u`.
    pub(crate) fn evaluate(&self, fac: &[Vec<AxisFactor>], u: &[Vec<f64>], log_v: f64, log_tau: f64) -> Evaluation {
        let fields: Vec<Vec<f64>> = self
            .derivs
            .iter()
            .map(|g| self.derive(&fac[g.field], &u[g.field], &g.orders))
            .collect();
        let prior: Vec<Vec<f64>> = (0..self.disc.fields)
            .map(|f| self.prior_solve(&fac[f], &u[f]))
            .collect();
        let quad: Vec<f64> = u
            .iter()
            .zip(&prior)
            .map(|(u, p)| u.iter().zip(p).map(|(a, b)| a * b).sum())
            .collect();
        self.assemble(fac, u, fields, prior, &quad, log_v, log_tau)
    }

    /// Evaluates `J` at `u = W z` from the whitened coordinates `z` (see [`Model::whitening`]):
    /// derivatives `K⁽ᵐ⁾QΛ^-½z`, prior `‖z‖²`, `C⁻¹u = QΛ^-½z`. The same value as [`Model::evaluate`] in
    /// exact arithmetic, but free of `C⁻¹`'s condition number (`10¹²` with jitter `10⁻¹⁰`), which in
    /// double precision bounds the grid-value form's residuals at about `10⁻⁷` of the source (1D Poisson
    /// `sin(100x)`: relative error `10⁻⁵` there against `5·10⁻⁸` here, the exact-arithmetic optimum).
    /// Returns the evaluation and `u`.
    pub(crate) fn evaluate_whitened(
        &self,
        fac: &[Vec<AxisFactor>],
        wh: &Whitening,
        z: &[Vec<f64>],
        log_v: f64,
        log_tau: f64,
    ) -> (Evaluation, Vec<Vec<f64>>) {
        let fields: Vec<Vec<f64>> = self
            .derivs
            .iter()
            .map(|g| self.apply(&z[g.field], |d| Some(wh.axes[g.field][d].maps[g.orders[d]].as_ref())))
            .collect();
        let prior: Vec<Vec<f64>> = z
            .iter()
            .enumerate()
            .map(|(f, x)| {
                let scaled: Vec<f64> = x.iter().zip(&wh.sqrt_lambda[f]).map(|(zi, s)| zi / s).collect();
                self.apply(&scaled, |d| Some(wh.axes[f][d].q.as_ref()))
            })
            .collect();
        let quad: Vec<f64> = z.iter().map(|x| x.iter().map(|a| a * a).sum()).collect();
        let u = self.unwhiten(wh, z);
        let ev = self.assemble(fac, &u, fields, prior, &quad, log_v, log_tau);
        (ev, u)
    }

    /// `J` and what its gradients keep, from the derivative fields, `C⁻¹u` and `uᵀC⁻¹u` per field.
    #[allow(clippy::too_many_arguments)]
    fn assemble(
        &self,
        fac: &[Vec<AxisFactor>],
        u: &[Vec<f64>],
        fields: Vec<Vec<f64>>,
        prior: Vec<Vec<f64>>,
        quad: &[f64],
        log_v: f64,
        log_tau: f64,
    ) -> Evaluation {
        let n = self.len();
        let residuals: Vec<Vec<f64>> = self
            .terms
            .iter()
            .enumerate()
            .map(|(e, terms)| {
                let s = self.source_scale[e];
                (0..n)
                    .map(|i| {
                        let lhs: f64 = terms
                            .iter()
                            .map(|(c, idx)| c * idx.iter().map(|&k| fields[k][i]).product::<f64>())
                            .sum();
                        (lhs - self.disc.sources[e][i]) / s
                    })
                    .collect()
            })
            .collect();
        let mut total = 0.0;
        for f in 0..self.disc.fields {
            let log_det: f64 = fac[f].iter().map(|a| a.log_det * (n / a.c_inv.nrows()) as f64).sum();
            total += 0.5 * (quad[f] + log_det);
        }
        let (v, tau) = (log_v.exp(), log_tau.exp());
        let res_sq: f64 = residuals.iter().flatten().map(|r| r * r).sum();
        let n_res = (n * residuals.len()) as f64;
        total += 0.5 * v * res_sq - 0.5 * n_res * log_v;
        let (bd_sq, n_bd) = self
            .boundary_misfit(u)
            .iter()
            .flatten()
            .fold((0.0, 0usize), |(s, c), b| (s + b * b, c + 1));
        total += self.boundary_weight * (0.5 * tau * bd_sq - 0.5 * n_bd as f64 * log_tau);
        Evaluation {
            objective: Objective {
                total,
                residual_rms: (res_sq / n_res).sqrt(),
                boundary_rms: (bd_sq / n_bd.max(1) as f64).sqrt(),
            },
            fields,
            residuals,
            prior,
            residual_sq: res_sq,
            boundary_sq: bd_sq,
            boundary_terms: n_bd,
        }
    }

    /// Scaled boundary misfit per field, on the boundary points only (in grid order).
    fn boundary_misfit(&self, u: &[Vec<f64>]) -> Vec<Vec<f64>> {
        (0..self.disc.fields)
            .map(|f| {
                (0..self.len())
                    .filter(|&i| self.mask[i])
                    .map(|i| (u[f][i] - self.disc.boundary[f][i]) / self.boundary_scale[f])
                    .collect()
            })
            .collect()
    }

    /// Adjoints of the distinct derivative fields for weights `w_e` on the scaled residuals:
    /// `a_k = Σ_{e, terms, factors = k} (w_e / s_e) c Π_{other factors}`.
    fn derivative_adjoints(&self, ev: &Evaluation, w: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let n = self.len();
        let mut adj = vec![vec![0.0; n]; self.derivs.len()];
        for (e, terms) in self.terms.iter().enumerate() {
            let s = self.source_scale[e];
            for (c, idx) in terms {
                for (pos, &k) in idx.iter().enumerate() {
                    for i in 0..n {
                        adj[k][i] += w[e][i] / s * c * ev.cofactor(idx, pos, i);
                    }
                }
            }
        }
        adj
    }

    /// `Jᵀ w`: the gradient in `u` of `Σ_e w_e · (r_e / s_e)`.
    fn vjp(&self, fac: &[Vec<AxisFactor>], ev: &Evaluation, w: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let adj = self.derivative_adjoints(ev, w);
        let mut g = vec![vec![0.0; self.len()]; self.disc.fields];
        for (k, a) in adj.iter().enumerate() {
            let d = &self.derivs[k];
            let back = self.derive_transposed(&fac[d.field], a, &d.orders);
            g[d.field].iter_mut().zip(&back).for_each(|(x, y)| *x += y);
        }
        g
    }

    /// `J δ`: the change of the scaled residuals for a change `δ` of the fields.
    #[cfg(test)]
    fn jvp(&self, fac: &[Vec<AxisFactor>], ev: &Evaluation, delta: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let dfields: Vec<Vec<f64>> = self
            .derivs
            .iter()
            .map(|g| self.derive(&fac[g.field], &delta[g.field], &g.orders))
            .collect();
        self.linearised_residuals(ev, &dfields)
    }

    /// The change of the scaled residuals for changes `dfields` of the distinct derivative fields.
    fn linearised_residuals(&self, ev: &Evaluation, dfields: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let n = self.len();
        self.terms
            .iter()
            .enumerate()
            .map(|(e, terms)| {
                let s = self.source_scale[e];
                (0..n)
                    .map(|i| {
                        terms
                            .iter()
                            .map(|(c, idx)| {
                                idx.iter()
                                    .enumerate()
                                    .map(|(pos, &k)| c * ev.cofactor(idx, pos, i) * dfields[k][i])
                                    .sum::<f64>()
                            })
                            .sum::<f64>()
                            / s
                    })
                    .collect()
            })
            .collect()
    }

    /// `∇_u J`.
    pub(crate) fn gradient_u(
        &self,
        fac: &[Vec<AxisFactor>],
        ev: &Evaluation,
        u: &[Vec<f64>],
        log_v: f64,
        log_tau: f64,
    ) -> Vec<Vec<f64>> {
        let v = log_v.exp();
        let w = ev.weighted_residuals(v);
        let mut g = self.vjp(fac, ev, &w);
        let boundary = self.boundary_gradient(u, log_tau);
        for f in 0..self.disc.fields {
            for i in 0..self.len() {
                g[f][i] += ev.prior[f][i] + boundary[f][i];
            }
        }
        g
    }

    /// `w_b τ P_∂ x_f / t_f²` per field: the boundary term's weights applied to `x` (zero off the boundary).
    fn boundary_weighted(&self, x: &[Vec<f64>], log_tau: f64) -> Vec<Vec<f64>> {
        let c = self.boundary_weight * log_tau.exp();
        x.iter()
            .enumerate()
            .map(|(f, x)| {
                let t2 = self.boundary_scale[f].powi(2);
                x.iter()
                    .zip(&self.mask)
                    .map(|(x, &m)| if m { c * x / t2 } else { 0.0 })
                    .collect()
            })
            .collect()
    }

    /// The boundary term's gradient in the grid values: [`Model::boundary_weighted`] of the misfit `u − g`.
    fn boundary_gradient(&self, u: &[Vec<f64>], log_tau: f64) -> Vec<Vec<f64>> {
        let misfit: Vec<Vec<f64>> = u
            .iter()
            .zip(&self.disc.boundary)
            .map(|(u, g)| u.iter().zip(g).map(|(a, b)| a - b).collect())
            .collect();
        self.boundary_weighted(&misfit, log_tau)
    }

    /// The Gauss–Newton Hessian applied to `δ`: `C⁻¹δ + v JᵀJδ + w_b τ P_∂ δ / t²`.
    #[cfg(test)]
    pub(crate) fn gauss_newton(
        &self,
        fac: &[Vec<AxisFactor>],
        ev: &Evaluation,
        delta: &[Vec<f64>],
        log_v: f64,
        log_tau: f64,
    ) -> Vec<Vec<f64>> {
        let v = log_v.exp();
        let jd: Vec<Vec<f64>> = self
            .jvp(fac, ev, delta)
            .into_iter()
            .map(|r| r.into_iter().map(|x| v * x).collect())
            .collect();
        let mut h = self.vjp(fac, ev, &jd);
        let boundary = self.boundary_weighted(delta, log_tau);
        for f in 0..self.disc.fields {
            let prior = self.prior_solve(&fac[f], &delta[f]);
            for i in 0..self.len() {
                h[f][i] += prior[i] + boundary[f][i];
            }
        }
        h
    }

    /// The whitened coordinates of `fac`'s prior: per field and axis the eigenpairs of `C_d` and the
    /// maps from `z` (with `u = (⊗_d Q_d Λ_d^½) z`) to the derivative fields.
    pub(crate) fn whitening(&self, fac: &[Vec<AxisFactor>]) -> Result<Whitening> {
        let axes = fac
            .iter()
            .enumerate()
            .map(|(f, axes)| {
                axes.iter()
                    .enumerate()
                    .map(|(d, a)| {
                        let nd = self.shape[d];
                        let evd =
                            a.c.as_ref()
                                .self_adjoint_eigen(Side::Lower)
                                .map_err(|e| Error::InvalidParameter {
                                    name: "kernel",
                                    reason: format!("eigendecomposition of an axis covariance failed: {e:?}"),
                                })?;
                        // C_d = K_d + jitter·k(0)·I is positive definite; round-off can still leave its
                        // smallest computed eigenvalues at or below zero, so they are floored at the jitter.
                        let floor = self.jitter * a.c[(0, 0)] / (1.0 + self.jitter);
                        let lambda: Vec<f64> = (0..nd).map(|j| evd.S().column_vector()[j].max(floor)).collect();
                        let q = evd.U().to_owned();
                        let maps = (0..=self.max_order[f][d])
                            .map(|m| {
                                let power = if m == 0 { 0.5 } else { -0.5 };
                                let mut w = if m == 0 { q.clone() } else { a.kernel_matrix(m) * &q };
                                for j in 0..nd {
                                    let scale = lambda[j].powf(power);
                                    for i in 0..nd {
                                        w[(i, j)] *= scale;
                                    }
                                }
                                w
                            })
                            .collect();
                        Ok(WhitenedAxis { q, lambda, maps })
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<Vec<WhitenedAxis>>>>()?;
        // Row-major grid order: the first axis slowest.
        let sqrt_lambda = axes
            .iter()
            .map(|field| {
                field.iter().fold(vec![1.0], |acc, a| {
                    acc.iter()
                        .flat_map(|x| a.lambda.iter().map(move |l| x * l.sqrt()))
                        .collect()
                })
            })
            .collect();
        Ok(Whitening { axes, sqrt_lambda })
    }

    /// `z = Λ^-½ Qᵀ u` per field.
    pub(crate) fn whiten(&self, wh: &Whitening, u: &[Vec<f64>]) -> Vec<Vec<f64>> {
        u.iter()
            .enumerate()
            .map(|(f, x)| {
                let mut z = self.apply(x, |d| Some(wh.axes[f][d].q.transpose()));
                z.iter_mut().zip(&wh.sqrt_lambda[f]).for_each(|(zi, s)| *zi /= s);
                z
            })
            .collect()
    }

    /// `u = (⊗_d Q_d Λ_d^½) z` per field.
    pub(crate) fn unwhiten(&self, wh: &Whitening, z: &[Vec<f64>]) -> Vec<Vec<f64>> {
        z.iter()
            .enumerate()
            .map(|(f, x)| self.apply(x, |d| Some(wh.axes[f][d].maps[0].as_ref())))
            .collect()
    }

    /// `Wᵀ` of the `u`-space gradient parts other than the prior, plus the prior's `z`: `∇_z J` at
    /// `u = W z` (the residual adjoints are taken from `ev`, the evaluation at `u`).
    pub(crate) fn gradient_whitened(
        &self,
        wh: &Whitening,
        ev: &Evaluation,
        u: &[Vec<f64>],
        z: &[Vec<f64>],
        log_v: f64,
        log_tau: f64,
    ) -> Vec<Vec<f64>> {
        let adj = self.derivative_adjoints(ev, &ev.weighted_residuals(log_v.exp()));
        let boundary = self.boundary_gradient(u, log_tau);
        let mut g = z.to_vec();
        self.add_whitened_adjoints(wh, &adj, &boundary, &mut g);
        g
    }

    /// `g_f += Σ_k (⊗_d W_kd)ᵀ adj_k + (⊗_d W_0d)ᵀ boundary_f`.
    fn add_whitened_adjoints(&self, wh: &Whitening, adj: &[Vec<f64>], boundary: &[Vec<f64>], g: &mut [Vec<f64>]) {
        for (k, a) in adj.iter().enumerate() {
            let h = &self.derivs[k];
            let back = self.apply(a, |d| Some(wh.axes[h.field][d].maps[h.orders[d]].transpose()));
            g[h.field].iter_mut().zip(&back).for_each(|(x, y)| *x += y);
        }
        for (f, b) in boundary.iter().enumerate() {
            let back = self.apply(b, |d| Some(wh.axes[f][d].maps[0].transpose()));
            g[f].iter_mut().zip(&back).for_each(|(x, y)| *x += y);
        }
    }

    /// The Gauss–Newton Hessian in the whitened coordinates `z` applied to `δ`:
    /// `δ + v (JW)ᵀ(JW) δ + w_b τ Wᵀ P_∂ W δ / t²`, with `J W` built from the per-axis maps
    /// `K_d⁽ᵐ⁾ Q_d Λ_d^-½` (never `C⁻¹`: the grid-value form has `C⁻¹`'s condition number, and the weights
    /// of `u = C a` that of `C`, both beyond double precision on fine 2D grids).
    pub(crate) fn gauss_newton_whitened(
        &self,
        wh: &Whitening,
        ev: &Evaluation,
        delta: &[Vec<f64>],
        log_v: f64,
        log_tau: f64,
    ) -> Vec<Vec<f64>> {
        let v = log_v.exp();
        let dfields: Vec<Vec<f64>> = self
            .derivs
            .iter()
            .map(|g| {
                self.apply(&delta[g.field], |d| {
                    Some(wh.axes[g.field][d].maps[g.orders[d]].as_ref())
                })
            })
            .collect();
        let jd: Vec<Vec<f64>> = self
            .linearised_residuals(ev, &dfields)
            .into_iter()
            .map(|r| r.into_iter().map(|x| v * x).collect())
            .collect();
        let adj = self.derivative_adjoints(ev, &jd);
        let boundary = self.boundary_weighted(&self.unwhiten(wh, delta), log_tau);
        let mut h = delta.to_vec();
        self.add_whitened_adjoints(wh, &adj, &boundary, &mut h);
        h
    }

    /// The Jacobian of the scaled residuals in the derivative fields, pointwise: `a[e][k][i] = ∂(r_e/s_e)_i /
    /// ∂(field k)_i` (the cofactors of the terms that hold derivative `k`, times their coefficients).
    fn jacobian_coefficients(&self, ev: &Evaluation) -> Vec<Vec<Vec<f64>>> {
        let n = self.len();
        self.terms
            .iter()
            .enumerate()
            .map(|(e, terms)| {
                let s = self.source_scale[e];
                let mut row = vec![vec![0.0; n]; self.derivs.len()];
                for (c, idx) in terms {
                    for (pos, &k) in idx.iter().enumerate() {
                        for (i, a) in row[k].iter_mut().enumerate() {
                            *a += c * ev.cofactor(idx, pos, i) / s;
                        }
                    }
                }
                row
            })
            .collect()
    }

    /// `⊗_d W_d` for derivative orders `orders` of field `f` (`N × N`, row-major grid order): the map from
    /// `z_f` to that derivative field.
    fn whitened_map(&self, wh: &Whitening, f: usize, orders: &[usize]) -> Mat<f64> {
        wh.axes[f]
            .iter()
            .zip(orders)
            .fold(Mat::from_fn(1, 1, |_, _| 1.0), |acc, (a, &m)| {
                let b = &a.maps[m];
                let (rb, cb) = (b.nrows(), b.ncols());
                Mat::from_fn(acc.nrows() * rb, acc.ncols() * cb, |i, j| {
                    acc[(i / rb, j / cb)] * b[(i % rb, j % cb)]
                })
            })
    }

    /// The matrix of [`Model::gauss_newton_whitened`] (all fields stacked, field-major), assembled from
    /// the explicit maps `⊗_d W_d` by GEMMs: `I + v Σ_e M_eᵀ M_e + Σ_f (w_b τ/t_f²) W_{0f}ᵀ P_∂ W_{0f}` with
    /// `M_e = Σ_k diag(a_ek) (⊗_d W_kd)` ([`Model::jacobian_coefficients`]). `O(N²)` memory and `O(N³)`
    /// time: for the dense solves only.
    pub(crate) fn gauss_newton_whitened_matrix(
        &self,
        wh: &Whitening,
        ev: &Evaluation,
        log_v: f64,
        log_tau: f64,
    ) -> Mat<f64> {
        use faer::linalg::matmul::matmul;
        use faer::{Accum, Par};
        let n = self.len();
        let fields = self.disc.fields;
        let jacobian = self.jacobian_coefficients(ev);
        let maps: Vec<Mat<f64>> = self
            .derivs
            .iter()
            .map(|g| self.whitened_map(wh, g.field, &g.orders))
            .collect();
        let mut h = Mat::<f64>::identity(n * fields, n * fields);
        let v = log_v.exp();
        for row in &jacobian {
            let mut m = Mat::<f64>::zeros(n, n * fields);
            for (k, a) in row.iter().enumerate() {
                if a.iter().all(|x| *x == 0.0) {
                    continue;
                }
                let o = self.derivs[k].field * n;
                for j in 0..n {
                    for i in 0..n {
                        m[(i, o + j)] += a[i] * maps[k][(i, j)];
                    }
                }
            }
            matmul(h.as_mut(), Accum::Add, m.transpose(), m.as_ref(), v, Par::Seq);
        }
        let cb = self.boundary_weight * log_tau.exp();
        let boundary: Vec<usize> = (0..n).filter(|&i| self.mask[i]).collect();
        for f in 0..fields {
            let w0 = self.whitened_map(wh, f, &vec![0; self.dims()]);
            let rows = Mat::from_fn(boundary.len(), n, |r, j| w0[(boundary[r], j)]);
            let o = f * n;
            matmul(
                h.as_mut().submatrix_mut(o, o, n, n),
                Accum::Add,
                rows.transpose(),
                rows.as_ref(),
                cb / self.boundary_scale[f].powi(2),
                Par::Seq,
            );
        }
        h
    }

    /// A preconditioner for [`Model::gauss_newton_whitened`], per field: the diagonal of the field's own
    /// block with each Jacobian term's coefficient field replaced by its grid mean,
    /// `1 + v Σ_e Σ_{k,k'} a_ek a_ek' Π_d diag(W_kdᵀ W_k'd)`, plus the boundary faces exactly: face
    /// `(d, end)` adds `w_b τ/t² ⊗_{e≠d} Λ_e ⊗ b bᵀ` with `b = W_0d[end, ·]`, one rank-one term per grid
    /// line along `d`, inverted by the Woodbury identity (joining the diagonal above
    /// `FACE_RANK_LIMIT` lines). Cross-field coupling is left out.
    pub(crate) fn whitened_preconditioner(
        &self,
        wh: &Whitening,
        ev: &Evaluation,
        log_v: f64,
        log_tau: f64,
    ) -> Result<Preconditioner> {
        let n = self.len();
        let dims = self.dims();
        let v = log_v.exp();
        let cb = self.boundary_weight * log_tau.exp();
        let jacobian = self.jacobian_coefficients(ev);
        let mut diagonals = Vec::with_capacity(self.disc.fields);
        let mut faces_out = Vec::with_capacity(self.disc.fields);
        for (f, axes) in wh.axes.iter().enumerate() {
            let coef: Vec<Vec<f64>> = jacobian
                .iter()
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .map(|(k, a)| {
                            if self.derivs[k].field == f {
                                a.iter().sum::<f64>() / n as f64
                            } else {
                                0.0
                            }
                        })
                        .collect()
                })
                .collect();
            // gram[d][m][m'][j] = (W_dmᵀ W_dm')_jj.
            let gram: Vec<Vec<Vec<Vec<f64>>>> = axes
                .iter()
                .map(|a| {
                    let nd = a.lambda.len();
                    a.maps
                        .iter()
                        .map(|x| {
                            a.maps
                                .iter()
                                .map(|y| (0..nd).map(|j| (0..nd).map(|i| x[(i, j)] * y[(i, j)]).sum()).collect())
                                .collect()
                        })
                        .collect()
                })
                .collect();
            let faces: Vec<(usize, usize)> = (0..dims)
                .flat_map(|d| {
                    let last = self.shape[d] - 1;
                    let fs = self.disc.faces[d];
                    [(fs[0], 0), (fs[1], last)]
                        .into_iter()
                        .filter(|(on, _)| *on)
                        .map(move |(_, end)| (d, end))
                })
                .collect();
            let t2 = self.boundary_scale[f].powi(2);
            let rank: usize = faces.iter().map(|&(d, _)| n / self.shape[d]).sum();
            let exact_faces = rank <= FACE_RANK_LIMIT;
            let mut diag = vec![0.0; n];
            let mut entries: Vec<(Vec<f64>, Vec<usize>)> = if exact_faces {
                faces.iter().map(|_| (vec![0.0; n], vec![0; n])).collect()
            } else {
                Vec::new()
            };
            for (i, x) in diag.iter_mut().enumerate() {
                let index = self.disc.grid.multi_index(i);
                let mut p = 1.0;
                for row in &coef {
                    for (k, &ak) in row.iter().enumerate().filter(|(_, a)| **a != 0.0) {
                        for (k2, &ak2) in row.iter().enumerate().filter(|(_, a)| **a != 0.0) {
                            let (o1, o2) = (&self.derivs[k].orders, &self.derivs[k2].orders);
                            p += v * ak * ak2 * (0..dims).map(|d| gram[d][o1[d]][o2[d]][index[d]]).product::<f64>();
                        }
                    }
                }
                let mut column_offset = 0;
                for (j, &(d, end)) in faces.iter().enumerate() {
                    let others: f64 = (0..dims)
                        .filter(|&e| e != d)
                        .map(|e| axes[e].lambda[index[e]].sqrt())
                        .product();
                    let value = (cb / t2).sqrt() * others * axes[d].maps[0][(end, index[d])];
                    if exact_faces {
                        let line = (0..dims)
                            .filter(|&e| e != d)
                            .fold(0, |acc, e| acc * self.shape[e] + index[e]);
                        entries[j].0[i] = value;
                        entries[j].1[i] = column_offset + line;
                        column_offset += n / self.shape[d];
                    } else {
                        p += value * value;
                    }
                }
                *x = p;
            }
            let face_terms = if exact_faces && rank > 0 {
                // I + Uᵀ D⁻¹ U, accumulated point by point (each point has one entry per face).
                let mut cap = Mat::<f64>::identity(rank, rank);
                for i in 0..n {
                    for (va, ca) in &entries {
                        for (vb, cb_) in &entries {
                            cap[(ca[i], cb_[i])] += va[i] * vb[i] / diag[i];
                        }
                    }
                }
                let capacitance = cap.as_ref().llt(Side::Lower).map_err(|e| Error::InvalidParameter {
                    name: "kernel",
                    reason: format!("the boundary capacitance matrix is not positive definite: {e:?}"),
                })?;
                Some(FaceTerms { entries, capacitance })
            } else {
                None
            };
            diagonals.push(diag);
            faces_out.push(face_terms);
        }
        Ok(Preconditioner {
            diagonals,
            faces: faces_out,
        })
    }

    /// `∇_θ J` (kernel parameters, layout of [`Model::offset`]), and `∂J/∂ln v`, `∂J/∂ln τ`, at the
    /// grid values `ev` was evaluated at.
    pub(crate) fn gradient_theta(
        &self,
        fac: &[Vec<AxisFactor>],
        ev: &Evaluation,
        log_v: f64,
        log_tau: f64,
    ) -> Result<(Vec<f64>, f64, f64)> {
        let n = self.len();
        let v = log_v.exp();
        let w = ev.weighted_residuals(v);
        let adj = self.derivative_adjoints(ev, &w);
        let mut grad = vec![0.0; self.kernel_parameters()];
        for (f, (axes, alpha)) in fac.iter().zip(&ev.prior).enumerate() {
            for d in 0..self.dims() {
                let a = &axes[d];
                let nd = self.shape[d];
                let orders = self.max_order[f][d];
                // g_mats[m]: the weight of ∂K⁽ᵐ⁾ (m = 0: of ∂C).
                let mut g_mats: Vec<Mat<f64>> = (0..=orders).map(|_| Mat::zeros(nd, nd)).collect();
                // ∂(uᵀC⁻¹u) = −αᵀ ∂C α with α = C⁻¹u (the evaluation's, not recomputed from the rounded u)
                // and ∂C = ⊗_{e≠d} C_e ⊗ ∂C_d, so the partner of α in the unfolding is (⊗_{e≠d} C_e) α.
                let partner = self.apply(alpha, |e| (e != d).then(|| axes[e].kernel_matrix(0)));
                unfolded_outer(alpha, &partner, &self.shape, d, &mut g_mats[0], -0.5);
                g_mats[0] += &a.c_inv * faer::Scale(0.5 * (n / nd) as f64);
                for (k, g) in self.derivs.iter().enumerate() {
                    let m = g.orders[d];
                    if g.field != f || m == 0 {
                        continue;
                    }
                    // b = (⊗_{d'≠d} D_{d'}) ⊗ C_d⁻¹ u = (⊗_{d'≠d} K_{d'}⁽ᵐ⁾) α (K⁽⁰⁾ = C).
                    let b = self.apply(alpha, |e| (e != d).then(|| axes[e].kernel_matrix(g.orders[e])));
                    let mut p = Mat::zeros(nd, nd);
                    unfolded_outer(&adj[k], &b, &self.shape, d, &mut p, 1.0);
                    g_mats[m] += &p;
                    let dp = a.deriv[m - 1].transpose() * &p;
                    g_mats[0] -= &dp;
                }
                let o = self.offset(f, d);
                for (m, gm) in g_mats.iter().enumerate() {
                    for lag in -(nd as isize - 1)..nd as isize {
                        let s: f64 = (0..nd)
                            .filter_map(|i| {
                                let j = i as isize - lag;
                                (0..nd as isize).contains(&j).then(|| gm[(i, j as usize)])
                            })
                            .sum();
                        if s == 0.0 {
                            continue;
                        }
                        // C = K + jitter·k(0)·I: the diagonal also moves with k(0).
                        let s = if m == 0 && lag == 0 { s * (1.0 + self.jitter) } else { s };
                        let pg = a.kernel.parameter_gradient(lag as f64 * a.step, m)?;
                        for (q, p) in pg.iter().enumerate() {
                            for (t, x) in p.iter().enumerate() {
                                grad[o + q * PER_COMPONENT + t] += s * x;
                            }
                        }
                    }
                }
                // ∂/∂ln w and ∂/∂ln σ come out in log form already; μ is raw.
            }
        }
        let d_log_v = 0.5 * v * ev.residual_sq - 0.5 * (n * ev.residuals.len()) as f64;
        let d_log_tau = self.boundary_weight * (0.5 * log_tau.exp() * ev.boundary_sq - 0.5 * ev.boundary_terms as f64);
        Ok((grad, d_log_v, d_log_tau))
    }
}

#[cfg(test)]
mod tests {
    //! The analytic gradients of `J` against central finite differences, on a coupled nonlinear system
    //! (steady Navier–Stokes: products of fields and derivatives, first and second orders, mixed axes)
    //! on a small non-square grid.
    use super::*;
    use crate::gp_pde::problem::Problem;

    const SYSTEM: &str = r#"
name = "fd-check"
fields = ["u", "v", "p"]
parameters = { re = 5 }
[[axis]]
name = "x"
lower = 0
upper = 1
points = 6
[[axis]]
name = "y"
lower = -0.5
upper = 0.7
points = 7
[[equation]]
operator = "u*u_x + v*u_y + p_x - (u_xx + u_yy)/re + u_xy"
[[equation]]
operator = "u*v_x + v*v_y + p_y - (v_xx + v_yy)/re"
[[equation]]
operator = "u_x + v_y"
[exact]
u = "1 - exp(-x)*cos(3*y)"
v = "exp(-x)*sin(3*y)/3"
p = "x*y + 0.2"
"#;

    /// A reproducible, non-trivial point: grid values away from the solution, two components per axis.
    fn setup(disc: &Discretization, spectrum: Spectrum) -> (Model<'_>, Vec<f64>, Vec<Vec<f64>>) {
        let model = Model::new(disc, spectrum, 2, 1e-6, 3.0).unwrap();
        let theta: Vec<f64> = (0..model.kernel_parameters())
            .map(|i| match i % PER_COMPONENT {
                0 => -0.3 - 0.1 * (i % 5) as f64,
                1 => 0.4 + 0.3 * (i % 7) as f64,
                _ => (0.5 + 0.1 * (i % 3) as f64).ln(),
            })
            .collect();
        let u: Vec<Vec<f64>> = (0..disc.fields)
            .map(|f| {
                (0..model.len())
                    .map(|i| disc.boundary[f][i] + 0.3 * ((i * 7 + f * 3) as f64).sin())
                    .collect()
            })
            .collect();
        (model, theta, u)
    }

    fn total(model: &Model<'_>, theta: &[f64], u: &[Vec<f64>], lv: f64, lt: f64) -> f64 {
        let fac = model.factors(theta).unwrap();
        model.evaluate(&fac, u, lv, lt).objective.total
    }

    fn close(analytic: f64, numeric: f64, scale: f64, what: &str) {
        let err = (analytic - numeric).abs();
        assert!(
            err <= 1e-5 * scale + 1e-6 * numeric.abs(),
            "{what}: analytic {analytic:e}, finite difference {numeric:e}"
        );
    }

    #[test]
    fn kernel_and_precision_gradients_match_finite_differences() {
        let disc = Problem::from_toml(SYSTEM).unwrap().discretize().unwrap();
        for spectrum in [Spectrum::Gaussian, Spectrum::StudentT { dof: 5 }] {
            let (model, theta, u) = setup(&disc, spectrum);
            let (lv, lt) = (0.7, -0.4);
            let fac = model.factors(&theta).unwrap();
            let ev = model.evaluate(&fac, &u, lv, lt);
            let (grad, glv, glt) = model.gradient_theta(&fac, &ev, lv, lt).unwrap();
            let scale = grad.iter().fold(1.0f64, |m, g| m.max(g.abs()));
            let h = 1e-5;
            for i in 0..theta.len() {
                let (mut p, mut m) = (theta.clone(), theta.clone());
                p[i] += h;
                m[i] -= h;
                let fd = (total(&model, &p, &u, lv, lt) - total(&model, &m, &u, lv, lt)) / (2.0 * h);
                close(grad[i], fd, scale, &format!("{spectrum:?} ∂J/∂θ[{i}]"));
            }
            let fd_v = (total(&model, &theta, &u, lv + h, lt) - total(&model, &theta, &u, lv - h, lt)) / (2.0 * h);
            close(glv, fd_v, scale, "∂J/∂ln v");
            let fd_t = (total(&model, &theta, &u, lv, lt + h) - total(&model, &theta, &u, lv, lt - h)) / (2.0 * h);
            close(glt, fd_t, scale, "∂J/∂ln τ");
        }
    }

    #[test]
    fn grid_value_gradient_and_gauss_newton_match_finite_differences() {
        let disc = Problem::from_toml(SYSTEM).unwrap().discretize().unwrap();
        let (model, theta, u) = setup(&disc, Spectrum::StudentT { dof: 5 });
        let (lv, lt) = (0.2, 0.5);
        let fac = model.factors(&theta).unwrap();
        let ev = model.evaluate(&fac, &u, lv, lt);
        let grad = model.gradient_u(&fac, &ev, &u, lv, lt);
        let scale = grad.iter().flatten().fold(1.0f64, |m, g| m.max(g.abs()));
        let h = 1e-6;
        for f in 0..disc.fields {
            for i in (0..model.len()).step_by(5) {
                let (mut p, mut m) = (u.to_vec(), u.to_vec());
                p[f][i] += h;
                m[f][i] -= h;
                let fd = (total(&model, &theta, &p, lv, lt) - total(&model, &theta, &m, lv, lt)) / (2.0 * h);
                close(grad[f][i], fd, scale, &format!("∂J/∂u[{f}][{i}]"));
            }
        }
        // Gauss–Newton: δᵀHδ = δᵀC⁻¹δ + v‖Jδ‖² + boundary term, i.e. the second directional derivative of
        // J without the residual-curvature part. At a linear residual the two coincide, so check there:
        // the continuity equation alone, as its own problem.
        let linear = SYSTEM
            .replace("u*u_x + v*u_y + p_x - (u_xx + u_yy)/re + u_xy", "p_x - u_xx + u_xy")
            .replace("u*v_x + v*v_y + p_y - (v_xx + v_yy)/re", "p_y - v_yy");
        let disc = Problem::from_toml(&linear).unwrap().discretize().unwrap();
        let (model, theta, u) = setup(&disc, Spectrum::Gaussian);
        let fac = model.factors(&theta).unwrap();
        let ev = model.evaluate(&fac, &u, lv, lt);
        let delta: Vec<Vec<f64>> = (0..disc.fields)
            .map(|f| (0..model.len()).map(|i| ((i * 3 + f) as f64).cos()).collect())
            .collect();
        let hd = model.gauss_newton(&fac, &ev, &delta, lv, lt);
        let shifted = |t: f64| -> Vec<Vec<f64>> {
            u.iter()
                .zip(&delta)
                .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + t * y).collect())
                .collect()
        };
        let h = 1e-3;
        let gp = model.gradient_u(&fac, &model.evaluate(&fac, &shifted(h), lv, lt), &shifted(h), lv, lt);
        let gm = model.gradient_u(&fac, &model.evaluate(&fac, &shifted(-h), lv, lt), &shifted(-h), lv, lt);
        let scale = hd.iter().flatten().fold(1.0f64, |m, g| m.max(g.abs()));
        for f in 0..disc.fields {
            for i in 0..model.len() {
                let fd = (gp[f][i] - gm[f][i]) / (2.0 * h);
                assert!(
                    (hd[f][i] - fd).abs() <= 1e-7 * scale,
                    "H δ [{f}][{i}]: {} vs {fd}",
                    hd[f][i]
                );
            }
        }
    }

    /// `Wᵀ x` per field, `W = ⊗_d Q_d Λ_d^½`.
    fn whitened_transpose(model: &Model<'_>, wh: &Whitening, x: &[Vec<f64>]) -> Vec<Vec<f64>> {
        x.iter()
            .enumerate()
            .map(|(f, v)| model.apply(v, |d| Some(wh.axes[f][d].maps[0].transpose())))
            .collect()
    }

    #[test]
    fn whitened_forms_are_the_grid_value_ones_transformed() {
        // In z with u = W z: J(z) = J(u) with the same derivative fields and C⁻¹u, ∇_z J = Wᵀ ∇_u J and
        // H_z = Wᵀ H_u W, the u-space forms being checked against finite differences above; the assembled
        // Gauss–Newton matrix is the product's. The whitened forms never apply C⁻¹, so they agree to the
        // conditioning of C (jitter 1e-6 here).
        let disc = Problem::from_toml(SYSTEM).unwrap().discretize().unwrap();
        let (model, theta, u) = setup(&disc, Spectrum::StudentT { dof: 5 });
        let (lv, lt) = (0.2, 0.5);
        let fac = model.factors(&theta).unwrap();
        let wh = model.whitening(&fac).unwrap();
        let z = model.whiten(&wh, &u);
        let back = model.unwhiten(&wh, &z);
        for (a, b) in back.iter().flatten().zip(u.iter().flatten()) {
            assert!((a - b).abs() <= 1e-10, "unwhiten(whiten(u)) = {a}, u = {b}");
        }
        let ev = model.evaluate(&fac, &u, lv, lt);
        let compare = |what: &str, a: &[Vec<f64>], b: &[Vec<f64>]| {
            let scale = b.iter().flatten().fold(1.0f64, |m, x| m.max(x.abs()));
            for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
                assert!((x - y).abs() <= 1e-7 * scale, "{what}: whitened {x}, transformed {y}");
            }
        };
        let gz = model.gradient_whitened(&wh, &ev, &u, &z, lv, lt);
        let gu = model.gradient_u(&fac, &ev, &u, lv, lt);
        compare("gradient", &gz, &whitened_transpose(&model, &wh, &gu));
        let delta: Vec<Vec<f64>> = (0..disc.fields)
            .map(|f| (0..model.len()).map(|i| ((i * 3 + f) as f64).cos()).collect())
            .collect();
        let hz = model.gauss_newton_whitened(&wh, &ev, &delta, lv, lt);
        let hu = model.gauss_newton(&fac, &ev, &model.unwhiten(&wh, &delta), lv, lt);
        compare("Gauss–Newton product", &hz, &whitened_transpose(&model, &wh, &hu));
        let (evz, uz) = model.evaluate_whitened(&fac, &wh, &z, lv, lt);
        let total = ev.objective.total;
        assert!(
            (evz.objective.total - total).abs() <= 1e-8 * total.abs(),
            "objective: whitened {}, grid values {total}",
            evz.objective.total
        );
        compare("values", &uz, &u);
        compare("derivative fields", &evz.fields, &ev.fields);
        compare("C⁻¹u", &evz.prior, &ev.prior);
        let h = model.gauss_newton_whitened_matrix(&wh, &evz, lv, lt);
        let n = model.len();
        let flat: Vec<f64> = delta.iter().flatten().copied().collect();
        let assembled: Vec<Vec<f64>> = (0..disc.fields)
            .map(|f| {
                (0..n)
                    .map(|i| (0..flat.len()).map(|j| h[(f * n + i, j)] * flat[j]).sum())
                    .collect()
            })
            .collect();
        compare("assembled Gauss–Newton matrix", &assembled, &hz);
    }

    #[test]
    fn preconditioner_inverts_its_diagonal_plus_face_terms() {
        // P = D + U Uᵀ applied to P⁻¹ r (Woodbury) gives r back.
        let disc = Problem::from_toml(SYSTEM).unwrap().discretize().unwrap();
        let (model, theta, u) = setup(&disc, Spectrum::StudentT { dof: 5 });
        let (lv, lt) = (2.0, 8.0);
        let fac = model.factors(&theta).unwrap();
        let wh = model.whitening(&fac).unwrap();
        let ev = model.evaluate(&fac, &u, lv, lt);
        let pre = model.whitened_preconditioner(&wh, &ev, lv, lt).unwrap();
        let r: Vec<Vec<f64>> = (0..disc.fields)
            .map(|f| (0..model.len()).map(|i| ((i * 5 + f * 11) as f64).sin()).collect())
            .collect();
        let y = pre.apply(&r);
        for f in 0..disc.fields {
            let ft = pre.faces[f]
                .as_ref()
                .expect("the face terms are kept exact on a small grid");
            let w = ft.project(&y[f]);
            for i in 0..model.len() {
                let low_rank: f64 = ft.entries.iter().map(|(values, cols)| values[i] * w[cols[i]]).sum();
                let py = pre.diagonals[f][i] * y[f][i] + low_rank;
                assert!((py - r[f][i]).abs() <= 1e-9, "P P⁻¹ r = {py}, r = {}", r[f][i]);
            }
        }
    }
}
