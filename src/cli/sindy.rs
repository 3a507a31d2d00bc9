use sparsimony::solvers::{Estimator, Fitted, Score};
use std::path::PathBuf;

use clap::ValueEnum;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, CowArray, Ix2, s};
use serde_json::json;
use sparsimony::core::sindy::Factor;
use sparsimony::io::read_table;
use sparsimony::solvers::Backend;
use sparsimony::solvers::regression::Stlsq;
use sparsimony::solvers::sindy::{
    ControlFn, Differentiation, Ensemble, ExportedModel, Library, Optimizer, Sindy, Sr3, Time, Trajectory, WeakForm,
};

use super::{Bar, CliResult, print_json};

/// The sparse regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OptimizerArg {
    /// Sequentially thresholded least squares (threshold --threshold, ridge --alpha).
    Stlsq,
    /// SR3 with the ℓ0 penalty that thresholds at --threshold (λ = threshold²/2, ν = 1).
    Sr3,
}

/// The differentiation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffArg {
    /// Finite differences of accuracy --order (one-sided at the ends).
    Fd,
    /// Savitzky–Golay smoothing (window 11, degree 3), then finite differences of accuracy --order.
    Savgol,
    /// FFT derivative (periodic signals, uniform --dt).
    Spectral,
    /// No derivatives: the weak (integral) form against 400 bump test functions (noisy data).
    Weak,
}

/// `sparsimony sindy`.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// The trajectory: one row per sample; the CSV header names the states (and the time and control columns).
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// The column holding the sampling times (strictly increasing).
    #[arg(long, value_name = "NAME", conflicts_with = "dt")]
    t_column: Option<String>,
    /// Uniform sampling step (instead of --t-column).
    #[arg(long)]
    dt: Option<f64>,
    /// Columns that are control inputs (comma-separated names), fitted as SINDYc.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    control: Vec<String>,
    /// Highest degree of the polynomial library.
    #[arg(long, default_value_t = 2)]
    degree: usize,
    /// Add sines and cosines of frequencies 1..=N to the library.
    #[arg(long, default_value_t = 0)]
    fourier: usize,
    /// Coefficient threshold.
    #[arg(long, default_value_t = 0.1)]
    threshold: f64,
    /// STLSQ's ridge weight (stlsq only) [default: 0.05].
    #[arg(long)]
    alpha: Option<f64>,
    /// The sparse regression.
    #[arg(long, value_enum, default_value_t = OptimizerArg::Stlsq)]
    optimizer: OptimizerArg,
    /// Threshold unit-norm library columns.
    #[arg(long)]
    normalize_columns: bool,
    /// How derivatives are computed (or avoided: weak). The score is R² of the derivatives by this method
    /// (finite differences for weak).
    /// [default: fd; not with --discrete, which needs no derivatives]
    #[arg(long, value_enum, conflicts_with = "discrete")]
    diff: Option<DiffArg>,
    /// Accuracy order of the finite differences [default: 2; not with --discrete].
    #[arg(long, conflicts_with = "discrete")]
    order: Option<usize>,
    /// Bag this many bootstrap models (E-SINDy) and report median coefficients and inclusion probabilities.
    #[arg(long)]
    ensemble: Option<usize>,
    /// Solve the ensemble's STLSQ members as one batch on the GPU (with --ensemble and STLSQ).
    #[arg(long, requires = "ensemble")]
    gpu: bool,
    /// Seed of the ensemble's resampling [default: 0].
    #[arg(long, requires = "ensemble")]
    seed: Option<u64>,
    /// Fit a discrete-time map x[k] → x[k+1] (no time needed).
    #[arg(long)]
    discrete: bool,
    /// Write the fitted model: `.rs` gives Rust statics for firmware, anything else JSON.
    #[arg(long, value_name = "FILE")]
    export: Option<PathBuf>,
    /// Draw the data against the model simulated from the first sample (SVG: one panel per state).
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Print JSON: {"states", "features", "coef" (one row per state), "equations", "score"}.
    #[arg(long)]
    json: bool,
}

/// Reads the trajectory, fits, prints.
pub fn run(a: Args) -> CliResult {
    let outputs: Vec<(&str, &std::path::Path)> = [("--export", &a.export), ("--plot", &a.plot)]
        .into_iter()
        .filter_map(|(f, p)| p.as_deref().map(|p| (f, p)))
        .collect();
    sparsimony::output::check_outputs(&outputs, &[("--data", &a.data)])?;
    let table = read_table(&a.data)?;
    let column = |name: &str| -> Result<usize, String> {
        table.columns.iter().position(|c| c == name).ok_or_else(|| {
            format!(
                "{} has no column `{name}` (columns: {})",
                a.data.display(),
                table.columns.join(", ")
            )
        })
    };
    let t_index = a.t_column.as_deref().map(column).transpose()?;
    let control: Vec<usize> = a.control.iter().map(|c| column(c)).collect::<Result<_, _>>()?;
    for (k, &j) in control.iter().enumerate() {
        if Some(j) == t_index {
            return Err(format!(
                "--control `{}` is also the --t-column: a column is time or a control, not both",
                table.columns[j]
            )
            .into());
        }
        if control[..k].contains(&j) {
            return Err(format!("--control names `{}` twice", table.columns[j]).into());
        }
    }
    let states: Vec<usize> = (0..table.columns.len())
        .filter(|j| Some(*j) != t_index && !control.contains(j))
        .collect();
    if states.is_empty() {
        return Err(format!("{} has no state columns left", a.data.display()).into());
    }
    // States and controls are views of the table (of the file itself for a `.npy` file) where their columns
    // are adjacent, as in the usual file of time, then states, then controls; copies otherwise.
    let pick = |cols: &[usize]| -> CowArray<'_, f64, Ix2> {
        match cols {
            [first, ..] if cols.windows(2).all(|w| w[1] == w[0] + 1) => {
                table.values().slice_move(s![.., *first..first + cols.len()]).into()
            }
            _ => table.values().select(Axis(1), cols).into(),
        }
    };
    let x = pick(&states);
    let u = (!control.is_empty()).then(|| pick(&control));
    let t_values: Option<ArrayView1<'_, f64>> = t_index.map(|j| table.values().index_axis_move(Axis(1), j));
    // Times that do not increase are reported at their line in the file, under the column's name.
    if let (Some(t), Some(j)) = (&t_values, t_index)
        && let Some(i) = t.iter().position(|v| !v.is_finite())
    {
        return Err(format!("{}: not a finite number", table.locate(&a.data, i, j)).into());
    }
    if let (Some(t), Some(j)) = (&t_values, t_index)
        && let Some(i) = (1..t.len()).find(|&i| t[i] <= t[i - 1])
    {
        return Err(format!(
            "{}: the time {} does not increase past the previous sample's {} (times must be strictly increasing)",
            table.locate(&a.data, i, j),
            t[i],
            t[i - 1]
        )
        .into());
    }
    let time = match (&t_values, a.dt) {
        (Some(t), _) => Time::Points(*t),
        (None, Some(dt)) => Time::Step(dt),
        (None, None) if a.discrete => Time::Step(1.0),
        (None, None) => return Err("give the sampling times: --t-column NAME or --dt STEP".into()),
    };
    if a.alpha.is_some() && a.optimizer != OptimizerArg::Stlsq {
        return Err("--alpha is STLSQ's ridge weight; --optimizer sr3 does not take it".into());
    }
    let (diff, order) = (a.diff.unwrap_or(DiffArg::Fd), a.order.unwrap_or(2));
    let mut library = Library::polynomial(a.degree);
    if a.fourier > 0 {
        library = library.concat(Library::fourier(a.fourier));
    }
    let base = match a.optimizer {
        OptimizerArg::Stlsq => Optimizer::Stlsq(Stlsq {
            alpha: a.alpha.unwrap_or(0.05),
            normalize_columns: a.normalize_columns,
            threshold: a.threshold,
            ..Stlsq::default()
        }),
        OptimizerArg::Sr3 => Optimizer::Sr3(Sr3 {
            lambda: Sr3::l0_weight_for_threshold(a.threshold, 1.0),
            normalize_columns: a.normalize_columns,
            ..Sr3::default()
        }),
    };
    let bar = Bar::new("ensemble", a.json);
    let optimizer = match a.ensemble {
        Some(n) => Optimizer::Ensemble(Box::new(Ensemble {
            base,
            n_models: n,
            seed: a.seed.unwrap_or(0),
            progress: bar.callback(),
            ..Ensemble::default()
        })),
        None => base,
    };
    let differentiation = match diff {
        DiffArg::Fd => Differentiation::finite_difference(order),
        DiffArg::Savgol => Differentiation::SmoothedFiniteDifference {
            window: 11,
            polyorder: 3,
            order,
        },
        DiffArg::Spectral => Differentiation::Spectral { derivative: 1 },
        // The score is still computed on finite differences.
        DiffArg::Weak => Differentiation::finite_difference(order),
    };
    let names = |cols: &[usize]| -> Vec<String> { cols.iter().map(|&j| table.columns[j].clone()).collect() };
    let model = Sindy {
        differentiation: differentiation.clone(),
        library,
        optimizer,
        state_names: Some(names(&states)),
        control_names: (!control.is_empty()).then(|| names(&control)),
        discrete_time: a.discrete,
        weak_form: (diff == DiffArg::Weak).then(WeakForm::default),
        backend: if a.gpu {
            let b = Backend::gpu()?;
            warn!("ensemble members on {}", b.name());
            b
        } else {
            Backend::Cpu
        },
    };
    let mut traj = Trajectory::new(x.view(), time);
    if let Some(u) = &u {
        traj = traj.with_control(u.view());
    }
    let fit = model.fit(&[traj]);
    bar.finish();
    let fit = fit.map_err(|e| -> Box<dyn std::error::Error> {
        // The library's parameter names, as the flags the user typed.
        let e = super::with_flag_names(
            e.into(),
            &[
                ("order", "--order"),
                ("dt", "--dt"),
                ("ensemble", "--ensemble"),
                ("threshold", "--threshold"),
                ("library", "--degree / --fourier"),
            ],
        );
        // A singular library usually comes from the data: a state or control duplicated or constant.
        let used: Vec<usize> = states.iter().chain(&control).copied().collect();
        let names: Vec<String> = used.iter().map(|&j| table.columns[j].clone()).collect();
        let data = table.values().select(ndarray::Axis(1), &used);
        if super::is_singular(e.as_ref())
            && let Some(why) = super::singular_columns(&names, data.view(), true)
        {
            return format!("{}: {why} ({e})", a.data.display()).into();
        }
        e
    })?;
    if !fit.report().converged {
        warn!(
            "warning: the optimizer {}; the model below is its last iterate",
            fit.report()
        );
    }
    let score = fit.score((&[traj], &differentiation))?;

    if let Some(path) = &a.export {
        let exported = fit.export()?;
        let text = if path.extension().and_then(|e| e.to_str()) == Some("rs") {
            exported.to_rust_source("sindy_model", "f64")?
        } else {
            serde_json::to_string_pretty(&export_json(&exported))?
        };
        sparsimony::output::write_atomic(path, text.as_bytes())?;
    }
    if let Some(path) = &a.plot {
        plot(path, &fit, x.view(), u.as_ref().map(|u| u.view()), &time)?;
    }
    if a.json {
        let coef: Vec<Vec<f64>> = fit.coefficients().rows().into_iter().map(|r| r.to_vec()).collect();
        let mut out = json!({
            "states": fit.state_names(),
            "features": fit.feature_names(),
            "coef": coef,
            "equations": fit.equations(3),
            "score": score,
        });
        if let Some(e) = fit.ensemble() {
            let inclusion: Vec<Vec<f64>> = e.inclusion.rows().into_iter().map(|r| r.to_vec()).collect();
            out["inclusion"] = json!(inclusion);
        }
        print_json(&out)?;
    } else {
        print!("{fit}");
        outln!(
            "R² = {score:.6} on {} samples; {} of {} coefficients nonzero",
            fit.n_samples(),
            fit.n_nonzero(),
            fit.coefficients().len()
        )?;
        if let Some(e) = fit.ensemble() {
            outln!("inclusion probabilities ({} models):", e.models.len())?;
            for (lhs, row) in fit.lhs().iter().zip(e.inclusion.rows()) {
                let kept: Vec<String> = row
                    .iter()
                    .zip(fit.feature_names())
                    .filter(|(p, _)| **p > 0.0)
                    .map(|(p, n)| format!("{n}: {p:.2}"))
                    .collect();
                outln!("  {lhs}: {}", kept.join(", "))?;
            }
        }
        if let Some(path) = &a.export {
            outln!("model written to {}", path.display())?;
        }
        if let Some(path) = &a.plot {
            outln!("plot written to {}", path.display())?;
        }
    }
    Ok(())
}

/// Simulates the model from the first sample over the data's times (the controls interpolated linearly) and
/// draws data and model per state. A simulation that blows up is drawn up to where it stopped.
fn plot(
    path: &std::path::Path,
    fit: &sparsimony::solvers::sindy::SindyFit,
    x: ArrayView2<'_, f64>,
    u: Option<ArrayView2<'_, f64>>,
    time: &Time<'_>,
) -> CliResult {
    use sparsimony::plot::{Curve, Panel, line_panels};
    let n = x.nrows();
    let t: Vec<f64> = (0..n).map(|i| time.at(i)).collect();
    let sim = if fit.is_discrete_time() {
        fit.simulate_discrete(x.row(0), n - 1, u.map(|u| u.slice_move(s![..n - 1, ..])))?
    } else {
        let mut control = |tq: f64, out: &mut [f64]| {
            if let Some(u) = u {
                // Linear interpolation of the sampled controls (held constant outside the data).
                let k = t.partition_point(|&ti| ti <= tq).clamp(1, n - 1);
                let w = ((tq - t[k - 1]) / (t[k] - t[k - 1])).clamp(0.0, 1.0);
                for (c, o) in out.iter_mut().enumerate() {
                    *o = (1.0 - w) * u[(k - 1, c)] + w * u[(k, c)];
                }
            }
        };
        let times = Array1::from(t.clone());
        let ctl: Option<ControlFn<'_>> = if u.is_some() { Some(&mut control) } else { None };
        match fit.simulate(x.row(0), times.view(), ctl, &Default::default()) {
            Ok(s) => s,
            Err(e) => {
                warn!("warning: the model's simulation failed ({e}); the plot shows the data only");
                Array2::from_elem((n, x.ncols()), f64::NAN)
            }
        }
    };
    let columns: Vec<(Vec<f64>, Vec<f64>)> = (0..x.ncols())
        .map(|s| {
            let mut model: Vec<f64> = sim.column(s).to_vec();
            model.resize(n, f64::NAN);
            (x.column(s).to_vec(), model)
        })
        .collect();
    let panels: Vec<Panel<'_>> = fit
        .state_names()
        .iter()
        .zip(&columns)
        .map(|(name, (data, model))| Panel {
            title: name.clone(),
            curves: vec![
                Curve {
                    label: "data".into(),
                    values: data,
                    dashed: false,
                },
                Curve {
                    label: "model".into(),
                    values: model,
                    dashed: true,
                },
            ],
        })
        .collect();
    line_panels(path, if fit.is_discrete_time() { "k" } else { "t" }, &t, &panels)?;
    Ok(())
}

/// The exported model as JSON: names, terms as factor lists, and the coefficients compressed by rows.
fn export_json(m: &ExportedModel) -> serde_json::Value {
    let factor = |f: &Factor<f64>| match *f {
        Factor::Power { input, exponent } => json!({"input": input, "power": exponent}),
        Factor::Sin { input, frequency } => json!({"input": input, "sin": frequency}),
        Factor::Cos { input, frequency } => json!({"input": input, "cos": frequency}),
    };
    let terms: Vec<serde_json::Value> = (0..m.term_names.len())
        .map(|k| {
            json!({
                "name": m.term_names[k],
                "factors": m.factors[m.term_ptr[k]..m.term_ptr[k + 1]].iter().map(factor).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "states": m.state_names,
        "controls": m.control_names,
        "discrete_time": m.discrete_time,
        "terms": terms,
        "coef_ptr": m.coef_ptr,
        "coef_term": m.coef_term,
        "coef_value": m.coef_value,
    })
}

/// The largest power a model read back may hold: far beyond any library's degree, small enough that
/// evaluating it (by repeated multiplication) costs nothing.
const MAX_POWER: u64 = 64;

/// A model written by `--export` as JSON, read back (for `sparsimony mpc`). The structure is checked by
/// the core's [`sparsimony::core::sindy::SindyModel::new`] when the model is viewed.
///
/// # Errors
/// A message naming the missing or malformed key.
pub fn import_json(v: &serde_json::Value) -> Result<ExportedModel, String> {
    let strings = |key: &str| -> Result<Vec<String>, String> {
        v[key]
            .as_array()
            .ok_or(format!("`{key}` is missing or not a list"))?
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or(format!("`{key}` holds a non-string"))
            })
            .collect()
    };
    let indices = |key: &str| -> Result<Vec<usize>, String> {
        v[key]
            .as_array()
            .ok_or(format!("`{key}` is missing or not a list"))?
            .iter()
            .map(|s| {
                s.as_u64()
                    .map(|i| i as usize)
                    .ok_or(format!("`{key}` holds a non-index"))
            })
            .collect()
    };
    let terms = v["terms"].as_array().ok_or("`terms` is missing or not a list")?;
    let (mut term_names, mut factors, mut term_ptr) = (Vec::new(), Vec::new(), vec![0]);
    for (k, t) in terms.iter().enumerate() {
        term_names.push(t["name"].as_str().ok_or(format!("term {k} has no `name`"))?.to_owned());
        for f in t["factors"]
            .as_array()
            .ok_or(format!("term {k} has no `factors` list"))?
        {
            let input = f["input"]
                .as_u64()
                .ok_or(format!("a factor of term {k} has no `input` index"))? as usize;
            let kinds: Vec<&str> = ["power", "sin", "cos"]
                .into_iter()
                .filter(|key| !f[key].is_null())
                .collect();
            if kinds.len() != 1 {
                return Err(format!(
                    "a factor of term {k} needs exactly one of `power`, `sin`, `cos` (found {})",
                    if kinds.is_empty() {
                        "none".into()
                    } else {
                        kinds.join(", ")
                    }
                ));
            }
            let factor = match kinds[0] {
                "power" => {
                    let exponent = f["power"]
                        .as_u64()
                        .filter(|&e| e <= MAX_POWER)
                        .ok_or(format!("term {k}: a power is an integer from 0 to {MAX_POWER}"))?;
                    Factor::Power {
                        input,
                        exponent: exponent as u32,
                    }
                }
                key => {
                    let frequency = f[key]
                        .as_f64()
                        .ok_or(format!("term {k}: `{key}` takes a number (the frequency)"))?;
                    if key == "sin" {
                        Factor::Sin { input, frequency }
                    } else {
                        Factor::Cos { input, frequency }
                    }
                }
            };
            factors.push(factor);
        }
        term_ptr.push(factors.len());
    }
    let coef_value = v["coef_value"]
        .as_array()
        .ok_or("`coef_value` is missing or not a list")?
        .iter()
        .map(|c| c.as_f64().ok_or("`coef_value` holds a non-number"))
        .collect::<Result<Vec<f64>, _>>()?;
    let model = ExportedModel {
        state_names: strings("states")?,
        control_names: strings("controls")?,
        discrete_time: v["discrete_time"].as_bool().ok_or("`discrete_time` is missing")?,
        term_names,
        factors,
        term_ptr,
        coef_ptr: indices("coef_ptr")?,
        coef_term: indices("coef_term")?,
        coef_value,
    };
    let names: Vec<&String> = model.state_names.iter().chain(&model.control_names).collect();
    if let Some((i, name)) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)) {
        return Err(format!(
            "the name `{name}` appears twice among the states and controls (at {i})"
        ));
    }
    model.view().map_err(|e| format!("not a valid model: {e}"))?;
    Ok(model)
}
