//! The computations the firmware runs, shared with the host test (`tests/firmware_qemu.rs` includes this file),
//! so that both sides run exactly the same code on the same data. No allocation, no `std`.

use sparsimony_core::forward_backward::{minimize, scratch_len};
use sparsimony_core::linalg::{power_iteration, power_iteration_scratch_len};
use sparsimony_core::ode::{rk4_scratch_len, rk4_step};
use sparsimony_core::prox::L1;
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
