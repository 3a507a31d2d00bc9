//! Manufactured-solution problems drawn from a seed: a solution built from random terms (separable
//! high-frequency waves, smooth non-separable functions of `x·y` and `x + y`, radial bumps, exponentials,
//! polynomials), an equation of a [`Family`], and the source and Dirichlet data derived from the solution
//! (symbolically, by [`Problem`]). Every problem is a TOML text, so any one of them can be re-run with
//! `sparsimony pde --problem`.
//!
//! The domain is `[0, 1]^d` (`d` = 1 or 2). Frequencies are at most 60 rad per unit, so that a grid of
//! 100 points per axis or more holds at least 10 points per wavelength; Helmholtz wave numbers stay below
//! the first Dirichlet eigenvalue (`k < π` in 1D, `k < π√2` in 2D), where the problem is well posed for
//! every method.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::problem::Problem;
use crate::Result;

/// The equation of a manufactured problem (`Δ` is `u_xx` in 1D and `u_xx + u_yy` in 2D).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `Δu = f`.
    Poisson,
    /// `Δu + k²u = f`, `k` drawn in `[1, 3]` (1D) or `[1, 4]` (2D).
    Helmholtz,
    /// `Δu + u(u² − 1) = f` (the paper's Allen–Cahn form; nonlinear).
    AllenCahn,
    /// `β u_x = f` in 1D, `u_t + β u_x = f` on the `(t, x)` square in 2D, `β` drawn log-uniformly in
    /// `[1, 20]`; Dirichlet data on every face, as the paper's advection benchmark.
    Advection,
    /// Steady conduction with a conductivity that varies in space, `∇·(a∇u) = f` with `a = 1 + c·x²` in
    /// 1D and `a = 1 + c·(x² + y)` in 2D, `c` drawn in `[0.5, 3]`, written out as the operator
    /// `a Δu + ∇a·∇u` (variable coefficients). Not in [`Family::ALL`], the suite's fixed cycle.
    Conduction,
}

impl Family {
    /// Every family, in the order [`Suite`] cycles through them.
    pub const ALL: [Family; 4] = [Family::Poisson, Family::Helmholtz, Family::AllenCahn, Family::Advection];

    /// Every family: the suite's cycle, then those outside it.
    pub const EVERY: [Family; 5] = [
        Family::Poisson,
        Family::Helmholtz,
        Family::AllenCahn,
        Family::Advection,
        Family::Conduction,
    ];

    /// The family's name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            Family::Poisson => "poisson",
            Family::Helmholtz => "helmholtz",
            Family::AllenCahn => "allen-cahn",
            Family::Advection => "advection",
            Family::Conduction => "conduction",
        }
    }

    /// Whether the equation is linear in `u` (the finite-difference and Chebyshev baselines solve those
    /// with constant coefficients).
    pub fn is_linear(self) -> bool {
        self != Family::AllenCahn
    }
}

impl std::str::FromStr for Family {
    type Err = crate::Error;

    /// A family by its [`name`](Family::name).
    fn from_str(name: &str) -> Result<Self> {
        Family::EVERY
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| crate::Error::InvalidParameter {
                name: "family",
                reason: format!(
                    "unknown family `{name}`; the families are {}",
                    Family::EVERY.map(Family::name).join(", ")
                ),
            })
    }
}

/// One manufactured problem.
#[derive(Debug, Clone)]
pub struct Manufactured {
    /// The seed it was drawn from.
    pub seed: u64,
    /// Its equation.
    pub family: Family,
    /// Its exact solution, as an expression of the axes (`x`; `x, y`; or `t, x` for 2D advection).
    pub solution: String,
    /// The kinds of the solution's terms, e.g. `["wave x·y", "radial bump"]`.
    pub kinds: Vec<&'static str>,
    /// The problem as TOML (`sparsimony pde --problem` reads it).
    pub toml: String,
    /// The problem, parsed.
    pub problem: Problem,
}

impl Manufactured {
    /// One line: family, dimension, seed and solution.
    pub fn describe(&self) -> String {
        format!(
            "{} {}D, seed {}: u = {}",
            self.family.name(),
            self.problem.axes().len(),
            self.seed,
            self.solution
        )
    }
}

/// A seeded family of manufactured problems of one dimension and grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    /// 1 or 2 axes.
    pub dims: usize,
    /// Collocation points per axis.
    pub points: usize,
}

impl Suite {
    /// Problem `i` of the suite: family `Family::ALL[i mod 4]`, solution drawn from seed `i`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for `dims` other than 1 or 2 or fewer than 8 points per axis.
    pub fn problem(&self, i: u64) -> Result<Manufactured> {
        manufactured(Family::ALL[(i % 4) as usize], self.dims, self.points, i)
    }
}

/// Uniform in `[lo, hi)`.
fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A number as the expression language reads it, to 4 significant digits (the problem is defined by the
/// text, so rounding here changes nothing downstream).
fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    if v < 0.0 { format!("({s})") } else { s }
}

/// One random term of the solution in the variables `v` (one or two names): its expression and kind.
fn term(rng: &mut ChaCha8Rng, v: &[&str]) -> (String, &'static str) {
    let amp = {
        let a = uniform(rng, 0.5, 2.0);
        if rng.next_u64() & 1 == 0 { a } else { -a }
    };
    let phase = |rng: &mut ChaCha8Rng| uniform(rng, 0.0, std::f64::consts::TAU);
    // One high-frequency wave per axis, joined by `op` (a product or a sum).
    let waves = |rng: &mut ChaCha8Rng, op: &str| {
        v.iter()
            .map(|x| format!("sin({}*{x} + {})", num(uniform(rng, 10.0, 60.0)), num(phase(rng))))
            .collect::<Vec<_>>()
            .join(op)
    };
    let kinds: u64 = if v.len() == 1 { 5 } else { 7 };
    match rng.next_u64() % kinds {
        0 => {
            // Separable high-frequency wave (a product of waves along the axes).
            (format!("{}*{}", num(amp), waves(rng, "*")), "high-frequency wave")
        }
        1 => {
            let s = uniform(rng, 0.1, 0.4);
            let r2 = v
                .iter()
                .map(|x| format!("({x} - {})^2", num(uniform(rng, 0.2, 0.8))))
                .collect::<Vec<_>>()
                .join(" + ");
            (format!("{}*exp(-({r2})/{})", num(amp), num(2.0 * s * s)), "radial bump")
        }
        2 => {
            // Exponential: separable in 1D; of x·y in 2D.
            let b = uniform(rng, -2.0, 2.0);
            let arg = v.join("*");
            (format!("{}*exp({}*{arg})", num(amp), num(b)), "exponential")
        }
        3 => {
            // Polynomial of total degree ≤ 3.
            let mut parts = Vec::new();
            let monomials: Vec<Vec<u32>> = if v.len() == 1 {
                (1..=3).map(|i| vec![i]).collect()
            } else {
                (0..=3u32)
                    .flat_map(|i| (0..=3 - i).map(move |j| vec![i, j]))
                    .filter(|m| m.iter().sum::<u32>() > 0)
                    .collect()
            };
            for m in monomials {
                if rng.next_u64().is_multiple_of(2) {
                    continue;
                }
                let factors: Vec<String> = v
                    .iter()
                    .zip(&m)
                    .filter(|(_, p)| **p > 0)
                    .map(|(x, p)| if *p == 1 { x.to_string() } else { format!("{x}^{p}") })
                    .collect();
                parts.push(format!("{}*{}", num(uniform(rng, -2.0, 2.0)), factors.join("*")));
            }
            if parts.is_empty() {
                parts.push(format!("{}*{}", num(amp), v.join("*")));
            }
            (format!("({})", parts.join(" + ")), "polynomial")
        }
        4 => {
            // Smooth wave: along the axis in 1D, of x + y (a plane wave oblique to the grid) in 2D.
            let b = uniform(rng, 1.0, 8.0);
            let arg = v.join(" + ");
            (
                format!("{}*sin({}*({arg}) + {})", num(amp), num(b), num(phase(rng))),
                "smooth wave",
            )
        }
        5 => {
            // Smooth wave of x·y.
            let b = uniform(rng, 1.0, 6.0);
            (
                format!("{}*sin({}*{} + {})", num(amp), num(b), v.join("*"), num(phase(rng))),
                "wave of x·y",
            )
        }
        _ => {
            // Sum of separable high-frequency waves, one per axis.
            (
                format!("{}*({})", num(amp), waves(rng, " + ")),
                "sum of high-frequency waves",
            )
        }
    }
}

/// The TOML text of a problem on `[0, 1]^d` with Dirichlet data on every face from the exact `solution`.
fn problem_text(name: &str, axes: &[&str], parameters: &str, operator: &str, solution: &str, points: usize) -> String {
    let mut toml = format!("name = \"{name}\"\ndescription = \"manufactured problem, u = {solution}\"\n{parameters}");
    for a in axes {
        toml.push_str(&format!(
            "\n[[axis]]\nname = \"{a}\"\nlower = 0\nupper = 1\npoints = {points}\n"
        ));
    }
    toml.push_str(&format!(
        "\n[[equation]]\noperator = \"{operator}\"\n\n[exact]\nu = \"{solution}\"\n"
    ));
    toml
}

fn toml_problem(
    name: &str,
    axes: &[&str],
    parameters: &str,
    operator: &str,
    solution: &str,
    points: usize,
) -> Result<Problem> {
    Problem::from_toml(&problem_text(name, axes, parameters, operator, solution, points))
}

/// A manufactured problem of `family` on `[0, 1]^dims` with `points` per axis, drawn from `seed`: a
/// solution of one to three random terms, the equation's source and the Dirichlet data on every face
/// derived from it.
///
/// # Errors
/// [`crate::Error::InvalidParameter`] for `dims` other than 1 or 2 or fewer than 8 points per axis.
pub fn manufactured(family: Family, dims: usize, points: usize, seed: u64) -> Result<Manufactured> {
    if !(1..=2).contains(&dims) {
        return Err(crate::Error::InvalidParameter {
            name: "dims",
            reason: format!("manufactured problems have 1 or 2 axes, got {dims}"),
        });
    }
    if points < 8 {
        return Err(crate::Error::InvalidParameter {
            name: "points",
            reason: format!("at least 8 points per axis, got {points}"),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let axes: &[&str] = match (family, dims) {
        (Family::Advection, 2) => &["t", "x"],
        (_, 1) => &["x"],
        _ => &["x", "y"],
    };
    let n_terms = 1 + (rng.next_u64() % 3) as usize;
    let (terms, kinds): (Vec<String>, Vec<&'static str>) = (0..n_terms).map(|_| term(&mut rng, axes)).unzip();
    let mut solution = terms.join(" + ");
    let name = format!("{}_{dims}d-seed{seed}", family.name());
    if family == Family::AllenCahn {
        // Scaled to max |u| = 1: then the linearisation −Δ + 1 − 3u² stays positive definite (its first
        // Dirichlet eigenvalue π² exceeds 3u² − 1 ≤ 2), so the problem has one solution near the exact
        // one; with |u| ≈ 3 it has others, and which one a solver finds says nothing about the solver.
        let probe: Vec<Vec<f64>> = (0..dims)
            .map(|_| (0..=100).map(|i| f64::from(i) / 100.0).collect())
            .collect();
        let peak = toml_problem(&name, axes, "", "u", &solution, points)?
            .exact_on(&probe)?
            .into_iter()
            .flatten()
            .flatten()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        if peak > 1.0 {
            solution = format!("{}*({solution})", num(1.0 / peak));
        }
    }
    let laplacian = match dims {
        1 => "u_xx",
        _ => "u_xx + u_yy",
    };
    let (operator, parameters) = match family {
        Family::Poisson => (laplacian.to_string(), String::new()),
        Family::Helmholtz => {
            let k = uniform(&mut rng, 1.0, if dims == 1 { 3.0 } else { 4.0 });
            (
                format!("{laplacian} + k^2*u"),
                format!("parameters = {{ k = {} }}\n", num(k)),
            )
        }
        Family::AllenCahn => (format!("{laplacian} + u*(u^2 - 1)"), String::new()),
        Family::Conduction => {
            let c = uniform(&mut rng, 0.5, 3.0);
            let op = if dims == 1 {
                "(1 + c*x^2)*u_xx + 2*c*x*u_x"
            } else {
                "(1 + c*(x^2 + y))*(u_xx + u_yy) + c*(2*x*u_x + u_y)"
            };
            (op.to_string(), format!("parameters = {{ c = {} }}\n", num(c)))
        }
        Family::Advection => {
            let beta = 20f64.powf(uniform(&mut rng, 0.0, 1.0));
            let op = if dims == 1 { "beta*u_x" } else { "u_t + beta*u_x" };
            (op.to_string(), format!("parameters = {{ beta = {} }}\n", num(beta)))
        }
    };
    let toml = problem_text(&name, axes, &parameters, &operator, &solution, points);
    let problem = Problem::from_toml(&toml)?;
    Ok(Manufactured {
        seed,
        family,
        solution,
        kinds,
        toml,
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_reproducible_and_cover_every_family() {
        let suite = Suite { dims: 2, points: 16 };
        for i in 0..8 {
            let a = suite.problem(i).unwrap();
            let b = suite.problem(i).unwrap();
            assert_eq!(a.toml, b.toml);
            assert_eq!(a.family, Family::ALL[(i % 4) as usize]);
            // The TOML is the problem: it parses back to the same one, and discretizes.
            assert_eq!(Problem::from_toml(&a.toml).unwrap(), a.problem);
            a.problem.discretize().unwrap();
        }
        assert_ne!(suite.problem(0).unwrap().solution, suite.problem(4).unwrap().solution);
        assert!(manufactured(Family::Poisson, 3, 16, 0).is_err());
        // Every family by its name; conduction's coefficients vary in space.
        assert_eq!(Family::EVERY[..4], Family::ALL);
        for f in Family::EVERY {
            assert_eq!(f.name().parse::<Family>().unwrap(), f);
        }
        assert!("heat".parse::<Family>().unwrap_err().to_string().contains("conduction"));
        for d in [1, 2] {
            let c = manufactured(Family::Conduction, d, 16, 3).unwrap();
            let disc = c.problem.discretize().unwrap();
            assert!(
                disc.equations[0]
                    .terms
                    .iter()
                    .any(|t| t.coefficient.constant().is_none())
            );
        }
        assert!(manufactured(Family::Poisson, 1, 4, 0).is_err());
    }
}
