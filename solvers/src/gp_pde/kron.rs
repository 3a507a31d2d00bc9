//! Kronecker-structured covariance algebra for grids: `K = K₁ ⊗ K₂ ⊗ … ⊗ K_D` (first factor slowest, as
//! [`sparsimony_core::Kronecker`]), factored by one symmetric eigendecomposition per dimension (faer), so
//! that `(K + σ²I)⁻¹v` and `log det(K + σ²I)` cost `O(N Σ n_d)` and `O(N)` on an `N = Π n_d` grid plus
//! `O(Σ n_d³)` once — never `N²` or `N³`.

use faer::{MatRef, Side};
use ndarray::ArrayView2;
use sparsimony_core::{DenseColMajor, Kronecker, LinearOperator};

use crate::data::ColMajor;
use crate::{Error, Result};

/// A Kronecker product of symmetric positive semi-definite factors, eigendecomposed factor by factor:
/// `K_d = Q_d Λ_d Q_dᵀ`, hence `K = (⊗Q_d)(⊗Λ_d)(⊗Q_d)ᵀ`.
#[derive(Debug, Clone)]
pub struct KroneckerEigen {
    /// Eigenvectors per factor, column-major `n_d × n_d`.
    vectors: Vec<Vec<f64>>,
    /// Eigenvalues per factor.
    values: Vec<Vec<f64>>,
}

impl KroneckerEigen {
    /// Eigendecomposes each factor (square, symmetric to 1e-10 of its largest entry, finite).
    ///
    /// # Errors
    /// [`Error::Empty`] for no factors or an empty one; [`Error::Shape`] for a non-square factor;
    /// [`Error::NonFinite`]; [`Error::InvalidParameter`] for an asymmetric factor or a failed
    /// eigendecomposition.
    pub fn new(factors: &[ArrayView2<'_, f64>]) -> Result<Self> {
        if factors.is_empty() {
            return Err(Error::Empty {
                what: "Kronecker factors",
                rows: 0,
                cols: 0,
            });
        }
        let (mut vectors, mut values) = (Vec::new(), Vec::new());
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
            let evd = MatRef::from_column_major_slice(m.data(), n, n)
                .self_adjoint_eigen(Side::Lower)
                .map_err(|e| Error::InvalidParameter {
                    name: "Kronecker factor",
                    reason: format!("eigendecomposition failed: {e:?}"),
                })?;
            let u = evd.U();
            vectors.push((0..n * n).map(|q| u[(q % n, q / n)]).collect());
            values.push((0..n).map(|i| evd.S().column_vector()[i]).collect());
        }
        Ok(Self { vectors, values })
    }

    /// The grid size `N = Π n_d`.
    pub fn len(&self) -> usize {
        self.values.iter().map(Vec::len).product()
    }

    /// Whether the grid is empty (never, once constructed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The eigenvalues of `K` in grid order (products of the factors' eigenvalues).
    pub fn eigenvalues(&self) -> Vec<f64> {
        let mut out = vec![1.0];
        for vals in &self.values {
            out = out.iter().flat_map(|a| vals.iter().map(move |b| a * b)).collect();
        }
        out
    }

    fn with_q<R>(&self, f: impl FnOnce(&Kronecker<'_, f64>) -> Result<R>) -> Result<R> {
        let dense: Vec<DenseColMajor<'_, f64>> = self
            .vectors
            .iter()
            .zip(&self.values)
            .map(|(q, v)| DenseColMajor::new(q, v.len(), v.len()))
            .collect::<sparsimony_core::Result<_>>()?;
        let ops: Vec<&dyn LinearOperator<f64>> = dense.iter().map(|d| d as &dyn LinearOperator<f64>).collect();
        f(&Kronecker::new(&ops)?)
    }

    /// `(K + noise·I)⁻¹ v`, through the eigenbasis: `(⊗Q)(Λ + noise)⁻¹(⊗Q)ᵀ v`.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong length; [`Error::InvalidParameter`] for a negative or non-finite noise;
    /// the core's `NotPositiveDefinite` when an eigenvalue of `K + noise·I` is not positive beyond rounding.
    pub fn solve(&self, v: &[f64], noise: f64) -> Result<Vec<f64>> {
        let shifted = self.shifted(noise)?;
        self.check_len(v)?;
        self.with_q(|q| {
            let mut scratch = vec![0.0; q.scratch_len()];
            let mut t = vec![0.0; v.len()];
            q.apply_adjoint(v, &mut t, &mut scratch)?;
            t.iter_mut().zip(&shifted).for_each(|(a, l)| *a /= l);
            let mut y = vec![0.0; v.len()];
            q.apply(&t, &mut y, &mut scratch)?;
            Ok(y)
        })
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
    /// [`Error::Shape`] for a wrong length.
    pub fn apply(&self, v: &[f64]) -> Result<Vec<f64>> {
        self.check_len(v)?;
        let lambda = self.eigenvalues();
        self.with_q(|q| {
            let mut scratch = vec![0.0; q.scratch_len()];
            let mut t = vec![0.0; v.len()];
            q.apply_adjoint(v, &mut t, &mut scratch)?;
            t.iter_mut().zip(&lambda).for_each(|(a, l)| *a *= l);
            let mut y = vec![0.0; v.len()];
            q.apply(&t, &mut y, &mut scratch)?;
            Ok(y)
        })
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
