//! Stationary one-dimensional covariance kernels from mixture power spectra (Fang et al., ICLR 2024;
//! Wilson & Adams 2013), with closed-form derivatives in `x` and `x'` for PDE operators.
//!
//! A spectral density `S(s) = Σ_q w_q ½[p(s; μ_q, σ_q) + p(s; −μ_q, σ_q)]` (frequency `s` in cycles per unit
//! of `x`) gives the covariance `k(τ) = ∫ S(s) e^{2πisτ} ds` (Bochner), `τ = x − x'`:
//!
//! * Gaussian components (the spectral-mixture kernel):
//!   `k(τ) = Σ w_q exp(−2π²σ_q²τ²) cos(2πμ_qτ)`;
//! * Student-t components with `2ν` degrees of freedom (scale `σ_q`): `k(τ) = Σ w_q m_ν(β_q|τ|) cos(2πμ_qτ)`
//!   with the Matérn correlation `m_ν` (ν = 3/2 or 5/2) and `β_q = 2πσ_q√(2ν)`.
//!
//! Derivatives: `∂ᵃ_x ∂ᵇ_{x'} k(x − x') = (−1)ᵇ k⁽ᵃ⁺ᵇ⁾(τ)`; [`SpectralMixture::derivative`] gives
//! `k⁽ⁿ⁾(τ)` for `n ≤ 4` (every order the second-order operators need in both arguments; Matérn-3/2 stops
//! at 2, its spectrum having no fourth moment).

use crate::{Error, Result};

/// The family of the mixture components' spectral densities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spectrum {
    /// Gaussian components: the spectral-mixture kernel.
    Gaussian,
    /// Student-t components with `2ν` degrees of freedom: Matérn-ν × cosine, ν = 3/2 (`dof = 3`) or
    /// 5/2 (`dof = 5`).
    StudentT {
        /// Degrees of freedom, 3 or 5.
        dof: u32,
    },
}

impl Spectrum {
    /// The names users give the families (TOML `[solver] spectrum`, the CLI's `--spectrum`, Python's
    /// `spectrum=`), in the order [`Display`](std::fmt::Display) writes them: `student_t` (Matérn-5/2 ×
    /// cosine, 5 degrees of freedom: the paper's GP-HM-StM), `student_t3` (Matérn-3/2 × cosine, 3
    /// degrees of freedom, for rougher solutions), `gaussian` (squared-exponential × cosine: the
    /// spectral-mixture kernel, GP-HM-GM).
    pub const NAMES: [&'static str; 3] = ["student_t", "student_t3", "gaussian"];
}

impl std::fmt::Display for Spectrum {
    /// The family's name (one of [`Spectrum::NAMES`]; `student_t{dof}` for degrees of freedom no name has).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spectrum::StudentT { dof: 5 } => f.write_str("student_t"),
            Spectrum::StudentT { dof } => write!(f, "student_t{dof}"),
            Spectrum::Gaussian => f.write_str("gaussian"),
        }
    }
}

impl std::str::FromStr for Spectrum {
    type Err = Error;

    /// A family by its name (one of [`Spectrum::NAMES`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"spectrum"`) naming the choices.
    fn from_str(name: &str) -> Result<Self> {
        match name {
            "student_t" => Ok(Spectrum::StudentT { dof: 5 }),
            "student_t3" => Ok(Spectrum::StudentT { dof: 3 }),
            "gaussian" => Ok(Spectrum::Gaussian),
            other => Err(crate::error::unknown_name("spectrum", other, &Spectrum::NAMES)),
        }
    }
}

/// One mixture component: weight `w ≥ 0`, spectral mean `μ` (cycles per unit), spectral scale `σ > 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Component {
    /// Weight (the component's variance contribution).
    pub weight: f64,
    /// Mean frequency `μ`, cycles per unit of `x`.
    pub mean: f64,
    /// Spectral scale `σ`, cycles per unit of `x`.
    pub scale: f64,
}

/// A kernel `k(τ)` with a mixture spectrum.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralMixture {
    spectrum: Spectrum,
    components: Vec<Component>,
}

impl SpectralMixture {
    /// A kernel from its spectrum family and components.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for no components, a negative or non-finite weight, a non-positive scale,
    /// a non-finite mean, or Student-t degrees of freedom other than 3 or 5.
    pub fn new(spectrum: Spectrum, components: Vec<Component>) -> Result<Self> {
        let bad = |reason: String| Err(Error::InvalidParameter { name: "kernel", reason });
        if components.is_empty() {
            return bad("needs at least one mixture component".into());
        }
        if let Spectrum::StudentT { dof } = spectrum
            && dof != 3
            && dof != 5
        {
            return bad(format!(
                "Student-t spectra take 3 or 5 degrees of freedom (Matérn-3/2, -5/2), got {dof}"
            ));
        }
        for (q, c) in components.iter().enumerate() {
            if !(c.weight >= 0.0 && c.weight.is_finite() && c.scale > 0.0 && c.scale.is_finite() && c.mean.is_finite())
            {
                return bad(format!(
                    "component {q} needs weight ≥ 0, scale > 0 and a finite mean, got {c:?}"
                ));
            }
        }
        Ok(Self { spectrum, components })
    }

    /// The components.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// The spectrum family.
    pub fn spectrum(&self) -> Spectrum {
        self.spectrum
    }

    /// The highest derivative order [`SpectralMixture::derivative`] supports: 4, or 2 for Matérn-3/2.
    pub fn max_order(&self) -> usize {
        match self.spectrum {
            Spectrum::StudentT { dof: 3 } => 2,
            _ => 4,
        }
    }

    /// `k(τ)`.
    pub fn value(&self, tau: f64) -> f64 {
        self.nth(tau, 0)
    }

    /// `k⁽ⁿ⁾(τ)`, the `n`-th derivative in `τ = x − x'`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `n` exceeds [`SpectralMixture::max_order`].
    pub fn derivative(&self, tau: f64, n: usize) -> Result<f64> {
        if n > self.max_order() {
            return Err(Error::InvalidParameter {
                name: "derivative order",
                reason: format!(
                    "{n} exceeds the kernel's {} (its spectrum's finite moments)",
                    self.max_order()
                ),
            });
        }
        Ok(self.nth(tau, n))
    }

    /// `k⁽ⁿ⁾(τ)` for a supported order.
    fn nth(&self, tau: f64, n: usize) -> f64 {
        // Leibniz: (e c)⁽ⁿ⁾ = Σ_j C(n, j) e⁽ʲ⁾ c⁽ⁿ⁻ʲ⁾.
        self.components
            .iter()
            .map(|c| {
                let mut binom = 1.0;
                let mut s = 0.0;
                for j in 0..=n {
                    let e = self.envelope(c, tau, j);
                    // (0 where the envelope has underflowed, even where ωτ overflows the cosine.)
                    if e != 0.0 {
                        s += binom * e * cosine(c, tau, n - j);
                    }
                    binom = binom * (n - j) as f64 / (j + 1) as f64;
                }
                c.weight * s
            })
            .sum()
    }

    /// The gradient of `k⁽ⁿ⁾(τ)` with respect to each component's parameters, as
    /// `[∂/∂ln w, ∂/∂μ, ∂/∂ln σ]` per component (the log-domain weights and scales the GP solvers train).
    ///
    /// # Errors
    /// As [`SpectralMixture::derivative`].
    pub fn parameter_gradient(&self, tau: f64, n: usize) -> Result<Vec<[f64; 3]>> {
        self.derivative(tau, n)?;
        Ok(self
            .components
            .iter()
            .map(|c| {
                let (mut dw, mut dmu, mut dsigma) = (0.0, 0.0, 0.0);
                let mut binom = 1.0;
                for j in 0..=n {
                    let e = self.envelope(c, tau, j);
                    let es = self.envelope_log_scale_derivative(c, tau, j);
                    // (0 where the envelope has underflowed, however large τ makes the rest.)
                    if e != 0.0 || es != 0.0 {
                        let cj = cosine(c, tau, n - j);
                        dw += binom * e * cj;
                        dmu += binom * e * cosine_mean_derivative(c, tau, n - j);
                        dsigma += binom * es * cj;
                    }
                    binom = binom * (n - j) as f64 / (j + 1) as f64;
                }
                [c.weight * dw, c.weight * dmu, c.weight * dsigma]
            })
            .collect())
    }

    /// `σ ∂/∂σ` of the `j`-th envelope derivative.
    fn envelope_log_scale_derivative(&self, c: &Component, tau: f64, j: usize) -> f64 {
        match self.spectrum {
            Spectrum::Gaussian => {
                // r ∂/∂r [(−r)ʲ Hⱼ(rτ) e^{−r²τ²}] = (−r)ʲ e^{−z²} [j Hⱼ + 2jz Hⱼ₋₁ − 2z² Hⱼ], z = rτ.
                let r = std::f64::consts::SQRT_2 * std::f64::consts::PI * c.scale;
                let z = r * tau;
                let e = (-z * z).exp();
                if e == 0.0 {
                    // Far out the envelope underflows while the polynomial overflows: the limit is 0.
                    return 0.0;
                }
                let hj = hermite(j, z);
                let hjm1 = if j > 0 { hermite(j - 1, z) } else { 0.0 };
                let jf = j as f64;
                (-r).powi(j as i32) * e * (jf * hj + 2.0 * jf * z * hjm1 - 2.0 * z * z * hj)
            }
            Spectrum::StudentT { dof } => {
                // β ∂/∂β [βʲ qⱼ(β|τ|) e^{−β|τ|}] = βʲ e^{−u} [j qⱼ(u) + u qⱼ₊₁(u)], u = β|τ|.
                let beta = 2.0 * std::f64::consts::PI * c.scale * (dof as f64).sqrt();
                let u = beta * tau.abs();
                let e = (-u).exp();
                if e == 0.0 {
                    return 0.0;
                }
                let sign = if tau < 0.0 && j % 2 == 1 { -1.0 } else { 1.0 };
                sign * beta.powi(j as i32) * e * (j as f64 * matern_q(dof, j, u) + u * matern_q(dof, j + 1, u))
            }
        }
    }

    /// `∂ᵃ_x ∂ᵇ_{x'} k(x − x')`.
    ///
    /// # Errors
    /// As [`SpectralMixture::derivative`] for `a + b`.
    pub fn cross_derivative(&self, x: f64, x_prime: f64, a: usize, b: usize) -> Result<f64> {
        let d = self.derivative(x - x_prime, a + b)?;
        Ok(if b % 2 == 1 { -d } else { d })
    }

    /// The `j`-th derivative of a component's envelope (Gaussian or Matérn) at `τ`.
    fn envelope(&self, c: &Component, tau: f64, j: usize) -> f64 {
        match self.spectrum {
            Spectrum::Gaussian => {
                // e = exp(−aτ²), a = 2π²σ²: e⁽ʲ⁾ = (−√a)ʲ Hⱼ(√a τ) e, Hermite polynomials (physicists').
                let a = 2.0 * std::f64::consts::PI.powi(2) * c.scale * c.scale;
                let r = a.sqrt();
                let z = r * tau;
                let e = (-z * z).exp();
                if e == 0.0 {
                    // Far out the envelope underflows while the polynomial overflows: the limit is 0.
                    return 0.0;
                }
                (-r).powi(j as i32) * hermite(j, z) * e
            }
            Spectrum::StudentT { dof } => {
                // m = p(u) e^{−u}, u = β|τ|: m⁽ʲ⁾(τ) = sign(τ)ʲ βʲ qⱼ(u) e^{−u}, q₀ = p, qⱼ₊₁ = qⱼ' − qⱼ.
                let beta = 2.0 * std::f64::consts::PI * c.scale * (dof as f64).sqrt();
                let u = beta * tau.abs();
                let e = (-u).exp();
                if e == 0.0 {
                    return 0.0;
                }
                let q = matern_q(dof, j, u);
                let sign = if tau < 0.0 && j % 2 == 1 { -1.0 } else { 1.0 };
                sign * beta.powi(j as i32) * q * e
            }
        }
    }
}

/// The `j`-th derivative of `cos(2πμτ)`.
fn cosine(c: &Component, tau: f64, j: usize) -> f64 {
    let w = 2.0 * std::f64::consts::PI * c.mean;
    w.powi(j as i32) * (w * tau + j as f64 * std::f64::consts::FRAC_PI_2).cos()
}

/// `∂/∂μ` of the `j`-th derivative of `cos(2πμτ)`: with `ω = 2πμ`,
/// `2π [j ωʲ⁻¹ cos(ωτ + jπ/2) − ωʲ τ sin(ωτ + jπ/2)]`.
fn cosine_mean_derivative(c: &Component, tau: f64, j: usize) -> f64 {
    let w = 2.0 * std::f64::consts::PI * c.mean;
    let phase = w * tau + j as f64 * std::f64::consts::FRAC_PI_2;
    let first = if j == 0 {
        0.0
    } else {
        j as f64 * w.powi(j as i32 - 1) * phase.cos()
    };
    2.0 * std::f64::consts::PI * (first - w.powi(j as i32) * tau * phase.sin())
}

/// Physicists' Hermite polynomial `Hₙ(z)` (H₀ = 1, H₁ = 2z, Hₙ₊₁ = 2zHₙ − 2nHₙ₋₁).
fn hermite(n: usize, z: f64) -> f64 {
    let (mut h0, mut h1) = (1.0, 2.0 * z);
    if n == 0 {
        return h0;
    }
    for k in 1..n {
        let h2 = 2.0 * z * h1 - 2.0 * k as f64 * h0;
        h0 = h1;
        h1 = h2;
    }
    h1
}

/// `qⱼ(u)` for the Matérn correlation `p(u)e^{−u}`: p = 1 + u (ν = 3/2) or 1 + u + u²/3 (ν = 5/2), as
/// polynomial coefficients, differentiated by the recurrence `qⱼ₊₁ = qⱼ' − qⱼ`.
fn matern_q(dof: u32, j: usize, u: f64) -> f64 {
    let mut q: Vec<f64> = if dof == 3 {
        vec![1.0, 1.0]
    } else {
        vec![1.0, 1.0, 1.0 / 3.0]
    };
    for _ in 0..j {
        let mut next = vec![0.0; q.len()];
        for (k, &c) in q.iter().enumerate() {
            next[k] -= c;
            if k > 0 {
                next[k - 1] += k as f64 * c;
            }
        }
        q = next;
    }
    q.iter().rev().fold(0.0, |acc, &c| acc * u + c)
}
