//! The SINDy model: differentiation, library and optimizer put together; fitting on one or several
//! trajectories with optional control inputs, in continuous or discrete time. What a fit gives — equations,
//! prediction, R², simulation — is in [`super::fitted`], its export to the allocation-free core model in
//! [`super::export`].

use std::ops::Range;

use ndarray::{Array2, ArrayView2, s};
use rayon::prelude::*;

use super::differentiation::{Differentiation, Stencil, Time};
use super::fitted::SindyFit;
use super::library::{Features, Library};
use super::optimizer::{NormalFn, Optimizer, OptimizerFit};
use super::weak::{WeakForm, WeakRows};
use crate::regression::NormalEquations;
use crate::regression::interrupt::{StopScope, stop_requested};
use crate::{Backend, Error, Estimator, Result};

/// Rows per block when the library is evaluated and accumulated: a block of a 100-term library is 3.2 MB.
pub(super) const BLOCK_ROWS: usize = 1024;

/// Blocks accumulated by one task before the ordered sum of the tasks' normal equations (16 384 rows).
pub(super) const GROUP_BLOCKS: usize = 16;

/// One trajectory of training (or scoring) data.
#[derive(Debug, Clone, Copy)]
pub struct Trajectory<'a> {
    /// States, `n × m` (one sample per row).
    pub x: ArrayView2<'a, f64>,
    /// Sampling times (unused in discrete time, except for checking).
    pub time: Time<'a>,
    /// Control inputs, `n × c`, sampled with the states.
    pub u: Option<ArrayView2<'a, f64>>,
    /// Measured derivatives `n × m` (continuous time) or next states (discrete time) instead of those
    /// computed from `x`.
    pub target: Option<ArrayView2<'a, f64>>,
}

impl<'a> Trajectory<'a> {
    /// States sampled at `time`.
    pub fn new(x: ArrayView2<'a, f64>, time: Time<'a>) -> Self {
        Self {
            x,
            time,
            u: None,
            target: None,
        }
    }

    /// With control inputs (one row per sample).
    pub fn with_control(mut self, u: ArrayView2<'a, f64>) -> Self {
        self.u = Some(u);
        self
    }

    /// With measured derivatives (continuous time) or next states (discrete time).
    pub fn with_target(mut self, target: ArrayView2<'a, f64>) -> Self {
        self.target = Some(target);
        self
    }
}

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

/// How a fit solves its regression: optimizer, rows, terms, what the rows are, their normal equations.
type Solve<'a> = dyn Fn(&Optimizer, usize, usize, &str, &NormalFn<'_>) -> Result<OptimizerFit> + 'a;

/// Where a trajectory's regression targets come from.
pub(super) enum TargetSource<'a> {
    /// Given by the user (derivatives or next states).
    Given(ArrayView2<'a, f64>),
    /// The next sample of the states (discrete time).
    Shifted,
    /// Computed by the differentiation method.
    Computed(Array2<f64>),
    /// Finite differences computed block by block from the samples.
    Stencil(Stencil<'a>),
}

/// One trajectory ready for the regression: where its library inputs and targets are, and which rows count.
pub(super) struct Prepared<'a> {
    pub(super) x: ArrayView2<'a, f64>,
    pub(super) smoothed: Option<Array2<f64>>,
    pub(super) u: Option<ArrayView2<'a, f64>>,
    pub(super) target: TargetSource<'a>,
    pub(super) rows: Range<usize>,
}

impl Prepared<'_> {
    /// Copies rows `r` (within `self.rows`) into column-major block buffers: the library inputs (states —
    /// smoothed when `smoothed_inputs` — then controls) and the targets. `halo` is scratch for the stencil's
    /// wider window (`(BLOCK_ROWS + stencil) × m`).
    pub(super) fn block(
        &self,
        r: Range<usize>,
        smoothed_inputs: bool,
        inputs: &mut [f64],
        targets: &mut [f64],
        halo: &mut Vec<f64>,
    ) {
        let len = r.len();
        let states = match &self.smoothed {
            Some(s) if smoothed_inputs => s.view(),
            _ => self.x,
        };
        let m = self.x.ncols();
        let copy = transpose_into;
        if let TargetSource::Stencil(st) = &self.target {
            // One copy of the rows the stencil reaches; inputs and derivatives both read it.
            let h = st.halo(&r);
            let hl = h.len();
            halo.resize(hl * m, 0.0);
            copy(self.x.slice(s![h.clone(), ..]), halo);
            for j in 0..m {
                let window = &halo[j * hl..(j + 1) * hl];
                inputs[j * len..(j + 1) * len].copy_from_slice(&window[r.start - h.start..][..len]);
                let col = self.x.column(j);
                st.apply(r.clone(), window, |k| col[k], &mut targets[j * len..(j + 1) * len]);
            }
        } else {
            copy(states.slice(s![r.clone(), ..]), &mut inputs[..m * len]);
        }
        if let Some(u) = self.u {
            copy(u.slice(s![r.clone(), ..]), &mut inputs[m * len..]);
        }
        match &self.target {
            TargetSource::Given(y) => copy(y.slice(s![r.clone(), ..]), targets),
            TargetSource::Shifted => copy(self.x.slice(s![r.start + 1..r.end + 1, ..]), targets),
            TargetSource::Computed(d) => copy(d.slice(s![r.clone(), ..]), targets),
            TargetSource::Stencil(_) => {}
        }
    }
}

/// Copies `src` (`rows × cols`, any layout) column-major into `dst`.
pub(super) fn transpose_into(src: ArrayView2<'_, f64>, dst: &mut [f64]) {
    let (rows, cols) = src.dim();
    match src.as_slice() {
        // Row-major and contiguous (the usual case): a transposing copy of a small block.
        Some(flat) => {
            for (i, row) in flat.chunks_exact(cols).enumerate() {
                for (j, v) in row.iter().enumerate() {
                    dst[j * rows + i] = *v;
                }
            }
        }
        None => {
            for (j, col) in src.columns().into_iter().enumerate() {
                dst[j * rows..(j + 1) * rows]
                    .iter_mut()
                    .zip(col)
                    .for_each(|(d, v)| *d = *v);
            }
        }
    }
}

/// The regression data of all trajectories, streamed block by block.
pub(super) struct Gathered<'a> {
    pub(super) trajectories: Vec<Prepared<'a>>,
    pub(super) n_inputs: usize,
    pub(super) n_targets: usize,
}

impl Gathered<'_> {
    /// Usable samples over all trajectories.
    pub(super) fn n(&self) -> usize {
        self.trajectories.iter().map(|t| t.rows.len()).sum()
    }

    /// The blocks of rows: (trajectory, rows, offset of the block's first sample in the concatenated order).
    pub(super) fn blocks(&self) -> Vec<(usize, Range<usize>, usize)> {
        let mut out = Vec::new();
        let mut offset = 0;
        for (k, t) in self.trajectories.iter().enumerate() {
            let mut start = t.rows.start;
            while start < t.rows.end {
                let end = (start + BLOCK_ROWS).min(t.rows.end);
                out.push((k, start..end, offset));
                offset += end - start;
                start = end;
            }
        }
        out
    }

    /// The normal equations of the library on these data, with optional per-sample weights (in the
    /// concatenated sample order). Groups of [`GROUP_BLOCKS`] blocks run in parallel and are summed in a
    /// fixed order; the grouping depends on the data's size only, so the result does not depend on the
    /// thread count.
    ///
    /// # Errors
    /// [`Error::Stopped`] when the caller's stop hook asks (polled between blocks, on every thread).
    pub(super) fn normal_equations(&self, features: &Features, weights: Option<&[f64]>) -> Result<NormalEquations> {
        let (p, m) = (features.len(), self.n_targets);
        let blocks = self.blocks();
        let scope = StopScope::current();
        let parts: Vec<Result<NormalEquations>> = blocks
            .par_chunks(GROUP_BLOCKS)
            .map(|chunk| {
                scope.run(|| {
                    let mut ne = NormalEquations::zeros(p, m);
                    let mut theta = vec![0.0; BLOCK_ROWS * p];
                    let mut inputs = vec![0.0; BLOCK_ROWS * self.n_inputs];
                    let mut y = vec![0.0; BLOCK_ROWS * m];
                    let mut halo = Vec::new();
                    for (k, r, offset) in chunk {
                        if stop_requested() {
                            return Err(Error::Stopped);
                        }
                        let rows = r.len();
                        self.trajectories[*k].block(r.clone(), true, &mut inputs, &mut y, &mut halo);
                        let cols: Vec<&[f64]> = inputs.chunks(rows).take(self.n_inputs).collect();
                        features.evaluate(&cols, rows, &mut theta);
                        ne.accumulate(rows, &theta, &y, weights.map(|w| &w[*offset..offset + rows]));
                    }
                    Ok(ne)
                })
            })
            .collect();
        let mut total = NormalEquations::zeros(p, m);
        for ne in parts {
            total.add(&ne?);
        }
        Ok(total)
    }
}

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

    /// Checks every trajectory and prepares its targets (derivatives computed where not given).
    pub(super) fn gather<'a>(
        &self,
        trajectories: &[Trajectory<'a>],
        n_states: usize,
        n_controls: usize,
    ) -> Result<Gathered<'a>> {
        let mut prepared = Vec::with_capacity(trajectories.len());
        for (k, tr) in trajectories.iter().enumerate() {
            let n = tr.x.nrows();
            check_block("x", tr.x, n_states)?;
            match tr.u {
                Some(u) => {
                    check_rows("u (one row per sample of x)", u.nrows(), n)?;
                    check_block("u", u, n_controls)?;
                }
                None if n_controls > 0 => {
                    return Err(Error::InvalidParameter {
                        name: "u",
                        reason: format!("trajectory {k} has no control inputs; the model has {n_controls}"),
                    });
                }
                None => {}
            }
            if let Some(y) = tr.target {
                check_rows("target (one row per sample of x)", y.nrows(), n)?;
                check_block("target", y, n_states)?;
            }
            tr.time.check(n)?;
            let (smoothed, rows, target) = match (self.discrete_time, tr.target) {
                (_, Some(y)) => (None, 0..n, TargetSource::Given(y)),
                (true, None) if n >= 2 => (None, 0..n - 1, TargetSource::Shifted),
                (true, None) => {
                    return Err(Error::InvalidParameter {
                        name: "x",
                        reason: format!("trajectory {k} has {n} sample(s); a discrete-time fit needs at least 2"),
                    });
                }
                (false, None) => match self.differentiation.stencil(tr.time, n)? {
                    Some(st) => (None, st.valid(), TargetSource::Stencil(st)),
                    None => {
                        let d = self.differentiation.differentiate(tr.x, &tr.time)?;
                        (d.smoothed, d.valid, TargetSource::Computed(d.x_dot))
                    }
                },
            };
            prepared.push(Prepared {
                x: tr.x,
                smoothed,
                u: tr.u,
                target,
                rows,
            });
        }
        Ok(Gathered {
            trajectories: prepared,
            n_inputs: n_states + n_controls,
            n_targets: n_states,
        })
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
        let (state_names, control_names) = self.names(n_states, n_controls)?;
        let input_names = self.input_names(&state_names, &control_names);
        let features = self.library.expand(&input_names)?;
        if let Some(weak) = &self.weak_form {
            return self.fit_weak(
                weak,
                trajectories,
                features,
                (input_names, state_names, control_names),
                solve,
            );
        }
        let data = self.gather(trajectories, n_states, n_controls)?;
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
        (input_names, state_names, control_names): (Vec<String>, Vec<String>, Vec<String>),
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
            ne.accumulate(n, &g, &b, w);
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

    /// Library input names: states then controls, with `[k]` appended in discrete time (PySINDy's style).
    pub(super) fn input_names(&self, states: &[String], controls: &[String]) -> Vec<String> {
        states
            .iter()
            .chain(controls)
            .map(|s| {
                if self.discrete_time {
                    format!("{s}[k]")
                } else {
                    s.clone()
                }
            })
            .collect()
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

pub(super) fn check_rows(what: &'static str, found: usize, expected: usize) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::Shape { what, expected, found })
    }
}

pub(super) fn check_block(what: &'static str, a: ArrayView2<'_, f64>, cols: usize) -> Result<()> {
    if a.ncols() != cols {
        return Err(Error::Shape {
            what,
            expected: cols,
            found: a.ncols(),
        });
    }
    if a.nrows() == 0 || cols == 0 {
        return Err(Error::Empty {
            what,
            rows: a.nrows(),
            cols,
        });
    }
    crate::data::check_matrix(what, a)
}
