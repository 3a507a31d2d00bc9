//! The weak (integral) form of SINDy for noisy data (Messenger & Bortz, "Weak SINDy", 2021): instead of
//! differentiating noisy samples, multiply `ẋ = Ξ θ(x)` by smooth test functions `φ_k` that vanish at the
//! ends of their support and integrate by parts,
//!
//! ```text
//!     −∫ x φ_k' dt = Ξ ∫ θ(x) φ_k dt,      k = 1..K,
//! ```
//!
//! so that noise is averaged by the integrals rather than amplified by differences. The test functions are
//! the bumps `φ(t) = (((t − a)(b − t))/h²)^p` (`h = (b − a)/2`, peak 1), `K` of them with supports of
//! `2H + 1` samples centred at evenly spaced samples; integrals use the trapezoid rule on the sampling
//! times, so uneven sampling is handled. Each test function is one row of the regression.

use ndarray::ArrayView2;

use super::differentiation::Time;
use super::library::Features;
use crate::{Error, Result};

/// Settings of the weak form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeakForm {
    /// Test functions per trajectory, `K` (at most the number of distinct centres).
    pub test_functions: usize,
    /// Half-width `H` of each support, in samples (0: a hundredth of the trajectory, at least `degree + 2`).
    /// The support should span a fraction of the fastest time scale of the dynamics: wide enough to average
    /// the noise, narrow enough that the integrals keep the signal.
    pub half_width: usize,
    /// The bump's exponent `p` (≥ 1; 4 by default, smooth enough for noisy data).
    pub degree: u32,
}

impl Default for WeakForm {
    /// 400 test functions, automatic width, `p = 4`.
    fn default() -> Self {
        Self {
            test_functions: 400,
            half_width: 0,
            degree: 4,
        }
    }
}

/// The weak regression rows of trajectories: `G` (rows × p) and `B` (rows × m), column-major.
pub(super) struct WeakRows {
    pub(super) rows: usize,
    pub(super) g: Vec<Vec<f64>>,
    pub(super) b: Vec<Vec<f64>>,
}

impl WeakRows {
    /// `G` and `B` column-major (for [`crate::regression::NormalEquations::accumulate`]).
    pub(super) fn column_major(&self) -> (Vec<f64>, Vec<f64>) {
        let cm = |rows: &[Vec<f64>]| {
            let cols = rows.first().map_or(0, Vec::len);
            (0..cols).flat_map(|j| rows.iter().map(move |r| r[j])).collect()
        };
        (cm(&self.g), cm(&self.b))
    }
}

impl WeakForm {
    /// Integrates one trajectory against the test functions: appends `K` rows to `out`.
    ///
    /// `inputs(r0, r1, buffer)` writes the library inputs of rows `r0..r1` column-major into `buffer`;
    /// `x` holds the states (for the left-hand side).
    pub(super) fn integrate(
        &self,
        features: &Features,
        x: ArrayView2<'_, f64>,
        time: &Time<'_>,
        inputs: &dyn Fn(usize, usize, &mut [f64]),
        out: &mut WeakRows,
    ) -> Result<()> {
        let n = x.nrows();
        let p = features.len();
        let m = x.ncols();
        let degree = self.degree;
        if degree == 0 || self.test_functions == 0 {
            return Err(Error::InvalidParameter {
                name: "weak form",
                reason: format!(
                    "needs at least one test function and degree ≥ 1, got {} and {degree}",
                    self.test_functions
                ),
            });
        }
        let h = if self.half_width == 0 {
            (n / 100).max(degree as usize + 2)
        } else {
            self.half_width
        };
        if n < 2 * h + 1 {
            return Err(Error::InvalidParameter {
                name: "weak form",
                reason: format!(
                    "a trajectory of {n} samples is shorter than one test-function support ({} samples)",
                    2 * h + 1
                ),
            });
        }
        let span = n - 1 - 2 * h;
        let k_count = self.test_functions.min(span + 1);
        let centres: Vec<usize> = (0..k_count)
            .map(|k| {
                h + if k_count > 1 {
                    (k * span + (k_count - 1) / 2) / (k_count - 1)
                } else {
                    span / 2
                }
            })
            .collect();
        let first_row = out.g.len();
        out.g.extend((0..k_count).map(|_| vec![0.0; p]));
        out.b.extend((0..k_count).map(|_| vec![0.0; m]));
        out.rows += k_count;
        let n_inputs = features.n_inputs();
        let block = 1024;
        let mut buf = vec![0.0; block * n_inputs];
        let mut theta = vec![0.0; block * p];
        let mut start = 0;
        while start < n {
            let end = (start + block).min(n);
            let rows = end - start;
            inputs(start, end, &mut buf);
            let cols: Vec<&[f64]> = buf.chunks(rows).take(n_inputs).collect();
            features.evaluate(&cols, rows, &mut theta)?;
            for r in 0..rows {
                let i = start + r;
                // Test functions whose support [c − h, c + h] holds row i.
                let lo = centres.partition_point(|&c| c + h < i);
                for (k, &c) in centres.iter().enumerate().skip(lo) {
                    if c > i + h {
                        break;
                    }
                    let (s0, s1) = (c - h, c + h);
                    let (a, b) = (time.at(s0), time.at(s1));
                    let half = (b - a) / 2.0;
                    let t = time.at(i);
                    let s = (t - a) * (b - t) / (half * half);
                    let phi = s.powi(degree as i32);
                    let dphi = degree as f64 * s.powi(degree as i32 - 1) * (a + b - 2.0 * t) / (half * half);
                    let w = (time.at((i + 1).min(s1)) - time.at(i.saturating_sub(1).max(s0))) / 2.0;
                    let (g, bb) = (&mut out.g[first_row + k], &mut out.b[first_row + k]);
                    for (j, gj) in g.iter_mut().enumerate() {
                        *gj += w * phi * theta[r + j * rows];
                    }
                    for (s_, bs) in bb.iter_mut().enumerate() {
                        *bs -= w * dphi * x[(i, s_)];
                    }
                }
            }
            start = end;
        }
        Ok(())
    }
}
