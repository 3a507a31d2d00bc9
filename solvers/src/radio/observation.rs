//! What an interferometer measured: the visibilities, where each lies in the image's Fourier plane, and
//! which antennas and time step made it.

use rustfft::num_complex::Complex64;

use crate::error::{Error, Result};

/// Where one visibility was measured: baseline `(antenna1, antenna2)` at time step `time`, at the spatial
/// frequency `(u, v)` in cells of the `P × P` Fourier grid: `(u/P, v/P)` cycles per pixel of the image. With
/// [`Sampling::Cells`] (the paper's model) `u` and `v` are integers; with [`Sampling::Nufft`] any real
/// value. The frequency is `a(antenna1) − a(antenna2)` for antennas whose uv positions are `a`, so the
/// baseline `(antenna2, antenna1)` sees `(−u, −v)` and the conjugate value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    /// The first antenna (0-based).
    pub antenna1: usize,
    /// The second antenna (0-based), distinct from the first.
    pub antenna2: usize,
    /// The time step (0-based).
    pub time: usize,
    /// The horizontal spatial frequency (along the image's columns), in grid cells (`1/P` cycles per pixel).
    pub u: f64,
    /// The vertical spatial frequency (along the image's rows), in grid cells.
    pub v: f64,
}

/// How the image's spectrum is evaluated at the visibilities' frequencies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// The paper's model: every frequency an integer cell of the `P × P` grid, read from one FFT of the
    /// image zero-padded at its end (pixel `(0, 0)` at the origin of phase) — exact on the cells.
    Cells,
    /// Any frequency, by the non-uniform FFT ([`Nufft`](super::Nufft)) to this relative accuracy, with the
    /// image's centre pixel `(⌊N/2⌋, ⌊N/2⌋)` at the origin of phase (the phase centre) and the DDE taps
    /// `1/P` cycles per pixel apart as in the paper's model.
    Nufft {
        /// The relative accuracy (`[1e-15, 1e-1]`).
        tolerance: f64,
    },
}

/// Visibilities with their baselines, and the geometry they are imaged on: an `N × N` image (row-major:
/// rows are `v`, columns `u`) zero-padded to a `P × P` Fourier grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The image side `N` (pixels).
    pub image_size: usize,
    /// The Fourier grid side `P ≥ N` (the image is zero-padded to `P × P` at its end before the FFT).
    pub grid_size: usize,
    /// The number of antennas.
    pub n_antennas: usize,
    /// The number of time steps.
    pub n_times: usize,
    /// Each visibility's baseline.
    pub baselines: Vec<Baseline>,
    /// The measured visibilities, one per baseline (Jy, in the image's units times pixels).
    pub values: Vec<Complex64>,
    /// How the spectrum is evaluated at the baselines' frequencies.
    pub sampling: Sampling,
    /// Each visibility's weight, the inverse of its noise variance (`None`: all equal). Weights are
    /// relative: the calibration minimises `½ Σ (w_j / w̄) |y_j − m_j|²` (`w̄` the positive ones' mean), rows and data
    /// scaled by `√(w_j / w̄)`, so the data keep their own scale (Jy) and the regularisation its meaning
    /// whatever units the weights come in; a weight of 0 drops a row.
    pub weights: Option<Vec<f64>>,
}

/// The grid side the calibration uses for an `N`-pixel image and `S × S` kernels: the image padded by
/// `2(2S − 1)` pixels, so that a visibility's `(2S − 1)²` taps fit on the grid around any cell of the
/// image's own band.
pub fn padded_grid_size(image_size: usize, dde_size: usize) -> usize {
    // Saturating: a size this large is refused by the memory check of [`Observation::validate`].
    image_size.saturating_add(dde_size.max(1).saturating_mul(4).saturating_sub(2))
}

impl Observation {
    /// Checks the weights: one per visibility, finite, non-negative, not all zero.
    ///
    /// # Errors
    /// [`Error::Shape`] for another count, [`Error::Visibility`] (`"weight"`) for the first bad one or for
    /// all zero.
    pub(crate) fn check_weights(&self) -> Result<()> {
        if let Some(weights) = &self.weights {
            if weights.len() != self.values.len() {
                return Err(Error::Shape {
                    what: "visibility weights against values",
                    expected: self.values.len(),
                    found: weights.len(),
                });
            }
            if let Some(i) = weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
                return Err(Error::Visibility {
                    index: i,
                    name: "weight",
                    reason: format!("must be finite and non-negative, got {}", weights[i]),
                });
            }
            if weights.iter().all(|w| *w == 0.0) {
                return Err(Error::Visibility {
                    index: 0,
                    name: "weight",
                    reason: "every visibility has weight 0: nothing to fit".into(),
                });
            }
        }
        Ok(())
    }

    /// Each visibility's `√(w_j / w̄)`, the scale of its rows and datum (`None` without weights); `w̄` is
    /// the mean of the positive weights, so a row of weight 0 is as good as absent.
    pub(crate) fn row_scales(&self) -> Option<Vec<f64>> {
        let (mean, _) = self.mean_weight()?;
        Some(self.weights.as_ref()?.iter().map(|w| (w / mean).sqrt()).collect())
    }

    /// `(w̄, the number of positive weights)`, `None` without weights.
    fn mean_weight(&self) -> Option<(f64, usize)> {
        let weights = self.weights.as_ref()?;
        let positive = weights.iter().filter(|w| **w > 0.0).count();
        // Each divided first, so that weights near f64's largest do not overflow the sum.
        let mean: f64 = weights.iter().map(|w| w / positive.max(1) as f64).sum();
        Some((mean, positive))
    }

    /// The reduced χ² of a fit whose data term is `data_term = ½ Σ (w_j/w̄) |y_j − m_j|²` (the
    /// calibration's, [`Outer::data`](super::Outer::data)): `Σ w_j |y_j − m_j|² / (2K)` over the `K`
    /// visibilities of positive weight — about 1 when the model explains the data to the noise the
    /// weights state, where they are inverse variances `1/σ²` of each real part (CASA's convention).
    /// `None` without weights (relative ones state no noise).
    pub fn reduced_chi2(&self, data_term: f64) -> Option<f64> {
        let (mean, positive) = self.mean_weight()?;
        Some(mean * data_term / positive.max(1) as f64)
    }

    /// Checks the observation: sizes, antenna and time indices in range, distinct antennas, finite
    /// values, and every frequency `k` and its negative (the reversed baseline's) at least `dde_size − 1`
    /// cells inside the grid's band `[−⌊P/2⌋, P − 1 − ⌊P/2⌋]`, so that the taps of `dde_size × dde_size`
    /// kernels do not wrap around (nor alias, off the cells); with [`Sampling::Cells`], integer cells.
    ///
    /// # Errors
    /// [`Error::Empty`] without visibilities, [`Error::Shape`] when the values and baselines differ in
    /// number, [`Error::NonFinite`] for a NaN or infinite value, [`Error::Visibility`] for the first
    /// visibility whose antenna, time or cell is out of range, [`Error::InvalidParameter`] for sizes out of
    /// range or beyond memory.
    pub fn validate(&self, dde_size: usize) -> Result<()> {
        if self.baselines.is_empty() {
            return Err(Error::Empty {
                what: "visibilities",
                rows: 0,
                cols: 0,
            });
        }
        if self.values.len() != self.baselines.len() {
            return Err(Error::Shape {
                what: "visibility values against baselines",
                expected: self.baselines.len(),
                found: self.values.len(),
            });
        }
        if self.image_size < 2 || self.grid_size < self.image_size {
            return Err(Error::InvalidParameter {
                name: "image_size",
                reason: format!(
                    "the image must be at least 2 pixels wide and the Fourier grid at least as wide, got N = {} \
                     and P = {}",
                    self.image_size, self.grid_size
                ),
            });
        }
        if self.n_antennas < 2 || self.n_times == 0 {
            return Err(Error::InvalidParameter {
                name: "antennas",
                reason: format!(
                    "need at least 2 antennas and 1 time step, got {} and {}",
                    self.n_antennas, self.n_times
                ),
            });
        }
        // The DDE arrays are sized by the largest antenna index and time step: a file numbering its
        // antennas sparsely (one index of 10⁸) is refused here, not by an allocation that aborts. About
        // eight copies of every antenna's taps at every time step are held by the calibration.
        let taps = self.n_antennas as f64 * self.n_times as f64 * (dde_size.max(1) as f64).powi(2);
        crate::data::check_bytes(
            "antennas",
            8.0 * 16.0 * taps,
            || {
                format!(
                    "the DDEs of {} antennas × {} time steps (sized by the largest antenna index and time step)",
                    self.n_antennas, self.n_times
                )
            },
            ": number the antennas 0..n−1 and the time steps 0..t−1, without gaps",
        )?;
        crate::data::check_bytes(
            "grid_size",
            16.0 * 3.0 * (self.grid_size as f64).powi(2),
            || format!("the {0}×{0} Fourier grid", self.grid_size),
            "",
        )?;
        let p = self.grid_size as i64;
        let margin = dde_size.max(1) as i64 - 1;
        // The reversed baseline's row reads the cell −k: the band is the symmetric part of the grid's.
        let hi = p - 1 - p / 2 - margin;
        let lo = -hi;
        for (i, (b, y)) in self.baselines.iter().zip(&self.values).enumerate() {
            if b.antenna1 >= self.n_antennas || b.antenna2 >= self.n_antennas || b.antenna1 == b.antenna2 {
                return Err(Error::Visibility {
                    index: i,
                    name: "antenna",
                    reason: format!(
                        "antennas ({}, {}) must be distinct and below the {} antennas",
                        b.antenna1, b.antenna2, self.n_antennas
                    ),
                });
            }
            if b.time >= self.n_times {
                return Err(Error::Visibility {
                    index: i,
                    name: "time",
                    reason: format!("time step {} of {}", b.time, self.n_times),
                });
            }
            if !(b.u.is_finite() && b.v.is_finite()) {
                return Err(Error::NonFinite {
                    what: "baseline frequencies (u, v)",
                    row: i,
                    col: usize::from(b.u.is_finite()),
                });
            }
            if self.sampling == Sampling::Cells && (b.u.fract() != 0.0 || b.v.fract() != 0.0) {
                return Err(Error::Visibility {
                    index: i,
                    name: "uv",
                    reason: format!(
                        "(u, v) = ({}, {}) is not an integer cell of the grid (Sampling::Cells); off-grid frequencies \
                         need Sampling::Nufft",
                        b.u, b.v
                    ),
                });
            }
            if b.u < lo as f64 || b.u > hi as f64 || b.v < lo as f64 || b.v > hi as f64 {
                return Err(Error::Visibility {
                    index: i,
                    name: "uv",
                    reason: format!(
                        "(u, v) = ({}, {}) is outside [{lo}, {hi}]² cells, the frequencies whose \
                         {}×{} neighbourhood lies on the {p}×{p} grid",
                        b.u,
                        b.v,
                        2 * margin + 1,
                        2 * margin + 1
                    ),
                });
            }
            if !(y.re.is_finite() && y.im.is_finite()) {
                return Err(Error::NonFinite {
                    what: "visibilities",
                    row: i,
                    col: 0,
                });
            }
        }
        self.check_weights()?;
        Ok(())
    }
}
