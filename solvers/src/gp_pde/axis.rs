//! The kernel matrices of one axis: for a field's spectral-mixture kernel on a uniform axis, the
//! covariance `C = K + jitter·k(0)·I`, its inverse and log-determinant, and the derivative matrices
//! `K⁽ᵐ⁾` (lag derivatives of the kernel, Toeplitz on the uniform grid) with `K⁽ᵐ⁾C⁻¹`. The whitened
//! model ([`super::model::Whitening`]) is built from `C` and `K⁽ᵐ⁾`; `C⁻¹` and `K⁽ᵐ⁾C⁻¹` serve the kernel
//! gradient only, whose terms have that structure.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, MatRef, Side};

use super::kernel::SpectralMixture;
use crate::{Error, Result};

/// `C⁻¹` and `log|C|` of a symmetric `c` from its eigenpairs, the eigenvalues floored at `floor`.
fn floored_inverse(c: MatRef<'_, f64>, floor: f64) -> Result<(Mat<f64>, f64)> {
    let evd = c.self_adjoint_eigen(Side::Lower).map_err(|e| {
        Error::eigen(
            "an axis's kernel matrix K + jitter·k(0)·I",
            e,
            &format!("{} points: raise Settings::jitter", c.nrows()),
        )
    })?;
    let n = c.nrows();
    let values: Vec<f64> = (0..n).map(|i| evd.S().column_vector()[i].max(floor)).collect();
    let q = evd.U();
    let scaled = Mat::from_fn(n, n, |i, j| q[(i, j)] / values[j]);
    Ok((&scaled * q.transpose(), values.iter().map(|l| l.ln()).sum()))
}

/// Per-axis kernel algebra for one field.
#[derive(Debug, Clone)]
pub(crate) struct AxisFactor {
    pub(crate) kernel: SpectralMixture,
    /// Grid spacing of the axis.
    pub(crate) step: f64,
    pub(crate) c_inv: Mat<f64>,
    pub(crate) log_det: f64,
    /// `deriv[m − 1] = K⁽ᵐ⁾ C⁻¹`.
    pub(crate) deriv: Vec<Mat<f64>>,
    /// `C` itself and `kernels[m − 1] = K⁽ᵐ⁾`.
    c: Mat<f64>,
    kernels: Vec<Mat<f64>>,
}

impl AxisFactor {
    /// The matrices of `kernel` on `n` points `step` apart, derivatives up to `max_order`.
    ///
    /// # Errors
    /// [`Error::Singular`] when `C` is not positive definite at this jitter (and too small a jitter to floor
    /// its eigenvalues); [`Error::Decomposition`] when its eigendecomposition does not converge; the
    /// kernel's errors.
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
        let (c_inv, log_det) = match c.as_ref().llt(Side::Lower) {
            Ok(llt) => (llt.inverse(), 2.0 * (0..n).map(|i| llt.L()[(i, i)].ln()).sum::<f64>()),
            // Round-off can leave C's smallest eigenvalues at or below zero where the jitter is small
            // against its condition (a smooth kernel on many points): then from its eigenpairs floored
            // at the jitter, as the whitened model takes them ([`super::model::Whitening`]) — as long as
            // the floor stands above the eigenvalues' own round-off (about n·ε·k(0)); below it the
            // floored eigenvalues would be noise, and the matrix is refused.
            Err(e) if jitter < n as f64 * f64::EPSILON => {
                return Err(Error::not_positive_definite(
                    "an axis's kernel matrix K + jitter·k(0)·I",
                    e,
                    &format!(
                        "{n} points, jitter {jitter:e} (below the round-off of its eigenvalues, {:.1e}); \
                         raise Settings::jitter",
                        n as f64 * f64::EPSILON
                    ),
                ));
            }
            Err(_) => floored_inverse(c.as_ref(), jitter * k0)?,
        };
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

    /// The number of grid points.
    pub(crate) fn len(&self) -> usize {
        self.c.nrows()
    }

    /// `K⁽ᵐ⁾`, with `K⁽⁰⁾ = C`.
    pub(crate) fn kernel_matrix(&self, m: usize) -> MatRef<'_, f64> {
        if m == 0 {
            self.c.as_ref()
        } else {
            self.kernels[m - 1].as_ref()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gp_pde::kernel::{Component, Spectrum};

    fn kernel(scale: f64) -> SpectralMixture {
        let c = Component {
            weight: 1.0,
            mean: 0.0,
            scale,
        };
        SpectralMixture::new(Spectrum::StudentT { dof: 5 }, vec![c]).unwrap()
    }

    #[test]
    fn the_eigen_inverse_is_the_cholesky_one_where_both_exist() {
        // A short envelope on 30 points: well conditioned, so the floor does not bind.
        let a = AxisFactor::new(kernel(3.0), 30, 0.05, 2, 1e-10).unwrap();
        let (c_inv, log_det) = floored_inverse(a.kernel_matrix(0), 1e-10).unwrap();
        assert!(
            (log_det - a.log_det).abs() <= 1e-9 * a.log_det.abs(),
            "{log_det} against {}",
            a.log_det
        );
        let diff = (&c_inv - &a.c_inv).norm_max() / a.c_inv.norm_max();
        assert!(diff < 1e-8, "{diff:e}");
    }

    #[test]
    fn a_matrix_indefinite_in_round_off_is_inverted_on_its_floored_eigenvalues() {
        // C = Q diag(λ) Qᵀ with eigenvalues down to below zero, Q orthogonal (the eigenvectors of a
        // fixed symmetric matrix): C⁻¹ must be Q diag(1/max(λ, floor)) Qᵀ and log|C| Σ ln max(λ, floor).
        let n = 6;
        let s = Mat::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 5) as f64 + ((j * 7 + i * 3) % 5) as f64);
        let evd = s.as_ref().self_adjoint_eigen(Side::Lower).unwrap();
        let q = evd.U().to_owned();
        let lambda = [2.0, 0.5, 1e-3, 1e-9, -1e-15, 3e-17];
        let floor = 1e-12;
        let c = Mat::from_fn(n, n, |i, j| {
            (0..n).map(|k| q[(i, k)] * lambda[k] * q[(j, k)]).sum::<f64>()
        });
        let (c_inv, log_det) = floored_inverse(c.as_ref(), floor).unwrap();
        let expected = Mat::from_fn(n, n, |i, j| {
            (0..n)
                .map(|k| q[(i, k)] * q[(j, k)] / lambda[k].max(floor))
                .sum::<f64>()
        });
        let diff = (&c_inv - &expected).norm_max() / expected.norm_max();
        assert!(diff < 1e-3, "{diff:e}");
        let expected_log: f64 = lambda.iter().map(|l| l.max(floor).ln()).sum();
        assert!(
            (log_det - expected_log).abs() < 1e-3,
            "{log_det} against {expected_log}"
        );
    }

    #[test]
    fn a_kernel_matrix_singular_below_round_off_is_refused() {
        // A long envelope on 300 points at jitter 1e-16, below the round-off of C's eigenvalues (300·ε):
        // the Cholesky fails and the floored eigenvalues would be noise, so it is the typed error.
        let (n, step, jitter) = (300, 1.0 / 299.0, 1e-16);
        match AxisFactor::new(kernel(0.01), n, step, 2, jitter) {
            Err(Error::Singular { detail, .. }) => {
                assert!(
                    detail.contains("round-off") && detail.contains("Settings::jitter"),
                    "{detail}"
                )
            }
            other => panic!("expected Singular, got {:?}", other.map(|a| a.log_det)),
        }
    }
}
