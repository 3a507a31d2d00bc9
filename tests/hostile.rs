//! The command line under hostile input: one test per class of issue 14 at least, each
//! asserting the exit code and that the message names the thing the user typed or can change. (Output
//! that cannot be written — a closed pipe, a full disk — is in `cli.rs`.)
use sparsimony::solvers::Estimator;
use std::path::PathBuf;
use std::time::{Duration, Instant};

mod common;
use common::{refused, run_env as run, stderr, stdout};

fn file(name: &str, text: &str) -> PathBuf {
    bytes_file(name, text.as_bytes())
}

fn bytes_file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = common::temp_dir("files").join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A `.npy` file (format 1.0) whose header says `descr` and `shape`, followed by `data` bytes — which need
/// not agree with the header.
fn npy(name: &str, descr: &str, shape: &str, data: usize) -> PathBuf {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend((0..data).map(|i| if i % 8 == 7 { 0x3f } else { 0 }));
    bytes_file(name, &bytes)
}

/// Class 2, panics inside dependencies: a `WGPU_ADAPTER_NAME` that matches no adapter (wgpu's own helper
/// panics) is an error naming the variable and the adapters there are.
#[test]
fn an_adapter_name_that_matches_nothing_is_an_error() {
    let o = run(&["devices"], &[("WGPU_ADAPTER_NAME", "no-such-gpu-anywhere")]);
    refused(&o, &["WGPU_ADAPTER_NAME", "no-such-gpu-anywhere"]);
}

/// Class 3, sizes beyond memory: refused before anything is allocated, in well under a second, with the
/// size it would have needed.
#[test]
fn sizes_beyond_memory_are_refused_before_allocating() {
    let start = Instant::now();
    let o = run(
        &["pde", "--benchmark", "poisson_2d-sin_sin", "--grid", "100000,100000"],
        &[],
    );
    refused(&o, &["100000 × 100000", "GiB", "fewer points"]);
    let header: Vec<String> = (0..30).map(|j| format!("s{j}")).collect();
    let rows: Vec<String> = (0..40)
        .map(|i| {
            // Column 0 is the (increasing) time.
            (0..31)
                .map(|j| {
                    if j == 0 {
                        i.to_string()
                    } else {
                        ((i * 7 + j * 3) % 11).to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let csv = file("wide.csv", &format!("t,{}\n{}\n", header.join(","), rows.join("\n")));
    let o = run(
        &[
            "sindy",
            "--data",
            csv.to_str().unwrap(),
            "--t-column",
            "t",
            "--degree",
            "10",
        ],
        &[],
    );
    refused(&o, &["8.477e8 terms", "lower the degree"]);
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());
}

/// Class 4, non-finite or meaningless results with exit 0: data whose squares overflow is refused with the
/// advice to rescale; a column without a finite value has no statistics (not `inf`/`-inf`); an exact
/// solution that is not finite on the test grid is an error, not `rel_l2_error: null`.
#[test]
fn numbers_are_finite_or_the_run_says_why() {
    let x = file("x.csv", "a,b\n1,2\n2,3\n4,5\n");
    let y = file("y.csv", "y\n1e308\n-1e308\n1e308\n");
    let o = run(
        &[
            "regress",
            "--x",
            x.to_str().unwrap(),
            "--y",
            y.to_str().unwrap(),
            "--alpha",
            "0.1",
        ],
        &[],
    );
    refused(&o, &["y", "1e308", "rescale"]);

    let nan = file("nan.csv", "a,b\nnan,1\nnan,2\n");
    let o = run(&["inspect", nan.to_str().unwrap(), "--json"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(
        v["columns"][0]["min"].is_null() && v["columns"][0]["max"].is_null(),
        "{v}"
    );
    assert_eq!(v["columns"][0]["non_finite"], 2);

    // A pole at x = 1: a point of the 300-point test grid on [0, 299], none of the 20 collocation points.
    let toml = file(
        "pole.toml",
        "name = \"pole\"\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 299\npoints = 20\n[[equation]]\n\
         operator = \"u_xx\"\n[exact]\nu = \"1/(x - 1)\"\n",
    );
    let o = run(
        &[
            "pde",
            "--problem",
            toml.to_str().unwrap(),
            "--iters",
            "1",
            "--components",
            "2",
        ],
        &[],
    );
    refused(&o, &["exact solution", "not finite", "test point 1"]);
}

/// Class 5, options that are ignored or contradict each other: refused by the flag names.
#[test]
fn contradicting_options_are_refused() {
    let x = file("x5.csv", "a,b\n1,2\n2,3\n4,5\n5,4\n");
    let y = file("y5.csv", "y\n1\n2\n3\n4\n");
    let (xs, ys) = (x.to_str().unwrap(), y.to_str().unwrap());
    let o = run(&["regress", "--x", xs, "--y", ys, "--method", "omp", "--positive"], &[]);
    refused(&o, &["--positive", "omp"]);
    let o = run(
        &[
            "regress",
            "--x",
            xs,
            "--y",
            ys,
            "--method",
            "best-subset",
            "--k",
            "1",
            "--gpu",
        ],
        &[],
    );
    refused(&o, &["--gpu", "best-subset"]);

    let traj = file("traj.csv", "t,x,u\n0,1,0\n1,2,1\n2,3,0\n3,4,1\n4,5,0\n5,6,1\n");
    let o = run(
        &[
            "sindy",
            "--data",
            traj.to_str().unwrap(),
            "--t-column",
            "t",
            "--control",
            "t",
        ],
        &[],
    );
    refused(&o, &["--control `t`", "--t-column"]);
    let o = run(
        &[
            "sindy",
            "--data",
            traj.to_str().unwrap(),
            "--t-column",
            "t",
            "--control",
            "u,u",
        ],
        &[],
    );
    refused(&o, &["`u` twice"]);
    let dup = file("dup.csv", "t,x,x\n0,1,2\n1,2,3\n2,3,5\n3,4,4\n");
    let o = run(&["sindy", "--data", dup.to_str().unwrap(), "--t-column", "t"], &[]);
    refused(&o, &["dup.csv", "line 1", "columns 2 and 3", "`x`"]);
}

/// Class 6, generated code that could be broken out of: a column name holding a line break reaches the
/// `--export` Rust file only escaped, inside its comment line.
#[test]
fn names_cannot_break_out_of_generated_code() {
    let rows: Vec<String> = (0..200)
        .map(|i| {
            let t = i as f64 * 0.01;
            format!("{t},{},{}", (t).sin(), (t).cos())
        })
        .collect();
    let csv = file(
        "inject.csv",
        &format!("t,\"a\n}} fn injected() {{}} mod x {{\",b\n{}\n", rows.join("\n")),
    );
    let out = csv.with_file_name("model.rs");
    let o = run(
        &[
            "sindy",
            "--data",
            csv.to_str().unwrap(),
            "--t-column",
            "t",
            "--export",
            out.to_str().unwrap(),
        ],
        &[],
    );
    // The command line refuses the name before any code is generated …
    refused(&o, &["would be mistaken for a library term"]);
    assert!(!out.exists());
    // … and the exporter escapes such a name all the same, wherever it comes from (defence in depth).
    use sparsimony::solvers::sindy::{Sindy, Time, Trajectory};
    let x = ndarray::Array2::from_shape_fn((200, 2), |(i, j)| {
        let t = i as f64 * 0.01;
        if j == 0 { t.sin() } else { t.cos() }
    });
    let fit = Sindy::default()
        .fit(&[Trajectory::new(x.view(), Time::Step(0.01))])
        .unwrap();
    let mut exported = fit.export().unwrap();
    exported.state_names[0] = "a\n} fn injected() {} mod x {".into();
    let src = exported.to_rust_source("model", "f64").unwrap();
    assert!(
        !src.lines().any(|l| l.trim_start().starts_with("} fn injected")),
        "{src}"
    );
    assert!(src.contains("\\n} fn injected"), "the name appears escaped: {src}");
    for line in src.lines().take_while(|l| !l.starts_with("#[allow")) {
        assert!(
            line.starts_with("//"),
            "a line of the header escaped its comment: {line}"
        );
    }
}

/// Class 7, messages that point at the wrong thing: a bad value the library finds is reported by file, line
/// (counted in the file, blank lines included) and column name; so are the reader's own errors.
#[test]
fn messages_name_the_file_line_and_column() {
    let x = file("x7.csv", "a,b\n1,2\n\n3,NaN\n5,6\n");
    let y = file("y7.csv", "y\n1\n2\n3\n");
    let o = run(
        &[
            "regress",
            "--x",
            x.to_str().unwrap(),
            "--y",
            y.to_str().unwrap(),
            "--alpha",
            "1",
        ],
        &[],
    );
    refused(&o, &["x7.csv, line 4, column `b`: not a finite number"]);
    let short = file("short7.csv", "a,b\r\n1,2\r\n\r\n3\r\n");
    let o = run(&["inspect", short.to_str().unwrap()], &[]);
    refused(&o, &["short7.csv, line 4", "1 field(s) where the header has 2"]);
    // A time that repeats, at its line under its column's name (it was "t[5] follows t[4]", 0-based, and
    // named `t` whatever the column).
    let times = file("times7.csv", "s,x,y\n0,1,2\n0.1,2,3\n0.1,3,1\n0.3,4,4\n0.4,2,5\n");
    let o = run(&["sindy", "--data", times.to_str().unwrap(), "--t-column", "s"], &[]);
    refused(&o, &["times7.csv, line 4, column `s`", "does not increase"]);
    // A source that is not finite on the grid, at the grid point in the axes' names.
    let pole = file(
        "pole7.toml",
        "name = \"pole\"\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 8\n[[equation]]\noperator = \"u_xx\"\nsource = \"1/x\"\n[boundary]\nu = \"0\"\n",
    );
    refused(
        &run(&["pde", "--problem", pole.to_str().unwrap()], &[]),
        &["source of equation 1", "x = 0"],
    );
}

/// Class 7 for `.npy`: a 3-D array, integers, a truncated file and a header that claims less than the file
/// holds are each named as what they are (all four were "incorrect descriptor ('<f8')" once).
#[test]
fn npy_files_are_refused_for_what_is_wrong_with_them() {
    let cases = [
        (
            npy("cube.npy", "<f8", "(2, 2, 2)", 64),
            "a 3-D array of shape [2, 2, 2]",
        ),
        (npy("ints.npy", "<i8", "(3,)", 24), "<i8"),
        (npy("short.npy", "<f8", "(10, 3)", 16), "truncated"),
        (npy("long.npy", "<f8", "(2,)", 40), "24 byte(s) after the data"),
    ];
    for (path, words) in &cases {
        let o = run(&["inspect", path.to_str().unwrap()], &[]);
        let name = path.file_name().unwrap().to_str().unwrap();
        refused(&o, &[name, words]);
    }
    // The same files' good twins are read: a 2-D f64 and a 1-D f32 array.
    for path in [
        npy("good2.npy", "<f8", "(2, 2)", 32),
        npy("good1.npy", "<f4", "(3,)", 12),
    ] {
        let o = run(&["inspect", path.to_str().unwrap()], &[]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
}

/// Class 5 for PDE problems: an operator that is identically zero, a parameter shadowed by an axis or a
/// field, and two axes or fields of one name are refused, each saying which.
#[test]
fn degenerate_pde_problems_are_refused() {
    let problem = |name: &str, fields: &str, params: &str, axes: &[&str], operator: &str| {
        let mut t = format!("name = \"{name}\"\n{fields}{params}");
        for a in axes {
            t += &format!("[[axis]]\nname = \"{a}\"\nlower = 0\nupper = 1\npoints = 8\n");
        }
        t += &format!("[[equation]]\noperator = \"{operator}\"\nsource = \"1\"\n[boundary]\nu = \"0\"\n");
        file(&format!("{name}.toml"), &t)
    };
    let cases = [
        (
            problem("zero", "", "", &["x"], "u_xx - u_xx"),
            vec!["`u_xx - u_xx`", "identically zero"],
        ),
        (problem("const", "", "", &["x"], "0*u_xx + 3"), vec!["holds no field"]),
        (
            problem("shadow", "", "parameters = { x = 2 }\n", &["x"], "u_xx + x*u"),
            vec!["parameter `x`", "an axis"],
        ),
        (
            problem("shadowu", "", "parameters = { u_x = 2 }\n", &["x"], "u_xx"),
            vec!["parameter `u_x`", "a field"],
        ),
        (
            problem("twoaxes", "", "", &["x", "x"], "u_xx"),
            vec!["two axes are named `x`"],
        ),
        (
            problem("twofields", "fields = [\"u\", \"u\"]\n", "", &["x"], "u_xx"),
            vec!["two fields are named `u`"],
        ),
    ];
    for (path, words) in &cases {
        let o = run(&["pde", "--problem", path.to_str().unwrap()], &[]);
        refused(&o, words);
    }
    let more = [
        (
            problem("pi", "", "parameters = { pi = 100 }\n", &["x"], "u_xx"),
            vec!["`pi`", "expression language"],
        ),
        (
            problem("unused", "fields = [\"u\", \"w\"]\n", "", &["x"], "u_xx"),
            vec!["field `w` appears in no equation"],
        ),
    ];
    for (path, words) in &more {
        let o = run(&["pde", "--problem", path.to_str().unwrap()], &[]);
        refused(&o, words);
    }
    // More fields than equations (issue 39: it solved to a relative error of 527 with exit 0).
    let under = file(
        "under.toml",
        "name = \"under\"\nfields = [\"u\", \"w\"]\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 8\n[[equation]]\noperator = \"u_xx + w\"\nsource = \"1\"\n[boundary]\nu = \"0\"\nw = \"0\"\n",
    );
    refused(
        &run(&["pde", "--problem", under.to_str().unwrap()], &[]),
        &["1 equation(s) for 2 fields", "one equation per field"],
    );
    let twice = file(
        "twice.toml",
        "name = \"twice\"\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 8\n[[equation]]\noperator = \"u_xx\"\nsource = \"1\"\n[boundary]\nu = \"0\"\nfaces = [\"x-\", \"x-\"]\n",
    );
    refused(
        &run(&["pde", "--problem", twice.to_str().unwrap()], &[]),
        &["`x-` is listed twice"],
    );
    // A face whose last character is not one byte (the name was once split at a byte offset: a panic).
    for (name, face) in [("accent", "é"), ("accent2", "xé"), ("accent3", "é+")] {
        let path = file(
            &format!("{name}.toml"),
            &format!(
                "name = \"{name}\"\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 8\n[[equation]]\noperator = \"u_xx\"\nsource = \"1\"\n[boundary]\nu = \"0\"\nfaces = [\"{face}\"]\n"
            ),
        );
        refused(
            &run(&["pde", "--problem", path.to_str().unwrap()], &[]),
            &[&format!("boundary face `{face}` is not an axis name")],
        );
    }
}

/// Class 5 for `sindy`: options its choices do not use are refused (each once changed nothing), and a time
/// step whose derivatives over- or underflow is refused instead of fitting zeros with R² = 1.
#[test]
fn sindy_refuses_options_it_would_ignore() {
    let lorenz = "data/lorenz.csv";
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["--t-column", "t", "--optimizer", "sr3", "--alpha", "0.5"],
            &["--alpha", "sr3"],
        ),
        (&["--t-column", "t", "--seed", "3"], &["--ensemble"]),
        (&["--discrete", "--diff", "savgol"], &["--diff", "--discrete"]),
        (&["--dt", "1e308"], &["time step", "1e100"]),
    ];
    for (extra, words) in cases {
        let mut args = vec!["sindy", "--data", lorenz];
        args.extend_from_slice(extra);
        let o = run(&args, &[]);
        let e = stderr(&o);
        assert!(!o.status.success() && !e.contains("panicked"), "{e}");
        for w in words {
            assert!(e.contains(w), "`{w}` missing from: {e}");
        }
    }
}

/// Class 5 for `regress`: every flag a method does not take, and every pair that contradicts, is refused by
/// name (each of these once changed nothing, or dropped one of the two).
#[test]
fn flags_a_method_does_not_take_are_refused() {
    let x = file("x5b.csv", "a,b,c\n1,2,0\n2,3,1\n4,5,0\n5,4,1\n3,1,1\n");
    let y = file("y5b.csv", "y\n1\n2\n3\n4\n2\n");
    let (xs, ys) = (x.to_str().unwrap(), y.to_str().unwrap());
    let cases: [(&[&str], &[&str]); 9] = [
        (&["--method", "omp", "--alpha", "0.1"], &["--alpha", "--method omp"]),
        (
            &["--method", "random-support", "--alpha", "0.1"],
            &["--alpha", "--method random-support"],
        ),
        (&["--method", "lasso", "--k", "2"], &["--k", "--method lasso"]),
        (
            &["--method", "lasso", "--l1-ratio", "0.5"],
            &["--l1-ratio", "--method lasso"],
        ),
        (
            &["--method", "stlsq", "--threshold", "0.1", "--tol", "1e-3"],
            &["--tol", "--method stlsq"],
        ),
        (
            &["--method", "best-subset", "--k", "1", "--max-iter", "0"],
            &["--max-iter", "--method best-subset"],
        ),
        (
            &["--method", "omp", "--k", "2", "--threshold", "1e-3"],
            &["--k and --threshold contradict"],
        ),
        (&["--alpha", "0.1", "--cv", "3"], &["--alpha and --cv contradict"]),
        (&["--alpha", "0.1", "--tol", "1e308"], &["--tol", "(0, 1)"]),
    ];
    for (extra, words) in cases {
        let mut args = vec!["regress", "--x", xs, "--y", ys];
        args.extend_from_slice(extra);
        refused(&run(&args, &[]), words);
    }
}

/// Class 7 for singular systems: a design with a duplicated column names the two columns (it said "matrix
/// is not positive definite: pivot 10"), and a constant y says why there is no α grid (it said `alpha grid`:
/// need n_alphas ≥ 1 …); library parameter names come back as the flags the user typed.
#[test]
fn singular_designs_and_degenerate_data_are_explained() {
    let x = file(
        "dup7.csv",
        "bmi,age,bmi_copy\n1,5,1\n2,3,2\n4,5,4\n5,1,5\n3,2,3\n7,7,7\n",
    );
    let y = file("ydup7.csv", "y\n1\n2\n3\n4\n2\n5\n");
    let (xs, ys) = (x.to_str().unwrap(), y.to_str().unwrap());
    for method in [
        ["--method", "stlsq", "--threshold", "1e-6"],
        ["--method", "iht", "--k", "3"],
    ] {
        let mut args = vec!["regress", "--x", xs, "--y", ys];
        args.extend_from_slice(&method);
        refused(
            &run(&args, &[]),
            &["dup7.csv", "columns `bmi` and `bmi_copy` are identical"],
        );
    }
    let flat = file("flat7.csv", "y\n2\n2\n2\n2\n2\n2\n");
    let o = run(&["regress", "--x", xs, "--y", flat.to_str().unwrap()], &[]);
    refused(&o, &["--alpha", "y is", "constant"]);
    let o = run(&["regress", "--x", xs, "--y", ys, "--cv", "1"], &[]);
    refused(&o, &["--cv"]);
    let o = run(
        &["pde", "--benchmark", "poisson_1d-single_sin", "--components", "0"],
        &[],
    );
    refused(&o, &["--components"]);
    let o = run(&["pde", "--benchmark", "poisson_1d-single_sin", "--lr=-1"], &[]);
    refused(&o, &["--lr"]);
}

/// Classes 1 and 3 in the readers and parsers: a 100 000-character column name prints (the table's width
/// formatting panicked), a `.npy` header that promises 10¹² values from a small file is refused before
/// allocating (it aborted on memory), and an expression nested 20 000 deep is refused (it overflowed the
/// stack).
#[test]
fn huge_names_headers_and_nesting_are_handled() {
    let long = file("long3.csv", &format!("{},b\n1,2\n3,4\n5,7\n", "a".repeat(100_000)));
    let o = run(&["inspect", long.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let y = file("ylong3.csv", "y\n1\n2\n3\n");
    let o = run(
        &[
            "regress",
            "--x",
            long.to_str().unwrap(),
            "--y",
            y.to_str().unwrap(),
            "--alpha",
            "0.1",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let t = Instant::now();
    let huge = npy("huge3.npy", "<f8", "(100000000000, 10)", 35_000);
    refused(
        &run(&["inspect", huge.to_str().unwrap()], &[]),
        &["huge3.npy", "truncated", "8000000000000 bytes"],
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    let deep = file(
        "deep3.toml",
        &format!(
            "name = \"deep\"\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 8\n[[equation]]\noperator = \"{}u_xx{}\"\nsource = \"1\"\n[boundary]\nu = \"0\"\n",
            "(".repeat(20_000),
            ")".repeat(20_000)
        ),
    );
    refused(
        &run(&["pde", "--problem", deep.to_str().unwrap()], &[]),
        &["deep3.toml", "at most 4096 characters"],
    );
    let minus = file(
        "minus3.toml",
        &format!(
            "name = \"minus\"\n[[axis]]\nname = \"x\"\nlower = 0\nupper = 1\npoints = 8\n[[equation]]\noperator = \"u_xx\"\n[exact]\nu = \"{}x\"\n",
            "-".repeat(3000)
        ),
    );
    refused(
        &run(&["pde", "--problem", minus.to_str().unwrap()], &[]),
        &["nested more than 100 deep"],
    );
}
