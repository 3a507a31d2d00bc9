use crate::Real;
use crate::error::{Error, Result, check_len};
use crate::operator::{DenseColMajor, DenseColMajorMut};

/// Cholesky factorisation `A = L Lᵀ` of a symmetric positive definite `n × n` matrix, in place.
///
/// Only the lower triangle of `a` is read; on success it holds `L` (the strict upper triangle is left as it
/// was). Left-looking, column by column, `n³/3` flops.
///
/// # Errors
/// [`Error::DimensionMismatch`] if `a` is not square; [`Error::NotPositiveDefinite`] at the first pivot that is
/// not positive (the matrix is then partly overwritten).
pub fn cholesky_in_place<T: Real>(a: &mut DenseColMajorMut<'_, T>) -> Result<()> {
    let n = a.nrows();
    check_len("matrix columns (square)", n, a.ncols())?;
    let ld = a.ld();
    let d = a.data_mut();
    for j in 0..n {
        // a[j.., j] -= L[j.., ..j] L[j, ..j]ᵀ
        for k in 0..j {
            let ljk = d[j + k * ld];
            if ljk != T::zero() {
                for i in j..n {
                    d[i + j * ld] = (-d[i + k * ld]) * ljk + d[i + j * ld];
                }
            }
        }
        let pivot = d[j + j * ld];
        if !(pivot.is_finite() && pivot > T::zero()) {
            return Err(Error::NotPositiveDefinite {
                pivot: j,
                value: pivot.to_f64_lossless(),
            });
        }
        let ljj = pivot.sqrt();
        d[j + j * ld] = ljj;
        for i in j + 1..n {
            d[i + j * ld] = d[i + j * ld] / ljj;
        }
    }
    Ok(())
}

/// Solves `L Lᵀ x = b` in place (`b ← x`) with the factor from [`cholesky_in_place`].
pub fn cholesky_solve<T: Real>(l: DenseColMajor<'_, T>, b: &mut [T]) -> Result<()> {
    use crate::operator::LinearOperator;
    let n = l.nrows();
    check_len("matrix columns (square)", n, l.ncols())?;
    check_len("right-hand side", n, b.len())?;
    // Forward: L z = b (column-oriented).
    for j in 0..n {
        b[j] = b[j] / l.get(j, j);
        let bj = b[j];
        let col = l.col(j);
        for i in j + 1..n {
            b[i] = (-col[i]) * bj + b[i];
        }
    }
    // Backward: Lᵀ x = z (row j of Lᵀ is column j of L).
    for j in (0..n).rev() {
        let col = l.col(j);
        let s = (j + 1..n).fold(b[j], |s, i| (-col[i]) * b[i] + s);
        b[j] = s / col[j];
    }
    Ok(())
}
