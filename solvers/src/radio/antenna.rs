//! One antenna's block of the DDE step (Repetti et al. 2017, Algorithm 1): the least-squares problem in
//! one copy of its kernel, `½uᴴ(G + νI)u − Re((c + ν u_other)ᴴu)` over the box of the kernels' taps,
//! assembled from its rows and solved by accelerated projected gradient.

use rustfft::num_complex::Complex64;

use super::dde::Ddes;
use super::operator::Row;

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
/// `h[b] = conj(Σ_a u₁_β[a] x̂[−k − a + b])` against `conj(y)`.
#[allow(clippy::too_many_arguments)]
pub(super) fn antenna_system(
    rows_of: &[usize],
    rows: &[Row],
    data: &[f64],
    x_hat: &[Complex64],
    p: usize,
    s: usize,
    copy: usize,
    other: &Ddes,
) -> AntennaSystem {
    let s2 = s * s;
    let half = (p / 2) as i64;
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
        let offset = |av: usize, au: usize, bv: usize, bu: usize| -> usize {
            let v = row.v - av as i64 + bv as i64 + half;
            let u = row.u - au as i64 + bu as i64 + half;
            (v * p as i64 + u) as usize
        };
        for (i, hi) in h.iter_mut().enumerate() {
            let (iv, iu) = (i / s, i % s);
            let mut acc = Complex64::new(0.0, 0.0);
            for (j, &dj) in d_other.iter().enumerate() {
                let (jv, ju) = (j / s, j % s);
                acc += if copy == 0 {
                    dj.conj() * x_hat[offset(iv, iu, jv, ju)]
                } else {
                    dj * x_hat[offset(jv, ju, iv, iu)]
                };
            }
            *hi = if copy == 0 { acc } else { acc.conj() };
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

impl AntennaSystem {
    /// `(G + νI)u − (c + ν u_other)`.
    fn gradient(&self, u: &[Complex64], u_other: &[Complex64], nu: f64, out: &mut [Complex64]) {
        for (i, o) in out.iter_mut().enumerate() {
            let row = &self.gram[i * self.n..(i + 1) * self.n];
            let gu: Complex64 = row.iter().zip(u).map(|(g, x)| g * x).sum();
            *o = gu + nu * (u[i] - u_other[i]) - self.rhs[i];
        }
    }

    /// `½uᴴ(G + νI)u − Re((c + ν u_other)ᴴu)`, the block objective up to a constant.
    fn objective(&self, u: &[Complex64], u_other: &[Complex64], nu: f64) -> f64 {
        let mut value = 0.0;
        for i in 0..self.n {
            let row = &self.gram[i * self.n..(i + 1) * self.n];
            let gu: Complex64 = row.iter().zip(u).map(|(g, x)| g * x).sum();
            value += 0.5 * (u[i].conj() * (gu + nu * u[i])).re - ((self.rhs[i] + nu * u_other[i]).conj() * u[i]).re;
        }
        value
    }

    /// The largest eigenvalue of the Hermitian `G + νI` by power iteration (an upper estimate).
    fn lipschitz(&self, nu: f64) -> f64 {
        let mut v = vec![Complex64::new(1.0, 0.0); self.n];
        let mut w = vec![Complex64::new(0.0, 0.0); self.n];
        let mut lambda = 0.0;
        for _ in 0..50 {
            for (i, wi) in w.iter_mut().enumerate() {
                *wi = self.gram[i * self.n..(i + 1) * self.n]
                    .iter()
                    .zip(&v)
                    .map(|(g, x)| g * x)
                    .sum();
            }
            let norm = w.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
            if norm == 0.0 {
                break;
            }
            let next = norm / v.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt();
            let settled = (next - lambda).abs() <= 1e-6 * next;
            lambda = next;
            for (vi, wi) in v.iter_mut().zip(&w) {
                *vi = wi / norm;
            }
            if settled {
                break;
            }
        }
        1.05 * lambda + nu
    }

    /// Accelerated projected gradient from `start` onto the box, at most `max_iter` steps; the result
    /// is kept only if it lowers the block objective.
    pub(super) fn solve(
        &self,
        start: &[Complex64],
        u_other: &[Complex64],
        nu: f64,
        bounds: &Bounds,
        max_iter: usize,
    ) -> Vec<Complex64> {
        let n = self.n;
        let step = 1.0 / self.lipschitz(nu);
        let project = |u: &mut [Complex64]| bounds.project(u);
        let mut x = start.to_vec();
        project(&mut x);
        let mut y = x.clone();
        let mut grad = vec![Complex64::new(0.0, 0.0); n];
        let mut t = 1.0f64;
        for _ in 0..max_iter {
            self.gradient(&y, u_other, nu, &mut grad);
            let mut next: Vec<Complex64> = y.iter().zip(&grad).map(|(a, g)| a - step * g).collect();
            project(&mut next);
            let change: f64 = next.iter().zip(&x).map(|(a, b)| (a - b).norm_sqr()).sum::<f64>().sqrt();
            let size: f64 = next.iter().map(|a| a.norm_sqr()).sum::<f64>().sqrt();
            let t_next = 0.5 * (1.0 + (1.0 + 4.0 * t * t).sqrt());
            let beta = (t - 1.0) / t_next;
            // Gradient restart: momentum off when it points uphill.
            let uphill: f64 = grad
                .iter()
                .zip(next.iter().zip(&x))
                .map(|(g, (a, b))| (g.conj() * (a - b)).re)
                .sum();
            if uphill > 0.0 {
                t = 1.0;
                y.copy_from_slice(&next);
            } else {
                for ((yi, a), b) in y.iter_mut().zip(&next).zip(&x) {
                    *yi = a + beta * (a - b);
                }
                t = t_next;
            }
            x = next;
            if change <= 1e-10 * size.max(f64::MIN_POSITIVE) {
                break;
            }
        }
        if self.objective(&x, u_other, nu) <= self.objective(start, u_other, nu) {
            x
        } else {
            start.to_vec()
        }
    }
}
