//! The design matrix as coordinate descent sees it: centred columns (when an intercept is fitted), their
//! squared norms, and column-wise products with the residual — dense or sparse behind one trait.

use std::borrow::Cow;

use ndarray::{ArrayView1, ArrayView2};

use crate::data::ColMajor;
use crate::{Error, Result};

/// The residual `r = y − ȳ − X_c w` of the centred problem, stored as `values − shift` so that a sparse
/// column update does not touch every row (centring a sparse column adds the same value to every entry).
#[derive(Debug, Clone)]
pub(crate) struct Residual {
    pub values: Vec<f64>,
    pub shift: f64,
}

impl Residual {
    /// The residual from `y` (already centred when an intercept is fitted) at `w = 0`.
    pub fn new(y: &[f64]) -> Self {
        Self {
            values: y.to_vec(),
            shift: 0.0,
        }
    }
    /// The residual vector itself.
    pub fn materialize(&self) -> Vec<f64> {
        self.values.iter().map(|v| v - self.shift).collect()
    }
}

/// Column access for coordinate descent. Columns are centred when the design was built with an intercept.
///
/// A [`Residual`] is whatever state makes `col_dot` cheap: the residual vector `r` for the dense and sparse
/// designs, the gradient `Xᵀr` for the Gram design.
pub(crate) trait Design: Sync {
    /// The state at `w = 0` for the (centred) response `y`.
    fn residual(&self, y: &[f64]) -> Residual {
        Residual::new(y)
    }
    /// The length of the state's vector: `n` (a residual), or `d` for the Gram design (a gradient).
    fn state_len(&self) -> usize {
        self.nrows()
    }
    /// The state of the zero response at `w = 0`: `col_axpy(k, −1, ·)` makes it column `k`'s, so that
    /// `col_dot(j, ·)` gives `X_jᵀX_k` (centred).
    fn zero_state(&self) -> Residual {
        Residual {
            values: vec![0.0; self.state_len()],
            shift: 0.0,
        }
    }
    /// `(‖r‖², rᵀy)` for the state `r` at coefficients `w`.
    fn stats(&self, r: &Residual, y: &[f64], _w: &[f64]) -> (f64, f64) {
        let rv = r.materialize();
        (
            rv.iter().map(|v| v * v).sum(),
            rv.iter().zip(y).map(|(a, b)| a * b).sum(),
        )
    }
    fn nrows(&self) -> usize;
    fn ncols(&self) -> usize;
    /// `‖X_j‖²` of the (centred) column.
    fn col_norm2(&self, j: usize) -> f64;
    /// `X_jᵀ r` for the (centred) column.
    fn col_dot(&self, j: usize, r: &Residual) -> f64;
    /// `r ← r − δ X_j`.
    fn col_axpy(&self, j: usize, delta: f64, r: &mut Residual);
    /// The column means that were removed (zeros without an intercept).
    fn means(&self) -> &[f64];
    /// The direction `u` along which columns and response are centred: `None` for the vector of ones
    /// (plain means); `√w` for a design whose rows were scaled by `√w` (weighted means, see
    /// [`SparseDesign::weighted`]).
    fn direction(&self) -> Option<&[f64]> {
        None
    }
}

/// A dense design in column-major storage, centred in place when an intercept is fitted.
pub(crate) struct DenseDesign {
    x: ColMajor,
    means: Vec<f64>,
    norms2: Vec<f64>,
}

impl DenseDesign {
    /// The column-major copy of `x` (refused up front, as [`Error::InvalidParameter`] `X`, when the copy
    /// would exceed [`MAX_BYTES`](crate::data::MAX_BYTES): a broadcast view of a huge shape, say),
    /// centred when `center`.
    pub fn new(x: ArrayView2<'_, f64>, center: bool) -> Result<Self> {
        let (rows, cols) = x.dim();
        crate::data::check_bytes(
            "X",
            rows as f64 * cols as f64 * 8.0,
            || format!("a copy of X ({rows} × {cols} values)"),
            "",
        )?;
        let mut x = ColMajor::from_array("X", x)?;
        let (n, d) = (x.nrows(), x.ncols());
        let mut means = vec![0.0; d];
        if center {
            for (j, m) in means.iter_mut().enumerate() {
                let col = x.col_mut(j);
                *m = col.iter().sum::<f64>() / n as f64;
                col.iter_mut().for_each(|v| *v -= *m);
            }
        }
        let norms2 = (0..d).map(|j| x.col(j).iter().map(|v| v * v).sum()).collect();
        Ok(Self { x, means, norms2 })
    }

    /// The (centred) column-major data, for solvers that work on whole-matrix products.
    pub fn matrix(&self) -> &ColMajor {
        &self.x
    }

    /// The Gram design of the same data for the (centred) response `y`.
    pub fn gram(&self, y: &[f64]) -> GramDesign {
        let (n, d) = (self.x.nrows(), self.x.ncols());
        let xm = faer::MatRef::from_column_major_slice(self.x.data(), n, d);
        let mut g = vec![0.0; d * d];
        let gm = faer::MatMut::from_column_major_slice_mut(&mut g, d, d);
        faer::linalg::matmul::matmul(gm, faer::Accum::Replace, xm.transpose(), xm, 1.0, faer::Par::Seq);
        let xty = (0..d).map(|j| sparsimony_core::linalg::dot(self.x.col(j), y)).collect();
        GramDesign {
            n,
            gram: g,
            xty,
            yty: y.iter().map(|v| v * v).sum(),
            means: self.means.clone(),
        }
    }
}

impl GramDesign {
    /// The Gram design of target `t` of normal equations (no centring: the means are zero). The response is
    /// then implicit: pass an empty `y` to the solvers.
    pub(crate) fn from_normal(ne: &super::NormalEquations, t: usize) -> Self {
        let d = ne.n_features();
        Self {
            n: ne.n_samples().round() as usize,
            gram: (0..d * d).map(|k| ne.gram(k % d, k / d)).collect(),
            xty: (0..d).map(|j| ne.cross(j, t)).collect(),
            yty: ne.y_sq(t),
            means: vec![0.0; d],
        }
    }
}

/// A design represented by its Gram matrix `G = XᵀX` (d × d, column-major), `Xᵀy` and `yᵀy`: coordinate
/// updates cost `O(d)` instead of `O(n)`, the right trade when `n ≫ d` (scikit-learn's `precompute`). The
/// state is the gradient `Xᵀr = Xᵀy − G w`; a Gram design is tied to the response it was built with.
pub(crate) struct GramDesign {
    n: usize,
    gram: Vec<f64>,
    xty: Vec<f64>,
    yty: f64,
    means: Vec<f64>,
}

impl Design for GramDesign {
    fn state_len(&self) -> usize {
        self.xty.len()
    }
    fn residual(&self, y: &[f64]) -> Residual {
        debug_assert!(
            y.is_empty() || y.len() == self.n,
            "a Gram design is used with the response it was built with (or none)"
        );
        Residual::new(&self.xty)
    }
    fn stats(&self, r: &Residual, _y: &[f64], w: &[f64]) -> (f64, f64) {
        // ‖r‖² = yᵀy − 2wᵀXᵀy + wᵀGw and wᵀGw = wᵀXᵀy − wᵀ(Xᵀr).
        let wxty: f64 = w.iter().zip(&self.xty).map(|(a, b)| a * b).sum();
        let wxtr: f64 = w.iter().zip(&r.values).map(|(a, b)| a * b).sum();
        ((self.yty - wxty - wxtr).max(0.0), self.yty - wxty)
    }
    fn nrows(&self) -> usize {
        self.n
    }
    fn ncols(&self) -> usize {
        self.xty.len()
    }
    fn col_norm2(&self, j: usize) -> f64 {
        self.gram[j * self.xty.len() + j]
    }
    fn col_dot(&self, j: usize, r: &Residual) -> f64 {
        r.values[j]
    }
    fn col_axpy(&self, j: usize, delta: f64, r: &mut Residual) {
        let d = self.xty.len();
        r.values
            .iter_mut()
            .zip(&self.gram[j * d..(j + 1) * d])
            .for_each(|(g, &gij)| *g -= delta * gij);
    }
    fn means(&self) -> &[f64] {
        &self.means
    }
}

impl Design for DenseDesign {
    fn nrows(&self) -> usize {
        self.x.nrows()
    }
    fn ncols(&self) -> usize {
        self.x.ncols()
    }
    fn col_norm2(&self, j: usize) -> f64 {
        self.norms2[j]
    }
    fn col_dot(&self, j: usize, r: &Residual) -> f64 {
        debug_assert_eq!(
            r.shift, 0.0,
            "dense columns are centred explicitly and never shift the residual"
        );
        sparsimony_core::linalg::dot(self.x.col(j), &r.values)
    }
    fn col_axpy(&self, j: usize, delta: f64, r: &mut Residual) {
        r.values
            .iter_mut()
            .zip(self.x.col(j))
            .for_each(|(ri, &xij)| *ri -= delta * xij);
    }
    fn means(&self) -> &[f64] {
        &self.means
    }
}

/// A sparse design in compressed-sparse-column form; centring is implicit (the column means are
/// subtracted through [`Residual::shift`]), so the matrix stays sparse. A CSC matrix is used in place; a
/// CSR one is converted once.
///
/// With sample weights `w` (summing to `n`), the rows are scaled by `u = √w` and centring is along `u`:
/// the centred column is `X̃_j − x̄_j u` with `x̄_j = uᵀX̃_j / uᵀu` the weighted mean of the original
/// column, and the residual is `values − shift·u`. This is scikit-learn's weighted centring, done
/// implicitly: the intercept needs no extra (unpenalised) column, on which coordinate descent would need
/// many epochs.
pub(crate) struct SparseDesign<'a> {
    nrows: usize,
    indptr: Cow<'a, [usize]>,
    indices: Cow<'a, [usize]>,
    data: Cow<'a, [f64]>,
    means: Vec<f64>,
    /// `X̃_jᵀu` (the column sums without weights).
    colsums: Vec<f64>,
    norms2: Vec<f64>,
    /// `u = √w` of a weighted design (`None`: all ones).
    direction: Option<Vec<f64>>,
}

impl<'a> SparseDesign<'a> {
    pub fn new(x: sprs::CsMatView<'a, f64>, center: bool) -> Result<Self> {
        let (n, d) = x.shape();
        let (indptr, indices, data) = if x.is_csc() {
            // Borrowed for the view's lifetime; an outer slice's offset pointers are rebased (a copy of
            // d + 1 values).
            let (indptr, indices, data) = x.into_raw_storage();
            let indptr = match indptr.first() {
                Some(&0) | None => Cow::Borrowed(indptr),
                Some(&start) => Cow::Owned(indptr.iter().map(|k| k - start).collect()),
            };
            (indptr, Cow::Borrowed(indices), Cow::Borrowed(data))
        } else {
            let (indptr, indices, data) = x.to_csc().into_raw_storage();
            (Cow::Owned(indptr), Cow::Owned(indices), Cow::Owned(data))
        };
        Self::from_parts((n, d), indptr, indices, data, center, None)
    }

    /// The design of `x` with its rows scaled by `√w` for the sample weights `w` (validated: finite,
    /// ≥ 0, not all zero; rescaled to sum `n`, as scikit-learn scales them), centred along `√w` when
    /// `center` (the weighted column means). Returns the design (a scaled copy of `x`) and `√w`, by
    /// which the response's rows must be scaled too.
    pub fn weighted(
        x: sprs::CsMatView<'_, f64>,
        center: bool,
        w: ArrayView1<'_, f64>,
    ) -> Result<(SparseDesign<'static>, Vec<f64>)> {
        let (n, d) = x.shape();
        if n == 0 || d == 0 {
            return Err(Error::Empty {
                what: "X",
                rows: n,
                cols: d,
            });
        }
        let root = root_weights(w, n)?;
        let csc = if x.is_csc() { x.to_owned() } else { x.to_csc() };
        let (indptr, indices, mut data) = csc.into_raw_storage();
        let start = indptr.first().copied().unwrap_or(0);
        let indptr: Vec<usize> = indptr.iter().map(|k| k - start).collect();
        let (indices, mut data) = (indices[start..].to_vec(), data.split_off(start));
        for (v, &i) in data.iter_mut().zip(&indices) {
            *v *= root[i];
        }
        let direction = center.then(|| root.clone());
        let design = SparseDesign::from_parts(
            (n, d),
            Cow::Owned(indptr),
            Cow::Owned(indices),
            Cow::Owned(data),
            center,
            direction,
        )?;
        Ok((design, root))
    }

    /// The design of CSC storage with pointers starting at 0, centred along `direction` (ones when
    /// `None`) when `center`.
    fn from_parts(
        (n, d): (usize, usize),
        indptr: Cow<'a, [usize]>,
        indices: Cow<'a, [usize]>,
        data: Cow<'a, [f64]>,
        center: bool,
        direction: Option<Vec<f64>>,
    ) -> Result<Self> {
        if n == 0 || d == 0 {
            return Err(Error::Empty {
                what: "X",
                rows: n,
                cols: d,
            });
        }
        let mut means = vec![0.0; d];
        let mut colsums = vec![0.0; d];
        let mut norms2 = vec![0.0; d];
        // uᵀu: n for the vector of ones.
        let total = direction.as_ref().map_or(n as f64, |u| u.iter().map(|v| v * v).sum());
        // One pass: the sums, and the data check (branch-free; a bad value is located only when there is one).
        let mut fine = true;
        for j in 0..d {
            let range = indptr[j]..indptr[j + 1];
            let vals = &data[range.clone()];
            let (s, ss, ok) = match &direction {
                None => vals.iter().fold((0.0, 0.0, true), |(s, ss, ok), &v| {
                    (s + v, ss + v * v, ok & crate::data::in_range(v))
                }),
                Some(u) => vals
                    .iter()
                    .zip(&indices[range])
                    .fold((0.0, 0.0, true), |(s, ss, ok), (&v, &i)| {
                        (s + u[i] * v, ss + v * v, ok & crate::data::in_range(v))
                    }),
            };
            fine &= ok;
            if center {
                means[j] = s / total;
                colsums[j] = s;
                norms2[j] = (ss - s * s / total).max(0.0);
            } else {
                norms2[j] = ss;
            }
        }
        if !fine {
            for col in 0..d {
                for k in indptr[col]..indptr[col + 1] {
                    crate::data::check_value("X", indices[k], col, data[k])?;
                }
            }
        }
        Ok(Self {
            nrows: n,
            indptr,
            indices,
            data,
            means,
            colsums,
            norms2,
            direction,
        })
    }
}

/// `√w` for sample weights `w` (one per row of `n`): finite, ≥ 0, not all zero, rescaled to sum `n`.
pub(crate) fn root_weights(w: ArrayView1<'_, f64>, n: usize) -> Result<Vec<f64>> {
    if w.len() != n {
        return Err(Error::Shape {
            what: "sample_weight (one per row of X)",
            expected: n,
            found: w.len(),
        });
    }
    let bad = |reason: String| Error::InvalidParameter {
        name: "sample_weight",
        reason,
    };
    if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(bad(format!("weight {i} is {}, must be finite and ≥ 0", w[i])));
    }
    // Divided by the largest first, so that tiny (even subnormal) weights rescale without overflow.
    let top = w.iter().fold(0.0f64, |a, &b| a.max(b));
    if top <= 0.0 {
        return Err(bad("the weights are all zero".into()));
    }
    let sum: f64 = w.iter().map(|v| v / top).sum();
    let scale = n as f64 / sum;
    Ok(w.iter().map(|v| (v / top * scale).sqrt()).collect())
}

/// `Σₖ values[k]·x[indices[k]]` in four interleaved partial sums (a fixed order), so that consecutive
/// gathers do not wait on one another's additions.
#[inline]
fn gather_dot(indices: &[usize], values: &[f64], x: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ic, vc) = (indices.chunks_exact(4), values.chunks_exact(4));
    let (ir, vr) = (ic.remainder(), vc.remainder());
    for (i, v) in ic.zip(vc) {
        for l in 0..4 {
            acc[l] += v[l] * x[i[l]];
        }
    }
    let tail: f64 = ir.iter().zip(vr).map(|(&i, &v)| v * x[i]).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

impl Design for SparseDesign<'_> {
    fn nrows(&self) -> usize {
        self.nrows
    }
    fn ncols(&self) -> usize {
        self.means.len()
    }
    fn col_norm2(&self, j: usize) -> f64 {
        self.norms2[j]
    }
    fn col_dot(&self, j: usize, r: &Residual) -> f64 {
        // (X_j − x̄_j 1)ᵀ(v − s 1) = X_jᵀ(v − s 1) − x̄_j Σ r, and Σ r = 0 for the centred problem.
        let range = self.indptr[j]..self.indptr[j + 1];
        gather_dot(&self.indices[range.clone()], &self.data[range], &r.values) - r.shift * self.colsums[j]
    }
    fn col_axpy(&self, j: usize, delta: f64, r: &mut Residual) {
        let range = self.indptr[j]..self.indptr[j + 1];
        for (&i, &v) in self.indices[range.clone()].iter().zip(&self.data[range]) {
            r.values[i] -= delta * v;
        }
        // r − δ(X_j − x̄_j 1) = (v − δX_j) − (s − δ x̄_j).
        r.shift -= delta * self.means[j];
    }
    fn means(&self) -> &[f64] {
        &self.means
    }
    fn direction(&self) -> Option<&[f64]> {
        self.direction.as_deref()
    }
    fn stats(&self, r: &Residual, y: &[f64], _w: &[f64]) -> (f64, f64) {
        let at = |i: usize| r.values[i] - r.shift * self.direction.as_ref().map_or(1.0, |u| u[i]);
        (0..self.nrows).fold((0.0, 0.0), |(rr, ry), i| {
            let ri = at(i);
            (rr + ri * ri, ry + ri * y[i])
        })
    }
}
