//! The Gauss–Newton part of the inner solves, in the whitened coordinates `z` of [`super::model`]: the
//! product `H δ`, the matrix `H` assembled by GEMMs for the dense (Cholesky) solves, and the preconditioner
//! of the conjugate-gradient solves (the mean-coefficient diagonal plus the boundary faces' low-rank terms,
//! inverted by the Woodbury identity).

use faer::{Mat, MatRef, Side};

use super::model::{Model, Whitening};
use super::objective::Evaluation;
use crate::{Error, Result};

/// The preconditioner of [`Model::preconditioner`]: per field a diagonal plus the boundary faces' low-rank terms (inverted by the Woodbury identity).
pub(crate) struct Preconditioner {
    /// Per field: the diagonal part (grid order).
    pub(super) diagonals: Vec<Vec<f64>>,
    /// Per field: the faces' terms `U Uᵀ`, when they were kept out of the diagonal.
    pub(super) faces: Vec<Option<FaceTerms>>,
}

/// The boundary faces' part `U Uᵀ` of a preconditioner (one column of `U` per grid line ending on a face),
/// with the Cholesky factor of the Woodbury capacitance matrix `I + Uᵀ D⁻¹ U`.
pub(super) struct FaceTerms {
    /// Per face: the entry of `U` at every grid point (one per point: each point lies on one line per
    /// face) and the column it belongs to.
    pub(super) entries: Vec<(Vec<f64>, Vec<usize>)>,
    capacitance: faer::linalg::solvers::Llt<f64>,
}

impl FaceTerms {
    /// `Uᵀ y`.
    pub(super) fn project(&self, y: &[f64]) -> Vec<f64> {
        let mut w = vec![0.0; self.capacitance.L().nrows()];
        for (values, cols) in &self.entries {
            for ((x, &c), yi) in values.iter().zip(cols).zip(y) {
                w[c] += x * yi;
            }
        }
        w
    }
}

/// Cap on the rank of the boundary faces' terms that [`Model::preconditioner`] treats exactly (its
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

impl Model<'_> {
    /// The Gauss–Newton Hessian in the whitened coordinates `z` applied to `δ`:
    /// `δ + v (JW)ᵀ(JW) δ + w_b τ Wᵀ P_∂ W δ / t²`, with `J W` built from the per-axis maps
    /// `K_d⁽ᵐ⁾ Q_d Λ_d^-½` (never `C⁻¹`: the grid-value form has `C⁻¹`'s condition number, and the weights
    /// of `u = C a` that of `C`, both beyond double precision on fine 2D grids).
    pub(crate) fn gauss_newton(
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
            .map(|g| self.apply(&delta[g.field], |d| Some(wh.map(g.field, d, g.orders[d]))))
            .collect();
        let jd: Vec<Vec<f64>> = self
            .linearised_residuals(ev, &dfields)
            .into_iter()
            .map(|r| r.into_iter().map(|x| v * x).collect())
            .collect();
        let adj = self.derivative_adjoints(ev, &jd);
        let boundary = self.boundary_weighted(&self.unwhiten(wh, delta), log_tau);
        let mut h = delta.to_vec();
        self.add_adjoints(wh, &adj, &boundary, &mut h);
        h
    }

    /// `⊗_d W_d` for derivative orders `orders` of field `f` (`N × N`, row-major grid order): the map from
    /// `z_f` to that derivative field.
    fn dense_map(&self, wh: &Whitening, f: usize, orders: &[usize]) -> Mat<f64> {
        wh.maps[f]
            .iter()
            .zip(orders)
            .fold(Mat::from_fn(1, 1, |_, _| 1.0), |acc, (maps, &m)| {
                let b = &maps[m];
                let (rb, cb) = (b.nrows(), b.ncols());
                Mat::from_fn(acc.nrows() * rb, acc.ncols() * cb, |i, j| {
                    acc[(i / rb, j / cb)] * b[(i % rb, j % cb)]
                })
            })
    }

    /// The matrix of [`Model::gauss_newton`] (all fields stacked, field-major), assembled from
    /// the explicit maps `⊗_d W_d` by GEMMs: `I + v Σ_e M_eᵀ M_e + Σ_f (w_b τ/t_f²) W_{0f}ᵀ P_∂ W_{0f}` with
    /// `M_e = Σ_k diag(a_ek) (⊗_d W_kd)` ([`Model::jacobian`]). `O(N²)` memory and `O(N³)`
    /// time: for the dense solves only.
    pub(crate) fn gauss_newton_matrix(&self, wh: &Whitening, ev: &Evaluation, log_v: f64, log_tau: f64) -> Mat<f64> {
        use faer::linalg::matmul::matmul;
        use faer::{Accum, Par};
        let n = self.len();
        let fields = self.disc.fields;
        let jacobian = self.jacobian(ev);
        let maps: Vec<Mat<f64>> = self
            .derivs
            .iter()
            .map(|g| self.dense_map(wh, g.field, &g.orders))
            .collect();
        let mut h = Mat::<f64>::identity(n * fields, n * fields);
        let v = log_v.exp();
        for row in jacobian {
            let mut m = Mat::<f64>::zeros(n, n * fields);
            for (k, a) in row.iter().enumerate() {
                let Some(a) = a else { continue };
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
            let w0 = self.dense_map(wh, f, &vec![0; self.dims()]);
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

    /// A preconditioner for [`Model::gauss_newton`], per field: the diagonal of the field's own
    /// block with each Jacobian term's coefficient field replaced by its grid mean,
    /// `1 + v Σ_e Σ_{k,k'} a_ek a_ek' Π_d diag(W_kdᵀ W_k'd)`, plus the boundary faces exactly: face
    /// `(d, end)` adds `w_b τ/t² ⊗_{e≠d} Λ_e ⊗ b bᵀ` with `b = W_0d[end, ·]`, one rank-one term per grid
    /// line along `d`, inverted by the Woodbury identity (joining the diagonal above
    /// `FACE_RANK_LIMIT` lines). Cross-field coupling is left out.
    pub(crate) fn preconditioner(
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
        let jacobian = self.jacobian(ev);
        let mut diagonals = Vec::with_capacity(self.disc.fields);
        let mut faces_out = Vec::with_capacity(self.disc.fields);
        for (f, (axes, eigen)) in wh.maps.iter().zip(&wh.eigen).enumerate() {
            let coef: Vec<Vec<f64>> = jacobian
                .iter()
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .map(|(k, a)| match a {
                            Some(a) if self.derivs[k].field == f => a.iter().sum::<f64>() / n as f64,
                            _ => 0.0,
                        })
                        .collect()
                })
                .collect();
            // gram[d][m][m'][j] = (W_dmᵀ W_dm')_jj.
            let gram: Vec<Vec<Vec<Vec<f64>>>> = axes
                .iter()
                .map(|maps| {
                    let nd = maps[0].nrows();
                    maps.iter()
                        .map(|x| {
                            maps.iter()
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
                        .map(|e| eigen.factor(e).1[index[e]].sqrt())
                        .product();
                    let value = (cb / t2).sqrt() * others * axes[d][0][(end, index[d])];
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
                let capacitance = cap.as_ref().llt(Side::Lower).map_err(|e| {
                    Error::not_positive_definite(
                        "the boundary capacitance matrix",
                        e,
                        "the kernel's length scales are too long for the boundary points",
                    )
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
}
