//! PDE problems described in TOML (the built-in ones, Fang et al.'s benchmarks and others, are in `benchmarks.rs`).
//!
//! ```toml
//! name = "advection"
//! fields = ["u"]                      # default ["u"]
//! parameters = { beta = 200 }         # named constants for every expression
//!
//! [[axis]]                            # in order; the first axis is the slowest in grid order
//! name = "t"                          # one character: derivatives are written u_t, u_xx, u_xt, …
//! lower = 0
//! upper = 1                           # numbers or expressions ("2*pi")
//! points = 200
//! [[axis]]
//! name = "x"
//! lower = 0
//! upper = 1
//! points = 200
//!
//! [[equation]]                        # a polynomial in the fields and their derivatives, whose
//!                                     # coefficients may vary: "(1 + x^2)*u_xx + x*u_x"
//! operator = "u_t + beta*u_x"
//! source = "0"                        # optional when `exact` is given: then source = operator(exact)
//!
//! [boundary]
//! faces = ["t-", "x-", "x+"]          # Dirichlet faces; default every face
//! u = "sin(x - beta*t)"               # optional when `exact` is given
//!
//! [exact]                             # optional: the relative L2 error is reported against it
//! u = "sin(x - beta*t)"
//!
//! [solver]                            # optional: what suits this problem's solution
//! spectrum = "gaussian"               # "student_t" (default), "student_t3" or "gaussian" (`Spectrum::NAMES`)
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::algebra::{MAX_EXPRESSION_NODES, polynomial_in, substitute, substituted_size};
use super::expr::{Expr, on_tensor};
use super::kernel::Spectrum;
use super::operator::{Axis, Coefficient, Derivative, Discretization, Equation, Grid, Term};
use crate::data::check_bytes;
use crate::{Error, Result};

/// A number or an expression of the parameters (for axis bounds).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
enum Bound {
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
struct SolverSpec {
    /// One of [`Spectrum::NAMES`], read by its `FromStr` (so TOML, the CLI and Python share one list).
    #[serde(default, deserialize_with = "spectrum_by_name")]
    spectrum: Option<Spectrum>,
}

/// `[solver] spectrum` by name; an unknown name is refused at its line and column, naming the choices.
fn spectrum_by_name<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Spectrum>, D::Error> {
    let name = String::deserialize(d)?;
    name.parse().map(Some).map_err(serde::de::Error::custom)
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct AxisSpec {
    name: String,
    lower: Bound,
    upper: Bound,
    points: usize,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct EquationSpec {
    operator: String,
    source: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
struct BoundarySpec {
    faces: Option<Vec<String>>,
    #[serde(flatten)]
    values: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Spec {
    name: String,
    #[serde(default)]
    description: String,
    fields: Option<Vec<String>>,
    #[serde(default)]
    parameters: BTreeMap<String, f64>,
    axis: Vec<AxisSpec>,
    equation: Vec<EquationSpec>,
    #[serde(default)]
    boundary: BoundarySpec,
    exact: Option<BTreeMap<String, String>>,
    #[serde(default)]
    solver: SolverSpec,
}

/// An equation of a problem, parsed.
struct Parsed {
    /// Its terms that hold a field.
    equation: Equation,
    /// The operator as written: the symbols' variables, then the coordinates'.
    operator: Expr,
    /// The derivative symbols the operator uses, in its variables' order.
    symbols: Vec<Derivative>,
    /// Its terms without a field, as one expression of the coordinates.
    forcing: Option<Expr>,
}

/// A PDE problem: domain and grid, operator, source and boundary data as expressions, and optionally the
/// exact solution.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    spec: Spec,
    axes: Vec<Axis>,
    fields: Vec<String>,
}

impl Problem {
    /// Parses a TOML problem description (format in the module docs).
    ///
    /// # Errors
    /// [`Error::Problem`] for TOML errors, unknown keys, bad names or missing data; [`Error::Expression`]
    /// for an expression that does not parse.
    pub fn from_toml(text: &str) -> Result<Self> {
        let spec: Spec = toml::from_str(text).map_err(|e| Error::toml(text, &e))?;
        let fields = spec.fields.clone().unwrap_or_else(|| vec!["u".into()]);
        let bad = |m: String| Err(Error::problem(m));
        if spec.axis.is_empty() || spec.equation.is_empty() {
            return bad("needs at least one [[axis]] and one [[equation]]".into());
        }
        for a in &spec.axis {
            if a.name.chars().count() != 1 || !a.name.chars().all(char::is_alphabetic) {
                return bad(format!(
                    "axis names are single letters (so u_xy reads unambiguously), got `{}`",
                    a.name
                ));
            }
        }
        for (i, a) in spec.axis.iter().enumerate() {
            if spec.axis[..i].iter().any(|b| b.name == a.name) {
                return bad(format!("two axes are named `{}`", a.name));
            }
        }
        for (i, f) in fields.iter().enumerate() {
            if f.is_empty() || !f.chars().all(char::is_alphanumeric) || spec.axis.iter().any(|a| &a.name == f) {
                return bad(format!(
                    "field names are alphanumeric and differ from the axes, got `{f}`"
                ));
            }
            if fields[..i].contains(f) {
                return bad(format!("two fields are named `{f}`"));
            }
        }
        // A parameter named like an axis, a field or a derivative symbol would be shadowed by it (or shadow
        // it) in every expression.
        for name in spec
            .axis
            .iter()
            .map(|a| &a.name)
            .chain(&fields)
            .chain(spec.parameters.keys())
        {
            if super::expr::is_reserved(name) {
                return bad(format!(
                    "`{name}` is a name of the expression language (pi, sin, cos, …): an axis, field or \
                     parameter cannot take it"
                ));
            }
        }
        for k in spec.parameters.keys() {
            let is_axis = spec.axis.iter().any(|a| &a.name == k);
            let (field, _) = k.split_once('_').unwrap_or((k, ""));
            if is_axis || fields.iter().any(|f| f == field) {
                return bad(format!(
                    "parameter `{k}` has the name of {}; rename it",
                    if is_axis {
                        "an axis"
                    } else {
                        "a field or one of its derivatives"
                    }
                ));
            }
        }
        let consts: Vec<(&str, f64)> = spec.parameters.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let bound = |b: &Bound| -> Result<f64> {
            match b {
                Bound::Number(x) => Ok(*x),
                Bound::Text(t) => Ok(Expr::parse(t, &[], &consts)?.eval(&[])),
            }
        };
        let axes = spec
            .axis
            .iter()
            .map(|a| {
                Ok(Axis {
                    lower: bound(&a.lower)?,
                    upper: bound(&a.upper)?,
                    points: a.points,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        for (a, spec_axis) in axes.iter().zip(&spec.axis) {
            if let Some(why) = a.defect() {
                return bad(format!("axis `{}`: {why}", spec_axis.name));
            }
        }
        Grid::new(axes.clone())?;
        let p = Self { spec, axes, fields };
        // Parse everything once, so that errors surface here.
        let equations = p.equations()?;
        for (f, name) in p.fields.iter().enumerate() {
            let used = equations
                .iter()
                .any(|p| p.equation.terms.iter().any(|t| t.factors.iter().any(|d| d.field == f)));
            if !used {
                return bad(format!(
                    "field `{name}` appears in no equation: only its boundary data would determine it"
                ));
            }
        }
        // Fewer equations than fields leave a family of solutions: the solve would pick one silently (a
        // relative error of 527 on a problem with two fields and one equation).
        if equations.len() < p.fields.len() {
            return bad(format!(
                "{} equation(s) for {} fields ({}): the fields are not determined; give one equation per field",
                equations.len(),
                p.fields.len(),
                p.fields.join(", ")
            ));
        }
        p.boundary_expressions()?;
        p.exact_expressions()?;
        p.faces()?;
        Ok(p)
    }

    /// The problem's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Its one-line description (may be empty).
    pub fn description(&self) -> &str {
        &self.spec.description
    }

    /// The spectral family the problem asks for (`[solver] spectrum`), which
    /// [`settings_for`](super::settings_for) uses: `"gaussian"` for solutions that are smooth throughout
    /// (analytic flows), where the squared-exponential envelope converges spectrally and Matérn-5/2's
    /// three derivatives leave an algebraic floor (the Taylor–Green vortex: 6.6e-6 against 4.6e-4 on the
    /// same grid); `"student_t"` (the paper's GP-HM-StM, the default) for the high-frequency and
    /// multi-scale solutions it was made for, where it did better on the manufactured suite;
    /// `"student_t3"` (Matérn-3/2) for rougher ones.
    pub fn spectrum(&self) -> Option<Spectrum> {
        self.spec.solver.spectrum
    }

    /// The field names.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The grid's axes.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// The axis names, in grid order.
    pub fn axis_names(&self) -> Vec<&str> {
        self.spec.axis.iter().map(|a| a.name.as_str()).collect()
    }

    /// Whether an exact solution is known.
    pub fn has_exact(&self) -> bool {
        self.spec.exact.is_some()
    }

    /// The problem on another grid: `points[d]` points on axis `d` (one number for every axis, or one per
    /// axis).
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong count; [`Error::InvalidParameter`] for fewer than 2 points.
    pub fn with_grid(mut self, points: &[usize]) -> Result<Self> {
        let d = self.axes.len();
        let pts: Vec<usize> = match points.len() {
            1 => vec![points[0]; d],
            n if n == d => points.to_vec(),
            n => {
                return Err(Error::Shape {
                    what: "grid sizes (one, or one per axis)",
                    expected: d,
                    found: n,
                });
            }
        };
        for (a, n) in self.axes.iter_mut().zip(pts) {
            a.points = n;
        }
        Grid::new(self.axes.clone())?;
        Ok(self)
    }

    fn constants(&self) -> Vec<(&str, f64)> {
        self.spec.parameters.iter().map(|(k, v)| (k.as_str(), *v)).collect()
    }

    /// A derivative symbol `u`, `u_x`, `u_xxt`, … as a [`Derivative`].
    fn symbol(&self, name: &str) -> Option<Derivative> {
        let (field, ders) = name.split_once('_').unwrap_or((name, ""));
        let f = self.fields.iter().position(|g| g == field)?;
        let names = self.axis_names();
        let mut orders = vec![0; names.len()];
        for c in ders.chars() {
            let d = names.iter().position(|n| n.starts_with(c))?;
            orders[d] += 1;
        }
        (name.contains('_') != ders.is_empty()).then_some(Derivative { field: f, orders })
    }

    /// Each equation as polynomial terms, with its parsed operator, its symbol list and its forcing: the
    /// terms that hold no field (`sin(73*x)` in `u_xx - sin(73*x)`), which are data, not operator, and move
    /// to the source's side (where the spectral start reads them).
    fn equations(&self) -> Result<Vec<Parsed>> {
        self.spec
            .equation
            .iter()
            .map(|e| {
                // Every identifier that reads as a derivative symbol becomes a variable.
                let mut symbols: Vec<String> = Vec::new();
                let mut word = String::new();
                for c in e.operator.chars().chain([' ']) {
                    if c.is_alphanumeric() || c == '_' {
                        word.push(c);
                    } else if !word.is_empty() {
                        if self.symbol(&word).is_some() && !symbols.contains(&word) {
                            symbols.push(word.clone());
                        }
                        word.clear();
                    }
                }
                // The coordinates follow the symbols: coefficients may vary in space.
                let names: Vec<&str> = symbols.iter().map(String::as_str).chain(self.axis_names()).collect();
                let expr = Expr::parse(&e.operator, &names, &self.constants())?;
                let derivs: Vec<Derivative> = symbols.iter().map(|s| self.symbol(s).expect("checked")).collect();
                let terms = polynomial_in(&expr, derivs.len())
                    .map_err(|m| Error::problem(format!("operator `{}`: {m}", e.operator)))?
                    .into_iter()
                    .map(|(c, vars)| Term {
                        coefficient: match c {
                            Expr::Const(c) => Coefficient::Constant(c),
                            c => Coefficient::Varying(c),
                        },
                        factors: vars.iter().map(|&v| derivs[v].clone()).collect(),
                    })
                    .collect::<Vec<Term>>();
                if terms.is_empty() {
                    return Err(Error::problem(format!(
                        "operator `{}` is identically zero (its terms cancel): it constrains nothing",
                        e.operator
                    )));
                }
                if terms.iter().all(|t| t.factors.is_empty()) {
                    return Err(Error::problem(format!(
                        "operator `{}` holds no field or derivative: it constrains nothing",
                        e.operator
                    )));
                }
                let (forcing, terms): (Vec<Term>, Vec<Term>) = terms.into_iter().partition(|t| t.factors.is_empty());
                let forcing = forcing
                    .into_iter()
                    .map(|t| match t.coefficient {
                        Coefficient::Constant(c) => Expr::Const(c),
                        Coefficient::Varying(e) => e,
                    })
                    .reduce(|a, b| Expr::Add(Box::new(a), Box::new(b)));
                Ok(Parsed {
                    equation: Equation { terms },
                    operator: expr,
                    symbols: derivs,
                    forcing,
                })
            })
            .collect()
    }

    fn field_expressions(&self, map: &BTreeMap<String, String>, what: &str) -> Result<Vec<Expr>> {
        let names = self.axis_names();
        let consts = self.constants();
        if let Some(k) = map.keys().find(|k| !self.fields.contains(k)) {
            return Err(Error::problem(format!("[{what}] names `{k}`, which is not a field")));
        }
        self.fields
            .iter()
            .map(|f| {
                let text = map
                    .get(f)
                    .ok_or_else(|| Error::problem(format!("[{what}] has no expression for the field `{f}`")))?;
                Expr::parse(text, &names, &consts)
            })
            .collect()
    }

    fn exact_expressions(&self) -> Result<Option<Vec<Expr>>> {
        self.spec
            .exact
            .as_ref()
            .map(|m| self.field_expressions(m, "exact"))
            .transpose()
    }

    fn boundary_expressions(&self) -> Result<Vec<Expr>> {
        if self.spec.boundary.values.is_empty() {
            return self
                .exact_expressions()?
                .ok_or_else(|| Error::problem("needs [boundary] values, or an [exact] solution to take them from"));
        }
        self.field_expressions(&self.spec.boundary.values, "boundary")
    }

    fn faces(&self) -> Result<Vec<[bool; 2]>> {
        let names = self.axis_names();
        let Some(list) = &self.spec.boundary.faces else {
            return Ok(vec![[true, true]; names.len()]);
        };
        let mut faces = vec![[false, false]; names.len()];
        for f in list {
            // The sign is one ASCII byte, so stripping it keeps a character boundary (whatever else
            // the name holds).
            let (axis, side) = match (f.strip_suffix('-'), f.strip_suffix('+')) {
                (Some(axis), _) => (axis, 0),
                (None, Some(axis)) => (axis, 1),
                (None, None) => ("", 2),
            };
            let d = names.iter().position(|n| *n == axis);
            let slot = match (d, side) {
                (Some(d), 0 | 1) => &mut faces[d][side],
                _ => {
                    return Err(Error::problem(format!(
                        "boundary face `{f}` is not an axis name followed by - or + (axes {names:?})"
                    )));
                }
            };
            if *slot {
                return Err(Error::problem(format!("boundary face `{f}` is listed twice")));
            }
            *slot = true;
        }
        Ok(faces)
    }

    /// The source of each equation as an expression in the coordinates: given, or the operator applied to
    /// the exact solution (symbolic derivatives); less the equation's forcing (its terms without a field).
    fn sources(&self) -> Result<Vec<Expr>> {
        let names = self.axis_names();
        let eqs = self.equations()?;
        eqs.iter()
            .zip(&self.spec.equation)
            .map(|(parsed, spec)| {
                let (op, derivs, forcing) = (&parsed.operator, &parsed.symbols, &parsed.forcing);
                let source = match &spec.source {
                    Some(s) => Expr::parse(s, &names, &self.constants()),
                    None => {
                        let exact = self.exact_expressions()?.ok_or_else(|| {
                            Error::problem(format!(
                                "equation `{}` needs a source, or an [exact] solution",
                                spec.operator
                            ))
                        })?;
                        let values: Vec<Expr> = derivs
                            .iter()
                            .map(|d| {
                                let mut e = exact[d.field].clone();
                                for (axis, &m) in d.orders.iter().enumerate() {
                                    for _ in 0..m {
                                        if e.diff_size() > MAX_EXPRESSION_NODES {
                                            return Err(Error::problem(format!(
                                                "the exact solution of `{}` grows past {MAX_EXPRESSION_NODES} nodes \
                                             when differentiated symbolically for equation `{}`: give the \
                                             equation's `source` instead",
                                                self.fields[d.field], spec.operator
                                            )));
                                        }
                                        e = e.diff(axis);
                                    }
                                }
                                Ok(e)
                            })
                            .collect::<Result<_>>()?;
                        // The operator's coordinates stay coordinates.
                        let values: Vec<Expr> = values.into_iter().chain((0..names.len()).map(Expr::Var)).collect();
                        let sizes: Vec<usize> = values.iter().map(Expr::size).collect();
                        if substituted_size(op, &sizes) > MAX_EXPRESSION_NODES {
                            return Err(Error::problem(format!(
                                "the source of equation `{}` derived from the exact solution has over \
                             {MAX_EXPRESSION_NODES} nodes: give the equation's `source` instead",
                                spec.operator
                            )));
                        }
                        Ok(substitute(op, &values))
                    }
                }?;
                Ok(match forcing {
                    Some(f) => Expr::Sub(Box::new(source), Box::new(f.clone())),
                    None => source,
                })
            })
            .collect()
    }

    /// Refuses, before anything is allocated, a grid whose solve would not fit in memory (the check
    /// [`Problem::discretize`] makes first; callers that estimate the solve's work call it before that).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] (`"grid"`) with the memory the grid would need.
    pub fn check_memory(&self) -> Result<()> {
        let varying = self
            .equations()?
            .iter()
            .flat_map(|p| &p.equation.terms)
            .filter(|t| t.coefficient.constant().is_none())
            .count();
        check_memory(&self.axes, self.fields.len(), varying)
    }

    /// The problem on its grid, for the solver.
    ///
    /// # Errors
    /// As [`Problem::from_toml`]; [`Discretization::validate`]'s errors (e.g. a grid too small for the
    /// operator's order); [`Error::NonFinite`] where an expression is not finite on the grid.
    pub fn discretize(&self) -> Result<Discretization> {
        self.check_memory()?;
        let grid = Grid::new(self.axes.clone())?;
        let points: Vec<Vec<f64>> = (0..grid.len()).map(|i| grid.point(i)).collect();
        let on_grid = |e: &Expr| points.iter().map(|x| e.eval(x)).collect::<Vec<f64>>();
        let faces = self.faces()?;
        let mut disc = Discretization {
            grid,
            fields: self.fields.len(),
            equations: self.equations()?.into_iter().map(|p| p.equation).collect(),
            sources: self.sources()?.iter().map(on_grid).collect(),
            faces,
            boundary: Vec::new(),
        };
        // Where the problem's own expressions are not finite, say which and where, in the axes' names
        // (the discretization's check can only give a grid index).
        let names = self.axis_names();
        let at = |i: usize| -> String {
            let x = &points[i];
            names
                .iter()
                .zip(x)
                .map(|(n, v)| format!("{n} = {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (e, equation) in disc.equations.iter().enumerate() {
            for term in &equation.terms {
                let c = &term.coefficient;
                if let Some(i) = points.iter().position(|x| !c.at(x).is_finite()) {
                    return Err(Error::problem(format!(
                        "a coefficient of equation {} is {} at the grid point {}: a coefficient must be \
                         finite on the whole grid",
                        e + 1,
                        c.at(&points[i]),
                        at(i)
                    )));
                }
            }
        }
        for (e, values) in disc.sources.iter().enumerate() {
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::problem(format!(
                    "the source of equation {} is {} at the grid point {}: check the source or the exact \
                     solution it is derived from",
                    e + 1,
                    values[i],
                    at(i)
                )));
            }
        }
        // Boundary expressions only where they are read.
        let mask: Vec<bool> = (0..disc.grid.len()).map(|i| disc.on_boundary(i)).collect();
        disc.boundary = self
            .boundary_expressions()?
            .iter()
            .map(|e| {
                points
                    .iter()
                    .zip(&mask)
                    .map(|(x, &m)| if m { e.eval(x) } else { 0.0 })
                    .collect()
            })
            .collect();
        for (f, values) in disc.boundary.iter().enumerate() {
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::problem(format!(
                    "the boundary value of field `{}` is {} at the grid point {}",
                    self.fields[f],
                    values[i],
                    at(i)
                )));
            }
        }
        disc.validate()?;
        Ok(disc)
    }

    /// The exact solution of every field on the tensor grid with the given coordinates per axis, or `None`
    /// without one.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a grid whose values would take more than 16 GiB.
    pub fn exact_on(&self, points: &[Vec<f64>]) -> Result<Option<Vec<Vec<f64>>>> {
        check_output("exact-solution grid", points.iter().map(Vec::len), self.fields.len())?;
        Ok(self.exact_expressions()?.map(|e| on_tensor(&e, points)))
    }

    /// The equations (their polynomial terms), the sources and the boundary data on the tensor grid with
    /// the given coordinates per axis (row-major, first axis slowest), and the Dirichlet faces: the
    /// problem for a discretization other than the GP's equispaced grid.
    pub(crate) fn on_points(&self, points: &[Vec<f64>]) -> Result<OnPoints> {
        Ok(OnPoints {
            equations: self.equations()?.into_iter().map(|p| p.equation).collect(),
            sources: on_tensor(&self.sources()?, points),
            boundary: on_tensor(&self.boundary_expressions()?, points),
            faces: self.faces()?,
        })
    }

    /// The test grid of the paper: `per_axis` equispaced points on every axis (300 in the paper), placed
    /// as NumPy's `linspace` places them (`lower + i·step`, the last one `upper`), so that the errors
    /// Python users recompute are measured at the same points to the bit: predictions interpolate with
    /// the weights `C⁻¹u`, whose size makes them move by about 1e-9 for a shift of one ulp.
    pub fn test_points(&self, per_axis: usize) -> Vec<Vec<f64>> {
        self.axes
            .iter()
            .map(|a| {
                let step = (a.upper - a.lower) / (per_axis.max(2) - 1) as f64;
                let mut x: Vec<f64> = (0..per_axis).map(|i| a.lower + i as f64 * step).collect();
                if let Some(last) = x.last_mut().filter(|_| per_axis > 1) {
                    *last = a.upper;
                }
                x
            })
            .collect()
    }
}

/// A problem's data on a tensor grid of given coordinates ([`Problem::on_points`]).
pub(crate) struct OnPoints {
    pub equations: Vec<Equation>,
    pub sources: Vec<Vec<f64>>,
    pub boundary: Vec<Vec<f64>>,
    pub faces: Vec<[bool; 2]>,
}

/// Refuses, before allocating, `values` f64 per point of a tensor grid with `lengths` points per axis
/// where they would take more than [`MAX_BYTES`](crate::data::MAX_BYTES) (or their count overflows).
pub(crate) fn check_output(what: &'static str, lengths: impl Iterator<Item = usize>, values: usize) -> Result<()> {
    let lengths: Vec<usize> = lengths.collect();
    let bytes = lengths.iter().fold(values as f64 * 8.0, |b, &l| b * l as f64);
    let shape = || lengths.iter().map(usize::to_string).collect::<Vec<_>>().join(" × ");
    check_bytes("points", bytes, || format!("a {what} of {} points", shape()), "")
}

/// Refuses, before anything is allocated, a grid whose solve would need more than [`MAX_BYTES`](crate::data::MAX_BYTES): per field
/// and axis about eight dense `n_d × n_d` matrices (kernel, its derivatives, eigenvectors, whitened maps),
/// and per grid point about fifty values per field (the solution, sources, conjugate-gradient vectors)
/// plus its coordinates and the values of the `coefficients` varying coefficients.
fn check_memory(axes: &[Axis], fields: usize, coefficients: usize) -> Result<()> {
    let n: f64 = axes.iter().map(|a| a.points as f64).product();
    let matrices: f64 = axes.iter().map(|a| 64.0 * (a.points as f64).powi(2)).sum::<f64>() * fields as f64;
    let vectors = n * (400.0 * fields as f64 + 24.0 + 8.0 * axes.len() as f64 + 8.0 * coefficients as f64);
    let shape = || {
        axes.iter()
            .map(|a| a.points.to_string())
            .collect::<Vec<_>>()
            .join(" × ")
    };
    check_bytes(
        "grid",
        matrices + vectors,
        || format!("a {} grid ({n:.3e} points, {fields} field(s))", shape()),
        ": use fewer points per axis",
    )
}
