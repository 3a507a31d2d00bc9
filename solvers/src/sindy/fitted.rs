//! A fitted SINDy model: its equations (PySINDy's printing), prediction of the derivatives, R², simulation
//! (core's Dopri5, or the discrete map), and the conversion to the core form ([`super::export`]).

use std::fmt;

use ndarray::{Array2, ArrayView1, ArrayView2, s};
use rayon::prelude::*;
use sparsimony_core::Report;
use sparsimony_core::ode::{Dopri5, Dopri5State, dopri5_scratch_len};

use super::differentiation::{Differentiation, Time};
use super::export::ExportedModel;
use super::library::{Features, Library};
use super::optimizer::EnsembleFit;
use super::samples::{
    BLOCK_ROWS, GROUP_BLOCKS, Trajectory, check_block, check_rows, gather, input_names, transpose_into,
};
use crate::data::check_bytes;
use crate::metrics::R2Sums;
use crate::{Error, Fitted, Result, Score};

/// A fitted SINDy model.
#[derive(Debug, Clone)]
pub struct SindyFit {
    pub(super) features: Features,
    pub(super) input_names: Vec<String>,
    pub(super) state_names: Vec<String>,
    pub(super) control_names: Vec<String>,
    pub(super) coef: Array2<f64>,
    pub(super) discrete_time: bool,
    pub(super) report: Report,
    pub(super) n_samples: usize,
    pub(super) ensemble: Option<EnsembleFit>,
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

impl<'a, 'b> Score<(&'b [Trajectory<'a>], &'b Differentiation)> for SindyFit {
    /// R² of the model's output on trajectories (their derivatives computed with `differentiation` unless
    /// given), averaged over the states with equal weight (scikit-learn's `r2_score`, PySINDy's `score`).
    /// As in PySINDy, the model is evaluated on the states as given, not smoothed.
    ///
    /// # Errors
    /// As the fit ([`Estimator::fit`](crate::Estimator::fit)) for the data.
    fn score(&self, (trajectories, differentiation): (&'b [Trajectory<'a>], &'b Differentiation)) -> Result<f64> {
        let (m, c) = (self.state_names.len(), self.control_names.len());
        let data = gather(trajectories, differentiation, self.discrete_time, m, c)?;
        if data.n() == 0 {
            return Err(Error::Empty {
                what: "scoring data",
                rows: 0,
                cols: m,
            });
        }
        // Targets and predictions block by block, never held whole: each group of blocks sums its R² terms
        // per state, and the groups are merged in order (the result does not depend on the thread count).
        // As PySINDy does, the model is evaluated on the states as given, not smoothed.
        let parts: Vec<Vec<R2Sums>> = data
            .blocks()
            .par_chunks(GROUP_BLOCKS)
            .map(|chunk| {
                let mut sums = vec![R2Sums::default(); m];
                let mut inputs = vec![0.0; BLOCK_ROWS * (m + c)];
                let (mut targets, mut pred) = (vec![0.0; BLOCK_ROWS * m], vec![0.0; BLOCK_ROWS * m]);
                let (mut theta, mut halo) = (Vec::new(), Vec::new());
                for (k, r, _) in chunk {
                    let rows = r.len();
                    data.trajectories[*k].block(r.clone(), false, &mut inputs, &mut targets, &mut halo);
                    self.outputs(&inputs[..rows * (m + c)], rows, &mut theta, &mut pred[..rows * m])?;
                    for (s, sum) in sums.iter_mut().enumerate() {
                        let span = s * rows..(s + 1) * rows;
                        let block = R2Sums::of((&targets[span.clone()]).into(), (&pred[span]).into());
                        *sum = sum.merge(block);
                    }
                }
                Ok(sums)
            })
            .collect::<Result<_>>()?;
        let total: f64 = (0..m)
            .map(|s| parts.iter().fold(R2Sums::default(), |acc, p| acc.merge(p[s])).r2())
            .sum();
        Ok(total / m as f64)
    }
}

impl Fitted for SindyFit {
    /// How the optimizer ended (see [`super::optimizer::OptimizerFit::report`]).
    fn report(&self) -> &Report {
        &self.report
    }
}

impl SindyFit {
    /// Rebuilds a fitted model from what defines it (to restore a saved one, e.g. from a pickle): the
    /// `library` it was fitted with, the state and control names, the coefficients (`m × p`, one row per
    /// state, one column per term of the library expanded on those inputs), whether it is discrete in
    /// time, and the fit's report and sample count. An ensemble's members are not restored.
    ///
    /// # Errors
    /// The library's expansion errors; coefficients of the wrong shape or non-finite.
    pub fn from_parts(
        library: &Library,
        state_names: Vec<String>,
        control_names: Vec<String>,
        coef: Array2<f64>,
        discrete_time: bool,
        report: Report,
        n_samples: usize,
    ) -> Result<Self> {
        let input_names = input_names(&state_names, &control_names, discrete_time);
        let features = library.expand(&input_names)?;
        check_rows("coefficients (one row per state)", coef.nrows(), state_names.len())?;
        check_rows(
            "coefficients (one column per library term)",
            coef.ncols(),
            features.len(),
        )?;
        crate::data::check_matrix("coefficients", coef.view())?;
        Ok(Self {
            features,
            input_names,
            state_names,
            control_names,
            coef,
            discrete_time,
            report,
            n_samples,
            ensemble: None,
        })
    }

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
        let (n, m, c) = (x.nrows(), self.state_names.len(), self.control_names.len());
        let mut out = Array2::zeros((n, m));
        let mut inputs = vec![0.0; BLOCK_ROWS * (m + c)];
        let (mut theta, mut block) = (Vec::new(), vec![0.0; BLOCK_ROWS * m]);
        for start in (0..n).step_by(BLOCK_ROWS) {
            let rows = BLOCK_ROWS.min(n - start);
            let r = start..start + rows;
            transpose_into(x.slice(s![r.clone(), ..]), &mut inputs[..rows * m]);
            if let Some(u) = u {
                transpose_into(u.slice(s![r.clone(), ..]), &mut inputs[rows * m..rows * (m + c)]);
            }
            self.outputs(&inputs[..rows * (m + c)], rows, &mut theta, &mut block[..rows * m])?;
            for (s, col) in block.chunks(rows).take(m).enumerate() {
                out.slice_mut(s![r.clone(), s])
                    .iter_mut()
                    .zip(col)
                    .for_each(|(o, v)| *o = *v);
            }
        }
        Ok(out)
    }

    /// The model's outputs on one block of `rows` samples: `inputs` holds the states then the controls,
    /// column-major (`rows × (m + c)`), `out` receives `Ξ θ`, column-major (`rows × m`); `theta` is scratch
    /// for the library's values.
    fn outputs(&self, inputs: &[f64], rows: usize, theta: &mut Vec<f64>, out: &mut [f64]) -> Result<()> {
        let p = self.features.len();
        theta.resize(rows * p, 0.0);
        let cols: Vec<&[f64]> = inputs.chunks(rows).collect();
        self.features.evaluate(&cols, rows, theta)?;
        for (s, o) in out.chunks_mut(rows).enumerate() {
            o.fill(0.0);
            for (k, &c) in self.coef.row(s).iter().enumerate() {
                if c != 0.0 {
                    o.iter_mut()
                        .zip(&theta[k * rows..(k + 1) * rows])
                        .for_each(|(o, t)| *o += c * t);
                }
            }
        }
        Ok(())
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
            features.evaluate(&inputs, 1, &mut theta).map_err(|e| match e {
                Error::Shape { what, expected, found } => {
                    sparsimony_core::Error::DimensionMismatch { what, expected, found }
                }
                _ => sparsimony_core::Error::DimensionMismatch {
                    what: "the library's inputs",
                    expected: m + c,
                    found: inputs.len(),
                },
            })?;
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
    /// returning the rows computed, when the state diverges: it stops being finite, or grows past the
    /// magnitude the model can be evaluated at (see [`Error::Magnitude`]).
    ///
    /// # Errors
    /// A continuous-time model; shape errors; [`Error::InvalidParameter`] for more steps than 16 GiB of
    /// output holds.
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
        let bytes = (steps as f64 + 1.0) * m as f64 * 8.0;
        check_bytes("steps", bytes, || format!("{steps} steps of {m} states"), "")?;
        let mut out = Array2::zeros((steps + 1, m));
        out.row_mut(0).assign(&x0);
        for k in 0..steps {
            let x = out.slice(ndarray::s![k..k + 1, ..]).to_owned();
            let uk = u.as_ref().map(|u| u.slice(ndarray::s![k..k + 1, ..]));
            let next = match self.predict(x.view(), uk) {
                // The state has grown past what the library can be evaluated at: it diverged.
                Err(Error::Magnitude { what: "x", .. }) if k > 0 => {
                    return Ok(out.slice(ndarray::s![..k + 1, ..]).to_owned());
                }
                result => result?,
            };
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
