//! `sparsimony radio`: joint imaging and direction-dependent self-calibration (Repetti et al., MNRAS
//! 2017) — simulate the paper's observation to files, or calibrate visibilities from files.

use sparsimony::solvers::Estimator;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use serde_json::json;
use sparsimony::solvers::radio::{
    Baseline, Complex64, Observation, Prior, Sampling, SelfCalibration, Simulation, Stage, padded_grid_size, snr_db,
};

use sparsimony::output::write_atomic_with;

use super::{Bar, CliResult, print_json, with_flag_names};

/// `sparsimony radio`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Simulate the paper's observation (random array, three-level sky, DDEs) and write it to a folder:
    /// vis.csv (antenna1, antenna2, time, u, v, re, im), bright.npy (the known sources), truth.npy.
    Simulate(SimulateArgs),
    /// Calibrate visibilities jointly with imaging: the DIE stage, then the DDE stage.
    Calibrate(CalibrateArgs),
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
struct SimulateArgs {
    /// The folder to write vis.csv, bright.npy and truth.npy to (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Antennas.
    #[arg(long, default_value_t = 200)]
    antennas: usize,
    /// Time steps.
    #[arg(long, default_value_t = 1)]
    times: usize,
    /// The image side N (pixels).
    #[arg(long, default_value_t = 127)]
    image_size: usize,
    /// The true DDE kernels' side S (odd).
    #[arg(long, default_value_t = 5)]
    dde_size: usize,
    /// Input SNR: the noise's level in dB below the visibilities' RMS.
    #[arg(long, default_value_t = 150.0)]
    snr: f64,
    /// Make the faint part an extended galaxy of this energy (‖·‖₂) instead of compact sources, for
    /// `calibrate --prior sara`; the bright level stays 10 compact sources of energy 10.
    #[arg(long, value_name = "ENERGY")]
    galaxy: Option<f64>,
    /// Seed of everything drawn.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON: {"visibilities", "grid_size", "files"}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
struct CalibrateArgs {
    /// The visibilities: CSV with columns antenna1, antenna2, time, u, v, re, im (antennas and time steps
    /// 0-based integers, u and v integer cells of the Fourier grid), or a .npy array of those 7 columns.
    #[arg(long, value_name = "FILE")]
    vis: PathBuf,
    /// The known bright sources, an N × N image (.npy or CSV); N is the image's side.
    #[arg(long, value_name = "FILE")]
    bright: PathBuf,
    /// The Fourier grid's side P [default: N + 2(2S − 1), as `radio simulate` grids].
    #[arg(long)]
    grid_size: Option<usize>,
    /// The DDE kernels' side S (odd).
    #[arg(long, default_value_t = 5)]
    dde_size: usize,
    /// The faint part's sparsity prior: l1 (compact sources) or sara (extended emission: the Dirac and
    /// Daubechies 1–8 dictionary, 4 levels).
    #[arg(long, value_parser = super::by_name::<Prior>(&Prior::NAMES), default_value = "l1")]
    prior: Prior,
    /// η, the prior's weight [default: 1e-4 for l1, 1e-2 for sara, the paper's].
    #[arg(long)]
    eta: Option<f64>,
    /// Outer iterations at most of the DDE stage (1 to 10⁶).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_outer: u32,
    /// The true image (N × N), to report the faint part's SNR.
    #[arg(long, value_name = "FILE")]
    truth: Option<PathBuf>,
    /// Write the image (bright sources plus faint part) as FITS.
    #[arg(long, value_name = "FILE.fits")]
    out: Option<PathBuf>,
    /// Write the faint part (and the true one, with --truth) as SVG heat maps.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Print JSON: {"outer": {"die", "dde"} (each stage's outer iterations), "converged", "decrease" (the
    /// last relative decrease of the criterion) and "tolerance", "criterion", "seconds": {"image", "dde",
    /// "total"}, "snr_db" (with --truth), "gain_scale"}.
    #[arg(long)]
    json: bool,
}

/// Runs `sparsimony radio`.
pub fn run(a: Args) -> CliResult {
    // The library's parameter names, as the flags (or the file) the user gave.
    match a.command {
        Command::Simulate(s) => simulate(s).map_err(|e| {
            with_flag_names(
                e,
                &[
                    ("antennas", "--antennas/--times"),
                    ("visibilities", "--antennas/--times"),
                    ("image_size", "--image-size"),
                    ("dde_size", "--dde-size"),
                    ("input_snr", "--snr"),
                    ("galaxy", "--galaxy"),
                    ("levels", "--image-size (too small for the sources)"),
                ],
            )
        }),
        Command::Calibrate(c) => calibrate(c).map_err(|e| {
            with_flag_names(
                e,
                &[
                    ("antennas", "--vis (its antenna and time indices)"),
                    ("visibilities", "--vis (its visibilities, at this --dde-size and grid)"),
                    ("image_size", "--bright (its image side)"),
                    ("grid_size", "--grid-size"),
                    ("dde_size", "--dde-size"),
                    ("eta", "--eta"),
                    ("dde_max_outer", "--max-outer"),
                    (
                        "sara_levels",
                        "--prior sara (its 4 wavelet levels need an image of at least 16 pixels)",
                    ),
                ],
            )
        }),
    }
}

fn simulate(s: SimulateArgs) -> CliResult {
    let sim = Simulation {
        n_antennas: s.antennas,
        n_times: s.times,
        image_size: s.image_size,
        dde_size: s.dde_size,
        input_snr: s.snr,
        seed: s.seed,
        levels: if s.galaxy.is_some() {
            vec![(10, 10.0)]
        } else {
            Simulation::default().levels
        },
        galaxy: s.galaxy,
        ..Simulation::default()
    };
    let truth = sim.simulate()?;
    std::fs::create_dir_all(&s.out).map_err(|e| format!("{}: {e}", s.out.display()))?;
    write_atomic_with(&s.out.join("vis.csv"), |w| {
        use std::io::Write as _;
        writeln!(w, "antenna1,antenna2,time,u,v,re,im")?;
        for (b, y) in truth.observation.baselines.iter().zip(&truth.observation.values) {
            writeln!(
                w,
                "{},{},{},{},{},{:e},{:e}",
                b.antenna1, b.antenna2, b.time, b.u, b.v, y.re, y.im
            )?;
        }
        Ok(())
    })?;
    for (name, image) in [("bright.npy", &truth.bright), ("truth.npy", &truth.image)] {
        write_atomic_with(&s.out.join(name), |w| image.write_npy(w).map_err(std::io::Error::other))?;
    }
    let grid = truth.observation.grid_size;
    if s.json {
        print_json(&json!({
            "visibilities": truth.observation.values.len(),
            "grid_size": grid,
            "files": ["vis.csv", "bright.npy", "truth.npy"],
        }))?;
    } else {
        outln!(
            "{} visibilities of {} antennas × {} time steps on a {grid}×{grid} grid ({}×{} image, S = {}), noise σ = {:.3e}",
            truth.observation.values.len(),
            s.antennas,
            s.times,
            s.image_size,
            s.image_size,
            s.dde_size,
            truth.noise_std
        )?;
        outln!("written to {}: vis.csv, bright.npy, truth.npy", s.out.display())?;
        let d = s.out.display();
        outln!(
            "calibrate: sparsimony radio calibrate --vis {d}/vis.csv --bright {d}/bright.npy --truth {d}/truth.npy --grid-size {grid} --dde-size {}",
            s.dde_size
        )?;
    }
    Ok(())
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

fn calibrate(c: CalibrateArgs) -> CliResult {
    if let Some(p) = &c.plot {
        sparsimony::plot::require_svg(p)?;
    }
    let outputs: Vec<(&str, &Path)> = [("--out", &c.out), ("--plot", &c.plot)]
        .into_iter()
        .filter_map(|(f, p)| p.as_deref().map(|p| (f, p)))
        .collect();
    let mut inputs = vec![("--vis", c.vis.as_path()), ("--bright", c.bright.as_path())];
    inputs.extend(c.truth.as_deref().map(|t| ("--truth", t)));
    sparsimony::output::check_outputs(&outputs, &inputs)?;
    let bright = read_image(&c.bright, "bright-source image")?;
    let n = bright.nrows();
    let grid = c.grid_size.unwrap_or_else(|| padded_grid_size(n, c.dde_size));
    let (observation, vis_table) = read_observation(&c.vis, n, grid)?;
    let truth = c.truth.as_deref().map(|p| read_image(p, "true image")).transpose()?;
    if let Some(t) = &truth
        && t.dim() != bright.dim()
    {
        return Err(format!(
            "{} is {:?} but {} is {:?}",
            c.truth.as_deref().unwrap_or(Path::new("")).display(),
            t.dim(),
            c.bright.display(),
            bright.dim()
        )
        .into());
    }
    if let Some(t) = &truth
        && t == bright
    {
        return Err(format!(
            "--truth {} equals --bright {}: the true faint part is zero, so its SNR is undefined; give the true image \
             (the bright sources plus the faint part)",
            c.truth.as_deref().unwrap_or(Path::new("")).display(),
            c.bright.display()
        )
        .into());
    }
    let prior = c.prior;
    // Per outer iteration of either stage, a typical 100 image-block iterations, each a Φ/Φᵀ pair: two
    // P² FFTs and, per visibility, its two rows' (2S − 1)² taps.
    let (p, side) = (grid as f64, 2.0 * c.dde_size as f64 - 1.0);
    let pair = 10.0 * p * p * p.max(2.0).log2() + 32.0 * observation.values.len() as f64 * side * side;
    // (The caps, at most a typical 100 outer iterations: the stages stop when the criterion settles.)
    let outer = (SelfCalibration::default().die_max_outer + c.max_outer.min(100) as usize) as f64;
    super::work::check(
        "the calibration",
        outer * 100.0 * pair,
        "--max-outer, --grid-size or --dde-size",
    )?;
    let bar = Bar::new("self-calibration", c.json);
    let cal = SelfCalibration {
        dde_size: c.dde_size,
        prior,
        eta: c.eta.unwrap_or(prior.paper_eta()),
        dde_max_outer: c.max_outer as usize,
        progress: bar.callback(),
        ..SelfCalibration::default()
    };
    let start = std::time::Instant::now();
    let fit = cal.fit((&observation, bright.view()));
    bar.finish();
    // A visibility out of range is said at its line of the file (rows of the table are visibilities).
    let fit = fit.map_err(|e| -> Box<dyn std::error::Error> {
        match e {
            sparsimony::solvers::Error::Visibility { index, name, reason } => {
                let column = match name {
                    "antenna" => "antenna1",
                    "time" => "time",
                    _ => "u",
                };
                let col = vis_table.columns.iter().position(|c| c.trim() == column).unwrap_or(0);
                let hint = if name == "uv" {
                    " (or give a larger --grid-size)"
                } else {
                    ""
                };
                format!("{}: {reason}{hint}", vis_table.locate(&c.vis, index, col)).into()
            }
            e => e.into(),
        }
    })?;
    let total = start.elapsed().as_secs_f64();
    let snr = truth.as_ref().map(|t| {
        let faint = t - &bright;
        (snr_db(&fit.die_faint, &faint), snr_db(&fit.faint, &faint))
    });
    if let Some(out) = &c.out {
        sparsimony::io::write_fits(
            out,
            fit.image.view(),
            "sparsimony radio calibrate: the image x = x_o + eps (bright sources plus faint part), rows are v",
        )?;
    }
    if let Some(p) = &c.plot {
        use sparsimony::plot::{Heatmap, heatmaps};
        let axis: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let mut maps = vec![Heatmap {
            title: "faint part, DDE calibration".into(),
            values: fit.faint.as_slice().unwrap_or(&[]),
        }];
        let faint_truth = truth.as_ref().map(|t| t - &bright);
        if let Some(f) = &faint_truth {
            maps.push(Heatmap {
                title: "faint part, truth".into(),
                values: f.as_slice().unwrap_or(&[]),
            });
        }
        maps.push(Heatmap {
            title: "faint part, DIE stage".into(),
            values: fit.die_faint.as_slice().unwrap_or(&[]),
        });
        heatmaps(p, ("v (pixel)", "u (pixel)"), (&axis, &axis), &maps)?;
    }
    let criterion = fit.history.last().map_or(f64::NAN, |o| o.criterion);
    if !fit.report.converged {
        warn!(
            "warning: the DDE stage stopped at --max-outer {} with the criterion still falling by {:.2e} per iteration (tolerance {:.0e})",
            c.max_outer, fit.report.reached, fit.report.tolerance
        );
    }
    let stage_outer = |stage: Stage| fit.history.iter().filter(|o| o.stage == stage).count();
    let (die_outer, dde_outer) = (stage_outer(Stage::Die), stage_outer(Stage::Dde));
    if c.json {
        let mut v = json!({
            "outer": {"die": die_outer, "dde": dde_outer},
            "converged": fit.report.converged,
            "decrease": fit.report.reached,
            "tolerance": fit.report.tolerance,
            "criterion": criterion,
            "gain_scale": fit.gain_scale,
            "seconds": {"image": fit.seconds[0], "dde": fit.seconds[1], "total": total},
        });
        if let Some((die, dde)) = snr {
            v["snr_db"] = json!({"die": die, "dde": dde});
        }
        print_json(&v)?;
    } else {
        outln!(
            "{} visibilities, {} antennas, {} time steps; {n}×{n} image on a {grid}×{grid} grid, S = {}",
            observation.values.len(),
            observation.n_antennas,
            observation.n_times,
            c.dde_size
        )?;
        outln!(
            "{die_outer} DIE + {dde_outer} DDE outer iterations (converged: {}, last relative decrease {:.2e}), criterion \
             {criterion:.6e}, gain scale {:.4}",
            fit.report.converged,
            fit.report.reached,
            fit.gain_scale
        )?;
        outln!(
            "time {total:.1} s: image blocks {:.1} s, DDE blocks {:.1} s",
            fit.seconds[0],
            fit.seconds[1]
        )?;
        if let Some((die, dde)) = snr {
            outln!("faint-part SNR: DIE stage {die:.2} dB, DDE stage {dde:.2} dB")?;
        }
        if let Some(out) = &c.out {
            outln!("image written to {}", out.display())?;
        }
    }
    Ok(())
}
