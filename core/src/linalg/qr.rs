use crate::Real;
use crate::error::{Error, Result, check_finite, check_len};
use crate::operator::DenseColMajorMut;

/// Least squares `min_x ‖A x − b‖₂` for an `m × n` matrix with `m ≥ n` and full column rank, by Householder QR.
///
/// In place: `a` is overwritten by the Householder vectors and `R`, `tau` (length `n`) by the reflector
/// scalars, and `b` (length `m`) by `[x; Qᵀb tail]`: the solution is `b[..n]` and the residual norm is
/// returned. `2mn² − 2n³/3` flops, backward stable (unlike the normal equations, which square the condition
/// number).
///
/// # Errors
/// [`Error::InvalidParameter`] if `m < n`; [`Error::RankDeficient`] if a diagonal entry of `R` is below
/// `max(m, n) · ε · max|Rⱼⱼ|`; shape errors for `b` and `tau`; [`Error::NonFinite`] for a non-finite `b`.
pub fn qr_least_squares<T: Real>(a: &mut DenseColMajorMut<'_, T>, b: &mut [T], tau: &mut [T]) -> Result<T> {
    let (m, n, ld) = (a.nrows(), a.ncols(), a.ld());
    if m < n {
        return Err(Error::InvalidParameter {
            name: "a",
            reason: "least squares needs at least as many rows as columns",
        });
    }
    check_len("right-hand side b (matrix rows)", m, b.len())?;
    check_len("tau (matrix columns)", n, tau.len())?;
    check_finite("right-hand side b", b)?;
    let d = a.data_mut();
    for k in 0..n {
        // Householder reflector H = I − τ v vᵀ with v = [1; x[k+1..]/(α − β)] zeroing a[k+1.., k].
        let col = &mut d[k * ld + k..k * ld + m];
        let norm = super::norm2(col);
        let alpha = col[0];
        if norm == T::zero() {
            tau[k] = T::zero();
            continue;
        }
        let beta = if alpha >= T::zero() { -norm } else { norm };
        let scale = T::one() / (alpha - beta);
        col[1..].iter_mut().for_each(|v| *v = *v * scale);
        tau[k] = (beta - alpha) / beta;
        col[0] = beta;
        // Apply H to the trailing columns and to b.
        for j in k + 1..n {
            let (left, right) = d.split_at_mut(j * ld);
            let v = &left[k * ld + k..k * ld + m];
            let c = &mut right[k..m];
            apply_reflector(v, tau[k], c);
        }
        apply_reflector(&d[k * ld + k..k * ld + m], tau[k], &mut b[k..m]);
    }
    // Rank check, then back substitution R x = (Qᵀ b)[..n].
    let rmax = (0..n).fold(T::zero(), |mx, j| mx.max(d[j + j * ld].abs()));
    let threshold = T::lit(m.max(n) as f64) * T::epsilon() * rmax;
    for j in 0..n {
        let rjj = d[j + j * ld].abs();
        if rjj <= threshold || rmax == T::zero() {
            let rel = if rmax > T::zero() {
                (rjj / rmax).to_f64_lossless()
            } else {
                0.0
            };
            return Err(Error::RankDeficient {
                column: j,
                relative_pivot: rel,
            });
        }
    }
    for j in (0..n).rev() {
        b[j] = b[j] / d[j + j * ld];
        let bj = b[j];
        for i in 0..j {
            b[i] = (-d[i + j * ld]) * bj + b[i];
        }
    }
    Ok(super::norm2(&b[n..]))
}

/// `c ← (I − τ v vᵀ) c`, with `v[0]` taken as 1 (it stores `R`'s diagonal entry).
fn apply_reflector<T: Real>(v: &[T], tau: T, c: &mut [T]) {
    if tau == T::zero() {
        return;
    }
    let s = v[1..].iter().zip(&c[1..]).fold(c[0], |s, (&vi, &ci)| vi * ci + s);
    let ts = tau * s;
    c[0] = c[0] - ts;
    c[1..]
        .iter_mut()
        .zip(&v[1..])
        .for_each(|(ci, &vi)| *ci = (-vi) * ts + *ci);
}
