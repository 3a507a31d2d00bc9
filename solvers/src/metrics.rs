//! Scores of fitted models, as scikit-learn computes them.

use ndarray::ArrayView1;

/// scikit-learn's `r2_score` (with `force_finite`): `R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²`; for a constant `y`,
/// 1 when predicted exactly and 0 otherwise. `y` and `pred` must have the same length (extra entries of
/// the longer one are ignored).
pub fn r2_score(y: ArrayView1<'_, f64>, pred: ArrayView1<'_, f64>) -> f64 {
    R2Sums::of(y, pred).r2()
}

/// The sums behind one R², over a run of samples: the count, the target's mean and centred sum of squares,
/// and the residual sum of squares. Blocks of a long series are summed separately ([`R2Sums::of`], two
/// passes over the block) and merged in order ([`R2Sums::merge`], Chan, Golub & LeVeque's pairwise
/// update), so R² is computed as data stream past without cancellation and without holding the series.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct R2Sums {
    n: usize,
    mean: f64,
    centred: f64,
    residual: f64,
}

impl R2Sums {
    /// The sums of one block (`pred` paired with `y` up to the shorter length; the mean over all of `y`).
    pub(crate) fn of(y: ArrayView1<'_, f64>, pred: ArrayView1<'_, f64>) -> Self {
        let n = y.len();
        let (y, pred) = (contiguous(y), contiguous(pred));
        let mean = if n == 0 { 0.0 } else { lanes(&y, |a| a) / n as f64 };
        let paired = n.min(pred.len());
        let centred = lanes(&y, |a| (a - mean) * (a - mean));
        let residual = lanes2(&y[..paired], &pred[..paired], |a, b| (a - b) * (a - b));
        Self {
            n,
            mean,
            centred,
            residual,
        }
    }

    /// The sums of this run followed by `next`.
    pub(crate) fn merge(self, next: Self) -> Self {
        if self.n == 0 {
            return next;
        }
        if next.n == 0 {
            return self;
        }
        let (a, b) = (self.n as f64, next.n as f64);
        let n = a + b;
        let delta = next.mean - self.mean;
        Self {
            n: self.n + next.n,
            mean: self.mean + delta * (b / n),
            centred: self.centred + next.centred + delta * delta * (a * b / n),
            residual: self.residual + next.residual,
        }
    }

    /// R² with scikit-learn's `force_finite` convention (see [`r2_score`]).
    pub(crate) fn r2(&self) -> f64 {
        match (self.centred > 0.0, self.residual > 0.0) {
            (true, _) => 1.0 - self.residual / self.centred,
            (false, false) => 1.0,
            (false, true) => 0.0,
        }
    }
}

/// The values of `v` as one slice (borrowed when they already are one).
fn contiguous<'a>(v: ArrayView1<'a, f64>) -> std::borrow::Cow<'a, [f64]> {
    match v.to_slice() {
        Some(s) => s.into(),
        None => v.to_vec().into(),
    }
}

/// `Σ f(aᵢ)` in four interleaved partial sums (vectorised; their order is fixed, so the result is too).
fn lanes(a: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0; 4];
    let chunks = a.chunks_exact(4);
    let tail: f64 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for c in chunks {
        for (s, &x) in acc.iter_mut().zip(c) {
            *s += f(x);
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `Σ f(aᵢ, bᵢ)` over equally long `a` and `b`, as [`lanes`] does.
fn lanes2(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(&x, &y)| f(x, y)).sum();
    for (xa, xb) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(xa).zip(xb) {
            *s += f(x, y);
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use ndarray::Array1;

    use super::*;

    /// Merged block sums equal the two-pass sums over the whole series (to rounding), for uneven blocks.
    #[test]
    fn merged_blocks_equal_the_whole() {
        let y = Array1::from_iter((0..1000).map(|i| 1e6 + (i as f64 * 0.37).sin()));
        let pred = Array1::from_iter(y.iter().enumerate().map(|(i, v)| v + 1e-3 * (i as f64).cos()));
        let whole = R2Sums::of(y.view(), pred.view());
        let mut merged = R2Sums::default();
        for (a, b) in [(0, 1), (1, 300), (300, 301), (301, 1000)] {
            let s = ndarray::s![a..b];
            merged = merged.merge(R2Sums::of(y.slice(s), pred.slice(s)));
        }
        assert_eq!(merged.n, whole.n);
        assert!((merged.mean - whole.mean).abs() < 1e-9);
        assert!((merged.centred - whole.centred).abs() < 1e-9 * whole.centred);
        assert!((merged.residual - whole.residual).abs() < 1e-12 * whole.residual);
        assert!((merged.r2() - whole.r2()).abs() < 1e-12);
        // A constant target: 1 when predicted exactly, 0 otherwise, merged or not.
        let c = Array1::from_elem(10, 2.0);
        let parts = |p: &Array1<f64>| {
            R2Sums::of(c.slice(ndarray::s![..4]), p.slice(ndarray::s![..4]))
                .merge(R2Sums::of(c.slice(ndarray::s![4..]), p.slice(ndarray::s![4..])))
        };
        assert_eq!(parts(&c).r2(), 1.0);
        assert_eq!(parts(&Array1::from_elem(10, 2.5)).r2(), 0.0);
    }
}
