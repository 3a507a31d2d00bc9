//! Kronecker algebra on tensor grids, written once for the whole GP-PDE solver: mode products (a matrix
//! applied along one axis of a grid tensor), products of one matrix per axis, the unfolded Gram sums of
//! the kernel gradients, and [`KroneckerEigen`] — `K = K₁ ⊗ K₂ ⊗ … ⊗ K_D` eigendecomposed axis by axis
//! (`K_d = Q_d Λ_d Q_dᵀ`), which gives `K v`, `(K + σ²I)⁻¹v`, `log det(K + σ²I)` and the whitened
//! coordinates `u = (⊗_d Q_d Λ_d^½) z` in which the model is solved, at `O(N Σ n_d)` per product on an
//! `N = Π n_d` grid plus `O(Σ n_d³)` once — never `N²` or `N³`.
//!
//! Grid tensors are stored with the first axis slowest (row-major), the convention of
//! [`sparsimony_core::Kronecker`] (the no_std operator, one fibre at a time) and of the GPU's Kronecker
//! matvec. Here every mode product is a faer GEMM over the tensor's unfolding, split into pieces whose
//! boundaries depend on the sizes only ([`crate::parallel`]), so results do not depend on the thread count.

use faer::{Mat, MatMut, MatRef, Side};
use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::data::ColMajor;
use crate::{Error, Result};

/// `y = M ×_axis x`: the matrix `m` (`r × shape[axis]`) applied along `axis` of the row-major tensor `x`
/// (the result has `shape[axis]` replaced by `r`).
pub(crate) fn mode_product(m: MatRef<'_, f64>, x: &[f64], shape: &[usize], axis: usize) -> Vec<f64> {
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

/// `(⊗_d M_d) x` on a grid of `shape` with square `M_d = pick(d)`, the axis skipped where `pick` gives
/// `None` (the identity).
pub(crate) fn kron_apply<'m>(
    shape: &[usize],
    x: &[f64],
    mut pick: impl FnMut(usize) -> Option<MatRef<'m, f64>>,
) -> Vec<f64> {
    let mut y = x.to_vec();
    for d in 0..shape.len() {
        if let Some(m) = pick(d) {
            y = mode_product(m, &y, shape, d);
        }
    }
    y
}

/// `acc += α Σ_o A_o B_oᵀ` over the unfoldings of two tensors along `axis` (`n_axis × n_axis`): each
/// unfolding's product in column pieces, all in parallel, the pieces added to `acc` in order.
pub(crate) fn unfolded_outer(a: &[f64], b: &[f64], shape: &[usize], axis: usize, acc: &mut Mat<f64>, alpha: f64) {
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

/// A Kronecker product of symmetric positive semi-definite factors, eigendecomposed factor by factor:
/// `K_d = Q_d Λ_d Q_dᵀ`, hence `K = (⊗Q_d)(⊗Λ_d)(⊗Q_d)ᵀ`. Vectors on the grid are row-major tensors (first
/// factor slowest).
#[derive(Debug, Clone)]
pub struct KroneckerEigen {
    /// The grid: factor `d` is `shape[d] × shape[d]`.
    shape: Vec<usize>,
    /// Eigenvectors `Q_d` per factor.
    vectors: Vec<Mat<f64>>,
    /// Eigenvalues `Λ_d` per factor.
    values: Vec<Vec<f64>>,
    /// `Π_d λ_d^½` in grid order: the diagonal of `(⊗_d Λ_d)^½`.
    sqrt_values: Vec<f64>,
}

impl KroneckerEigen {
    /// Eigendecomposes each factor (square, symmetric to 1e-10 of its largest entry, finite).
    ///
    /// # Errors
    /// [`Error::Empty`] for no factors or an empty one; [`Error::Shape`] for a non-square factor;
    /// [`Error::NonFinite`]; [`Error::InvalidParameter`] for an asymmetric factor;
    /// [`Error::Decomposition`] for an eigendecomposition that does not converge.
    pub fn new(factors: &[ArrayView2<'_, f64>]) -> Result<Self> {
        if factors.is_empty() {
            return Err(Error::Empty {
                what: "Kronecker factors",
                rows: 0,
                cols: 0,
            });
        }
        let mut dense = Vec::with_capacity(factors.len());
        for f in factors {
            if f.nrows() != f.ncols() {
                return Err(Error::Shape {
                    what: "Kronecker factor columns (factors are square)",
                    expected: f.nrows(),
                    found: f.ncols(),
                });
            }
            let m = ColMajor::from_array("Kronecker factor", *f)?;
            let n = m.nrows();
            let scale = m.data().iter().fold(0.0f64, |a, v| a.max(v.abs()));
            let asym = (0..n)
                .flat_map(|j| (0..n).map(move |i| (i, j)))
                .fold(0.0f64, |a, (i, j)| a.max((m.col(j)[i] - m.col(i)[j]).abs()));
            if asym > 1e-10 * scale.max(f64::MIN_POSITIVE) {
                return Err(Error::InvalidParameter {
                    name: "Kronecker factor",
                    reason: format!("must be symmetric; entries differ from their transposes by up to {asym:e}"),
                });
            }
            dense.push(MatRef::from_column_major_slice(m.data(), n, n).to_owned());
        }
        let refs: Vec<MatRef<'_, f64>> = dense.iter().map(Mat::as_ref).collect();
        Self::from_factors(&refs, &vec![f64::NEG_INFINITY; refs.len()])
    }

    /// Eigendecomposes checked factors, with the eigenvalues of factor `d` floored at `floors[d]` (a
    /// positive definite factor's smallest computed eigenvalues may round to or below zero).
    pub(crate) fn from_factors(factors: &[MatRef<'_, f64>], floors: &[f64]) -> Result<Self> {
        let mut vectors = Vec::with_capacity(factors.len());
        let mut values = Vec::with_capacity(factors.len());
        for (f, &floor) in factors.iter().zip(floors) {
            let evd = f
                .self_adjoint_eigen(Side::Lower)
                .map_err(|e| Error::eigen("a Kronecker factor", e, "rescale the factor"))?;
            vectors.push(evd.U().to_owned());
            values.push(
                (0..f.nrows())
                    .map(|i| evd.S().column_vector()[i].max(floor))
                    .collect::<Vec<f64>>(),
            );
        }
        let sqrt_values = values.iter().fold(vec![1.0], |acc, vals| {
            acc.iter()
                .flat_map(|a| vals.iter().map(move |l| a * l.max(0.0).sqrt()))
                .collect()
        });
        Ok(Self {
            shape: factors.iter().map(|f| f.nrows()).collect(),
            vectors,
            values,
            sqrt_values,
        })
    }

    /// The grid's shape: the factors' sizes.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The grid size `N = Π n_d`.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the grid is empty (never, once constructed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The eigenvalues of `K` in grid order (products of the factors' eigenvalues).
    pub fn eigenvalues(&self) -> Vec<f64> {
        self.values.iter().fold(vec![1.0], |acc, vals| {
            acc.iter().flat_map(|a| vals.iter().map(move |b| a * b)).collect()
        })
    }

    /// Factor `d`'s eigenvectors `Q_d` (columns) and eigenvalues.
    pub(crate) fn factor(&self, d: usize) -> (MatRef<'_, f64>, &[f64]) {
        (self.vectors[d].as_ref(), &self.values[d])
    }

    /// `(⊗Q) diag(s) (⊗Q)ᵀ v` for the spectrum `s` of the product in grid order.
    fn through_eigenbasis(&self, v: &[f64], s: impl Fn(usize) -> f64) -> Vec<f64> {
        let mut t = kron_apply(&self.shape, v, |d| Some(self.vectors[d].transpose()));
        t.iter_mut().enumerate().for_each(|(i, a)| *a *= s(i));
        kron_apply(&self.shape, &t, |d| Some(self.vectors[d].as_ref()))
    }

    /// `(K + noise·I)⁻¹ v`, through the eigenbasis: `(⊗Q)(Λ + noise)⁻¹(⊗Q)ᵀ v`.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong length; [`Error::InvalidParameter`] for a negative or non-finite noise;
    /// the core's `NotPositiveDefinite` when an eigenvalue of `K + noise·I` is not positive beyond rounding.
    pub fn solve(&self, v: &[f64], noise: f64) -> Result<Vec<f64>> {
        let shifted = self.shifted(noise)?;
        self.check_len(v)?;
        Ok(self.through_eigenbasis(v, |i| 1.0 / shifted[i]))
    }

    /// `log det(K + noise·I) = Σ log(λ_i + noise)`.
    ///
    /// # Errors
    /// As [`KroneckerEigen::solve`].
    pub fn log_det(&self, noise: f64) -> Result<f64> {
        Ok(self.shifted(noise)?.iter().map(|l| l.ln()).sum())
    }

    /// `K v`.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong length; [`Error::NonFinite`] for a non-finite entry of `v`.
    pub fn apply(&self, v: &[f64]) -> Result<Vec<f64>> {
        self.check_len(v)?;
        let lambda = self.eigenvalues();
        Ok(self.through_eigenbasis(v, |i| lambda[i]))
    }

    /// The whitened coordinates `z = Λ^-½ (⊗Q)ᵀ u` of a grid vector `u` (positive definite factors).
    pub(crate) fn whiten(&self, u: &[f64]) -> Vec<f64> {
        let mut z = kron_apply(&self.shape, u, |d| Some(self.vectors[d].transpose()));
        z.iter_mut().zip(&self.sqrt_values).for_each(|(a, s)| *a /= s);
        z
    }

    /// `(⊗Q) Λ^-½ z`: `K⁻¹u` at `u = (⊗Q)Λ^½ z`, and the map `W⁻ᵀ` that takes a gradient in `z` to one in `u`
    /// (`W = (⊗Q)Λ^½`). Never forms `K⁻¹`, whose condition number the whitened form avoids.
    pub(crate) fn inverse_sqrt(&self, z: &[f64]) -> Vec<f64> {
        let scaled: Vec<f64> = z.iter().zip(&self.sqrt_values).map(|(a, s)| a / s).collect();
        kron_apply(&self.shape, &scaled, |d| Some(self.vectors[d].as_ref()))
    }

    fn check_len(&self, v: &[f64]) -> Result<()> {
        if v.len() != self.len() {
            return Err(Error::Shape {
                what: "vector on the Kronecker grid",
                expected: self.len(),
                found: v.len(),
            });
        }
        if let Some(row) = v.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite { what: "v", row, col: 0 });
        }
        Ok(())
    }

    /// The eigenvalues of `K + noise·I`, checked positive beyond rounding (`N·ε` of the largest).
    fn shifted(&self, noise: f64) -> Result<Vec<f64>> {
        if !(noise >= 0.0 && noise.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "noise",
                reason: format!("must be finite and ≥ 0, got {noise}"),
            });
        }
        let shifted: Vec<f64> = self.eigenvalues().iter().map(|l| l + noise).collect();
        // Eigenvalues within rounding of zero (relative to the largest) count as zero.
        let largest = shifted.iter().fold(0.0f64, |a, l| a.max(l.abs()));
        let floor = shifted.len() as f64 * f64::EPSILON * largest;
        if let Some(pivot) = shifted.iter().position(|l| l.is_nan() || *l <= floor) {
            return Err(Error::Core(sparsimony_core::Error::NotPositiveDefinite {
                pivot,
                value: shifted[pivot],
            }));
        }
        Ok(shifted)
    }
}
