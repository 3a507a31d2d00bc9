//! Recorded visibilities (u, v, w in metres, two spectral windows of three channels, linear feeds,
//! weights, flags holding garbage) reduced to Stokes I and checked against the measurement equation summed
//! directly for point sources on pixels, with the image convention of `radio::UvData`'s documentation;
//! bad recordings refused by name.

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::LinearOperator;
use sparsimony_core::random::uniform_open01;
use sparsimony_solvers::Error;
use sparsimony_solvers::radio::{Complex64, Correlation, Ddes, Imaging, Measurement, SPEED_OF_LIGHT, UvData};

const N: usize = 32;
const CELL_ARCSEC: f64 = 2.0;
/// (row, column, flux in Jy) of the sky's point sources.
const SOURCES: [(usize, usize, f64); 3] = [(16, 16, 2.0), (20, 9, 0.5), (5, 27, 0.25)];

/// `Σ f e^{−2πi(u l + v m)}` in wavelengths, `l = −(c − N/2)Δ`, `m = (r − N/2)Δ`.
fn sky(u: f64, v: f64) -> Complex64 {
    let cell = CELL_ARCSEC.to_radians() / 3600.0;
    SOURCES
        .iter()
        .map(|&(r, c, f)| {
            let (l, m) = (-(c as f64 - (N / 2) as f64) * cell, (r as f64 - (N / 2) as f64) * cell);
            Complex64::from_polar(f, -2.0 * std::f64::consts::PI * (u * l + v * m))
        })
        .sum()
}

/// Eight antennas within 600 m, three integrations (0, 10, 20 s), an autocorrelation row, two windows of
/// three channels; XX = 1.1 I and YY = 0.9 I (a Stokes Q that I must cancel); XX of weight 2, YY of 4;
/// every seventh row flagged and full of NaN, and one row's YY alone flagged over garbage.
fn recording() -> UvData {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let positions: Vec<[f64; 3]> = (0..8)
        .map(|_| {
            [
                1200.0 * (uniform_open01(&mut rng) - 0.5),
                1200.0 * (uniform_open01(&mut rng) - 0.5),
                2.0 * (uniform_open01(&mut rng) - 0.5),
            ]
        })
        .collect();
    let frequencies = vec![vec![1.0e9, 1.05e9, 1.1e9], vec![1.3e9, 1.35e9, 1.4e9]];
    let correlations = vec![Correlation::XX, Correlation::XY, Correlation::YX, Correlation::YY];
    let mut d = UvData {
        n_antennas: 8,
        antenna1: vec![],
        antenna2: vec![],
        time: vec![],
        uvw: vec![],
        spectral_window: vec![],
        frequencies,
        correlations,
        data: vec![],
        weights: vec![],
        flags: vec![],
        phase_centre: [1.0, -0.5],
    };
    let mut row = 0;
    for (t, time) in [0.0, 10.0, 20.0].into_iter().enumerate() {
        for a in 0..8 {
            for b in a..8 {
                let rotate = 0.3 * t as f64;
                let baseline: Vec<f64> = (0..3).map(|k| positions[b][k] - positions[a][k]).collect();
                let uvw = [
                    baseline[0] * rotate.cos() - baseline[1] * rotate.sin(),
                    baseline[0] * rotate.sin() + baseline[1] * rotate.cos(),
                    baseline[2],
                ];
                let window = row % 2;
                d.antenna1.push(a);
                d.antenna2.push(b);
                d.time.push(time);
                d.uvw.push(uvw);
                d.spectral_window.push(window);
                for &f in &d.frequencies[window] {
                    let per_metre = f / SPEED_OF_LIGHT;
                    let i = sky(uvw[0] * per_metre, uvw[1] * per_metre);
                    let flagged = row % 7 == 3;
                    let garbage = Complex64::new(f64::NAN, 1e30);
                    let values = [1.1 * i, Complex64::new(0.01, 0.0), Complex64::new(0.0, 0.02), 0.9 * i];
                    for (k, value) in values.into_iter().enumerate() {
                        let yy_garbage = row == 5 && k == 3;
                        d.data.push(if flagged || yy_garbage { garbage } else { value });
                        d.weights.push(if k == 0 { 2.0 } else { 4.0 });
                        d.flags.push(flagged || yy_garbage);
                    }
                }
                row += 1;
            }
        }
    }
    d
}

fn imaging() -> Imaging {
    Imaging {
        image_size: N,
        cell_arcsec: CELL_ARCSEC,
        tolerance: 1e-11,
        solution_interval: 15.0,
        ..Imaging::default()
    }
}

#[test]
fn stokes_i_is_the_measurement_equation_of_the_sky_on_its_pixels() {
    let d = recording();
    let reduced = d.stokes_i(&imaging()).unwrap();
    let obs = &reduced.observation;
    // 3 × 36 rows × 3 channels; dropped: 24 autocorrelation pairs, the flagged rows' 3 channels each, and
    // row 5's 3 channels (its YY is flagged).
    let rows = d.n_rows();
    let flagged_rows = (0..rows)
        .filter(|r| r % 7 == 3 && d.antenna1[*r] != d.antenna2[*r])
        .count();
    let autos = (0..rows).filter(|r| d.antenna1[*r] == d.antenna2[*r]).count();
    let row5 = [5usize]
        .iter()
        .filter(|&&r| d.antenna1[r] != d.antenna2[r] && r % 7 != 3)
        .count();
    assert_eq!(reduced.kept + reduced.dropped, rows * 3);
    assert_eq!(reduced.dropped, 3 * (autos + flagged_rows + row5));
    assert_eq!(obs.n_times, 2, "0 and 10 s share the first 15 s step");
    assert_eq!(reduced.step_times, vec![0.0, 20.0]);
    let weights = obs.weights.as_ref().unwrap();
    assert!(weights.iter().all(|w| (w - 16.0 / 3.0).abs() < 1e-12), "4/(1/2 + 1/4)");
    assert!(reduced.w_phase > 0.0 && reduced.w_phase < 1e-3);

    // The calibration's operator, unit gains, on the sky's pixels gives the recorded Stokes I.
    let mut image = vec![0.0; N * N];
    for &(r, c, f) in &SOURCES {
        image[r * N + c] = f;
    }
    let unit = Ddes::constant(1, obs.n_antennas, obs.n_times, Complex64::new(1.0, 0.0)).unwrap();
    let phi = Measurement::new(obs, &unit, &unit).unwrap();
    let mut y = vec![0.0; phi.nrows()];
    phi.apply(&image, &mut y, &mut vec![0.0; phi.scratch_len()]).unwrap();
    let mut worst: f64 = 0.0;
    // Weights are relative (all equal here): the rows are not scaled.
    for (j, value) in obs.values.iter().enumerate() {
        let model = Complex64::new(y[4 * j], y[4 * j + 1]);
        worst = worst.max((model - value).norm());
    }
    assert!(worst < 1e-9, "largest difference from the direct sum {worst:e} Jy");
}

#[test]
fn bad_recordings_are_refused_by_name() {
    let good = recording();
    let fails = |d: &UvData, i: &Imaging| d.stokes_i(i).unwrap_err();
    let i = imaging();

    let mut d = good.clone();
    d.data[12] = Complex64::new(f64::NAN, 0.0); // row 1 (of 3 channels × 4 correlations), channel 0, XX
    assert!(matches!(fails(&d, &i), Error::NonFinite { row: 1, col: 0, .. }));
    let mut d = good.clone();
    d.weights[15] = -1.0; // row 1, channel 0, YY
    assert!(matches!(fails(&d, &i), Error::NonFinite { row: 1, col: 3, .. }));
    let mut d = good.clone();
    d.antenna2[4] = 8;
    assert!(matches!(
        fails(&d, &i),
        Error::Visibility {
            index: 4,
            name: "antenna",
            ..
        }
    ));
    let mut d = good.clone();
    d.spectral_window[2] = 2;
    assert!(matches!(
        fails(&d, &i),
        Error::Visibility {
            index: 2,
            name: "spectral window",
            ..
        }
    ));
    let mut d = good.clone();
    d.uvw[6][2] = f64::INFINITY;
    assert!(matches!(
        fails(&d, &i),
        Error::NonFinite {
            what: "uvw",
            row: 6,
            col: 2
        }
    ));
    let mut d = good.clone();
    d.frequencies[1][2] = 0.0;
    assert!(matches!(
        fails(&d, &i),
        Error::InvalidParameter {
            name: "frequencies",
            ..
        }
    ));
    let mut d = good.clone();
    d.frequencies[1].pop();
    assert!(matches!(fails(&d, &i), Error::Shape { .. }));
    let mut d = good.clone();
    d.flags.pop();
    assert!(matches!(fails(&d, &i), Error::Shape { .. }));
    let mut d = good.clone();
    d.correlations = vec![Correlation::XX, Correlation::XY, Correlation::YX, Correlation::RR];
    assert!(matches!(
        fails(&d, &i),
        Error::InvalidParameter {
            name: "correlations",
            ..
        }
    ));
    let mut d = good.clone();
    d.flags.iter_mut().for_each(|f| *f = true);
    assert!(matches!(fails(&d, &i), Error::Empty { .. }));
    let mut d = good.clone();
    d.weights.iter_mut().for_each(|w| *w = 0.0);
    assert!(matches!(fails(&d, &i), Error::Empty { .. }));
    // A w of 100 km over a field of 32 × 4″: 0.28 rad at the corner.
    let mut d = good.clone();
    d.uvw[1][2] = 1e5;
    let wide = Imaging { cell_arcsec: 4.0, ..i };
    assert!(matches!(
        fails(&d, &wide),
        Error::InvalidParameter {
            name: "max_w_phase",
            ..
        }
    ));
    // A cell too coarse for the longest baseline.
    let coarse = Imaging {
        cell_arcsec: 200.0,
        ..i
    };
    assert!(matches!(
        fails(&good, &coarse),
        Error::InvalidParameter { name: "cell", .. }
    ));
    for bad in [
        Imaging { cell_arcsec: 0.0, ..i },
        Imaging {
            cell_arcsec: f64::NAN,
            ..i
        },
        Imaging { image_size: 1, ..i },
        Imaging {
            solution_interval: -1.0,
            ..i
        },
        Imaging {
            max_w_phase: f64::INFINITY,
            ..i
        },
    ] {
        assert!(matches!(fails(&good, &bad), Error::InvalidParameter { .. }), "{bad:?}");
    }
    assert!(matches!(
        UvData {
            antenna1: vec![],
            ..good.clone()
        }
        .stokes_i(&i),
        Err(Error::Empty { .. })
    ));
}

#[test]
fn correlation_codes_follow_casacore_and_uvfits() {
    use Correlation::*;
    assert_eq!(Correlation::from_casa(5), Some(RR));
    assert_eq!(Correlation::from_casa(9), Some(XX));
    assert_eq!(Correlation::from_casa(12), Some(YY));
    assert_eq!(Correlation::from_casa(1), None); // Stokes I itself
    assert_eq!(Correlation::from_casa(13), None);
    assert_eq!(Correlation::from_uvfits(-1), Some(RR));
    assert_eq!(Correlation::from_uvfits(-2), Some(LL));
    assert_eq!(Correlation::from_uvfits(-6), Some(YY));
    assert_eq!(Correlation::from_uvfits(-8), Some(YX));
    assert_eq!(Correlation::from_uvfits(1), None);
    assert_eq!(Correlation::from_uvfits(-9), None);
}

/// Per-antenna gains on a recording (16 antennas, 2 integrations, noiseless): the direction-independent
/// stage, given the two bright sources, finds the gains up to a global phase and the faint sources' fluxes.
#[test]
fn gains_and_faint_sources_are_recovered_from_a_recording() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let n_antennas = 16;
    let positions: Vec<[f64; 2]> = (0..n_antennas)
        .map(|_| {
            [
                1500.0 * (uniform_open01(&mut rng) - 0.5),
                1500.0 * (uniform_open01(&mut rng) - 0.5),
            ]
        })
        .collect();
    let bright = [(16, 16, 2.0), (20, 9, 1.0)];
    let faint = [(5, 27, 0.05), (24, 22, 0.03)];
    // A cell of 6″, about a quarter of the longest baseline's fringe (≈ 0.3 cycle per pixel), as imagers
    // choose it.
    let cell_arcsec: f64 = 6.0;
    let cell = cell_arcsec.to_radians() / 3600.0;
    let sky = |u: f64, v: f64| -> Complex64 {
        bright
            .iter()
            .chain(&faint)
            .map(|&(r, c, f): &(usize, usize, f64)| {
                let (l, m) = (-(c as f64 - (N / 2) as f64) * cell, (r as f64 - (N / 2) as f64) * cell);
                Complex64::from_polar(f, -2.0 * std::f64::consts::PI * (u * l + v * m))
            })
            .sum()
    };
    let mut truth = Ddes::constant(1, n_antennas, 2, Complex64::new(1.0, 0.0)).unwrap();
    for g in truth.taps_mut() {
        *g = Complex64::from_polar(
            0.8 + 0.4 * uniform_open01(&mut rng),
            std::f64::consts::TAU * uniform_open01(&mut rng),
        );
    }
    let frequencies = vec![vec![1.2e9, 1.4e9]];
    let mut d = UvData {
        n_antennas,
        antenna1: vec![],
        antenna2: vec![],
        time: vec![],
        uvw: vec![],
        spectral_window: vec![],
        frequencies,
        correlations: vec![Correlation::XX, Correlation::YY],
        data: vec![],
        weights: vec![],
        flags: vec![],
        phase_centre: [0.0, 0.7],
    };
    for t in 0..2 {
        let rotate = 0.6 * t as f64;
        for a in 0..n_antennas {
            for b in a + 1..n_antennas {
                let (du, dv) = (positions[b][0] - positions[a][0], positions[b][1] - positions[a][1]);
                let uvw = [
                    du * rotate.cos() - dv * rotate.sin(),
                    du * rotate.sin() + dv * rotate.cos(),
                    0.0,
                ];
                d.antenna1.push(a);
                d.antenna2.push(b);
                d.time.push(60.0 * t as f64);
                d.uvw.push(uvw);
                d.spectral_window.push(0);
                let gain = truth.kernel(t, a)[0] * truth.kernel(t, b)[0].conj();
                for &f in &d.frequencies[0] {
                    let i = gain * sky(uvw[0] * f / SPEED_OF_LIGHT, uvw[1] * f / SPEED_OF_LIGHT);
                    d.data.extend([1.1 * i, 0.9 * i]);
                    d.weights.extend([1.0, 1.0]);
                    d.flags.extend([false, false]);
                }
            }
        }
    }
    let reduced = d
        .stokes_i(&Imaging {
            cell_arcsec,
            ..imaging()
        })
        .unwrap();
    let mut known = ndarray::Array2::zeros((N, N));
    for &(r, c, f) in &bright {
        known[[r, c]] = f;
    }
    let cal = sparsimony_solvers::radio::SelfCalibration {
        dde_size: 1,
        die_max_outer: 60,
        dde_max_outer: 1,
        tol: 1e-7,
        eta: 1e-6,
        ..Default::default()
    };
    let fit = sparsimony_solvers::Estimator::fit(&cal, (&reduced.observation, known.view())).unwrap();
    // Each time step's gains are known up to its own global phase.
    let error = fit.die.relative_error(&truth).unwrap();
    assert!(error < 1e-2, "gain error {error:e}");
    // Each faint source: the flux within one pixel of it, and the brightest pixel there on it.
    for &(r, c, f) in &faint {
        let near = fit.die_faint.slice(ndarray::s![r - 1..=r + 1, c - 1..=c + 1]);
        let got = near.sum();
        assert!(
            (got - f).abs() < 0.1 * f,
            "faint source at ({r}, {c}): {got} Jy against {f}"
        );
        assert!(
            near.iter().all(|v| *v <= fit.die_faint[[r, c]]),
            "peak off ({r}, {c}): {near:?}"
        );
    }
}

#[test]
fn directions_and_pixels_are_the_sin_projection() {
    let imaging = Imaging {
        image_size: 64,
        cell_arcsec: 30.0,
        ..Imaging::default()
    };
    let cell = 30f64.to_radians() / 3600.0;
    // On the equator, along the equator: l = sin Δα exactly, and east is to the left (columns fall).
    let (r, c) = imaging.pixel(10.0 + 0.1, 0.0, [10f64.to_radians(), 0.0]).unwrap();
    assert!((r - 32.0).abs() < 1e-9);
    assert!((c - (32.0 - 0.1f64.to_radians().sin() / cell)).abs() < 1e-9, "{c}");
    // North is up (rows grow): at the centre's right ascension, m = sin(δ − δ₀).
    let (r, c) = imaging
        .pixel(200.0, -30.0 + 0.2, [200f64.to_radians(), (-30f64).to_radians()])
        .unwrap();
    assert!((r - (32.0 + 0.2f64.to_radians().sin() / cell)).abs() < 1e-9 && (c - 32.0).abs() < 1e-9);
    // Round trips anywhere, near the pole and across RA = 0 too.
    for (centre, dra, ddec) in [
        ([0.001f64, 0.5f64], -0.3, 0.2),
        ([6.2, 1.5], 40.0, 0.1),
        ([3.0, -1.2], 0.25, -0.25),
    ] {
        let (ra, dec) = (
            (centre[0].to_degrees() + dra).rem_euclid(360.0),
            centre[1].to_degrees() + ddec,
        );
        let (r, c) = imaging.pixel(ra, dec, centre).unwrap();
        let (ra2, dec2) = imaging.direction(r, c, centre).unwrap();
        let dra = (ra2 - ra + 180.0).rem_euclid(360.0) - 180.0;
        assert!(
            dra.abs() < 1e-9 && (dec2 - dec).abs() < 1e-9,
            "{ra} {dec}: {ra2} {dec2}"
        );
    }
    // Behind the plane, and non-finite, refused.
    assert!(imaging.pixel(190.0, 0.0, [0.0, 0.0]).is_err());
    assert!(imaging.pixel(f64::NAN, 0.0, [0.0, 0.0]).is_err());
}
