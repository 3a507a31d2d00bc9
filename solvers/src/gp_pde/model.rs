//! The GP collocation model of a PDE on a tensor grid: per field and axis a spectral-mixture kernel, the
//! grid values `u_f` of every field, and the negative log joint of Fang et al. (ICLR 2024)
//!
//! ```text
//! J = Σ_f [½ u_fᵀ C_f⁻¹ u_f + ½ log|C_f|]                          (GP prior on the grid values)
//!   + Σ_e (v/2) ‖r_e / s_e‖² − ½ N_c E ln v                         (equation residuals, collocated points)
//!   + w_b [Σ_f (τ/2) ‖(u_f − g_f)_∂ / t_f‖² − ½ N_∂ F ln τ]         (Dirichlet data)
//! ```
//!
//! with `C_f = ⊗_d (K_fd + jitter·k_fd(0)·I)`, derivatives on the grid `∂^α u = (⊗_d K_d⁽ᵅᵈ⁾ C_d⁻¹) u` (the GP
//! posterior mean's derivatives), `s_e` the RMS of equation `e`'s source and `t_f` that of field `f`'s
//! boundary data (1 where those vanish), so that `v` and `τ` are scale-free precisions. The residuals are
//! taken at the `N_c` collocated points: every grid point, except the Dirichlet faces of an elliptic
//! problem in 2D and up ([`Discretization::collocates_faces`]; the paper imposes the equations everywhere).
//!
//! **One formulation: whitened coordinates.** Everything is evaluated from `z` with
//! `u = (⊗_d Q_d Λ_d^½) z` (`C_d = Q_d Λ_d Q_dᵀ`, [`Whitening`]): the prior is `‖z‖²`, the derivative fields
//! are `(⊗_d K_d⁽ᵐ⁾ Q_d Λ_d^-½) z` and `C⁻¹u = (⊗_d Q_d Λ_d^-½) z` — never `C⁻¹` applied to grid values,
//! whose condition number (`10¹²` with jitter `10⁻¹⁰`) bounds the residuals in double precision at about
//! `10⁻⁷` of the source (1D Poisson `sin(100x)`: relative error `10⁻⁵` that way against `5·10⁻⁸`, the
//! exact-arithmetic optimum). The grid-value form survives only as the tests' dense reference.
//!
//! The parts, one file each: the axis matrices ([`super::axis`]), the Kronecker/eigen algebra
//! ([`super::kron`]), this model with its parameter layout and whitening, the objective and its gradients
//! ([`super::objective`]), the Gauss–Newton product, matrix and preconditioner ([`super::gauss_newton`]).
//! Everything is applied one axis at a time (mode products), at `O(N Σ n_d)` per product and `O(Σ n_d³)`
//! per kernel update, never forming an `N × N` matrix outside the dense solves.

use faer::{Mat, MatRef};

use super::axis::AxisFactor;
use super::kernel::{Component, SpectralMixture, Spectrum};
use super::kron::{KroneckerEigen, kron_apply};
use super::operator::{Coefficient, Derivative, Discretization};
use crate::{Error, Result};

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
    pub(crate) derivs: Vec<Derivative>,
    /// Per equation: `(coefficient, derivative indices)` per term.
    pub(crate) terms: Vec<Vec<(GridCoefficient, Vec<usize>)>>,
    /// `max_order[f][d]`.
    pub(crate) max_order: Vec<Vec<usize>>,
    /// Grid points with Dirichlet data.
    pub(crate) mask: Vec<bool>,
    /// Grid points where the equations are imposed ([`Discretization::collocated`]).
    pub(crate) collocated: Vec<bool>,
    pub(crate) source_scale: Vec<f64>,
    pub(crate) boundary_scale: Vec<f64>,
}

/// A term's coefficient on the grid.
pub(crate) enum GridCoefficient {
    /// The same everywhere.
    Constant(f64),
    /// At every grid point (grid order).
    Values(Vec<f64>),
}

impl GridCoefficient {
    /// The value at grid point `i`.
    pub(crate) fn at(&self, i: usize) -> f64 {
        match self {
            Self::Constant(c) => *c,
            Self::Values(v) => v[i],
        }
    }
}

/// Whitened coordinates of a model's prior for fixed kernels: per field the eigendecomposition of
/// `C_f = ⊗_d C_fd` and per axis the maps from `z` (with `u = (⊗_d Q_d Λ_d^½) z`) to the fields.
pub(crate) struct Whitening {
    /// Per field.
    pub(crate) eigen: Vec<KroneckerEigen>,
    /// `maps[f][d][0] = Q_d Λ_d^½` (values), `maps[f][d][m] = K_d⁽ᵐ⁾ Q_d Λ_d^-½` (`m`-th derivatives).
    pub(crate) maps: Vec<Vec<Vec<Mat<f64>>>>,
}

impl Whitening {
    /// The map of axis `d` of field `f` to derivatives of order `m`.
    pub(crate) fn map(&self, f: usize, d: usize, m: usize) -> MatRef<'_, f64> {
        self.maps[f][d][m].as_ref()
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
                        let coefficient = match t.coefficient {
                            Coefficient::Constant(c) => GridCoefficient::Constant(c),
                            Coefficient::Varying(_) => GridCoefficient::Values(t.coefficient.on_grid(&disc.grid)?),
                        };
                        Ok((coefficient, idx))
                    })
                    .collect()
            })
            .collect::<Result<_>>()?;
        let mask: Vec<bool> = (0..disc.grid.len()).map(|i| disc.on_boundary(i)).collect();
        let faces_too = disc.collocates_faces();
        let collocated: Vec<bool> = mask.iter().map(|&on_face| faces_too || !on_face).collect();
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
            collocated,
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

    /// `(⊗_d M_d) x` on the grid with `M_d = pick(d)` (skipped where `None`).
    pub(crate) fn apply<'m>(&self, x: &[f64], pick: impl FnMut(usize) -> Option<MatRef<'m, f64>>) -> Vec<f64> {
        kron_apply(&self.shape, x, pick)
    }

    /// The whitened coordinates of `fac`'s prior: per field and axis the eigenpairs of `C_d` (floored at
    /// the jitter: `C_d` is positive definite, but round-off can leave its smallest computed eigenvalues at
    /// or below zero) and the maps from `z` to the derivative fields.
    ///
    /// # Errors
    /// [`Error::Decomposition`] when an eigendecomposition does not converge.
    pub(crate) fn whitening(&self, fac: &[Vec<AxisFactor>]) -> Result<Whitening> {
        let mut eigen = Vec::with_capacity(fac.len());
        let mut maps = Vec::with_capacity(fac.len());
        for (f, axes) in fac.iter().enumerate() {
            let covariances: Vec<MatRef<'_, f64>> = axes.iter().map(|a| a.kernel_matrix(0)).collect();
            let floors: Vec<f64> = axes
                .iter()
                .map(|a| self.jitter * a.kernel_matrix(0)[(0, 0)] / (1.0 + self.jitter))
                .collect();
            let e = KroneckerEigen::from_factors(&covariances, &floors)?;
            let field_maps = axes
                .iter()
                .enumerate()
                .map(|(d, a)| {
                    let (q, lambda) = e.factor(d);
                    (0..=self.max_order[f][d])
                        .map(|m| {
                            let power = if m == 0 { 0.5 } else { -0.5 };
                            let mut w = if m == 0 { q.to_owned() } else { a.kernel_matrix(m) * q };
                            for (j, l) in lambda.iter().enumerate() {
                                let scale = l.powf(power);
                                w.col_mut(j).iter_mut().for_each(|x| *x *= scale);
                            }
                            w
                        })
                        .collect()
                })
                .collect();
            eigen.push(e);
            maps.push(field_maps);
        }
        Ok(Whitening { eigen, maps })
    }

    /// `z = Λ^-½ Qᵀ u` per field.
    pub(crate) fn whiten(&self, wh: &Whitening, u: &[Vec<f64>]) -> Vec<Vec<f64>> {
        u.iter().zip(&wh.eigen).map(|(x, e)| e.whiten(x)).collect()
    }

    /// `u = (⊗_d Q_d Λ_d^½) z` per field.
    pub(crate) fn unwhiten(&self, wh: &Whitening, z: &[Vec<f64>]) -> Vec<Vec<f64>> {
        z.iter()
            .enumerate()
            .map(|(f, x)| self.apply(x, |d| Some(wh.map(f, d, 0))))
            .collect()
    }
}

pub(crate) fn rms(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        (v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64).sqrt()
    }
}
