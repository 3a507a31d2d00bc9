//! Candidate-function libraries `θ(x, u)`: polynomial, Fourier and custom terms, concatenated or tensored,
//! with the feature names PySINDy prints (`1`, `x0`, `x0^2`, `x0 x1`, `sin(1 x0)`).
//!
//! A [`Library`] is a recipe; [`Library::expand`] turns it into concrete [`Features`] for a number of inputs
//! (the states followed by the control inputs) and their names. Features evaluate block by block into a
//! column-major buffer, each term as its parent term times one factor where the library has one (so a
//! degree-`k` monomial costs one multiplication), and export to the allocation-free
//! [`sparsimony_core::sindy`] form.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use sparsimony_core::sindy::Factor;

use crate::data::check_holds;
use crate::{Error, Result};

/// The function of a custom term: its arguments in, its value out.
pub type CustomFn = Arc<dyn Fn(&[f64]) -> f64 + Send + Sync>;
/// The name of a custom term, given its arguments' names.
pub type CustomNameFn = Arc<dyn Fn(&[&str]) -> String + Send + Sync>;

/// The most terms a library may expand to: its normal equations are `p × p` (20 000 terms: 3.2 GB).
pub const MAX_TERMS: usize = 20_000;

/// A user-supplied candidate function of `arity` inputs (PySINDy's `CustomLibrary` entries).
#[derive(Clone)]
pub struct CustomFunction {
    /// Number of arguments.
    pub arity: usize,
    /// The function.
    pub f: CustomFn,
    /// Its printed name, given the argument names.
    pub name: CustomNameFn,
}

impl CustomFunction {
    /// A function of `arity` inputs with a naming rule.
    pub fn new(
        arity: usize,
        f: impl Fn(&[f64]) -> f64 + Send + Sync + 'static,
        name: impl Fn(&[&str]) -> String + Send + Sync + 'static,
    ) -> Self {
        Self {
            arity,
            f: Arc::new(f),
            name: Arc::new(name),
        }
    }
}

impl fmt::Debug for CustomFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = (0..self.arity).map(|i| format!("a{i}")).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        write!(f, "CustomFunction({})", (self.name)(&args))
    }
}

impl PartialEq for CustomFunction {
    fn eq(&self, other: &Self) -> bool {
        self.arity == other.arity && Arc::ptr_eq(&self.f, &other.f)
    }
}

/// A recipe for candidate functions.
#[derive(Debug, Clone, PartialEq)]
pub enum Library {
    /// All monomials of total degree ≤ `degree` in the inputs, in scikit-learn's `PolynomialFeatures` order
    /// (by degree, then lexicographically): `1, x0, x1, x0^2, x0 x1, x1^2, …`.
    Polynomial {
        /// Highest total degree.
        degree: usize,
        /// Include the constant term `1`.
        include_bias: bool,
        /// Only products of distinct inputs (no powers above 1).
        interaction_only: bool,
    },
    /// `sin(k xᵢ)` and `cos(k xᵢ)` for `k = 1..=n_frequencies` (angular frequency `k`, radians per unit of
    /// the input), ordered by frequency, then input, then sine before cosine.
    Fourier {
        /// Number of frequencies.
        n_frequencies: usize,
        /// Include the sines.
        include_sin: bool,
        /// Include the cosines.
        include_cos: bool,
    },
    /// Each function applied to every combination of `arity` distinct inputs (with repetition when
    /// `interaction_only` is false), functions in order.
    Custom {
        /// The functions.
        functions: Vec<CustomFunction>,
        /// Combinations of distinct inputs only.
        interaction_only: bool,
    },
    /// The terms of each library, one library after the other.
    Concat(Vec<Library>),
    /// Every product of one term from each library (the first library's index varies slowest); names are
    /// joined by a space, as PySINDy's `TensoredLibrary`.
    Tensor(Vec<Library>),
}

impl Default for Library {
    /// PySINDy's default: polynomials of degree 2.
    fn default() -> Self {
        Library::polynomial(2)
    }
}

impl Library {
    /// Polynomials up to `degree`, with the constant term and all powers (PySINDy's default library is degree 2).
    pub fn polynomial(degree: usize) -> Self {
        Self::Polynomial {
            degree,
            include_bias: true,
            interaction_only: false,
        }
    }

    /// Sines and cosines of frequencies `1..=n_frequencies`.
    pub fn fourier(n_frequencies: usize) -> Self {
        Self::Fourier {
            n_frequencies,
            include_sin: true,
            include_cos: true,
        }
    }

    /// The terms of `self`, then those of `other`.
    pub fn concat(self, other: Library) -> Self {
        match self {
            Self::Concat(mut v) => {
                v.push(other);
                Self::Concat(v)
            }
            s => Self::Concat(vec![s, other]),
        }
    }

    /// Every product of a term of `self` and a term of `other`.
    pub fn tensor(self, other: Library) -> Self {
        match self {
            Self::Tensor(mut v) => {
                v.push(other);
                Self::Tensor(v)
            }
            s => Self::Tensor(vec![s, other]),
        }
    }

    /// The concrete terms for inputs named `names` (states, then controls).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a library with no terms (e.g. degree 0 without bias), a Fourier
    /// library without sines or cosines, or a custom function of arity 0 or above the number of inputs.
    pub fn expand(&self, names: &[String]) -> Result<Features> {
        // Counted before anything is built: a degree-10 library of 30 states would have 8.5e8 terms.
        let count = self.n_terms(names.len());
        if count > MAX_TERMS as f64 {
            return Err(Error::InvalidParameter {
                name: "library",
                reason: format!(
                    "{} inputs give {count:.3e} terms, whose normal equations alone would need {:.3e} GiB \
                     (the limit is {MAX_TERMS} terms): lower the degree or use fewer inputs",
                    names.len(),
                    count * count * 8.0 / (1u64 << 30) as f64
                ),
            });
        }
        let raw = self.raw_terms(names.len())?;
        if raw.is_empty() {
            return Err(Error::InvalidParameter {
                name: "library",
                reason: format!("{self:?} has no terms for {} inputs", names.len()),
            });
        }
        Ok(Features::new(raw, names))
    }

    /// The number of terms for `n` inputs, counted combinatorially (as `f64`: it may be astronomically
    /// large).
    pub fn n_terms(&self, n: usize) -> f64 {
        // Multisets (with repetition) or sets of size k from n.
        let choose = |k: usize, repeat: bool| -> f64 {
            let top = if repeat { n + k } else { n + 1 };
            if !repeat && k > n {
                return 0.0;
            }
            (1..=k).fold(1.0, |c, i| c * (top - i) as f64 / i as f64)
        };
        match self {
            Self::Polynomial {
                degree,
                include_bias,
                interaction_only,
            } => {
                // Σ_k C(n + k − 1, k) (or Σ_k C(n, k)), each term from the last: O(degree), and stopped once
                // the count is past any library that could be built (a degree of 4e9 is counted at once).
                let (mut c, mut total) = (1.0f64, 0.0f64);
                for k in 0..=*degree {
                    if k > 0 {
                        let top = if *interaction_only {
                            n as f64 + 1.0 - k as f64
                        } else {
                            (n + k - 1) as f64
                        };
                        c = c * top.max(0.0) / k as f64;
                    }
                    if k >= usize::from(!include_bias) {
                        total += c;
                    }
                    if c == 0.0 || total > 1e15 {
                        break;
                    }
                }
                total
            }
            Self::Fourier {
                n_frequencies,
                include_sin,
                include_cos,
            } => (*n_frequencies * n * (usize::from(*include_sin) + usize::from(*include_cos))) as f64,
            Self::Custom {
                functions,
                interaction_only,
            } => functions.iter().map(|f| choose(f.arity, !interaction_only)).sum(),
            Self::Concat(libs) => libs.iter().map(|l| l.n_terms(n)).sum(),
            Self::Tensor(libs) => libs.iter().map(|l| l.n_terms(n)).product(),
        }
    }

    fn raw_terms(&self, n: usize) -> Result<Vec<Vec<Part>>> {
        Ok(match self {
            Self::Polynomial {
                degree,
                include_bias,
                interaction_only,
            } => {
                let mut out = Vec::new();
                let start = if *include_bias { 0 } else { 1 };
                for deg in start..=*degree {
                    combinations(n, deg, !interaction_only, &mut |c| {
                        let mut parts: Vec<Part> = Vec::new();
                        for &i in c {
                            match parts.last_mut() {
                                Some(Part::Factor(Factor::Power { input, exponent })) if *input == i => *exponent += 1,
                                _ => parts.push(Part::Factor(Factor::Power { input: i, exponent: 1 })),
                            }
                        }
                        out.push(parts);
                    });
                }
                out
            }
            Self::Fourier {
                n_frequencies,
                include_sin,
                include_cos,
            } => {
                if !include_sin && !include_cos {
                    return Err(Error::InvalidParameter {
                        name: "fourier",
                        reason: "needs sines, cosines or both".into(),
                    });
                }
                let mut out = Vec::new();
                for k in 1..=*n_frequencies {
                    let frequency = k as f64;
                    for input in 0..n {
                        if *include_sin {
                            out.push(vec![Part::Factor(Factor::Sin { input, frequency })]);
                        }
                        if *include_cos {
                            out.push(vec![Part::Factor(Factor::Cos { input, frequency })]);
                        }
                    }
                }
                out
            }
            Self::Custom {
                functions,
                interaction_only,
            } => {
                let mut out = Vec::new();
                for f in functions {
                    if f.arity == 0 || f.arity > n {
                        return Err(Error::InvalidParameter {
                            name: "custom function",
                            reason: format!("{f:?} takes {} arguments; there are {n} inputs", f.arity),
                        });
                    }
                    combinations(n, f.arity, !interaction_only, &mut |c| {
                        out.push(vec![Part::Custom {
                            function: f.clone(),
                            inputs: c.to_vec(),
                        }])
                    });
                }
                out
            }
            Self::Concat(libs) => {
                let mut out = Vec::new();
                for l in libs {
                    out.extend(l.raw_terms(n)?);
                }
                out
            }
            Self::Tensor(libs) => {
                let mut out: Vec<Vec<Part>> = vec![Vec::new()];
                for l in libs {
                    let terms = l.raw_terms(n)?;
                    out = out
                        .iter()
                        .flat_map(|a| {
                            terms.iter().map(move |b| {
                                // An empty product (the bias) keeps its place in the name: mark it.
                                let mut t = a.clone();
                                if b.is_empty() {
                                    t.push(Part::One);
                                }
                                t.extend(b.iter().cloned());
                                t
                            })
                        })
                        .collect();
                }
                out
            }
        })
    }
}

/// Calls `f` with every sorted `k`-combination of `0..n` (with repetition when `repeat`), lexicographically.
fn combinations(n: usize, k: usize, repeat: bool, f: &mut dyn FnMut(&[usize])) {
    fn rec(n: usize, k: usize, repeat: bool, start: usize, cur: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
        if cur.len() == k {
            f(cur);
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(n, k, repeat, if repeat { i } else { i + 1 }, cur, f);
            cur.pop();
        }
    }
    rec(n, k, repeat, 0, &mut Vec::with_capacity(k), f);
}

/// One multiplicative part of a term.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// A power, sine or cosine of one input.
    Factor(Factor<f64>),
    /// A custom function of some inputs.
    Custom {
        /// The function.
        function: CustomFunction,
        /// Its arguments (input indices).
        inputs: Vec<usize>,
    },
    /// The constant 1 of a bias term inside a tensor product (it only shows in the name, `1 sin(1 x0)`).
    One,
}

impl Part {
    fn name(&self, names: &[String]) -> String {
        match self {
            Part::Factor(Factor::Power { input, exponent: 1 }) => names[*input].clone(),
            Part::Factor(Factor::Power { input, exponent }) => format!("{}^{exponent}", names[*input]),
            Part::Factor(Factor::Sin { input, frequency }) => format!("sin({frequency} {})", names[*input]),
            Part::Factor(Factor::Cos { input, frequency }) => format!("cos({frequency} {})", names[*input]),
            Part::Custom { function, inputs } => {
                let args: Vec<&str> = inputs.iter().map(|&i| names[i].as_str()).collect();
                (function.name)(&args)
            }
            Part::One => "1".into(),
        }
    }

    #[inline]
    fn eval(&self, inputs: &[&[f64]], r: usize, args: &mut Vec<f64>) -> f64 {
        match self {
            Part::Factor(f) => f.eval(inputs[f.input()][r]),
            Part::Custom { function, inputs: idx } => {
                args.clear();
                args.extend(idx.iter().map(|&i| inputs[i][r]));
                (function.f)(args)
            }
            Part::One => 1.0,
        }
    }
}

/// How a term is computed: from scratch, or as an earlier term times one part.
#[derive(Debug, Clone, PartialEq)]
enum Recipe {
    Product,
    Parent { parent: usize, part: Part },
}

/// The concrete terms of a library for given inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    terms: Vec<Vec<Part>>,
    recipes: Vec<Recipe>,
    names: Vec<String>,
    n_inputs: usize,
}

impl Features {
    fn new(terms: Vec<Vec<Part>>, input_names: &[String]) -> Self {
        let names = terms
            .iter()
            .map(|t| {
                if t.is_empty() {
                    "1".to_string()
                } else {
                    t.iter().map(|p| p.name(input_names)).collect::<Vec<_>>().join(" ")
                }
            })
            .collect();
        Self::from_parts(terms, names, input_names.len())
    }

    /// Features from explicit terms and names over `n_inputs` inputs (for libraries such as the PDE library
    /// whose names follow their own conventions).
    pub(crate) fn from_parts(terms: Vec<Vec<Part>>, names: Vec<String>, n_inputs: usize) -> Self {
        let key = |t: &[Part]| -> String {
            let t: Vec<&Part> = t.iter().filter(|p| **p != Part::One).collect();
            format!("{t:?}")
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut recipes = Vec::with_capacity(terms.len());
        for (k, t) in terms.iter().enumerate() {
            // Parent: the term with its last power lowered by one (or its last part removed).
            let mut recipe = Recipe::Product;
            if let Some(last) = t.iter().rposition(|p| *p != Part::One) {
                let mut parent = t.clone();
                let part = match &t[last] {
                    Part::Factor(Factor::Power { input, exponent }) if *exponent > 1 => {
                        parent[last] = Part::Factor(Factor::Power {
                            input: *input,
                            exponent: exponent - 1,
                        });
                        Part::Factor(Factor::Power {
                            input: *input,
                            exponent: 1,
                        })
                    }
                    p => {
                        parent.remove(last);
                        p.clone()
                    }
                };
                if let Some(&parent) = seen.get(&key(&parent)) {
                    recipe = Recipe::Parent { parent, part };
                }
            }
            recipes.push(recipe);
            seen.entry(key(t)).or_insert(k);
        }
        Self {
            terms,
            recipes,
            names,
            n_inputs,
        }
    }

    /// Number of terms `p`.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether there are no terms (never true for an expanded library).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Number of inputs the terms read.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// The terms' names, PySINDy style.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The parts of term `k` (an empty product is the constant 1).
    pub fn term(&self, k: usize) -> &[Part] {
        &self.terms[k]
    }

    /// Evaluates every term on `rows` samples: `inputs[i]` is input `i`'s column (at least `rows` long),
    /// `out` is `rows × p` column-major (`out[r + k·rows]` is term `k` at sample `r`).
    ///
    /// # Errors
    /// [`Error::Shape`] when there are fewer than `n_inputs` input columns, one of them is shorter than
    /// `rows`, or `out` holds fewer than `rows · p` values; nothing is written then.
    pub fn evaluate(&self, inputs: &[&[f64]], rows: usize, out: &mut [f64]) -> Result<()> {
        check_holds("input columns of the library", self.n_inputs, inputs.len())?;
        for column in &inputs[..self.n_inputs] {
            check_holds("rows of an input column", rows, column.len())?;
        }
        check_holds("values of the output (rows × terms)", rows * self.len(), out.len())?;
        crate::simd::dispatch(
            #[inline(always)]
            || self.evaluate_columns(inputs, rows, out),
        );
        Ok(())
    }

    #[inline(always)]
    fn evaluate_columns(&self, inputs: &[&[f64]], rows: usize, out: &mut [f64]) {
        let mut args = Vec::new();
        for (k, recipe) in self.recipes.iter().enumerate() {
            let (done, rest) = out.split_at_mut(k * rows);
            let col = &mut rest[..rows];
            match recipe {
                Recipe::Parent {
                    parent,
                    part: Part::Factor(Factor::Power { input, exponent: 1 }),
                } => {
                    let (p, x) = (&done[parent * rows..(parent + 1) * rows], &inputs[*input][..rows]);
                    col.iter_mut().zip(p.iter().zip(x)).for_each(|(c, (a, b))| *c = a * b);
                }
                Recipe::Parent { parent, part } => {
                    let p = &done[parent * rows..(parent + 1) * rows];
                    for r in 0..rows {
                        col[r] = p[r] * part.eval(inputs, r, &mut args);
                    }
                }
                Recipe::Product if self.terms[k].iter().all(|p| *p == Part::One) => col.fill(1.0),
                Recipe::Product => {
                    for (r, c) in col.iter_mut().enumerate() {
                        *c = self.terms[k].iter().map(|p| p.eval(inputs, r, &mut args)).product();
                    }
                }
            }
        }
    }

    /// The terms listed in `terms` as core factors (`factors`, `term_ptr` in
    /// [`sparsimony_core::sindy::SindyModel`]'s layout).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when a term holds a custom function, which has no core representation.
    pub fn core_factors_of(&self, terms: &[usize]) -> Result<(Vec<Factor<f64>>, Vec<usize>)> {
        let mut factors = Vec::new();
        let mut ptr = vec![0];
        for &k in terms {
            for p in &self.terms[k] {
                match p {
                    Part::Factor(f) => factors.push(*f),
                    Part::One => {}
                    Part::Custom { .. } => {
                        return Err(Error::InvalidParameter {
                            name: "library",
                            reason: format!(
                                "term `{}` is a custom function, which cannot be exported to the core",
                                self.names[k]
                            ),
                        });
                    }
                }
            }
            ptr.push(factors.len());
        }
        Ok((factors, ptr))
    }
}
