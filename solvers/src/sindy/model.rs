//! The SINDy model: differentiation, library and optimizer put together; fitting on one or several
//! trajectories with optional control inputs, in continuous or discrete time; equations, prediction, R²,
//! simulation and export to the allocation-free core model.

use std::fmt;
use std::ops::Range;

use ndarray::{Array2, ArrayView1, ArrayView2, ShapeBuilder, s};
use rayon::prelude::*;
use sparsimony_core::Report;
use sparsimony_core::ode::{Dopri5, Dopri5State, dopri5_scratch_len};
use sparsimony_core::sindy::{Factor, SindyModel};

use super::differentiation::{Differentiation, Stencil, Time};
use super::library::{Features, Library};
use super::optimizer::{EnsembleFit, NormalFn, Optimizer, OptimizerFit};
use super::weak::{WeakForm, WeakRows};
use crate::regression::NormalEquations;
use crate::{Backend, Error, Result};

/// Rows per block when the library is evaluated and accumulated: a block of a 100-term library is 3.2 MB.
const BLOCK_ROWS: usize = 1024;

/// Blocks accumulated by one task before the ordered sum of the tasks' normal equations (16 384 rows).
const GROUP_BLOCKS: usize = 16;

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
    fn block(
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
fn transpose_into(src: ArrayView2<'_, f64>, dst: &mut [f64]) {
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
    fn blocks(&self) -> Vec<(usize, Range<usize>, usize)> {
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
    pub(super) fn normal_equations(&self, features: &Features, weights: Option<&[f64]>) -> NormalEquations {
        let (p, m) = (features.len(), self.n_targets);
        let blocks = self.blocks();
        let parts: Vec<NormalEquations> = blocks
            .par_chunks(GROUP_BLOCKS)
            .map(|chunk| {
                let mut ne = NormalEquations::zeros(p, m);
                let mut theta = vec![0.0; BLOCK_ROWS * p];
                let mut inputs = vec![0.0; BLOCK_ROWS * self.n_inputs];
                let mut y = vec![0.0; BLOCK_ROWS * m];
                let mut halo = Vec::new();
                for (k, r, offset) in chunk {
                    let rows = r.len();
                    self.trajectories[*k].block(r.clone(), true, &mut inputs, &mut y, &mut halo);
                    let cols: Vec<&[f64]> = inputs.chunks(rows).take(self.n_inputs).collect();
                    features.evaluate(&cols, rows, &mut theta);
                    ne.accumulate(rows, &theta, &y, weights.map(|w| &w[*offset..offset + rows]));
                }
                ne
            })
            .collect();
        let mut total = NormalEquations::zeros(p, m);
        parts.iter().for_each(|ne| total.add(ne));
        total
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
    fn gather<'a>(&self, trajectories: &[Trajectory<'a>], n_states: usize, n_controls: usize) -> Result<Gathered<'a>> {
        let mut prepared = Vec::with_capacity(trajectories.len());
        for (k, tr) in trajectories.iter().enumerate() {
            let n = tr.x.nrows();
            check_block("x", tr.x, n_states)?;
            if let Some(u) = tr.u {
                check_rows("u (one row per sample of x)", u.nrows(), n)?;
                check_block("u", u, n_controls)?;
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

    /// Fits the model to one or more trajectories (all with the same states and controls).
    ///
    /// # Errors
    /// [`Error::Empty`] for no trajectories or samples; [`Error::Shape`] for inconsistent states, controls or
    /// names; [`Error::NonFinite`] for NaN or ±∞ in the data; [`Error::InvalidParameter`] for times that do
    /// not increase, too few samples for the differentiation, or a library with more terms than there are
    /// samples; the optimizer's errors; on a GPU backend, [`Error::InvalidParameter`] when the optimizer is
    /// not an STLSQ ensemble and [`Error::Gpu`] for the device's errors. A threshold that removes every
    /// term is not an error: the model is all zeros (check [`SindyFit::n_nonzero`]). An optimizer that
    /// stops at its cap is not an error either: [`SindyFit::report`] says so.
    pub fn fit(&self, trajectories: &[Trajectory<'_>]) -> Result<SindyFit> {
        match &self.backend {
            Backend::Cpu => self.fit_via(trajectories, &|o, n, p, rows, normal| o.fit_rows(n, p, rows, normal)),
            #[cfg(feature = "gpu")]
            Backend::Gpu(ctx) => self.fit_via(trajectories, &|o, n, p, rows, normal| {
                o.fit_rows_gpu(ctx, n, p, rows, normal)
            }),
        }
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
        let fit = solve(&self.optimizer, n, features.len(), "usable samples", &|w| {
            data.normal_equations(&features, w)
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
            ne
        };
        let fit = solve(&self.optimizer, n, features.len(), "test functions (use more)", &normal)?;
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
    fn input_names(&self, states: &[String], controls: &[String]) -> Vec<String> {
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

fn check_rows(what: &'static str, found: usize, expected: usize) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::Shape { what, expected, found })
    }
}

fn check_block(what: &'static str, a: ArrayView2<'_, f64>, cols: usize) -> Result<()> {
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

/// A fitted SINDy model.
#[derive(Debug, Clone)]
pub struct SindyFit {
    features: Features,
    input_names: Vec<String>,
    state_names: Vec<String>,
    control_names: Vec<String>,
    coef: Array2<f64>,
    discrete_time: bool,
    report: Report,
    n_samples: usize,
    ensemble: Option<EnsembleFit>,
}

/// Control inputs as a function of time for [`SindyFit::simulate`]: `control(t, u)` writes `u(t)`.
pub type ControlFn<'a> = &'a mut dyn FnMut(f64, &mut [f64]);

/// Options of [`SindyFit::simulate`]: the Dormand–Prince tolerances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulateOptions {
    /// Relative tolerance (default 1e-10).
    pub rtol: f64,
    /// Absolute tolerance (default 1e-10).
    pub atol: f64,
    /// Step cap per output interval (default 100 000).
    pub max_steps: usize,
}

impl Default for SimulateOptions {
    fn default() -> Self {
        Self {
            rtol: 1e-10,
            atol: 1e-10,
            max_steps: 100_000,
        }
    }
}

impl SindyFit {
    /// The coefficients `Ξ`, `m × p`: row `s` gives `ẋ_s` (or `x_s[k+1]`) in terms of the library.
    pub fn coefficients(&self) -> &Array2<f64> {
        &self.coef
    }

    /// The library terms' names.
    pub fn feature_names(&self) -> &[String] {
        self.features.names()
    }

    /// The expanded library.
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// The states' names.
    pub fn state_names(&self) -> &[String] {
        &self.state_names
    }

    /// The control inputs' names.
    pub fn control_names(&self) -> &[String] {
        &self.control_names
    }

    /// Whether the model is a discrete-time map.
    pub fn is_discrete_time(&self) -> bool {
        self.discrete_time
    }

    /// How the optimizer ended (see [`super::optimizer::OptimizerFit::report`]).
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Samples used in the regression.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Nonzero coefficients.
    pub fn n_nonzero(&self) -> usize {
        self.coef.iter().filter(|c| **c != 0.0).count()
    }

    /// The ensemble's models and inclusion probabilities, when the optimizer was an ensemble.
    pub fn ensemble(&self) -> Option<&EnsembleFit> {
        self.ensemble.as_ref()
    }

    /// The right-hand sides as PySINDy prints them: `"-10.000 x0 +  10.000 x1"` (each kept coefficient with
    /// `precision` decimals and a space for its sign, terms joined by `" + "`; coefficients that round to
    /// zero are left out; an empty equation is `" 0.000"`).
    pub fn equations(&self, precision: usize) -> Vec<String> {
        format_equations(&self.coef, self.features.names(), precision)
    }

    /// The left-hand sides: `(x0)'` in continuous time, `(x0)[k+1]` in discrete time.
    pub fn lhs(&self) -> Vec<String> {
        self.state_names
            .iter()
            .map(|s| {
                if self.discrete_time {
                    format!("({s})[k+1]")
                } else {
                    format!("({s})'")
                }
            })
            .collect()
    }

    fn check_inputs(&self, x: ArrayView2<'_, f64>, u: Option<ArrayView2<'_, f64>>) -> Result<()> {
        check_block("x", x, self.state_names.len())?;
        match (u, self.control_names.len()) {
            (None, 0) => Ok(()),
            (None, c) => Err(Error::InvalidParameter {
                name: "u",
                reason: format!("the model was fitted with {c} control input(s); pass them"),
            }),
            (Some(u), c) => {
                check_rows("u (one row per sample of x)", u.nrows(), x.nrows())?;
                check_block("u", u, c)
            }
        }
    }

    /// The model's output `Ξ θ(x, u)` for each sample: derivatives in continuous time, next states in
    /// discrete time. `x` is `n × m`, `u` is `n × c` (required when the model has controls).
    ///
    /// # Errors
    /// Shape and finiteness errors; missing controls.
    pub fn predict(&self, x: ArrayView2<'_, f64>, u: Option<ArrayView2<'_, f64>>) -> Result<Array2<f64>> {
        self.check_inputs(x, u)?;
        let (n, m, p) = (x.nrows(), self.state_names.len(), self.features.len());
        let mut inputs: Vec<Vec<f64>> = x.columns().into_iter().map(|c| c.to_vec()).collect();
        if let Some(u) = u {
            inputs.extend(u.columns().into_iter().map(|c| c.to_vec()));
        }
        let mut out = Array2::zeros((n, m));
        let mut theta = vec![0.0; BLOCK_ROWS * p];
        for start in (0..n).step_by(BLOCK_ROWS) {
            let rows = BLOCK_ROWS.min(n - start);
            let cols: Vec<&[f64]> = inputs.iter().map(|c| &c[start..start + rows]).collect();
            self.features.evaluate(&cols, rows, &mut theta);
            for s in 0..m {
                for (k, &c) in self.coef.row(s).iter().enumerate() {
                    if c != 0.0 {
                        for r in 0..rows {
                            out[(start + r, s)] += c * theta[r + k * rows];
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// R² of the model's output on trajectories (their derivatives computed with `differentiation` unless
    /// given), averaged over the states with equal weight (scikit-learn's `r2_score`, PySINDy's `score`).
    /// As in PySINDy, the model is evaluated on the states as given, not smoothed.
    ///
    /// # Errors
    /// As [`Sindy::fit`] for the data.
    pub fn score(&self, trajectories: &[Trajectory<'_>], differentiation: &Differentiation) -> Result<f64> {
        let spec = Sindy {
            differentiation: differentiation.clone(),
            discrete_time: self.discrete_time,
            ..Sindy::default()
        };
        let (m, c) = (self.state_names.len(), self.control_names.len());
        let data = spec.gather(trajectories, m, c)?;
        let n = data.n();
        if n == 0 {
            return Err(Error::Empty {
                what: "scoring data",
                rows: 0,
                cols: m,
            });
        }
        // Targets and predictions from the states as given (PySINDy scores on the unsmoothed states).
        let (mut y, mut pred) = (Array2::<f64>::zeros((n, m)), Array2::<f64>::zeros((n, m)));
        let mut offset = 0;
        for t in &data.trajectories {
            let len = t.rows.len();
            let mut inputs = vec![0.0; len * (m + c)];
            let mut targets = vec![0.0; len * m];
            t.block(t.rows.clone(), false, &mut inputs, &mut targets, &mut Vec::new());
            let x = ArrayView2::from_shape((len, m).f(), &inputs[..len * m]).expect("block layout");
            let u = (c > 0).then(|| ArrayView2::from_shape((len, c).f(), &inputs[len * m..]).expect("block layout"));
            pred.slice_mut(s![offset..offset + len, ..])
                .assign(&self.predict(x, u)?);
            y.slice_mut(s![offset..offset + len, ..])
                .assign(&ArrayView2::from_shape((len, m).f(), &targets).expect("block layout"));
            offset += len;
        }
        let total: f64 = y
            .columns()
            .into_iter()
            .zip(pred.columns())
            .map(|(yc, pc)| crate::metrics::r2_score(yc, pc))
            .sum();
        Ok(total / m as f64)
    }

    /// Integrates a continuous-time model from `x0` and returns the state at each of `times` (strictly
    /// increasing; the first is the initial time), `len(times) × m`, with the adaptive Dormand–Prince
    /// method of [`sparsimony_core::ode::Dopri5`]. `control(t, u)` writes the control inputs at time `t`.
    ///
    /// # Errors
    /// A discrete-time model; shape errors; non-increasing times; the core's `NotConverged` (as
    /// [`Error::Core`]) with the time reached when the solution blows up (the step size collapses) or the step cap is hit.
    pub fn simulate(
        &self,
        x0: ArrayView1<'_, f64>,
        times: ArrayView1<'_, f64>,
        mut control: Option<ControlFn<'_>>,
        options: &SimulateOptions,
    ) -> Result<Array2<f64>> {
        if self.discrete_time {
            return Err(Error::InvalidParameter {
                name: "model",
                reason: "a discrete-time model is iterated with `simulate_discrete`, not integrated".into(),
            });
        }
        let (m, c, p) = (self.state_names.len(), self.control_names.len(), self.features.len());
        check_rows("x0 (one value per state)", x0.len(), m)?;
        Time::Points(times).check(times.len())?;
        if c > 0 && control.is_none() {
            return Err(Error::InvalidParameter {
                name: "control",
                reason: format!("the model has {c} control input(s); pass a control function"),
            });
        }
        let mut x: Vec<f64> = x0.to_vec();
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "x0",
                row: i,
                col: 0,
            });
        }
        let mut out = Array2::zeros((times.len(), m));
        if times.is_empty() {
            return Ok(out);
        }
        out.row_mut(0).iter_mut().zip(&x).for_each(|(o, v)| *o = *v);
        let solver = Dopri5 {
            rtol: options.rtol,
            atol: options.atol,
            max_steps: options.max_steps,
        };
        let mut state = Dopri5State::default();
        let mut scratch = vec![0.0; dopri5_scratch_len(m)];
        let mut u = vec![0.0; c];
        let mut theta = vec![0.0; p];
        let mut cols = vec![0.0; m + c];
        let features = &self.features;
        let coef = &self.coef;
        let mut rhs = |t: f64, y: &[f64], d: &mut [f64]| -> sparsimony_core::Result<()> {
            if let Some(ctl) = control.as_mut() {
                ctl(t, &mut u);
            }
            cols[..m].copy_from_slice(y);
            cols[m..].copy_from_slice(&u);
            let inputs: Vec<&[f64]> = cols.chunks(1).collect();
            features.evaluate(&inputs, 1, &mut theta);
            for (s, ds) in d.iter_mut().enumerate() {
                *ds = coef.row(s).iter().zip(&theta).map(|(a, b)| a * b).sum();
            }
            Ok(())
        };
        for k in 1..times.len() {
            solver.integrate(&mut rhs, times[k - 1], times[k], &mut x, &mut state, &mut scratch)?;
            out.row_mut(k).iter_mut().zip(&x).for_each(|(o, v)| *o = *v);
        }
        Ok(out)
    }

    /// Iterates a discrete-time model `steps` times from `x0` (the first row of the result is `x0`), with
    /// control inputs `u` (`steps × c`, row `k` used for step `k`) when the model has them. Stops early,
    /// returning the rows computed, when the state stops being finite.
    ///
    /// # Errors
    /// A continuous-time model; shape errors.
    pub fn simulate_discrete(
        &self,
        x0: ArrayView1<'_, f64>,
        steps: usize,
        u: Option<ArrayView2<'_, f64>>,
    ) -> Result<Array2<f64>> {
        if !self.discrete_time {
            return Err(Error::InvalidParameter {
                name: "model",
                reason: "a continuous-time model is integrated with `simulate`".into(),
            });
        }
        let m = self.state_names.len();
        check_rows("x0 (one value per state)", x0.len(), m)?;
        if let Some(u) = u {
            check_rows("u (one row per step)", u.nrows(), steps)?;
        }
        let mut out = Array2::zeros((steps + 1, m));
        out.row_mut(0).assign(&x0);
        for k in 0..steps {
            let x = out.slice(ndarray::s![k..k + 1, ..]).to_owned();
            let uk = u.as_ref().map(|u| u.slice(ndarray::s![k..k + 1, ..]));
            let next = self.predict(x.view(), uk)?;
            if next.iter().any(|v| !v.is_finite()) {
                return Ok(out.slice(ndarray::s![..k + 1, ..]).to_owned());
            }
            out.row_mut(k + 1).assign(&next.row(0));
        }
        Ok(out)
    }

    /// The model in the allocation-free core form, keeping only the terms with a nonzero coefficient.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when a kept term is a custom function (it has no core form).
    pub fn export(&self) -> Result<ExportedModel> {
        let used: Vec<usize> = (0..self.features.len())
            .filter(|&k| self.coef.column(k).iter().any(|c| *c != 0.0))
            .collect();
        let mut factors = Vec::new();
        let mut term_ptr = vec![0];
        let mut term_names = Vec::new();
        let (all_factors, all_ptr) = self.features.core_factors_of(&used)?;
        for (a, &k) in used.iter().enumerate() {
            factors.extend_from_slice(&all_factors[all_ptr[a]..all_ptr[a + 1]]);
            term_ptr.push(factors.len());
            term_names.push(self.features.names()[k].clone());
        }
        let mut coef_ptr = vec![0];
        let (mut coef_term, mut coef_value) = (Vec::new(), Vec::new());
        for row in self.coef.rows() {
            for (a, &k) in used.iter().enumerate() {
                if row[k] != 0.0 {
                    coef_term.push(a);
                    coef_value.push(row[k]);
                }
            }
            coef_ptr.push(coef_term.len());
        }
        Ok(ExportedModel {
            state_names: self.state_names.clone(),
            control_names: self.control_names.clone(),
            discrete_time: self.discrete_time,
            term_names,
            factors,
            term_ptr,
            coef_ptr,
            coef_term,
            coef_value,
        })
    }

    /// The input names the library was expanded with.
    pub fn input_names(&self) -> &[String] {
        &self.input_names
    }
}

impl fmt::Display for SindyFit {
    /// The equations with three decimals, one per line: `(x0)' = -10.000 x0 +  10.000 x1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (lhs, rhs) in self.lhs().iter().zip(self.equations(3)) {
            writeln!(f, "{lhs} = {rhs}")?;
        }
        Ok(())
    }
}

/// A fitted model in the layout of [`sparsimony_core::sindy::SindyModel`], owning its arrays: the terms
/// with a nonzero coefficient, and the coefficients compressed by rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedModel {
    /// State names.
    pub state_names: Vec<String>,
    /// Control names.
    pub control_names: Vec<String>,
    /// Discrete-time map (`x[k+1]`) rather than vector field (`ẋ`).
    pub discrete_time: bool,
    /// Names of the kept terms.
    pub term_names: Vec<String>,
    /// Factors of all kept terms.
    pub factors: Vec<Factor<f64>>,
    /// Term `k`'s factors are `factors[term_ptr[k]..term_ptr[k+1]]`.
    pub term_ptr: Vec<usize>,
    /// Row `s`'s coefficients are at `coef_ptr[s]..coef_ptr[s+1]`.
    pub coef_ptr: Vec<usize>,
    /// Term index of each coefficient.
    pub coef_term: Vec<usize>,
    /// Value of each coefficient.
    pub coef_value: Vec<f64>,
}

impl ExportedModel {
    /// The core model borrowing these arrays.
    ///
    /// # Errors
    /// Never for an exported model (the structure is valid by construction); the core's checks otherwise.
    pub fn view(&self) -> Result<SindyModel<'_, f64>> {
        Ok(SindyModel::new(
            self.state_names.len(),
            self.control_names.len(),
            &self.factors,
            &self.term_ptr,
            &self.coef_ptr,
            &self.coef_term,
            &self.coef_value,
        )?)
    }

    /// Rust source declaring the model as `static` data for firmware: a module `name` with `FACTORS`,
    /// `TERM_PTR`, `COEF_PTR`, `COEF_TERM`, `COEF_VALUE` (scalar type `ty`, `"f32"` or `"f64"`), `N_STATES`,
    /// `N_CONTROLS` and a `model()` constructor. Coefficients are written in shortest round-trip form, so an
    /// `f64` export is exact. State and term names appear only in comments, with control characters
    /// escaped (`\n` for a line break), so no name can end a comment and inject code.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when `name` is not a Rust identifier (ASCII letters, digits and `_`,
    /// not starting with a digit) or `ty` is neither `"f32"` nor `"f64"`.
    pub fn to_rust_source(&self, name: &str, ty: &str) -> Result<String> {
        let identifier = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            return Err(Error::InvalidParameter {
                name: "module name",
                reason: format!("{name:?} is not a Rust identifier"),
            });
        }
        if ty != "f32" && ty != "f64" {
            return Err(Error::InvalidParameter {
                name: "scalar type",
                reason: format!("{ty:?}: expected \"f32\" or \"f64\""),
            });
        }
        let comment_safe = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        };
        let list = |v: &[usize]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
        let float = |x: f64| {
            if ty == "f32" {
                format!("{:?}_f32", x as f32)
            } else {
                format!("{x:?}_f64")
            }
        };
        let factors: Vec<String> = self
            .factors
            .iter()
            .map(|f| match *f {
                Factor::Power { input, exponent } => {
                    format!("Factor::Power {{ input: {input}, exponent: {exponent} }}")
                }
                Factor::Sin { input, frequency } => {
                    format!("Factor::Sin {{ input: {input}, frequency: {} }}", float(frequency))
                }
                Factor::Cos { input, frequency } => {
                    format!("Factor::Cos {{ input: {input}, frequency: {} }}", float(frequency))
                }
            })
            .collect();
        let mut s = String::new();
        s.push_str("// Generated by sparsimony (SindyFit::export().to_rust_source); do not edit.\n");
        s.push_str(&format!(
            "/// SINDy model: {}.\n",
            if self.discrete_time {
                "x[k+1] = Ξ θ(x[k], u[k])"
            } else {
                "ẋ = Ξ θ(x, u)"
            }
        ));
        for (s_name, lhs) in self.state_names.iter().enumerate() {
            let terms: Vec<String> = (self.coef_ptr[s_name]..self.coef_ptr[s_name + 1])
                .map(|q| format!("{:?} {}", self.coef_value[q], self.term_names[self.coef_term[q]]))
                .collect();
            let lhs = if self.discrete_time {
                format!("({lhs})[k+1]")
            } else {
                format!("({lhs})'")
            };
            s.push_str(&format!(
                "/// {}\n",
                comment_safe(&format!("{lhs} = {}", terms.join(" + ")))
            ));
        }
        s.push_str(&format!("#[allow(dead_code)]\n#[rustfmt::skip]\npub mod {name} {{\n"));
        s.push_str("    use sparsimony_core::sindy::{Factor, SindyModel};\n\n");
        s.push_str(&format!(
            "    pub const N_STATES: usize = {};\n",
            self.state_names.len()
        ));
        s.push_str(&format!(
            "    pub const N_CONTROLS: usize = {};\n",
            self.control_names.len()
        ));
        s.push_str(&format!(
            "    pub static FACTORS: [Factor<{ty}>; {}] = [{}];\n",
            factors.len(),
            factors.join(", ")
        ));
        s.push_str(&format!(
            "    pub static TERM_PTR: [usize; {}] = [{}];\n",
            self.term_ptr.len(),
            list(&self.term_ptr)
        ));
        s.push_str(&format!(
            "    pub static COEF_PTR: [usize; {}] = [{}];\n",
            self.coef_ptr.len(),
            list(&self.coef_ptr)
        ));
        s.push_str(&format!(
            "    pub static COEF_TERM: [usize; {}] = [{}];\n",
            self.coef_term.len(),
            list(&self.coef_term)
        ));
        let vals: Vec<String> = self.coef_value.iter().map(|&v| float(v)).collect();
        s.push_str(&format!(
            "    pub static COEF_VALUE: [{ty}; {}] = [{}];\n\n",
            vals.len(),
            vals.join(", ")
        ));
        s.push_str(&format!(
            "    /// The model over the static arrays.\n    pub fn model() -> sparsimony_core::Result<SindyModel<'static, {ty}>> {{\n        SindyModel::new(N_STATES, N_CONTROLS, &FACTORS, &TERM_PTR, &COEF_PTR, &COEF_TERM, &COEF_VALUE)\n    }}\n}}\n"
        ));
        Ok(s)
    }
}

/// Equations PySINDy style (see [`SindyFit::equations`]) from coefficients (`m × p`) and term names.
pub(super) fn format_equations(coef: &Array2<f64>, names: &[String], precision: usize) -> Vec<String> {
    let scale = 10f64.powi(precision as i32);
    let fmt = |c: f64| {
        if c.is_sign_negative() {
            format!("{c:.precision$}")
        } else {
            format!(" {c:.precision$}")
        }
    };
    coef.rows()
        .into_iter()
        .map(|row| {
            let terms: Vec<String> = row
                .iter()
                .zip(names)
                .filter(|(c, _)| (**c * scale).round_ties_even() != 0.0)
                .map(|(c, name)| format!("{} {name}", fmt(*c)))
                .collect();
            if terms.is_empty() { fmt(0.0) } else { terms.join(" + ") }
        })
        .collect()
}
