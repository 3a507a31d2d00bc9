//! Algebra on parsed expressions, for problem descriptions: substitution (a source derived from the exact
//! solution) and polynomial expansion (an operator as a polynomial in its fields and derivatives, with
//! coefficients that are numbers or expressions of the coordinates).

use super::expr::Expr;

/// The number of nodes `substitute(e, values)` builds, from the sizes of `values` (saturating), so that a
/// source too large to derive is refused before it is built.
pub(crate) fn substituted_size(e: &Expr, sizes: &[usize]) -> usize {
    use Expr::*;
    match e {
        Const(_) => 1,
        Var(i) => sizes[*i],
        Neg(a) | Call(_, a) => substituted_size(a, sizes).saturating_add(1),
        Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => substituted_size(a, sizes)
            .saturating_add(substituted_size(c, sizes))
            .saturating_add(1),
    }
}

/// Replaces variable `i` by `values[i]`.
pub(crate) fn substitute(e: &Expr, values: &[Expr]) -> Expr {
    use Expr::*;
    let s = |a: &Expr| Box::new(substitute(a, values));
    match e {
        Const(c) => Const(*c),
        Var(i) => values[*i].clone(),
        Neg(a) => Neg(s(a)),
        Add(a, c) => Add(s(a), s(c)),
        Sub(a, c) => Sub(s(a), s(c)),
        Mul(a, c) => Mul(s(a), s(c)),
        Div(a, c) => Div(s(a), s(c)),
        Pow(a, c) => Pow(s(a), s(c)),
        Call(f, a) => Call(*f, s(a)),
    }
}

/// The largest expression a problem may derive symbolically (a source from the exact solution): evaluated
/// at every grid point, a larger one would take minutes, and building one much larger exhausts memory.
pub(crate) const MAX_EXPRESSION_NODES: usize = 100_000;

/// The most monomials an operator may expand to: a polynomial operator of real PDEs has a handful.
pub(crate) const MAX_MONOMIALS: usize = 10_000;

/// The most factors (fields, derivatives and varying coefficients, with repetition) a term of an
/// operator may multiply: real PDEs have a handful, and the bound keeps a tower of powers
/// (`((u^8)^8)^8…`) from building products of billions of factors.
pub(crate) const MAX_DEGREE: usize = 32;

/// A monomial: coefficient and sorted variable indices (with repetition).
pub(crate) type Monomial = (f64, Vec<usize>);

/// Expands an expression into a polynomial in its variables.
pub(crate) fn polynomial(e: &Expr) -> std::result::Result<Vec<Monomial>, String> {
    use Expr::*;
    let constant =
        |p: &[Monomial]| -> Option<f64> { p.iter().try_fold(0.0, |acc, (c, v)| v.is_empty().then_some(acc + c)) };
    let scale = |p: Vec<Monomial>, k: f64| p.into_iter().map(|(c, v)| (k * c, v)).collect::<Vec<_>>();
    let collect = |mut p: Vec<Monomial>| {
        p.sort_by(|a, b| a.1.cmp(&b.1));
        let mut out: Vec<Monomial> = Vec::new();
        for (c, v) in p {
            match out.last_mut() {
                Some((lc, lv)) if *lv == v => *lc += c,
                _ => out.push((c, v)),
            }
        }
        out
    };
    // The product, its like terms collected (so that powers of sums stay as small as their distinct
    // monomials); refused where it would pass MAX_MONOMIALS terms before collecting.
    let multiply = |a: &[Monomial], b: &[Monomial]| -> std::result::Result<Vec<Monomial>, String> {
        if a.len().saturating_mul(b.len()) > MAX_MONOMIALS {
            return Err(format!(
                "expands to more than {MAX_MONOMIALS} terms; write the operator in fewer products of sums"
            ));
        }
        let mut out: Vec<Monomial> = Vec::with_capacity(a.len() * b.len());
        for (ca, va) in a {
            for (cb, vb) in b {
                if va.len() + vb.len() > MAX_DEGREE {
                    return Err(format!(
                        "multiplies more than {MAX_DEGREE} fields, derivatives and coefficients in one term"
                    ));
                }
                let mut v: Vec<usize> = va.iter().chain(vb).copied().collect();
                v.sort_unstable();
                out.push((ca * cb, v));
            }
        }
        Ok(collect(out))
    };
    Ok(collect(match e {
        Const(c) => vec![(*c, vec![])],
        Var(i) => vec![(1.0, vec![*i])],
        Neg(a) => scale(polynomial(a)?, -1.0),
        Add(a, b) => polynomial(a)?.into_iter().chain(polynomial(b)?).collect(),
        Sub(a, b) => polynomial(a)?.into_iter().chain(scale(polynomial(b)?, -1.0)).collect(),
        Mul(a, b) => multiply(&polynomial(a)?, &polynomial(b)?)?,
        Div(a, b) => {
            let k = constant(&polynomial(b)?).ok_or("divides by a field or a derivative; only constants may divide")?;
            scale(polynomial(a)?, 1.0 / k)
        }
        Pow(a, b) => {
            let k = constant(&polynomial(b)?).ok_or("raises to a non-constant power")?;
            let base = polynomial(a)?;
            if let Some(c) = constant(&base) {
                vec![(c.powf(k), vec![])]
            } else if k >= 0.0 && k == k.round() && k <= 8.0 {
                (0..k as usize).try_fold(vec![(1.0, vec![])], |acc, _| multiply(&acc, &base))?
            } else {
                return Err(format!(
                    "raises a field to the power {k}; only whole powers 0–8 are polynomial"
                ));
            }
        }
        Call(f, a) => {
            let c = constant(&polynomial(a)?).ok_or(format!(
                "applies {f:?} to a field; the operator must be a polynomial in the fields and their derivatives"
            ))?;
            vec![(Call(*f, Box::new(Const(c))).eval(&[]), vec![])]
        }
    }))
}

/// A polynomial's term whose coefficient is an expression of the coordinates: coefficient and sorted
/// unknown indices.
pub(crate) type VaryingMonomial = (Expr, Vec<usize>);

/// Expands an expression in `unknowns` unknowns (variables `0..unknowns`) and the coordinates (variables
/// `unknowns + d`) into a polynomial in the unknowns whose coefficients are expressions of the coordinates
/// (renumbered from 0), one per distinct product of unknowns, in the order of those products: the
/// operator `(1 + x^2)*u_xx + x*u_x + u_xx` is `(1 + x^2) + 1` times `u_xx` plus `x` times `u_x`.
/// Coefficients without a coordinate are folded to [`Expr::Const`]; products whose coefficients fold to
/// zero are dropped. Division by an expression of the coordinates alone is a coefficient (`u_x / x`);
/// by an unknown, a power with an unknown exponent or a function of an unknown are refused, as in
/// [`polynomial`].
pub(crate) fn polynomial_in(e: &Expr, unknowns: usize) -> std::result::Result<Vec<VaryingMonomial>, String> {
    use Expr::*;
    // Every largest subtree that holds a coordinate and no unknown becomes a new variable (an "atom",
    // numbered from `unknowns`), so that `polynomial` expands the rest with constant coefficients.
    fn atomize(e: &Expr, unknowns: usize, renumbered: &[Expr], atoms: &mut Vec<Expr>) -> Expr {
        let atom = |a: &Expr, atoms: &mut Vec<Expr>| {
            let shifted = substitute(a, renumbered);
            let k = atoms.iter().position(|x| *x == shifted).unwrap_or_else(|| {
                atoms.push(shifted);
                atoms.len() - 1
            });
            Var(unknowns + k)
        };
        let (unknown, coordinate) = holds(e, unknowns);
        if !unknown {
            return if coordinate { atom(e, atoms) } else { e.clone() };
        }
        let mut a = |x: &Expr| Box::new(atomize(x, unknowns, renumbered, atoms));
        match e {
            Const(_) | Var(_) => e.clone(),
            Neg(x) => Neg(a(x)),
            Add(x, y) => Add(a(x), a(y)),
            Sub(x, y) => Sub(a(x), a(y)),
            Mul(x, y) => Mul(a(x), a(y)),
            Div(x, y) => match holds(y, unknowns) {
                // A varying divisor is the coefficient 1/y.
                (false, true) => {
                    let x = a(x);
                    Mul(x, Box::new(atom(&Div(Box::new(Const(1.0)), y.clone()), atoms)))
                }
                _ => Div(a(x), a(y)),
            },
            Pow(x, y) => Pow(a(x), a(y)),
            Call(f, x) => Call(*f, a(x)),
        }
    }
    // Whether `e` holds an unknown, and whether it holds a coordinate.
    fn holds(e: &Expr, unknowns: usize) -> (bool, bool) {
        match e {
            Const(_) => (false, false),
            Var(i) => (*i < unknowns, *i >= unknowns),
            Neg(a) | Call(_, a) => holds(a, unknowns),
            Add(a, c) | Sub(a, c) | Mul(a, c) | Div(a, c) | Pow(a, c) => {
                let (x, y) = (holds(a, unknowns), holds(c, unknowns));
                (x.0 || y.0, x.1 || y.1)
            }
        }
    }
    // An atom's variables are coordinates (at `unknowns` and above), renumbered from 0.
    let renumbered: Vec<Expr> = (0..e.arity()).map(|i| Var(i.saturating_sub(unknowns))).collect();
    let mut atoms = Vec::new();
    let expanded = polynomial(&atomize(e, unknowns, &renumbered, &mut atoms))?;
    // Group the monomials by their product of unknowns; a coefficient is Σ c · Π atoms.
    let mut groups: Vec<(Vec<usize>, f64, Vec<Expr>)> = Vec::new();
    let mut nodes = 0usize;
    for (c, vars) in expanded.into_iter().filter(|(c, _)| *c != 0.0) {
        let (known, unknown): (Vec<usize>, Vec<usize>) = vars.iter().partition(|&&v| v >= unknowns);
        let k = groups.iter().position(|g| g.0 == unknown).unwrap_or_else(|| {
            groups.push((unknown, 0.0, Vec::new()));
            groups.len() - 1
        });
        if known.is_empty() {
            groups[k].1 += c;
            continue;
        }
        // Each distinct atom once, raised to its multiplicity (`known` is sorted), times `c` unless 1.
        let mut factors: Vec<Expr> = Vec::new();
        for run in known.chunk_by(|a, b| a == b) {
            let atom = atoms[run[0] - unknowns].clone();
            factors.push(match run.len() {
                1 => atom,
                k => Pow(Box::new(atom), Box::new(Const(k as f64))),
            });
        }
        if c != 1.0 {
            factors.insert(0, Const(c));
        }
        let product = balanced(factors, |a, b| Mul(Box::new(a), Box::new(b)));
        nodes = nodes.saturating_add(product.size());
        if nodes > MAX_EXPRESSION_NODES {
            return Err(format!(
                "its coefficients expand to more than {MAX_EXPRESSION_NODES} nodes; write the operator in \
                 fewer products of sums"
            ));
        }
        groups[k].2.push(product);
    }
    Ok(groups
        .into_iter()
        .filter_map(|(unknown, constant, mut parts)| {
            if constant != 0.0 {
                parts.insert(0, Const(constant));
            }
            (!parts.is_empty()).then(|| (balanced(parts, |a, b| Add(Box::new(a), Box::new(b))), unknown))
        })
        .collect())
}

/// `op` folded over a non-empty list as a balanced tree, so that a sum of ten thousand terms is 14 levels
/// deep, not ten thousand (evaluation and dropping recurse).
fn balanced(mut items: Vec<Expr>, op: fn(Expr, Expr) -> Expr) -> Expr {
    while items.len() > 1 {
        let mut next = Vec::with_capacity(items.len().div_ceil(2));
        let mut it = items.into_iter();
        while let Some(a) = it.next() {
            next.push(match it.next() {
                Some(b) => op(a, b),
                None => a,
            });
        }
        items = next;
    }
    items.pop().unwrap_or(Expr::Const(0.0))
}
