//! Time derivatives of sampled trajectories: finite differences of any accuracy order on uniform or
//! non-uniform times, Savitzky–Golay smoothing followed by finite differences, and spectral (FFT)
//! derivatives of periodic signals — PySINDy's `FiniteDifference`, `SmoothedFiniteDifference` and
//! `SpectralDerivative`, with the same stencils and boundary rules, so that the same data give the same
//! derivatives.
//!
//! Data are `n × m` arrays, one sample per row (time runs down the rows), one state per column.

use std::ops::Range;

use ndarray::{Array2, ArrayView1, ArrayView2, Axis, ShapeBuilder};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

use crate::{Error, Result};

/// Sampling times of a trajectory.
#[derive(Debug, Clone, Copy)]
pub enum Time<'a> {
    /// Uniform sampling with this step (> 0), in the units of time of the model.
    Step(f64),
    /// The time of each sample, strictly increasing.
    Points(ArrayView1<'a, f64>),
}

impl Time<'_> {
    /// Checks the times against `n` samples: a positive finite step, or `n` strictly increasing finite points.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a bad step or non-increasing times, [`Error::Shape`], [`Error::NonFinite`].
    pub fn check(&self, n: usize) -> Result<()> {
        match *self {
            Time::Step(dt) if (1e-100..=1e100).contains(&dt) => Ok(()),
            Time::Step(dt) => Err(Error::InvalidParameter {
                name: "dt",
                reason: format!(
                    "the time step must lie in [1e-100, 1e100] (beyond, derivatives over- or underflow: \
                     rescale time), got {dt}"
                ),
            }),
            Time::Points(t) => {
                if t.len() != n {
                    return Err(Error::Shape {
                        what: "time points (one per sample)",
                        expected: n,
                        found: t.len(),
                    });
                }
                t.iter()
                    .enumerate()
                    .try_for_each(|(row, &v)| crate::data::check_value("t", row, 0, v))?;
                if let Some(i) = (1..n).find(|&i| t[i] <= t[i - 1]) {
                    return Err(Error::InvalidParameter {
                        name: "t",
                        reason: format!(
                            "times must be strictly increasing, but t[{i}] = {} follows t[{}] = {}",
                            t[i],
                            i - 1,
                            t[i - 1]
                        ),
                    });
                }
                Ok(())
            }
        }
    }

    /// The time of sample `i`, counting from 0 for a uniform step.
    pub fn at(&self, i: usize) -> f64 {
        match *self {
            Time::Step(dt) => dt * i as f64,
            Time::Points(t) => t[i],
        }
    }

    fn is_uniform(&self) -> bool {
        matches!(self, Time::Step(_))
    }
}

/// How derivatives are estimated from samples.
#[derive(Debug, Clone, PartialEq)]
pub enum Differentiation {
    /// Finite differences of accuracy `order` (the error is `O(hᵒʳᵈᵉʳ)`) for the derivative of order
    /// `derivative`: centred stencils of `2⌊(d+1)/2⌋ − 1 + order` points in the interior and one-sided
    /// stencils of `d + order` points at the ends (PySINDy's `FiniteDifference`, default order 2, `d = 1`).
    /// With `drop_endpoints`, the end points are left out of the fit instead.
    FiniteDifference {
        /// Accuracy order (≥ 1).
        order: usize,
        /// Derivative order (≥ 1).
        derivative: usize,
        /// Leave out the samples where the centred stencil does not fit.
        drop_endpoints: bool,
    },
    /// Savitzky–Golay smoothing (least-squares polynomial of degree `polyorder` over a sliding window of
    /// `window` samples, with SciPy's `mode="interp"` at the ends), then [`Differentiation::FiniteDifference`]
    /// of accuracy `order`. The library is then evaluated on the *smoothed* states, as PySINDy does. PySINDy's
    /// `SmoothedFiniteDifference` default is window 11, polyorder 3, order 2.
    SmoothedFiniteDifference {
        /// Window length (odd, > `polyorder`).
        window: usize,
        /// Degree of the local polynomial.
        polyorder: usize,
        /// Finite-difference accuracy order.
        order: usize,
    },
    /// The spectral derivative of a periodic signal on uniform samples: multiply the discrete Fourier
    /// transform by `(iω)ᵈ` (PySINDy's `SpectralDerivative`).
    Spectral {
        /// Derivative order (≥ 1).
        derivative: usize,
    },
}

impl Default for Differentiation {
    fn default() -> Self {
        Self::finite_difference(2)
    }
}

/// Derivatives of a trajectory, with the states the library should be evaluated on.
#[derive(Debug, Clone, PartialEq)]
pub struct Derivative {
    /// The derivative, `n × m`; rows outside `valid` are undefined (zero).
    pub x_dot: Array2<f64>,
    /// The smoothed states, when the method smooths.
    pub smoothed: Option<Array2<f64>>,
    /// The rows where the derivative is defined.
    pub valid: Range<usize>,
}

impl Differentiation {
    /// First-derivative finite differences of accuracy `order`, with one-sided stencils at the ends.
    pub fn finite_difference(order: usize) -> Self {
        Self::FiniteDifference {
            order,
            derivative: 1,
            drop_endpoints: false,
        }
    }

    /// Savitzky–Golay smoothing with PySINDy's defaults (window 11, degree 3) and second-order differences.
    pub fn smoothed() -> Self {
        Self::SmoothedFiniteDifference {
            window: 11,
            polyorder: 3,
            order: 2,
        }
    }

    /// The fewest samples the method accepts.
    pub fn min_samples(&self) -> usize {
        match *self {
            Self::FiniteDifference { order, derivative, .. } => stencil_len(order, derivative).max(derivative + order),
            Self::SmoothedFiniteDifference { window, order, .. } => window.max(stencil_len(order, 1).max(1 + order)),
            Self::Spectral { .. } => 2,
        }
    }

    /// Differentiates each column of `x` (`n × m`, one sample per row) with respect to time.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for bad method parameters, times that do not increase, too few samples for
    /// the stencil, or non-uniform times with the spectral method; [`Error::NonFinite`] for NaN or ±∞ in `x`.
    pub fn differentiate(&self, x: ArrayView2<'_, f64>, t: &Time<'_>) -> Result<Derivative> {
        let n = x.nrows();
        t.check(n)?;
        crate::data::check_matrix("x", x)?;
        self.check_samples(n)?;
        match *self {
            Self::FiniteDifference {
                order,
                derivative,
                drop_endpoints,
            } => Ok(finite_difference(x, t, order, derivative, drop_endpoints)),
            Self::SmoothedFiniteDifference {
                window,
                polyorder,
                order,
            } => {
                let smoothed = savitzky_golay(x, window, polyorder);
                let mut d = finite_difference(smoothed.view(), t, order, 1, false);
                d.smoothed = Some(smoothed);
                Ok(d)
            }
            Self::Spectral { derivative } => {
                let Time::Step(dt) = *t else {
                    return Err(Error::InvalidParameter {
                        name: "t",
                        reason: "the spectral derivative needs uniform sampling (a time step)".into(),
                    });
                };
                Ok(Derivative {
                    x_dot: spectral(x, dt, derivative),
                    smoothed: None,
                    valid: 0..n,
                })
            }
        }
    }

    /// How many samples on each side a row's derivative (and smoothed state) reads: a block of a trajectory
    /// widened by this many rows on each side gives, on its own rows, the derivatives of the whole
    /// trajectory (the centred stencil, and the centred smoothing window under it, both fit inside). `None`
    /// for the spectral derivative, which reads every sample.
    pub fn reach(&self) -> Option<usize> {
        // The centred stencil's right arm (the longer, for an even number of points).
        let arm = |order: usize, d: usize| {
            let ns = stencil_len(order, d);
            ns - 1 - (ns - 1) / 2
        };
        match *self {
            Self::FiniteDifference { order, derivative, .. } => Some(arm(order, derivative)),
            Self::SmoothedFiniteDifference { window, order, .. } => Some(window / 2 + arm(order, 1)),
            Self::Spectral { .. } => None,
        }
    }

    /// The streaming form of a plain finite difference, which computes derivatives block by block from the
    /// samples without materialising them (`None` for the other methods). Checks as
    /// [`Differentiation::differentiate`], except the finiteness of the data.
    pub(crate) fn stencil<'a>(&self, t: Time<'a>, n: usize) -> Result<Option<Stencil<'a>>> {
        t.check(n)?;
        self.check_samples(n)?;
        Ok(match *self {
            Self::FiniteDifference {
                order,
                derivative,
                drop_endpoints,
            } => Some(Stencil::new(t, n, order, derivative, drop_endpoints)),
            _ => None,
        })
    }

    fn check_samples(&self, n: usize) -> Result<()> {
        self.check_parameters()?;
        if n < self.min_samples() {
            return Err(Error::InvalidParameter {
                name: "x",
                reason: format!(
                    "{n} samples are too few for {}: it needs at least {}",
                    self.describe(),
                    self.min_samples()
                ),
            });
        }
        Ok(())
    }

    /// The method in words, for messages.
    fn describe(&self) -> String {
        match *self {
            Self::FiniteDifference { order, derivative, .. } => {
                format!("finite differences of accuracy order {order} (derivative {derivative})")
            }
            Self::SmoothedFiniteDifference {
                window,
                polyorder,
                order,
            } => {
                format!(
                    "Savitzky–Golay smoothing (window {window}, degree {polyorder}) and finite differences of order {order}"
                )
            }
            Self::Spectral { derivative } => format!("spectral differentiation (derivative {derivative})"),
        }
    }

    fn check_parameters(&self) -> Result<()> {
        let bad = |name, reason: String| Err(Error::InvalidParameter { name, reason });
        match *self {
            Self::FiniteDifference { order, .. } if order == 0 || order > MAX_ORDER => bad(
                "order",
                format!("the accuracy order of finite differences must lie in 1..={MAX_ORDER}, got {order}"),
            ),
            Self::FiniteDifference { derivative, .. } if derivative == 0 || derivative > MAX_ORDER => bad(
                "derivative",
                format!("the derivative order must lie in 1..={MAX_ORDER}, got {derivative}"),
            ),
            Self::SmoothedFiniteDifference {
                window,
                polyorder,
                order,
            } => {
                if window % 2 == 0 || window <= polyorder || order == 0 || order > MAX_ORDER {
                    bad(
                        "window, polyorder",
                        format!(
                            "need an odd window longer than the degree and order ≥ 1, got window {window}, polyorder {polyorder}, order {order}"
                        ),
                    )
                } else {
                    Ok(())
                }
            }
            Self::Spectral { derivative: 0 } => bad("derivative", "must be ≥ 1".into()),
            _ => Ok(()),
        }
    }
}

/// The highest accuracy and derivative orders taken (Fornberg weights of higher orders lose all accuracy
/// in double precision long before).
const MAX_ORDER: usize = 32;

/// Points in PySINDy's centred stencil for accuracy `order` and derivative `d`.
fn stencil_len(order: usize, d: usize) -> usize {
    2 * d.div_ceil(2) - 1 + order
}

/// Fornberg's weights (Fornberg 1988, "Generation of finite difference formulas on arbitrarily spaced
/// grids"): the weights `c` with `f⁽ᵈ⁾(z) ≈ Σ cᵢ f(nodes[i])`, exact for polynomials of degree < nodes.len().
pub(crate) fn fornberg(z: f64, nodes: &[f64], d: usize) -> Vec<f64> {
    let n = nodes.len();
    let cols = d + 1;
    let mut c = vec![0.0; n * cols];
    c[0] = 1.0;
    let mut c1 = 1.0;
    let mut c4 = nodes[0] - z;
    for i in 1..n {
        let mn = i.min(d);
        let mut c2 = 1.0;
        let c5 = c4;
        c4 = nodes[i] - z;
        for j in 0..i {
            let c3 = nodes[i] - nodes[j];
            c2 *= c3;
            if j == i - 1 {
                for k in (1..=mn).rev() {
                    c[i * cols + k] = c1 * (k as f64 * c[(i - 1) * cols + k - 1] - c5 * c[(i - 1) * cols + k]) / c2;
                }
                c[i * cols] = -c1 * c5 * c[(i - 1) * cols] / c2;
            }
            for k in (1..=mn).rev() {
                c[j * cols + k] = (c4 * c[j * cols + k] - k as f64 * c[j * cols + k - 1]) / c3;
            }
            c[j * cols] = c4 * c[j * cols] / c3;
        }
        c1 = c2;
    }
    (0..n).map(|i| c[i * cols + d]).collect()
}

/// PySINDy's finite-difference rule for one trajectory: centred stencils of `ns` points starting
/// `⌊(ns−1)/2⌋` before each interior point; at the ends, the first (last) `d + order` points, evaluated at
/// each end point. Applies to whole columns or to blocks of rows (for streaming).
#[derive(Debug, Clone)]
pub(crate) struct Stencil<'a> {
    t: Time<'a>,
    n: usize,
    d: usize,
    ns: usize,
    left: usize,
    right: usize,
    nf: usize,
    /// The interior weights when the sampling is uniform.
    uniform: Option<Vec<f64>>,
    first: Vec<f64>,
    last: Vec<f64>,
    drop_endpoints: bool,
}

impl<'a> Stencil<'a> {
    /// The stencil for `n` samples at times `t` (checked by the caller, with `n` at least the stencil sizes).
    pub(crate) fn new(t: Time<'a>, n: usize, order: usize, d: usize, drop_endpoints: bool) -> Self {
        let ns = stencil_len(order, d);
        let left = (ns - 1) / 2;
        let nf = d + order;
        let nodes = |start: usize, len: usize| -> Vec<f64> { (start..start + len).map(|k| t.at(k)).collect() };
        Self {
            t,
            n,
            d,
            ns,
            left,
            right: ns - 1 - left,
            nf,
            uniform: t.is_uniform().then(|| fornberg(t.at(left), &nodes(0, ns), d)),
            first: nodes(0, nf),
            last: nodes(n - nf, nf),
            drop_endpoints,
        }
    }

    /// Rows where the derivative is defined.
    pub(crate) fn valid(&self) -> Range<usize> {
        if self.drop_endpoints {
            self.left..self.n - self.right
        } else {
            0..self.n
        }
    }

    /// Rows a block `rows` needs: `rows` widened by the stencil's reach, clipped to the trajectory.
    pub(crate) fn halo(&self, rows: &Range<usize>) -> Range<usize> {
        rows.start.saturating_sub(self.left)..(rows.end + self.right).min(self.n)
    }

    /// Writes the derivative at `rows` into `out` (one value per row): `window` holds the column at rows
    /// [`Stencil::halo`]`(rows)`; `full(k)` reads row `k` of the column (used for the few end rows).
    pub(crate) fn apply(&self, rows: Range<usize>, window: &[f64], full: impl Fn(usize) -> f64, out: &mut [f64]) {
        let base = self.halo(&rows).start;
        let interior = rows.start.max(self.left)..rows.end.min(self.n - self.right);
        let first_row = rows.start;
        let o = |i: usize| i - first_row;
        if !interior.is_empty() {
            let (lo, len) = (o(interior.start), interior.len());
            match &self.uniform {
                // Uniform steps: one stencil, applied as ns shifted axpys (vectorisable).
                Some(w) => {
                    let dst = &mut out[lo..lo + len];
                    dst.fill(0.0);
                    for (k, wk) in w.iter().enumerate() {
                        let src = &window[interior.start - self.left + k - base..][..len];
                        dst.iter_mut().zip(src).for_each(|(o, v)| *o += wk * v);
                    }
                }
                None => {
                    let mut nodes = vec![0.0; self.ns];
                    for i in interior.clone() {
                        let start = i - self.left;
                        nodes
                            .iter_mut()
                            .enumerate()
                            .for_each(|(k, v)| *v = self.t.at(start + k));
                        let w = fornberg(self.t.at(i), &nodes, self.d);
                        out[o(i)] = w.iter().zip(&window[start - base..]).map(|(a, b)| a * b).sum();
                    }
                }
            }
        }
        for i in rows {
            if i < self.left {
                let w = fornberg(self.t.at(i), &self.first, self.d);
                out[o(i)] = w.iter().enumerate().map(|(k, a)| a * full(k)).sum();
            } else if i >= self.n - self.right {
                let w = fornberg(self.t.at(i), &self.last, self.d);
                out[o(i)] = w.iter().enumerate().map(|(k, a)| a * full(self.n - self.nf + k)).sum();
            }
        }
    }
}

/// Finite differences of every column (see [`Stencil`]); the result is column-major.
fn finite_difference(x: ArrayView2<'_, f64>, t: &Time<'_>, order: usize, d: usize, drop_endpoints: bool) -> Derivative {
    let (n, m) = x.dim();
    let stencil = Stencil::new(*t, n, order, d, drop_endpoints);
    let valid = stencil.valid();
    let mut x_dot = Array2::<f64>::zeros((n, m).f());
    let mut column = Vec::new();
    for s in 0..m {
        let col: &[f64] = match x.column(s).to_slice() {
            Some(c) => c,
            None => {
                column.clear();
                column.extend(x.column(s).iter());
                &column
            }
        };
        let mut out = x_dot.column_mut(s);
        let out = out
            .as_slice_mut()
            .expect("a column of a column-major array is contiguous");
        stencil.apply(valid.clone(), col, |k| col[k], &mut out[valid.clone()]);
    }
    Derivative {
        x_dot,
        smoothed: None,
        valid,
    }
}

/// Savitzky–Golay smoothing of each column with SciPy's `mode="interp"`: interior points take the value at the
/// centre of the least-squares polynomial over their window; the first and last `window/2` points take the
/// values of the polynomial fitted to the first (last) window.
fn savitzky_golay(x: ArrayView2<'_, f64>, window: usize, polyorder: usize) -> Array2<f64> {
    let (n, m) = x.dim();
    let half = window / 2;
    let hat = hat_matrix(window, polyorder);
    let row = |r: usize| &hat[r * window..(r + 1) * window];
    let mut out = Array2::<f64>::zeros((n, m));
    for s in 0..m {
        let col = x.index_axis(Axis(1), s);
        let smooth = |start: usize, r: usize| row(r).iter().enumerate().map(|(k, h)| h * col[start + k]).sum::<f64>();
        for i in 0..n {
            out[(i, s)] = if i < half {
                smooth(0, i)
            } else if i + half >= n {
                smooth(n - window, i + window - n)
            } else {
                smooth(i - half, half)
            };
        }
    }
    out
}

/// The `w × w` projection (row-major) onto polynomials of degree ≤ `p` sampled at `w` equispaced points:
/// `Q Qᵀ` with `Q` an orthonormal basis of the Vandermonde matrix, by modified Gram–Schmidt with
/// re-orthogonalisation on nodes scaled to [−1, 1].
fn hat_matrix(w: usize, p: usize) -> Vec<f64> {
    let half = (w / 2).max(1) as f64;
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(p + 1);
    for deg in 0..=p {
        let mut v: Vec<f64> = (0..w).map(|k| ((k as f64 - half) / half).powi(deg as i32)).collect();
        for _ in 0..2 {
            for b in &q {
                let proj: f64 = v.iter().zip(b).map(|(a, c)| a * c).sum();
                v.iter_mut().zip(b).for_each(|(a, c)| *a -= proj * c);
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        v.iter_mut().for_each(|a| *a /= norm);
        q.push(v);
    }
    let mut h = vec![0.0; w * w];
    for r in 0..w {
        for c in 0..w {
            h[r * w + c] = q.iter().map(|b| b[r] * b[c]).sum();
        }
    }
    h
}

/// Spectral derivative of order `d`: `ifft((iω)ᵈ fft(x))`, real part, with ω = 2πk/(n·dt) for
/// `k ≤ n/2` and 2π(k − n)/(n·dt) above (NumPy's layout, as PySINDy).
fn spectral(x: ArrayView2<'_, f64>, dt: f64, d: usize) -> Array2<f64> {
    let (n, m) = x.dim();
    let mut planner = FftPlanner::<f64>::new();
    let (fwd, inv) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
    let mut out = Array2::<f64>::zeros((n, m));
    let mut buf = vec![Complex::new(0.0, 0.0); n];
    for s in 0..m {
        buf.iter_mut()
            .zip(x.column(s))
            .for_each(|(b, &v)| *b = Complex::new(v, 0.0));
        fwd.process(&mut buf);
        for (k, b) in buf.iter_mut().enumerate() {
            let kk = if k <= n / 2 { k as f64 } else { k as f64 - n as f64 };
            let iw = Complex::new(0.0, kk * 2.0 * std::f64::consts::PI / (n as f64 * dt));
            *b *= iw.powu(d as u32);
        }
        inv.process(&mut buf);
        out.column_mut(s)
            .iter_mut()
            .zip(&buf)
            .for_each(|(o, b)| *o = b.re / n as f64);
    }
    out
}
