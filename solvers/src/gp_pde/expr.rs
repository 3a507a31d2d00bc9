//! Arithmetic expressions for problem descriptions: parsed once (errors name the character where parsing
//! stopped), evaluated at many grid points, and differentiated symbolically (for manufactured sources).
//!
//! Grammar: `+ - * /`, `^` (right-associative, binds tighter than unary minus: `-x^2 = -(x^2)`), numbers
//! (`1`, `2.5`, `1e-3`), named variables and constants, `pi`, and the functions `sin cos tan exp log sqrt
//! abs tanh sinh cosh`.

use crate::{Error, Result};

/// A unary function an expression may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `sin`.
    Sin,
    /// `cos`.
    Cos,
    /// `tan`.
    Tan,
    /// `exp`.
    Exp,
    /// `log` (natural).
    Log,
    /// `sqrt`.
    Sqrt,
    /// `abs`.
    Abs,
    /// `tanh`.
    Tanh,
    /// `sinh`.
    Sinh,
    /// `cosh`.
    Cosh,
}

impl Function {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sin" => Self::Sin,
            "cos" => Self::Cos,
            "tan" => Self::Tan,
            "exp" => Self::Exp,
            "log" => Self::Log,
            "sqrt" => Self::Sqrt,
            "abs" => Self::Abs,
            "tanh" => Self::Tanh,
            "sinh" => Self::Sinh,
            "cosh" => Self::Cosh,
            _ => return None,
        })
    }

    fn apply(self, x: f64) -> f64 {
        match self {
            Self::Sin => x.sin(),
            Self::Cos => x.cos(),
            Self::Tan => x.tan(),
            Self::Exp => x.exp(),
            Self::Log => x.ln(),
            Self::Sqrt => x.sqrt(),
            Self::Abs => x.abs(),
            Self::Tanh => x.tanh(),
            Self::Sinh => x.sinh(),
            Self::Cosh => x.cosh(),
        }
    }
}

/// A parsed expression over numbered variables.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number.
    Const(f64),
    /// Variable `i` of the evaluation point.
    Var(usize),
    /// `−a`.
    Neg(Box<Expr>),
    /// `a + b`.
    Add(Box<Expr>, Box<Expr>),
    /// `a − b`.
    Sub(Box<Expr>, Box<Expr>),
    /// `a · b`.
    Mul(Box<Expr>, Box<Expr>),
    /// `a / b`.
    Div(Box<Expr>, Box<Expr>),
    /// `a ^ b`.
    Pow(Box<Expr>, Box<Expr>),
    /// `f(a)`.
    Call(Function, Box<Expr>),
}

fn b(e: Expr) -> Box<Expr> {
    Box::new(e)
}

impl Expr {
    /// Parses `text`; `variables` name the evaluation point's coordinates in order, `constants` are
    /// substituted by value.
    ///
    /// # Errors
    /// [`Error::Expression`] naming the character where parsing stopped and what was expected there.
    pub fn parse(text: &str, variables: &[&str], constants: &[(&str, f64)]) -> Result<Self> {
        // Evaluation, differentiation and expansion recurse over the tree: its size and depth are bounded
        // here, so that no expression can overflow the stack.
        if text.chars().count() > MAX_LENGTH {
            return Err(Error::Expression {
                expression: text.chars().take(40).collect::<String>() + "…",
                position: MAX_LENGTH + 1,
                message: format!("expressions are at most {MAX_LENGTH} characters long"),
            });
        }
        let mut p = Parser {
            text,
            chars: text.char_indices().collect(),
            pos: 0,
            depth: 0,
            variables,
            constants,
        };
        let e = p.sum()?;
        p.skip_space();
        if p.pos < p.chars.len() {
            return Err(p.error("an operator or the end of the expression"));
        }
        Ok(e)
    }

    /// The value at `point` (coordinates in the order of the parse's `variables`).
    pub fn eval(&self, point: &[f64]) -> f64 {
        match self {
            Self::Const(c) => *c,
            Self::Var(i) => point[*i],
            Self::Neg(a) => -a.eval(point),
            Self::Add(a, c) => a.eval(point) + c.eval(point),
            Self::Sub(a, c) => a.eval(point) - c.eval(point),
            Self::Mul(a, c) => a.eval(point) * c.eval(point),
            Self::Div(a, c) => a.eval(point) / c.eval(point),
            Self::Pow(a, c) => match **c {
                Self::Const(k) if k == k.round() && k.abs() < 64.0 => a.eval(point).powi(k as i32),
                _ => a.eval(point).powf(c.eval(point)),
            },
            Self::Call(f, a) => f.apply(a.eval(point)),
        }
    }

    /// How many variables the expression reads: one more than its largest variable index (0 for none).
    pub fn arity(&self) -> usize {
        use Expr::*;
        match self {
            Const(_) => 0,
            Var(i) => i + 1,
            Neg(a) | Call(_, a) => a.arity(),
            Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => a.arity().max(c.arity()),
        }
    }

    /// The number of nodes in the tree.
    pub fn size(&self) -> usize {
        use Expr::*;
        match self {
            Const(_) | Var(_) => 1,
            Neg(a) | Call(_, a) => 1 + a.size(),
            Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => (1 + a.size()).saturating_add(c.size()),
        }
    }

    /// The number of nodes [`Expr::diff`] builds (in any variable: the derivative's shape does not
    /// depend on which), counted without building them and saturating at `usize::MAX`: repeated symbolic
    /// derivatives of a product grow quickly, and a caller can refuse one before it exhausts memory.
    pub fn diff_size(&self) -> usize {
        self.sizes().1
    }

    /// `(size, diff_size)`, in one pass.
    fn sizes(&self) -> (usize, usize) {
        use Expr::*;
        // Saturating sums of node counts.
        let sum = |xs: &[usize]| xs.iter().fold(0usize, |acc, &x| acc.saturating_add(x));
        match self {
            Const(_) | Var(_) => (1, 1),
            Neg(a) => {
                let (sa, da) = a.sizes();
                (sum(&[1, sa]), sum(&[1, da]))
            }
            Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => {
                let ((sa, da), (sc, dc)) = (a.sizes(), c.sizes());
                let size = sum(&[1, sa, sc]);
                let d = match self {
                    Add(..) | Sub(..) => sum(&[1, da, dc]),
                    // a'c + ac'.
                    Mul(..) => sum(&[3, da, sc, sa, dc]),
                    // (a'c − ac') / c².
                    Div(..) => sum(&[6, da, sc, sa, dc, sc]),
                    // k a^(k−1) a'.
                    _ if matches!(**c, Const(_)) => sum(&[5, sa, da]),
                    // aᶜ (c' log a + c a'/a).
                    _ => sum(&[6, size, dc, sa, sc, da, sa]),
                };
                (size, d)
            }
            Call(f, a) => {
                let (sa, da) = a.sizes();
                let outer = match f {
                    Function::Sin | Function::Exp | Function::Sinh | Function::Cosh => sum(&[1, sa]),
                    Function::Cos | Function::Log => sum(&[2, sa]),
                    Function::Sqrt => sum(&[3, sa]),
                    Function::Tan | Function::Tanh => sum(&[5, sa]),
                    Function::Abs => sum(&[2, sa, sa]),
                };
                (sum(&[1, sa]), sum(&[1, outer, da]))
            }
        }
    }

    /// The symbolic partial derivative in variable `var` (unsimplified except for constants).
    pub fn diff(&self, var: usize) -> Expr {
        use Expr::*;
        let zero = || Const(0.0);
        match self {
            Const(_) => zero(),
            Var(i) => Const(if *i == var { 1.0 } else { 0.0 }),
            Neg(a) => Neg(b(a.diff(var))),
            Add(a, c) => Add(b(a.diff(var)), b(c.diff(var))),
            Sub(a, c) => Sub(b(a.diff(var)), b(c.diff(var))),
            Mul(a, c) => Add(b(Mul(b(a.diff(var)), c.clone())), b(Mul(a.clone(), b(c.diff(var))))),
            Div(a, c) => Div(
                b(Sub(
                    b(Mul(b(a.diff(var)), c.clone())),
                    b(Mul(a.clone(), b(c.diff(var)))),
                )),
                b(Pow(c.clone(), b(Const(2.0)))),
            ),
            Pow(a, c) => match **c {
                // (aᵏ)' = k aᵏ⁻¹ a'.
                Const(k) => Mul(
                    b(Mul(b(Const(k)), b(Pow(a.clone(), b(Const(k - 1.0)))))),
                    b(a.diff(var)),
                ),
                // (aᶜ)' = aᶜ (c' log a + c a'/a).
                _ => Mul(
                    b(self.clone()),
                    b(Add(
                        b(Mul(b(c.diff(var)), b(Call(Function::Log, a.clone())))),
                        b(Div(b(Mul(c.clone(), b(a.diff(var)))), a.clone())),
                    )),
                ),
            },
            Call(f, a) => {
                let inner = a.diff(var);
                let outer = match f {
                    Function::Sin => Call(Function::Cos, a.clone()),
                    Function::Cos => Neg(b(Call(Function::Sin, a.clone()))),
                    Function::Tan => Add(b(Const(1.0)), b(Pow(b(Call(Function::Tan, a.clone())), b(Const(2.0))))),
                    Function::Exp => Call(Function::Exp, a.clone()),
                    Function::Log => Div(b(Const(1.0)), a.clone()),
                    Function::Sqrt => Div(b(Const(0.5)), b(Call(Function::Sqrt, a.clone()))),
                    Function::Abs => Div(a.clone(), b(Call(Function::Abs, a.clone()))),
                    Function::Tanh => Sub(b(Const(1.0)), b(Pow(b(Call(Function::Tanh, a.clone())), b(Const(2.0))))),
                    Function::Sinh => Call(Function::Cosh, a.clone()),
                    Function::Cosh => Call(Function::Sinh, a.clone()),
                };
                Mul(b(outer), b(inner))
            }
        }
    }
}

/// Whether `name` is taken by the expression language itself (a function, or the constant `pi`): a
/// parameter, field or axis of that name would be shadowed by it or shadow it.
pub(crate) fn is_reserved(name: &str) -> bool {
    name == "pi" || Function::from_name(name).is_some()
}

/// The longest expression text [`Expr::parse`] takes, in characters.
const MAX_LENGTH: usize = 4096;
/// The deepest nesting of parentheses, function calls, signs and powers it takes.
const MAX_DEPTH: usize = 100;

struct Parser<'a> {
    text: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
    /// The current nesting depth of [`Parser::unary`] calls.
    depth: usize,
    variables: &'a [&'a str],
    constants: &'a [(&'a str, f64)],
}

impl Parser<'_> {
    fn error(&self, expected: &str) -> Error {
        let found = self
            .chars
            .get(self.pos)
            .map_or("the end".to_string(), |(_, c)| format!("'{c}'"));
        Error::Expression {
            expression: self.text.to_string(),
            position: self.pos + 1,
            message: format!("expected {expected}, found {found}"),
        }
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.pos).is_some_and(|(_, c)| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.pos).map(|(_, c)| *c)
    }

    fn sum(&mut self) -> Result<Expr> {
        let mut e = self.product()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.pos += 1;
            let r = self.product()?;
            e = if op == '+' {
                Expr::Add(b(e), b(r))
            } else {
                Expr::Sub(b(e), b(r))
            };
        }
        Ok(e)
    }

    fn product(&mut self) -> Result<Expr> {
        let mut e = self.unary()?;
        while let Some(op @ ('*' | '/')) = self.peek() {
            self.pos += 1;
            let r = self.unary()?;
            e = if op == '*' {
                Expr::Mul(b(e), b(r))
            } else {
                Expr::Div(b(e), b(r))
            };
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::Expression {
                expression: self.text.to_string(),
                position: self.pos + 1,
                message: format!("nested more than {MAX_DEPTH} deep (parentheses, functions, signs, powers)"),
            });
        }
        self.depth += 1;
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> Result<Expr> {
        match self.peek() {
            Some('-') => {
                self.pos += 1;
                Ok(Expr::Neg(b(self.unary()?)))
            }
            Some('+') => {
                self.pos += 1;
                self.unary()
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<Expr> {
        let base = self.atom()?;
        if self.peek() == Some('^') {
            self.pos += 1;
            let exponent = self.unary()?;
            return Ok(Expr::Pow(b(base), b(exponent)));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr> {
        match self.peek() {
            Some('(') => {
                self.pos += 1;
                let e = self.sum()?;
                if self.peek() != Some(')') {
                    return Err(self.error("')'"));
                }
                self.pos += 1;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let start = self.pos;
                while self
                    .chars
                    .get(self.pos)
                    .is_some_and(|(_, c)| c.is_alphanumeric() || *c == '_')
                {
                    self.pos += 1;
                }
                let name: String = self.chars[start..self.pos].iter().map(|(_, c)| c).collect();
                if let Some(f) = Function::from_name(&name) {
                    if self.peek() != Some('(') {
                        return Err(self.error(&format!("'(' after the function {name}")));
                    }
                    self.pos += 1;
                    let arg = self.sum()?;
                    if self.peek() != Some(')') {
                        return Err(self.error("')'"));
                    }
                    self.pos += 1;
                    return Ok(Expr::Call(f, b(arg)));
                }
                if let Some(i) = self.variables.iter().position(|v| *v == name) {
                    return Ok(Expr::Var(i));
                }
                if let Some((_, v)) = self.constants.iter().find(|(c, _)| *c == name) {
                    return Ok(Expr::Const(*v));
                }
                if name == "pi" {
                    return Ok(Expr::Const(std::f64::consts::PI));
                }
                self.pos = start;
                let known: Vec<&str> = self
                    .variables
                    .iter()
                    .copied()
                    .chain(self.constants.iter().map(|(c, _)| *c))
                    .collect();
                Err(self.error(&format!(
                    "a number, a function or one of the names {known:?} (not '{name}')"
                )))
            }
            _ => Err(self.error("a number, a name or '('")),
        }
    }

    fn number(&mut self) -> Result<Expr> {
        let start = self.pos;
        let mut seen_exp = false;
        while let Some(&(_, c)) = self.chars.get(self.pos) {
            let sign_after_exp =
                (c == '+' || c == '-') && self.pos > start && matches!(self.chars[self.pos - 1].1, 'e' | 'E');
            if c.is_ascii_digit() || c == '.' || sign_after_exp || (!seen_exp && (c == 'e' || c == 'E')) {
                seen_exp |= c == 'e' || c == 'E';
                self.pos += 1;
            } else {
                break;
            }
        }
        let s: String = self.chars[start..self.pos].iter().map(|(_, c)| c).collect();
        s.parse().map(Expr::Const).map_err(|_| {
            self.pos = start;
            self.error("a number")
        })
    }
}

/// Each expression on the tensor grid with the given coordinates per axis (row-major, first axis slowest).
pub(crate) fn on_tensor(exprs: &[Expr], points: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n: usize = points.iter().map(Vec::len).product();
    let mut out: Vec<Vec<f64>> = exprs.iter().map(|_| Vec::with_capacity(n)).collect();
    let mut x = vec![0.0; points.len()];
    for i in 0..n {
        let mut rest = i;
        for d in (0..points.len()).rev() {
            x[d] = points[d][rest % points[d].len()];
            rest /= points[d].len();
        }
        for (o, e) in out.iter_mut().zip(exprs) {
            o.push(e.eval(&x));
        }
    }
    out
}
