//! The objective `J` of the GP collocation model ([`super::model`]) and its gradients, all from the
//! whitened coordinates `z`: the evaluation (derivative fields, scaled residuals, boundary misfit, `C⁻¹u`),
//! the gradient in `z`, and the gradient in the kernel parameters and log precisions at fixed grid values
//! (analytic, through the Toeplitz lags of the uniform axes; the tests check all of them against finite
//! differences and against a dense grid-value reference).

use std::sync::OnceLock;

use faer::Mat;

use super::axis::AxisFactor;
use super::kron::unfolded_outer;
use super::model::{Model, PER_COMPONENT, Whitening};
use crate::Result;

/// The value of the objective and its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    /// The negative log joint `J`.
    pub total: f64,
    /// RMS of the scaled equation residuals `r_e / s_e` over the points where the equations are imposed
    /// ([`Discretization::collocated`](super::Discretization::collocated)) and all equations.
    pub residual_rms: f64,
    /// RMS of the scaled boundary misfit `(u_f − g_f) / t_f` over the boundary points and fields.
    pub boundary_rms: f64,
}

/// What an evaluation keeps for gradients.
pub(crate) struct Evaluation {
    pub(crate) objective: Objective,
    /// Derivative fields, per distinct derivative.
    pub(crate) fields: Vec<Vec<f64>>,
    /// Scaled residuals per equation.
    pub(crate) residuals: Vec<Vec<f64>>,
    /// `C_f⁻¹ u_f`.
    prior: Vec<Vec<f64>>,
    /// `‖r/s‖²` over all equations and grid points.
    residual_sq: f64,
    /// `‖(u − g)_∂/t‖²` over all fields, and the number of its terms.
    boundary_sq: f64,
    boundary_terms: usize,
    /// The pointwise Jacobian of the scaled residuals in the derivative fields ([`Model::jacobian`]),
    /// computed when first asked for.
    jacobian: OnceLock<Vec<Vec<Option<Vec<f64>>>>>,
}

impl Evaluation {
    /// `C_f⁻¹ u_f` per field: the weights of the posterior mean.
    pub(crate) fn weights(&self) -> &[Vec<f64>] {
        &self.prior
    }

    /// `v · r/s`: the weights of the residuals in `∂J/∂(derivative fields)`.
    pub(crate) fn weighted_residuals(&self, v: f64) -> Vec<Vec<f64>> {
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

impl Model<'_> {
    /// Evaluates `J` at `u = W z` from the whitened coordinates `z` (see [`Model::whitening`]):
    /// derivatives `K⁽ᵐ⁾QΛ^-½z`, prior `‖z‖²`, `C⁻¹u = QΛ^-½z`. Returns the evaluation and `u`.
    pub(crate) fn evaluate(
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
            .map(|g| self.apply(&z[g.field], |d| Some(wh.map(g.field, d, g.orders[d]))))
            .collect();
        let prior: Vec<Vec<f64>> = z.iter().zip(&wh.eigen).map(|(x, e)| e.inverse_sqrt(x)).collect();
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
                        if !self.collocated[i] {
                            return 0.0;
                        }
                        let lhs: f64 = terms
                            .iter()
                            .map(|(c, idx)| c.at(i) * idx.iter().map(|&k| fields[k][i]).product::<f64>())
                            .sum();
                        (lhs - self.disc.sources[e][i]) / s
                    })
                    .collect()
            })
            .collect();
        let mut total = 0.0;
        for f in 0..self.disc.fields {
            let log_det: f64 = fac[f].iter().map(|a| a.log_det * (n / a.len()) as f64).sum();
            total += 0.5 * (quad[f] + log_det);
        }
        let (v, tau) = (log_v.exp(), log_tau.exp());
        let res_sq: f64 = residuals.iter().flatten().map(|r| r * r).sum();
        let n_res = self.residual_terms() as f64;
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
                residual_rms: (res_sq / n_res.max(1.0)).sqrt(),
                boundary_rms: (bd_sq / n_bd.max(1) as f64).sqrt(),
            },
            fields,
            residuals,
            prior,
            residual_sq: res_sq,
            boundary_sq: bd_sq,
            boundary_terms: n_bd,
            jacobian: OnceLock::new(),
        }
    }

    /// The number of scaled residuals in the objective: equations × collocated points.
    pub(crate) fn residual_terms(&self) -> usize {
        self.collocated.iter().filter(|c| **c).count() * self.terms.len()
    }

    /// Scaled boundary misfit per field, on the boundary points only (in grid order).
    pub(crate) fn boundary_misfit(&self, u: &[Vec<f64>]) -> Vec<Vec<f64>> {
        (0..self.disc.fields)
            .map(|f| {
                (0..self.len())
                    .filter(|&i| self.mask[i])
                    .map(|i| (u[f][i] - self.disc.boundary[f][i]) / self.boundary_scale[f])
                    .collect()
            })
            .collect()
    }

    /// The Jacobian of the scaled residuals in the derivative fields, pointwise (every equation is a
    /// polynomial in the fields at the same point): `a[e][k][i] = ∂(r_e/s_e)_i / ∂(field k)_i` — the cofactors
    /// of the terms that hold derivative `k`, times their coefficients — or `None` where equation `e` does
    /// not hold derivative `k`. Computed once per evaluation, it serves every Gauss–Newton product of a
    /// conjugate-gradient solve.
    pub(crate) fn jacobian<'e>(&self, ev: &'e Evaluation) -> &'e [Vec<Option<Vec<f64>>>] {
        ev.jacobian.get_or_init(|| {
            let n = self.len();
            self.terms
                .iter()
                .enumerate()
                .map(|(e, terms)| {
                    let s = self.source_scale[e];
                    let mut row: Vec<Option<Vec<f64>>> = vec![None; self.derivs.len()];
                    for (c, idx) in terms {
                        for (pos, &k) in idx.iter().enumerate() {
                            let a = row[k].get_or_insert_with(|| vec![0.0; n]);
                            for ((i, a), _) in a.iter_mut().enumerate().zip(&self.collocated).filter(|(_, c)| **c) {
                                *a += c.at(i) * ev.cofactor(idx, pos, i) / s;
                            }
                        }
                    }
                    row
                })
                .collect()
        })
    }

    /// `Jᵀ w`: the adjoints of the distinct derivative fields for weights `w_e` on the scaled residuals,
    /// `adj_k = Σ_e a_ek ⊙ w_e`.
    pub(crate) fn derivative_adjoints(&self, ev: &Evaluation, w: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut adj = vec![vec![0.0; self.len()]; self.derivs.len()];
        for (row, w) in self.jacobian(ev).iter().zip(w) {
            for (adj, a) in adj.iter_mut().zip(row) {
                if let Some(a) = a {
                    adj.iter_mut().zip(a).zip(w).for_each(|((x, a), w)| *x += a * w);
                }
            }
        }
        adj
    }

    /// `J d`: the change of the scaled residuals for changes `d` of the distinct derivative fields,
    /// `Σ_k a_ek ⊙ d_k`.
    pub(crate) fn linearised_residuals(&self, ev: &Evaluation, dfields: &[Vec<f64>]) -> Vec<Vec<f64>> {
        self.jacobian(ev)
            .iter()
            .map(|row| {
                let mut r = vec![0.0; self.len()];
                for (a, d) in row.iter().zip(dfields) {
                    if let Some(a) = a {
                        r.iter_mut().zip(a).zip(d).for_each(|((x, a), d)| *x += a * d);
                    }
                }
                r
            })
            .collect()
    }

    /// `w_b τ P_∂ x_f / t_f²` per field: the boundary term's weights applied to `x` (zero off the boundary).
    pub(crate) fn boundary_weighted(&self, x: &[Vec<f64>], log_tau: f64) -> Vec<Vec<f64>> {
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
    pub(crate) fn boundary_gradient(&self, u: &[Vec<f64>], log_tau: f64) -> Vec<Vec<f64>> {
        let misfit: Vec<Vec<f64>> = u
            .iter()
            .zip(&self.disc.boundary)
            .map(|(u, g)| u.iter().zip(g).map(|(a, b)| a - b).collect())
            .collect();
        self.boundary_weighted(&misfit, log_tau)
    }

    /// `Wᵀ` of the `u`-space gradient parts other than the prior, plus the prior's `z`: `∇_z J` at
    /// `u = W z` (the residual adjoints are taken from `ev`, the evaluation at `u`).
    pub(crate) fn gradient(
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
        self.add_adjoints(wh, &adj, &boundary, &mut g);
        g
    }

    /// `g_f += Σ_k (⊗_d W_kd)ᵀ adj_k + (⊗_d W_0d)ᵀ boundary_f`.
    pub(crate) fn add_adjoints(&self, wh: &Whitening, adj: &[Vec<f64>], boundary: &[Vec<f64>], g: &mut [Vec<f64>]) {
        for (k, a) in adj.iter().enumerate() {
            let h = &self.derivs[k];
            let back = self.apply(a, |d| Some(wh.map(h.field, d, h.orders[d]).transpose()));
            g[h.field].iter_mut().zip(&back).for_each(|(x, y)| *x += y);
        }
        for (f, b) in boundary.iter().enumerate() {
            let back = self.apply(b, |d| Some(wh.map(f, d, 0).transpose()));
            g[f].iter_mut().zip(&back).for_each(|(x, y)| *x += y);
        }
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
        let d_log_v = 0.5 * v * ev.residual_sq - 0.5 * self.residual_terms() as f64;
        let d_log_tau = self.boundary_weight * (0.5 * log_tau.exp() * ev.boundary_sq - 0.5 * ev.boundary_terms as f64);
        Ok((grad, d_log_v, d_log_tau))
    }
}
