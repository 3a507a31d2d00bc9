//! The embedded proof: build the Cortex-M3 firmware in `examples/firmware`, run it under QEMU
//! (`lm3s6965evb`, semihosting), and check every number it prints against the same computation on the host.
//!
//! Needs `qemu-system-arm` and the `thumbv7m-none-eabi` Rust target (`.ci/run` installs both). Without them
//! the test says so loudly and passes, except in CI (`CI=true`), where it fails.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../examples/firmware/src/problems.rs"]
mod problems;

#[path = "../examples/firmware/src/sindy_lorenz.rs"]
mod exported;

#[allow(dead_code)]
#[path = "../examples/sindy_export.rs"]
mod sindy_export;

#[path = "../examples/firmware/src/sindyc_lorenz.rs"]
mod exported_sindyc;

#[allow(dead_code)]
#[path = "../examples/sindy_mpc.rs"]
mod sindy_mpc;
use sindy_mpc::lorenz_mpc;

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn skip_or_fail(why: &str) {
    if in_ci() {
        panic!("CI=true but the firmware test cannot run: {why}");
    }
    eprintln!("\n*** SKIPPED: firmware test under QEMU: {why}");
    eprintln!("*** install qemu-system-arm and `rustup target add thumbv7m-none-eabi` to run it ***\n");
}

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/firmware")
}

/// An emulated board: the Rust target the firmware is built for, and QEMU's machine and CPU.
struct Board {
    target: &'static str,
    machine: &'static str,
    cpu: &'static str,
}

/// The TI LM3S6965 (Cortex-M3, no FPU: f32 and f64 in software).
const M3: Board = Board {
    target: "thumbv7m-none-eabi",
    machine: "lm3s6965evb",
    cpu: "cortex-m3",
};

/// ARM's MPS2 with the AN386 image (Cortex-M4 with its single-precision FPU).
const M4F: Board = Board {
    target: "thumbv7em-none-eabihf",
    machine: "mps2-an386",
    cpu: "cortex-m4",
};

/// Builds the firmware (release) for `board` and returns the ELF path, or the reason it could not be built.
fn build_firmware(board: &Board) -> Result<PathBuf, String> {
    let dir = firmware_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--locked", "--target", board.target])
        .current_dir(&dir) // picks up examples/firmware/.cargo/config.toml (linker script)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "firmware build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(dir.join(format!("target/{}/release/sparsimony-firmware", board.target)))
}

/// Runs the ELF under QEMU on `board` with a 300 s watchdog (the runs take ~20 s of CPU each); returns
/// (success, stdout).
fn run_qemu(elf: &Path, board: &Board) -> (bool, String) {
    let mut child = Command::new("qemu-system-arm")
        .args(["-cpu", board.cpu, "-machine", board.machine, "-nographic"])
        // Instruction counting: the virtual clock advances 1 ns per instruction (deterministic runs, and
        // the firmware's SysTick counts instructions).
        .args(["-icount", "shift=0"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("qemu-system-arm was found on PATH");
    // Read while it runs: the trace is larger than a pipe's buffer, and a full pipe would stall QEMU.
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).expect("utf-8 output");
        out
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("waiting on qemu") {
            break s;
        }
        if start.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            panic!("QEMU did not exit within 300 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().expect("the reader thread");
    (status.success(), out)
}

fn values(out: &str, name: &str) -> Vec<f64> {
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no `{name}` line in:\n{out}"));
    line.split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or_else(|_| panic!("bad number {v:?} in {line:?}")))
        .collect()
}

fn assert_close(name: &str, mcu: &[f64], host: &[f64], rel: f64) {
    assert_eq!(mcu.len(), host.len(), "{name}: length");
    let scale = host.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (a, b)) in mcu.iter().zip(host).enumerate() {
        assert!((a - b).abs() <= rel * scale, "{name}[{i}]: MCU {a} vs host {b}");
    }
    eprintln!(
        "{name}: agree to {:.1e} (max |diff| / max |value|)",
        mcu.iter().zip(host).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / scale
    );
}

/// Builds and runs the firmware on `board`: its output, or `None` where the test was skipped.
fn run_on(board: &Board) -> Option<String> {
    // One board at a time: two emulations at once on a 2-core machine only slow each other down.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if Command::new("qemu-system-arm").arg("--version").output().is_err() {
        skip_or_fail("qemu-system-arm is not installed");
        return None;
    }
    let elf = match build_firmware(board) {
        Ok(elf) => elf,
        Err(why) if why.contains(board.target) && why.contains("target may not be installed") => {
            skip_or_fail(&format!("the {} target is not installed", board.target));
            return None;
        }
        Err(why) => panic!("{why}"),
    };
    let (ok, out) = run_qemu(&elf, board);
    eprintln!("QEMU ({}) printed:\n{}", board.machine, short(&out));
    assert!(ok, "the firmware exited with failure:\n{out}");
    assert!(out.lines().any(|l| l == "done"));
    Some(out)
}

/// The output without the long closed-loop traces (for the log).
fn short(out: &str) -> String {
    out.lines()
        .map(|l| {
            if l.starts_with("mpc_") && l.len() > 200 {
                &l[..l.find(' ').unwrap_or(l.len())]
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn firmware_on_emulated_cortex_m3_agrees_with_the_host() {
    if let Some(out) = run_on(&M3) {
        check_output(&out, "Cortex-M3");
    }
}

/// The same firmware on a Cortex-M4F: the FPU computes the f32 controller, to the same bits.
#[test]
fn firmware_on_emulated_cortex_m4f_agrees_with_the_host() {
    if let Some(out) = run_on(&M4F) {
        check_output(&out, "Cortex-M4F");
    }
}

/// Every number the firmware printed against the host's and against independent references.
fn check_output(out: &str, board: &str) {
    let out = out.to_string();

    let (w, iterations) = problems::lasso().unwrap();
    // Both sides use IEEE-754 f64 with correctly rounded +, −, ×, ÷ and sqrt (soft-float on the M3), so they
    // should agree to rounding; 1e-12 leaves room for a different but equally correct instruction selection.
    assert_close("lasso_coef", &values(&out, "lasso_coef"), &w, 1e-12);
    assert_eq!(values(&out, "lasso_iterations"), vec![iterations as f64]);
    assert_close(
        "spectral_norm_sq",
        &values(&out, "spectral_norm_sq"),
        &[problems::spectral_norm_sq().unwrap()],
        1e-12,
    );
    assert_close(
        "lorenz_state",
        &values(&out, "lorenz_state"),
        &problems::lorenz().unwrap(),
        1e-10,
    );

    // And the host's answers are right, against independent references: the Lasso KKT conditions, and a
    // Lorenz reference with a 10× finer step (RK4 is fourth order, so the 0.005 step is accurate to ~1e-5 at t = 2).
    let (x, y) = problems::lasso_data();
    let (n, d) = (problems::N, problems::D);
    let r: Vec<f64> = (0..n)
        .map(|i| y[i] - (0..d).map(|j| x[i + j * n] * w[j]).sum::<f64>())
        .collect();
    for j in 0..d {
        let c = (0..n).map(|i| x[i + j * n] * r[i]).sum::<f64>() / n as f64;
        if w[j] != 0.0 {
            assert!(
                (c - problems::ALPHA * w[j].signum()).abs() < 1e-8,
                "KKT on the support, coordinate {j}"
            );
        } else {
            assert!(c.abs() <= problems::ALPHA + 1e-8, "KKT off the support, coordinate {j}");
        }
    }
    // The exported SINDy model: the MCU's Dormand–Prince trajectory against the same code on the host, and
    // against the host's `SindyFit::simulate` (tolerance 1e-12) of the model as fitted.
    let mcu = values(&out, "sindy_lorenz_f64");
    assert_close("sindy_lorenz_f64", &mcu, &problems::sindy_lorenz_f64().unwrap(), 1e-10);
    let fit = sindy_export::fit();
    let mut times = vec![0.0];
    times.extend(problems::SINDY_TIMES);
    let sim = fit
        .simulate(
            ndarray::ArrayView1::from(&problems::SINDY_X0),
            ndarray::ArrayView1::from(&times),
            None,
            &sparsimony::solvers::sindy::SimulateOptions {
                rtol: 1e-12,
                atol: 1e-12,
                ..Default::default()
            },
        )
        .unwrap();
    let host: Vec<f64> = sim.rows().into_iter().skip(1).flat_map(|r| r.to_vec()).collect();
    assert_close("sindy_lorenz_f64 vs host simulate", &mcu, &host, 1e-6);
    let f32_run = values(&out, "sindy_lorenz_f32");
    assert_close("sindy_lorenz_f32 (RK4) vs host simulate", &f32_run, &host[9..], 1e-3);

    // The local-privacy messages leave the device bit for bit as the host computes them from the same
    // seed (f32 values printed through f64, which is exact): what a server receives does not depend on
    // where the randomizer ran.
    let messages = problems::privatized_record().unwrap();
    assert_eq!(values(&out, "ldp_l2_message"), messages.l2.map(f64::from).to_vec());
    assert_eq!(values(&out, "ldp_cube_message"), messages.cube.map(f64::from).to_vec());
    // The grid mechanisms' integer noise (128-bit arithmetic in software on the Cortex-M3) too.
    assert_eq!(
        values(&out, "ldp_laplace_message"),
        messages.laplace.map(f64::from).to_vec()
    );
    assert_eq!(
        values(&out, "ldp_gaussian_message"),
        messages.gaussian.map(f64::from).to_vec()
    );

    check_closed_loop(&out, board);

    let fine = lorenz_reference(problems::H / 10.0, problems::STEPS * 10);
    assert_close(
        "lorenz_state vs fine-step reference",
        &problems::lorenz().unwrap(),
        &fine,
        1e-4,
    );
}

/// The closed loop on the device (the true Lorenz system as the plant, MPC over the SINDYc model identified
/// from noisy data) is the host's, bit for bit: the same code on the same IEEE-754 arithmetic; and it
/// reaches the fixed point. Prints the controller's cost per control step in instructions.
fn check_closed_loop(out: &str, board: &str) {
    let model = exported_sindyc::sindyc_lorenz::model().unwrap();
    let starts = lorenz_mpc::attractor_points::<{ lorenz_mpc::DEVICE_STARTS }>().unwrap();
    for (k, x0) in starts.into_iter().enumerate() {
        let o = same_trace(
            &format!("start {k}"),
            &values(out, &format!("mpc_trace_{k}")),
            model,
            x0,
        );
        let reported = values(out, &format!("mpc_outcome_{k}"));
        let expected = [
            o.final_distance,
            o.settled_at,
            o.max_abs_u,
            o.cost,
            o.max_qp_iterations as f64,
            o.capped_steps as f64,
            o.failed_steps as f64,
        ];
        assert_eq!(reported.len(), expected.len());
        assert!(
            reported.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()),
            "start {k}: MCU {reported:?} vs host {o:?}"
        );
        assert!(o.final_distance < 0.01 && o.settled_at <= 3.0, "start {k}: {o:?}");
        assert!(
            o.max_abs_u <= lorenz_mpc::U_MAX && o.failed_steps == 0,
            "start {k}: {o:?}"
        );
        eprintln!(
            "{board}, closed loop from start {k}: {} periods bit-identical with the host, within 1 % from t = {:.2}, \
             final |x − x*|/|x*| = {:.2e}",
            lorenz_mpc::DEVICE_STEPS,
            o.settled_at,
            o.final_distance
        );
    }
    // The controller in f32 from the first start: the same bits on both sides, and at the fixed point.
    let (mut factors, mut coef) = (vec![m_factor(); model.n_factors()], vec![0.0f32; model.n_nonzero()]);
    let single = model.cast(&mut factors, &mut coef).unwrap();
    let o = same_trace("f32", &values(out, "mpc_f32_trace"), single, starts[0]);
    assert!(
        o.final_distance < 0.01 && o.settled_at <= 10.0 && o.failed_steps == 0,
        "f32: {o:?}"
    );

    let calibration = values(out, "calibration_ticks_per_2000002_instructions")[0];
    let per_tick = 2_000_002.0 / calibration;
    let single_ticks = values(out, "mpc_f32_controller_ticks");
    eprintln!(
        "{board}, closed loop in f32 from start 0: bit-identical, within 1 % from t = {:.2}, final {:.2e}; \
         controller {:.0} instructions per step on average, {:.0} at most",
        o.settled_at,
        o.final_distance,
        single_ticks[0] * per_tick / lorenz_mpc::DEVICE_STEPS as f64,
        single_ticks[1] * per_tick
    );
    let ticks = values(out, "mpc_controller_ticks");
    let steps = (lorenz_mpc::DEVICE_STEPS * lorenz_mpc::DEVICE_STARTS) as f64;
    eprintln!(
        "{board}, controller in f64 (in software): {:.0} instructions per step on average, {:.0} at most \
         ({per_tick:.1} instructions per SysTick tick); peak stack of the closed loop {} bytes",
        ticks[0] * per_tick / steps,
        ticks[1] * per_tick,
        values(out, "mpc_stack_bytes_used")[0]
    );
}

/// The closed loop from `x0` rerun on the host: the MCU's trace (x, y, z, u per period) must be its bits.
fn same_trace<T: sparsimony::core::Real>(
    what: &str,
    mcu: &[f64],
    model: sparsimony::core::sindy::SindyModel<'_, T>,
    x0: [f64; 3],
) -> lorenz_mpc::Outcome {
    let mut host = Vec::new();
    let o = lorenz_mpc::closed_loop(
        model,
        x0,
        lorenz_mpc::DEVICE_STEPS,
        || 0,
        |_, x, u| {
            host.extend_from_slice(x);
            host.push(u);
        },
    )
    .unwrap();
    assert_eq!(mcu.len(), 4 * lorenz_mpc::DEVICE_STEPS, "{what}");
    if let Some(i) = mcu.iter().zip(&host).position(|(a, b)| a.to_bits() != b.to_bits()) {
        panic!(
            "{what}: the closed-loop trace differs at value {i}: MCU {} vs host {}",
            mcu[i], host[i]
        );
    }
    o
}

/// A placeholder factor for a buffer the model's cast fills.
fn m_factor() -> sparsimony::core::sindy::Factor<f32> {
    sparsimony::core::sindy::Factor::Power { input: 0, exponent: 0 }
}

/// The committed firmware model is what the host fit exports today (rerun `cargo run --example sindy_export`
/// after changing the fit).
#[test]
fn committed_firmware_model_is_current() {
    let committed = std::fs::read_to_string(sindy_export::firmware_path()).unwrap();
    assert_eq!(
        committed,
        sindy_export::firmware_source(&sindy_export::fit()),
        "examples/firmware/src/sindy_lorenz.rs is stale: run `cargo run --example sindy_export`"
    );
    let committed = std::fs::read_to_string(sindy_mpc::firmware_path()).unwrap();
    assert_eq!(
        committed,
        sindy_mpc::firmware_source(&sindy_mpc::fit(sindy_mpc::NOISE)),
        "examples/firmware/src/sindyc_lorenz.rs is stale: run `cargo run --example sindy_mpc -- --export-firmware`"
    );
}

/// The Lorenz system by RK4 written out directly (an independent implementation) with step `h`.
fn lorenz_reference(h: f64, steps: usize) -> Vec<f64> {
    let (s, r, b) = problems::LORENZ;
    let f = |u: [f64; 3]| [s * (u[1] - u[0]), u[0] * (r - u[2]) - u[1], u[0] * u[1] - b * u[2]];
    let mut u = [1.0, 1.0, 1.0];
    for _ in 0..steps {
        let k1 = f(u);
        let k2 = f([0, 1, 2].map(|i| u[i] + h / 2.0 * k1[i]));
        let k3 = f([0, 1, 2].map(|i| u[i] + h / 2.0 * k2[i]));
        let k4 = f([0, 1, 2].map(|i| u[i] + h * k3[i]));
        u = [0, 1, 2].map(|i| u[i] + h / 6.0 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i]));
    }
    u.to_vec()
}
