//! The kernel matrices of one axis: for a field's spectral-mixture kernel on a uniform axis, the
//! covariance `C = K + jitter·k(0)·I`, its inverse and log-determinant, and the derivative matrices
//! `K⁽ᵐ⁾` (lag derivatives of the kernel, Toeplitz on the uniform grid) with `K⁽ᵐ⁾C⁻¹`. The whitened
//! model ([`super::model::Whitening`]) is built from `C` and `K⁽ᵐ⁾`; `C⁻¹` and `K⁽ᵐ⁾C⁻¹` serve the kernel
//! gradient only, whose terms have that structure.

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, MatRef, Side};

use super::kernel::SpectralMixture;
use crate::{Error, Result};

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
    /// [`Error::Singular`] when `C` is not positive definite at this jitter; the kernel's errors.
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
