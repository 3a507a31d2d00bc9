//! `radio calibrate` on recorded visibilities: a Measurement Set or a UVFITS file reduced to Stokes I for
//! an image of a given size and cell about the phase centre, and the known sources as users list them
//! (RA, Dec, Jy).

use std::path::Path;

use sparsimony::solvers::radio::{Imaging, PointSource};

use super::{CalibrateArgs, Loaded, Recorded, Sky};

/// The sky list's columns: J2000 right ascension and declination (degrees), flux density (Jy).
const SKY_COLUMNS: [&str; 3] = ["ra_deg", "dec_deg", "flux_jy"];

/// Whether `path` names a UVFITS file (by its extension: `.uvfits`, `.uvf`, `.fits`, `.fit`).
pub(super) fn is_uvfits(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["uvfits", "uvf", "fits", "fit"].contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads the Measurement Set or UVFITS file `--vis`, reduces it to Stokes I and places `--sky`'s sources
/// on the image.
pub(super) fn load(c: &CalibrateArgs) -> Result<Loaded, Box<dyn std::error::Error>> {
    for (flag, given) in [
        ("--bright", c.bright.is_some()),
        ("--grid-size", c.grid_size.is_some()),
        ("--truth", c.truth.is_some()),
    ] {
        if given {
            return Err(format!(
                "{flag} applies to the grid-cell table; {} holds recorded visibilities (their known sources are --sky's)",
                c.vis.display()
            )
            .into());
        }
    }
    let vis = c.vis.display();
    let Some(sky) = &c.sky else {
        return Err(format!(
            "--vis {vis} holds recorded visibilities: give the known bright sources with --sky FILE.csv (columns {})",
            SKY_COLUMNS.join(", ")
        )
        .into());
    };
    let (Some(cell_arcsec), Some(image_size)) = (c.cell, c.image_size) else {
        return Err(format!(
            "--vis {vis} holds recorded visibilities: give the image's cell and size with --cell ARCSEC and --image-size N"
        )
        .into());
    };
    let imaging = Imaging {
        image_size,
        cell_arcsec,
        solution_interval: c.solution_interval,
        ..Imaging::default()
    };
    let data = if c.vis.is_dir() {
        read_measurement_set(c)?
    } else {
        for (flag, given) in [("--data-column", c.data_column != "DATA"), ("--field", c.field != 0)] {
            if given {
                return Err(format!("{flag} applies to a Measurement Set; {vis} is a UVFITS file (one source)").into());
            }
        }
        sparsimony::io::uvfits::read(&c.vis)?
    };
    let flags = [
        ("image_size", "--image-size"),
        ("cell", "--cell"),
        ("solution_interval", "--solution-interval"),
        ("max_w_phase", "--cell/--image-size (the field is too wide)"),
    ];
    // A row of the reduction: a Measurement Set's row of the field, or a UVFITS group's IF.
    let n_if = data.frequencies.len().max(1);
    let row = |r: usize| {
        if c.vis.is_dir() {
            format!("row {r} of field {}'s rows", c.field)
        } else {
            format!("group {}, IF {}", r / n_if, r % n_if)
        }
    };
    let reduced = data.stokes_i(&imaging).map_err(|e| -> Box<dyn std::error::Error> {
        match e {
            sparsimony::solvers::Error::Visibility { index, name, reason } => {
                format!("{vis}: {}: {name}: {reason}", row(index)).into()
            }
            sparsimony::solvers::Error::NonFinite { row: r, col, .. } => {
                let corrs = data.correlations.len().max(1);
                format!(
                    "{vis}: {}, channel {}, correlation {:?}: an unflagged visibility or its weight is not finite \
                     (flag it, or fix the file)",
                    row(r),
                    col / corrs,
                    data.correlations.get(col % corrs)
                )
                .into()
            }
            e => format!("{vis}: {}", super::with_flag_names(e.into(), &flags)).into(),
        }
    })?;
    let sources = read_sky(sky, &imaging, data.phase_centre, reduced.max_w)?;
    Ok(Loaded {
        observation: reduced.observation,
        sky: Sky::Sources(sources),
        table: None,
        truth: None,
        recorded: Some(Recorded {
            imaging,
            phase_centre: data.phase_centre,
            kept: reduced.kept,
            dropped: reduced.dropped,
            w_phase: reduced.w_phase,
            step_times: reduced.step_times,
        }),
    })
}

#[cfg(feature = "measurement-set")]
fn read_measurement_set(c: &CalibrateArgs) -> Result<sparsimony::solvers::radio::UvData, Box<dyn std::error::Error>> {
    use sparsimony::io::measurement_set::{Selection, read};
    let selection = Selection {
        data_column: c.data_column.clone(),
        field: c.field,
    };
    Ok(read(&c.vis, &selection)?)
}

#[cfg(not(feature = "measurement-set"))]
fn read_measurement_set(c: &CalibrateArgs) -> Result<sparsimony::solvers::radio::UvData, Box<dyn std::error::Error>> {
    Err(format!(
        "--vis {} is a folder (a Measurement Set?), but this build has no Measurement Set reader: build with the \
         `measurement-set` feature (on by default)",
        c.vis.display()
    )
    .into())
}

/// The sky list (CSV, columns [`SKY_COLUMNS`], others ignored) as point sources on the image; a source
/// whose w-term phase (`2π · max|w| · (1 − n)`, `max_w` in wavelengths) exceeds the imaging's bound is
/// refused, as the small-field model leaves it out.
fn read_sky(
    path: &Path,
    imaging: &Imaging,
    centre: [f64; 2],
    max_w: f64,
) -> Result<Vec<PointSource>, Box<dyn std::error::Error>> {
    let table = sparsimony::io::read_table(path)?;
    if table.lines.is_empty() && table.values().nrows() > 0 {
        return Err(format!(
            "--sky {}: a CSV file with a header naming the columns {} is needed",
            path.display(),
            SKY_COLUMNS.join(", ")
        )
        .into());
    }
    let cols: Vec<usize> = SKY_COLUMNS
        .iter()
        .map(|name| {
            table.columns.iter().position(|c| c.trim() == *name).ok_or_else(|| {
                format!(
                    "--sky {}: no column `{name}` (the sky list needs {})",
                    path.display(),
                    SKY_COLUMNS.join(", ")
                )
            })
        })
        .collect::<Result<_, _>>()?;
    if table.values().nrows() == 0 {
        return Err(format!(
            "--sky {}: no sources (self-calibration needs the bright ones)",
            path.display()
        )
        .into());
    }
    table
        .values()
        .rows()
        .into_iter()
        .enumerate()
        .map(|(r, row)| {
            let (ra, dec, flux) = (row[cols[0]], row[cols[1]], row[cols[2]]);
            let at = |k: usize| table.locate(path, r, cols[k]);
            for (k, v) in [ra, dec, flux].into_iter().enumerate() {
                sparsimony::solvers::data::check_value("sky list", r, k, v).map_err(|e| match e {
                    sparsimony::solvers::Error::Magnitude { .. } => {
                        format!("--sky {}: {v:e} is beyond ±1e100: rescale", at(k))
                    }
                    _ => format!("--sky {}: not a finite number", at(k)),
                })?;
            }
            if !(-90.0..=90.0).contains(&dec) {
                return Err(format!(
                    "--sky {}: a declination must lie in [−90°, 90°], got {dec}",
                    at(1)
                ));
            }
            let (row, col) = imaging
                .pixel(ra, dec, centre)
                .map_err(|e| format!("--sky {}: {e}", at(0)))?;
            // Its w-term: 1 − n at its direction cosines.
            let (cell, half) = (imaging.cell_arcsec.to_radians() / 3600.0, (imaging.image_size / 2) as f64);
            let (l, m) = ((half - col) * cell, (row - half) * cell);
            let phase = std::f64::consts::TAU * max_w * (1.0 - (1.0 - l * l - m * m).max(0.0).sqrt());
            if phase > imaging.max_w_phase {
                return Err(format!(
                    "--sky {}: the source is so far from the phase centre that its w-term reaches {phase:.3} rad, above \
                     the {} rad the small-field model tolerates (w-stacking is not built): leave it out or image \
                     about it",
                    at(0),
                    imaging.max_w_phase
                ));
            }
            Ok(PointSource { row, col, flux })
        })
        .collect::<Result<_, String>>()
        .map_err(Into::into)
}
