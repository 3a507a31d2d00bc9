//! The samples a SINDy model is fitted and scored on: trajectories (states, optional controls and
//! targets, their times), checked and prepared once — targets from the user, the next samples (discrete
//! time) or the differentiation — and cut into blocks of rows for the library and the normal equations.
//! Both the fit ([`super::model`]) and the fitted model's score ([`super::fitted`]) read samples here.

use std::ops::Range;

use ndarray::{Array2, ArrayView2, s};
use rayon::prelude::*;

use super::differentiation::{Differentiation, Stencil, Time};
use super::library::Features;
use crate::regression::NormalEquations;
use crate::regression::interrupt::{StopScope, stop_requested};
use crate::{Error, Result};

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
    /// Keeps rows `own` of each trajectory only (those of a block, without the halo it was widened by).
    pub(super) fn keep_rows(&mut self, own: &Range<usize>) {
        for t in &mut self.trajectories {
            let start = t.rows.start.max(own.start);
            t.rows = start..t.rows.end.min(own.end).max(start);
        }
    }

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
                        features.evaluate(&cols, rows, &mut theta)?;
                        ne.accumulate(rows, &theta, &y, weights.map(|w| &w[*offset..offset + rows]))?;
                    }
                    Ok(ne)
                })
            })
            .collect();
        let mut total = NormalEquations::zeros(p, m);
        for ne in parts {
            total.add(&ne?)?;
        }
        Ok(total)
    }
}

/// Checks every trajectory and prepares its targets (derivatives computed where not given).
pub(super) fn gather<'a>(
    trajectories: &[Trajectory<'a>],
    differentiation: &Differentiation,
    discrete_time: bool,
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
        let (smoothed, rows, target) = match (discrete_time, tr.target) {
            (_, Some(y)) => (None, 0..n, TargetSource::Given(y)),
            (true, None) if n >= 2 => (None, 0..n - 1, TargetSource::Shifted),
            (true, None) => {
                return Err(Error::InvalidParameter {
                    name: "x",
                    reason: format!("trajectory {k} has {n} sample(s); a discrete-time fit needs at least 2"),
                });
            }
            (false, None) => match differentiation.stencil(tr.time, n)? {
                Some(st) => (None, st.valid(), TargetSource::Stencil(st)),
                None => {
                    let d = differentiation.differentiate(tr.x, &tr.time)?;
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

/// Library input names: states then controls, with `[k]` appended in discrete time (PySINDy's style).
pub(super) fn input_names(states: &[String], controls: &[String], discrete_time: bool) -> Vec<String> {
    states
        .iter()
        .chain(controls)
        .map(|s| if discrete_time { format!("{s}[k]") } else { s.clone() })
        .collect()
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
