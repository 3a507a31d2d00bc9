//! The Lorenz system (σ = 10, ρ = 28, β = 8/3) sampled for the examples.
use ndarray::Array2;
use sparsimony::core::ode::{rk4_scratch_len, rk4_step};

/// `n` samples every `dt` from `x0`, by RK4 with `substeps` steps per sample.
pub fn lorenz(x0: [f64; 3], n: usize, dt: f64, substeps: usize) -> Array2<f64> {
    let mut x = Array2::zeros((n, 3));
    let mut y = x0;
    let mut scratch = [0.0; rk4_scratch_len(3)];
    let mut f = |_t: f64, y: &[f64], d: &mut [f64]| {
        d[0] = 10.0 * (y[1] - y[0]);
        d[1] = y[0] * (28.0 - y[2]) - y[1];
        d[2] = y[0] * y[1] - 8.0 / 3.0 * y[2];
        Ok(())
    };
    for i in 0..n {
        x.row_mut(i).iter_mut().zip(&y).for_each(|(a, b)| *a = *b);
        for _ in 0..substeps {
            rk4_step(&mut f, 0.0, dt / substeps as f64, &mut y, &mut scratch).expect("Lorenz stays finite");
        }
    }
    x
}
