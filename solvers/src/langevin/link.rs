//! Links as Hermite expansions: `σ(z) = Σ_j c_j h_j(z)` with `h_j = He_j/√(j!)` the normalised
//! probabilists' Hermite polynomials, orthonormal under the standard Gaussian (`E[h_i(g) h_j(g)] = δ_ij`).
//! The information exponent `k*` is the smallest `j ≥ 1` with `c_j ≠ 0`.

use crate::{Error, Result};

/// `(h_k(z), h_k′(z))` for the normalised Hermite polynomial of degree `k`, by the three-term recurrence
/// `He_{j+1} = z He_j − j He_{j−1}` and `He_k′ = k He_{k−1}`.
pub fn hermite(k: usize, z: f64) -> (f64, f64) {
    let (mut prev, mut cur) = (0.0, 1.0); // He_{−1} := 0, He_0 = 1
    for j in 0..k {
        (prev, cur) = (cur, z * cur - j as f64 * prev);
    }
    // Now cur = He_k and prev = He_{k−1}; h_k = He_k/√(k!), h_k′ = k He_{k−1}/√(k!) = √k · h_{k−1}.
    let norm = (1..=k).map(|j| j as f64).product::<f64>().sqrt();
    (cur / norm, k as f64 * prev / norm)
}

/// A link `σ` by its Hermite coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    coefficients: Vec<f64>,
    exponent: usize,
}

impl Default for Link {
    /// The normalised Hermite polynomial `h₃` (information exponent 3).
    fn default() -> Self {
        Self {
            coefficients: vec![0.0, 0.0, 0.0, 1.0],
            exponent: 3,
        }
    }
}

impl Link {
    /// The link `Σ_j c_j h_j` with `coefficients[j] = c_j`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a non-finite coefficient, or no nonzero coefficient of degree ≥ 1
    /// (a constant link carries no information about the direction).
    pub fn new(coefficients: Vec<f64>) -> Result<Self> {
        // Beyond ±1e6 the drift (the coefficients times Hermite values of the projections, times y and x)
        // overflows f64 on ordinary data; a link that large is a link on another scale.
        if let Some(j) = coefficients.iter().position(|c| !(-1e6..=1e6).contains(c)) {
            return Err(Error::InvalidParameter {
                name: "link",
                reason: format!(
                    "Hermite coefficient {j} is {:?}: the coefficients must be finite and within ±1e6 (rescale the link)",
                    coefficients[j]
                ),
            });
        }
        let exponent = (1..coefficients.len())
            .find(|&j| coefficients[j] != 0.0)
            .ok_or_else(|| Error::InvalidParameter {
                name: "link",
                reason: "has no nonzero Hermite coefficient of degree 1 or more: y would not depend on the direction"
                    .into(),
            })?;
        Ok(Self { coefficients, exponent })
    }

    /// The pure normalised Hermite link `h_k` (information exponent `k ≥ 1`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for `k = 0` or `k > 30` (beyond which `√(k!)` and the polynomial's
    /// range make the values meaningless in `f64` at unit-scale arguments).
    pub fn hermite(k: usize) -> Result<Self> {
        if k == 0 || k > 30 {
            return Err(Error::InvalidParameter {
                name: "k",
                reason: format!("the Hermite degree must lie in 1..=30, got {k}"),
            });
        }
        let mut c = vec![0.0; k + 1];
        c[k] = 1.0;
        Self::new(c)
    }

    /// The information exponent `k*`.
    pub fn information_exponent(&self) -> usize {
        self.exponent
    }

    /// The Hermite coefficients.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// `(σ(z), σ′(z))`.
    pub fn eval(&self, z: f64) -> (f64, f64) {
        // One recurrence for all degrees.
        let (mut prev, mut cur) = (0.0, 1.0);
        let (mut value, mut slope) = (0.0, 0.0);
        let mut factorial = 1.0f64;
        for (j, c) in self.coefficients.iter().enumerate() {
            if j > 0 {
                factorial *= j as f64;
            }
            let norm = factorial.sqrt();
            value += c * cur / norm;
            slope += c * j as f64 * prev / norm;
            (prev, cur) = (cur, z * cur - j as f64 * prev);
        }
        (value, slope)
    }
}
