//! Forward–backward (proximal gradient) iterations: ISTA and FISTA, for `minimize_x f(x) + g(x)` with `f`
//! [`Smooth`] and `g` a [`Prox`].
//!
//! Each iteration takes a gradient step on `f` and a proximal step on `g`,
//! `x⁺ = prox_{g/L}(y − ∇f(y)/L)`, where `y` is the current iterate (ISTA) or an extrapolated point (FISTA,
//! Beck & Teboulle, SIAM J. Imaging Sci. 2009). Options:
//!
//! * [`Acceleration::FistaRestart`]: FISTA with the gradient-based adaptive restart of O'Donoghue & Candès
//!   (Found. Comput. Math. 2015): momentum is reset whenever `⟨y − x⁺, x⁺ − x⟩ > 0`;
//! * [`StepSize::Lipschitz`] uses a known Lipschitz constant `L` of `∇f`; [`StepSize::Backtracking`] finds one
//!   by the sufficient-decrease test `f(x⁺) ≤ f(y) + ⟨∇f(y), x⁺ − y⟩ + (L/2)‖x⁺ − y‖²`, multiplying `L` by
//!   `increase` until it holds;
//! * stopping on the relative change `‖x⁺ − x‖ / max(‖x⁺‖, 1e-30) ≤ tol`, or when a caller-supplied criterion
//!   returns `true`; reaching `max_iter` first returns the last iterate in `x` with
//!   [`StopReason::IterationCap`] (not an error: the caller decides, see [`crate::Report`]).

use crate::Real;
use crate::error::{Error, Result, check_finite, check_len, take_scratch};
use crate::linalg::norm2;
use crate::prox::Prox;
use crate::report::{Measure, Report};
use crate::smooth::Smooth;

/// The momentum scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceleration {
    /// Plain proximal gradient (ISTA): `O(1/k)` in objective, monotone.
    None,
    /// FISTA: `O(1/k²)` in objective, not monotone.
    Fista,
    /// FISTA with gradient-based adaptive restart; usually the fastest, and the default.
    FistaRestart,
}

/// How the step `1/L` is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepSize<T> {
    /// A known Lipschitz constant `L > 0` of `∇f` (e.g. `s‖A‖²` from [`crate::linalg::power_iteration`]).
    Lipschitz(T),
    /// Backtracking from `initial` (an estimate of `L`, `> 0`), multiplying by `increase > 1` while the
    /// sufficient-decrease test fails. `L` never decreases.
    Backtracking {
        /// First estimate of `L`.
        initial: T,
        /// Growth factor, `> 1`.
        increase: T,
    },
}

/// Options of [`minimize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FbOptions<T> {
    /// Iteration cap (`≥ 1`).
    pub max_iter: usize,
    /// Tolerance on the relative change of the iterate (`≥ 0`).
    pub tol: T,
    /// The momentum scheme.
    pub acceleration: Acceleration,
    /// The step-size rule.
    pub step: StepSize<T>,
}

impl<T: Real> Default for FbOptions<T> {
    /// 1000 iterations, `tol = 1e-8` (`1e-5` for `f32`), FISTA with restart, backtracking from `L = 1`.
    fn default() -> Self {
        let tol = if core::mem::size_of::<T>() == 4 { 1e-5 } else { 1e-8 };
        Self {
            max_iter: 1000,
            tol: T::lit(tol),
            acceleration: Acceleration::FistaRestart,
            step: StepSize::Backtracking {
                initial: T::one(),
                increase: T::lit(2.0),
            },
        }
    }
}

/// Why [`minimize`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The relative change fell to `tol`.
    Tolerance,
    /// The caller's criterion returned `true`.
    Criterion,
    /// `max_iter` iterations ran without either of the above: the last iterate is returned unconverged.
    IterationCap,
}

/// The outcome of [`minimize`]. It holds no objective value: the driver spends no evaluation of `f` on
/// reporting (an inner loop, such as a proximal map computed by forward–backward, would pay for one on
/// every call); a caller that needs `f(x) + g(x)` evaluates it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FbReport<T> {
    /// Iterations performed.
    pub iterations: usize,
    /// The last relative change of the iterate.
    pub relative_change: T,
    /// The Lipschitz estimate `L` in use at the end (the step was `1/L`).
    pub lipschitz: T,
    /// Why it stopped.
    pub stop: StopReason,
}

impl<T: Real> FbReport<T> {
    /// Whether the iteration stopped on its tolerance or the caller's criterion (not at the cap).
    pub fn converged(&self) -> bool {
        self.stop != StopReason::IterationCap
    }

    /// The shared [`Report`], judged by the relative change of the iterate against `tol`. A stop by the
    /// caller's criterion is reported as [`Measure::Exact`] (converged by the caller's own rule, which the
    /// caller reports in its own measure where it has one).
    pub fn report(&self, tol: T) -> Report {
        if self.stop == StopReason::Criterion {
            return Report::exact(self.iterations);
        }
        Report {
            iterations: self.iterations,
            converged: self.converged(),
            measure: Measure::RelativeChange,
            reached: self.relative_change.to_f64_lossless(),
            tolerance: tol.to_f64_lossless(),
        }
    }
}

/// What a caller's stopping criterion sees after each iteration.
#[derive(Debug)]
pub struct FbState<'s, T> {
    /// Iterations completed (1 after the first).
    pub iteration: usize,
    /// The new iterate.
    pub x: &'s [T],
    /// Its relative change from the previous iterate.
    pub relative_change: T,
    /// The current Lipschitz estimate.
    pub lipschitz: T,
}

/// A caller's stopping criterion: return `true` to stop.
pub type Criterion<'c, T> = &'c mut dyn FnMut(&FbState<'_, T>) -> bool;

/// Scratch elements [`minimize`] needs for `f`: three vectors of `f.dim()` plus `f`'s own scratch.
pub fn scratch_len<T: Real, F: Smooth<T>>(f: &F) -> usize {
    3 * f.dim() + f.scratch_len()
}

fn check_options<T: Real>(opts: &FbOptions<T>) -> Result<()> {
    if opts.max_iter == 0 {
        return Err(Error::InvalidParameter {
            name: "max_iter",
            reason: "must be at least 1",
        });
    }
    if !(opts.tol >= T::zero() && opts.tol.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "tol",
            reason: "must be non-negative and finite",
        });
    }
    match opts.step {
        StepSize::Lipschitz(l) if !(l > T::zero() && l.is_finite()) => Err(Error::InvalidParameter {
            name: "step",
            reason: "Lipschitz constant must be positive and finite",
        }),
        StepSize::Backtracking { initial, increase }
            if !(initial > T::zero() && initial.is_finite() && increase > T::one() && increase.is_finite()) =>
        {
            Err(Error::InvalidParameter {
                name: "step",
                reason: "backtracking needs initial > 0 and increase > 1",
            })
        }
        _ => Ok(()),
    }
}

/// Minimises `f(x) + g(x)` from the starting point in `x`, leaving the solution in `x`.
///
/// `scratch` must hold at least [`scratch_len`]`(f)` elements. `criterion`, when given, is called after every
/// iteration and stops the iteration when it returns `true`.
///
/// # Errors
/// Shape or option errors; [`Error::NonFinite`] if the starting point or an iterate's objective is not finite
/// (a step too long for `f`). Reaching `max_iter` is not an error: the report says
/// [`StopReason::IterationCap`] and `x` holds the last iterate.
pub fn minimize<T: Real, F: Smooth<T>, P: Prox<T> + ?Sized>(
    f: &F,
    g: &P,
    x: &mut [T],
    opts: &FbOptions<T>,
    scratch: &mut [T],
    mut criterion: Option<Criterion<'_, T>>,
) -> Result<FbReport<T>> {
    check_options(opts)?;
    let n = f.dim();
    check_len("x (smooth term dimension)", n, x.len())?;
    check_finite("starting point x", x)?;
    let (y, rest) = take_scratch(scratch, n)?;
    let (grad, rest) = take_scratch(rest, n)?;
    let (p, fs) = take_scratch(rest, n)?;
    let fs = take_scratch(fs, f.scratch_len())?.0;

    let (mut lip, increase, backtrack) = match opts.step {
        StepSize::Lipschitz(l) => (l, T::one(), false),
        StepSize::Backtracking { initial, increase } => (initial, increase, true),
    };
    let slack = T::lit(10.0) * T::epsilon();
    y.copy_from_slice(x);
    let mut t = T::one();

    let mut iter = 0;
    loop {
        iter += 1;
        let fy = f.value_grad(y, grad, fs)?;
        if !fy.is_finite() {
            return Err(Error::NonFinite {
                what: "smooth objective at an iterate (step too long?)",
                index: iter,
            });
        }
        // Backtracking loop: p = prox_{g/L}(y − ∇f(y)/L) until the quadratic upper bound holds.
        loop {
            let step = T::one() / lip;
            p.iter_mut()
                .zip(y.iter())
                .zip(grad.iter())
                .for_each(|((pi, &yi), &gi)| *pi = yi - step * gi);
            g.prox(step, p)?;
            if !backtrack {
                break;
            }
            let fp = f.value(p, fs)?;
            let mut lin = T::zero();
            let mut d2 = T::zero();
            for ((&pi, &yi), &gi) in p.iter().zip(y.iter()).zip(grad.iter()) {
                let d = pi - yi;
                lin = gi * d + lin;
                d2 = d * d + d2;
            }
            if fp <= fy + lin + lip / T::lit(2.0) * d2 + slack * fy.abs().max(T::one()) {
                break;
            }
            lip = lip * increase;
            if !lip.is_finite() {
                return Err(Error::NonFinite {
                    what: "Lipschitz estimate in backtracking",
                    index: iter,
                });
            }
        }

        // Relative change, restart test and momentum, then x ← p.
        let mut diff2 = T::zero();
        let mut restart_dot = T::zero();
        for ((&pi, &xi), &yi) in p.iter().zip(x.iter()).zip(y.iter()) {
            diff2 = (pi - xi) * (pi - xi) + diff2;
            restart_dot = (yi - pi) * (pi - xi) + restart_dot;
        }
        let rel = diff2.sqrt() / norm2(p).max(T::lit(1e-30));
        let beta = match opts.acceleration {
            Acceleration::None => T::zero(),
            Acceleration::FistaRestart if restart_dot > T::zero() => {
                t = T::one();
                T::zero()
            }
            Acceleration::Fista | Acceleration::FistaRestart => {
                let t_next = (T::one() + (T::one() + T::lit(4.0) * t * t).sqrt()) / T::lit(2.0);
                let beta = (t - T::one()) / t_next;
                t = t_next;
                beta
            }
        };
        for ((yi, xi), &pi) in y.iter_mut().zip(x.iter_mut()).zip(p.iter()) {
            *yi = pi + beta * (pi - *xi);
            *xi = pi;
        }

        let stop = if rel <= opts.tol {
            Some(StopReason::Tolerance)
        } else if let Some(c) = criterion.as_mut() {
            let state = FbState {
                iteration: iter,
                x,
                relative_change: rel,
                lipschitz: lip,
            };
            c(&state).then_some(StopReason::Criterion)
        } else {
            None
        };
        let stop = match stop {
            None if iter == opts.max_iter => StopReason::IterationCap,
            None => continue,
            Some(stop) => stop,
        };
        return Ok(FbReport {
            iterations: iter,
            relative_change: rel,
            lipschitz: lip,
            stop,
        });
    }
}

/// [`minimize`] with its scratch allocated on the heap.
#[cfg(feature = "alloc")]
pub fn minimize_alloc<T: Real, F: Smooth<T>, P: Prox<T> + ?Sized>(
    f: &F,
    g: &P,
    x: &mut [T],
    opts: &FbOptions<T>,
    criterion: Option<Criterion<'_, T>>,
) -> Result<FbReport<T>> {
    let mut scratch = alloc::vec![T::zero(); scratch_len(f)];
    minimize(f, g, x, opts, &mut scratch, criterion)
}
