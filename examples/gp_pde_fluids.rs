//! Fluid problems with the spectral-mixture GP solver: viscous Burgers (a travelling viscous shock,
//! ν = 0.02, time as a grid axis), steady Navier–Stokes (Kovasznay flow at Re = 20: velocity and
//! pressure as one coupled nonlinear system, Gauss–Newton inner solves) and unsteady Navier–Stokes (the
//! decaying Taylor–Green vortex at Re = 10: velocity and pressure on a space-time grid). Their solutions
//! are smooth throughout, and the benchmarks ask for the Gaussian spectrum (`[solver] spectrum`, see
//! `Problem::spectrum`). Each prints the relative L2 error against the exact solution and the time;
//! `--plot DIR` draws solution, exact solution and error; `--spectrum NAME` (`student_t`, the paper's
//! Student-t, or any of `Spectrum::NAMES`) solves with another family instead, for comparison.
//!
//! ```sh
//! cargo run --release --example gp_pde_fluids
//! cargo run --release --example gp_pde_fluids -- --plot plots/ --iters 20
//! cargo run --release --example gp_pde_fluids -- --spectrum student_t
//! ```

use std::ops::ControlFlow;
use std::path::PathBuf;

use sparsimony::pde::{Refine, plot, run, settings_for};
use sparsimony::solvers::gp_pde::{Method, Problem, Spectrum};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut plot_dir: Option<PathBuf> = None;
    let mut iters = Some(10);
    let mut spectrum: Option<Spectrum> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--plot" => plot_dir = Some(args.next().ok_or("--plot needs a directory")?.into()),
            "--iters" => iters = Some(args.next().ok_or("--iters needs a number")?.parse()?),
            "--spectrum" => spectrum = Some(args.next().ok_or("--spectrum needs a name")?.parse()?),
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    if let Some(dir) = &plot_dir {
        std::fs::create_dir_all(dir)?;
    }
    for name in ["burgers_1d", "kovasznay", "taylor_green"] {
        let problem = Problem::benchmark(name)?;
        let mut settings = settings_for(&problem, Method::Exact, None, iters);
        if let Some(spectrum) = spectrum {
            settings.spectrum = spectrum;
        }
        println!("{}", problem.description());
        let out = run(&problem, &settings, Refine::OFF, |p| {
            eprintln!(
                "  iteration {:3}  objective {:.6e}  residual rms {:.2e}  boundary rms {:.2e}",
                p.iteration, p.objective.total, p.objective.residual_rms, p.objective.boundary_rms
            );
            ControlFlow::Continue(())
        })?;
        let fields: Vec<String> = problem
            .fields()
            .iter()
            .zip(out.field_errors.iter().flatten())
            .map(|(f, e)| format!("{f} {e:.3e}"))
            .collect();
        println!(
            "  grid {:?}, {:?}, {:?}: relative L2 error {:.3e} ({}), {:.1} s\n",
            out.grid,
            out.method,
            settings.spectrum,
            out.rel_l2_error.unwrap_or(f64::NAN),
            fields.join(", "),
            out.seconds
        );
        if let Some(dir) = &plot_dir {
            plot(&out, &problem, &dir.join(format!("{name}.svg")))?;
        }
    }
    Ok(())
}
