//! `sparsimony mpc`: model-predictive control with a SINDYc model exported by `sparsimony sindy --export`,
//! simulated in closed loop against a plant (the model itself, or another exported model) — to choose the
//! controller's settings before `sparsimony_core::mpc` runs them on a device.

use std::path::PathBuf;

use ndarray::ArrayView1;
use serde_json::json;
use sparsimony::core::mpc::scratch_len;
use sparsimony::core::sindy::Factor;
use sparsimony::solvers::sindy::{ControllerSettings, ExportedModel, closed_loop};

use super::{Bar, CliResult, print_json};

/// `sparsimony mpc`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The controller's model: the JSON that `sparsimony sindy --control … --export FILE.json` writes
    /// (a continuous-time model with at least one control).
    #[arg(long, value_name = "FILE.json")]
    model: PathBuf,
    /// The controller's settings (TOML): horizon, dt, substeps, target, q, q_final, r, r_delta, u_min,
    /// u_max, max_iter, tol (see `sparsimony_solvers::sindy::control`).
    #[arg(long, value_name = "FILE.toml")]
    settings: PathBuf,
    /// The plant's initial state, comma-separated, in the model's state order.
    #[arg(
        long,
        value_delimiter = ',',
        required = true,
        allow_hyphen_values = true,
        value_name = "X,Y,…"
    )]
    x0: Vec<f64>,
    /// Control periods to simulate.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// The plant, another exported model with the same states and controls [default: the controller's
    /// model].
    #[arg(long, value_name = "FILE.json")]
    plant: Option<PathBuf>,
    /// RK4 steps per control period for the plant.
    #[arg(long, default_value_t = 10)]
    plant_substeps: usize,
    /// Write the closed loop as CSV: t, the states, the inputs applied from t (empty on the last row).
    #[arg(long, value_name = "FILE.csv")]
    trace: Option<PathBuf>,
    /// Print JSON: {"final_distance", "settled_at", "final_state", "max_abs_u", "cost",
    /// "max_qp_iterations", "capped_steps", "failed_steps", "first_failure", "scratch_bytes": {"f32", "f64"}}.
    #[arg(long)]
    json: bool,
}

fn read_model(path: &std::path::Path) -> Result<ExportedModel, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let model = super::sindy::import_json(&value).map_err(|e| format!("{}: {e}", path.display()))?;
    if model.discrete_time {
        return Err(format!(
            "{}: a discrete-time model; the controller predicts with a continuous-time one (fit without --discrete)",
            path.display()
        ));
    }
    if model.control_names.is_empty() {
        return Err(format!(
            "{}: the model has no control inputs (fit it with --control)",
            path.display()
        ));
    }
    Ok(model)
}

/// Reads the model, the settings and the plant, simulates, prints.
pub fn run(a: Args) -> CliResult {
    let mut inputs = vec![("--model", a.model.as_path()), ("--settings", a.settings.as_path())];
    inputs.extend(a.plant.iter().map(|p| ("--plant", p.as_path())));
    if let Some(trace) = &a.trace {
        sparsimony::output::check_outputs(&[("--trace", trace)], &inputs)?;
    }
    let exported = read_model(&a.model)?;
    let plant_exported = a.plant.as_deref().map(read_model).transpose()?;
    let text = std::fs::read_to_string(&a.settings).map_err(|e| format!("{}: {e}", a.settings.display()))?;
    let settings = ControllerSettings::from_toml(&text).map_err(|e| format!("{}: {e}", a.settings.display()))?;
    if let (Some(p), Some(path)) = (&plant_exported, &a.plant)
        && (p.state_names != exported.state_names || p.control_names != exported.control_names)
    {
        return Err(format!(
            "{}: the plant's states and controls ({}; {}) are not the model's ({}; {}): the same names in the same order",
            path.display(),
            p.state_names.join(", "),
            p.control_names.join(", "),
            exported.state_names.join(", "),
            exported.control_names.join(", ")
        )
        .into());
    }
    let model = exported.view()?;
    let plant = plant_exported.as_ref().unwrap_or(&exported).view()?;
    if let Some(i) = a.x0.iter().position(|v| !v.is_finite()) {
        return Err(format!("--x0: value {} is not finite", i + 1).into());
    }
    // The settings checked against the model first, so that their errors name the settings' file.
    sparsimony::core::mpc::Mpc::new(model, settings.view()).map_err(|e| format!("{}: {e}", a.settings.display()))?;
    // Per period: the condensing (N·m)²·N·n, the QP's iterations (N·m)² each, the model's evaluations
    // (4 RK4 stages, a right-hand side and a Jacobian: the factors' products and powers of every
    // coefficient) per prediction substep and per plant substep. In f64, so that no count wraps.
    let (n, m) = (model.n_states() as f64, model.n_controls() as f64);
    let (nu, nx) = (settings.horizon as f64 * m, settings.horizon as f64 * n);
    let evaluation = |e: &ExportedModel| -> f64 {
        let per_term = |k: usize| {
            let factors = &e.factors[e.term_ptr[k]..e.term_ptr[k + 1]];
            let powers: f64 = factors
                .iter()
                .map(|f| match f {
                    Factor::Power { exponent, .. } => f64::from(*exponent),
                    _ => 1.0,
                })
                .sum();
            (factors.len() as f64).powi(2) + 2.0 * powers
        };
        4.0 * (e.coef_term.iter().map(|&k| per_term(k)).sum::<f64>() + n * (n + m))
    };
    let per_period = nu * nu * (nx + settings.max_iter as f64)
        + nx * settings.substeps as f64 * evaluation(&exported)
        + a.plant_substeps as f64 * evaluation(plant_exported.as_ref().unwrap_or(&exported));
    super::work::check(
        "the closed loop",
        a.steps as f64 * per_period,
        "--steps, --plant-substeps, or the settings' horizon, substeps and max_iter",
    )?;
    let bar = Bar::new("closed loop", a.json);
    let run = closed_loop(
        model,
        &settings,
        plant,
        a.plant_substeps,
        ArrayView1::from(&a.x0),
        a.steps,
        &bar.callback(),
    );
    bar.finish();
    let run = run?;
    let (n, m) = (model.n_states(), model.n_controls());
    let scratch = scratch_len(n, m, settings.horizon);
    let final_state: Vec<f64> = run.states.row(a.steps).to_vec();
    if let Some(path) = &a.trace {
        write_trace(path, &exported, &run, settings.dt)?;
    }
    if run.failed_steps > 0 {
        warn!(
            "warning: {} control steps failed and held the safe input (the first: {})",
            run.failed_steps,
            run.first_failure.as_deref().unwrap_or("")
        );
    }
    if run.capped_steps > 0 {
        warn!(
            "warning: {} control steps stopped at max_iter = {} before the QP's tolerance (their inputs are \
             feasible and were applied; raise max_iter if the loop misbehaves)",
            run.capped_steps, settings.max_iter
        );
    }
    if run.settled_at.is_none() {
        warn!(
            "warning: the plant did not settle within 1 % of the target in {} periods (final distance {:.3e})",
            a.steps, run.final_distance
        );
    }
    if a.json {
        print_json(&json!({
            "final_distance": run.final_distance,
            "settled_at": run.settled_at,
            "final_state": final_state,
            "max_abs_u": run.max_abs_u,
            "cost": run.cost,
            "max_qp_iterations": run.max_qp_iterations,
            "capped_steps": run.capped_steps,
            "failed_steps": run.failed_steps,
            "first_failure": run.first_failure,
            "scratch_bytes": {"f32": scratch * 4, "f64": scratch * 8},
        }))?;
        return Ok(());
    }
    outln!(
        "closed loop: {} periods of {} ({} time units), plant {}",
        a.steps,
        settings.dt,
        a.steps as f64 * settings.dt,
        a.plant
            .as_ref()
            .map_or("= the model".into(), |p| p.display().to_string())
    )?;
    let names = &exported.state_names;
    let state: Vec<String> = names
        .iter()
        .zip(&final_state)
        .map(|(n, v)| format!("{n} = {v:.6}"))
        .collect();
    outln!("final state: {}", state.join(", "))?;
    outln!("|x − x*| / |x*| at the end: {:.3e}", run.final_distance)?;
    match run.settled_at {
        Some(t) => outln!("settled within 1 % from t = {t}")?,
        None => outln!("not settled within 1 %")?,
    }
    outln!(
        "largest |u| {}, closed-loop cost {:.6e}, QP iterations per step at most {}",
        run.max_abs_u,
        run.cost,
        run.max_qp_iterations
    )?;
    outln!(
        "controller scratch on a device: {} values ({} bytes in f32, {} in f64)",
        scratch,
        scratch * 4,
        scratch * 8
    )?;
    Ok(())
}

/// The closed loop as CSV, row by row: t, the states, the inputs applied from t (empty on the last row),
/// written whole or not at all (`output::write_atomic_with`).
fn write_trace(
    path: &std::path::Path,
    model: &ExportedModel,
    run: &sparsimony::solvers::sindy::ClosedLoop,
    dt: f64,
) -> Result<(), sparsimony::output::OutputError> {
    sparsimony::output::write_atomic_with(path, |w| trace_rows(w, model, run, dt))
}

/// [`write_trace`]'s rows.
fn trace_rows(
    w: &mut impl std::io::Write,
    model: &ExportedModel,
    run: &sparsimony::solvers::sindy::ClosedLoop,
    dt: f64,
) -> std::io::Result<()> {
    let names: Vec<&str> = model
        .state_names
        .iter()
        .chain(&model.control_names)
        .map(String::as_str)
        .collect();
    writeln!(w, "t,{}", names.join(","))?;
    let steps = run.inputs.nrows();
    for (k, state) in run.states.rows().into_iter().enumerate() {
        write!(w, "{}", k as f64 * dt)?;
        for v in state {
            write!(w, ",{v}")?;
        }
        for j in 0..run.inputs.ncols() {
            if k < steps {
                write!(w, ",{}", run.inputs[(k, j)])?;
            } else {
                write!(w, ",")?;
            }
        }
        writeln!(w)?;
    }
    w.flush()
}
