//! The known part of the sky, `x_o`: an image on the pixels (the paper's form), or point sources
//! anywhere — between pixels, or outside the image, where their sidelobes still reach the data —
//! whose visibilities are the measurement equation summed exactly rather than snapped to pixels.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use rustfft::num_complex::Complex64;
use sparsimony_core::LinearOperator;

use super::operator::Measurement;
use crate::error::{Error, Result};

/// A point source at a fractional pixel position of the image: `row` and `col` in pixels of the
/// row-major `N × N` image (pixel `(r, c)`'s centre at `(r, c)`; any finite position, inside the image or
/// not), `flux` its flux density (Jy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointSource {
    /// The row (pixels; the image's `m`, north, grows with it).
    pub row: f64,
    /// The column (pixels; the image's `l`, east, falls with it).
    pub col: f64,
    /// The flux density (Jy).
    pub flux: f64,
}

/// The known bright sources the calibration is anchored on.
#[derive(Debug, Clone, Copy)]
pub enum KnownSky<'a> {
    /// An `N × N` image (Jy/pixel): the pixels above zero are the known sources'.
    Image(ArrayView2<'a, f64>),
    /// Point sources, their visibilities summed exactly. The faint part is held at zero on the pixels
    /// around each (the nearest ones along each axis: one pixel for a source on a pixel, up to four
    /// between them), so it cannot trade flux with them.
    Sources(&'a [PointSource]),
}

impl<'a> From<ArrayView2<'a, f64>> for KnownSky<'a> {
    fn from(image: ArrayView2<'a, f64>) -> Self {
        KnownSky::Image(image)
    }
}

impl<'a> From<&'a Array2<f64>> for KnownSky<'a> {
    fn from(image: &'a Array2<f64>) -> Self {
        KnownSky::Image(image.view())
    }
}

impl<'a> From<&'a [PointSource]> for KnownSky<'a> {
    fn from(sources: &'a [PointSource]) -> Self {
        KnownSky::Sources(sources)
    }
}

impl<'a> From<&'a Vec<PointSource>> for KnownSky<'a> {
    fn from(sources: &'a Vec<PointSource>) -> Self {
        KnownSky::Sources(sources)
    }
}

/// The known sky, owned for the calibration's run, with the image's side.
pub(crate) enum Known {
    Image(Vec<f64>),
    Sources(Vec<PointSource>),
}

impl Known {
    /// Checks `sky` against an `n × n` image and takes it.
    pub(crate) fn new(sky: KnownSky<'_>, n: usize) -> Result<Self> {
        match sky {
            KnownSky::Image(image) => {
                if image.dim() != (n, n) {
                    return Err(Error::Shape {
                        what: "bright-source image side against the observation's image size",
                        expected: n,
                        found: if image.nrows() == n {
                            image.ncols()
                        } else {
                            image.nrows()
                        },
                    });
                }
                if let Some(((row, col), _)) = image.indexed_iter().find(|(_, v)| !v.is_finite()) {
                    return Err(Error::NonFinite {
                        what: "bright-source image",
                        row,
                        col,
                    });
                }
                Ok(Known::Image(image.iter().copied().collect()))
            }
            KnownSky::Sources(sources) => {
                if sources.is_empty() {
                    return Err(Error::Empty {
                        what: "known bright sources",
                        rows: 0,
                        cols: 3,
                    });
                }
                for (row, s) in sources.iter().enumerate() {
                    if let Some(col) = [s.row, s.col, s.flux].iter().position(|v| !v.is_finite()) {
                        return Err(Error::NonFinite {
                            what: "known source (row, col, flux)",
                            row,
                            col,
                        });
                    }
                    // Beyond this, phases lose their digits (a turn is 2π at 1e15 pixels' reach).
                    if s.row.abs().max(s.col.abs()) > 1e9 {
                        return Err(Error::InvalidParameter {
                            name: "sources",
                            reason: format!(
                                "source {row} lies at pixel ({}, {}), beyond 1e9 pixels: its phases are rounding",
                                s.row, s.col
                            ),
                        });
                    }
                }
                Ok(Known::Sources(sources.to_vec()))
            }
        }
    }

    /// The pixels the faint part is held at zero on (`n²`, row-major).
    pub(crate) fn mask(&self, n: usize) -> Vec<bool> {
        match self {
            Known::Image(image) => image.iter().map(|&v| v > 0.0).collect(),
            Known::Sources(sources) => {
                let mut mask = vec![false; n * n];
                for s in sources {
                    for r in neighbours(s.row, n) {
                        for c in neighbours(s.col, n) {
                            mask[r * n + c] = true;
                        }
                    }
                }
                mask
            }
        }
    }

    /// The known sky as an `n²` image (row-major): each source's flux on its nearest pixel, those outside
    /// the image left out.
    pub(crate) fn image(&self, n: usize) -> Vec<f64> {
        match self {
            Known::Image(image) => image.clone(),
            Known::Sources(sources) => {
                let mut image = vec![0.0; n * n];
                for s in sources {
                    let (r, c) = (s.row.round(), s.col.round());
                    if r >= 0.0 && c >= 0.0 && r < n as f64 && c < n as f64 {
                        image[r as usize * n + c as usize] += s.flux;
                    }
                }
                image
            }
        }
    }

    /// Every row's patch of the known sky under `op` ([`Measurement::patches`]'s layout), for a
    /// `grid_size`-cell grid.
    pub(crate) fn patches(&self, op: &Measurement, grid_size: usize) -> Vec<Complex64> {
        match self {
            Known::Image(image) => op.patches(image),
            Known::Sources(sources) => source_patches(op, grid_size, sources),
        }
    }

    /// The known sky's rows under `op` (interleaved re, im: [`LinearOperator::apply`]'s output).
    pub(crate) fn model(&self, op: &Measurement, grid_size: usize) -> Result<Vec<f64>> {
        let mut out = vec![0.0; op.nrows()];
        match self {
            Known::Image(image) => {
                let mut scratch = vec![0.0; op.scratch_len()];
                op.apply(image, &mut out, &mut scratch)?;
            }
            Known::Sources(sources) => {
                let patches = source_patches(op, grid_size, sources);
                op.model(&patches, bytemuck::cast_slice_mut(&mut out))?;
            }
        }
        Ok(out)
    }
}

/// The pixels of `0..n` nearest `x` from below and above (one when `x` is on a pixel), inside the image.
fn neighbours(x: f64, n: usize) -> impl Iterator<Item = usize> {
    let (lo, hi) = (x.floor(), x.ceil());
    [lo, hi]
        .into_iter()
        .enumerate()
        .filter(move |&(k, p)| (k == 0 || p != lo) && p >= 0.0 && p < n as f64)
        .map(|(_, p)| p as usize)
}

/// The sources' patches summed exactly: row `r`'s point `(i_v, i_u)` at frequency
/// `(u_r − s + i_u, v_r − s + i_v)/P` cycles per pixel (`s` the patch's reach) is
/// `Σ f e^{−2πi(ν_u (col − o) + ν_v (row − o))}`, `o` the layout's origin (pixel 0 on the cells, the
/// image's centre off them) — what the operator's spectrum gives for sources on pixels.
fn source_patches(op: &Measurement, grid_size: usize, sources: &[PointSource]) -> Vec<Complex64> {
    let t = op.patch_side();
    let origin = op.phase_origin();
    let (p, reach) = (grid_size as f64, ((t - 1) / 2) as f64);
    let tau = 2.0 * std::f64::consts::PI;
    let mut out = vec![Complex64::new(0.0, 0.0); op.rows().len() * t * t];
    out.par_chunks_mut(t * t)
        .zip(op.rows().par_iter())
        .for_each(|(patch, row)| {
            let (mut eu, mut ev) = (vec![Complex64::new(0.0, 0.0); t], vec![Complex64::new(0.0, 0.0); t]);
            for s in sources {
                let (lu, lv) = (s.col - origin, s.row - origin);
                for i in 0..t {
                    let step = i as f64 - reach;
                    eu[i] = Complex64::from_polar(1.0, -tau * ((row.u + step) / p * lu).rem_euclid(1.0));
                    ev[i] = Complex64::from_polar(s.flux, -tau * ((row.v + step) / p * lv).rem_euclid(1.0));
                }
                for (patch_row, &fv) in patch.chunks_exact_mut(t).zip(&ev) {
                    for (z, &fu) in patch_row.iter_mut().zip(&eu) {
                        *z += fv * fu;
                    }
                }
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::radio::dde::Ddes;
    use crate::radio::observation::{Baseline, Observation, Sampling};

    /// Six antennas' baselines at integer cells (any layout reads them), DDEs of side 3 with distinct
    /// taps so that every patch point counts.
    fn operator(sampling: Sampling) -> (Measurement, usize, usize) {
        let (n, p) = (16, 24);
        let mut baselines = Vec::new();
        for a in 0..6usize {
            for b in a + 1..6 {
                let (u, v) = ((a * 3) as f64 - (b * 2) as f64 + 2.0, (a * b) as f64 % 7.0 - 3.0);
                baselines.push(Baseline {
                    antenna1: a,
                    antenna2: b,
                    time: 0,
                    u,
                    v,
                });
            }
        }
        let obs = Observation {
            image_size: n,
            grid_size: p,
            n_antennas: 6,
            n_times: 1,
            values: vec![Complex64::new(1.0, 0.0); baselines.len()],
            baselines,
            sampling,
            weights: None,
        };
        let mut d = Ddes::constant(3, 6, 1, Complex64::new(1.0, 0.0)).unwrap();
        for (k, z) in d.taps_mut().iter_mut().enumerate() {
            *z += Complex64::new(0.1 * (k as f64).sin(), 0.1 * (k as f64 * 0.3).cos());
        }
        (Measurement::new(&obs, &d, &d).unwrap(), n, p)
    }

    #[test]
    fn sources_on_pixels_give_the_spectrum_of_their_image() {
        for sampling in [Sampling::Cells, Sampling::Nufft { tolerance: 1e-12 }] {
            let (op, n, p) = operator(sampling);
            let sources = [
                PointSource {
                    row: 3.0,
                    col: 11.0,
                    flux: 2.5,
                },
                PointSource {
                    row: 8.0,
                    col: 8.0,
                    flux: -0.7,
                },
                PointSource {
                    row: 15.0,
                    col: 0.0,
                    flux: 1.0,
                },
            ];
            let known = Known::new(KnownSky::Sources(&sources), n).unwrap();
            let image = known.image(n);
            let (exact, gridded) = (known.patches(&op, p), op.patches(&image));
            let scale: f64 = sources.iter().map(|s| s.flux.abs()).sum();
            let worst = exact
                .iter()
                .zip(&gridded)
                .map(|(a, b)| (a - b).norm())
                .fold(0.0, f64::max);
            assert!(worst < 1e-11 * scale, "{sampling:?}: {worst:e}");
            // The rows through the kernels: the same as the operator applied to the image.
            let by_image = Known::Image(image).model(&op, p).unwrap();
            let by_sources = known.model(&op, p).unwrap();
            let worst = by_image
                .iter()
                .zip(&by_sources)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-10 * scale, "{sampling:?}: {worst:e}");
        }
    }

    #[test]
    fn a_source_between_pixels_is_summed_at_its_position() {
        let (op, n, p) = operator(Sampling::Nufft { tolerance: 1e-12 });
        let s = PointSource {
            row: 5.3,
            col: 9.75,
            flux: 1.5,
        };
        let known = Known::new(KnownSky::Sources(&[s]), n).unwrap();
        let patches = known.patches(&op, p);
        let t = op.patch_side();
        let half = (n / 2) as f64;
        for (row, patch) in op.rows().iter().zip(patches.chunks_exact(t * t)) {
            for (k, z) in patch.iter().enumerate() {
                let reach = (t / 2) as f64;
                let (iv, iu) = ((k / t) as f64 - reach, (k % t) as f64 - reach);
                let phase = -2.0
                    * std::f64::consts::PI
                    * ((row.u + iu) / p as f64 * (s.col - half) + (row.v + iv) / p as f64 * (s.row - half));
                assert!((z - Complex64::from_polar(s.flux, phase)).norm() < 1e-12);
            }
        }
        // Held at zero around it: the four pixels about (5.3, 9.75); one pixel for a source on a pixel.
        let mask = known.mask(n);
        let held: Vec<usize> = (0..n * n).filter(|&i| mask[i]).collect();
        assert_eq!(held, vec![5 * n + 9, 5 * n + 10, 6 * n + 9, 6 * n + 10]);
        let on = Known::new(
            KnownSky::Sources(&[PointSource {
                row: 2.0,
                col: 0.0,
                flux: 1.0,
            }]),
            n,
        )
        .unwrap();
        assert_eq!(on.mask(n).iter().filter(|m| **m).count(), 1);
        // Drawn on the nearest pixel; outside the image, left out of the drawing.
        assert_eq!(known.image(n)[5 * n + 10], 1.5);
        let outside = PointSource {
            row: -3.0,
            col: 40.0,
            flux: 1.0,
        };
        let far = Known::new(KnownSky::Sources(&[outside]), n).unwrap();
        assert!(far.image(n).iter().all(|v| *v == 0.0) && far.mask(n).iter().all(|m| !m));
    }

    #[test]
    fn bad_sources_are_refused() {
        let nan = PointSource {
            row: 1.0,
            col: f64::NAN,
            flux: 1.0,
        };
        assert!(matches!(
            Known::new(KnownSky::Sources(&[nan]), 8),
            Err(Error::NonFinite { row: 0, col: 1, .. })
        ));
        assert!(matches!(
            Known::new(KnownSky::Sources(&[]), 8),
            Err(Error::Empty { .. })
        ));
        let far = PointSource {
            row: 1e12,
            col: 0.0,
            flux: 1.0,
        };
        assert!(matches!(
            Known::new(KnownSky::Sources(&[far]), 8),
            Err(Error::InvalidParameter { name: "sources", .. })
        ));
    }
}
