//! Integration of `dy/dt = f(t, y)` with no allocation, for running models in a control loop on a
//! microcontroller and for simulating fitted models on a workstation: the classical fixed-step fourth-order
//! Runge–Kutta method ([`rk4_step`]) and the adaptive Dormand–Prince 5(4) pair ([`Dopri5`]), the method behind
//! MATLAB's `ode45` and SciPy's `RK45`.

use crate::Real;
use crate::error::{Error, Result, check_finite, take_scratch};

/// Scratch elements [`rk4_step`] needs for a state of dimension `n`: five vectors.
pub const fn rk4_scratch_len(n: usize) -> usize {
    5 * n
}

/// One classical Runge–Kutta step of size `h` from `(t, y)`, in place (`y ← y(t + h)`).
///
/// `rhs(t, y, dydt)` writes `f(t, y)` into `dydt` and may fail (its error is passed on). Local error
/// `O(h⁵)`, global `O(h⁴)`. `scratch` needs [`rk4_scratch_len`]`(y.len())` elements.
///
/// # Errors
/// The right-hand side's errors; [`Error::InvalidParameter`] for a non-finite `h`;
/// [`Error::NonFinite`] when the new state is not finite (the step blew up; `y` then holds it).
pub fn rk4_step<T: Real, F>(rhs: &mut F, t: T, h: T, y: &mut [T], scratch: &mut [T]) -> Result<()>
where
    F: FnMut(T, &[T], &mut [T]) -> Result<()>,
{
    if !h.is_finite() || !t.is_finite() {
        return Err(Error::InvalidParameter {
            name: "h, t",
            reason: "must be finite",
        });
    }
    let n = y.len();
    let (k1, rest) = take_scratch(scratch, n)?;
    let (k2, rest) = take_scratch(rest, n)?;
    let (k3, rest) = take_scratch(rest, n)?;
    let (k4, rest) = take_scratch(rest, n)?;
    let tmp = take_scratch(rest, n)?.0;
    let half = h / T::lit(2.0);
    rhs(t, y, k1)?;
    tmp.iter_mut()
        .zip(y.iter())
        .zip(k1.iter())
        .for_each(|((s, &yi), &k)| *s = half * k + yi);
    rhs(t + half, tmp, k2)?;
    tmp.iter_mut()
        .zip(y.iter())
        .zip(k2.iter())
        .for_each(|((s, &yi), &k)| *s = half * k + yi);
    rhs(t + half, tmp, k3)?;
    tmp.iter_mut()
        .zip(y.iter())
        .zip(k3.iter())
        .for_each(|((s, &yi), &k)| *s = h * k + yi);
    rhs(t + h, tmp, k4)?;
    let sixth = h / T::lit(6.0);
    for i in 0..n {
        let incr = k1[i] + T::lit(2.0) * (k2[i] + k3[i]) + k4[i];
        y[i] = sixth * incr + y[i];
    }
    check_finite("ODE state after an RK4 step", y)
}

/// Scratch elements [`Dopri5::integrate`] needs for a state of dimension `n`: eight vectors.
pub const fn dopri5_scratch_len(n: usize) -> usize {
    8 * n
}

/// The adaptive Dormand–Prince 5(4) method (Dormand & Prince 1980; Hairer, Nørsett & Wanner, *Solving ODEs I*,
/// §II.4), with local extrapolation (the fifth-order solution is propagated) and the standard step-size
/// controller.
///
/// A step is accepted when the error estimate, measured in the root-mean-square norm
/// `sqrt(mean((eᵢ / (atol + rtol·max(|yᵢ|, |ŷᵢ|)))²))`, is at most 1. The next step is
/// `h · clamp(0.9 · err^(−1/5), 0.2, 10)` (the factor is capped at 1 right after a rejection), as SciPy's
/// `RK45` does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dopri5<T> {
    /// Relative tolerance (> 0).
    pub rtol: T,
    /// Absolute tolerance (≥ 0), in the units of the state.
    pub atol: T,
    /// Cap on attempted steps per call of [`Dopri5::integrate`].
    pub max_steps: usize,
}

/// What [`Dopri5::integrate`] carries between calls and reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Dopri5State<T> {
    /// The step size to try next; zero lets the integrator choose one (Hairer's starting-step heuristic).
    /// Kept between calls, so integrating output interval by output interval costs no restart.
    pub h: T,
    /// Accepted steps, summed over calls.
    pub accepted: usize,
    /// Rejected steps, summed over calls.
    pub rejected: usize,
    /// Right-hand-side evaluations, summed over calls.
    pub evaluations: usize,
}

const DP_C: [f64; 6] = [1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0];
const DP_A: [[f64; 6]; 6] = [
    [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
/// The fifth-order weights minus the embedded fourth-order ones (stages 1 to 7).
const DP_E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

impl<T: Real> Dopri5<T> {
    /// Tolerances `rtol`, `atol` and a cap of 100 000 steps per call.
    pub fn new(rtol: T, atol: T) -> Self {
        Self {
            rtol,
            atol,
            max_steps: 100_000,
        }
    }

    /// Integrates `y` in place from `t0` to `t1` (either direction), landing exactly on `t1`. A step is
    /// rejected (and shortened) whenever its error estimate is not finite.
    ///
    /// `rhs(t, y, dydt)` writes `f(t, y)`; `state.h` is the first step to try (zero: choose) and holds the
    /// suggested next step on return. `scratch` needs [`dopri5_scratch_len`]`(y.len())` elements.
    ///
    /// # Errors
    /// The right-hand side's errors; [`Error::InvalidParameter`] for bad tolerances or times;
    /// [`Error::NonFinite`] when the solution blows up; [`Error::NotConverged`] when `max_steps` steps do not
    /// reach `t1` or the step size underflows, as it does when the solution blows up (`reached` is the time
    /// reached; `y` holds the state there).
    pub fn integrate<F>(
        &self,
        rhs: &mut F,
        t0: T,
        t1: T,
        y: &mut [T],
        state: &mut Dopri5State<T>,
        scratch: &mut [T],
    ) -> Result<()>
    where
        F: FnMut(T, &[T], &mut [T]) -> Result<()>,
    {
        if !(self.rtol > T::zero() && self.rtol.is_finite() && self.atol >= T::zero() && self.atol.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "rtol, atol",
                reason: "need rtol > 0 and atol ≥ 0, finite",
            });
        }
        if !(t0.is_finite() && t1.is_finite() && state.h.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "t0, t1, h",
                reason: "must be finite",
            });
        }
        check_finite("ODE initial state", y)?;
        let n = y.len();
        let needed = dopri5_scratch_len(n);
        if scratch.len() < needed {
            return Err(Error::ScratchTooSmall {
                needed,
                found: scratch.len(),
            });
        }
        if t1 == t0 || n == 0 {
            return Ok(());
        }
        let (k, ynew) = scratch[..needed].split_at_mut(7 * n);
        let dir = if t1 > t0 { T::one() } else { -T::one() };
        let mut t = t0;
        rhs(t, y, &mut k[..n])?;
        state.evaluations += 1;
        let mut h = state.h.abs();
        if h == T::zero() {
            h = self.initial_step(rhs, t, dir, y, k, ynew, state)?;
        }
        let mut just_rejected = false;
        for _ in 0..self.max_steps {
            let remaining = (t1 - t).abs();
            let last = h >= remaining;
            let h_try = if last { remaining } else { h };
            if h_try <= T::epsilon() * t.abs().max(T::one()) * T::lit(4.0) && !last {
                return Err(Error::NotConverged {
                    iterations: state.accepted + state.rejected,
                    reached: t.to_f64_lossless(),
                    tolerance: self.rtol.to_f64_lossless(),
                });
            }
            let hs = dir * h_try;
            // Stages 2..7; stage 7 is evaluated at the new point (first-same-as-last).
            for s in 0..6 {
                let (done, rest) = k.split_at_mut((s + 1) * n);
                for i in 0..n {
                    let mut acc = T::zero();
                    for (j, &a) in DP_A[s][..=s].iter().enumerate() {
                        acc = T::lit(a) * done[j * n + i] + acc;
                    }
                    ynew[i] = hs * acc + y[i];
                }
                rhs(t + T::lit(DP_C[s]) * hs, ynew, &mut rest[..n])?;
                state.evaluations += 1;
            }
            // ynew holds the fifth-order solution (row 6 of A is the weight vector b).
            let mut err_sq = T::zero();
            for i in 0..n {
                let mut e = T::zero();
                for (j, &w) in DP_E.iter().enumerate() {
                    e = T::lit(w) * k[j * n + i] + e;
                }
                let scale = self.atol + self.rtol * y[i].abs().max(ynew[i].abs());
                let r = if scale > T::zero() {
                    hs * e / scale
                } else if e == T::zero() {
                    T::zero()
                } else {
                    T::infinity()
                };
                err_sq = r * r + err_sq;
            }
            let err = (err_sq / T::lit(n as f64)).sqrt();
            if err <= T::one() {
                t = if last { t1 } else { t + hs };
                y.copy_from_slice(ynew);
                check_finite("ODE state after a Dormand–Prince step", y)?;
                let (first, rest) = k.split_at_mut(n);
                first.copy_from_slice(&rest[5 * n..6 * n]);
                state.accepted += 1;
                let mut factor = if err == T::zero() {
                    T::lit(10.0)
                } else {
                    (T::lit(0.9) * err.powf(T::lit(-0.2))).min(T::lit(10.0))
                };
                if just_rejected {
                    factor = factor.min(T::one());
                }
                just_rejected = false;
                // A step shortened to land on t1 does not shrink the suggestion.
                h = if last { h.max(h_try * factor) } else { h_try * factor };
                if last {
                    state.h = h;
                    return Ok(());
                }
            } else {
                state.rejected += 1;
                just_rejected = true;
                let factor = if err.is_finite() {
                    (T::lit(0.9) * err.powf(T::lit(-0.2))).max(T::lit(0.2))
                } else {
                    T::lit(0.2)
                };
                h = h_try * factor;
            }
        }
        state.h = h;
        Err(Error::NotConverged {
            iterations: state.accepted + state.rejected,
            reached: t.to_f64_lossless(),
            tolerance: self.rtol.to_f64_lossless(),
        })
    }

    /// Hairer's starting step (*Solving ODEs I*, §II.4): `h0 = 0.01·‖y‖/‖f‖`, refined with one Euler step
    /// so that `h^5 · max(‖f‖, ‖f'‖) ≈ 0.01`. `k[..n]` holds `f(t, y)`.
    #[allow(clippy::too_many_arguments)]
    fn initial_step<F>(
        &self,
        rhs: &mut F,
        t: T,
        dir: T,
        y: &[T],
        k: &mut [T],
        ytmp: &mut [T],
        state: &mut Dopri5State<T>,
    ) -> Result<T>
    where
        F: FnMut(T, &[T], &mut [T]) -> Result<()>,
    {
        let n = y.len();
        let scale = |i: usize| self.atol + self.rtol * y[i].abs();
        let rms = |f: &dyn Fn(usize) -> T| {
            let mut s = T::zero();
            for i in 0..n {
                let v = f(i);
                s = v * v + s;
            }
            (s / T::lit(n as f64)).sqrt()
        };
        let (f0, rest) = k.split_at_mut(n);
        let d0 = rms(&|i| y[i] / scale(i));
        let d1 = rms(&|i| f0[i] / scale(i));
        let h0 = if d0 < T::lit(1e-5) || d1 < T::lit(1e-5) {
            T::lit(1e-6)
        } else {
            T::lit(0.01) * d0 / d1
        };
        for i in 0..n {
            ytmp[i] = dir * h0 * f0[i] + y[i];
        }
        let f1 = &mut rest[..n];
        rhs(t + dir * h0, ytmp, f1)?;
        state.evaluations += 1;
        let d2 = rms(&|i| (f1[i] - f0[i]) / scale(i)) / h0;
        let h1 = if d1 <= T::lit(1e-15) && d2 <= T::lit(1e-15) {
            (h0 * T::lit(1e-3)).max(T::lit(1e-6))
        } else {
            (T::lit(0.01) / d1.max(d2)).powf(T::lit(0.2))
        };
        Ok((T::lit(100.0) * h0).min(h1))
    }
}
