//! A Measurement Set written by python-casacore (`tests/fixtures/radio/make_measurement_set.py`: the VLA
//! D configuration's 27 antennas by their design rule, 6 integrations, two spectral windows of 4 channels,
//! linear feeds, per-antenna gains, 2 mJy noise, flagged rows over 1e6 Jy of garbage) read by
//! `sparsimony::io::measurement_set`, reduced to Stokes I and calibrated: the gains against the ones the
//! set was made with (`vla_d_points_gains.csv`), the faint sources against the sky list
//! (`vla_d_points_sky.csv`, RA/Dec in degrees, placed by the SIN projection here); bad sets refused by
//! table and column.
#![cfg(feature = "measurement-set")]

use std::path::{Path, PathBuf};

use ndarray::Array2;
use sparsimony::io::IoError;
use sparsimony::io::measurement_set::{Selection, read};
use sparsimony::solvers::Estimator;
use sparsimony::solvers::radio::{Complex64, Correlation, Imaging, SelfCalibration};

const N: usize = 48;
const CELL_ARCSEC: f64 = 10.0;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/radio")
        .join(name)
}

fn csv_rows(name: &str) -> Vec<Vec<f64>> {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// The pixel `(row, column)` of `(ra, dec)` in degrees: the SIN projection about `centre` (radians), then
/// `l = −(c − N/2)Δ`, `m = (r − N/2)Δ`.
fn pixel(ra: f64, dec: f64, centre: [f64; 2]) -> (usize, usize) {
    let (ra, dec) = (ra.to_radians(), dec.to_radians());
    let d = ra - centre[0];
    let l = dec.cos() * d.sin();
    let m = dec.sin() * centre[1].cos() - dec.cos() * centre[1].sin() * d.cos();
    let cell = CELL_ARCSEC.to_radians() / 3600.0;
    let (r, c) = (m / cell + (N / 2) as f64, -l / cell + (N / 2) as f64);
    assert!(
        (r - r.round()).abs() < 1e-6 && (c - c.round()).abs() < 1e-6,
        "the sky list's sources are on pixels"
    );
    (r.round() as usize, c.round() as usize)
}

#[test]
fn the_set_is_read_as_written() {
    let d = read(&fixture("vla_d_points.ms"), &Selection::default()).unwrap();
    assert_eq!(d.n_antennas, 27);
    assert_eq!(d.n_rows(), 6 * 27 * 26 / 2);
    assert_eq!(d.frequencies.len(), 2);
    assert_eq!(d.frequencies[1], vec![1.42e9, 1.44e9, 1.46e9, 1.48e9]);
    assert_eq!(
        d.correlations,
        [Correlation::XX, Correlation::XY, Correlation::YX, Correlation::YY]
    );
    assert!((d.phase_centre[0] - 150f64.to_radians()).abs() < 1e-12);
    assert!((d.phase_centre[1] - 40f64.to_radians()).abs() < 1e-12);
    assert_eq!(d.spectral_window[..4], [0, 1, 0, 1]);
    // Row 5: flagged whole, over garbage; row 7: channel 2's YY alone.
    assert!(d.flags[5 * 16..6 * 16].iter().all(|f| *f));
    assert_eq!(d.data[5 * 16], Complex64::new(1e6, 1e6));
    let row7: Vec<usize> = (0..16).filter(|k| d.flags[7 * 16 + k]).collect();
    assert_eq!(row7, vec![2 * 4 + 3]);
    assert!(d.weights.iter().all(|w| (w - 250_000.0).abs() < 1e-3), "1/(2 mJy)²");
    // Correlations fastest within a channel: unflagged XX and YY hold the same visibility up to the
    // 2 mJy noise, XY and YX noise alone.
    for r in [0, 1, 100, 2000] {
        for ch in 0..4 {
            let at = (r * 4 + ch) * 4;
            assert!((d.data[at] - d.data[at + 3]).norm() < 0.02, "row {r}, channel {ch}");
            assert!(
                d.data[at + 1].norm() < 0.01 && d.data[at + 2].norm() < 0.01,
                "row {r}, channel {ch}"
            );
            assert!(
                d.data[at].norm() > 0.1,
                "row {r}, channel {ch}: the sky's 4.5 Jy under gains"
            );
        }
    }
    assert!(d.uvw.iter().all(|b| b[0].hypot(b[1]) < 1250.0) && d.uvw.iter().any(|b| b[0].hypot(b[1]) > 800.0));
    let reduced = d.stokes_i(&Imaging {
        image_size: N,
        cell_arcsec: CELL_ARCSEC,
        ..Imaging::default()
    });
    let reduced = reduced.unwrap();
    assert_eq!(reduced.kept + reduced.dropped, d.n_rows() * 4);
    assert_eq!(reduced.observation.n_times, 6);
}

#[test]
fn gains_and_faint_sources_are_recovered_from_the_set() {
    let d = read(&fixture("vla_d_points.ms"), &Selection::default()).unwrap();
    let reduced = d
        .stokes_i(&Imaging {
            image_size: N,
            cell_arcsec: CELL_ARCSEC,
            ..Imaging::default()
        })
        .unwrap();
    let sky = csv_rows("vla_d_points_sky.csv");
    let mut known = Array2::zeros((N, N));
    let mut faint = Vec::new();
    for s in &sky {
        let (r, c) = pixel(s[0], s[1], d.phase_centre);
        if s[3] == 1.0 {
            known[[r, c]] = s[2];
        } else {
            faint.push((r, c, s[2]));
        }
    }
    let cal = SelfCalibration {
        dde_size: 1,
        die_max_outer: 60,
        dde_max_outer: 1,
        tol: 1e-7,
        ..SelfCalibration::default()
    };
    let fit = cal.fit((&reduced.observation, known.view())).unwrap();
    // Each integration's gains, up to its own global phase, against the set's.
    let truth = csv_rows("vla_d_points_gains.csv");
    for t in 0..6 {
        let (got, want): (Vec<Complex64>, Vec<Complex64>) = truth
            .iter()
            .filter(|g| g[0] as usize == t)
            .map(|g| (fit.die.kernel(t, g[1] as usize)[0], Complex64::new(g[2], g[3])))
            .unzip();
        let cross: Complex64 = got.iter().zip(&want).map(|(g, w)| g * w.conj()).sum();
        let phase = cross / cross.norm();
        let error = (got
            .iter()
            .zip(&want)
            .map(|(g, w)| (g - phase * w).norm_sqr())
            .sum::<f64>()
            / want.iter().map(|w| w.norm_sqr()).sum::<f64>())
        .sqrt();
        assert!(error < 2e-3, "integration {t}: gain error {error:e}");
    }
    // The faint sources: the flux within one pixel of each within 1 %, the brightest pixel on each.
    for &(r, c, f) in &faint {
        let near = fit.die_faint.slice(ndarray::s![r - 1..=r + 1, c - 1..=c + 1]);
        let got = near.sum();
        assert!(
            (got - f).abs() < 0.01 * f,
            "faint source at ({r}, {c}): {got} Jy against {f}"
        );
        assert!(
            near.iter().all(|v| *v <= fit.die_faint[[r, c]]),
            "peak off ({r}, {c}): {near:?}"
        );
    }
}

#[test]
fn bad_sets_are_refused_by_table_and_column() {
    let missing = std::env::temp_dir().join("sparsimony-no-such.ms");
    assert!(matches!(
        read(&missing, &Selection::default()),
        Err(IoError::Table { table: "MAIN", .. })
    ));
    let e = read(
        &fixture("vla_d_points.ms"),
        &Selection {
            data_column: "CORRECTED_DATA".into(),
            field: 0,
        },
    )
    .unwrap_err();
    assert!(
        matches!(&e, IoError::Table { table: "MAIN", column: Some(c), .. } if c == "CORRECTED_DATA"),
        "{e}"
    );
    let e = read(
        &fixture("vla_d_points.ms"),
        &Selection {
            data_column: "DATA".into(),
            field: 3,
        },
    )
    .unwrap_err();
    assert!(matches!(&e, IoError::Table { table: "FIELD", .. }), "{e}");
    assert!(e.to_string().contains("field 3"), "{e}");
}
