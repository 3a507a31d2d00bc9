//! Fixed-step integration of `dy/dt = f(t, y)` with no allocation: the classical fourth-order Runge–Kutta
//! method, for running models in a control loop on a microcontroller.

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
