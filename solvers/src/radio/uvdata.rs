//! Visibilities as an interferometer records them — what a Measurement Set or a UVFITS file holds: the
//! baselines' `u, v, w` in metres, channels in several spectral windows, correlation products, weights
//! and flags — and their reduction to the Stokes I [`Observation`] the calibration fits, for an image of
//! a given size and cell around the phase centre.
//!
//! **Image convention** (as CASA's and WSClean's FITS images): pixel `(r, c)` of the `N × N` row-major
//! image lies at direction cosines `l = −(c − ⌊N/2⌋)·Δ` (east, so right ascension falls along a row) and
//! `m = (r − ⌊N/2⌋)·Δ` (north), `Δ` the cell in radians; row 0 is the image's bottom (FITS's first row).
//! The visibility of a sky `I` is `V(u, v) = Σ I(l, m) e^{−2πi(u l + v m)}` in wavelengths, the small-field
//! limit of the measurement equation: the w-term `e^{−2πi w (√(1 − l² − m²) − 1)}` is neglected, and the
//! reduction refuses a field where its phase at the image's corner exceeds a stated bound.

use rustfft::num_complex::Complex64;

use super::observation::{Baseline, Observation, Sampling};
use crate::error::{Error, Result};

/// The speed of light in vacuum, m/s.
pub const SPEED_OF_LIGHT: f64 = 299_792_458.0;

/// A correlation product of two receptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correlation {
    /// Right–right circular.
    RR,
    /// Right–left circular.
    RL,
    /// Left–right circular.
    LR,
    /// Left–left circular.
    LL,
    /// X–X linear.
    XX,
    /// X–Y linear.
    XY,
    /// Y–X linear.
    YX,
    /// Y–Y linear.
    YY,
}

impl Correlation {
    /// From a Measurement Set's `POLARIZATION::CORR_TYPE` (the Stokes enumeration of casacore: `RR = 5`,
    /// `RL`, `LR`, `LL = 8`, `XX = 9`, `XY`, `YX`, `YY = 12`); `None` for Stokes parameters and the rest.
    pub fn from_casa(code: i32) -> Option<Self> {
        use Correlation::*;
        [RR, RL, LR, LL, XX, XY, YX, YY]
            .get(usize::try_from(code.checked_sub(5)?).ok()?)
            .copied()
    }

    /// From a UVFITS `STOKES` axis value (`−1 RR, −2 LL, −3 RL, −4 LR, −5 XX, −6 YY, −7 XY, −8 YX`).
    pub fn from_uvfits(code: i32) -> Option<Self> {
        use Correlation::*;
        [RR, LL, RL, LR, XX, YY, XY, YX]
            .get(usize::try_from(-1 - code).ok()?)
            .copied()
    }
}

/// Recorded visibilities: one row per baseline and integration, each with `channels × correlations`
/// complex values (Jy), weights and flags, stored row-major (row, then channel, then correlation).
#[derive(Debug, Clone, PartialEq)]
pub struct UvData {
    /// The number of antennas (the ANTENNA table's rows); rows name them `0..n_antennas`.
    pub n_antennas: usize,
    /// Each row's first antenna.
    pub antenna1: Vec<usize>,
    /// Each row's second antenna.
    pub antenna2: Vec<usize>,
    /// Each row's time (s, any epoch: only differences are used).
    pub time: Vec<f64>,
    /// Each row's baseline `(u, v, w)` in metres, `u` east and `v` north in the plane normal to the phase
    /// centre (antenna2 − antenna1's position, as Measurement Sets store it).
    pub uvw: Vec<[f64; 3]>,
    /// Each row's spectral window (an index into `frequencies`).
    pub spectral_window: Vec<usize>,
    /// Each spectral window's channel frequencies (Hz), the same number of channels in each.
    pub frequencies: Vec<Vec<f64>>,
    /// The correlation products, in the order of each channel's values.
    pub correlations: Vec<Correlation>,
    /// The visibilities (Jy): `rows × channels × correlations`.
    pub data: Vec<Complex64>,
    /// Their weights (inverse variances, Jy⁻²): `rows × channels × correlations`.
    pub weights: Vec<f64>,
    /// Their flags (`true`: bad, ignored whatever it holds): `rows × channels × correlations`.
    pub flags: Vec<bool>,
    /// The phase centre (right ascension, declination) in radians.
    pub phase_centre: [f64; 2],
}

/// How recorded visibilities are reduced to an [`Observation`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Imaging {
    /// The image side `N` (pixels).
    pub image_size: usize,
    /// The cell (pixel side), in arcseconds.
    pub cell_arcsec: f64,
    /// The NUFFT's relative accuracy (1e-8).
    pub tolerance: f64,
    /// The gains' and DDEs' solution interval (s): rows within one interval from the first time share a
    /// time step. 0 (the default): every distinct time its own step.
    pub solution_interval: f64,
    /// The largest w-term phase (radians) tolerated at the image's corner, where the small-field model
    /// errs most (0.1).
    pub max_w_phase: f64,
}

impl Default for Imaging {
    fn default() -> Self {
        Self {
            image_size: 256,
            cell_arcsec: 1.0,
            tolerance: 1e-8,
            solution_interval: 0.0,
            max_w_phase: 0.1,
        }
    }
}

impl Imaging {
    /// The cell in radians.
    fn cell_radians(&self) -> f64 {
        self.cell_arcsec.to_radians() / 3600.0
    }

    /// The fractional pixel `(row, col)` of the direction `(ra, dec)` (degrees) in the image about
    /// `phase_centre` (radians): the orthographic (SIN) projection `l = cos δ sin Δα`,
    /// `m = sin δ cos δ₀ − cos δ sin δ₀ cos Δα`, then the module's convention
    /// (`row = ⌊N/2⌋ + m/Δ`, `col = ⌊N/2⌋ − l/Δ`), FITS's `RA---SIN`/`DEC--SIN`.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for a non-finite direction; [`Error::InvalidParameter`] for a direction 90°
    /// or more from the phase centre (behind the projection's plane) or an invalid imaging setting.
    pub fn pixel(&self, ra_deg: f64, dec_deg: f64, phase_centre: [f64; 2]) -> Result<(f64, f64)> {
        check_imaging(self)?;
        if let Some(col) = [ra_deg, dec_deg].iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "direction (ra, dec)",
                row: 0,
                col,
            });
        }
        let (ra, dec) = (ra_deg.to_radians(), dec_deg.to_radians());
        let [ra0, dec0] = phase_centre;
        let d = ra - ra0;
        let towards = dec.sin() * dec0.sin() + dec.cos() * dec0.cos() * d.cos();
        if towards <= 0.0 {
            return Err(Error::InvalidParameter {
                name: "sources",
                reason: format!(
                    "({ra_deg}°, {dec_deg}°) is {:.1}° from the phase centre: the SIN projection holds the hemisphere \
                     about it",
                    towards.clamp(-1.0, 1.0).acos().to_degrees()
                ),
            });
        }
        let l = dec.cos() * d.sin();
        let m = dec.sin() * dec0.cos() - dec.cos() * dec0.sin() * d.cos();
        let (cell, half) = (self.cell_radians(), (self.image_size / 2) as f64);
        Ok((half + m / cell, half - l / cell))
    }

    /// The direction `(ra, dec)` in degrees (right ascension in `[0, 360)`) of the fractional pixel
    /// `(row, col)`: the inverse of [`Imaging::pixel`]; `None` beyond the projection's disc.
    pub fn direction(&self, row: f64, col: f64, phase_centre: [f64; 2]) -> Option<(f64, f64)> {
        let (cell, half) = (self.cell_radians(), (self.image_size / 2) as f64);
        let (l, m) = ((half - col) * cell, (row - half) * cell);
        let n2 = 1.0 - l * l - m * m;
        if n2.is_nan() || n2 < 0.0 {
            return None;
        }
        let n = n2.sqrt();
        let [ra0, dec0] = phase_centre;
        let dec = (m * dec0.cos() + n * dec0.sin()).clamp(-1.0, 1.0).asin();
        let ra = ra0 + l.atan2(n * dec0.cos() - m * dec0.sin());
        Some((ra.to_degrees().rem_euclid(360.0), dec.to_degrees()))
    }
}

/// Stokes I visibilities ready for the calibration, and what the reduction kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Reduced {
    /// The observation: frequencies in cells of an `N`-cell grid (`1/N` cycles per pixel), sampled by the
    /// NUFFT, weights the Stokes I inverse variances.
    pub observation: Observation,
    /// The (row, channel) pairs kept.
    pub kept: usize,
    /// The (row, channel) pairs dropped: flagged or of zero weight in either parallel hand, or
    /// autocorrelations.
    pub dropped: usize,
    /// The largest w-term phase at the image's corner over the kept visibilities (radians).
    pub w_phase: f64,
    /// The largest `|w|` over the kept visibilities (wavelengths), for the w-term elsewhere.
    pub max_w: f64,
    /// Each time step's first time (s).
    pub step_times: Vec<f64>,
}

impl UvData {
    /// The number of rows.
    pub fn n_rows(&self) -> usize {
        self.antenna1.len()
    }

    fn n_channels(&self) -> usize {
        self.frequencies.first().map_or(0, Vec::len)
    }

    /// Checks shapes, antennas, spectral windows, frequencies and `uvw`.
    ///
    /// # Errors
    /// [`Error::Empty`] without rows or channels, [`Error::Shape`] for per-row or per-value columns of
    /// another length (or windows of unequal channel counts), [`Error::Visibility`] naming the first row
    /// whose antenna or window is out of range, [`Error::NonFinite`] for a non-finite `uvw` or time,
    /// [`Error::InvalidParameter`] for a frequency that is not positive and finite.
    pub fn validate(&self) -> Result<()> {
        let (rows, channels, corrs) = (self.n_rows(), self.n_channels(), self.correlations.len());
        if rows == 0 || channels == 0 || corrs == 0 {
            return Err(Error::Empty {
                what: "recorded visibilities (rows, channels, correlations)",
                rows,
                cols: channels * corrs,
            });
        }
        for (what, found) in [
            ("antenna2 against antenna1", self.antenna2.len()),
            ("time against antenna1", self.time.len()),
            ("uvw against antenna1", self.uvw.len()),
            ("spectral window against antenna1", self.spectral_window.len()),
        ] {
            check_shape(what, rows, found)?;
        }
        for window in &self.frequencies {
            check_shape("channels of every spectral window", channels, window.len())?;
        }
        let values = rows as u128 * channels as u128 * corrs as u128;
        for (what, found) in [
            ("data (rows × channels × correlations)", self.data.len()),
            ("weights (rows × channels × correlations)", self.weights.len()),
            ("flags (rows × channels × correlations)", self.flags.len()),
        ] {
            if found as u128 != values {
                return Err(Error::Shape {
                    what,
                    expected: usize::try_from(values).unwrap_or(usize::MAX),
                    found,
                });
            }
        }
        if let Some(f) = self
            .frequencies
            .iter()
            .flatten()
            .find(|f| !(**f > 0.0 && f.is_finite()))
        {
            return Err(Error::InvalidParameter {
                name: "frequencies",
                reason: format!("channel frequencies must be positive and finite (Hz), got {f}"),
            });
        }
        for r in 0..rows {
            let (a1, a2) = (self.antenna1[r], self.antenna2[r]);
            if a1 >= self.n_antennas || a2 >= self.n_antennas {
                return Err(Error::Visibility {
                    index: r,
                    name: "antenna",
                    reason: format!(
                        "antennas ({a1}, {a2}) are not in the ANTENNA table's {} rows",
                        self.n_antennas
                    ),
                });
            }
            if self.spectral_window[r] >= self.frequencies.len() {
                return Err(Error::Visibility {
                    index: r,
                    name: "spectral window",
                    reason: format!(
                        "window {} of {} described",
                        self.spectral_window[r],
                        self.frequencies.len()
                    ),
                });
            }
            if let Some(col) = self.uvw[r].iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite {
                    what: "uvw",
                    row: r,
                    col,
                });
            }
            if !self.time[r].is_finite() {
                return Err(Error::NonFinite {
                    what: "time",
                    row: r,
                    col: 0,
                });
            }
        }
        Ok(())
    }

    /// The indices of the parallel-hand correlations Stokes I is formed from (XX and YY, or RR and LL).
    fn parallel_hands(&self) -> Result<(usize, usize)> {
        let find = |c: Correlation| self.correlations.iter().position(|x| *x == c);
        match (
            find(Correlation::XX),
            find(Correlation::YY),
            find(Correlation::RR),
            find(Correlation::LL),
        ) {
            (Some(x), Some(y), _, _) => Ok((x, y)),
            (_, _, Some(r), Some(l)) => Ok((r, l)),
            _ => Err(Error::InvalidParameter {
                name: "correlations",
                reason: format!(
                    "Stokes I needs both parallel hands (XX and YY, or RR and LL); the data have {:?}",
                    self.correlations
                ),
            }),
        }
    }

    /// Stokes I for the calibration: per row and channel `I = (V_p + V_q)/2` of the parallel hands, of
    /// weight `4/(1/w_p + 1/w_q)`, dropped where either hand is flagged or of weight 0 (so a polarised
    /// source is never mistaken for I) and for autocorrelations; `u, v` turned into wavelengths at the
    /// channel's frequency, then into cells of an `N`-cell grid (`ν_u = −u Δ`, `ν_v = v Δ` cycles per pixel,
    /// the module's convention).
    ///
    /// # Errors
    /// The data's defects ([`UvData::validate`]); [`Error::InvalidParameter`] for an image under 2 pixels,
    /// a cell, interval or w bound out of range, no parallel hands, or a field whose w-term phase exceeds
    /// `imaging.max_w_phase`; [`Error::NonFinite`] for an unflagged non-finite value or a non-finite or
    /// negative weight;
    /// [`Error::Empty`] when every value is flagged; the observation's own checks (a baseline beyond the
    /// image's band: the cell is too coarse).
    pub fn stokes_i(&self, imaging: &Imaging) -> Result<Reduced> {
        self.validate()?;
        check_imaging(imaging)?;
        let (p, q) = self.parallel_hands()?;
        let (channels, corrs) = (self.n_channels(), self.correlations.len());
        let n = imaging.image_size;
        let cell = imaging.cell_radians();
        // The corner's direction cosines: l² + m² = 2 (N/2 · Δ)².
        let corner = 2.0 * (0.5 * n as f64 * cell).powi(2);
        let w_factor = 2.0 * std::f64::consts::PI * (1.0 - (1.0 - corner.min(1.0)).sqrt());
        let steps = self.time_steps(imaging.solution_interval);
        let grid = n as f64;

        let (mut baselines, mut values, mut weights) = (Vec::new(), Vec::new(), Vec::new());
        let (mut dropped, mut max_w, mut longest) = (0usize, 0.0f64, 0.0f64);
        for r in 0..self.n_rows() {
            let window = &self.frequencies[self.spectral_window[r]];
            for (ch, &frequency) in window.iter().enumerate() {
                let at = (r * channels + ch) * corrs;
                let (fp, fq) = (self.flags[at + p], self.flags[at + q]);
                let (wp, wq) = (self.weights[at + p], self.weights[at + q]);
                if self.antenna1[r] == self.antenna2[r] || fp || fq {
                    dropped += 1;
                    continue;
                }
                for k in [p, q] {
                    let (v, w) = (self.data[at + k], self.weights[at + k]);
                    if !(v.re.is_finite() && v.im.is_finite() && w.is_finite() && w >= 0.0) {
                        return Err(Error::NonFinite {
                            what: "unflagged visibility or weight (row, channel·correlations + correlation)",
                            row: r,
                            col: ch * corrs + k,
                        });
                    }
                }
                // The harmonic combination, each weight scaled by the larger so that none overflows; a
                // weight that underflows to 0 drops the value as a 0 does.
                let top = wp.max(wq);
                let weight = if top > 0.0 {
                    4.0 / (top / wp + top / wq) * top
                } else {
                    0.0
                };
                if weight.is_infinite() {
                    return Err(Error::Visibility {
                        index: r,
                        name: "weight",
                        reason: format!(
                            "channel {ch}: weights {wp:e} and {wq:e} give a Stokes I weight beyond f64: scale the weights down"
                        ),
                    });
                }
                if weight == 0.0 {
                    dropped += 1;
                    continue;
                }
                let per_metre = frequency / SPEED_OF_LIGHT;
                let [u, v, w] = self.uvw[r].map(|x| x * per_metre);
                max_w = max_w.max(w.abs());
                longest = longest.max(u.abs()).max(v.abs());
                baselines.push(Baseline {
                    antenna1: self.antenna1[r],
                    antenna2: self.antenna2[r],
                    time: steps.0[r],
                    u: -u * cell * grid,
                    v: v * cell * grid,
                });
                values.push(0.5 * (self.data[at + p] + self.data[at + q]));
                weights.push(weight);
            }
        }
        let w_phase = max_w * w_factor;
        if values.is_empty() {
            return Err(Error::Empty {
                what: "visibilities after flags (every parallel-hand value flagged or of weight 0)",
                rows: 0,
                cols: 0,
            });
        }
        // The band the grid holds (a kernel side of 1): |u|, |v| ≤ N − 1 − ⌊N/2⌋ cells.
        let band = (n - 1 - n / 2) as f64;
        if longest * cell * grid > band {
            return Err(Error::InvalidParameter {
                name: "cell",
                reason: format!(
                    "the longest baseline, {longest:.4e} wavelengths along u or v, is beyond the image's band at a cell of {} \
                     arcsec: use a cell of at most {:.4e} arcsec (Nyquist) or fewer channels",
                    imaging.cell_arcsec,
                    (band / grid / longest).to_degrees() * 3600.0
                ),
            });
        }
        if w_phase > imaging.max_w_phase {
            return Err(Error::InvalidParameter {
                name: "max_w_phase",
                reason: format!(
                    "the w-term reaches {w_phase:.3} rad at the image's corner ({n} pixels of {} arcsec), above the {} rad \
                     the small-field model tolerates (w-stacking is not built): image a smaller field",
                    imaging.cell_arcsec, imaging.max_w_phase
                ),
            });
        }
        let kept = values.len();
        let observation = Observation {
            image_size: n,
            grid_size: n,
            n_antennas: self.n_antennas,
            n_times: steps.1.len(),
            baselines,
            values,
            sampling: Sampling::Nufft {
                tolerance: imaging.tolerance,
            },
            weights: Some(weights),
        };
        Ok(Reduced {
            observation,
            kept,
            dropped,
            w_phase,
            max_w,
            step_times: steps.1,
        })
    }

    /// Each row's time step and each step's first time: the distinct times in order, merged into
    /// intervals of `interval` seconds from the first when `interval > 0`.
    fn time_steps(&self, interval: f64) -> (Vec<usize>, Vec<f64>) {
        let mut distinct = self.time.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        let mut starts: Vec<f64> = Vec::new();
        for &t in &distinct {
            if starts.last().is_none_or(|&s| !(interval > 0.0 && t - s < interval)) {
                starts.push(t);
            }
        }
        let step = |t: f64| starts.partition_point(|&s| s <= t) - 1;
        (self.time.iter().map(|&t| step(t)).collect(), starts)
    }
}

fn check_shape(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::Shape { what, expected, found })
    }
}

fn check_imaging(imaging: &Imaging) -> Result<()> {
    let checks: [(&'static str, bool, String); 4] = [
        (
            "image_size",
            imaging.image_size >= 2,
            format!("at least 2 pixels, got {}", imaging.image_size),
        ),
        (
            "cell",
            imaging.cell_arcsec > 0.0 && imaging.cell_arcsec.is_finite() && imaging.cell_arcsec < 3600.0 * 10.0,
            format!("a positive cell under 10° (arcsec), got {}", imaging.cell_arcsec),
        ),
        (
            "solution_interval",
            imaging.solution_interval >= 0.0 && imaging.solution_interval.is_finite(),
            format!("non-negative and finite (s), got {}", imaging.solution_interval),
        ),
        (
            "max_w_phase",
            imaging.max_w_phase >= 0.0 && imaging.max_w_phase.is_finite(),
            format!("non-negative and finite (rad), got {}", imaging.max_w_phase),
        ),
    ];
    for (name, ok, reason) in checks {
        if !ok {
            return Err(Error::InvalidParameter { name, reason });
        }
    }
    Ok(())
}
