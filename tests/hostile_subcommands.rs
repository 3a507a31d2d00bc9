//! The command line under hostile input, second round (issue 39): the subcommands `ldp`, `langevin` and
//! `radio`, data loss, sizes whose product overflows, sizes beyond memory, work that would not end, answers
//! that mean nothing, and messages that blame the wrong thing. Each class has its test; the sweep at the end
//! sets every numeric flag of those subcommands to each hostile value in turn and asserts the properties
//! every run must have: it ends (in seconds: a refusal, or a small run), with exit 0, 1 or 2, never a
//! panic, and exit 0 only with finite numbers in its JSON. The `ldp` runs pass `--scale given`: they aim at
//! other flags with a few hundred users, too few to learn the data's scales privately (that refusal is
//! tested in `tests/cli.rs`).
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{refused, run, run_env, stderr, temp_dir as dir};

/// A refusal that came at once (before any allocation or work of the size asked for).
fn refused_at_once(args: &[&str], words: &[&str]) {
    let start = Instant::now();
    let o = run(args);
    refused(&o, words);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{args:?} took {:?}",
        start.elapsed()
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A small simulated observation in `d`: vis.csv, bright.npy, truth.npy.
fn small_observation(d: &Path) {
    let o = run(&[
        "radio",
        "simulate",
        "--out",
        s(d),
        "--antennas",
        "12",
        "--image-size",
        "40",
        "--dde-size",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Data loss: no output replaces an input, by any spelling of its path; the input is left byte for byte.
#[test]
fn outputs_never_replace_inputs() {
    let d = dir("loss");
    small_observation(&d);
    let vis = d.join("vis.csv");
    let before = std::fs::read(&vis).unwrap();
    let bright = d.join("bright.npy");
    let spelled = d.join(".").join("vis.csv");
    #[cfg(unix)]
    let hard = {
        let h = d.join("hard.csv");
        let _ = std::fs::remove_file(&h);
        std::fs::hard_link(&vis, &h).unwrap();
        h
    };
    let mut cases = vec![(vis.clone(), "--vis"), (spelled, "--vis"), (bright.clone(), "--bright")];
    #[cfg(unix)]
    cases.push((hard, "--vis"));
    for (out, input_flag) in cases {
        let o = run(&[
            "radio",
            "calibrate",
            "--vis",
            s(&vis),
            "--bright",
            s(&bright),
            "--dde-size",
            "3",
            "--out",
            s(&out),
        ]);
        refused(&o, &["--out", input_flag, "refusing to overwrite an input"]);
    }
    // The plot onto the truth, and the two outputs onto one file.
    let truth = d.join("truth.npy");
    let o = run(&[
        "radio",
        "calibrate",
        "--vis",
        s(&vis),
        "--bright",
        s(&bright),
        "--truth",
        s(&truth),
        "--plot",
        s(&truth.with_extension("svg")),
        "--out",
        s(&truth.with_extension("svg")),
    ]);
    refused(&o, &["--out", "--plot", "give each output its own file"]);
    assert_eq!(std::fs::read(&vis).unwrap(), before, "the visibilities changed");
    // The other subcommands that write files.
    let data = d.join("traj.csv");
    std::fs::write(&data, "t,x\n0,1\n0.1,0.9\n0.2,0.81\n0.3,0.73\n0.4,0.66\n0.5,0.59\n").unwrap();
    let o = run(&["sindy", "--data", s(&data), "--t-column", "t", "--export", s(&data)]);
    refused(&o, &["--export", "--data"]);
    let problem = d.join("p.svg");
    std::fs::write(&problem, "not a problem").unwrap();
    let o = run(&["pde", "--problem", s(&problem), "--plot", s(&problem)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&problem).unwrap(), "not a problem");
}

/// Sizes whose product overflows: refused with the flag named, no panic.
#[test]
fn sizes_whose_product_overflows_are_refused() {
    let d = dir("overflow");
    let max = "18446744073709551615";
    refused_at_once(
        &[
            "ldp", "simulate", "--scale", "given", "--d", max, "--n", "100", "--k", "2",
        ],
        &["--d"],
    );
    refused_at_once(&["langevin", "simulate", "--d", max, "--k", "2"], &["--d"]);
    refused_at_once(
        &["radio", "simulate", "--out", s(&d), "--image-size", "4294967297"],
        &["--image-size"],
    );
    refused_at_once(
        &["radio", "simulate", "--out", s(&d), "--dde-size", max],
        &["--dde-size"],
    );
}

/// Sizes beyond memory: refused before allocating, with the size.
#[test]
fn sizes_beyond_memory_are_refused_before_allocating() {
    let d = dir("memory");
    refused_at_once(
        &[
            "ldp",
            "simulate",
            "--scale",
            "given",
            "--method",
            "noninteractive",
            "--d",
            "100000",
            "--n",
            "10",
            "--k",
            "2",
            // The server's 10d³ would also trip the work limit; the memory check is the one under test.
            "--no-work-limit",
        ],
        &["--n/--d", "GiB"],
    );
    refused_at_once(
        &[
            "ldp",
            "simulate",
            "--scale",
            "given",
            "--method",
            "public",
            "--public-n",
            "1000000000000000",
            "--d",
            "10",
            "--n",
            "1000",
            "--k",
            "2",
        ],
        &["--n or --d (or --public-n)"],
    );
    refused_at_once(
        &["radio", "simulate", "--out", s(&d), "--image-size", "30000"],
        &["--image-size", "GiB"],
    );
    refused_at_once(
        &["radio", "simulate", "--out", s(&d), "--antennas", "14000"],
        &["--antennas", "GiB"],
    );
    refused_at_once(
        &["langevin", "simulate", "--d", "1000", "--n", "1000000", "--k", "2"],
        &["--time", "--n"],
    );
    // A visibilities file with one antenna index of 10⁸: the DDE arrays would be sized by it.
    small_observation(&d);
    let vis = d.join("vis.csv");
    let text = std::fs::read_to_string(&vis).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let fields: Vec<&str> = lines[1].split(',').collect();
    lines[1] = format!("{},100000000,{}", fields[0], fields[2..].join(","));
    let sparse = d.join("sparse.csv");
    std::fs::write(&sparse, lines.join("\n")).unwrap();
    refused_at_once(
        &[
            "radio",
            "calibrate",
            "--vis",
            s(&sparse),
            "--bright",
            s(&d.join("bright.npy")),
            "--dde-size",
            "3",
        ],
        &["--vis", "antennas", "GiB"],
    );
}

/// Work that would not end in a working day is refused before it starts, with its estimate and the flags
/// to reduce (or `--no-work-limit`); a stated range for iteration counts.
#[test]
fn work_that_would_not_end_is_refused_with_its_estimate() {
    refused_at_once(
        &[
            "ldp",
            "simulate",
            "--scale",
            "given",
            "--n",
            "1000000000000000",
            "--d",
            "10",
            "--k",
            "2",
        ],
        &["operations", "--n", "--no-work-limit"],
    );
    refused_at_once(
        &[
            "langevin", "simulate", "--d", "10", "--k", "2", "--time", "1e9", "--step", "0.001",
        ],
        &["operations", "--time", "--step"],
    );
    refused_at_once(
        &["pde", "--benchmark", "heat_1d", "--grid", "3000,3000"],
        &["operations", "--grid"],
    );
    // A grid too small for the operator, or beyond memory, is blamed on the flag the user typed.
    for grid in ["0", "1,20", "100000000"] {
        refused_at_once(&["pde", "--benchmark", "heat_1d", "--grid", grid], &["--grid:"]);
    }
    let o = run(&["pde", "--benchmark", "heat_1d", "--iters", "18446744073709551615"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--iters"), "{}", stderr(&o));
}

/// Ctrl-C (SIGINT) ends a long run at once: nothing in the program blocks or catches it.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_long_run() {
    use std::os::unix::process::ExitStatusExt as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sparsimony"))
        .args([
            "--no-work-limit",
            "langevin",
            "simulate",
            "--d",
            "50",
            "--k",
            "2",
            "--time",
            "1e7",
            "--step",
            "0.01",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "the run ended before the signal");
    let sent = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.signal(), Some(2), "{status:?}");
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(1),
            "still running 1 s after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Settings at which the answer would mean nothing are refused (or, where they still make sense, answered
/// with finite numbers): extreme ε, a sparsity factor that overflowed, no public users, a step past the
/// horizon, data with nothing to fit, visibilities that overflow, an SNR against a zero faint part.
#[test]
fn meaningless_answers_are_refused() {
    for eps in ["1e308", "1e10", "710", "1e-17", "1e-300"] {
        refused_at_once(
            &[
                "ldp",
                "simulate",
                "--scale",
                "given",
                "--n",
                "2000",
                "--d",
                "10",
                "--k",
                "2",
                "--epsilon",
                eps,
                "--json",
            ],
            &["--epsilon", "must lie in"],
        );
    }
    // k′ = factor · k saturates at d (keep every coordinate) rather than wrapping to 0.
    let o = run(&[
        "ldp",
        "simulate",
        "--scale",
        "given",
        "--n",
        "20000",
        "--d",
        "10",
        "--k",
        "2",
        "--sparsity-factor",
        "9223372036854775808",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["support"].as_array().unwrap().len(), 2, "{v}");
    assert!(v["l2_error"].as_f64().unwrap().is_finite(), "{v}");
    refused_at_once(
        &[
            "ldp",
            "simulate",
            "--scale",
            "given",
            "--method",
            "public",
            "--n",
            "2000",
            "--d",
            "10",
            "--k",
            "2",
            "--public-n",
            "0",
        ],
        &["--public-n"],
    );
    // A clip of 1e100 leaves the ℓ2 radius of x at √d + 1 but makes y's noise astronomical: the answer
    // is finite, and says it is noise.
    let o = run(&[
        "ldp",
        "simulate",
        "--scale",
        "given",
        "--method",
        "noninteractive",
        "--n",
        "2000",
        "--d",
        "10",
        "--k",
        "2",
        "--clip",
        "1e100",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["trusted"], serde_json::json!(false), "{v}");
    assert!(stderr(&o).contains("not to be trusted"), "{}", stderr(&o));
    refused_at_once(
        &["langevin", "simulate", "--d", "10", "--k", "2", "--step", "500"],
        &["--step", "horizon"],
    );
    let d = dir("meaningless");
    let zeros_x = d.join("x0.csv");
    let x = d.join("x.csv");
    let zeros_y = d.join("y0.csv");
    let y = d.join("y.csv");
    let rows = |f: &dyn Fn(usize) -> String| (0..50).map(f).collect::<Vec<_>>().join("\n");
    std::fs::write(&zeros_x, format!("a,b,c\n{}\n", rows(&|_| "0,0,0".into()))).unwrap();
    std::fs::write(
        &x,
        format!("a,b,c\n{}\n", rows(&|i| format!("{},{},{}", i % 7, i % 3, i % 5))),
    )
    .unwrap();
    std::fs::write(&zeros_y, format!("y\n{}\n", rows(&|_| "0".into()))).unwrap();
    std::fs::write(&y, format!("y\n{}\n", rows(&|i| format!("{}", (i % 4) as f64 - 1.5)))).unwrap();
    let o = run(&[
        "langevin",
        "fit",
        "--x",
        s(&zeros_x),
        "--y",
        s(&y),
        "--link",
        "hermite1",
    ]);
    refused(&o, &["x0.csv", "all zero"]);
    let o = run(&[
        "langevin",
        "fit",
        "--x",
        s(&x),
        "--y",
        s(&zeros_y),
        "--link",
        "hermite1",
    ]);
    refused(&o, &["y0.csv", "constant"]);
    refused_at_once(
        &[
            "radio",
            "simulate",
            "--out",
            s(&d),
            "--snr",
            "-1e308",
            "--antennas",
            "12",
            "--image-size",
            "40",
            "--dde-size",
            "3",
        ],
        &["--snr", "dB"],
    );
    refused_at_once(
        &[
            "radio",
            "simulate",
            "--out",
            s(&d),
            "--galaxy",
            "1e308",
            "--antennas",
            "12",
            "--image-size",
            "40",
            "--dde-size",
            "3",
        ],
        &["--galaxy"],
    );
    small_observation(&d);
    let bright = d.join("bright.npy");
    refused_at_once(
        &[
            "radio",
            "calibrate",
            "--vis",
            s(&d.join("vis.csv")),
            "--bright",
            s(&bright),
            "--truth",
            s(&bright),
            "--dde-size",
            "3",
        ],
        &["--truth", "--bright", "faint part is zero"],
    );
}

/// Messages name what the user typed or can change: the flag, or the file's line and column.
#[test]
fn messages_blame_what_the_user_can_change() {
    refused_at_once(
        &[
            "ldp", "simulate", "--scale", "given", "--n", "100", "--d", "0", "--k", "2",
        ],
        &["--d", "at least 1"],
    );
    refused_at_once(
        &[
            "ldp", "simulate", "--scale", "given", "--n", "0", "--d", "10", "--k", "2",
        ],
        &["--n", "at least 1"],
    );
    refused_at_once(
        &["langevin", "simulate", "--d", "10", "--k", "2", "--step", "1e-12"],
        &["--step", "steps"],
    );
    refused_at_once(
        &[
            "ldp", "simulate", "--scale", "given", "--n", "2000", "--d", "10", "--k", "2", "--clip", "1e-300",
        ],
        &["--clip"],
    );
    // The core's `sensitivity` of the Gaussian mechanism, set by the clip.
    refused_at_once(
        &[
            "ldp",
            "simulate",
            "--scale",
            "given",
            "--method",
            "noninteractive",
            "--n",
            "2000",
            "--d",
            "10",
            "--k",
            "2",
            "--clip",
            "1e308",
        ],
        &["--clip", "sensitivity"],
    );
    // Negative numbers reach the flag's own check instead of reading as unknown options, in every form.
    for (args, words) in [
        (
            &[
                "ldp", "simulate", "--scale", "given", "--n", "100", "--d", "5", "--k", "1", "--noise", "-inf",
            ][..],
            &["--noise", "got -inf"][..],
        ),
        (
            &["langevin", "simulate", "--d", "5", "--k", "1", "--step", "-1e-300"],
            &["--step"],
        ),
        (
            &[
                "ldp", "simulate", "--scale", "given", "--n", "100", "--d", "5", "--k", "-inf",
            ],
            &["--k"],
        ),
    ] {
        let o = run(args);
        assert!(!stderr(&o).contains("unexpected argument"), "{args:?}: {}", stderr(&o));
        for w in words {
            assert!(stderr(&o).contains(w), "{args:?}: `{w}` missing from {}", stderr(&o));
        }
    }
    for args in [
        &["pde", "--benchmark", "heat_1d", "--grid", "-1"][..],
        &[
            "regress",
            "--x",
            "data/diabetes_X.csv",
            "--y",
            "data/diabetes_y.csv",
            "--alpha",
            "-1",
        ],
        &["--threads", "-1", "pde", "--list"],
    ] {
        let o = run(args);
        assert!(
            !stderr(&o).contains("unexpected argument '-1'"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(o.status.code() == Some(1) || o.status.code() == Some(2), "{args:?}");
    }
    // A NaN in a user's file is reported at its line and column name.
    let d = dir("messages");
    let x = d.join("x.csv");
    let y = d.join("y.csv");
    let mut text = String::from("a,b\n");
    for i in 0..40 {
        text.push_str(&if i == 7 {
            "1,nan\n".to_string()
        } else {
            format!("{},{}\n", i % 5, i % 3)
        });
    }
    std::fs::write(&x, text).unwrap();
    std::fs::write(
        &y,
        format!("y\n{}", (0..40).map(|i| format!("{}\n", i % 2)).collect::<String>()),
    )
    .unwrap();
    for sub in [
        &["ldp", "fit", "--scale", "given", "--k", "1"][..],
        &["langevin", "fit", "--link", "hermite1"],
    ] {
        let mut args = sub.to_vec();
        args.extend(["--x", s(&x), "--y", s(&y)]);
        let o = run(&args);
        refused(&o, &["x.csv, line 9, column `b`"]);
    }
}

/// What a probe of the newer subcommands found after the first round: each refused, naming the flag or
/// the file's line and column.
#[test]
fn the_probe_s_second_findings_are_refused_clearly() {
    let d = dir("probe");
    small_observation(&d);
    let (vis, bright) = (d.join("vis.csv"), d.join("bright.npy"));
    let calibrate = |extra: &[&str]| {
        let mut args = vec!["radio", "calibrate", "--vis", s(&vis), "--bright", s(&bright)];
        args.extend(extra);
        run(&args)
    };
    refused(
        &calibrate(&["--dde-size", "21"]),
        &["--dde-size", "quarter of the image side"],
    );
    let o = calibrate(&["--max-outer", "18446744073709551615"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A visibility out of range, or out of scale, is said at its line and column of the file.
    let lines: Vec<String> = std::fs::read_to_string(&vis)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let edit = |name: &str, col: usize, value: &str, keep: usize| {
        let mut f: Vec<String> = lines[1].split(',').map(String::from).collect();
        f[col] = value.into();
        let mut text = vec![lines[0].clone(), f.join(",")];
        text.extend(lines[2..keep.min(lines.len())].iter().cloned());
        let path = d.join(name);
        std::fs::write(&path, text.join("\n") + "\n").unwrap();
        path
    };
    let far = edit("far.csv", 3, "1000", usize::MAX);
    let o = run(&[
        "radio",
        "calibrate",
        "--vis",
        s(&far),
        "--bright",
        s(&bright),
        "--dde-size",
        "3",
    ]);
    refused(&o, &["far.csv, line 2, column `u`", "(u, v) = (1000"]);
    let big = edit("big.csv", 5, "1e200", usize::MAX);
    let o = run(&[
        "radio",
        "calibrate",
        "--vis",
        s(&big),
        "--bright",
        s(&bright),
        "--dde-size",
        "3",
    ]);
    refused(&o, &["big.csv, line 2, column `re`", "beyond ±1e100"]);
    // One visibility (two antennas): no closure, nothing to calibrate.
    let one = edit("one.csv", 5, "1", 2);
    let o = run(&[
        "radio",
        "calibrate",
        "--vis",
        s(&one),
        "--bright",
        s(&bright),
        "--dde-size",
        "3",
    ]);
    refused(&o, &["at least 3"]);
    // Outputs that cannot be files are refused before the work.
    let start = Instant::now();
    refused(&calibrate(&["--out", s(&d)]), &["--out", "is a folder"]);
    refused(
        &calibrate(&["--out", s(&d.join("no/such/x.fits"))]),
        &["--out", "folder does not exist"],
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    #[cfg(unix)]
    {
        let fifo = d.join("fifo.svg");
        let _ = std::fs::remove_file(&fifo);
        if Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
            refused(&calibrate(&["--plot", s(&fifo)]), &["--plot", "FIFO"]);
        }
    }
    // LDP: all-zero features, too few public records, a NaN in the public file located there.
    let rows = |f: &dyn Fn(usize) -> String| (0..60).map(f).collect::<Vec<_>>().join("\n");
    let (x0, x, y) = (d.join("x0.csv"), d.join("x.csv"), d.join("y.csv"));
    std::fs::write(&x0, format!("a,b,c\n{}\n", rows(&|_| "0,0,0".into()))).unwrap();
    std::fs::write(
        &x,
        format!("a,b,c\n{}\n", rows(&|i| format!("{},{},{}", i % 7, i % 3, i % 5))),
    )
    .unwrap();
    std::fs::write(&y, format!("y\n{}\n", rows(&|i| format!("{}", i % 4)))).unwrap();
    let o = run(&[
        "ldp",
        "fit",
        "--scale",
        "given",
        "--x",
        s(&x0),
        "--y",
        s(&y),
        "--k",
        "1",
    ]);
    refused(&o, &["x0.csv", "all zero"]);
    let (p1, pnan) = (d.join("p1.csv"), d.join("pnan.csv"));
    std::fs::write(&p1, "a,b,c\n1,2,3\n").unwrap();
    std::fs::write(&pnan, "a,b,c\n1,2,3\n4,nan,6\n7,8,9\n1,1,2\n").unwrap();
    for (public, words) in [
        (&p1, &["p1.csv", "1 record(s) of 3 features"][..]),
        (&pnan, &["pnan.csv, line 3, column `b`", "not a finite number"]),
    ] {
        let o = run(&[
            "ldp",
            "fit",
            "--scale",
            "given",
            "--method",
            "public",
            "--x",
            s(&x),
            "--y",
            s(&y),
            "--k",
            "1",
            "--public",
            s(public),
        ]);
        refused(&o, words);
    }
    // Langevin: no signal, a link beyond scale, a degree beyond 30, one sample.
    let base = ["langevin", "simulate", "--d", "5", "--time", "10"];
    for (extra, words) in [
        (&["--k", "2", "--signal", "0"][..], &["--signal", "pure diffusion"][..]),
        (&["--k", "4294967297"], &["--k", "1..=30"]),
        (&["--k", "2", "--n", "1"], &["--n", "at least 2"]),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        refused(&run(&args), words);
    }
    let o = run(&["langevin", "fit", "--x", s(&x), "--y", s(&y), "--link", "1e308,1e308"]);
    refused(&o, &["--link", "within ±1e6"]);
}

/// The thread count from `RAYON_NUM_THREADS` is checked as `--threads` is: a clear error, never rayon's
/// panic.
#[test]
fn thread_counts_from_the_environment_are_checked() {
    for (value, words) in [
        ("1000000", &["RAYON_NUM_THREADS=1000000", "1..=4096"][..]),
        ("lots", &["RAYON_NUM_THREADS=lots", "not a thread count"]),
    ] {
        let o = run_env(&["pde", "--list"], &[("RAYON_NUM_THREADS", value)]);
        refused(&o, words);
    }
    let o = run_env(&["pde", "--list"], &[("RAYON_NUM_THREADS", "2")]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `--help` and `--version` into a full disk fail (exit 1) instead of exiting 0 with nothing written.
#[test]
fn help_into_a_full_disk_is_an_error() {
    if !Path::new("/dev/full").exists() {
        eprintln!("SKIPPED: no /dev/full on this system");
        return;
    }
    for flag in ["--help", "--version"] {
        let o = Command::new(env!("CARGO_BIN_EXE_sparsimony"))
            .arg(flag)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{flag}: {}", stderr(&o));
        assert!(stderr(&o).contains("cannot write the output"), "{}", stderr(&o));
    }
}

/// Every number in a JSON value, recursively; `null` counts as a non-finite number (serde_json writes NaN
/// and ±∞ as null).
fn all_finite(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => false,
        serde_json::Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
        serde_json::Value::Array(a) => a.iter().all(all_finite),
        serde_json::Value::Object(o) => o.values().all(all_finite),
        _ => true,
    }
}

/// The sweep: each numeric flag of the newer subcommands set to each hostile value, the rest small and
/// valid. Every run ends within its time limit, exits 0, 1 or 2 without a panic, and a run that exits 0
/// prints finite JSON.
#[test]
fn every_numeric_flag_takes_every_hostile_value() {
    let d = dir("sweep");
    small_observation(&d);
    let out = d.join("out");
    let (vis, bright) = (d.join("vis.csv"), d.join("bright.npy"));
    let hostile = [
        "0",
        "-1",
        "nan",
        "inf",
        "-inf",
        "1e308",
        "1e-300",
        "18446744073709551615",
        "2.5",
        "",
    ];
    // Each subcommand: its fixed arguments, and its numeric flags with small valid values.
    type Flags<'a> = Vec<(&'a str, &'a str)>;
    let subcommands: Vec<(Vec<&str>, Flags)> = vec![
        (
            vec!["ldp", "simulate", "--scale", "given", "--json"],
            vec![
                ("--n", "3000"),
                ("--d", "8"),
                ("--k", "2"),
                ("--epsilon", "2"),
                ("--noise", "1"),
                ("--clip", "2"),
                ("--rounds", "3"),
                ("--sparsity-factor", "2"),
                ("--radius", "3"),
                ("--seed", "1"),
                ("--data-seed", "2"),
            ],
        ),
        (
            vec!["ldp", "simulate", "--scale", "given", "--json", "--method", "public"],
            vec![
                ("--n", "3000"),
                ("--d", "8"),
                ("--k", "2"),
                ("--delta", "1e-6"),
                ("--public-n", "300"),
            ],
        ),
        (
            vec!["langevin", "simulate", "--json"],
            vec![
                ("--d", "8"),
                ("--k", "2"),
                ("--n", "300"),
                ("--noise", "0.1"),
                ("--signal", "3"),
                ("--step", "0.05"),
                ("--time", "20"),
                ("--seed", "1"),
            ],
        ),
        (
            vec!["langevin", "simulate", "--json", "--model", "tensor-pca"],
            vec![("--d", "8"), ("--k", "3"), ("--n", "300"), ("--time", "20")],
        ),
        (
            vec!["radio", "simulate", "--json", "--out", s(&out)],
            vec![
                ("--antennas", "10"),
                ("--times", "1"),
                ("--image-size", "40"),
                ("--dde-size", "3"),
                ("--snr", "100"),
                ("--galaxy", "5"),
                ("--seed", "3"),
            ],
        ),
        (
            vec!["radio", "calibrate", "--json", "--vis", s(&vis), "--bright", s(&bright)],
            vec![
                ("--dde-size", "3"),
                ("--max-outer", "2"),
                ("--joint-steps", "2"),
                ("--eta", "1e-4"),
                ("--grid-size", "50"),
            ],
        ),
    ];
    let (mut runs, mut answered) = (0, 0);
    for (base, flags) in &subcommands {
        for k in 0..flags.len() {
            for bad in hostile {
                let mut args: Vec<&str> = base.clone();
                for (j, (flag, value)) in flags.iter().enumerate() {
                    args.extend([*flag, if j == k { bad } else { *value }]);
                }
                let start = Instant::now();
                let o = run(&args);
                runs += 1;
                let e = stderr(&o);
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "{args:?} took {:?}",
                    start.elapsed()
                );
                assert!(!e.contains("panicked"), "{args:?}: {e}");
                match o.status.code() {
                    Some(0) => {
                        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
                            .unwrap_or_else(|err| panic!("{args:?}: {err}: {}", String::from_utf8_lossy(&o.stdout)));
                        assert!(all_finite(&v), "{args:?} exited 0 with non-finite numbers: {v}");
                        answered += 1;
                    }
                    Some(1) | Some(2) => assert!(e.starts_with("error"), "{args:?}: {e}"),
                    other => panic!("{args:?}: exit {other:?}: {e}"),
                }
            }
        }
    }
    // The sweep reaches the fits, not only the checks: values such as 0 for a seed or 2.5 for a float
    // are valid, and those runs answer.
    assert!(runs > 300 && answered > 40, "{runs} runs, {answered} answered");
}
