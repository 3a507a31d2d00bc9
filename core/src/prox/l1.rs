use super::{Prox, check_level, check_step, check_weights, check_weights_len, weight};
use crate::Real;
use crate::error::{Error, Result};

/// The (weighted) ℓ1 norm `g(x) = λ Σᵢ wᵢ |xᵢ|`, optionally with a ridge term `(μ/2) Σᵢ wᵢ xᵢ²` (the
/// elastic-net penalty) and the constraint `x ≥ 0`.
///
/// Its proximal map is soft thresholding followed by a shrinkage, `S(v, γλwᵢ) / (1 + γμwᵢ)` with
/// `S(v, t) = sign(v) max(|v| − t, 0)` (with non-negativity, `max(v − t, 0)`). A weight `wᵢ = 0` leaves
/// coordinate `i` unpenalised (the *partial* Lasso).
#[derive(Debug, Clone, Copy)]
pub struct L1<'a, T> {
    lambda: T,
    ridge: T,
    weights: Option<&'a [T]>,
    nonnegative: bool,
}

/// Soft thresholding `S(v, t) = sign(v) max(|v| − t, 0)` (one-sided, `max(v − t, 0)`, with `nonnegative`);
/// a thresholded value is `+0`, never `−0`.
#[inline]
pub fn soft_threshold<T: Real>(v: T, t: T, nonnegative: bool) -> T {
    let shrunk = if nonnegative { v - t } else { v.abs() - t };
    if shrunk > T::zero() {
        if nonnegative { shrunk } else { v.signum() * shrunk }
    } else {
        T::zero()
    }
}

impl<'a, T: Real> L1<'a, T> {
    /// `λ‖x‖₁` with `λ ≥ 0`.
    pub fn new(lambda: T) -> Result<Self> {
        check_level("lambda", lambda)?;
        Ok(Self {
            lambda,
            ridge: T::zero(),
            weights: None,
            nonnegative: false,
        })
    }
    /// Adds the ridge term `(μ/2) Σᵢ wᵢ xᵢ²` with `μ ≥ 0`, making this the elastic-net penalty.
    pub fn with_ridge(mut self, mu: T) -> Result<Self> {
        check_level("ridge", mu)?;
        self.ridge = mu;
        Ok(self)
    }
    /// Per-coordinate weights `wᵢ ≥ 0` (their length must equal the length of `x` at use).
    pub fn with_weights(mut self, weights: &'a [T]) -> Result<Self> {
        check_weights("L1 weights", weights)?;
        self.weights = Some(weights);
        Ok(self)
    }
    /// Adds the constraint `x ≥ 0`.
    pub fn nonnegative(mut self) -> Self {
        self.nonnegative = true;
        self
    }
    /// The penalty level `λ`.
    pub fn lambda(&self) -> T {
        self.lambda
    }
}

impl<T: Real> Prox<T> for L1<'_, T> {
    fn prox(&self, step: T, x: &mut [T]) -> Result<()> {
        check_step(step)?;
        check_weights_len(self.weights, x.len())?;
        for (i, xi) in x.iter_mut().enumerate() {
            let w = weight(self.weights, i);
            *xi = soft_threshold(*xi, step * self.lambda * w, self.nonnegative) / (T::one() + step * self.ridge * w);
        }
        Ok(())
    }
    fn value(&self, x: &[T]) -> Result<T> {
        check_weights_len(self.weights, x.len())?;
        if self.nonnegative && x.iter().any(|&v| v < T::zero()) {
            return Ok(T::infinity());
        }
        let (l1, l2) = x.iter().enumerate().fold((T::zero(), T::zero()), |(a, b), (i, &v)| {
            let w = weight(self.weights, i);
            (a + w * v.abs(), b + w * v * v)
        });
        Ok(self.lambda * l1 + self.ridge * l2 / T::lit(2.0))
    }
}

/// The group-ℓ2 (group Lasso) penalty `g(x) = λ Σ_g w_g ‖x_g‖₂` over contiguous groups.
///
/// Group `g` is `x[offsets[g]..offsets[g + 1]]`; `offsets` starts at 0, increases strictly, and ends at the
/// length of `x`. Its proximal map is block soft thresholding, `x_g ← max(1 − γλw_g/‖x_g‖, 0) x_g`.
/// (scikit-learn's `MultiTaskLasso` and skglm's `WeightedGroupL2` use this penalty; a common choice of
/// weights is `w_g = √|g|`.)
#[derive(Debug, Clone, Copy)]
pub struct GroupL2<'a, T> {
    lambda: T,
    offsets: &'a [usize],
    weights: Option<&'a [T]>,
}

impl<'a, T: Real> GroupL2<'a, T> {
    /// Groups given by `offsets` (at least two entries: one group).
    pub fn new(lambda: T, offsets: &'a [usize]) -> Result<Self> {
        check_level("lambda", lambda)?;
        if offsets.len() < 2 {
            return Err(Error::Empty {
                what: "groups (offsets needs at least two entries)",
            });
        }
        if offsets[0] != 0 {
            return Err(Error::InvalidSparseStructure {
                reason: "group offsets must start at 0",
                position: 0,
            });
        }
        if let Some(g) = offsets.windows(2).position(|w| w[1] <= w[0]) {
            return Err(Error::InvalidSparseStructure {
                reason: "group offsets must increase strictly",
                position: g,
            });
        }
        Ok(Self {
            lambda,
            offsets,
            weights: None,
        })
    }
    /// Per-group weights `w_g ≥ 0`, one per group.
    pub fn with_weights(mut self, weights: &'a [T]) -> Result<Self> {
        check_weights("group weights", weights)?;
        crate::error::check_len("group weights", self.offsets.len() - 1, weights.len())?;
        self.weights = Some(weights);
        Ok(self)
    }

    fn groups<'x>(&self, len: usize) -> Result<impl Iterator<Item = (usize, core::ops::Range<usize>)> + 'x>
    where
        'a: 'x,
    {
        let offsets = self.offsets;
        crate::error::check_len("x (end of the last group)", offsets[offsets.len() - 1], len)?;
        Ok(offsets.windows(2).enumerate().map(|(g, w)| (g, w[0]..w[1])))
    }
}

impl<T: Real> Prox<T> for GroupL2<'_, T> {
    fn prox(&self, step: T, x: &mut [T]) -> Result<()> {
        check_step(step)?;
        for (g, r) in self.groups(x.len())? {
            let block = &mut x[r];
            let norm = crate::linalg::norm2(block);
            let t = step * self.lambda * weight(self.weights, g);
            let scale = if norm > t { T::one() - t / norm } else { T::zero() };
            block.iter_mut().for_each(|v| *v = *v * scale);
        }
        Ok(())
    }
    fn value(&self, x: &[T]) -> Result<T> {
        let mut s = T::zero();
        for (g, r) in self.groups(x.len())? {
            s = s + weight(self.weights, g) * crate::linalg::norm2(&x[r]);
        }
        Ok(self.lambda * s)
    }
}
