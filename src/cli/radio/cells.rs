//! `radio calibrate` on the paper's grid-cell table: visibilities at integer cells of the Fourier grid,
//! the known sources as an image.

use std::path::Path;

use ndarray::Array2;
use sparsimony::solvers::radio::{Baseline, Complex64, Observation, Sampling, padded_grid_size};

use super::{CalibrateArgs, Loaded, Sky};

/// The paper's grid-cell table and its bright image.
pub(super) fn load(c: &CalibrateArgs) -> Result<Loaded, Box<dyn std::error::Error>> {
    for (flag, given) in [
        ("--sky", c.sky.is_some()),
        ("--cell", c.cell.is_some()),
        ("--image-size", c.image_size.is_some()),
        ("--solution-interval", c.solution_interval != 0.0),
        ("--data-column", c.data_column != "DATA"),
        ("--field", c.field != 0),
    ] {
        if given {
            return Err(format!(
                "{flag} applies to recorded visibilities (a Measurement Set or UVFITS); {} is a grid-cell table (its \
                 image is --bright's)",
                c.vis.display()
            )
            .into());
        }
    }
    let Some(bright_path) = &c.bright else {
        return Err(format!(
            "--vis {} is a grid-cell table: give the known sources as an image with --bright (or a Measurement Set \
             with --sky)",
            c.vis.display()
        )
        .into());
    };
    let bright = read_image(bright_path, "bright-source image")?;
    let n = bright.nrows();
    let grid = c.grid_size.unwrap_or_else(|| padded_grid_size(n, c.dde_size));
    let (observation, table) = read_observation(&c.vis, n, grid)?;
    let truth = c.truth.as_deref().map(|p| read_image(p, "true image")).transpose()?;
    if let (Some(t), Some(truth_path)) = (&truth, &c.truth) {
        let truth_path = truth_path.display();
        if t.dim() != bright.dim() {
            return Err(format!(
                "{truth_path} is {:?} but {} is {:?}",
                t.dim(),
                bright_path.display(),
                bright.dim()
            )
            .into());
        }
        if *t == bright {
            return Err(format!(
                "--truth {truth_path} equals --bright {}: the true faint part is zero, so its SNR is undefined; give the \
                 true image (the bright sources plus the faint part)",
                bright_path.display()
            )
            .into());
        }
    }
    Ok(Loaded {
        observation,
        sky: Sky::Image(bright),
        table: Some(table),
        truth,
        recorded: None,
    })
}

/// The visibilities of a 7-column table (CSV named columns, or `.npy` in order).
fn read_observation(
    path: &Path,
    image_size: usize,
    grid_size: usize,
) -> Result<(Observation, sparsimony::io::Table), Box<dyn std::error::Error>> {
    let table = sparsimony::io::read_table(path)?;
    const NAMES: [&str; 7] = ["antenna1", "antenna2", "time", "u", "v", "re", "im"];
    let cols: Vec<usize> = if table.lines.is_empty() {
        if table.values().ncols() != 7 {
            return Err(format!(
                "{}: expected 7 columns (antenna1, antenna2, time, u, v, re, im), found {}",
                path.display(),
                table.values().ncols()
            )
            .into());
        }
        (0..7).collect()
    } else {
        NAMES
            .iter()
            .map(|n| {
                table
                    .columns
                    .iter()
                    .position(|c| c.trim() == *n)
                    .ok_or_else(|| format!("{}: no column `{n}` (needs {})", path.display(), NAMES.join(", ")))
            })
            .collect::<Result<_, _>>()?
    };
    if table.values().nrows() == 0 {
        return Err(format!("{}: no visibilities", path.display()).into());
    }
    let mut baselines = Vec::with_capacity(table.values().nrows());
    let mut values = Vec::with_capacity(table.values().nrows());
    for (r, row) in table.values().rows().into_iter().enumerate() {
        let at = |k: usize| row[cols[k]];
        let integer = |k: usize, min: f64| -> Result<i64, String> {
            let v = at(k);
            if v.is_finite() && v.fract() == 0.0 && v >= min && v.abs() < 1e9 {
                Ok(v as i64)
            } else {
                Err(format!(
                    "{}: {} must be an integer{}",
                    table.locate(path, r, cols[k]),
                    NAMES[k],
                    if min >= 0.0 { " ≥ 0" } else { "" }
                ))
            }
        };
        let (a1, a2, t) = (integer(0, 0.0)?, integer(1, 0.0)?, integer(2, 0.0)?);
        let (u, v) = (integer(3, -1e9)?, integer(4, -1e9)?);
        let (re, im) = (at(5), at(6));
        for (k, x) in [(5, re), (6, im)] {
            sparsimony::solvers::data::check_value("visibilities", r, k, x)
                .map_err(|e| located(e, &table, path, r, cols[k]))?;
        }
        baselines.push(Baseline {
            antenna1: a1 as usize,
            antenna2: a2 as usize,
            time: t as usize,
            u: u as f64,
            v: v as f64,
        });
        values.push(Complex64::new(re, im));
    }
    let n_antennas = baselines.iter().map(|b| b.antenna1.max(b.antenna2)).max().unwrap_or(0) + 1;
    let n_times = baselines.iter().map(|b| b.time).max().unwrap_or(0) + 1;
    let observation = Observation {
        image_size,
        grid_size,
        n_antennas,
        n_times,
        baselines,
        values,
        sampling: Sampling::Cells,
        weights: None,
    };
    Ok((observation, table))
}

/// A value error of the library (non-finite, beyond ±1e100) at `(row, col)` of `table`, said where the
/// user finds it.
fn located(
    e: sparsimony::solvers::Error,
    table: &sparsimony::io::Table,
    path: &Path,
    row: usize,
    col: usize,
) -> String {
    use sparsimony::solvers::Error;
    let at = table.locate(path, row, col);
    match e {
        Error::Magnitude { value, .. } => {
            format!("{at}: {value:e} is beyond ±1e100, where squares and products overflow: rescale the data")
        }
        Error::NonFinite { .. } => format!("{at}: not a finite number"),
        e => format!("{at}: {e}"),
    }
}

fn read_image(path: &Path, what: &str) -> Result<Array2<f64>, Box<dyn std::error::Error>> {
    let table = sparsimony::io::read_table(path)?;
    let (r, c) = table.values().dim();
    if r != c || r < 4 {
        return Err(format!(
            "{}: the {what} must be a square image at least 4 pixels wide, found {r} × {c}",
            path.display()
        )
        .into());
    }
    for ((i, j), v) in table.values().indexed_iter() {
        sparsimony::solvers::data::check_value("image", i, j, *v).map_err(|e| located(e, &table, path, i, j))?;
    }
    Ok(table.into_values())
}
