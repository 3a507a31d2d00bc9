//! `sparsimony mpc` end to end: a SINDYc model identified by `sparsimony sindy --control … --export` from a
//! noisy excitation of the forced Lorenz system, then the controller over it simulated against the true
//! system (written as an exported model by hand: an independent plant) to the unstable fixed point; and
//! bad input refused with messages that name the problem.
use std::path::Path;

mod common;
use common::{refused, run, stderr, stdout, temp_dir};

#[allow(dead_code)]
#[path = "../examples/sindy_mpc.rs"]
mod sindy_mpc;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The forced Lorenz system (σ = 10, ρ = 28, β = 8/3, u in the first equation) in the export format.
const TRUE_LORENZ: &str = r#"{
  "states": ["x", "y", "z"], "controls": ["u"], "discrete_time": false,
  "terms": [
    {"name": "x", "factors": [{"input": 0, "power": 1}]},
    {"name": "y", "factors": [{"input": 1, "power": 1}]},
    {"name": "z", "factors": [{"input": 2, "power": 1}]},
    {"name": "u", "factors": [{"input": 3, "power": 1}]},
    {"name": "x z", "factors": [{"input": 0, "power": 1}, {"input": 2, "power": 1}]},
    {"name": "x y", "factors": [{"input": 0, "power": 1}, {"input": 1, "power": 1}]}
  ],
  "coef_ptr": [0, 3, 6, 8],
  "coef_term": [0, 1, 3, 0, 1, 4, 5, 2],
  "coef_value": [-10.0, 10.0, 1.0, 28.0, -1.0, -1.0, 1.0, -2.6666666666666665]
}"#;

const SETTINGS: &str = "horizon = 10\ndt = 0.01\nsubsteps = 2\n\
    target = [8.48528137423857, 8.48528137423857, 27.0]\nq = [1.0, 1.0, 1.0]\nr = [0.001]\n\
    u_min = [-50.0]\nu_max = [50.0]\n";

/// The noisy excitation as CSV, the identified model, the true plant and the settings in `d`.
fn setup(d: &Path) {
    let (x, u) = sindy_mpc::training_data(sindy_mpc::NOISE);
    let mut csv = String::from("t,x,y,z,u\n");
    for i in 0..x.nrows() {
        csv += &format!(
            "{},{},{},{},{}\n",
            i as f64 * sindy_mpc::TRAIN_DT,
            x[(i, 0)],
            x[(i, 1)],
            x[(i, 2)],
            u[(i, 0)]
        );
    }
    std::fs::write(d.join("train.csv"), csv).unwrap();
    std::fs::write(d.join("plant.json"), TRUE_LORENZ).unwrap();
    std::fs::write(d.join("ctrl.toml"), SETTINGS).unwrap();
    let o = run(&[
        "sindy",
        "--data",
        s(&d.join("train.csv")),
        "--t-column",
        "t",
        "--control",
        "u",
        "--diff",
        "savgol",
        "--threshold",
        "0.5",
        "--alpha",
        "0",
        "--export",
        s(&d.join("model.json")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn identified_model_controls_the_true_lorenz_system() {
    let d = temp_dir("mpc-loop");
    setup(&d);
    let starts = sindy_mpc::lorenz_mpc::attractor_points::<3>().unwrap();
    for x0 in starts {
        let x0 = format!("{},{},{}", x0[0], x0[1], x0[2]);
        let trace = d.join("trace.csv");
        let o = run(&[
            "mpc",
            "--model",
            s(&d.join("model.json")),
            "--settings",
            s(&d.join("ctrl.toml")),
            "--plant",
            s(&d.join("plant.json")),
            "--x0",
            &x0,
            "--trace",
            s(&trace),
            "--json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert!(v["final_distance"].as_f64().unwrap() < 0.01, "{v}");
        assert!(v["settled_at"].as_f64().unwrap() <= 3.0, "{v}");
        assert!(v["max_abs_u"].as_f64().unwrap() <= 50.0, "{v}");
        assert_eq!(v["failed_steps"], 0);
        // The trace: a header, the start and 1000 periods; its last state is the reported one.
        let text = std::fs::read_to_string(&trace).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "t,x,y,z,u");
        assert_eq!(lines.len(), 1002);
        let last: Vec<f64> = lines[1001].split(',').take(4).map(|c| c.parse().unwrap()).collect();
        let reported: Vec<f64> = serde_json::from_value(v["final_state"].clone()).unwrap();
        // (serde_json's float parsing is not correctly rounded, hence the 1e-14.)
        for (a, b) in last[1..].iter().zip(&reported) {
            assert!((a - b).abs() <= 1e-14 * b.abs(), "{last:?} vs {reported:?}");
        }
        assert!((last[0] - 10.0).abs() < 1e-9);
    }
}

#[test]
fn bad_input_is_refused_by_name() {
    let d = temp_dir("mpc-bad");
    setup(&d);
    let model = d.join("model.json");
    let ctrl = d.join("ctrl.toml");
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let mpc = |model: &Path, settings: &Path, extra: &[&str]| {
        let mut args = vec!["mpc", "--model", s(model), "--settings", s(settings), "--x0", "1,2,25"];
        args.extend_from_slice(extra);
        run(&args)
    };
    // An empty input box, an unknown key (located), a missing key, a zero horizon, a negative weight.
    let empty_box = write("box.toml", &SETTINGS.replace("u_min = [-50.0]", "u_min = [60.0]"));
    refused(&mpc(&model, &empty_box, &[]), &["u_min", "empty"]);
    let unknown = write("unknown.toml", &format!("{SETTINGS}horizn = 3\n"));
    refused(&mpc(&model, &unknown, &[]), &["horizn", "line 9"]);
    let missing = write("missing.toml", &SETTINGS.replace("r = [0.001]\n", ""));
    refused(&mpc(&model, &missing, &[]), &["missing field `r`"]);
    let zero = write("zero.toml", &SETTINGS.replace("horizon = 10", "horizon = 0"));
    refused(&mpc(&model, &zero, &[]), &["horizon"]);
    let negative = write("neg.toml", &SETTINGS.replace("r = [0.001]", "r = [-1.0]"));
    refused(&mpc(&model, &negative, &[]), &["non-negative"]);
    let short = write("short.toml", &SETTINGS.replace("q = [1.0, 1.0, 1.0]", "q = [1.0]"));
    refused(&mpc(&model, &short, &[]), &["q (states)", "expected 3"]);
    // x0 of the wrong length, NaN, a plant of other dimensions.
    refused(
        &run(&["mpc", "--model", s(&model), "--settings", s(&ctrl), "--x0", "1,2"]),
        &["x0", "expected 3"],
    );
    refused(&mpc(&model, &ctrl, &["--x0", "nan,1,2"]), &["--x0", "not finite"]);
    let two_state = TRUE_LORENZ.replace(r#""states": ["x", "y", "z"]"#, r#""states": ["x", "y"]"#);
    let bad_plant = write("bad_plant.json", &two_state);
    refused(
        &mpc(&model, &ctrl, &["--plant", s(&bad_plant)]),
        &["bad_plant.json", "not a valid model"],
    );
    // Models the controller cannot use: no controls, discrete time, not JSON, malformed factors.
    let no_control = write(
        "free.json",
        &TRUE_LORENZ
            .replace(r#""controls": ["u"]"#, r#""controls": []"#)
            .replace(
                r#"{"name": "u", "factors": [{"input": 3, "power": 1}]}"#,
                r#"{"name": "1", "factors": []}"#,
            ),
    );
    refused(&mpc(&no_control, &ctrl, &[]), &["no control inputs", "--control"]);
    let discrete = write(
        "discrete.json",
        &TRUE_LORENZ.replace(r#""discrete_time": false"#, r#""discrete_time": true"#),
    );
    refused(&mpc(&discrete, &ctrl, &[]), &["discrete-time"]);
    let garbage = write("garbage.json", "{not json");
    refused(&mpc(&garbage, &ctrl, &[]), &["garbage.json", "not JSON"]);
    let bad_factor = write(
        "factor.json",
        &TRUE_LORENZ.replace(r#"{"input": 3, "power": 1}"#, r#"{"input": 3, "tan": 1}"#),
    );
    refused(
        &mpc(&bad_factor, &ctrl, &[]),
        &["exactly one of `power`, `sin`, `cos` (found none)"],
    );
    // Powers that are not small integers, a factor of two kinds, a plant whose states are in another order.
    let float_power = write(
        "float_power.json",
        &TRUE_LORENZ.replace(r#"{"input": 3, "power": 1}"#, r#"{"input": 3, "power": 1.5}"#),
    );
    refused(&mpc(&float_power, &ctrl, &[]), &["a power is an integer from 0 to 64"]);
    let huge_power = write(
        "huge_power.json",
        &TRUE_LORENZ.replace(r#"{"input": 3, "power": 1}"#, r#"{"input": 3, "power": 4294967295}"#),
    );
    refused(&mpc(&huge_power, &ctrl, &[]), &["a power is an integer from 0 to 64"]);
    let two_kinds = write(
        "two_kinds.json",
        &TRUE_LORENZ.replace(r#"{"input": 3, "power": 1}"#, r#"{"input": 3, "power": 1, "sin": 2.0}"#),
    );
    refused(&mpc(&two_kinds, &ctrl, &[]), &["exactly one of", "power, sin"]);
    let reordered = write(
        "reordered.json",
        &TRUE_LORENZ.replace(r#""states": ["x", "y", "z"]"#, r#""states": ["y", "x", "z"]"#),
    );
    refused(
        &mpc(&model, &ctrl, &["--plant", s(&reordered)]),
        &["reordered.json", "not the model's", "same order"],
    );
    // Counts whose products overflow are refused by the work estimate, not wrapped.
    let many = write(
        "many.toml",
        &SETTINGS.replace("substeps = 2", "substeps = 4611686018427387904"),
    );
    refused(&mpc(&model, &many, &[]), &["would take about"]);
    refused(
        &mpc(&model, &ctrl, &["--plant-substeps", "4611686018427387904"]),
        &["would take about"],
    );
    // A box with no finite point.
    let nowhere = write(
        "nowhere.toml",
        &SETTINGS
            .replace("u_min = [-50.0]", "u_min = [inf]")
            .replace("u_max = [50.0]", "u_max = [inf]"),
    );
    refused(&mpc(&model, &nowhere, &[]), &["u_min", "no finite point"]);
    // A one-step horizon runs.
    let one = write("one.toml", &SETTINGS.replace("horizon = 10", "horizon = 1"));
    let o = mpc(&model, &one, &["--steps", "50", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // The trace never replaces an input.
    let before = std::fs::read(&model).unwrap();
    refused(&mpc(&model, &ctrl, &["--trace", s(&model)]), &["--trace", "--model"]);
    assert_eq!(std::fs::read(&model).unwrap(), before);
    // A plant that diverges under the controller: the error says so.
    let wild = write("wild.json", &TRUE_LORENZ.replace("-2.6666666666666665", "2000.0"));
    refused(
        &mpc(&model, &ctrl, &["--plant", s(&wild), "--steps", "2000"]),
        &["plant", "diverged"],
    );
}

/// The probe's findings: values whose squares overflow, an infinite tolerance, duplicate names, a plant
/// whose own integration is unstable — refused or reported by name, never a null in the JSON.
#[test]
fn overflowing_settings_and_unstable_plants_are_named() {
    let d = temp_dir("mpc-probe");
    setup(&d);
    let model = d.join("model.json");
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let run_with = |settings: &Path, extra: &[&str]| {
        let mut args = vec![
            "mpc",
            "--model",
            s(&model),
            "--settings",
            s(settings),
            "--x0",
            "12.5,6.8,37.5",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let far = write(
        "far.toml",
        &SETTINGS.replace(
            "target = [8.48528137423857, 8.48528137423857, 27.0]",
            "target = [1e200, 0.0, 0.0]",
        ),
    );
    refused(&run_with(&far, &[]), &["target", "fourth root"]);
    let heavy = write(
        "heavy.toml",
        &SETTINGS.replace("q = [1.0, 1.0, 1.0]", "q = [1e308, 1.0, 1.0]"),
    );
    refused(&run_with(&heavy, &[]), &["q", "fourth root"]);
    let endless = write("endless.toml", &format!("{SETTINGS}tol = inf\n"));
    refused(&run_with(&endless, &[]), &["tol", "finite"]);
    let twice = write(
        "twice.json",
        &std::fs::read_to_string(&model).unwrap().replacen("\"y\"", "\"x\"", 1),
    );
    refused(
        &run_with(&d.join("ctrl.toml"), &["--plant", s(&twice)]),
        &["`x` appears twice"],
    );
    // A plant integrated too coarsely for where it starts: the message names its integration too.
    let o = run(&[
        "mpc",
        "--model",
        s(&model),
        "--settings",
        s(&d.join("ctrl.toml")),
        "--x0",
        "1e5,1e5,1e5",
        "--plant-substeps",
        "1",
    ]);
    refused(&o, &["plant", "diverged", "RK4 steps per period"]);
}
