//! Fit Lorenz with SINDy on noisy samples and export the model as Rust source for the Cortex-M3 firmware
//! (`examples/firmware/src/sindy_lorenz.rs`), where `sparsimony-core` integrates it without allocation.
//! `tests/firmware_qemu.rs` runs that firmware under QEMU and checks its trajectory against the host's
//! `simulate`; it also re-runs this fit and checks that the committed file is what it exports.
//!
//! `cargo run --release --example sindy_export` rewrites the file and prints the model.
use ndarray::Array2;
use sparsimony::core::random::gaussian;
use sparsimony::solvers::Estimator;
use sparsimony::solvers::sindy::{Differentiation, Sindy, SindyFit, Time, Trajectory};

#[path = "support/lorenz.rs"]
mod lorenz;
use lorenz::lorenz;

/// Sampling step of the training data.
pub const DT: f64 = 0.002;
/// Samples.
pub const N: usize = 5000;
/// Measurement noise standard deviation.
pub const NOISE: f64 = 0.01;

/// Lorenz samples from (−8, 8, 27) (RK4 with 20 substeps per sample) plus seeded Gaussian noise.
pub fn training_data() -> Array2<f64> {
    let mut rng = <rand_chacha::ChaCha8Rng as rand_core::SeedableRng>::seed_from_u64(2016);
    lorenz([-8.0, 8.0, 27.0], N, DT, 20).mapv(|v| v + gaussian(&mut rng, 0.0, NOISE).expect("a valid noise level"))
}

/// The fitted model: Savitzky–Golay-smoothed differences, degree-2 polynomials, STLSQ 0.1.
pub fn fit() -> SindyFit {
    let x = training_data();
    Sindy {
        differentiation: Differentiation::smoothed(),
        state_names: Some(vec!["x".into(), "y".into(), "z".into()]),
        ..Sindy::default()
    }
    .fit(&[Trajectory::new(x.view(), Time::Step(DT))])
    .expect("the Lorenz fit succeeds")
}

/// The firmware source of the model (f64; the firmware also runs it in f32 by converting).
pub fn firmware_source(fit: &SindyFit) -> String {
    fit.export()
        .expect("polynomial terms export")
        .to_rust_source("sindy_lorenz", "f64")
        .expect("a valid module name and scalar type")
}

/// Where the firmware reads the model from.
pub fn firmware_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/firmware/src/sindy_lorenz.rs")
}

#[allow(dead_code)]
fn main() {
    let fit = fit();
    print!("{fit}");
    std::fs::write(firmware_path(), firmware_source(&fit)).expect("write the firmware model");
    println!("wrote {}", firmware_path().display());
}
