//! Helpers shared by the test crates: the command-line tests' (`cli.rs`, `hostile.rs`,
//! `hostile_subcommands.rs`) and the reference tests' readers of committed fixtures (`*_reference.rs`);
//! each test crate compiles this module and uses a part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use ndarray::{Array1, Array2};
use serde_json::Value;

/// The committed fixture `tests/fixtures/{name}` (JSON written by the script beside it).
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A fixture's matrix, a JSON list of rows.
pub fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    Array2::from_shape_vec((rows.len(), rows[0].len()), rows.concat()).unwrap()
}

/// A fixture's vector, a JSON list.
pub fn vector(v: &Value) -> Array1<f64> {
    serde_json::from_value::<Vec<f64>>(v.clone()).unwrap().into()
}

/// Runs the `sparsimony` program with `args` and the extra environment `env`, from the package root.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparsimony"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// Runs the `sparsimony` program with `args`, from the package root.
pub fn run(args: &[&str]) -> Output {
    run_env(args, &[])
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A refusal: exit status 1, no panic, and a message holding every one of `words`.
pub fn refused(o: &Output, words: &[&str]) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(!e.contains("panicked"), "{e}");
    for w in words {
        assert!(e.contains(w), "`{w}` missing from: {e}");
    }
}

/// A fresh folder for this test crate and process, named `name`.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "sparsimony-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}
