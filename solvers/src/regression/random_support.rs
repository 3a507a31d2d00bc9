//! Sparse regression on arbitrary, possibly very ill-conditioned designs, for supports drawn at random —
//! after "Sparse Linear Regression is Easy on Random Supports" (Chandrasekaran, Meka & Stavropoulos,
//! arXiv 2511.06211, STOC 2026).
//!
//! The paper's two phases are kept — a preconditioner, a basis `B` with a small index set `I`, then the
//! partial Lasso on `Z = X Bᵀ` with no penalty on `I`, returning `ŵ = Bᵀû` — but its construction of the
//! preconditioner could not be read, so phase 1 here is designed from first principles:
//!
//! 1. **Why the Lasso fails.** Its prediction error has the fast rate `σ²k log d / N` only under
//!    restricted-eigenvalue conditions; on a design with nearly collinear columns, signal that lies along the
//!    near-null directions needs coefficients of size `signal/σᵢ` (σᵢ the small singular value) and the ℓ1
//!    penalty refuses to pay for them, so the error falls back to the slow rate `λ‖w*‖₁`.
//! 2. **Phase 1: make every direction affordable.** With the columns scaled to norm `√N`, the thin SVD
//!    `X̄ = U Σ Vᵀ` gives the directions `vᵢ` (numerically null ones, which carry no signal, are dropped).
//!    Each becomes one extra, normalised feature `√N·uᵢ = √N·X̄vᵢ/σᵢ`, so the dictionary is
//!    `Z = [X̄, √N U] = X̄ Bᵀ` with `Bᵀ = [I, V diag(√N/σᵢ)]`: representing signal along an ill-conditioned
//!    direction now costs the penalty a coefficient of the signal's own size, not `1/σᵢ` times it. (An
//!    option keeps only `σᵢ < τ·median(σ)`; in the experiments of the example, restricting to the smallest
//!    directions missed near-collinear groups of moderate conditioning, where the Lasso still cannot afford
//!    coefficients of size `1/δ`, so the default adds them all.)
//!    A Lasso on `Z` (α by cross-validation, the one-standard-error choice, to stay conservative) picks which
//!    bad directions carry signal: that set is `I`. It is small when the support is random, since only the
//!    few near-collinear groups that the support hits twice put signal there.
//! 3. **Phase 2: the partial Lasso** on `Z` with no penalty on `I` (α by cross-validation), mapped back,
//!    `ŵ = D⁻¹ Bᵀ û` with `D` the column scaling. Then a refit in the original coordinates, where `w*` is
//!    sparse: forward selection among the columns `ŵ` touches, least squares at each step (Householder QR,
//!    which resolves condition numbers the normal equations would square away), keeping the model of
//!    smallest BIC — removing the ℓ1 shrinkage and the false positives that cross-validation lets in.
//!
//! The example `random_support` measures the prediction error `(1/N)‖X(w* − ŵ)‖²` against the oracle least
//! squares on the true support and against the Lasso, over `(N, d, k, condition number)`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ShapeBuilder};

use super::design::{DenseDesign, Design};

use sparsimony_core::Report;

use super::ElasticNet;
use super::fit::LinearFit;
use super::path::CrossValidation;
use crate::data::check_vector;
use crate::{Error, Estimator, Fitted, Result, Score};

/// The random-support estimator; see the [module docs](self).
#[derive(Debug, Clone, PartialEq)]
pub struct RandomSupport {
    /// `τ`: only directions with singular value below `τ·median(σ)` are added (default `∞`: every non-null
    /// direction; see the module docs for why).
    pub rel_threshold: f64,
    /// Cap on the number of directions added, the smallest singular values first (default: no cap).
    pub max_directions: Option<usize>,
    /// The cross-validation choosing α in both Lasso stages (its `model` is replaced by the stages' Lassos;
    /// its folds, grid, progress and backend are used — the second stage, whose penalty weights the GPU
    /// path does not take, always on the CPU).
    pub cv: CrossValidation,
    /// Refit by BIC-pruned forward selection among the original columns the partial Lasso touched
    /// (recommended: the ℓ1 shrinkage and the cross-validated false positives otherwise stay).
    pub refit: bool,
    /// Fit an intercept.
    pub fit_intercept: bool,
}

impl Default for RandomSupport {
    fn default() -> Self {
        Self {
            rel_threshold: f64::INFINITY,
            max_directions: None,
            cv: CrossValidation {
                n_alphas: 50,
                ..CrossValidation::default()
            },
            refit: true,
            fit_intercept: true,
        }
    }
}

/// A fitted random-support estimator.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomSupportFit {
    /// The model in the original feature scale: `ŵ`, the intercept, the data term `1/(2n)‖y − Xŵ − b‖²` as
    /// the objective, and the report of the Lasso stages taken together ([`Report::combine`]).
    pub fit: LinearFit,
    /// Ill-conditioned directions found in phase 1 (columns added to the dictionary).
    pub directions: usize,
    /// The unpenalised set `I` (indices among the added directions).
    pub unpenalized: Vec<usize>,
    /// α of the partial Lasso, chosen by cross-validation.
    pub alpha: f64,
    /// `σ_max/σ_min` of the column-normalised design (over the non-null singular values).
    pub condition_number: f64,
    /// Fits of the two cross-validations' paths that stopped at their iteration cap (kept, as
    /// [`CvFit::unconverged`](super::path::CvFit::unconverged) describes).
    pub unconverged_path_fits: usize,
}

impl RandomSupportFit {
    /// Predictions `X ŵ + b` (see [`LinearFit::predict`]).
    ///
    /// # Errors
    /// As [`LinearFit::predict`].
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        self.fit.predict(x)
    }
}

impl Fitted for RandomSupportFit {
    /// The stages' reports combined.
    fn report(&self) -> &Report {
        &self.fit.report
    }
}

impl<'a> Score<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for RandomSupportFit {
    /// `R²` on `(X, y)` of the final fit (see [`LinearFit`]'s).
    fn score(&self, data: (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<f64> {
        self.fit.score(data)
    }
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for RandomSupport {
    type Fitted = RandomSupportFit;

    /// Fits `X` (`N × d`, samples in rows) to `y`.
    ///
    /// # Errors
    /// Shape and finiteness errors; a non-positive `rel_threshold`; a numerically zero design; the
    /// cross-validation's errors.
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<RandomSupportFit> {
        if self.rel_threshold.is_nan() || self.rel_threshold <= 0.0 {
            return Err(Error::InvalidParameter {
                name: "rel_threshold",
                reason: format!("must be > 0, got {}", self.rel_threshold),
            });
        }
        // Centre (with an intercept) and scale the columns to norm √N (zero columns keep scale 1 and stay zero).
        let design = DenseDesign::new(x, self.fit_intercept)?;
        let (n, d) = (design.nrows(), design.ncols());
        let yv = check_vector("y (one value per row of X)", y, n)?;
        let means = Array1::from(design.means().to_vec());
        let scale: Array1<f64> = (0..d)
            .map(|j| {
                let s = (design.col_norm2(j) / n as f64).sqrt();
                if s > 0.0 { s } else { 1.0 }
            })
            .collect();
        let cm: Vec<f64> = (0..d)
            .flat_map(|j| {
                let sj = scale[j];
                design.matrix().col(j).iter().map(move |v| v / sj)
            })
            .collect();
        // X̄ in column-major order: faer reads its memory directly.
        let xs = Array2::from_shape_vec((n, d).f(), cm).expect("n·d values");
        let y_mean = if self.fit_intercept {
            yv.iter().sum::<f64>() / n as f64
        } else {
            0.0
        };
        let yc = Array1::from(yv) - y_mean;

        // Phase 1: the ill-conditioned directions of X̄.
        let svd = faer::MatRef::from_column_major_slice(xs.as_slice_memory_order().expect("contiguous"), n, d)
            .thin_svd()
            .map_err(|_| Error::Decomposition {
                what: "X",
                decomposition: "singular value decomposition",
                remedy: "rescale its columns".into(),
            })?;
        let r = n.min(d);
        let s: Vec<f64> = (0..r).map(|i| svd.S().column_vector()[i]).collect();
        let s_max = s.iter().copied().fold(0.0, f64::max);
        let null = s_max * f64::EPSILON * n.max(d) as f64;
        let mut nonnull: Vec<f64> = s.iter().copied().filter(|&v| v > null).collect();
        nonnull.sort_by(f64::total_cmp);
        if nonnull.is_empty() {
            return Err(Error::InvalidParameter {
                name: "X",
                reason: "the design is numerically zero".into(),
            });
        }
        let median = nonnull[nonnull.len() / 2];
        let condition_number = s_max / nonnull[0];
        let mut bad: Vec<usize> = (0..r)
            .filter(|&i| s[i] > null && s[i] < self.rel_threshold * median)
            .collect();
        bad.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
        bad.truncate(self.max_directions.unwrap_or(r));
        let m = bad.len();

        // The dictionary Z = [X̄, √N U_bad].
        let mut z = Array2::zeros((n, d + m));
        z.slice_mut(ndarray::s![.., ..d]).assign(&xs);
        for (t, &i) in bad.iter().enumerate() {
            for row in 0..n {
                z[[row, d + t]] = svd.U()[(row, i)] * (n as f64).sqrt();
            }
        }
        // Lasso on Z: which bad directions carry signal (I).
        let base = ElasticNet {
            fit_intercept: false,
            tol: 1e-4,
            max_iter: 100_000,
            ..ElasticNet::default()
        };
        let cv_of = |model: &ElasticNet| CrossValidation {
            model: model.clone(),
            ..self.cv.clone()
        };
        let stage_a = cv_of(&base).fit((z.view(), yc.view()))?;
        // The one-standard-error α keeps I to the directions that clearly carry signal.
        let conservative = ElasticNet {
            alpha: stage_a.alpha_1se,
            ..base.clone()
        }
        .fit((z.view(), yc.view()))?;
        let unpenalized: Vec<usize> = (0..m).filter(|&t| conservative.coef[d + t] != 0.0).collect();
        // Phase 2: the partial Lasso, no penalty on I.
        let mut weights = vec![1.0; d + m];
        unpenalized.iter().for_each(|&t| weights[d + t] = 0.0);
        let partial = ElasticNet {
            penalty_weights: Some(weights),
            ..base
        };
        let stage_b = if unpenalized.is_empty() {
            stage_a.clone()
        } else {
            CrossValidation {
                backend: crate::Backend::Cpu,
                ..cv_of(&partial)
            }
            .fit((z.view(), yc.view()))?
        };
        let u = &stage_b.fit.coef;
        // ŵ = D⁻¹ (u + V_bad diag(√N/σ) t), first in the scaled coordinates.
        let mut w_bar = u.slice(ndarray::s![..d]).to_owned();
        for (t, &i) in bad.iter().enumerate() {
            let c = u[d + t] * (n as f64).sqrt() / s[i];
            if c != 0.0 {
                for j in 0..d {
                    w_bar[j] += c * svd.V()[(j, i)];
                }
            }
        }
        if self.refit {
            // w* is sparse in the original coordinates: select among the columns the partial Lasso touched.
            let top = w_bar.iter().fold(0.0f64, |mx, v| mx.max(v.abs()));
            let candidates: Vec<usize> = (0..d).filter(|&j| w_bar[j].abs() > 1e-12 * top).collect();
            w_bar.fill(0.0);
            if let Some((support, coef)) = bic_forward_selection(&xs, &yc, &candidates)? {
                support.iter().zip(coef).for_each(|(&j, c)| w_bar[j] = c);
            }
        }
        let coef = w_bar / &scale;
        let intercept = y_mean - means.dot(&coef);
        let resid = x.dot(&coef) + intercept - y;
        // `combine` of a non-empty list is never `None`.
        let report = Report::combine([stage_a.fit.report, conservative.report, stage_b.fit.report])
            .unwrap_or(stage_b.fit.report);
        Ok(RandomSupportFit {
            fit: LinearFit {
                objective: resid.dot(&resid) / (2.0 * n as f64),
                coef,
                intercept,
                report,
            },
            unconverged_path_fits: stage_a.unconverged().len()
                + if unpenalized.is_empty() {
                    0
                } else {
                    stage_b.unconverged().len()
                },
            directions: m,
            unpenalized,
            alpha: stage_b.alpha,
            condition_number,
        })
    }
}

/// A support and its least-squares coefficients.
type Selection = (Vec<usize>, Vec<f64>);

/// Forward selection (orthogonal matching pursuit) among `candidates`, refitting least squares at each step,
/// and the model with the smallest BIC, `N ln(RSS/N) + |S| ln N`. Columns that would make the fit rank
/// deficient are skipped. `None` when the empty model is best.
fn bic_forward_selection(z: &Array2<f64>, y: &Array1<f64>, candidates: &[usize]) -> Result<Option<Selection>> {
    use sparsimony_core::linalg::qr_least_squares;
    use sparsimony_core::operator::DenseColMajorMut;
    let n = z.nrows();
    let nf = n as f64;
    let bic = |rss: f64, k: usize| nf * (rss.max(f64::MIN_POSITIVE) / nf).ln() + k as f64 * nf.ln();
    let mut best: (f64, Option<Selection>) = (bic(y.dot(y), 0), None);
    let mut left: Vec<usize> = candidates.to_vec();
    let mut sel: Vec<usize> = Vec::new();
    let mut r = y.clone();
    while !left.is_empty() && sel.len() < n / 2 {
        let (pos, _) = left
            .iter()
            .enumerate()
            .map(|(p, &j)| {
                let col = z.column(j);
                (p, col.dot(&r).abs() / col.dot(&col).sqrt().max(f64::MIN_POSITIVE))
            })
            .fold((0, -1.0), |b, c| if c.1 > b.1 { c } else { b });
        let j = left.swap_remove(pos);
        sel.push(j);
        let k = sel.len();
        let mut a: Vec<f64> = sel.iter().flat_map(|&c| z.column(c).to_vec()).collect();
        let mut b = y.to_vec();
        let mut tau = vec![0.0; k];
        match qr_least_squares(&mut DenseColMajorMut::new(&mut a, n, k)?, &mut b, &mut tau) {
            Ok(res) => {
                let coef = b[..k].to_vec();
                let crit = bic(res * res, k);
                if crit < best.0 {
                    best = (crit, Some((sel.clone(), coef.clone())));
                }
                r = y.clone();
                for (&c, &v) in sel.iter().zip(&coef) {
                    r.scaled_add(-v, &z.column(c));
                }
            }
            Err(sparsimony_core::Error::RankDeficient { .. }) => {
                sel.pop();
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(best.1)
}
