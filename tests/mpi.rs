//! The command-line program under `mpirun`: a 5-fold Lasso cross-validation, LDP simulations of 10⁷
//! users and radio self-calibration of the paper's simulation (quick size) on 1, 2 and 4 ranks (4
//! oversubscribed on CI's two cores) print and write exactly what one process prints and writes, and an
//! error ends every rank, with its message.
//!
//! Needs the `mpi` feature and OpenMPI (`openmpi-bin`, `libopenmpi-dev`, and `libclang-dev` for the
//! bindings), which `.ci/run` installs before running `cargo test --features mpi --test mpi`. Built without
//! the feature, the test says so and passes (the README's test command); with it but without `mpirun`, it
//! says so loudly and passes, except in CI (`CI=true`), where it fails.

#[cfg(not(feature = "mpi"))]
#[test]
fn mpi_runs_need_the_mpi_feature() {
    eprintln!(
        "\n*** SKIPPED: the MPI runs: built without the `mpi` feature; `cargo test --features mpi --test mpi` \
         runs them (CI does) ***\n"
    );
}

#[cfg(feature = "mpi")]
mod runs {
    use std::process::{Command, Output};

    const BIN: &str = env!("CARGO_BIN_EXE_sparsimony");

    /// `mpirun -n ranks sparsimony args…`, or `None` (and the skip said) without `mpirun`.
    fn mpirun(ranks: usize, args: &[&str]) -> Option<Output> {
        let run = Command::new("mpirun")
            .args(["--oversubscribe", "-n", &ranks.to_string(), BIN])
            .args(args)
            // CI runs as root, which OpenMPI refuses unless told.
            .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
            .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
            .output();
        match run {
            Ok(out) => Some(out),
            Err(e) => {
                let why = format!("mpirun cannot start ({e}): install openmpi-bin");
                assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {why}");
                eprintln!("\n*** SKIPPED: the MPI runs: {why} ***\n");
                None
            }
        }
    }

    /// One process, without MPI's launcher.
    fn alone(args: &[&str]) -> Output {
        Command::new(BIN).args(args).output().unwrap()
    }

    fn same_on_every_rank_count(args: &[&str]) {
        let reference = alone(args);
        assert!(
            reference.status.success(),
            "{}",
            String::from_utf8_lossy(&reference.stderr)
        );
        for ranks in [1, 2, 4] {
            let Some(out) = mpirun(ranks, args) else { return };
            assert!(
                out.status.success(),
                "{ranks} ranks: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&reference.stdout),
                "{ranks} ranks: {args:?}"
            );
        }
    }

    #[test]
    fn lasso_cross_validation_on_ranks_prints_what_one_process_prints() {
        same_on_every_rank_count(&[
            "regress",
            "--x",
            "data/diabetes_X.csv",
            "--y",
            "data/diabetes_y.csv",
            "--cv",
            "5",
            "--json",
        ]);
    }

    #[test]
    fn ldp_simulations_of_ten_million_users_on_ranks_print_what_one_process_prints() {
        for method in ["iht", "noninteractive"] {
            same_on_every_rank_count(&[
                "ldp",
                "simulate",
                "--n",
                "10000000",
                "--d",
                "20",
                "--k",
                "2",
                "--epsilon",
                "4",
                "--method",
                method,
                "--json",
            ]);
        }
    }

    #[test]
    fn radio_self_calibration_on_ranks_writes_what_one_process_writes() {
        let dir = std::env::temp_dir().join(format!("sparsimony-mpi-radio-{}", std::process::id()));
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        // The paper's observation at a quick size: 2450 visibilities (4900 model rows, two pieces of the
        // operator's rows), 100 (time, antenna) DDE blocks.
        let simulate = [
            "radio",
            "simulate",
            "--out",
            &path(""),
            "--antennas",
            "50",
            "--times",
            "2",
        ];
        let simulated = alone(&[&simulate[..], &["--image-size", "47", "--dde-size", "3"]].concat());
        assert!(
            simulated.status.success(),
            "{}",
            String::from_utf8_lossy(&simulated.stderr)
        );
        let (vis, bright, truth) = (path("vis.csv"), path("bright.npy"), path("truth.npy"));
        let calibrate = |tag: &str| {
            let (solutions, image) = (path(&format!("solutions{tag}.csv")), path(&format!("image{tag}.fits")));
            let args = [
                "radio",
                "calibrate",
                "--vis",
                &vis,
                "--bright",
                &bright,
                "--truth",
                &truth,
                "--dde-size",
                "3",
                "--max-outer",
                "4",
                "--json",
                "--solutions",
                &solutions,
                "--out",
                &image,
            ]
            .map(String::from);
            (args, solutions, image)
        };
        // What a run printed (its timings aside) and wrote.
        let outcome = |out: &Output, solutions: &str, image: &str| {
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let mut json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            json.as_object_mut().unwrap().remove("seconds");
            (json, std::fs::read(solutions).unwrap(), std::fs::read(image).unwrap())
        };
        let (args, solutions, image) = calibrate("");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let reference = outcome(&alone(&args), &solutions, &image);
        for ranks in [1, 2, 4] {
            let (args, solutions, image) = calibrate(&format!("-{ranks}"));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let Some(out) = mpirun(ranks, &args) else { break };
            let (json, csv, fits) = outcome(&out, &solutions, &image);
            assert_eq!(json, reference.0, "{ranks} ranks: the printed result");
            assert!(csv == reference.1, "{ranks} ranks: the solutions' CSV differs");
            assert!(fits == reference.2, "{ranks} ranks: the FITS image differs");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_error_ends_every_rank_with_its_message() {
        let Some(out) = mpirun(2, &["regress", "--x", "no/such/file.csv", "--y", "data/diabetes_y.csv"]) else {
            return;
        };
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error: no/such/file.csv"), "{stderr}");
        // Rank 1 prints its own line unless rank 0's abort ends it first.
    }
}
