use super::{Prox, check_level, check_step};
use crate::Real;
use crate::error::{Result, check_finite, check_len};

/// The ℓ0 pseudo-norm `g(x) = λ #{i : xᵢ ≠ 0}`.
///
/// Its proximal map is hard thresholding: keep `vᵢ` when `vᵢ² > 2γλ`, else 0.
#[derive(Debug, Clone, Copy)]
pub struct L0<T> {
    lambda: T,
}

impl<T: Real> L0<T> {
    /// `λ‖x‖₀` with `λ ≥ 0`.
    pub fn new(lambda: T) -> Result<Self> {
        check_level("lambda", lambda)?;
        Ok(Self { lambda })
    }
}

impl<T: Real> Prox<T> for L0<T> {
    fn prox(&self, step: T, x: &mut [T]) -> Result<()> {
        check_step(step)?;
        let t2 = T::lit(2.0) * step * self.lambda;
        x.iter_mut().filter(|v| **v * **v <= t2).for_each(|v| *v = T::zero());
        Ok(())
    }
    fn value(&self, x: &[T]) -> Result<T> {
        Ok(self.lambda * T::lit(x.iter().filter(|v| **v != T::zero()).count() as f64))
    }
}

/// CEL0, the continuous exact ℓ0 relaxation of Soubies, Blanc-Féraud and Aubert (SIAM J. Imaging Sci. 2015):
///
/// ```text
///     g(x) = Σᵢ λ − (aᵢ²/2) (|xᵢ| − √(2λ)/aᵢ)²  · 1{|xᵢ| ≤ √(2λ)/aᵢ}
/// ```
///
/// where `aᵢ = ‖A eᵢ‖₂` are the column norms of the least-squares operator. For `½‖Ax − b‖² + λ‖x‖₀` it has
/// the same global minimisers and removes some local ones. Its proximal map, for `γaᵢ² < 1`, is
/// `sign(v) min(|v|, max(|v| − √(2λ) aᵢ γ, 0) / (1 − aᵢ²γ))`; for `γaᵢ² ≥ 1` (a concave piece) it is the best
/// of the candidates `0`, `±√(2λ)/aᵢ` and `v`. A column norm of 0 leaves that coordinate free.
#[derive(Debug, Clone, Copy)]
pub struct Cel0<'a, T> {
    lambda: T,
    col_norms: &'a [T],
}

impl<'a, T: Real> Cel0<'a, T> {
    /// CEL0 at level `λ ≥ 0` for an operator with column norms `col_norms` (each `≥ 0`).
    pub fn new(lambda: T, col_norms: &'a [T]) -> Result<Self> {
        check_level("lambda", lambda)?;
        super::check_weights("CEL0 column norms", col_norms)?;
        Ok(Self { lambda, col_norms })
    }

    fn phi(&self, a: T, u: T) -> T {
        if a == T::zero() {
            return T::zero();
        }
        let t = (T::lit(2.0) * self.lambda).sqrt() / a;
        let u = u.abs();
        if u <= t {
            let d = u - t;
            self.lambda - a * a / T::lit(2.0) * d * d
        } else {
            self.lambda
        }
    }

    fn prox_scalar(&self, step: T, a: T, v: T) -> T {
        if a == T::zero() {
            return v;
        }
        let sq = (T::lit(2.0) * self.lambda).sqrt();
        let ga2 = step * a * a;
        if ga2 < T::one() {
            let shrunk = (v.abs() - sq * a * step).max(T::zero()) / (T::one() - ga2);
            return v.signum() * v.abs().min(shrunk);
        }
        let t = sq / a;
        let cost = |x: T| (x - v) * (x - v) / T::lit(2.0) + step * self.phi(a, x);
        let candidates = [T::zero(), v.signum() * t, v];
        let mut best = T::zero();
        let mut best_cost = cost(best);
        for c in candidates {
            let cc = cost(c);
            if cc < best_cost {
                best = c;
                best_cost = cc;
            }
        }
        best
    }
}

impl<T: Real> Prox<T> for Cel0<'_, T> {
    fn prox(&self, step: T, x: &mut [T]) -> Result<()> {
        check_step(step)?;
        check_len("x (CEL0 column norms)", self.col_norms.len(), x.len())?;
        check_finite("x", x)?;
        for (xi, &a) in x.iter_mut().zip(self.col_norms) {
            *xi = self.prox_scalar(step, a, *xi);
        }
        Ok(())
    }
    fn value(&self, x: &[T]) -> Result<T> {
        check_len("x (CEL0 column norms)", self.col_norms.len(), x.len())?;
        Ok(x.iter()
            .zip(self.col_norms)
            .fold(T::zero(), |s, (&v, &a)| s + self.phi(a, v)))
    }
}
