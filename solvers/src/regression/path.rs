//! Regularisation paths and K-fold cross-validation for [`ElasticNet`], as scikit-learn's `enet_path`,
//! `LassoCV` and `ElasticNetCV` compute them.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use sparsimony_core::Report;

use super::design::{DenseDesign, Design, Residual, SparseDesign};
use super::fit::{predict_dense, predict_sparse};
use super::{AnyDesign, ElasticNet, LinearFit};
use crate::data::check_vector;
use crate::{Backend, Error, Estimator, Fitted, Progress, Result, Score};

/// The smallest `α` at which every (penalised) coefficient is zero:
/// `α_max = maxⱼ |X_cⱼᵀ y_c| / (n ρ pⱼ)` over the features with `pⱼ > 0` (centred when `fit_intercept`).
/// Needs `ρ > 0`.
pub fn alpha_max(model: &ElasticNet, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<f64> {
    let design = DenseDesign::new(x, model.fit_intercept)?;
    alpha_max_of(model, &design, y)
}

/// [`alpha_max`] for a sparse design (CSR or CSC).
pub fn alpha_max_sparse(model: &ElasticNet, x: sprs::CsMatView<'_, f64>, y: ArrayView1<'_, f64>) -> Result<f64> {
    alpha_max_of(model, &SparseDesign::new(x, model.fit_intercept)?, y)
}

fn alpha_max_of<D: Design>(model: &ElasticNet, x: &D, y: ArrayView1<'_, f64>) -> Result<f64> {
    let (n, d) = (x.nrows(), x.ncols());
    model.validate(d)?;
    if model.l1_ratio <= 0.0 {
        return Err(Error::InvalidParameter {
            name: "l1_ratio",
            reason: "a path needs l1_ratio > 0".into(),
        });
    }
    let (yc, _) = model.centred_response(y, n, x.direction())?;
    let r = Residual::new(&yc);
    let weights = model.penalty_weights.as_deref();
    let mut amax = 0.0f64;
    for j in 0..d {
        let p = weights.map_or(1.0, |w| w[j]);
        if p > 0.0 {
            let c = x.col_dot(j, &r);
            let c = if model.positive { c } else { c.abs() };
            amax = amax.max(c / (n as f64 * model.l1_ratio * p));
        }
    }
    Ok(amax)
}

/// `n_alphas` values from `alpha_max` down to `eps · alpha_max`, evenly spaced in log scale (scikit-learn's
/// grid: `geomspace(alpha_max, eps·alpha_max, n_alphas)`).
pub fn alpha_grid(alpha_max: f64, n_alphas: usize, eps: f64) -> Result<Vec<f64>> {
    if alpha_max == 0.0 {
        return Err(Error::InvalidParameter {
            name: "alpha",
            reason: "no α grid to cross-validate: α_max = ‖Xᵀ(y − ȳ)‖∞/n = 0, so every α gives w = 0 (y is \
                     constant, or every column of X is constant or orthogonal to y)"
                .into(),
        });
    }
    if n_alphas == 0 || !(eps > 0.0 && eps < 1.0) || !(alpha_max > 0.0 && alpha_max.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "alpha grid",
            reason: format!("need n_alphas ≥ 1, 0 < eps < 1, alpha_max > 0 (got {n_alphas}, {eps}, {alpha_max})"),
        });
    }
    if n_alphas == 1 {
        return Ok(vec![alpha_max]);
    }
    let (hi, lo) = (alpha_max.ln(), (alpha_max * eps).ln());
    Ok((0..n_alphas)
        .map(|k| (hi + (lo - hi) * k as f64 / (n_alphas - 1) as f64).exp())
        .collect())
}

/// The fits along a path of `α` values.
#[derive(Debug, Clone, PartialEq)]
pub struct PathFit {
    /// The `α` values, in the order fitted.
    pub alphas: Vec<f64>,
    /// Coefficients, one row per `α` (shape `(alphas.len(), d)`).
    pub coefs: Array2<f64>,
    /// Intercepts, one per `α`.
    pub intercepts: Vec<f64>,
    /// One report per `α` (judged by the duality gap). A fit that stops at its cap keeps its last iterate,
    /// which warm-starts the next `α`; the path goes on, as scikit-learn's does with a warning.
    pub reports: Vec<Report>,
}

/// Fits `model` (its `alpha` is ignored) at each of `alphas` in turn, each warm-started from the previous
/// solution. Give `alphas` in decreasing order for the warm starts to help.
pub fn path(model: &ElasticNet, x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>, alphas: &[f64]) -> Result<PathFit> {
    Data::Dense(x).path(model, y, alphas)
}

/// [`path`] for a sparse design (CSR or CSC).
pub fn path_sparse(
    model: &ElasticNet,
    x: sprs::CsMatView<'_, f64>,
    y: ArrayView1<'_, f64>,
    alphas: &[f64],
) -> Result<PathFit> {
    Data::Sparse(x).path(model, y, alphas)
}

/// [`alpha_max_sparse`] with sample weights `w` (see [`ElasticNet`]'s fit of weighted samples `(x, y, w)`).
///
/// # Errors
/// As [`alpha_max_sparse`]; invalid weights.
pub fn alpha_max_sparse_weighted(
    model: &ElasticNet,
    x: sprs::CsMatView<'_, f64>,
    y: ArrayView1<'_, f64>,
    w: ArrayView1<'_, f64>,
) -> Result<f64> {
    let (design, root) = SparseDesign::weighted(x, model.fit_intercept, w)?;
    let yw = super::scaled_response(y, &root)?;
    alpha_max_of(model, &design, yw.view())
}

/// [`path_sparse`] with sample weights `w` (see [`ElasticNet`]'s fit of weighted samples `(x, y, w)`): the intercept by
/// implicit centring on the weighted means, as scikit-learn's.
///
/// # Errors
/// As [`path_sparse`]; invalid weights.
pub fn path_sparse_weighted(
    model: &ElasticNet,
    x: sprs::CsMatView<'_, f64>,
    y: ArrayView1<'_, f64>,
    w: ArrayView1<'_, f64>,
    alphas: &[f64],
) -> Result<PathFit> {
    let (design, root) = SparseDesign::weighted(x, model.fit_intercept, w)?;
    let yw = super::scaled_response(y, &root)?;
    path_of(model, &AnyDesign::Sparse(design), yw.view(), alphas)
}

/// A design as the user holds it, dense or sparse, for the operations cross-validation needs.
enum Data<'a> {
    Dense(ArrayView2<'a, f64>),
    Sparse(sprs::CsMatView<'a, f64>),
}

/// The rows of a [`Data`], owned.
enum Rows {
    Dense(Array2<f64>),
    Sparse(sprs::CsMat<f64>),
}

impl Rows {
    fn data(&self) -> Data<'_> {
        match self {
            Rows::Dense(a) => Data::Dense(a.view()),
            Rows::Sparse(m) => Data::Sparse(m.view()),
        }
    }
}

impl Data<'_> {
    fn nrows(&self) -> usize {
        match self {
            Data::Dense(a) => a.nrows(),
            Data::Sparse(m) => m.rows(),
        }
    }

    fn rows(&self, idx: &[usize]) -> Rows {
        match self {
            Data::Dense(a) => Rows::Dense(a.select(Axis(0), idx)),
            Data::Sparse(m) => {
                let csr = if m.is_csr() { m.to_owned() } else { m.to_csr() };
                let (mut indptr, mut indices, mut values) = (vec![0], Vec::new(), Vec::new());
                for &i in idx {
                    if let Some(row) = csr.outer_view(i) {
                        indices.extend_from_slice(row.indices());
                        values.extend_from_slice(row.data());
                    }
                    indptr.push(indices.len());
                }
                Rows::Sparse(sprs::CsMat::new((idx.len(), csr.cols()), indptr, indices, values))
            }
        }
    }

    fn predict(&self, coef: ArrayView1<'_, f64>, intercept: f64) -> Array1<f64> {
        match self {
            Data::Dense(a) => predict_dense(*a, coef, intercept),
            Data::Sparse(m) => predict_sparse(*m, coef, intercept),
        }
    }

    fn alpha_max(&self, model: &ElasticNet, y: ArrayView1<'_, f64>) -> Result<f64> {
        match self {
            Data::Dense(a) => alpha_max(model, *a, y),
            Data::Sparse(m) => alpha_max_sparse(model, *m, y),
        }
    }

    fn path(&self, model: &ElasticNet, y: ArrayView1<'_, f64>, alphas: &[f64]) -> Result<PathFit> {
        let design = match self {
            Data::Dense(a) => model.prepare_dense(*a, y, alphas.len())?,
            Data::Sparse(m) => AnyDesign::Sparse(SparseDesign::new(*m, model.fit_intercept)?),
        };
        path_of(model, &design, y, alphas)
    }

    fn fit_model(&self, model: &ElasticNet, y: ArrayView1<'_, f64>) -> Result<LinearFit> {
        match self {
            Data::Dense(a) => model.fit((*a, y)),
            Data::Sparse(m) => model.fit((*m, y)),
        }
    }
}

fn path_of(model: &ElasticNet, design: &AnyDesign<'_>, y: ArrayView1<'_, f64>, alphas: &[f64]) -> Result<PathFit> {
    if alphas.is_empty() {
        return Err(Error::InvalidParameter {
            name: "alphas",
            reason: "empty".into(),
        });
    }
    let mut fits: Vec<LinearFit> = Vec::with_capacity(alphas.len());
    for &alpha in alphas {
        let m = ElasticNet { alpha, ..model.clone() };
        let start = fits.last().and_then(|f| f.coef.as_slice());
        let fit = m.fit_design(design, y, start)?;
        fits.push(fit);
    }
    let d = fits[0].coef.len();
    let mut coefs = Array2::zeros((alphas.len(), d));
    for (mut row, f) in coefs.axis_iter_mut(Axis(0)).zip(&fits) {
        row.assign(&f.coef);
    }
    Ok(PathFit {
        alphas: alphas.to_vec(),
        coefs,
        intercepts: fits.iter().map(|f| f.intercept).collect(),
        reports: fits.iter().map(|f| f.report).collect(),
    })
}

/// K-fold cross-validation of an [`ElasticNet`] over an `α` grid, as scikit-learn's `LassoCV` /
/// `ElasticNetCV` with `cv=KFold(folds)` (contiguous folds, no shuffling; the first `n mod folds` folds get
/// one extra sample), then a refit on all the data at the selected `α`.
///
/// The folds' paths run in parallel on the CPU, or — with [`Backend::Gpu`] — the whole grid of every fold
/// (`folds × alphas` problems) is solved as one `f32` batch of coordinate descent on each fold's centred
/// normal equations, which the CPU forms in `f64`; the held-out errors and the refit stay on the CPU in
/// `f64`. The GPU path takes at most 256 features, no penalty weights or positivity, and `α > 0`; the
/// model's `tol` is then the GPU's duality-gap tolerance (at least 1e-6 in `f32`).
#[derive(Debug, Clone, PartialEq)]
pub struct CrossValidation {
    /// The estimator cross-validated (its `alpha` is ignored: the grid replaces it).
    pub model: ElasticNet,
    /// Number of folds (≥ 2; default 5).
    pub folds: usize,
    /// Grid size when `alphas` is not given (default 100).
    pub n_alphas: usize,
    /// Grid ratio `α_min/α_max` when `alphas` is not given (default 1e-3).
    pub eps: f64,
    /// An explicit grid (used as given, in decreasing order).
    pub alphas: Option<Vec<f64>>,
    /// Where the folds' paths are solved (default the CPU).
    pub backend: Backend,
    /// Called as each fold's path completes (task `"cross-validation"`, `total` = folds; on the GPU one
    /// step for the whole batch).
    pub progress: Progress,
}

impl Default for CrossValidation {
    /// The Lasso, 5 folds, 100 values of `α` down to `1e-3 · α_max` (scikit-learn's defaults), on the CPU.
    fn default() -> Self {
        Self {
            model: ElasticNet::default(),
            folds: 5,
            n_alphas: 100,
            eps: 1e-3,
            alphas: None,
            backend: Backend::Cpu,
            progress: Progress::default(),
        }
    }
}

/// The outcome of a [`CrossValidation`] fit.
#[derive(Debug, Clone, PartialEq)]
pub struct CvFit {
    /// The selected `α` (smallest mean held-out error; the first on ties).
    pub alpha: f64,
    /// The "one-standard-error" `α` (Hastie, Tibshirani & Friedman): the largest `α` whose mean held-out
    /// error is within one standard error (over folds) of the minimum — a sparser, more conservative choice.
    pub alpha_1se: f64,
    /// The grid.
    pub alphas: Vec<f64>,
    /// Held-out mean squared error, shape `(alphas.len(), folds)`.
    pub mse_path: Array2<f64>,
    /// The report of each fold's fit at each `α`, shape `(alphas.len(), folds)`. Fits that stopped at their
    /// cap are kept (their held-out errors count), as scikit-learn keeps them with a warning; see
    /// [`CvFit::unconverged`].
    pub path_reports: Array2<Report>,
    /// The model refitted on all the data at the selected `α`.
    pub fit: LinearFit,
}

impl CvFit {
    /// The path fits that stopped at their iteration cap, as `(α index, fold, report)`.
    pub fn unconverged(&self) -> Vec<(usize, usize, Report)> {
        self.path_reports
            .indexed_iter()
            .filter(|(_, r)| !r.converged)
            .map(|((a, k), r)| (a, k, *r))
            .collect()
    }

    /// Predictions of the refitted model, `X w + b` (see [`LinearFit::predict`]).
    ///
    /// # Errors
    /// As [`LinearFit::predict`].
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        self.fit.predict(x)
    }
}

impl Fitted for CvFit {
    /// The refit's report (the path fits' are in [`CvFit::path_reports`]).
    fn report(&self) -> &Report {
        &self.fit.report
    }
}

impl<'a> Score<(sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>)> for CvFit {
    /// `R²` of the refitted model on a sparse `(X, y)`.
    fn score(&self, data: (sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>)) -> Result<f64> {
        self.fit.score(data)
    }
}

impl<'a> Score<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for CvFit {
    /// `R²` of the refitted model on `(X, y)` (see [`LinearFit`]'s).
    fn score(&self, data: (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<f64> {
        self.fit.score(data)
    }
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for CrossValidation {
    type Fitted = CvFit;

    /// Cross-validates the model on a dense design `X` (`n × d`, samples in rows) and `y`, then refits at
    /// the selected `α`.
    ///
    /// # Errors
    /// Shape and finiteness errors; invalid settings (folds outside `2..=n`, an empty grid); the model's
    /// errors; on the GPU, [`Error::InvalidParameter`] for what the GPU path does not take (see the type's
    /// docs) and [`Error::Gpu`] for the device's errors.
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<CvFit> {
        match &self.backend {
            Backend::Cpu => self.fit_data(Data::Dense(x), y),
            #[cfg(feature = "gpu")]
            Backend::Gpu(ctx) => self.fit_gpu(ctx, x, y),
        }
    }
}

impl<'a> Estimator<(sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>)> for CrossValidation {
    type Fitted = CvFit;

    /// The fit for a sparse design (CSR or CSC); the matrix stays sparse throughout, on the CPU.
    ///
    /// # Errors
    /// As for dense designs; [`Error::InvalidParameter`] with a GPU backend (the GPU path takes dense
    /// designs).
    fn fit(&self, (x, y): (sprs::CsMatView<'a, f64>, ArrayView1<'a, f64>)) -> Result<CvFit> {
        if self.backend != Backend::Cpu {
            return Err(Error::InvalidParameter {
                name: "backend",
                reason: "sparse designs are cross-validated on the CPU: set backend to Backend::Cpu".into(),
            });
        }
        self.fit_data(Data::Sparse(x), y)
    }
}

/// One fold's path: the held-out mean squared error and the fit's report at each `α`.
struct FoldPath {
    mse: Vec<f64>,
    reports: Vec<Report>,
}

impl crate::distributed::Part for FoldPath {
    fn encode(&self, out: &mut Vec<f64>) {
        crate::distributed::encode_counted(&self.mse, out);
        self.reports.iter().for_each(|r| r.encode(out));
    }
    fn decode(values: &[f64]) -> Result<Self> {
        let (mse, rest) = crate::distributed::decode_counted(values, "a fold's path")?;
        let reports = rest
            .chunks(crate::distributed::REPORT_VALUES)
            .map(Report::decode)
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            mse: mse.to_vec(),
            reports,
        })
    }
}

impl CrossValidation {
    /// Checks the folds and `y` against the data and returns the `α` grid (given, or geometric from `α_max`).
    fn grid(&self, x: &Data<'_>, y: ArrayView1<'_, f64>) -> Result<Vec<f64>> {
        let n = x.nrows();
        crate::sweep::kfold(n, self.folds)?;
        check_vector("y (one value per row of X)", y, n)?;
        match &self.alphas {
            Some(a) => Ok(a.clone()),
            None => alpha_grid(x.alpha_max(&self.model, y)?, self.n_alphas, self.eps),
        }
    }

    /// The `[start, end)` rows of each test fold ([`crate::sweep::kfold`]).
    fn fold_ranges(&self, n: usize) -> Result<Vec<(usize, usize)>> {
        Ok(crate::sweep::kfold(n, self.folds)?
            .into_iter()
            .map(|r| (r.start, r.end))
            .collect())
    }

    /// The dense fit with the grid of every fold solved as one batch on the GPU.
    #[cfg(feature = "gpu")]
    fn fit_gpu(
        &self,
        ctx: &sparsimony_gpu::GpuContext,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
    ) -> Result<CvFit> {
        use crate::data::ColMajor;
        use sparsimony_gpu::{BatchElasticNet, BatchNormal};
        let model = &self.model;
        if model.positive || model.penalty_weights.is_some() {
            return Err(Error::InvalidParameter {
                name: "model",
                reason: "penalty weights and positivity are not available on the GPU".into(),
            });
        }
        let (n, d) = x.dim();
        let alphas = self.grid(&Data::Dense(x), y)?;
        if alphas.iter().any(|a| *a <= 0.0) {
            return Err(Error::InvalidParameter {
                name: "alphas",
                reason: "the GPU path needs α > 0".into(),
            });
        }
        let folds = self.fold_ranges(n)?;
        // Per fold: the training rows' normal equations, scaled by 1/n_train and centred with an intercept.
        let mut normal = BatchNormal {
            gram: Vec::new(),
            cross: Vec::new(),
            y_sq: Vec::new(),
            y_mean: Vec::new(),
            x_mean: Vec::new(),
        };
        let mut per_fold = Vec::with_capacity(folds.len());
        for &(s, e) in &folds {
            let train: Vec<usize> = (0..s).chain(e..n).collect();
            let xt = ColMajor::from_array("X", x.select(Axis(0), &train).view())?;
            let yt = y.select(Axis(0), &train);
            let nt = train.len() as f64;
            let mean = |v: &[f64]| {
                if model.fit_intercept {
                    v.iter().sum::<f64>() / nt
                } else {
                    0.0
                }
            };
            let x_mean: Vec<f64> = (0..d).map(|j| mean(xt.col(j))).collect();
            let y_mean = mean(yt.as_slice().expect("a fresh array is contiguous"));
            let mut xc = xt.data().to_vec();
            for j in 0..d {
                xc[j * train.len()..(j + 1) * train.len()]
                    .iter_mut()
                    .for_each(|v| *v -= x_mean[j]);
            }
            let yc: Vec<f64> = yt.iter().map(|v| v - y_mean).collect();
            let mut ne = super::NormalEquations::zeros(d, 1);
            ne.accumulate(train.len(), &xc, &yc, None)?;
            per_fold.push((ne, x_mean, y_mean));
        }
        for _ in &alphas {
            for (ne, x_mean, y_mean) in &per_fold {
                let nt = ne.n_samples();
                normal
                    .gram
                    .extend((0..d * d).map(|q| (ne.gram(q % d, q / d) / nt) as f32));
                normal.cross.extend((0..d).map(|j| (ne.cross(j, 0) / nt) as f32));
                normal.y_sq.push((ne.y_sq(0) / nt) as f32);
                normal.y_mean.push(*y_mean as f32);
                normal.x_mean.extend(x_mean.iter().map(|v| *v as f32));
            }
        }
        let batch_alphas: Vec<f32> = alphas
            .iter()
            .flat_map(|a| folds.iter().map(move |_| *a as f32))
            .collect();
        let gpu = BatchElasticNet {
            l1_ratio: model.l1_ratio as f32,
            fit_intercept: model.fit_intercept,
            max_epochs: model.max_iter.min(u32::MAX as usize) as u32,
            tol: model.tol as f32,
            check_every: 5,
        };
        let solved = gpu.fit_normal(ctx, &normal, &batch_alphas)?;
        self.progress.counter("cross-validation", 1).step(None);
        let mut mse_path = Array2::zeros((alphas.len(), self.folds));
        let mut reports = Array2::from_elem((alphas.len(), self.folds), Report::exact(0));
        for (a, _) in alphas.iter().enumerate() {
            for (k, &(s, e)) in folds.iter().enumerate() {
                let p = a * folds.len() + k;
                reports[(a, k)] = solved.reports[p];
                let w = &solved.coef[p * d..(p + 1) * d];
                let c = solved.intercept[p] as f64;
                let err: f64 = (s..e)
                    .map(|i| {
                        let pred = c + (0..d).map(|j| x[(i, j)] * w[j] as f64).sum::<f64>();
                        (pred - y[i]).powi(2)
                    })
                    .sum();
                mse_path[(a, k)] = err / (e - s) as f64;
            }
        }
        self.finish(alphas, mse_path, reports, |alpha| {
            ElasticNet { alpha, ..model.clone() }.fit((x, y))
        })
    }

    fn fit_data(&self, x: Data<'_>, y: ArrayView1<'_, f64>) -> Result<CvFit> {
        let model = &self.model;
        let n = x.nrows();
        let alphas = self.grid(&x, y)?;
        let steps = self.progress.counter("cross-validation", self.folds);
        let scope = super::interrupt::StopScope::current();
        let folds = self.fold_ranges(n)?;
        // Shared among the processes of a group, if one is installed (`crate::distributed`).
        let per_fold: Vec<FoldPath> = crate::parallel::map_in_order(folds.len(), |k| {
            let (s, e) = folds[k];
            scope.run(|| {
                let train: Vec<usize> = (0..s).chain(e..n).collect();
                let test: Vec<usize> = (s..e).collect();
                let (xt, yt) = (x.rows(&train), y.select(Axis(0), &train));
                let (xv, yv) = (x.rows(&test), y.select(Axis(0), &test));
                let p = xt.data().path(model, yt.view(), &alphas)?;
                let mse = (0..alphas.len())
                    .map(|k| {
                        let pred = xv.data().predict(p.coefs.row(k), p.intercepts[k]);
                        pred.iter().zip(yv.iter()).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / test.len() as f64
                    })
                    .collect();
                steps.step(None);
                Ok(FoldPath {
                    mse,
                    reports: p.reports,
                })
            })
        })?;
        let mut mse_path = Array2::zeros((alphas.len(), self.folds));
        let mut reports = Array2::from_elem((alphas.len(), self.folds), Report::exact(0));
        for (k, fold) in per_fold.into_iter().enumerate() {
            mse_path.column_mut(k).assign(&Array1::from(fold.mse));
            reports.column_mut(k).assign(&Array1::from(fold.reports));
        }
        self.finish(alphas, mse_path, reports, |alpha| {
            x.fit_model(&ElasticNet { alpha, ..model.clone() }, y)
        })
    }

    /// Selects `α` (minimum and one-standard-error) from the held-out errors and refits at the minimum.
    fn finish(
        &self,
        alphas: Vec<f64>,
        mse_path: Array2<f64>,
        path_reports: Array2<Report>,
        refit: impl FnOnce(f64) -> Result<LinearFit>,
    ) -> Result<CvFit> {
        let mean = mse_path.mean_axis(Axis(1)).expect("folds ≥ 2");
        let best = mean
            .iter()
            .enumerate()
            .fold(0, |b, (k, v)| if *v < mean[b] { k } else { b });
        let alpha = alphas[best];
        let row = mse_path.row(best);
        let sd = (row.iter().map(|v| (v - mean[best]).powi(2)).sum::<f64>() / (self.folds - 1) as f64).sqrt();
        let bound = mean[best] + sd / (self.folds as f64).sqrt();
        let alpha_1se = alphas
            .iter()
            .zip(mean.iter())
            .filter(|(_, m)| **m <= bound)
            .map(|(a, _)| *a)
            .fold(alpha, f64::max);
        let fit = refit(alpha)?;
        Ok(CvFit {
            alpha,
            alpha_1se,
            alphas,
            mse_path,
            path_reports,
            fit,
        })
    }
}
