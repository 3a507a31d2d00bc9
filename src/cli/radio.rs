//! `sparsimony radio`: joint imaging and direction-dependent self-calibration (Repetti et al., MNRAS
//! 2017) — simulate the paper's observation to files, or calibrate visibilities from files.

use sparsimony::solvers::Estimator;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use serde_json::json;
use sparsimony::solvers::radio::{
    Imaging, KnownSky, Observation, PointSource, Prior, Sampling, SelfCalibrated, SelfCalibration, Simulation, Stage,
    snr_db,
};

use sparsimony::output::write_atomic_with;

use super::{Bar, CliResult, print_json, with_flag_names};

mod cells;
mod recorded;

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
    /// Calibrate visibilities jointly with imaging: the DIE stage, then the DDE stage. From a Measurement
    /// Set or a UVFITS file (--vis OBS.ms|OBS.uvfits --sky sky.csv --cell ARCSEC --image-size N) or the
    /// paper's grid-cell table (--vis vis.csv --bright bright.npy).
    Calibrate(Box<CalibrateArgs>),
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
    /// The visibilities: a Measurement Set (a folder) or a UVFITS file (.uvfits, .uvf, .fits) — Stokes I
    /// from XX/YY or RR/LL, weights and flags honoured, every spectral window's (IF's) channels — or the
    /// paper's grid-cell table — CSV with columns
    /// antenna1, antenna2, time, u, v, re, im (antennas and time steps 0-based integers, u and v integer
    /// cells of the Fourier grid), or a .npy array of those 7 columns.
    #[arg(long, value_name = "OBS.ms|OBS.uvfits|FILE")]
    vis: PathBuf,
    /// With recorded visibilities (MS or UVFITS): the known bright sources as users list them, a CSV with columns ra_deg,
    /// dec_deg, flux_jy (J2000 degrees, Jy; other columns ignored), their visibilities summed exactly.
    #[arg(long, value_name = "FILE.csv", conflicts_with = "bright")]
    sky: Option<PathBuf>,
    /// With recorded visibilities (MS or UVFITS): the image's cell (pixel side), arcsec.
    #[arg(long, value_name = "ARCSEC")]
    cell: Option<f64>,
    /// With recorded visibilities (MS or UVFITS): the image side N (pixels), about the phase centre.
    #[arg(long, value_name = "N")]
    image_size: Option<usize>,
    /// With a Measurement Set: the data column.
    #[arg(long, default_value = "DATA", value_name = "COLUMN")]
    data_column: String,
    /// With a Measurement Set: the field (a FIELD row).
    #[arg(long, default_value_t = 0)]
    field: usize,
    /// With recorded visibilities (MS or UVFITS): the gains' and DDEs' solution interval, seconds (0: each integration).
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS")]
    solution_interval: f64,
    /// With the grid-cell table: the known bright sources, an N × N image (.npy or CSV); N is the image's
    /// side.
    #[arg(long, value_name = "FILE")]
    bright: Option<PathBuf>,
    /// With the grid-cell table: the Fourier grid's side P [default: N + 2(2S − 1), as `radio simulate`
    /// grids].
    #[arg(long)]
    grid_size: Option<usize>,
    /// The DDE kernels' side S (odd; 1: direction-independent gains only).
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
    /// Joint Levenberg–Marquardt steps over all antennas' DDEs and the faint image at most per outer
    /// iteration of the DDE stage (0 to 100; 0 turns them off: the paper's alternation alone).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    joint_steps: u32,
    /// Each stage stops when the criterion's relative decrease over an outer iteration falls below this
    /// [default: 2e-2, the paper's]; the DIE stage then runs at most 10 outer iterations, or
    /// --max-outer when that is more.
    #[arg(long)]
    tol: Option<f64>,
    /// With the grid-cell table: the true image (N × N), to report the faint part's SNR.
    #[arg(long, value_name = "FILE")]
    truth: Option<PathBuf>,
    /// Write the image (bright sources plus faint part, Jy/pixel) as FITS; from recorded visibilities with
    /// its sky frame (RA---SIN/DEC--SIN about the phase centre), known sources on their nearest pixels.
    #[arg(long, value_name = "FILE.fits")]
    out: Option<PathBuf>,
    /// Write the solutions as CSV: stage (die, dde), time_step, time_s (the step's first time; the
    /// grid-cell table's step index), antenna, tap_v, tap_u (the tap's offset in grid cells; 0, 0 is the
    /// gain), re, im — the DDE stage's two copies averaged.
    #[arg(long, value_name = "FILE.csv")]
    solutions: Option<PathBuf>,
    /// Write the faint part (and the true one, with --truth) as SVG heat maps.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Print JSON: {"outer": {"die", "dde"} (each stage's outer iterations), "converged", "decrease" (the
    /// last relative decrease of the criterion) and "tolerance", "criterion", "history" (the criterion
    /// after each outer iteration), "seconds": {"image", "dde", "joint", "total"}, "gain_scale", "peaks" (the faint
    /// part's local maxima above a tenth of its largest, brightest first, at most 20: row, col, flux_jy
    /// and, from recorded visibilities, ra_deg, dec_deg), "snr_db" (with --truth) and, from recorded visibilities,
    /// "visibilities": {"kept", "dropped"}, "w_phase" (rad, the w-term's largest phase at the corner) and
    /// "reduced_chi2" (Σ w|y − m|² over twice the visibilities: about 1 at the noise the weights state)}.
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
        Command::Calibrate(c) => calibrate(*c).map_err(|e| {
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
                    ("joint_steps", "--joint-steps (the memory they need at this --dde-size)"),
                    ("tol", "--tol"),
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

/// The known bright sources, as the input gave them.
enum Sky {
    Image(Array2<f64>),
    Sources(Vec<PointSource>),
}

impl Sky {
    fn known(&self) -> KnownSky<'_> {
        match self {
            Sky::Image(image) => KnownSky::Image(image.view()),
            Sky::Sources(sources) => KnownSky::Sources(sources),
        }
    }
}

/// What a calibration runs on, whichever input it came from.
struct Loaded {
    observation: Observation,
    sky: Sky,
    /// From the grid-cell table: the table, to say where a bad visibility is.
    table: Option<sparsimony::io::Table>,
    /// From the grid-cell table with --truth: the true image.
    truth: Option<Array2<f64>>,
    /// From recorded visibilities: their frame and what the reduction kept.
    recorded: Option<Recorded>,
}

/// Recorded visibilities' reduction: the image's geometry on the sky and what was kept.
struct Recorded {
    imaging: Imaging,
    phase_centre: [f64; 2],
    kept: usize,
    dropped: usize,
    w_phase: f64,
    step_times: Vec<f64>,
}

fn calibrate(c: CalibrateArgs) -> CliResult {
    if let Some(p) = &c.plot {
        sparsimony::plot::require_svg(p)?;
    }
    let outputs: Vec<(&str, &Path)> = [("--out", &c.out), ("--solutions", &c.solutions), ("--plot", &c.plot)]
        .into_iter()
        .filter_map(|(f, p)| p.as_deref().map(|p| (f, p)))
        .collect();
    let mut inputs = vec![("--vis", c.vis.as_path())];
    for (flag, path) in [("--bright", &c.bright), ("--sky", &c.sky), ("--truth", &c.truth)] {
        inputs.extend(path.as_deref().map(|p| (flag, p)));
    }
    sparsimony::output::check_outputs(&outputs, &inputs)?;
    let loaded = if c.vis.is_dir() || recorded::is_uvfits(&c.vis) {
        recorded::load(&c)?
    } else {
        cells::load(&c)?
    };
    let observation = &loaded.observation;
    let n = observation.image_size;
    // Per outer iteration of either stage, a typical 100 image-block iterations, each a Φ/Φᵀ pair: two
    // FFTs of the (oversampled) grid and, per visibility, its two rows' (2S − 1)² taps.
    let grid = match observation.sampling {
        Sampling::Cells => observation.grid_size,
        Sampling::Nufft { .. } => 2 * n,
    };
    let (p, side) = (grid as f64, 2.0 * c.dde_size as f64 - 1.0);
    let pair = 10.0 * p * p * p.max(2.0).log2() + 32.0 * observation.values.len() as f64 * side * side;
    // (The caps, at most a typical 100 outer iterations: the stages stop when the criterion settles.)
    let outer = (SelfCalibration::default().die_max_outer + c.max_outer.min(100) as usize) as f64;
    // An outer iteration: about 100 operator pairs in the blocks, and about 60 more per joint step
    // (conjugate gradients of up to 100 iterations, mostly one try each).
    super::work::check(
        "the calibration",
        outer * (100.0 + 60.0 * f64::from(c.joint_steps)) * pair,
        "--max-outer, --joint-steps, --image-size or --dde-size",
    )?;
    let bar = Bar::new("self-calibration", c.json);
    let prior = c.prior;
    let cal = SelfCalibration {
        dde_size: c.dde_size,
        prior,
        eta: c.eta.unwrap_or(prior.paper_eta()),
        dde_max_outer: c.max_outer as usize,
        joint_steps: c.joint_steps as usize,
        progress: bar.callback(),
        ..SelfCalibration::default()
    };
    let cal = match c.tol {
        Some(tol) => SelfCalibration {
            tol,
            die_max_outer: cal.die_max_outer.max(c.max_outer as usize),
            ..cal
        },
        None => cal,
    };
    let start = std::time::Instant::now();
    let fit = cal.fit((observation, loaded.sky.known()));
    bar.finish();
    let fit = fit.map_err(|e| locate_visibility(e, &loaded, &c.vis))?;
    let total = start.elapsed().as_secs_f64();
    write_outputs(&c, &loaded, &fit)?;
    report(&c, &loaded, &fit, total)
}

/// A visibility out of range, said at its line of the grid-cell table (rows of the table are
/// visibilities); other errors as they are.
fn locate_visibility(e: sparsimony::solvers::Error, loaded: &Loaded, vis: &Path) -> Box<dyn std::error::Error> {
    match (e, &loaded.table) {
        (sparsimony::solvers::Error::Visibility { index, name, reason }, Some(table)) => {
            let column = match name {
                "antenna" => "antenna1",
                "time" => "time",
                _ => "u",
            };
            let col = table.columns.iter().position(|c| c.trim() == column).unwrap_or(0);
            let hint = if name == "uv" {
                " (or give a larger --grid-size)"
            } else {
                ""
            };
            format!("{}: {reason}{hint}", table.locate(vis, index, col)).into()
        }
        (e, _) => e.into(),
    }
}

/// The FITS image, the solutions and the plot, as asked.
fn write_outputs(c: &CalibrateArgs, loaded: &Loaded, fit: &SelfCalibrated) -> CliResult {
    if let Some(out) = &c.out {
        let header = sparsimony::io::FitsHeader {
            comment: "sparsimony radio calibrate: the model image x = x_o + eps (known sources on their nearest \
                      pixels plus the faint part), Jy/pixel",
            unit: Some("JY/PIXEL"),
            sky: loaded.recorded.as_ref().map(|r| sparsimony::io::SkyFrame {
                phase_centre: r.phase_centre,
                cell_arcsec: r.imaging.cell_arcsec,
            }),
        };
        sparsimony::io::write_fits(out, fit.image.view(), &header)?;
    }
    if let Some(path) = &c.solutions {
        let times = loaded.recorded.as_ref().map(|r| r.step_times.as_slice());
        let mut mean = fit.ddes[0].clone();
        for (m, b) in mean.taps_mut().iter_mut().zip(fit.ddes[1].taps()) {
            *m = 0.5 * (*m + b);
        }
        write_atomic_with(path, |w| {
            use std::io::Write as _;
            writeln!(w, "stage,time_step,time_s,antenna,tap_v,tap_u,re,im")?;
            for (stage, d) in [("die", &fit.die), ("dde", &mean)] {
                let (s, reach) = (d.size(), (d.size() / 2) as i64);
                for t in 0..d.n_times() {
                    let time = times.map_or(t as f64, |times| times[t]);
                    for a in 0..d.n_antennas() {
                        for (k, z) in d.kernel(t, a).iter().enumerate() {
                            let (tv, tu) = ((k / s) as i64 - reach, (k % s) as i64 - reach);
                            writeln!(w, "{stage},{t},{time},{a},{tv},{tu},{:e},{:e}", z.re, z.im)?;
                        }
                    }
                }
            }
            Ok(())
        })?;
    }
    if let Some(p) = &c.plot {
        use sparsimony::plot::{Heatmap, heatmaps};
        let n = fit.faint.nrows();
        let axis: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let mut maps = vec![Heatmap {
            title: "faint part, DDE calibration".into(),
            values: fit.faint.as_slice().unwrap_or(&[]),
        }];
        let faint_truth = match (&loaded.truth, &loaded.sky) {
            (Some(t), Sky::Image(bright)) => Some(t - bright),
            _ => None,
        };
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
    Ok(())
}

/// The faint part's local maxima (at least each of its 8 neighbours) above a tenth of its largest,
/// brightest first, at most 20: `(row, col, flux)`.
fn peaks(faint: &Array2<f64>) -> Vec<(usize, usize, f64)> {
    let (rows, cols) = faint.dim();
    let top = faint.iter().copied().fold(0.0, f64::max);
    let mut found = Vec::new();
    for ((r, c), &v) in faint.indexed_iter() {
        if top <= 0.0 || v < 0.1 * top {
            continue;
        }
        let around = (r.saturating_sub(1)..=(r + 1).min(rows - 1))
            .flat_map(|i| (c.saturating_sub(1)..=(c + 1).min(cols - 1)).map(move |j| (i, j)));
        if around.into_iter().all(|(i, j)| faint[[i, j]] <= v) {
            found.push((r, c, v));
        }
    }
    found.sort_by(|a, b| b.2.total_cmp(&a.2));
    found.truncate(20);
    found
}

/// [`Observation::reduced_chi2`] at the fit's end: the weights read as CASA states them (`1/σ²`, σ the
/// noise of a real part; AIPS's may be uncalibrated, and the figure then off by their scale).
fn reduced_chi2(observation: &Observation, fit: &SelfCalibrated) -> Option<f64> {
    observation.reduced_chi2(fit.history.last()?.data)
}

fn report(c: &CalibrateArgs, loaded: &Loaded, fit: &SelfCalibrated, total: f64) -> CliResult {
    let observation = &loaded.observation;
    let n = observation.image_size;
    let snr = match (&loaded.truth, &loaded.sky) {
        (Some(t), Sky::Image(bright)) => {
            let faint = t - bright;
            Some((snr_db(&fit.die_faint, &faint), snr_db(&fit.faint, &faint)))
        }
        _ => None,
    };
    let criterion = fit.history.last().map_or(f64::NAN, |o| o.criterion);
    if !fit.report.converged {
        warn!(
            "warning: the DDE stage stopped at --max-outer {} with the criterion still falling by {:.2e} per iteration (tolerance {:.0e})",
            c.max_outer, fit.report.reached, fit.report.tolerance
        );
    }
    let stage_outer = |stage: Stage| fit.history.iter().filter(|o| o.stage == stage).count();
    let (die_outer, dde_outer) = (stage_outer(Stage::Die), stage_outer(Stage::Dde));
    let direction = |r: usize, col: usize| {
        loaded
            .recorded
            .as_ref()
            .and_then(|rec| rec.imaging.direction(r as f64, col as f64, rec.phase_centre))
    };
    let peaks = peaks(&fit.faint);
    let chi2 = reduced_chi2(observation, fit);
    if let Some(chi2) = chi2.filter(|x| *x > 1.5) {
        warn!(
            "warning: the residuals are {:.1}× the noise the weights state (reduced χ² {chi2:.2}): the fit has not reached \
             the noise (a smaller --tol, more --max-outer), or the sky model and DDEs do not explain the data, or the \
             prior biases the faint fluxes (a smaller --eta), or the weights are not inverse variances",
            chi2.sqrt()
        );
    }
    if c.json {
        let peaks: Vec<serde_json::Value> = peaks
            .iter()
            .map(|&(r, col, flux)| {
                let mut v = json!({"row": r, "col": col, "flux_jy": flux});
                if let Some((ra, dec)) = direction(r, col) {
                    v["ra_deg"] = json!(ra);
                    v["dec_deg"] = json!(dec);
                }
                v
            })
            .collect();
        let mut v = json!({
            "outer": {"die": die_outer, "dde": dde_outer},
            "converged": fit.report.converged,
            "decrease": fit.report.reached,
            "tolerance": fit.report.tolerance,
            "criterion": criterion,
            "history": fit.history.iter().map(|o| o.criterion).collect::<Vec<_>>(),
            "gain_scale": fit.gain_scale,
            "seconds": {"image": fit.seconds[0], "dde": fit.seconds[1], "joint": fit.seconds[2], "total": total},
            "peaks": peaks,
        });
        if let Some((die, dde)) = snr {
            v["snr_db"] = json!({"die": die, "dde": dde});
        }
        if let Some(r) = &loaded.recorded {
            v["visibilities"] = json!({"kept": r.kept, "dropped": r.dropped});
            v["w_phase"] = json!(r.w_phase);
        }
        if let Some(chi2) = chi2 {
            v["reduced_chi2"] = json!(chi2);
        }
        print_json(&v)?;
        return Ok(());
    }
    match &loaded.recorded {
        Some(r) => outln!(
            "{} Stokes I visibilities kept ({} dropped: flagged, zero weight or autocorrelations), {} antennas, {} \
             solution intervals; {n}×{n} image of {} arcsec cells, S = {}, w-term ≤ {:.3} rad",
            r.kept,
            r.dropped,
            observation.n_antennas,
            observation.n_times,
            r.imaging.cell_arcsec,
            c.dde_size,
            r.w_phase
        )?,
        None => outln!(
            "{} visibilities, {} antennas, {} time steps; {n}×{n} image on a {g}×{g} grid, S = {}",
            observation.values.len(),
            observation.n_antennas,
            observation.n_times,
            c.dde_size,
            g = observation.grid_size,
        )?,
    }
    outln!(
        "{die_outer} DIE + {dde_outer} DDE outer iterations (converged: {}, last relative decrease {:.2e}), criterion \
         {criterion:.6e}, gain scale {:.4}",
        fit.report.converged,
        fit.report.reached,
        fit.gain_scale
    )?;
    outln!(
        "time {total:.1} s: image blocks {:.1} s, DDE blocks {:.1} s, joint steps {:.1} s",
        fit.seconds[0],
        fit.seconds[1],
        fit.seconds[2]
    )?;
    if let Some((die, dde)) = snr {
        outln!("faint-part SNR: DIE stage {die:.2} dB, DDE stage {dde:.2} dB")?;
    }
    if let Some(chi2) = chi2 {
        outln!("reduced χ² {chi2:.3} (1 at the noise the weights state)")?;
    }
    for &(r, col, flux) in peaks.iter().take(5) {
        match direction(r, col) {
            Some((ra, dec)) => {
                outln!("faint peak {flux:.4e} Jy/pixel at RA {ra:.6}°, Dec {dec:.6}° (pixel {r}, {col})")?
            }
            None => outln!("faint peak {flux:.4e} at pixel ({r}, {col})")?,
        }
    }
    for (what, path) in [("image", &c.out), ("solutions", &c.solutions)] {
        if let Some(p) = path {
            outln!("{what} written to {}", p.display())?;
        }
    }
    Ok(())
}
