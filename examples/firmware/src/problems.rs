//! The computations the firmware runs, shared with the host test (`tests/firmware_qemu.rs` includes this file),
//! so that both sides run exactly the same code on the same data. No allocation, no `std`.

use sparsimony_core::forward_backward::{minimize, scratch_len};
use sparsimony_core::linalg::{power_iteration, power_iteration_scratch_len};
use sparsimony_core::ode::{rk4_scratch_len, rk4_step};
use sparsimony_core::prox::L1;
use sparsimony_core::sindy::Factor;
use sparsimony_core::{DenseColMajor, FbOptions, LeastSquares, Result};

/// Rows and columns of the Lasso design.
pub const N: usize = 24;
/// Columns of the Lasso design.
pub const D: usize = 6;
/// The Lasso penalty α in scikit-learn's scaling, 1/(2n)‖y − Xw‖² + α‖w‖₁.
pub const ALPHA: f64 = 0.05;
/// Lorenz parameters (σ, ρ, β), step and number of RK4 steps.
pub const LORENZ: (f64, f64, f64) = (10.0, 28.0, 8.0 / 3.0);
/// RK4 step size.
pub const H: f64 = 0.005;
/// Number of RK4 steps (to t = 2).
pub const STEPS: usize = 400;

/// A deterministic pseudo-random value in [−1, 1) from an index (integer hash, no transcendentals).
fn pseudo(i: usize) -> f64 {
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// The design (column-major, N × D) and response: y = X w* + 0.05·noise with w* = (1.5, 0, −2, 0, 0, 0.8).
pub fn lasso_data() -> ([f64; N * D], [f64; N]) {
    let w_true = [1.5, 0.0, -2.0, 0.0, 0.0, 0.8];
    let mut x = [0.0; N * D];
    for (k, v) in x.iter_mut().enumerate() {
        *v = pseudo(k);
    }
    let mut y = [0.0; N];
    for (i, yi) in y.iter_mut().enumerate() {
        *yi = (0..D).map(|j| x[i + j * N] * w_true[j]).sum::<f64>() + 0.05 * pseudo(1000 + i);
    }
    (x, y)
}

/// The Lasso fit by FISTA with restart: coefficients and iteration count.
pub fn lasso() -> Result<([f64; D], usize)> {
    let (x, y) = lasso_data();
    let op = DenseColMajor::new(&x, N, D)?;
    let f = LeastSquares::new(op, &y, 1.0 / N as f64)?;
    let g = L1::new(ALPHA)?;
    let mut w = [0.0; D];
    let mut scratch = [0.0; 3 * D + N];
    debug_assert_eq!(scratch.len(), scratch_len(&f));
    let opts = FbOptions {
        max_iter: 5000,
        tol: 1e-12,
        ..FbOptions::default()
    };
    let report = minimize(&f, &g, &mut w, &opts, &mut scratch, None)?;
    if !report.converged() {
        return Err(sparsimony_core::Error::NotConverged {
            iterations: report.iterations,
            reached: report.relative_change,
            tolerance: opts.tol,
        });
    }
    Ok((w, report.iterations))
}

/// ‖X‖₂² of the Lasso design by power iteration.
pub fn spectral_norm_sq() -> Result<f64> {
    let (x, _) = lasso_data();
    let op = DenseColMajor::new(&x, N, D)?;
    let mut scratch = [0.0; N + D];
    debug_assert_eq!(scratch.len(), power_iteration_scratch_len(&op));
    power_iteration(&op, 10_000, 1e-14, &mut scratch)
}

/// The Lorenz system from (1, 1, 1) integrated by RK4 to t = STEPS·H.
pub fn lorenz() -> Result<[f64; 3]> {
    let (sigma, rho, beta) = LORENZ;
    let mut rhs = |_t: f64, s: &[f64], d: &mut [f64]| {
        d[0] = sigma * (s[1] - s[0]);
        d[1] = s[0] * (rho - s[2]) - s[1];
        d[2] = s[0] * s[1] - beta * s[2];
        Ok(())
    };
    let mut state = [1.0, 1.0, 1.0];
    let mut scratch = [0.0; rk4_scratch_len(3)];
    for k in 0..STEPS {
        rk4_step(&mut rhs, k as f64 * H, H, &mut state, &mut scratch)?;
    }
    Ok(state)
}

/// Output times of the exported SINDy Lorenz model's trajectory.
pub const SINDY_TIMES: [f64; 4] = [0.25, 0.5, 0.75, 1.0];
/// Initial state of that trajectory.
pub const SINDY_X0: [f64; 3] = [-8.0, 8.0, 27.0];
/// Dormand–Prince tolerances (relative and absolute) on the device.
pub const SINDY_TOL: f64 = 1e-9;
/// Fixed RK4 step of the f32 control-loop run, and its number of steps (to t = 1).
pub const SINDY_RK4: (f32, usize) = (0.001, 1000);

/// The SINDy model fitted on the host (`examples/sindy_export.rs`, exported to `sindy_lorenz.rs`),
/// integrated in f64 with the adaptive Dormand–Prince method: the state at each of [`SINDY_TIMES`].
pub fn sindy_lorenz_f64() -> Result<[f64; 12]> {
    use sparsimony_core::ode::{Dopri5, Dopri5State, dopri5_scratch_len};
    let model = crate::exported::sindy_lorenz::model()?;
    let solver = Dopri5::new(SINDY_TOL, SINDY_TOL);
    let mut state = Dopri5State::default();
    let mut scratch = [0.0; dopri5_scratch_len(3)];
    let mut x = SINDY_X0;
    let mut out = [0.0; 12];
    let mut t = 0.0;
    for (k, &t1) in SINDY_TIMES.iter().enumerate() {
        model.integrate(&solver, &mut |_t, _u| {}, t, t1, &mut x, &mut state, &mut scratch)?;
        out[3 * k..3 * k + 3].copy_from_slice(&x);
        t = t1;
    }
    Ok(out)
}

/// The same model converted to f32 and stepped with fixed-step RK4, as a control loop would: the state at
/// t = 1.
pub fn sindy_lorenz_f32() -> Result<[f32; 3]> {
    use crate::exported::sindy_lorenz as m;
    let (mut factors, mut coef) = (
        [Factor::Power { input: 0, exponent: 0 }; m::FACTORS.len()],
        [0.0f32; m::COEF_VALUE.len()],
    );
    let model = m::model()?.cast(&mut factors, &mut coef)?;
    let mut x = SINDY_X0.map(|v| v as f32);
    let mut scratch = [0.0f32; rk4_scratch_len(3)];
    for _ in 0..SINDY_RK4.1 {
        model.rk4_step(SINDY_RK4.0, &mut x, &[], &mut scratch)?;
    }
    Ok(x)
}

/// Dimension, privacy loss and clipping radius of the record the device privatizes.
pub const PRIVACY: (usize, f64, f32) = (8, 1.0, 1.0);
/// The seed of the device's randomness (a real device seeds from its hardware entropy source).
pub const PRIVACY_SEED: u64 = 2024;

/// The messages of one record that leave the device, each from a different randomizer.
pub struct Messages {
    /// The ℓ2-ball randomizer's message (the record clipped to the ℓ2 ball).
    pub l2: [f32; 8],
    /// The hypercube randomizer's vertex (the record clipped to the box).
    pub cube: [f32; 8],
    /// The Laplace mechanism's message on its grid (ℓ1 sensitivity twice the clipped box's ℓ1 radius).
    pub laplace: [f32; 8],
    /// The Gaussian mechanism's message on its grid (ℓ2 sensitivity twice the ball's radius, δ = 1e-6).
    pub gaussian: [f32; 8],
}

/// A user's record (a feature vector times its label, as the LDP gradient messages carry), clipped to the ℓ2
/// ball and sent through the ℓ2-ball randomizer in f32, and through the other three randomizers: what
/// leaves the device.
pub fn privatized_record() -> Result<Messages> {
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;
    use sparsimony_core::privacy::{Gaussian, Hypercube, L2Ball, Laplace, clip_coordinates, clip_l2};
    let (d, epsilon, radius) = PRIVACY;
    let mut record = [0.0f32; 8];
    for (j, x) in record.iter_mut().enumerate() {
        *x = (1.7 * pseudo(100 + j)) as f32;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(PRIVACY_SEED);
    let mut ball = record;
    clip_l2(&mut ball, radius)?;
    let mut l2 = [0.0f32; 8];
    L2Ball::new(epsilon, radius as f64, d)?.privatize(&ball, &mut l2, &mut rng)?;
    let mut cube = record;
    clip_coordinates(&mut cube, radius)?;
    let mut vertex = [0.0f32; 8];
    Hypercube::new(epsilon, radius as f64, d)?.privatize(&cube, &mut vertex, &mut rng)?;
    let mut laplace = [0.0f32; 8];
    Laplace::new(epsilon, 2.0 * d as f64 * radius as f64, d)?.privatize(&cube, &mut laplace, &mut rng)?;
    let mut gaussian = [0.0f32; 8];
    Gaussian::new(epsilon, 1e-6, 2.0 * radius as f64, d)?.privatize(&ball, &mut gaussian, &mut rng)?;
    Ok(Messages {
        l2,
        cube: vertex,
        laplace,
        gaussian,
    })
}
