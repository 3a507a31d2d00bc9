//! Pseudo-spectral solver for periodic 1-D equations `u_t = L u + a u u_x` (viscous Burgers,
//! Kuramoto–Sivashinsky) by exponential time differencing, ETDRK4 (Cox & Matthews 2002, with the
//! contour-integral coefficients of Kassam & Trefethen 2005), on rustfft. Used by the examples to make
//! data and to simulate discovered equations.
use rustfft::num_complex::Complex64 as C;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// A periodic grid of `n` points on `[0, length)` with a linear operator given by its Fourier symbol.
pub struct Etdrk4 {
    n: usize,
    fwd: Arc<dyn Fft<f64>>,
    inv: Arc<dyn Fft<f64>>,
    /// (a/2) i k, for the nonlinear term a u u_x = (a/2)(u²)_x.
    ik: Vec<C>,
    e: Vec<C>,
    e2: Vec<C>,
    q: Vec<C>,
    f1: Vec<C>,
    f2: Vec<C>,
    f3: Vec<C>,
}

impl Etdrk4 {
    /// `symbol(k)` is the Fourier symbol of `L` at wavenumber `k` (for example `−ν k²` for viscosity,
    /// `k² − k⁴` for Kuramoto–Sivashinsky), `a` the coefficient of `u u_x` (−1 for both); `h` is the step.
    pub fn new(n: usize, length: f64, h: f64, symbol: impl Fn(f64) -> f64, a: f64) -> Self {
        let mut planner = FftPlanner::new();
        let k: Vec<f64> = (0..n)
            .map(|j| {
                let j = if j <= n / 2 { j as f64 } else { j as f64 - n as f64 };
                // Zero the Nyquist mode's derivative, as usual for odd derivatives.
                if 2 * (j.abs() as usize) == n {
                    0.0
                } else {
                    2.0 * std::f64::consts::PI * j / length
                }
            })
            .collect();
        let m = 32;
        let roots: Vec<C> = (1..=m)
            .map(|j| C::from_polar(1.0, std::f64::consts::PI * (j as f64 - 0.5) / m as f64))
            .collect();
        let (mut e, mut e2, mut q, mut f1, mut f2, mut f3) = (vec![], vec![], vec![], vec![], vec![], vec![]);
        for &kj in &k {
            let l = h * symbol(kj);
            e.push(C::new(l.exp(), 0.0));
            e2.push(C::new((l / 2.0).exp(), 0.0));
            let mean = |f: &dyn Fn(C) -> C| roots.iter().map(|r| f(C::new(l, 0.0) + r)).sum::<C>() / m as f64;
            q.push(h * mean(&|z| ((z / 2.0).exp() - 1.0) / z).re);
            f1.push(h * mean(&|z| (-4.0 - z + z.exp() * (4.0 - 3.0 * z + z * z)) / (z * z * z)).re);
            f2.push(h * mean(&|z| (2.0 + z + z.exp() * (-2.0 + z)) / (z * z * z)).re);
            f3.push(h * mean(&|z| (-4.0 - 3.0 * z - z * z + z.exp() * (4.0 - z)) / (z * z * z)).re);
        }
        let to_c = |v: Vec<f64>| v.into_iter().map(|x| C::new(x, 0.0)).collect::<Vec<_>>();
        Self {
            n,
            fwd: planner.plan_fft_forward(n),
            inv: planner.plan_fft_inverse(n),
            ik: k.iter().map(|&kj| C::new(0.0, 0.5 * a * kj)).collect(),
            e,
            e2,
            q: to_c(q),
            f1: to_c(f1),
            f2: to_c(f2),
            f3: to_c(f3),
        }
    }

    /// (a/2) i k (u²)^ for `v = û`.
    fn nonlinear(&self, v: &[C]) -> Vec<C> {
        let mut u = v.to_vec();
        self.inv.process(&mut u);
        let n = self.n as f64;
        let mut sq: Vec<C> = u.iter().map(|z| C::new((z.re / n) * (z.re / n), 0.0)).collect();
        self.fwd.process(&mut sq);
        sq.iter().zip(&self.ik).map(|(s, ik)| ik * s).collect()
    }

    /// Advances `u` (grid values) by `steps` steps.
    pub fn advance(&self, u: &mut [f64], steps: usize) {
        let mut v: Vec<C> = u.iter().map(|&x| C::new(x, 0.0)).collect();
        self.fwd.process(&mut v);
        for _ in 0..steps {
            let nv = self.nonlinear(&v);
            let a: Vec<C> = (0..self.n).map(|j| self.e2[j] * v[j] + self.q[j] * nv[j]).collect();
            let na = self.nonlinear(&a);
            let b: Vec<C> = (0..self.n).map(|j| self.e2[j] * v[j] + self.q[j] * na[j]).collect();
            let nb = self.nonlinear(&b);
            let c: Vec<C> = (0..self.n)
                .map(|j| self.e2[j] * a[j] + self.q[j] * (2.0 * nb[j] - nv[j]))
                .collect();
            let nc = self.nonlinear(&c);
            for j in 0..self.n {
                v[j] = self.e[j] * v[j] + nv[j] * self.f1[j] + 2.0 * (na[j] + nb[j]) * self.f2[j] + nc[j] * self.f3[j];
            }
        }
        self.inv.process(&mut v);
        u.iter_mut().zip(&v).for_each(|(x, z)| *x = z.re / self.n as f64);
    }
}
