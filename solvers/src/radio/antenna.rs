//! One antenna's block of the DDE step (Repetti et al. 2017, Algorithm 1): the least-squares problem in
//! one copy of its kernel, `½uᴴ(G + νI)u − Re((c + ν u_other)ᴴu)` over the box of the kernels' taps,
//! assembled from its rows and solved by accelerated projected gradient (core's forward–backward driver
//! with a [`Prox`] for the box).

use rustfft::num_complex::Complex64;
use sparsimony_core::forward_backward;
use sparsimony_core::linalg::{power_iteration, power_iteration_scratch_len};
use sparsimony_core::{Acceleration, FbOptions, LinearOperator, Prox, Smooth, StepSize};

use super::dde::Ddes;
use super::operator::Row;
use crate::error::Result;

/// The box of the kernels' real and imaginary parts.
pub(super) struct Bounds {
    pub centre: f64,
    pub other: f64,
}

impl Bounds {
    /// Projects one kernel (`S²` taps, the centre in the middle) onto the box.
    pub(super) fn project(&self, kernel: &mut [Complex64]) {
        let centre = kernel.len() / 2;
        for (i, z) in kernel.iter_mut().enumerate() {
            let b = if i == centre { self.centre } else { self.other };
            *z = Complex64::new(z.re.clamp(-b, b), z.im.clamp(-b, b));
        }
    }
}

/// One antenna's least-squares problem in its kernel `u` (`S²` unknowns): `G = ½HᴴH`, `c = ½Hᴴd`.
pub(super) struct AntennaSystem {
    n: usize,
    gram: Vec<Complex64>,
    rhs: Vec<Complex64>,
}

/// The system of the kernel of copy `copy` of the antenna whose rows (as first antenna) are `rows_of`.
/// Copy 0 (`U₁`): row `(α, β)` reads `h[a] = Σ_b conj(u₂_β[b]) x̂[k − a + b]` against `y`. Copy 1 (`U₂`):
/// the partner row `(β, α)` on `−k` is conjugate-linear in `u₂_α`; conjugated it reads
/// `h[b] = conj(Σ_a u₁_β[a] x̂[−k − a + b])` against `conj(y)`. The spectrum values are the rows'
/// `patches` ([`Measurement::patches`](super::Measurement), `(2S − 1)²` per row: `x̂[k − (S − 1) + i]`);
/// with weights, each row's `h` is scaled by its `row_scale` (`√(w/w̄)`, as its datum already is).
#[allow(clippy::too_many_arguments)]
pub(super) fn antenna_system(
    rows_of: &[usize],
    rows: &[Row],
    row_scale: Option<&[f64]>,
    data: &[f64],
    patches: &[Complex64],
    s: usize,
    copy: usize,
    other: &Ddes,
) -> AntennaSystem {
    let s2 = s * s;
    let t = 2 * s - 1;
    let mut gram = vec![Complex64::new(0.0, 0.0); s2 * s2];
    let mut rhs = vec![Complex64::new(0.0, 0.0); s2];
    let mut h = vec![Complex64::new(0.0, 0.0); s2];
    for &r in rows_of {
        // Copy 0 uses the row itself; copy 1 its partner, in which this antenna is the second.
        let partner = r ^ 1;
        let (row, datum) = if copy == 0 {
            (rows[r], r)
        } else {
            (rows[partner], partner)
        };
        let y = Complex64::new(data[2 * datum], data[2 * datum + 1]);
        let d_other = if copy == 0 {
            other.kernel(row.time, row.second)
        } else {
            other.kernel(row.time, row.first)
        };
        // x̂[k − a + b] is the row's patch point (S − 1) − a + b per axis.
        let patch = &patches[datum * t * t..(datum + 1) * t * t];
        let offset =
            |av: usize, au: usize, bv: usize, bu: usize| -> usize { (s - 1 - av + bv) * t + (s - 1 - au + bu) };
        for (i, hi) in h.iter_mut().enumerate() {
            let (iv, iu) = (i / s, i % s);
            let mut acc = Complex64::new(0.0, 0.0);
            for (j, &dj) in d_other.iter().enumerate() {
                let (jv, ju) = (j / s, j % s);
                acc += if copy == 0 {
                    dj.conj() * patch[offset(iv, iu, jv, ju)]
                } else {
                    dj * patch[offset(jv, ju, iv, iu)]
                };
            }
            *hi = if copy == 0 { acc } else { acc.conj() };
            if let Some(scale) = row_scale {
                *hi *= scale[datum];
            }
        }
        let target = if copy == 0 { y } else { y.conj() };
        for (i, hi) in h.iter().enumerate() {
            rhs[i] += 0.5 * hi.conj() * target;
            for (j, hj) in h.iter().enumerate() {
                gram[i * s2 + j] += 0.5 * hi.conj() * hj;
            }
        }
    }
    AntennaSystem { n: s2, gram, rhs }
}

/// The Gram matrix `G` of one antenna's system as a real operator on interleaved `(re, im)` pairs; `G` is
/// Hermitian, so its real form is symmetric and its adjoint is itself.
struct Gram<'a>(&'a AntennaSystem);

impl LinearOperator<f64> for Gram<'_> {
    fn nrows(&self) -> usize {
        2 * self.0.n
    }
    fn ncols(&self) -> usize {
        2 * self.0.n
    }
    fn apply(&self, x: &[f64], y: &mut [f64], _scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        let (u, out) = complex_pair(self.0.n, x, y)?;
        for (o, row) in out.iter_mut().zip(self.0.gram.chunks_exact(self.0.n)) {
            *o = row.iter().zip(u).map(|(g, x)| g * x).sum();
        }
        Ok(())
    }
    fn apply_adjoint(&self, x: &[f64], y: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        self.apply(x, y, scratch)
    }
}

/// `x` and `out` viewed as `n` complex numbers each, or a typed error on another length.
fn complex_pair<'x, 'o>(
    n: usize,
    x: &'x [f64],
    out: &'o mut [f64],
) -> sparsimony_core::Result<(&'x [Complex64], &'o mut [Complex64])> {
    for (what, len) in [
        ("kernel taps (re, im pairs)", x.len()),
        ("output (re, im pairs)", out.len()),
    ] {
        if len != 2 * n {
            return Err(sparsimony_core::Error::DimensionMismatch {
                what,
                expected: 2 * n,
                found: len,
            });
        }
    }
    Ok((bytemuck::cast_slice(x), bytemuck::cast_slice_mut(out)))
}

/// The block objective `½uᴴ(G + νI)u − Re((c + ν u_other)ᴴu)` in the kernel's interleaved real and
/// imaginary parts; its real gradient is `(G + νI)u − (c + ν u_other)`, interleaved, and its Lipschitz
/// constant the largest eigenvalue of `G` plus `ν`.
struct Block<'a> {
    system: &'a AntennaSystem,
    other: &'a [Complex64],
    nu: f64,
}

impl Smooth<f64> for Block<'_> {
    fn dim(&self) -> usize {
        2 * self.system.n
    }
    /// The value alone needs `Gu` somewhere: `2n` elements.
    fn scratch_len(&self) -> usize {
        2 * self.system.n
    }
    fn value(&self, x: &[f64], scratch: &mut [f64]) -> sparsimony_core::Result<f64> {
        let found = scratch.len();
        let gu = scratch
            .get_mut(..2 * self.system.n)
            .ok_or(sparsimony_core::Error::DimensionMismatch {
                what: "scratch of the block objective",
                expected: 2 * self.system.n,
                found,
            })?;
        self.value_grad(x, gu, &mut [])
    }
    fn value_grad(&self, x: &[f64], grad: &mut [f64], _scratch: &mut [f64]) -> sparsimony_core::Result<f64> {
        Gram(self.system).apply(x, grad, &mut [])?;
        let (u, g) = complex_pair(self.system.n, x, grad)?;
        let mut value = 0.0;
        for (((gi, &ui), &ci), &oi) in g.iter_mut().zip(u).zip(&self.system.rhs).zip(self.other) {
            let b = ci + self.nu * oi;
            value += 0.5 * (ui.conj() * (*gi + self.nu * ui)).re - (b.conj() * ui).re;
            *gi += self.nu * ui - b;
        }
        Ok(value)
    }
}

impl Prox<f64> for Bounds {
    /// The projection onto the box of one kernel's interleaved taps (whatever the step).
    fn prox(&self, _step: f64, x: &mut [f64]) -> sparsimony_core::Result<()> {
        let found = x.len();
        let kernel = bytemuck::try_cast_slice_mut(x).map_err(|_| sparsimony_core::Error::DimensionMismatch {
            what: "kernel taps (re, im pairs)",
            expected: found + 1,
            found,
        })?;
        self.project(kernel);
        Ok(())
    }
    fn value(&self, x: &[f64]) -> sparsimony_core::Result<f64> {
        let centre = x.len() / 4;
        let inside = x.chunks(2).enumerate().all(|(i, z)| {
            let b = if i == centre { self.centre } else { self.other };
            z.iter().all(|v| v.abs() <= b)
        });
        Ok(if inside { 0.0 } else { f64::INFINITY })
    }
}

impl AntennaSystem {
    /// An upper bound on the largest eigenvalue of the positive semidefinite `G`: 1.05 times core's power
    /// iteration once it settles (to 1e-6, within 100 steps), else the smaller of two bounds that always
    /// hold — the trace (the sum of the eigenvalues) and the largest absolute row sum.
    fn largest_eigenvalue(&self) -> f64 {
        let gram = Gram(self);
        let mut scratch = vec![0.0; power_iteration_scratch_len(&gram)];
        match power_iteration(&gram, 100, 1e-6, &mut scratch) {
            // The power iteration runs on GᵀG = G².
            Ok(squared) => 1.05 * squared.sqrt(),
            Err(_) => {
                let trace: f64 = self.gram.iter().step_by(self.n + 1).map(|g| g.re).sum();
                let row_sum = self
                    .gram
                    .chunks_exact(self.n)
                    .map(|row| row.iter().map(|g| g.norm()).sum::<f64>())
                    .fold(0.0, f64::max);
                trace.min(row_sum)
            }
        }
    }

    /// Accelerated projected gradient (core's forward–backward driver, FISTA with restart, on the
    /// kernel's interleaved real and imaginary parts) from `start` onto the box, at most `max_iter` steps
    /// to a relative change of 1e-10; the result is kept only if it lowers the block objective.
    ///
    /// # Errors
    /// Kernels of another length than the system's or not finite; a non-finite objective.
    pub(super) fn solve(
        &self,
        start: &[Complex64],
        u_other: &[Complex64],
        nu: f64,
        bounds: &Bounds,
        max_iter: usize,
    ) -> Result<Vec<Complex64>> {
        for (what, kernel) in [
            ("this copy's DDE kernel", start),
            ("the other copy's DDE kernel", u_other),
        ] {
            if kernel.len() != self.n {
                return Err(crate::Error::Shape {
                    what,
                    expected: self.n,
                    found: kernel.len(),
                });
            }
            if let Some(tap) = kernel.iter().position(|z| !(z.re.is_finite() && z.im.is_finite())) {
                return Err(crate::Error::NonFinite { what, row: tap, col: 0 });
            }
        }
        let lipschitz = self.largest_eigenvalue() + nu;
        if lipschitz == 0.0 {
            // G = 0 and ν = 0: the rows are empty, c = 0 too, and every kernel is a minimiser.
            return Ok(start.to_vec());
        }
        let block = Block {
            system: self,
            other: u_other,
            nu,
        };
        let mut x = start.to_vec();
        bounds.project(&mut x);
        let options = FbOptions {
            max_iter,
            tol: 1e-10,
            acceleration: Acceleration::FistaRestart,
            step: StepSize::Lipschitz(lipschitz),
        };
        let taps: &mut [f64] = bytemuck::cast_slice_mut(&mut x);
        forward_backward::minimize_alloc(&block, bounds, taps, &options, None)?;
        let mut scratch = vec![0.0; block.scratch_len()];
        let objective = |u: &[Complex64], scratch: &mut [f64]| block.value(bytemuck::cast_slice(u), scratch);
        if objective(&x, &mut scratch)? <= objective(start, &mut scratch)? {
            Ok(x)
        } else {
            Ok(start.to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use faer::Mat;
    use faer::linalg::solvers::Solve;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;
    use sparsimony_core::random::standard_normal;

    use super::*;

    /// `G = ½HᴴH` from `m` random rows of length `n`, and `c = ½Hᴴd`: the shape `antenna_system` builds.
    fn random_system(n: usize, m: usize, seed: u64) -> AntennaSystem {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut normal = || Complex64::new(standard_normal(&mut rng), standard_normal(&mut rng));
        let h: Vec<Vec<Complex64>> = (0..m).map(|_| (0..n).map(|_| normal()).collect()).collect();
        let d: Vec<Complex64> = (0..m).map(|_| normal()).collect();
        let mut gram = vec![Complex64::new(0.0, 0.0); n * n];
        let mut rhs = vec![Complex64::new(0.0, 0.0); n];
        for (row, y) in h.iter().zip(&d) {
            for i in 0..n {
                rhs[i] += 0.5 * row[i].conj() * y;
                for j in 0..n {
                    gram[i * n + j] += 0.5 * row[i].conj() * row[j];
                }
            }
        }
        AntennaSystem { n, gram, rhs }
    }

    #[test]
    fn the_step_bound_is_above_the_largest_eigenvalue_and_close_to_it() {
        for (n, m, seed) in [(9, 30, 4), (25, 10, 5), (1, 3, 6)] {
            let system = random_system(n, m, seed);
            // G's real form, symmetric, and its largest eigenvalue by faer.
            let real = Mat::from_fn(2 * n, 2 * n, |i, j| {
                let g = system.gram[(i / 2) * n + j / 2];
                match (i % 2, j % 2) {
                    (0, 0) | (1, 1) => g.re,
                    (0, 1) => -g.im,
                    _ => g.im,
                }
            });
            let values = real.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
            let exact = values.iter().copied().fold(f64::MIN, f64::max);
            let bound = system.largest_eigenvalue();
            assert!(
                bound >= exact && bound <= 1.06 * exact,
                "n = {n}: bound {bound} for λmax {exact}"
            );
        }
        // No rows: G = 0, c = 0, and without coupling (ν = 0) every kernel is a minimiser.
        let empty = random_system(4, 0, 7);
        let start = vec![Complex64::new(0.2, -0.1); 4];
        let loose = Bounds {
            centre: 1.0,
            other: 1.0,
        };
        assert_eq!(empty.solve(&start, &start, 0.0, &loose, 10).unwrap(), start);
    }

    #[test]
    fn the_real_gradient_is_the_derivative_of_the_block_objective() {
        let system = random_system(9, 30, 1);
        let other: Vec<Complex64> = (0..9).map(|i| Complex64::new(0.1 * i as f64, -0.2)).collect();
        let block = Block {
            system: &system,
            other: &other,
            nu: 3.0,
        };
        let x: Vec<f64> = (0..18).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut grad = vec![0.0; 18];
        let mut scratch = vec![0.0; block.scratch_len()];
        block.value_grad(&x, &mut grad, &mut scratch).unwrap();
        for k in 0..18 {
            let h = 1e-6;
            let (mut up, mut down) = (x.clone(), x.clone());
            up[k] += h;
            down[k] -= h;
            let fd = (block.value(&up, &mut scratch).unwrap() - block.value(&down, &mut scratch).unwrap()) / (2.0 * h);
            assert!(
                (fd - grad[k]).abs() <= 1e-6 * (1.0 + grad[k].abs()),
                "∂/∂x{k}: {fd} against {}",
                grad[k]
            );
        }
    }

    #[test]
    fn with_a_loose_box_the_block_solution_is_the_linear_systems() {
        let (n, nu) = (9, 0.5);
        let system = random_system(n, 40, 2);
        let other: Vec<Complex64> = (0..n).map(|i| Complex64::new(0.05 * i as f64, 0.1)).collect();
        // (G + νI)u = c + ν u_other, solved densely by faer's LU.
        let a = Mat::from_fn(n, n, |i, j| {
            let g = system.gram[i * n + j];
            faer::c64::new(g.re + if i == j { nu } else { 0.0 }, g.im)
        });
        let b = Mat::from_fn(n, 1, |i, _| {
            let v = system.rhs[i] + nu * other[i];
            faer::c64::new(v.re, v.im)
        });
        let exact = a.partial_piv_lu().solve(&b);
        let loose = Bounds {
            centre: 1e6,
            other: 1e6,
        };
        let start = vec![Complex64::new(0.0, 0.0); n];
        let u = system.solve(&start, &other, nu, &loose, 20_000).unwrap();
        let err: f64 = (0..n)
            .map(|i| (u[i] - Complex64::new(exact[(i, 0)].re, exact[(i, 0)].im)).norm_sqr())
            .sum::<f64>()
            .sqrt();
        let size: f64 = (0..n).map(|i| exact[(i, 0)].norm_sqr()).sum::<f64>().sqrt();
        assert!(err <= 1e-6 * size, "‖u − u*‖/‖u*‖ = {:e}", err / size);
    }

    #[test]
    fn with_a_tight_box_the_block_solution_satisfies_the_optimality_conditions() {
        let (n, nu) = (9, 0.1);
        let system = random_system(n, 40, 3);
        let other = vec![Complex64::new(0.0, 0.0); n];
        let bounds = Bounds {
            centre: 0.3,
            other: 0.05,
        };
        let start = vec![Complex64::new(0.0, 0.0); n];
        let u = system.solve(&start, &other, nu, &bounds, 20_000).unwrap();
        let block = Block {
            system: &system,
            other: &other,
            nu,
        };
        let x: &[f64] = bytemuck::cast_slice(&u);
        let mut grad = vec![0.0; 2 * n];
        block.value_grad(x, &mut grad, &mut []).unwrap();
        // Projected-gradient stationarity: each coordinate at a bound has the gradient pushing outwards,
        // each interior one a vanishing gradient.
        let mut active = 0;
        for (k, (&v, &g)) in x.iter().zip(&grad).enumerate() {
            let b = if k / 2 == n / 2 { bounds.centre } else { bounds.other };
            assert!(v.abs() <= b, "x{k} = {v} outside ±{b}");
            if v.abs() >= b * (1.0 - 1e-12) {
                active += 1;
                assert!(
                    g * v.signum() <= 1e-8,
                    "x{k} at its bound {v} with gradient {g} pointing inwards"
                );
            } else {
                assert!(g.abs() <= 1e-6, "interior x{k} = {v} with gradient {g}");
            }
        }
        assert!(active > 0, "the box was meant to bind");
    }
}
