//! Normal equations of a multi-output least-squares problem, accumulated block by block so that a tall
//! design (a SINDy library over millions of samples) never has to exist as one matrix.
//!
//! For a design `Θ` (`n × p`, samples in rows) and targets `Y` (`n × m`) they hold the Gram matrix `ΘᵀΘ`,
//! the cross products `ΘᵀY` and the squared norms `‖y_t‖²` — everything least squares, ridge, STLSQ and SR3
//! need, in `O(p² + pm)` memory. Solves equilibrate the Gram matrix (unit diagonal) before the Cholesky
//! factorisation: the error is then governed by the condition number of the *column-normalised* design,
//! squared, which for polynomial SINDy libraries is 10²–10⁶ where the raw one can be 10⁸ or more.

use ndarray::ArrayView2;
use sparsimony_core::linalg::{cholesky_in_place, cholesky_solve};
use sparsimony_core::operator::DenseColMajorMut;

use crate::data::{ColMajor, check_holds};
use crate::{Error, Result};

impl crate::distributed::Part for NormalEquations {
    fn encode(&self, out: &mut Vec<f64>) {
        out.extend([self.p as f64, self.m as f64, self.n_samples]);
        out.extend_from_slice(&self.gram);
        out.extend_from_slice(&self.cross);
        out.extend_from_slice(&self.y_sq);
    }
    fn decode(values: &[f64]) -> Result<Self> {
        let garbled = || crate::distributed::garbled("normal equations");
        let [p, m, n_samples, rest @ ..] = values else {
            return Err(garbled());
        };
        let (p, m) = (*p as usize, *m as usize);
        if rest.len() != p * p + p * m + m {
            return Err(garbled());
        }
        let (gram, rest) = rest.split_at(p * p);
        let (cross, y_sq) = rest.split_at(p * m);
        Ok(Self {
            p,
            m,
            n_samples: *n_samples,
            gram: gram.to_vec(),
            cross: cross.to_vec(),
            y_sq: y_sq.to_vec(),
        })
    }
}

/// `ΘᵀΘ`, `ΘᵀY`, `‖y_t‖²` and the sample count of a least-squares problem with `p` features and `m` targets.
/// Matrices are column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalEquations {
    p: usize,
    m: usize,
    n_samples: f64,
    gram: Vec<f64>,
    cross: Vec<f64>,
    y_sq: Vec<f64>,
}

impl NormalEquations {
    /// Empty (all-zero) normal equations for `p` features and `m` targets, ready to [`accumulate`](Self::accumulate).
    pub fn zeros(p: usize, m: usize) -> Self {
        Self {
            p,
            m,
            n_samples: 0.0,
            gram: vec![0.0; p * p],
            cross: vec![0.0; p * m],
            y_sq: vec![0.0; m],
        }
    }

    /// Normal equations from their parts: `gram` (`p × p` column-major, `ΘᵀΘ`), `cross` (`p × m`
    /// column-major, `ΘᵀY`), `y_sq` (`‖y_t‖²`, `m` values) over `n_samples` samples (for Gram matrices
    /// computed elsewhere, e.g. on a GPU).
    ///
    /// # Errors
    /// [`Error::Shape`] for wrong lengths, [`Error::NonFinite`].
    pub fn from_parts(
        p: usize,
        m: usize,
        n_samples: f64,
        gram: Vec<f64>,
        cross: Vec<f64>,
        y_sq: Vec<f64>,
    ) -> Result<Self> {
        for (what, expected, found) in [
            ("gram (p · p)", p * p, gram.len()),
            ("cross (p · m)", p * m, cross.len()),
            ("y_sq (m)", m, y_sq.len()),
        ] {
            if expected != found {
                return Err(Error::Shape { what, expected, found });
            }
        }
        for (what, v) in [("gram", &gram), ("cross", &cross), ("y_sq", &y_sq)] {
            if let Some(row) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite { what, row, col: 0 });
            }
        }
        Ok(Self {
            p,
            m,
            n_samples,
            gram,
            cross,
            y_sq,
        })
    }

    /// The normal equations of `X` (`n × p`) and `Y` (`n × m`), checked for shape and finiteness.
    ///
    /// # Errors
    /// [`Error::Shape`] when the row counts differ, [`Error::Empty`] for no rows, [`Error::NonFinite`].
    pub fn from_arrays(x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Result<Self> {
        if x.nrows() != y.nrows() {
            return Err(Error::Shape {
                what: "rows of Y (one per row of X)",
                expected: x.nrows(),
                found: y.nrows(),
            });
        }
        let (xc, yc) = (ColMajor::from_array("X", x)?, ColMajor::from_array("Y", y)?);
        let mut ne = Self::zeros(x.ncols(), y.ncols());
        ne.accumulate(x.nrows(), xc.data(), yc.data(), None)?;
        Ok(ne)
    }

    /// Adds a block of `rows` rows, `theta` (`rows × p`) and `y` (`rows × m`) column-major:
    /// `ΘᵀΘ += Θ_bᵀ W Θ_b`, `ΘᵀY += Θ_bᵀ W Y_b`, with `W` the diagonal of `weights`
    /// (one per row; `None` for ones — bootstrap counts are the intended use). Inputs are not checked for
    /// finiteness here. Sums run in a fixed order (four lanes per product), so results do not depend on the
    /// machine.
    ///
    /// # Errors
    /// [`Error::Shape`] when `theta` holds fewer than `rows · p` values, `y` fewer than `rows · m`, or
    /// `weights` not one per row; nothing is added then.
    pub fn accumulate(&mut self, rows: usize, theta: &[f64], y: &[f64], weights: Option<&[f64]>) -> Result<()> {
        let (p, m) = (self.p, self.m);
        check_holds("values of the block's Θ (rows × features)", rows * p, theta.len())?;
        check_holds("values of the block's Y (rows × targets)", rows * m, y.len())?;
        if let Some(w) = weights
            && w.len() != rows
        {
            return Err(Error::Shape {
                what: "weights (one per row of the block)",
                expected: rows,
                found: w.len(),
            });
        }
        let (th, yy) = (&theta[..rows * p], &y[..rows * m]);
        let (wth, wy) = match weights {
            None => {
                self.n_samples += rows as f64;
                (None, None)
            }
            Some(w) => {
                self.n_samples += w.iter().sum::<f64>();
                let scale = |v: &[f64], k: usize| -> Vec<f64> {
                    (0..k)
                        .flat_map(|j| column(v, j, rows).iter().zip(w).map(|(a, b)| a * b))
                        .collect()
                };
                (Some(scale(th, p)), Some(scale(yy, m)))
            }
        };
        let block = Block {
            rows,
            p,
            m,
            theta: th,
            y: yy,
            left_theta: wth.as_deref().unwrap_or(th),
            left_y: wy.as_deref().unwrap_or(yy),
        };
        crate::simd::dispatch(
            #[inline(always)]
            || block.add_to(&mut self.gram, &mut self.cross, &mut self.y_sq),
        );
        Ok(())
    }

    /// Adds another set of normal equations of the same sizes (the rows of both problems together).
    ///
    /// # Errors
    /// [`Error::Shape`] when the feature or target counts differ; nothing is added then.
    pub fn add(&mut self, other: &Self) -> Result<()> {
        for (what, expected, found) in [
            ("features of the added equations", self.p, other.p),
            ("targets of the added equations", self.m, other.m),
        ] {
            if expected != found {
                return Err(Error::Shape { what, expected, found });
            }
        }
        self.n_samples += other.n_samples;
        self.gram.iter_mut().zip(&other.gram).for_each(|(a, b)| *a += b);
        self.cross.iter_mut().zip(&other.cross).for_each(|(a, b)| *a += b);
        self.y_sq.iter_mut().zip(&other.y_sq).for_each(|(a, b)| *a += b);
        Ok(())
    }

    /// The normal equations of the problem restricted to the features in `features` (in that order).
    pub fn restrict(&self, features: &[usize]) -> Self {
        let k = features.len();
        let mut out = Self::zeros(k, self.m);
        out.n_samples = self.n_samples;
        for (b, &jb) in features.iter().enumerate() {
            for (a, &ja) in features.iter().enumerate() {
                out.gram[a + b * k] = self.gram(ja, jb);
            }
            for t in 0..self.m {
                out.cross[b + t * k] = self.cross(jb, t);
            }
        }
        out.y_sq.clone_from(&self.y_sq);
        out
    }

    /// The normal equations of the design with unit-norm columns (`θ_j/‖θ_j‖`; zero columns kept), and the
    /// norms: coefficients `v` of the scaled problem are `w_j = v_j/‖θ_j‖` in the original one.
    pub fn normalized(&self) -> (Self, Vec<f64>) {
        let norms: Vec<f64> = self
            .column_norms()
            .into_iter()
            .map(|v| if v > 0.0 { v } else { 1.0 })
            .collect();
        let mut out = self.clone();
        for b in 0..self.p {
            for a in 0..self.p {
                out.gram[a + b * self.p] /= norms[a] * norms[b];
            }
            for t in 0..self.m {
                out.cross[b + t * self.p] /= norms[b];
            }
        }
        (out, norms)
    }

    /// Number of features `p`.
    pub fn n_features(&self) -> usize {
        self.p
    }

    /// Number of targets `m`.
    pub fn n_targets(&self) -> usize {
        self.m
    }

    /// Number of samples (the sum of the weights).
    pub fn n_samples(&self) -> f64 {
        self.n_samples
    }

    /// `(ΘᵀΘ)[a, b]`.
    pub fn gram(&self, a: usize, b: usize) -> f64 {
        self.gram[a + b * self.p]
    }

    /// `(ΘᵀY)[j, t]`.
    pub fn cross(&self, j: usize, t: usize) -> f64 {
        self.cross[j + t * self.p]
    }

    /// `‖y_t‖²`.
    pub fn y_sq(&self, t: usize) -> f64 {
        self.y_sq[t]
    }

    /// Column norms `‖θ_j‖`.
    pub fn column_norms(&self) -> Vec<f64> {
        (0..self.p).map(|j| self.gram(j, j).sqrt()).collect()
    }

    /// `‖y_t − Θ w‖² = ‖y_t‖² − 2 wᵀΘᵀy_t + wᵀΘᵀΘw` for a full-length `w` (clamped at 0 against
    /// cancellation).
    pub fn residual_sq(&self, w: &[f64], t: usize) -> f64 {
        let mut quad = 0.0;
        let mut lin = 0.0;
        for (b, &wb) in w.iter().enumerate() {
            if wb == 0.0 {
                continue;
            }
            lin += wb * self.cross(b, t);
            quad += wb * w.iter().enumerate().map(|(a, &wa)| wa * self.gram(a, b)).sum::<f64>();
        }
        (self.y_sq[t] - 2.0 * lin + quad).max(0.0)
    }

    /// Minimises `‖y_t − Θ_S v‖² + ridge·‖v‖²` over the columns in `support` and returns the full-length
    /// coefficient vector (zero off the support). With `shift` given, solves `(Θ_SᵀΘ_S + ridge·I) v =
    /// Θ_Sᵀy_t + shift_S` instead (SR3's update).
    ///
    /// # Errors
    /// [`Error::Core`] with `NotPositiveDefinite` when `Θ_SᵀΘ_S + ridge·I` is numerically singular (a
    /// column that is zero or a combination of others, with `ridge = 0`).
    pub fn solve_on(&self, support: &[usize], t: usize, ridge: f64, shift: Option<&[f64]>) -> Result<Vec<f64>> {
        let k = support.len();
        let mut w = vec![0.0; self.p];
        if k == 0 {
            return Ok(w);
        }
        // Equilibrate: D = diag(G_SS)^(-1/2) (columns of zero norm keep scale 1), solve (D G D + ridge D²) z = D b.
        let scale: Vec<f64> = support
            .iter()
            .map(|&j| {
                let g = self.gram(j, j);
                if g > 0.0 { 1.0 / g.sqrt() } else { 1.0 }
            })
            .collect();
        let mut g = self.equilibrated_gram(support, ridge, &scale);
        let mut z: Vec<f64> = support
            .iter()
            .zip(&scale)
            .map(|(&j, s)| s * (self.cross(j, t) + shift.map_or(0.0, |v| v[j])))
            .collect();
        let mut m = DenseColMajorMut::new(&mut g, k, k)?;
        cholesky_in_place(&mut m)?;
        // A pivot far below the unit diagonal means the equilibrated Gram matrix is numerically singular.
        let l = m.as_ref();
        if let Some(pivot) = (0..k).find(|&a| l.get(a, a) < 1e-7) {
            return Err(Error::Core(sparsimony_core::Error::NotPositiveDefinite {
                pivot,
                value: l.get(pivot, pivot) * l.get(pivot, pivot),
            }));
        }
        cholesky_solve(l, &mut z)?;
        support
            .iter()
            .zip(z.iter().zip(&scale))
            .for_each(|(&j, (zj, s))| w[j] = zj * s);
        Ok(w)
    }

    /// The Cholesky factor of `D(Θ_SᵀΘ_S + ridge·I)D` on all features, `D` the equilibration, for repeated
    /// solves with different right-hand sides ([`Factored::solve`]).
    ///
    /// # Errors
    /// As [`NormalEquations::solve_on`].
    pub fn factor(&self, ridge: f64) -> Result<Factored> {
        let p = self.p;
        let scale: Vec<f64> = (0..p)
            .map(|j| {
                let g = self.gram(j, j) + ridge;
                if g > 0.0 { 1.0 / g.sqrt() } else { 1.0 }
            })
            .collect();
        let all: Vec<usize> = (0..p).collect();
        let mut l = self.equilibrated_gram(&all, ridge, &scale);
        cholesky_in_place(&mut DenseColMajorMut::new(&mut l, p, p)?)?;
        Ok(Factored { p, l, scale })
    }

    /// `D(Θ_SᵀΘ_S + ridge·I)D` on the columns `support` (`k × k`, column-major), `D = diag(scale)`: the
    /// equilibrated system of [`NormalEquations::solve_on`] and [`NormalEquations::factor`].
    fn equilibrated_gram(&self, support: &[usize], ridge: f64, scale: &[f64]) -> Vec<f64> {
        let k = support.len();
        let mut g = vec![0.0; k * k];
        for (b, &jb) in support.iter().enumerate() {
            for (a, &ja) in support.iter().enumerate() {
                g[a + b * k] = scale[a] * self.gram(ja, jb) * scale[b];
            }
            g[b + b * k] += ridge * scale[b] * scale[b];
        }
        g
    }
}

/// A factored, equilibrated `ΘᵀΘ + ridge·I` (from [`NormalEquations::factor`]).
#[derive(Debug, Clone)]
pub struct Factored {
    p: usize,
    l: Vec<f64>,
    scale: Vec<f64>,
}

impl Factored {
    /// Solves `(ΘᵀΘ + ridge·I) w = b` in place.
    ///
    /// # Errors
    /// A length mismatch of `b`.
    pub fn solve(&self, b: &mut [f64]) -> Result<()> {
        if b.len() != self.p {
            return Err(Error::Shape {
                what: "right-hand side",
                expected: self.p,
                found: b.len(),
            });
        }
        b.iter_mut().zip(&self.scale).for_each(|(v, s)| *v *= s);
        cholesky_solve(sparsimony_core::DenseColMajor::new(&self.l, self.p, self.p)?, b)?;
        b.iter_mut().zip(&self.scale).for_each(|(v, s)| *v *= s);
        Ok(())
    }
}

fn column(v: &[f64], j: usize, rows: usize) -> &[f64] {
    &v[j * rows..(j + 1) * rows]
}

/// One block of rows to add: `Θ` and `Y` column-major, and their row-weighted copies (`WΘ`, `WY`).
struct Block<'a> {
    rows: usize,
    p: usize,
    m: usize,
    theta: &'a [f64],
    y: &'a [f64],
    left_theta: &'a [f64],
    left_y: &'a [f64],
}

impl Block<'_> {
    /// `gram += (WΘ)ᵀΘ` (upper triangle computed, mirrored), `cross += (WΘ)ᵀY`, `y_sq += diag((WY)ᵀY)`:
    /// column `a` of `WΘ` against columns `a..p` of `Θ` and then the columns of `Y`, four partners per pass.
    #[inline(always)]
    fn add_to(&self, gram: &mut [f64], cross: &mut [f64], y_sq: &mut [f64]) {
        let (rows, p, m) = (self.rows, self.p, self.m);
        let mut partners: Vec<(&[f64], usize)> = Vec::with_capacity(p + m);
        for a in 0..p {
            partners.clear();
            partners.extend((a..p).map(|b| (column(self.theta, b, rows), b)));
            partners.extend((0..m).map(|t| (column(self.y, t, rows), p + t)));
            for group in partners.chunks(4) {
                let mut b = [column(self.theta, a, rows); 4];
                group.iter().enumerate().for_each(|(k, (c, _))| b[k] = c);
                let d = dots4(column(self.left_theta, a, rows), b);
                for (k, &(_, j)) in group.iter().enumerate() {
                    if j < p {
                        gram[a + j * p] += d[k];
                        if j != a {
                            gram[j + a * p] += d[k];
                        }
                    } else {
                        cross[a + (j - p) * p] += d[k];
                    }
                }
            }
        }
        for (t, v) in y_sq.iter_mut().enumerate().take(m) {
            *v += dots4(column(self.left_y, t, rows), [column(self.y, t, rows); 4])[0];
        }
    }
}

/// Four dot products `⟨a, bₖ⟩` in one pass over `a`, each summed in four interleaved lanes combined in a
/// fixed order (vectorisable, and the same result on every machine).
#[inline(always)]
fn dots4(a: &[f64], b: [&[f64]; 4]) -> [f64; 4] {
    let n = a.len();
    let mut acc = [[0.0f64; 4]; 4];
    let (a4, b0, b1, b2, b3) = (
        a.chunks_exact(4),
        b[0][..n].chunks_exact(4),
        b[1][..n].chunks_exact(4),
        b[2][..n].chunks_exact(4),
        b[3][..n].chunks_exact(4),
    );
    let split = n - a4.remainder().len();
    for ((((x, y0), y1), y2), y3) in a4.zip(b0).zip(b1).zip(b2).zip(b3) {
        for l in 0..4 {
            acc[0][l] += x[l] * y0[l];
            acc[1][l] += x[l] * y1[l];
            acc[2][l] += x[l] * y2[l];
            acc[3][l] += x[l] * y3[l];
        }
    }
    for i in split..n {
        for (k, bk) in b.iter().enumerate() {
            acc[k][i - split] += a[i] * bk[i];
        }
    }
    acc.map(|l| (l[0] + l[2]) + (l[1] + l[3]))
}
