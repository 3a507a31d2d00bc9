//! Manufactured-solution problems drawn from a seed, by class: an equation of a [`Family`] and an exact
//! solution of the [`Class`]'s kind, with the source and Dirichlet data derived from the solution
//! (symbolically, by [`Problem`]). Every problem is a TOML text, so any one of them can be re-run with
//! `sparsimony pde --problem`.
//!
//! The domain is `[0, 1]^d` (`d` = 1, 2 or 3; space-time families put time first). Today's suite
//! ([`Class::Mixed`]) mixes separable waves of at most 60 rad per unit (15 in 3D) with smooth terms,
//! so that a grid of 100 points per axis (32 in 3D) holds at least 10 points per wavelength, and keeps
//! Helmholtz wave numbers below the first Dirichlet eigenvalue (`k < π√d`). The broadened suite
//! ([`Class::broad`]) adds the classes users bring beyond it: waves up to 120 rad per unit (30 in 3D),
//! waves under envelopes, chirps, interior layers, oblique waves, indefinite Helmholtz problems between
//! eigenvalues, advection–diffusion in space and time, and conductivities that vary in space.

mod solutions;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::problem::Problem;
use crate::Result;
use solutions::{Drawn, log_uniform, num, uniform};

/// The equation of a manufactured problem (`Δ` is the Laplacian over the space axes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// `Δu = f`.
    Poisson,
    /// `Δu + k²u = f`, `k` drawn in `[1, 3]` (1D) or `[1, 4]` (2D, 3D): below the first Dirichlet
    /// eigenvalue, where the problem is positive definite.
    Helmholtz,
    /// `Δu + u(u² − 1) = f` (the paper's Allen–Cahn form; nonlinear), the solution scaled to
    /// `max |u| = 1` so that the linearisation stays definite.
    AllenCahn,
    /// `β u_x = f` in 1D, `u_t + β u_x = f` on the `(t, x)` square in 2D and `u_t + β(u_x + u_y) = f` in
    /// 3D, `β` drawn log-uniformly in `[1, 20]`; Dirichlet data on every face, as the paper's advection
    /// benchmark.
    Advection,
    /// Steady conduction with a conductivity that varies in space, `∇·(a∇u) = f` with `a = 1 + c·x²` in
    /// 1D and `a = 1 + c·(x² + y)` otherwise, `c` drawn in `[0.5, 3]`, written out as the operator
    /// `a Δu + ∇a·∇u` (variable coefficients).
    Conduction,
    /// Indefinite Helmholtz `Δu + k²u = f`, `k²` between two Dirichlet eigenvalues `π²|n|²` of the
    /// domain, at 25–75 % of the gap between them (a neighbour of `k0²`, `k0` drawn in `[5, 40]` in 1D,
    /// `[5, 30]` in 2D and `[6, 12]` in 3D): well posed, but not definite.
    IndefiniteHelmholtz,
    /// Advection–diffusion with `ν` drawn log-uniformly in `[1e-3, 1e-2]`: steady `β u_x − ν u_xx = f`
    /// in 1D (`β` in `[1, 10]`); in space and time otherwise, `u_t + b·∇u − νΔu = f` with Dirichlet data
    /// at `t = 0` and on the space faces only (`b = β` in `[0.5, 3]` on the `(t, x)` square, `b = (β, γ)`
    /// with `γ` in `[−2, 2]` on `(t, x, y)`).
    AdvectionDiffusion,
}

impl Family {
    /// Today's suite's families, in the order [`Class::Mixed`] cycles through them.
    pub const ALL: [Family; 4] = [Family::Poisson, Family::Helmholtz, Family::AllenCahn, Family::Advection];

    /// Every family.
    pub const EVERY: [Family; 7] = [
        Family::Poisson,
        Family::Helmholtz,
        Family::AllenCahn,
        Family::Advection,
        Family::Conduction,
        Family::IndefiniteHelmholtz,
        Family::AdvectionDiffusion,
    ];

    /// The family's name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            Family::Poisson => "poisson",
            Family::Helmholtz => "helmholtz",
            Family::AllenCahn => "allen-cahn",
            Family::Advection => "advection",
            Family::Conduction => "conduction",
            Family::IndefiniteHelmholtz => "indefinite-helmholtz",
            Family::AdvectionDiffusion => "advection-diffusion",
        }
    }

    /// Whether the equation is linear in `u` (the finite-difference and Chebyshev baselines solve those
    /// with constant coefficients).
    pub fn is_linear(self) -> bool {
        self != Family::AllenCahn
    }

    /// Whether the first axis is time (the family in more than one dimension).
    fn is_space_time(self, dims: usize) -> bool {
        dims > 1 && matches!(self, Family::Advection | Family::AdvectionDiffusion)
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

/// A class of manufactured problems: the kind of exact solution and the families it is posed with.
/// Frequencies are given for 1D and 2D; in 3D they are a quarter (`top` = 30 rad per unit, 15 for
/// today's terms), for grids of about 32 points per axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// Today's suite: one to three random terms (separable waves of 10–60 rad per unit, sums of them,
    /// radial bumps, exponentials, polynomials, smooth waves of `x + y` and `x·y`), the families of
    /// [`Family::ALL`] in turn.
    Mixed,
    /// Waves of 60–120 rad per unit along every axis (a product or a sum), perhaps beside a smooth term;
    /// Poisson, Helmholtz, Allen–Cahn.
    HighFrequency,
    /// A separable wave of 20–100 rad per unit under a damped, growing or Gaussian envelope; Poisson,
    /// Helmholtz, Allen–Cahn.
    Envelope,
    /// A chirp `sin(a·|x|²)`, local frequencies up to 120 rad per unit; Poisson, Helmholtz.
    Chirp,
    /// An interior layer `tanh(s/w)` across a random line, `w` in `[0.03, 0.1]`; Poisson, Allen–Cahn.
    Layer,
    /// A plane wave of 20–120 rad per unit oblique to the grid beside a bump (two axes or more);
    /// Poisson, Helmholtz.
    Oblique,
    /// [`Family::IndefiniteHelmholtz`], the solution an oblique wave of 20–60 rad per unit (a wave in
    /// 1D) beside a bump.
    IndefiniteHelmholtz,
    /// [`Family::AdvectionDiffusion`]: in space and time, two modes travelling with the flow and
    /// decaying as it diffuses them (the source is zero); steady in 1D, with today's terms.
    AdvectionDiffusion,
    /// [`Family::Conduction`] (coefficients that vary in space), today's terms.
    Conduction,
}

impl Class {
    /// The broadened suite's classes in `dims` dimensions, in the order [`Suite`] cycles through them:
    /// every class ([`Class::Oblique`] only with two axes or more).
    pub fn broad(dims: usize) -> &'static [Class] {
        const EVERY: [Class; 9] = [
            Class::Mixed,
            Class::HighFrequency,
            Class::Envelope,
            Class::Chirp,
            Class::Layer,
            Class::Oblique,
            Class::IndefiniteHelmholtz,
            Class::AdvectionDiffusion,
            Class::Conduction,
        ];
        const LINE: [Class; 8] = [
            Class::Mixed,
            Class::HighFrequency,
            Class::Envelope,
            Class::Chirp,
            Class::Layer,
            Class::IndefiniteHelmholtz,
            Class::AdvectionDiffusion,
            Class::Conduction,
        ];
        if dims == 1 { &LINE } else { &EVERY }
    }

    /// The class's name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            Class::Mixed => "mixed",
            Class::HighFrequency => "high-frequency",
            Class::Envelope => "envelope",
            Class::Chirp => "chirp",
            Class::Layer => "layer",
            Class::Oblique => "oblique",
            Class::IndefiniteHelmholtz => "indefinite-helmholtz",
            Class::AdvectionDiffusion => "advection-diffusion",
            Class::Conduction => "conduction",
        }
    }

    /// The families the class's problems are posed with, in the order the suite cycles through them.
    pub fn families(self) -> &'static [Family] {
        use Family::*;
        match self {
            Class::Mixed => &Family::ALL,
            Class::HighFrequency | Class::Envelope => &[Poisson, Helmholtz, AllenCahn],
            Class::Chirp | Class::Oblique => &[Poisson, Helmholtz],
            Class::Layer => &[Poisson, AllenCahn],
            Class::IndefiniteHelmholtz => &[IndefiniteHelmholtz],
            Class::AdvectionDiffusion => &[AdvectionDiffusion],
            Class::Conduction => &[Conduction],
        }
    }
}

impl std::str::FromStr for Class {
    type Err = crate::Error;

    /// A class by its [`name`](Class::name).
    fn from_str(name: &str) -> Result<Self> {
        let every = Class::broad(2);
        every
            .iter()
            .copied()
            .find(|c| c.name() == name)
            .ok_or_else(|| crate::Error::InvalidParameter {
                name: "class",
                reason: format!(
                    "unknown class `{name}`; the classes are {}",
                    every.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
                ),
            })
    }
}

/// One manufactured problem.
#[derive(Debug, Clone)]
pub struct Manufactured {
    /// The seed it was drawn from.
    pub seed: u64,
    /// Its class.
    pub class: Class,
    /// Its equation.
    pub family: Family,
    /// Its exact solution, as an expression of the axes (`x`; `x, y`; `x, y, z`; time first for the
    /// space-time families).
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
            "{} {}D ({}), seed {}: u = {}",
            self.family.name(),
            self.problem.axes().len(),
            self.class.name(),
            self.seed,
            self.solution
        )
    }
}

/// A seeded set of manufactured problems of one dimension and grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    /// 1, 2 or 3 axes.
    pub dims: usize,
    /// Collocation points per axis.
    pub points: usize,
    /// The classes problem `i` cycles through: `&[Class::Mixed]` is today's suite, [`Class::broad`] the
    /// broadened one.
    pub classes: &'static [Class],
}

impl Suite {
    /// Today's suite in `dims` dimensions on `points` per axis.
    pub fn today(dims: usize, points: usize) -> Self {
        Self {
            dims,
            points,
            classes: &[Class::Mixed],
        }
    }

    /// The broadened suite in `dims` dimensions on `points` per axis.
    pub fn broad(dims: usize, points: usize) -> Self {
        Self {
            dims,
            points,
            classes: Class::broad(dims),
        }
    }

    /// The suite's default points per axis: 200 in 1D, 120 in 2D, 32 in 3D.
    pub fn default_points(dims: usize) -> usize {
        match dims {
            1 => 200,
            2 => 120,
            _ => 32,
        }
    }

    /// Problem `i`: class `classes[i mod n]` (`n` classes), posed with the class's families in turn (the
    /// `i / n`-th), drawn from seed `i`. Today's suite's problem `i` is family `Family::ALL[i mod 4]`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParameter`] for no classes, `dims` other than 1, 2 or 3, or fewer than 8
    /// points per axis.
    pub fn problem(&self, i: u64) -> Result<Manufactured> {
        let n = self.classes.len() as u64;
        let class = *self
            .classes
            .get((i % n.max(1)) as usize)
            .ok_or(crate::Error::InvalidParameter {
                name: "classes",
                reason: "a suite needs at least one class".into(),
            })?;
        let families = class.families();
        let family = families[((i / n) % families.len() as u64) as usize];
        manufactured(class, family, self.dims, self.points, i)
    }
}

/// The equation of a family in `dims` dimensions: its operator, its parameters and the Dirichlet faces
/// (`None`: every face).
struct Equation {
    operator: String,
    parameters: Vec<(&'static str, f64)>,
    faces: Option<&'static str>,
}

impl Equation {
    /// A parameter's value by name (0 where the family has none of that name).
    fn get(&self, name: &str) -> f64 {
        self.parameters.iter().find(|p| p.0 == name).map_or(0.0, |p| p.1)
    }
}

/// Draws the equation of `family` in `dims` dimensions.
fn equation(family: Family, dims: usize, rng: &mut ChaCha8Rng) -> Equation {
    let laplacian = ["u_xx", "u_xx + u_yy", "u_xx + u_yy + u_zz"][dims - 1];
    let space_laplacian = ["u_xx", "u_xx", "u_xx + u_yy"][dims - 1];
    let plain = |operator: String, parameters| Equation {
        operator,
        parameters,
        faces: None,
    };
    match family {
        Family::Poisson => plain(laplacian.to_string(), vec![]),
        Family::Helmholtz => {
            let k = uniform(rng, 1.0, if dims == 1 { 3.0 } else { 4.0 });
            plain(format!("{laplacian} + k^2*u"), vec![("k", k)])
        }
        Family::IndefiniteHelmholtz => {
            let k0 = uniform(rng, [5.0, 5.0, 6.0][dims - 1], [40.0, 30.0, 12.0][dims - 1]);
            let (below, above) = solutions::dirichlet_neighbours(dims, k0);
            let k2 = below + uniform(rng, 0.25, 0.75) * (above - below);
            plain(format!("{laplacian} + k^2*u"), vec![("k", k2.sqrt())])
        }
        Family::AllenCahn => plain(format!("{laplacian} + u*(u^2 - 1)"), vec![]),
        Family::Conduction => {
            let c = uniform(rng, 0.5, 3.0);
            let op = if dims == 1 {
                "(1 + c*x^2)*u_xx + 2*c*x*u_x".to_string()
            } else {
                format!("(1 + c*(x^2 + y))*({laplacian}) + c*(2*x*u_x + u_y)")
            };
            plain(op, vec![("c", c)])
        }
        Family::Advection => {
            let beta = 20f64.powf(uniform(rng, 0.0, 1.0));
            let op = ["beta*u_x", "u_t + beta*u_x", "u_t + beta*(u_x + u_y)"][dims - 1];
            plain(op.to_string(), vec![("beta", beta)])
        }
        Family::AdvectionDiffusion => {
            let nu = log_uniform(rng, 1e-3, 1e-2);
            match dims {
                1 => plain(
                    "beta*u_x - nu*u_xx".into(),
                    vec![("beta", uniform(rng, 1.0, 10.0)), ("nu", nu)],
                ),
                2 => Equation {
                    operator: format!("u_t + beta*u_x - nu*({space_laplacian})"),
                    parameters: vec![("beta", uniform(rng, 0.5, 3.0)), ("nu", nu)],
                    faces: Some(r#"["t-", "x-", "x+"]"#),
                },
                _ => Equation {
                    operator: format!("u_t + beta*u_x + gamma*u_y - nu*({space_laplacian})"),
                    parameters: vec![
                        ("beta", uniform(rng, 0.5, 3.0)),
                        ("gamma", uniform(rng, -2.0, 2.0)),
                        ("nu", nu),
                    ],
                    faces: Some(r#"["t-", "x-", "x+", "y-", "y+"]"#),
                },
            }
        }
    }
}

/// The TOML text of a problem on `[0, 1]^d` with Dirichlet data on `faces` (every face where `None`)
/// from the exact `solution`.
fn problem_text(name: &str, axes: &[&str], equation: &Equation, solution: &str, points: usize) -> String {
    let mut toml = format!("name = \"{name}\"\ndescription = \"manufactured problem, u = {solution}\"\n");
    if !equation.parameters.is_empty() {
        // At least 4 decimals and 4 significant digits (ν of 1e-3 keeps its digits).
        let p: Vec<String> = equation
            .parameters
            .iter()
            .map(|(n, v)| format!("{n} = {v:.*}", (3 - v.abs().log10().floor() as i64).max(4) as usize))
            .collect();
        toml.push_str(&format!("parameters = {{ {} }}\n", p.join(", ")));
    }
    for a in axes {
        toml.push_str(&format!(
            "\n[[axis]]\nname = \"{a}\"\nlower = 0\nupper = 1\npoints = {points}\n"
        ));
    }
    toml.push_str(&format!("\n[[equation]]\noperator = \"{}\"\n", equation.operator));
    if let Some(faces) = equation.faces {
        toml.push_str(&format!("\n[boundary]\nfaces = {faces}\n"));
    }
    toml.push_str(&format!("\n[exact]\nu = \"{solution}\"\n"));
    toml
}

/// A manufactured problem of `class` posed with `family` on `[0, 1]^dims` with `points` per axis, drawn
/// from `seed`: the class's solution, the family's equation, its source and the Dirichlet data derived
/// from the solution. Any family may be paired with any class (the source is derived whatever the
/// solution); [`Class::families`] are those the suite pairs.
///
/// # Errors
/// [`crate::Error::InvalidParameter`] for `dims` other than 1, 2 or 3 or fewer than 8 points per axis.
pub fn manufactured(class: Class, family: Family, dims: usize, points: usize, seed: u64) -> Result<Manufactured> {
    if !(1..=3).contains(&dims) {
        return Err(crate::Error::InvalidParameter {
            name: "dims",
            reason: format!("manufactured problems have 1, 2 or 3 axes, got {dims}"),
        });
    }
    if points < 8 {
        return Err(crate::Error::InvalidParameter {
            name: "points",
            reason: format!("at least 8 points per axis, got {points}"),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let axes: &[&str] = match (family.is_space_time(dims), dims) {
        (_, 1) => &["x"],
        (true, 2) => &["t", "x"],
        (false, 2) => &["x", "y"],
        (true, _) => &["t", "x", "y"],
        (false, _) => &["x", "y", "z"],
    };
    // The largest frequency of the class's waves, rad per unit.
    let top = if dims == 3 { 30.0 } else { 120.0 };
    let modes = class == Class::AdvectionDiffusion && family.is_space_time(dims);
    let (mut solution, kinds, equation) = match class {
        // Today's order (the solution, then the equation) keeps today's problems.
        Class::Mixed | Class::Conduction | Class::AdvectionDiffusion if !modes => {
            let (s, k) = solutions::mixed(&mut rng, axes, top / 2.0);
            (s, k, equation(family, dims, &mut rng))
        }
        _ => {
            let e = equation(family, dims, &mut rng);
            let (s, k): Drawn = match class {
                Class::HighFrequency => solutions::high_frequency(&mut rng, axes, top),
                Class::Envelope => solutions::envelope(&mut rng, axes, top),
                Class::Chirp => solutions::chirp(&mut rng, axes, top),
                Class::Layer => solutions::layer(&mut rng, axes, top),
                Class::Oblique | Class::IndefiniteHelmholtz => solutions::oblique(&mut rng, axes, top / 2.0),
                // Decaying travelling modes: exact solutions of advection–diffusion (other space-time
                // families take them with a viscosity of their own and a source).
                _ => {
                    let (velocity, nu) = if family == Family::AdvectionDiffusion {
                        (["beta", "gamma"], ("nu", e.get("nu")))
                    } else {
                        (["1", "0.5"], ("0.005", 5e-3))
                    };
                    solutions::decaying_modes(&mut rng, axes, top / 3.0, &velocity[..dims - 1], nu)
                }
            };
            (s, k, e)
        }
    };
    let name = format!("{}_{dims}d-{}-seed{seed}", family.name(), class.name());
    if family == Family::AllenCahn {
        // Scaled to max |u| = 1: then the linearisation −Δ + 1 − 3u² stays positive definite (its first
        // Dirichlet eigenvalue π² exceeds 3u² − 1 ≤ 2), so the problem has one solution near the exact
        // one; with |u| ≈ 3 it has others, and which one a solver finds says nothing about the solver.
        let m = if dims == 3 { 40 } else { 100 };
        let probe: Vec<Vec<f64>> = (0..dims)
            .map(|_| (0..=m).map(|i| f64::from(i) / f64::from(m)).collect())
            .collect();
        let bare = Equation {
            operator: "u".into(),
            parameters: vec![],
            faces: None,
        };
        let peak = Problem::from_toml(&problem_text(&name, axes, &bare, &solution, points))?
            .exact_on(&probe)?
            .into_iter()
            .flatten()
            .flatten()
            .fold(0.0f64, |m, v| m.max(v.abs()));
        if peak > 1.0 {
            solution = format!("{}*({solution})", num(1.0 / peak));
        }
    }
    let toml = problem_text(&name, axes, &equation, &solution, points);
    let problem = Problem::from_toml(&toml)?;
    Ok(Manufactured {
        seed,
        class,
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
        let suite = Suite::today(2, 16);
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
        assert!(manufactured(Class::Mixed, Family::Poisson, 4, 16, 0).is_err());
        assert!(manufactured(Class::Mixed, Family::Poisson, 1, 4, 0).is_err());
        // Every family and class by its name; conduction's coefficients vary in space.
        assert_eq!(Family::EVERY[..4], Family::ALL);
        for f in Family::EVERY {
            assert_eq!(f.name().parse::<Family>().unwrap(), f);
        }
        for c in Class::broad(3) {
            assert_eq!(c.name().parse::<Class>().unwrap(), *c);
        }
        assert!("heat".parse::<Family>().unwrap_err().to_string().contains("conduction"));
        assert!("heat".parse::<Class>().unwrap_err().to_string().contains("chirp"));
        for d in [1, 2, 3] {
            let c = manufactured(Class::Conduction, Family::Conduction, d, 16, 3).unwrap();
            let disc = c.problem.discretize().unwrap();
            assert!(
                disc.equations[0]
                    .terms
                    .iter()
                    .any(|t| t.coefficient.constant().is_none())
            );
        }
    }

    #[test]
    fn the_broad_suite_draws_every_class_and_family_in_every_dimension() {
        for dims in 1..=3 {
            let suite = Suite::broad(dims, 12);
            let n = suite.classes.len() as u64;
            let mut pairs = std::collections::HashSet::new();
            for i in 0..4 * n {
                let m = suite.problem(i).unwrap();
                assert_eq!(m.class, suite.classes[(i % n) as usize]);
                assert!(m.class.families().contains(&m.family));
                assert_eq!(Problem::from_toml(&m.toml).unwrap(), m.problem, "{}", m.toml);
                m.problem
                    .discretize()
                    .unwrap_or_else(|e| panic!("{}: {e}", m.describe()));
                assert_eq!(m.problem.axes().len(), dims);
                pairs.insert((m.class, m.family));
            }
            let expected: usize = suite.classes.iter().map(|c| c.families().len()).sum();
            assert_eq!(pairs.len(), expected, "{dims}D");
        }
        assert!(!Class::broad(1).contains(&Class::Oblique));
    }

    #[test]
    fn indefinite_helmholtz_sits_between_dirichlet_eigenvalues() {
        // The eigenvalues of −Δ on [0, 1]^d with Dirichlet data are π²|n|², n ≥ 1 componentwise: k²
        // must sit strictly inside a gap, at least a quarter of it from either end.
        let pi2 = std::f64::consts::PI.powi(2);
        for (dims, k0, below, above) in [(1, 10.0, 9.0, 16.0), (2, 5.0, 2.0, 5.0), (3, 6.0, 3.0, 6.0)] {
            let (b, a) = solutions::dirichlet_neighbours(dims, k0);
            assert!(
                (b / pi2 - below).abs() < 1e-12 && (a / pi2 - above).abs() < 1e-12,
                "{dims}D: {b}, {a}"
            );
        }
        for dims in 1..=3 {
            for seed in 0..20 {
                let m = manufactured(Class::IndefiniteHelmholtz, Family::IndefiniteHelmholtz, dims, 12, seed).unwrap();
                let toml: toml::Value = toml::from_str(&m.toml).unwrap();
                let k = toml["parameters"]["k"].as_float().unwrap();
                let k2 = k * k;
                // Brute force over integer vectors: the nearest eigenvalues on either side.
                let n_max = (k / std::f64::consts::PI) as i64 + 3;
                let mut lambdas = vec![];
                let range = || 1..=n_max;
                for a in range() {
                    for b in if dims > 1 { range() } else { 0..=0 } {
                        for c in if dims > 2 { range() } else { 0..=0 } {
                            lambdas.push(pi2 * (a * a + b * b + c * c) as f64);
                        }
                    }
                }
                let below = lambdas.iter().copied().filter(|l| *l < k2).fold(0.0, f64::max);
                let above = lambdas
                    .iter()
                    .copied()
                    .filter(|l| *l > k2)
                    .fold(f64::INFINITY, f64::min);
                assert!(below > 0.0, "{}: k² = {k2} below the first eigenvalue", m.describe());
                let gap = above - below;
                assert!(
                    k2 - below > 0.24 * gap && above - k2 > 0.24 * gap,
                    "{}: k² = {k2} in ({below}, {above})",
                    m.describe()
                );
            }
        }
    }

    #[test]
    fn decaying_modes_solve_advection_diffusion_exactly() {
        // The class's space-time solutions satisfy the homogeneous equation as written: the source derived
        // from them is zero to rounding.
        for dims in [2, 3] {
            for seed in 0..6 {
                let m = manufactured(Class::AdvectionDiffusion, Family::AdvectionDiffusion, dims, 16, seed).unwrap();
                assert_eq!(m.problem.axis_names()[0], "t");
                let d = m.problem.discretize().unwrap();
                let largest = d.sources[0].iter().map(|v| v.abs()).fold(0.0, f64::max);
                assert!(largest < 1e-9, "{}: source {largest:e}", m.describe());
            }
        }
    }
}
