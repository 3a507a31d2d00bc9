//! The SINDy model: differentiation, library and optimizer put together; fitting on one or several
//! trajectories with optional control inputs, in continuous or discrete time. What a fit gives — equations,
//! prediction, R², simulation — is in [`super::fitted`], its export to the allocation-free core model in
//! [`super::export`]; the samples both read, in `samples.rs`. Data flow one way: samples → fit →
//! fitted model.

use ndarray::s;

use super::differentiation::Differentiation;
use super::fitted::SindyFit;
use super::library::{Features, Library};
use super::optimizer::{NormalFn, Optimizer, OptimizerFit};
use super::samples::{Trajectory, check_block, check_rows, gather, input_names, transpose_into};
use super::weak::{WeakForm, WeakRows};
use crate::regression::NormalEquations;
use crate::{Backend, Error, Estimator, Result};

/// A SINDy model specification (Brunton, Proctor & Kutz 2016): `ẋ = Ξ θ(x, u)` with `θ` a library of
/// candidate functions and `Ξ` sparse, found by sparse regression of the derivatives on the library. In
/// discrete time, `x[k+1] = Ξ θ(x[k], u[k])`.
///
/// The defaults are PySINDy's: second-order finite differences, a degree-2 polynomial library, STLSQ with
/// threshold 0.1 and ridge 0.05.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sindy {
    /// How derivatives are estimated (continuous time only).
    pub differentiation: Differentiation,
    /// The candidate functions.
    pub library: Library,
    /// The sparse regression.
    pub optimizer: Optimizer,
    /// Names of the states (default `x0, x1, …`).
    pub state_names: Option<Vec<String>>,
    /// Names of the control inputs (default `u0, u1, …`).
    pub control_names: Option<Vec<String>>,
    /// Fit a map `x[k] → x[k+1]` instead of a vector field.
    pub discrete_time: bool,
    /// Fit the weak (integral) form instead of differentiating (continuous time; `differentiation` is then
    /// unused).
    pub weak_form: Option<WeakForm>,
    /// Where the regression is solved (default the CPU). On a GPU, an STLSQ ensemble's members are solved
    /// as one `f32` batch (their normal equations are formed on the CPU); other optimizers are refused
    /// there, since a single fit on the normal equations is faster on the CPU.
    pub backend: Backend,
}

/// The library's input names, then the states' and the controls' names.
type Names = (Vec<String>, Vec<String>, Vec<String>);

/// How a fit solves its regression: optimizer, rows, terms, what the rows are, their normal equations.
type Solve<'a> = dyn Fn(&Optimizer, usize, usize, &str, &NormalFn<'_>) -> Result<OptimizerFit> + 'a;

impl<'a> Estimator<&[Trajectory<'a>]> for Sindy {
    type Fitted = SindyFit;

    /// Fits the model to one or more trajectories (all with the same states and controls).
    ///
    /// # Errors
    /// [`Error::Empty`] for no trajectories or samples; [`Error::Shape`] for inconsistent states, controls or
    /// names; [`Error::NonFinite`] for NaN or ±∞ in the data; [`Error::InvalidParameter`] for times that do
    /// not increase, too few samples for the differentiation, or a library with more terms than there are
    /// samples; the optimizer's errors; on a GPU backend, [`Error::InvalidParameter`] when the optimizer is
    /// not an STLSQ ensemble and [`Error::Gpu`] for the device's errors. A threshold that removes every
    /// term is not an error: the model is all zeros (check [`SindyFit::n_nonzero`]). An optimizer that
    /// stops at its cap is not an error either: [`Fitted::report`](crate::Fitted::report) says so.
    fn fit(&self, trajectories: &[Trajectory<'a>]) -> Result<SindyFit> {
        match &self.backend {
            Backend::Cpu => self.fit_via(trajectories, &|o, n, p, rows, normal| o.fit_rows(n, p, rows, normal)),
            #[cfg(feature = "gpu")]
            Backend::Gpu(ctx) => self.fit_via(trajectories, &|o, n, p, rows, normal| {
                o.fit_rows_gpu(ctx, n, p, rows, normal)
            }),
        }
    }
}

impl Sindy {
    fn names(&self, n_states: usize, n_controls: usize) -> Result<(Vec<String>, Vec<String>)> {
        let pick = |given: &Option<Vec<String>>, n: usize, prefix: &str, what: &'static str| match given {
            Some(v) if v.len() != n => Err(Error::Shape {
                what,
                expected: n,
                found: v.len(),
            }),
            Some(v) => Ok(v.clone()),
            None => Ok((0..n).map(|i| format!("{prefix}{i}")).collect()),
        };
        let (states, controls) = (
            pick(&self.state_names, n_states, "x", "state names")?,
            pick(&self.control_names, n_controls, "u", "control names")?,
        );
        let all: Vec<&String> = states.iter().chain(&controls).collect();
        // Term names are inputs joined by spaces, powers, and sin(·)/cos(·): an input named `x y`, `1` (the
        // constant term), `sin` or `x^2` would print as another term.
        for name in &all {
            let readable = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_alphanumeric() || "_.'[]".contains(c))
                && !matches!(name.as_str(), "sin" | "cos");
            if !readable {
                return Err(Error::InvalidParameter {
                    name: "state and control names",
                    reason: format!(
                        "`{name}` would be mistaken for a library term: names start with a letter and hold \
                         letters, digits and _ . ' [ ] only (not sin or cos)"
                    ),
                });
            }
        }
        for (j, name) in all.iter().enumerate() {
            if all[..j].contains(name) {
                return Err(Error::InvalidParameter {
                    name: "state and control names",
                    reason: format!("`{name}` names two inputs: the library's terms would be ambiguous"),
                });
            }
        }
        Ok((states, controls))
    }

    /// The library's terms for `n_states` states and `n_controls` controls, with the names they are
    /// written in.
    fn terms(&self, n_states: usize, n_controls: usize) -> Result<(Features, Names)> {
        let (state_names, control_names) = self.names(n_states, n_controls)?;
        let input_names = input_names(&state_names, &control_names, self.discrete_time);
        let features = self.library.expand(&input_names)?;
        Ok((features, (input_names, state_names, control_names)))
    }

    /// The fit, with the regression solved by `solve(optimizer, rows, terms, row name, normal equations)`.
    fn fit_via(&self, trajectories: &[Trajectory<'_>], solve: &Solve<'_>) -> Result<SindyFit> {
        let first = trajectories.first().ok_or(Error::Empty {
            what: "trajectories",
            rows: 0,
            cols: 0,
        })?;
        let n_states = first.x.ncols();
        let n_controls = first.u.map_or(0, |u| u.ncols());
        if trajectories.iter().any(|t| t.u.is_some() != first.u.is_some()) {
            return Err(Error::InvalidParameter {
                name: "u",
                reason: "either every trajectory has control inputs or none has".into(),
            });
        }
        let (features, (input_names, state_names, control_names)) = self.terms(n_states, n_controls)?;
        if let Some(weak) = &self.weak_form {
            return self.fit_weak(
                weak,
                trajectories,
                features,
                (input_names, state_names, control_names),
                solve,
            );
        }
        let data = gather(
            trajectories,
            &self.differentiation,
            self.discrete_time,
            n_states,
            n_controls,
        )?;
        let n = data.n();
        let normal = |w: Option<&[f64]>| data.normal_equations(&features, w);
        let fit =
            solve(&self.optimizer, n, features.len(), "usable samples", &normal).map_err(|e| match normal(None) {
                Ok(ne) => name_collinear_term(e, &ne, &features),
                Err(_) => e,
            })?;
        self.finish(features, input_names, state_names, control_names, fit, n)
    }

    /// The weak-form fit: one regression row per test function.
    fn fit_weak(
        &self,
        weak: &WeakForm,
        trajectories: &[Trajectory<'_>],
        features: Features,
        (input_names, state_names, control_names): Names,
        solve: &Solve<'_>,
    ) -> Result<SindyFit> {
        if self.discrete_time {
            return Err(Error::InvalidParameter {
                name: "weak form",
                reason: "applies to continuous-time models only".into(),
            });
        }
        let (m, c) = (state_names.len(), control_names.len());
        let mut rows = WeakRows {
            rows: 0,
            g: Vec::new(),
            b: Vec::new(),
        };
        for tr in trajectories {
            let n = tr.x.nrows();
            check_block("x", tr.x, m)?;
            if let Some(u) = tr.u {
                check_rows("u (one row per sample of x)", u.nrows(), n)?;
                check_block("u", u, c)?;
            }
            tr.time.check(n)?;
            let inputs = |r0: usize, r1: usize, buf: &mut [f64]| {
                let len = r1 - r0;
                transpose_into(tr.x.slice(s![r0..r1, ..]), &mut buf[..m * len]);
                if let Some(u) = tr.u {
                    transpose_into(u.slice(s![r0..r1, ..]), &mut buf[m * len..(m + c) * len]);
                }
            };
            weak.integrate(&features, tr.x, &tr.time, &inputs, &mut rows)?;
        }
        let n = rows.rows;
        let (g, b) = rows.column_major();
        let normal = |w: Option<&[f64]>| {
            let mut ne = NormalEquations::zeros(features.len(), m);
            ne.accumulate(n, &g, &b, w)?;
            Ok(ne)
        };
        let fit =
            solve(&self.optimizer, n, features.len(), "test functions (use more)", &normal).map_err(
                |e| match normal(None) {
                    Ok(ne) => name_collinear_term(e, &ne, &features),
                    Err(_) => e,
                },
            )?;
        self.finish(features, input_names, state_names, control_names, fit, n)
    }

    fn finish(
        &self,
        features: Features,
        input_names: Vec<String>,
        state_names: Vec<String>,
        control_names: Vec<String>,
        fit: OptimizerFit,
        n: usize,
    ) -> Result<SindyFit> {
        Ok(SindyFit {
            features,
            input_names,
            state_names,
            control_names,
            coef: fit.coef,
            discrete_time: self.discrete_time,
            report: fit.report,
            n_samples: n,
            ensemble: fit.ensemble,
        })
    }
}

/// Fits on data held in pieces — a dask array's row chunks, an MPI rank's share of the samples: each block
/// of a trajectory is reduced where it lies to its normal equations (`O(p² + pm)` values, whatever its
/// length), the blocks' are summed ([`NormalEquations::add`]) and the regression is solved once.
impl Sindy {
    /// The rows a block of a trajectory needs from each neighbour, so that its derivatives equal those of
    /// the whole trajectory ([`Differentiation::reach`]; 0 with measured derivatives or next states given,
    /// 1 in discrete time, where the target is the next state). `None` where a block cannot be fitted
    /// alone: the spectral derivative and the weak form read the whole trajectory.
    pub fn block_halo(&self, targets_given: bool) -> Option<usize> {
        match (targets_given, self.discrete_time, &self.weak_form) {
            (_, _, Some(_)) => None,
            (true, _, None) => Some(0),
            (false, true, None) => Some(1),
            (false, false, None) => self.differentiation.reach(),
        }
    }

    /// The normal equations of rows `own` of `block`: a block of a trajectory widened by up to
    /// [`Sindy::block_halo`] rows on each side (its states, times, controls and targets covering the widened
    /// rows; at the trajectory's ends, no widening). The rows `own` index the widened block. Summed over
    /// blocks that cover a trajectory's rows once, they are the whole trajectory's normal equations, up to
    /// rounding.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for the weak form, `own` outside the block, and as [`Sindy::fit`]
    /// (non-finite data, a block too short for the differentiation, bad names or library).
    pub fn block_normal_equations(
        &self,
        block: &Trajectory<'_>,
        own: std::ops::Range<usize>,
    ) -> Result<NormalEquations> {
        if self.weak_form.is_some() {
            return Err(Error::InvalidParameter {
                name: "weak form",
                reason: "integrates over the whole trajectory: blocks cannot be reduced separately".into(),
            });
        }
        let n = block.x.nrows();
        if own.start > own.end || own.end > n {
            return Err(Error::InvalidParameter {
                name: "own rows",
                reason: format!("rows {}..{} are not within the block's {n} rows", own.start, own.end),
            });
        }
        let (n_states, n_controls) = (block.x.ncols(), block.u.map_or(0, |u| u.ncols()));
        let (features, ..) = self.terms(n_states, n_controls)?;
        let mut data = gather(
            std::slice::from_ref(block),
            &self.differentiation,
            self.discrete_time,
            n_states,
            n_controls,
        )?;
        data.keep_rows(&own);
        data.normal_equations(&features, None)
    }

    /// The fit on normal equations summed over blocks ([`Sindy::block_normal_equations`]) of trajectories
    /// with `n_states` states and `n_controls` controls: the same model as [`Sindy::fit`] on the whole
    /// trajectories, up to the rounding of the sums.
    ///
    /// # Errors
    /// [`Error::Shape`] for normal equations of another library or state count; [`Error::InvalidParameter`]
    /// for an ensemble that resamples rows (bagging needs the samples; dropping library terms works) and
    /// fewer samples than terms; the optimizer's errors.
    pub fn fit_normal_equations(&self, ne: &NormalEquations, n_states: usize, n_controls: usize) -> Result<SindyFit> {
        let (features, (input_names, state_names, control_names)) = self.terms(n_states, n_controls)?;
        for (what, expected, found) in [
            (
                "normal equations' features (the library's terms)",
                features.len(),
                ne.n_features(),
            ),
            ("normal equations' targets (one per state)", n_states, ne.n_targets()),
        ] {
            if expected != found {
                return Err(Error::Shape { what, expected, found });
            }
        }
        let n = ne.n_samples() as usize;
        let normal = |w: Option<&[f64]>| match w {
            None => Ok(ne.clone()),
            Some(_) => Err(Error::InvalidParameter {
                name: "ensemble",
                reason: "bagging resamples the samples, which merged normal equations no longer hold: drop \
                         library terms instead (library_ensemble) or fit one optimizer"
                    .into(),
            }),
        };
        let fit = self
            .optimizer
            .fit_rows(n, features.len(), "usable samples", &normal)
            .map_err(|e| name_collinear_term(e, ne, &features))?;
        self.finish(features, input_names, state_names, control_names, fit, n)
    }
}

/// A singular regression (the core's "not positive definite: pivot k", which names neither the matrix
/// nor the column) restated with the library term at fault: the first term that is zero or a linear
/// combination of the terms before it, found by a Cholesky factorisation of the equilibrated `ΘᵀΘ` — a
/// repeated or collinear control input, say. Other errors pass through.
fn name_collinear_term(e: Error, ne: &NormalEquations, features: &Features) -> Error {
    if !matches!(e, Error::Core(sparsimony_core::Error::NotPositiveDefinite { .. })) {
        return e;
    }
    let p = ne.n_features();
    let scale: Vec<f64> = (0..p)
        .map(|j| {
            let g = ne.gram(j, j);
            if g > 0.0 { 1.0 / g.sqrt() } else { 0.0 }
        })
        .collect();
    // Column-major lower Cholesky factor, column by column; a pivot below 1e-7 (the threshold of
    // `NormalEquations::solve_on`) marks a column dependent on the earlier ones.
    let mut l = vec![0.0; p * p];
    let mut culprit = None;
    for j in 0..p {
        let mut d = scale[j] * scale[j] * ne.gram(j, j);
        for k in 0..j {
            d -= l[j + k * p] * l[j + k * p];
        }
        if scale[j] == 0.0 || d.is_nan() || d <= 1e-14 {
            culprit = Some(j);
            break;
        }
        let ljj = d.sqrt();
        l[j + j * p] = ljj;
        for i in j + 1..p {
            let mut v = scale[i] * scale[j] * ne.gram(i, j);
            for k in 0..j {
                v -= l[i + k * p] * l[j + k * p];
            }
            l[i + j * p] = v / ljj;
        }
    }
    let Some(j) = culprit else {
        return e;
    };
    let name = features.names().get(j).cloned().unwrap_or_else(|| format!("#{j}"));
    Error::Singular {
        what: "the library's normal equations ΘᵀΘ",
        detail: format!(
            "library term `{name}` (column {j}) is zero or a linear combination of the terms before it, so \
             no fit can tell its coefficient from theirs — a constant, zero or repeated state or control \
             input, or collinear controls; remove the input behind it (the solver reported: {e})"
        ),
    }
}
