//! A UVFITS file written by pyuvdata (`tests/fixtures/radio/make_uvfits.py`) from the Measurement Set
//! fixture — the same observation, its two spectral windows as two IFs (each group holds both, the other
//! window's values flagged by negative weights) — read by `sparsimony::io::uvfits` into the same Stokes I
//! visibilities as the Measurement Set reader gives; bad files refused by HDU and parameter.

use std::path::{Path, PathBuf};

use sparsimony::io::IoError;
use sparsimony::io::uvfits::read;
use sparsimony::solvers::radio::{Correlation, Imaging};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/radio")
        .join(name)
}

#[test]
fn the_file_is_read_as_pyuvdata_wrote_it() {
    let d = read(&fixture("vla_d_points.uvfits")).unwrap();
    assert_eq!(d.n_antennas, 27);
    // One row per group and IF: 2106 groups (the set's rows), two IFs.
    assert_eq!(d.n_rows(), 2 * 6 * 27 * 26 / 2);
    assert_eq!(
        d.frequencies,
        vec![
            vec![1.30e9, 1.32e9, 1.34e9, 1.36e9],
            vec![1.42e9, 1.44e9, 1.46e9, 1.48e9]
        ]
    );
    assert_eq!(
        d.correlations,
        [Correlation::XX, Correlation::YY, Correlation::XY, Correlation::YX]
    );
    assert!((d.phase_centre[0] - 150f64.to_radians()).abs() < 1e-12);
    assert!((d.phase_centre[1] - 40f64.to_radians()).abs() < 1e-12);
    // Group 1 is the set's row 1 (antennas 0 and 2, window 1): its values are in IF 1, IF 0 flagged.
    assert_eq!(
        (d.antenna1[2], d.antenna2[2], d.antenna1[3], d.antenna2[3]),
        (0, 2, 0, 2)
    );
    assert!(d.flags[2 * 16..3 * 16].iter().all(|f| *f));
    assert!(d.flags[3 * 16..4 * 16].iter().all(|f| !*f));
    let xx = d.data[3 * 16];
    assert!(
        (xx.re - 1.297_000_2).abs() < 1e-6 && (xx.im - 4.240_175_7).abs() < 1e-6,
        "{xx}"
    );
    let b = d.uvw[3];
    assert!((b[0] - 11.387_504).abs() < 1e-5 && (b[1] - 75.911_797).abs() < 1e-5 && (b[2] - 8.697_451).abs() < 1e-5);
    // Six integrations 60 s apart, in MJD seconds as a Measurement Set's TIME.
    let mut times = d.time.clone();
    times.dedup();
    assert!((times[0] - 4.9e9).abs() < 1e-3, "{}", times[0]);
    assert_eq!(
        d.time.iter().filter(|t| (**t - times[0]).abs() < 1.0).count(),
        2 * 27 * 26 / 2
    );
}

#[cfg(feature = "measurement-set")]
#[test]
fn stokes_i_is_the_measurement_sets() {
    use sparsimony::io::measurement_set::{Selection, read as read_ms};
    let imaging = Imaging {
        image_size: 48,
        cell_arcsec: 10.0,
        ..Imaging::default()
    };
    let a = read(&fixture("vla_d_points.uvfits"))
        .unwrap()
        .stokes_i(&imaging)
        .unwrap();
    let b = read_ms(&fixture("vla_d_points.ms"), &Selection::default())
        .unwrap()
        .stokes_i(&imaging)
        .unwrap();
    assert_eq!(a.kept, b.kept);
    assert_eq!(a.step_times.len(), b.step_times.len());
    let (x, y) = (&a.observation, &b.observation);
    for (k, (p, q)) in x.baselines.iter().zip(&y.baselines).enumerate() {
        assert_eq!(
            (p.antenna1, p.antenna2, p.time),
            (q.antenna1, q.antenna2, q.time),
            "visibility {k}"
        );
        assert!((p.u - q.u).abs() < 1e-9 * q.u.abs().max(1.0) && (p.v - q.v).abs() < 1e-9 * q.v.abs().max(1.0));
    }
    // The values as float32 stores them, the weights exactly.
    for (p, q) in x.values.iter().zip(&y.values) {
        assert!((p - q).norm() <= 1e-6 * q.norm().max(1.0), "{p} against {q}");
    }
    assert_eq!(x.weights, y.weights);
}

#[test]
fn bad_files_are_refused_by_hdu_and_parameter() {
    let dir = std::env::temp_dir().join(format!("sparsimony-uvfits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Not FITS.
    let text = dir.join("text.uvfits");
    std::fs::write(&text, "hello").unwrap();
    assert!(matches!(read(&text), Err(IoError::Table { table: "PRIMARY", .. })));
    // An image, not random groups.
    let image = dir.join("image.fits");
    sparsimony::io::write_fits(
        &image,
        ndarray::Array2::<f64>::zeros((4, 4)).view(),
        &Default::default(),
    )
    .unwrap();
    let e = read(&image).unwrap_err();
    assert!(e.to_string().contains("random groups"), "{e}");
    // The fixture with its antenna table's name changed: the table is missing.
    let bytes = std::fs::read(fixture("vla_d_points.uvfits")).unwrap();
    let at = bytes.windows(7).position(|w| w == b"AIPS AN").unwrap();
    let mut renamed = bytes.clone();
    renamed[at..at + 7].copy_from_slice(b"AIPS XX");
    let no_an = dir.join("no-an.uvfits");
    std::fs::write(&no_an, &renamed).unwrap();
    let e = read(&no_an).unwrap_err();
    assert!(matches!(&e, IoError::Table { table: "AIPS AN", .. }), "{e}");
    // A missing file.
    assert!(matches!(read(&dir.join("absent.uvfits")), Err(IoError::Open { .. })));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn with_the_whole_sky_known_the_command_fits_to_the_noise() {
    // Every source of the file in the sky list (exact positions): nothing is left for the pixels, and the
    // residuals are the noise the weights state — the reduced χ² about 1 (2 · 7512 real values: ±0.02
    // at one σ) — which checks the weights' convention (1/σ² of the real part) and the χ² reported.
    let dir = std::env::temp_dir().join(format!("sparsimony-uvfits-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sky = dir.join("sky.csv");
    let faint = std::fs::read_to_string(fixture("vla_d_points_faint.csv")).unwrap();
    let mut all = std::fs::read_to_string(fixture("vla_d_points_sky.csv")).unwrap();
    all.extend(faint.lines().skip(1).map(|l| format!("{l}\n")));
    std::fs::write(&sky, all).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sparsimony"))
        .args(["radio", "calibrate", "--vis"])
        .arg(fixture("vla_d_points.uvfits"))
        .arg("--sky")
        .arg(&sky)
        .args([
            "--cell",
            "10",
            "--image-size",
            "48",
            "--dde-size",
            "1",
            "--tol",
            "1e-4",
            "--max-outer",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let chi2 = v["reduced_chi2"].as_f64().unwrap();
    assert!((chi2 - 1.0).abs() < 0.06, "reduced χ² {chi2}");
    assert_eq!(v["visibilities"]["kept"], 7512);
    // A file that is not FITS, and a Measurement Set's flag given with a UVFITS file: refused.
    let text = dir.join("text.uvfits");
    std::fs::write(&text, "hello").unwrap();
    for (vis, extra, words) in [
        (text.as_path(), &[][..], &["PRIMARY", "not a FITS file"][..]),
        (
            &fixture("vla_d_points.uvfits"),
            &["--field", "1"][..],
            &["--field", "UVFITS"][..],
        ),
    ] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_sparsimony"))
            .args(["radio", "calibrate", "--vis"])
            .arg(vis)
            .arg("--sky")
            .arg(&sky)
            .args(["--cell", "10", "--image-size", "48"])
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(words.iter().all(|w| err.contains(w)), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
