//! The command-line program end to end: outputs against the library, and errors that name the problem.
use sparsimony::solvers::Estimator;
use std::path::Path;
use std::process::Command;

use ndarray::{Array1, Array2};
use sparsimony::io::read_table;
use sparsimony::solvers::regression::ElasticNet;

mod common;
use common::{run as sparsimony, stderr, stdout, temp_dir};

#[test]
fn regress_json_on_the_bundled_data_matches_the_library() {
    let o = sparsimony(&[
        "regress",
        "--x",
        "data/diabetes_X.csv",
        "--y",
        "data/diabetes_y.csv",
        "--alpha",
        "0.1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    for key in [
        "method",
        "alpha",
        "coef",
        "intercept",
        "objective",
        "report",
        "selected_alpha",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    let x = read_table(Path::new("data/diabetes_X.csv")).unwrap();
    let y = read_table(Path::new("data/diabetes_y.csv"))
        .unwrap()
        .to_vector(Path::new("y"))
        .unwrap();
    let fit = ElasticNet {
        alpha: 0.1,
        ..ElasticNet::default()
    }
    .fit((x.values(), y.view()))
    .unwrap();
    let coef: Vec<f64> = serde_json::from_value(v["coef"].clone()).unwrap();
    // serde_json's default float parser may differ from the printed value in the last bit.
    for (a, b) in coef.iter().zip(fit.coef.iter()) {
        assert!((a - b).abs() <= 1e-14 * b.abs(), "{a} vs {b}");
    }
    assert_eq!(v["features"][2], "bmi");
    assert!((v["intercept"].as_f64().unwrap() - fit.intercept).abs() <= 1e-14 * fit.intercept.abs());
    assert!(v["selected_alpha"].is_null());
    let r = &v["report"];
    assert_eq!(r["converged"], true);
    assert_eq!(r["measure"], "duality gap");
    assert_eq!(r["iterations"].as_u64().unwrap() as usize, fit.report.iterations);
    assert!(r["reached"].as_f64().unwrap() <= r["tolerance"].as_f64().unwrap());
}

#[test]
fn regress_reads_npy_and_prints_a_table() {
    use ndarray_npy::WriteNpyExt;
    let dir = temp_dir("npy");
    // y = 2 x0 − x2 exactly; a tiny α keeps the two features and drops the middle one.
    let x = Array2::from_shape_fn((50, 3), |(i, j)| ((i * 7 + j * 13) % 11) as f64 - 5.0 + 0.1 * j as f64);
    let y: Array1<f64> = x.column(0).mapv(|v| 2.0 * v) - x.column(2);
    x.write_npy(std::fs::File::create(dir.join("X.npy")).unwrap()).unwrap();
    y.write_npy(std::fs::File::create(dir.join("y.npy")).unwrap()).unwrap();
    let (xp, yp) = (dir.join("X.npy"), dir.join("y.npy"));
    let o = sparsimony(&[
        "regress",
        "--x",
        xp.to_str().unwrap(),
        "--y",
        yp.to_str().unwrap(),
        "--alpha",
        "1e-3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("50 samples, 3 features") && out.contains("intercept"),
        "{out}"
    );
    let coef: Vec<f64> = out
        .lines()
        .filter(|l| l.trim_start().starts_with('x'))
        .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(coef.len(), 3);
    assert!((coef[0] - 2.0).abs() < 1e-2 && (coef[2] + 1.0).abs() < 1e-2, "{coef:?}");
    let o = sparsimony(&["inspect", xp.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(
        (v["rows"].as_u64(), v["columns"].as_array().unwrap().len()),
        (Some(50), 3)
    );
}

/// Cross-validation on a design with a nearly duplicated column, where path fits stop at a low iteration
/// cap: the run warns, names how many fits stopped and where, and still prints the selected model.
#[test]
fn regress_cross_validation_warns_about_unconverged_path_fits_and_goes_on() {
    use ndarray_npy::WriteNpyExt;
    let dir = temp_dir("collinear");
    let x = Array2::from_shape_fn((60, 4), |(i, j)| {
        let base = ((i * 37 + 11) % 17) as f64 - 8.0;
        match j {
            0 => base,
            1 => base * (1.0 + 1e-9 * (i % 3) as f64),
            _ => ((i * (j + 5) * 13) % 23) as f64 - 11.0,
        }
    });
    let y: Array1<f64> = x.column(0).mapv(|v| 1.5 * v) + x.column(2).mapv(|v| 0.3 * v);
    x.write_npy(std::fs::File::create(dir.join("X.npy")).unwrap()).unwrap();
    y.write_npy(std::fs::File::create(dir.join("y.npy")).unwrap()).unwrap();
    let (xp, yp) = (dir.join("X.npy"), dir.join("y.npy"));
    let o = sparsimony(&[
        "regress",
        "--x",
        xp.to_str().unwrap(),
        "--y",
        yp.to_str().unwrap(),
        "--max-iter",
        "3",
        // Below round-off: the exact finisher, which also runs at the cap, solves these small fits.
        "--tol",
        "1e-300",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning:") && err.contains("path fits stopped at the iteration cap"),
        "{err}"
    );
    assert!(
        stdout(&o).contains("chosen by 5-fold cross-validation"),
        "{}",
        stdout(&o)
    );
}

/// Output never panics: a reader that closes the pipe early ends the run quietly with success (as Unix tools
/// do), on the thread pool of `--threads` too; a full disk is an error naming the output, exit 1.
#[test]
fn closed_pipes_and_full_disks_are_not_panics() {
    use std::io::BufRead;
    use std::process::Stdio;
    // `inspect` prints a line per column: 4000 columns are far more than a pipe buffers, so the program is
    // still writing when the reader goes.
    let dir = temp_dir("pipe");
    let csv = dir.join("wide.csv");
    let header: Vec<String> = (0..4000).map(|j| format!("c{j}")).collect();
    let row: Vec<String> = (0..4000).map(|j| format!("{}.5", j % 7)).collect();
    std::fs::write(
        &csv,
        format!("{}\n{}\n{}\n", header.join(","), row.join(","), row.join(",")),
    )
    .unwrap();
    for threads in [None, Some("1")] {
        let mut args: Vec<&str> = threads.map_or(vec![], |t| vec!["--threads", t]);
        args.extend(["inspect", csv.to_str().unwrap()]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_sparsimony"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap(); // then the pipe closes, as `| head -1` closes it
        let o = child.wait_with_output().unwrap();
        assert!(!first.is_empty());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    if Path::new("/dev/full").exists() {
        let o = Command::new(env!("CARGO_BIN_EXE_sparsimony"))
            .args(["pde", "--list"])
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("cannot write the output"), "{}", stderr(&o));
    }
    let o = sparsimony(&["--threads", "0", "pde", "--list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--threads: must lie in 1..="), "{}", stderr(&o));
}

#[test]
fn errors_name_the_file_the_line_and_the_problem() {
    let dir = temp_dir("errors");
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "a,b\n1,2\n3,oops\n").unwrap();
    let o = sparsimony(&["inspect", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("bad.csv") && e.contains("line 3") && e.contains("`b`") && e.contains("oops"),
        "{e}"
    );

    let ragged = dir.join("ragged.csv");
    std::fs::write(&ragged, "a,b\n1,2\n3\n").unwrap();
    let e = stderr(&sparsimony(&["inspect", ragged.to_str().unwrap()]));
    assert!(e.contains("ragged.csv") && e.contains("line 3"), "{e}");

    let e = stderr(&sparsimony(&["inspect", "no/such/file.csv"]));
    assert!(e.contains("no/such/file.csv"), "{e}");
    let e = stderr(&sparsimony(&["inspect", "data/make_diabetes.py"]));
    assert!(e.contains("unknown file type"), "{e}");

    // y shorter than X.
    let short = dir.join("short.csv");
    std::fs::write(&short, "y\n1\n2\n").unwrap();
    let e = stderr(&sparsimony(&[
        "regress",
        "--x",
        "data/diabetes_X.csv",
        "--y",
        short.to_str().unwrap(),
        "--alpha",
        "1",
    ]));
    assert!(e.contains("442 rows") && e.contains("short.csv"), "{e}");

    // NaN in X: the row and column are named.
    let nan = dir.join("nan.csv");
    std::fs::write(&nan, "a,b\n1,2\n3,NaN\n5,6\n").unwrap();
    let y3 = dir.join("y3.csv");
    std::fs::write(&y3, "y\n1\n2\n3\n").unwrap();
    let e = stderr(&sparsimony(&[
        "regress",
        "--x",
        nan.to_str().unwrap(),
        "--y",
        y3.to_str().unwrap(),
        "--alpha",
        "1",
    ]));
    assert!(e.contains("nan.csv, line 3, column `b`: not a finite number"), "{e}");

    // A negative α.
    let e = stderr(&sparsimony(&[
        "regress",
        "--x",
        "data/diabetes_X.csv",
        "--y",
        "data/diabetes_y.csv",
        "--alpha=-1",
    ]));
    assert!(e.contains("alpha"), "{e}");
}

#[test]
fn help_lists_the_subcommands_and_examples() {
    let out = stdout(&sparsimony(&["--help"]));
    for s in ["regress", "inspect", "Examples:", "--alpha"] {
        assert!(out.contains(s), "{s} missing from --help:\n{out}");
    }
}

#[test]
fn sindy_on_the_bundled_lorenz_data_matches_the_library() {
    use sparsimony::solvers::sindy::{Sindy, Time, Trajectory};
    let o = sparsimony(&["sindy", "--data", "data/lorenz.csv", "--t-column", "t", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["states"], serde_json::json!(["x", "y", "z"]));
    assert_eq!(v["features"][6], "x z");
    assert_eq!(v["equations"][2], "-2.666 z +  1.000 x y");
    // The same fit through the library, with the times as points.
    let table = read_table(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data/lorenz.csv"))).unwrap();
    let t = table.values().column(0).to_owned();
    let x = table.values().slice(ndarray::s![.., 1..]).to_owned();
    let fit = Sindy::default()
        .fit(&[Trajectory::new(x.view(), Time::Points(t.view()))])
        .unwrap();
    let coef: Vec<Vec<f64>> = serde_json::from_value(v["coef"].clone()).unwrap();
    for (row, lib) in coef.iter().zip(fit.coefficients().rows()) {
        for (a, b) in row.iter().zip(lib) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0));
        }
    }
    assert!(v["score"].as_f64().unwrap() > 0.9999);

    // Text output, an ensemble, and the exports.
    let dir = temp_dir("sindy");
    let (json_path, rs_path) = (dir.join("model.json"), dir.join("model.rs"));
    let o = sparsimony(&[
        "sindy",
        "--data",
        "data/lorenz.csv",
        "--t-column",
        "t",
        "--ensemble",
        "5",
        "--export",
        json_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with("(x)' = ") && text.contains("inclusion probabilities (5 models)"),
        "{text}"
    );
    let model: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(model["coef_value"].as_array().unwrap().len(), 7);
    assert_eq!(model["terms"][3]["name"], "x y");
    let o = sparsimony(&[
        "sindy",
        "--data",
        "data/lorenz.csv",
        "--t-column",
        "t",
        "--export",
        rs_path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(&rs_path)
            .unwrap()
            .contains("pub mod sindy_model")
    );
}

#[test]
fn sindy_errors_name_the_problem() {
    let o = sparsimony(&["sindy", "--data", "data/lorenz.csv"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--t-column NAME or --dt STEP"), "{}", stderr(&o));
    let o = sparsimony(&["sindy", "--data", "data/lorenz.csv", "--t-column", "time"]);
    assert!(stderr(&o).contains("no column `time`"), "{}", stderr(&o));
    // Shuffled times are not increasing.
    let dir = temp_dir("sindy-bad");
    let path = dir.join("bad.csv");
    std::fs::write(&path, "t,x\n0,1\n0.2,2\n0.1,3\n0.3,4\n0.4,5\n").unwrap();
    let o = sparsimony(&["sindy", "--data", path.to_str().unwrap(), "--t-column", "t"]);
    assert!(stderr(&o).contains("strictly increasing"), "{}", stderr(&o));
}

const PDE_PROBLEM: &str = r#"
name = "cli-poisson"
[[axis]]
name = "x"
lower = 0
upper = 1
points = 40
[[equation]]
operator = "u_xx"
[exact]
u = "sin(9*x) + 0.5*cos(2*x)"
"#;

#[test]
fn pde_json_matches_the_library_and_plots() {
    let dir = temp_dir("pde");
    let toml = dir.join("p.toml");
    std::fs::write(&toml, PDE_PROBLEM).unwrap();
    let svg = dir.join("u.svg");
    let o = sparsimony(&[
        "pde",
        "--problem",
        toml.to_str().unwrap(),
        "--components",
        "5",
        "--iters",
        "3",
        "--json",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // With --json (and off a terminal) the progress bar stays quiet: stderr carries nothing.
    assert!(stderr(&o).is_empty(), "quiet with --json: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let problem = sparsimony::solvers::gp_pde::Problem::from_toml(PDE_PROBLEM).unwrap();
    let settings =
        sparsimony::pde::settings_for(&problem, sparsimony::solvers::gp_pde::Method::Exact, Some(5), Some(3));
    let refine = sparsimony::pde::Refine::DEFAULT;
    let lib = sparsimony::pde::run(&problem, &settings, refine, |_| std::ops::ControlFlow::Continue(())).unwrap();
    assert_eq!(v["problem"], "cli-poisson");
    assert_eq!(v["grid"], serde_json::json!([40]));
    assert_eq!(v["components_kept"], serde_json::json!(lib.components_kept));
    let err = v["rel_l2_error"].as_f64().unwrap();
    assert!(
        (err - lib.rel_l2_error.unwrap()).abs() <= 1e-12 * err.max(1e-300),
        "{err} vs {:?}",
        lib.rel_l2_error
    );
    assert!(err < 1e-2, "relative L2 error {err}");
    assert_eq!(v["residual_indicator"].as_f64(), Some(lib.indicator.value()));
    assert_eq!(v["attempts"].as_array().map(Vec::len), Some(lib.attempts.len()));
    assert_eq!(v["chosen_attempt"].as_u64(), Some(lib.chosen as u64));
    assert_eq!(v["trusted"], true);
    assert!(v["seconds"].as_f64().unwrap() > 0.0);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
}

/// An unresolved wave (`sin(40x)` on 60 points over [0, 2π]): the indicator says not to trust it — a
/// warning by default (exit 0), a failure with `--max-indicator` (exit 1, the result still printed).
#[test]
fn pde_an_untrusted_solution_is_said_and_fails_under_max_indicator() {
    let dir = temp_dir("pde-indicator");
    let toml = dir.join("coarse.toml");
    std::fs::write(
        &toml,
        PDE_PROBLEM
            .replace("upper = 1", "upper = 6.283185307179586")
            .replace("points = 40", "points = 60")
            .replace("sin(9*x) + 0.5*cos(2*x)", "sin(40*x)"),
    )
    .unwrap();
    let path = toml.to_str().unwrap();
    let o = sparsimony(&["pde", "--problem", path, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("not to be trusted"), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["trusted"], false);
    assert!(v["rel_l2_error"].as_f64().unwrap() > 0.1 && v["residual_indicator"].as_f64().unwrap() > 1e-3);
    let o = sparsimony(&["pde", "--problem", path, "--max-indicator", "1e-3"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("NOT TRUSTED"), "{}", stdout(&o));
    assert!(stderr(&o).contains("--max-indicator"), "{}", stderr(&o));
    // A loose enough bound passes; a bound that is no number is refused.
    assert!(
        sparsimony(&["pde", "--problem", path, "--max-indicator", "10"])
            .status
            .success()
    );
    let o = sparsimony(&["pde", "--problem", path, "--max-indicator", "nan"]);
    assert!(
        !o.status.success() && stderr(&o).contains("--max-indicator"),
        "{}",
        stderr(&o)
    );
}

/// Poisson's equation with data on one end only: the data do not determine the solution (any `a·x` can
/// be added). Said in the warning and the JSON, and failed under any `--max-indicator`.
#[test]
fn pde_boundary_data_too_few_are_said() {
    let dir = temp_dir("pde-shortfall");
    let toml = dir.join("one-end.toml");
    std::fs::write(&toml, PDE_PROBLEM.to_string() + "[boundary]\nfaces = [\"x-\"]\n").unwrap();
    let path = toml.to_str().unwrap();
    let o = sparsimony(&["pde", "--problem", path, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("differentiate 2 time(s) along `x` but Dirichlet data on x- only") && err.contains("one of many"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["trusted"], false);
    assert_eq!(v["null_space"], true);
    assert!(
        v["missing_data"]
            .as_str()
            .unwrap()
            .contains("give data on both faces of `x`")
    );
    assert_eq!(v["attempts"].as_array().unwrap().len(), 1);
    let o = sparsimony(&["pde", "--problem", path, "--max-indicator", "1e300"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("too few boundary data"), "{}", stdout(&o));
}

/// The work bound counts every solve a refinement may make (five: the first, two raises, the other
/// family, the broadband start), and says how to make one; a problem refinement cannot apply to (a grid
/// beyond the error estimate's 3·10⁵ points) counts one. Every case here is refused before any work.
#[test]
fn pde_work_bound_counts_the_refining_solves() {
    let refused = |args: &[&str], words: &str, not: &str| {
        let o = sparsimony(&[&["pde", "--benchmark", "poisson_2d-sin_sin"], args].concat());
        let err = stderr(&o);
        assert!(
            !o.status.success() && err.contains(words) && !err.contains(not),
            "{err}"
        );
    };
    refused(&["--grid", "400,400"], "up to 5 solves with refinement", "@");
    refused(
        &["--grid", "400,400", "--iters", "100000", "--no-refine"],
        "the solve would take",
        "up to",
    );
    refused(&["--grid", "3000,3000"], "the solve would take", "up to");
}

#[test]
fn pde_errors_name_the_problem() {
    let o = sparsimony(&["pde", "--benchmark", "no-such-problem"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("poisson_1d-single_sin"),
        "lists the known ones: {}",
        stderr(&o)
    );
    let dir = temp_dir("pde-errors");
    let toml = dir.join("bad.toml");
    std::fs::write(&toml, PDE_PROBLEM.replace("u_xx", "u_xx +")).unwrap();
    let o = sparsimony(&["pde", "--problem", toml.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("bad.toml") && e.contains("u_xx +") && e.contains('7'), "{e}");
    let o = sparsimony(&["pde", "--benchmark", "heat_1d", "--plot", "heat.png"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("SVG"), "{}", stderr(&o));
    let o = sparsimony(&["pde", "--benchmark", "heat_1d", "--grid", "2,64"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("too few"), "{}", stderr(&o));
}

/// An AR(1) design with ρ = 0.85 on θ*'s neighbouring features: hard thresholding cannot settle in its
/// rounds, and this run (seeds as in solvers/tests/privacy.rs, which picks a wrong support) says so in the
/// JSON and on stderr instead of presenting the coefficients as an answer.
#[test]
fn ldp_iht_says_when_its_rounds_did_not_settle() {
    let o = sparsimony(&[
        "ldp",
        "simulate",
        "--n",
        "300000",
        "--d",
        "10",
        "--k",
        "4",
        "--epsilon",
        "4",
        "--noise",
        "0.5",
        "--correlation",
        "0.85",
        "--seed",
        "1",
        "--data-seed",
        "41",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["support_recovered"], serde_json::json!(false), "{v}");
    assert_eq!(v["trusted"], serde_json::json!(false), "{v}");
    assert_eq!(v["report"]["converged"], serde_json::json!(false), "{v}");
    assert!(stderr(&o).contains("the rounds did not settle"), "{}", stderr(&o));
}

/// `sparsimony ldp`: a simulation recovers the support where the privacy noise allows it and states the
/// guarantee; `fit` privatizes real rows; bad settings name their flags.
#[test]
fn ldp_simulates_and_fits_with_the_guarantee_stated() {
    let o = sparsimony(&[
        "ldp",
        "simulate",
        "--n",
        "100000",
        "--d",
        "4",
        "--k",
        "1",
        "--epsilon",
        "8",
        "--clip",
        "1.5",
        "--noise",
        "0.1",
        "--method",
        "iht",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["support"], serde_json::json!([0]));
    assert_eq!(v["support_recovered"], serde_json::json!(true));
    assert_eq!(v["guarantee"]["epsilon"], serde_json::json!(8.0));
    assert_eq!(v["guarantee"]["delta"], serde_json::json!(0.0));
    let diabetes = |extra: &[&str]| {
        let mut args = vec![
            "ldp",
            "fit",
            "--x",
            "data/diabetes_X.csv",
            "--y",
            "data/diabetes_y.csv",
            "--k",
            "3",
            "--epsilon",
            "4",
            "--method",
            "noninteractive",
            "--json",
        ];
        args.extend_from_slice(extra);
        sparsimony(&args)
    };
    // 442 users are too few to learn the data's scales privately (y spans 25–346): refused by default,
    // saying what to do.
    let o = diabetes(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("--scale given"), "{}", stderr(&o));
    let o = diabetes(&["--scale", "given"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["support"].as_array().unwrap().len(), 3);
    assert_eq!(v["guarantee"]["messages_per_user"], serde_json::json!(2));
    // 442 users cannot carry a signal through ε = 4: the fit says so (JSON and a warning), not only
    // prints coefficients.
    assert_eq!(v["trusted"], serde_json::json!(false));
    assert!(v["noise_error"].as_f64().unwrap() > 0.0);
    assert!(stderr(&o).contains("warning: the privacy noise"), "{}", stderr(&o));
    // The simulation above, with its 10⁵ users at ε = 8, is trusted and warns of nothing.
    let o = sparsimony(&[
        "ldp",
        "simulate",
        "--n",
        "100000",
        "--d",
        "4",
        "--k",
        "1",
        "--epsilon",
        "8",
        "--clip",
        "1.5",
        "--noise",
        "0.1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    assert!(stdout(&o).contains("privacy noise: expected error"), "{}", stdout(&o));
    for (args, flag) in [
        (vec!["ldp", "simulate", "--n", "100", "--d", "3", "--k", "5"], "--k"),
        (
            vec!["ldp", "simulate", "--n", "100", "--d", "3", "--k", "1", "--epsilon=0"],
            "--epsilon",
        ),
        (
            vec![
                "ldp",
                "simulate",
                "--n",
                "100",
                "--d",
                "3",
                "--k",
                "1",
                "--method",
                "noninteractive",
                "--delta",
                "2",
            ],
            "--delta",
        ),
        // A negative value reaches the check (not read as a flag), and iht's own settings are refused
        // with the other methods.
        (
            vec![
                "ldp", "simulate", "--n", "100", "--d", "3", "--k", "1", "--radius", "-1",
            ],
            "--radius",
        ),
        (
            vec!["ldp", "simulate", "--n", "100", "--d", "3", "--k", "1", "--rounds", "0"],
            "--rounds",
        ),
        (
            vec![
                "ldp",
                "simulate",
                "--n",
                "100",
                "--d",
                "3",
                "--k",
                "1",
                "--correlation",
                "1",
            ],
            "--correlation",
        ),
        // The default public users (n/10) too few for the features: the flag and its default named.
        (
            vec![
                "ldp", "simulate", "--n", "99", "--d", "10", "--k", "1", "--method", "public", "--scale", "given",
            ],
            "--public-n: 9 public users (the default, n/10)",
        ),
        // The non-interactive estimator's radius for x, refused when not positive or when its
        // sensitivity leaves the mechanism's range.
        (
            vec![
                "ldp",
                "simulate",
                "--n",
                "100",
                "--d",
                "3",
                "--k",
                "1",
                "--method",
                "noninteractive",
                "--radius",
                "0",
            ],
            "--radius",
        ),
        (
            vec![
                "ldp",
                "simulate",
                "--n",
                "100",
                "--d",
                "3",
                "--k",
                "1",
                "--method",
                "noninteractive",
                "--radius",
                "1e150",
                "--clip",
                "1e150",
            ],
            "--radius",
        ),
        (
            vec![
                "ldp", "simulate", "--n", "100", "--d", "3", "--k", "1", "--method", "public", "--rounds", "2",
            ],
            "--rounds",
        ),
    ] {
        let o = sparsimony(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{}", stderr(&o));
    }
}

/// `sparsimony langevin`: a simulation reports the averaged read-out beside the last iterate and online
/// SGD; `fit` on a file equals the library's fit of the same samples; bad settings name their flags.
#[test]
fn langevin_simulates_and_fits_as_the_library_does() {
    use sparsimony::solvers::langevin::{Langevin, Link, SingleIndex};
    let o = sparsimony(&["langevin", "simulate", "--d", "20", "--k", "3", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["n"], serde_json::json!(4000));
    assert_eq!(v["readout"], serde_json::json!("mean"));
    let averaged = v["overlap"]["averaged"].as_f64().unwrap();
    assert!(averaged > 0.7, "averaged overlap {averaged}");
    // The curve ends at the final read-out.
    let curve: Vec<f64> = v["curve"]["averaged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_f64().unwrap())
        .collect();
    assert!(curve.len() >= 50, "{} points", curve.len());
    assert_eq!(curve.last().copied(), Some(averaged));

    // Tensor PCA, with the overlap path plotted.
    let dir = temp_dir("langevin_tensor");
    let svg = dir.join("overlap.svg");
    let o = sparsimony(&[
        "langevin",
        "simulate",
        "--model",
        "tensor-pca",
        "--d",
        "20",
        "--k",
        "3",
        "--time",
        "100",
        "--plot",
        svg.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["overlap"]["averaged"].as_f64().unwrap() > 0.9, "{v}");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

    let dir = temp_dir("langevin");
    let model = SingleIndex::new(5, Link::hermite(3).unwrap(), 0.0).unwrap();
    let (x, y) = model.sample(3, 0, 500).unwrap();
    let (xp, yp) = (dir.join("x.csv"), dir.join("y.csv"));
    let header: Vec<String> = (0..5).map(|j| format!("x{j}")).collect();
    let mut text = header.join(",") + "\n";
    for row in x.rows() {
        text += &(row.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(",") + "\n");
    }
    std::fs::write(&xp, text).unwrap();
    std::fs::write(
        &yp,
        "y\n".to_string() + &y.iter().map(|v| format!("{v:e}\n")).collect::<String>(),
    )
    .unwrap();
    let (xs, ys) = (xp.to_str().unwrap(), yp.to_str().unwrap());
    let o = sparsimony(&[
        "langevin", "fit", "--x", xs, "--y", ys, "--link", "0,0,0,1", "--time", "20", "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let library = Langevin {
        signal: 2.0 * 5f64.sqrt(),
        time: 20.0,
        link: model.link.clone(),
        ..Langevin::default()
    }
    .fit((x.view(), y.view()))
    .unwrap();
    let cli: Vec<f64> = v["estimate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_f64().unwrap())
        .collect();
    for (a, b) in cli.iter().zip(&library.estimate) {
        assert!((a - b).abs() < 1e-12, "{cli:?} vs {}", library.estimate);
    }

    for (args, flag) in [
        (vec!["langevin", "simulate", "--d", "1", "--k", "3"], "--d"),
        (vec!["langevin", "simulate", "--d", "5", "--k", "0"], "--k"),
        (
            vec!["langevin", "simulate", "--d", "5", "--k", "3", "--step", "-1"],
            "--step",
        ),
        (vec!["langevin", "fit", "--x", xs, "--y", ys, "--link", "1,0"], "--link"),
        (
            vec!["langevin", "fit", "--x", xs, "--y", ys, "--link", "hermiteX"],
            "--link",
        ),
        (
            vec!["langevin", "fit", "--x", xs, "--y", ys, "--link", "hermite99"],
            "--link hermite99",
        ),
        (
            vec![
                "langevin",
                "simulate",
                "--model",
                "tensor-pca",
                "--d",
                "300",
                "--k",
                "4",
            ],
            "--d",
        ),
        (
            vec!["langevin", "simulate", "--model", "tensor-pca", "--d", "5", "--k", "1"],
            "--k",
        ),
        (
            vec![
                "langevin",
                "simulate",
                "--model",
                "tensor-pca",
                "--d",
                "5",
                "--k",
                "3",
                "--noise",
                "1",
            ],
            "--noise",
        ),
        (
            vec!["langevin", "simulate", "--d", "5", "--k", "3", "--plot", "out.png"],
            "--plot out.png",
        ),
    ] {
        let o = sparsimony(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{}", stderr(&o));
    }
}

/// The criterion `radio calibrate --json` reports equals the library fit's last, to 1e-9 relative.
fn assert_same_criterion(v: &serde_json::Value, fit: &sparsimony::solvers::radio::SelfCalibrated) {
    let criterion = fit.history.last().unwrap().criterion;
    assert!(
        (v["criterion"].as_f64().unwrap() - criterion).abs() <= 1e-9 * criterion,
        "{v} against {criterion}"
    );
}

#[test]
fn radio_simulate_then_calibrate_matches_the_library_and_writes_fits() {
    use sparsimony::solvers::radio::{SelfCalibration, Simulation, snr_db};
    let dir = temp_dir("radio");
    let d = dir.to_str().unwrap();
    let o = sparsimony(&[
        "radio",
        "simulate",
        "--out",
        d,
        "--antennas",
        "12",
        "--image-size",
        "40",
        "--dde-size",
        "3",
        "--seed",
        "4",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("--grid-size 50"), "{}", stdout(&o));
    let fits = dir.join("image.fits");
    let (vis, bright, truth) = (
        format!("{d}/vis.csv"),
        format!("{d}/bright.npy"),
        format!("{d}/truth.npy"),
    );
    let o = sparsimony(&[
        "radio",
        "calibrate",
        "--vis",
        &vis,
        "--bright",
        &bright,
        "--truth",
        &truth,
        "--grid-size",
        "50",
        "--dde-size",
        "3",
        "--max-outer",
        "4",
        "--json",
        "--out",
        fits.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // The library on the same simulation (the CSV keeps every digit of the visibilities).
    let sim = Simulation {
        n_antennas: 12,
        image_size: 40,
        dde_size: 3,
        seed: 4,
        ..Simulation::default()
    }
    .simulate()
    .unwrap();
    let fit = SelfCalibration {
        dde_size: 3,
        dde_max_outer: 4,
        ..SelfCalibration::default()
    }
    .fit((&sim.observation, sim.bright.view()))
    .unwrap();
    assert_same_criterion(&v, &fit);
    let snr = snr_db(&fit.faint, &sim.faint());
    assert!(
        (v["snr_db"]["dde"].as_f64().unwrap() - snr).abs() < 1e-6,
        "{v} against {snr}"
    );
    // The FITS file, read by an independent reader, holds the library's image.
    let reader = std::io::BufReader::new(std::fs::File::open(&fits).unwrap());
    let mut hdus = fitsrs::Fits::from_reader(reader);
    let Some(Ok(fitsrs::HDU::Primary(hdu))) = hdus.next() else {
        panic!("no primary HDU in {}", fits.display())
    };
    let naxis = hdu.get_header().get_xtension().get_naxis().to_vec();
    assert_eq!(naxis, vec![40, 40]);
    let image = hdus.get_data(&hdu);
    let fitsrs::Pixels::F64(pixels) = image.pixels() else {
        panic!("expected f64 pixels")
    };
    let pixels: Vec<f64> = pixels.collect();
    assert_eq!(pixels.as_slice(), fit.image.as_slice().unwrap());
}

#[test]
fn radio_errors_name_the_problem() {
    let dir = temp_dir("radio-bad");
    let d = dir.to_str().unwrap();
    let o = sparsimony(&[
        "radio",
        "simulate",
        "--out",
        d,
        "--antennas",
        "6",
        "--image-size",
        "40",
        "--dde-size",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(dir.join("vis.csv")).unwrap();
    let bright = format!("{d}/bright.npy");
    let calibrate = |name: &str, content: String| {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        sparsimony(&[
            "radio",
            "calibrate",
            "--vis",
            path.to_str().unwrap(),
            "--bright",
            &bright,
            "--dde-size",
            "3",
        ])
    };
    // One field of the second visibility (line 3 of the file) changed at a time, and what the error says.
    let lines: Vec<&str> = text.lines().collect();
    let original: Vec<&str> = lines[2].split(',').collect();
    for (name, field, value, expected) in [
        ("uv.csv", 3, "400", "(u, v) = (400"),
        ("antenna.csv", 1, "2.5", "line 3, column `antenna2`"),
        ("same.csv", 1, original[0], "must be distinct"),
        ("nan.csv", 6, "nan", "not a finite number"),
    ] {
        let mut fields = original.clone();
        fields[field] = value;
        let changed = fields.join(",");
        let mut bad = lines.clone();
        bad[2] = &changed;
        let o = calibrate(name, bad.join("\n"));
        assert!(
            !o.status.success() && stderr(&o).contains(expected),
            "{name}: {}",
            stderr(&o)
        );
    }
    let o = calibrate("header.csv", "a,b\n1,2\n".into());
    assert!(
        !o.status.success() && stderr(&o).contains("no column `antenna1`"),
        "{}",
        stderr(&o)
    );
    let o = sparsimony(&[
        "radio",
        "calibrate",
        "--vis",
        &format!("{d}/vis.csv"),
        "--bright",
        &format!("{d}/vis.csv"),
    ]);
    assert!(
        !o.status.success() && stderr(&o).contains("must be a square image"),
        "{}",
        stderr(&o)
    );
    let o = sparsimony(&[
        "radio",
        "calibrate",
        "--vis",
        &format!("{d}/vis.csv"),
        "--bright",
        &bright,
        "--dde-size",
        "4",
    ]);
    assert!(
        !o.status.success() && stderr(&o).contains("--dde-size"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn radio_sara_prior_on_a_simulated_galaxy_matches_the_library() {
    use sparsimony::solvers::radio::{Prior, SelfCalibration, Simulation};
    let dir = temp_dir("radio-sara");
    let d = dir.to_str().unwrap();
    let args = [
        "--antennas",
        "12",
        "--image-size",
        "32",
        "--dde-size",
        "3",
        "--seed",
        "2",
    ];
    let o = sparsimony(&[&["radio", "simulate", "--out", d, "--galaxy", "1"][..], &args[..]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let (vis, bright) = (format!("{d}/vis.csv"), format!("{d}/bright.npy"));
    let o = sparsimony(&[
        "radio",
        "calibrate",
        "--vis",
        &vis,
        "--bright",
        &bright,
        "--dde-size",
        "3",
        "--prior",
        "sara",
        "--max-outer",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let sim = Simulation {
        n_antennas: 12,
        image_size: 32,
        dde_size: 3,
        seed: 2,
        levels: vec![(10, 10.0)],
        galaxy: Some(1.0),
        ..Simulation::default()
    }
    .simulate()
    .unwrap();
    let fit = SelfCalibration {
        dde_size: 3,
        prior: Prior::sara(),
        eta: 1e-2,
        dde_max_outer: 2,
        ..SelfCalibration::default()
    }
    .fit((&sim.observation, sim.bright.view()))
    .unwrap();
    assert_same_criterion(&v, &fit);
}

/// The choices named by the library (`Spectrum::NAMES`, `Method::NAMES`, `Prior::NAMES`) are the flags'
/// values: a wrong one is refused with the library's list, and the old `student-t` spelling still reads.
#[test]
fn named_choices_come_from_the_library() {
    use sparsimony::solvers::gp_pde::{Method, Spectrum};
    use sparsimony::solvers::radio::Prior;
    for (args, names) in [
        (
            vec!["pde", "--benchmark", "poisson_1d-single_sin", "--spectrum", "matern"],
            Spectrum::NAMES.join(", "),
        ),
        (
            vec!["pde", "--benchmark", "poisson_1d-single_sin", "--method", "lbfgs"],
            Method::NAMES.join(", "),
        ),
        (
            vec![
                "radio",
                "calibrate",
                "--vis",
                "v.csv",
                "--bright",
                "b.npy",
                "--prior",
                "tv",
            ],
            Prior::NAMES.join(", "),
        ),
    ] {
        let out = sparsimony(&args);
        let e = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{e}");
        assert!(e.contains(&format!("[possible values: {names}]")), "{e}");
    }
    let help = stdout(&sparsimony(&["pde", "--help"]));
    assert!(help.contains("student_t3"), "{help}");
    // `--spectrum student-t` (clap's spelling before the names were the library's) is the same family: the
    // refusal that follows is the grid's, not the spectrum's.
    let out = sparsimony(&[
        "pde",
        "--benchmark",
        "poisson_1d-single_sin",
        "--spectrum",
        "student-t",
        "--grid",
        "0",
    ]);
    let e = stderr(&out);
    assert!(!e.contains("spectrum"), "{e}");
    assert!(e.contains("grid") && e.contains("at least 2"), "{e}");
}
