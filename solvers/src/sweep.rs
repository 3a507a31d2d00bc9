//! Sweeps written once over the [`Estimator`] trait: K-fold cross-validation of any estimator of dense
//! samples, and a grid search over candidate settings (scikit-learn's `KFold`, `cross_val_score` and
//! `GridSearchCV`).
//!
//! A sweep is a set of independent fits — each candidate on each fold's training rows, scored on its test
//! rows — run in parallel on rayon's pool and collected in a fixed order, so that its results (and its
//! first error) do not depend on the thread count (see [`crate::parallel`]); the caller's stop hook
//! ([`crate::regression::interrupt`]) is polled before each fit and by the fits themselves.
//!
//! Differences from scikit-learn a user may meet: the folds are contiguous (`KFold` without shuffling:
//! shuffle the rows first for data sorted by the response or by time); a failing fit ends the search (its
//! `error_score="raise"`, not the default NaN); the best candidate is always refitted (`refit=True`). Estimators with a cheaper specialised sweep keep it:
//! [`CrossValidation`](crate::regression::path::CrossValidation) warm-starts the elastic net along its `α`
//! path (and batches it on the GPU), as scikit-learn's `LassoCV` does beside `GridSearchCV`; both split
//! their folds with [`kfold`].
//!
//! ```
//! use ndarray::array;
//! use sparsimony_solvers::regression::{ElasticNet, Omp};
//! use sparsimony_solvers::sweep::{GridSearch, cross_val_score};
//! use sparsimony_solvers::{Estimator, Fitted, Score};
//!
//! let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [0.5, 2.0], [1.5, 0.5]];
//! let y = array![1.0, 2.0, 3.0, 4.0, 4.5, 2.5];
//! let search = GridSearch {
//!     candidates: [0.001, 0.01, 10.0].map(|alpha| ElasticNet { alpha, ..ElasticNet::default() }).to_vec(),
//!     folds: 3,
//!     ..GridSearch::default()
//! };
//! let fit = search.fit((x.view(), y.view()))?;
//! assert_eq!(fit.scores.dim(), (3, 3)); // candidates × folds
//! assert!(fit.best < 2, "α = 10 zeroes every coefficient");
//! assert!(fit.report().converged && fit.score((x.view(), y.view()))? > 0.9);
//! let omp = Omp { n_nonzero: Some(2), ..Omp::default() };
//! assert_eq!(cross_val_score(&omp, (x.view(), y.view()), 3)?.len(), 3);
//! # Ok::<(), sparsimony_solvers::Error>(())
//! ```

use std::ops::Range;

use ndarray::{Array2, ArrayView1, ArrayView2, Axis, s};
use sparsimony_core::Report;

use crate::data::{check_matrix, check_vector};
use crate::estimator::{Estimator, Fitted, Score};
use crate::regression::interrupt::{StopScope, stop_requested};
use crate::{Error, Progress, Result};

/// Dense samples: the design `X` of shape `(n, d)` (samples in rows, any layout) and the response `y`
/// (length `n`).
pub type Samples<'a> = (ArrayView2<'a, f64>, ArrayView1<'a, f64>);

/// The test rows of each of `folds` contiguous folds of `n` samples, in order, the first `n mod folds`
/// one row longer (scikit-learn's `KFold` without shuffling).
///
/// # Errors
/// [`Error::InvalidParameter`] (`"folds"`) unless `2 ≤ folds ≤ n`.
pub fn kfold(n: usize, folds: usize) -> Result<Vec<Range<usize>>> {
    if folds < 2 || folds > n {
        return Err(Error::InvalidParameter {
            name: "folds",
            reason: format!("need 2 ≤ folds ≤ n = {n}, got {folds}"),
        });
    }
    let (base, extra) = (n / folds, n % folds);
    let mut start = 0;
    Ok((0..folds)
        .map(|k| {
            let len = base + usize::from(k < extra);
            start += len;
            start - len..start
        })
        .collect())
}

/// The score of `estimator` on each of `folds` contiguous folds of `(x, y)`, fitted on the other rows
/// (scikit-learn's `cross_val_score` with `KFold(folds)`), in fold order.
///
/// # Errors
/// Shape and finiteness errors of `X` and `y` (positions in the whole data); `folds` outside
/// `2..=n/2` (a test fold of one row has no `R²`); the first failing fold's error, in fold order;
/// [`Error::Stopped`] when the caller's stop hook asks it to stop between fits.
pub fn cross_val_score<E, F>(estimator: &E, (x, y): Samples<'_>, folds: usize) -> Result<Vec<f64>>
where
    E: Sync + for<'a> Estimator<Samples<'a>, Fitted = F>,
    F: Fitted + Send + for<'a> Score<Samples<'a>>,
{
    let steps = Progress::default();
    let (scores, _) = fold_scores(std::slice::from_ref(estimator), x, y, folds, &steps, "cross-validation")?;
    Ok(scores.row(0).to_vec())
}

/// Every candidate's score on every fold and the fits' reports, shape `(candidates, folds)`: all pairs in
/// parallel (and shared among the processes of a [`Group`](crate::distributed::Group)), results (and the
/// first error) in (candidate, fold) order.
fn fold_scores<E, F>(
    candidates: &[E],
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    folds: usize,
    progress: &Progress,
    task: &str,
) -> Result<(Array2<f64>, Array2<Report>)>
where
    E: Sync + for<'a> Estimator<Samples<'a>, Fitted = F>,
    F: Fitted + Send + for<'a> Score<Samples<'a>>,
{
    if candidates.is_empty() {
        return Err(Error::InvalidParameter {
            name: "candidates",
            reason: "a search needs at least one candidate".into(),
        });
    }
    let n = x.nrows();
    // The whole data checked once, so that a bad value is named by its row in the data, not in a fold.
    check_matrix("X", x)?;
    check_vector("y (one value per row of X)", y, n)?;
    let tests = kfold(n, folds)?;
    if let Some(short) = tests.iter().find(|t| t.len() < 2) {
        return Err(Error::InvalidParameter {
            name: "folds",
            reason: format!(
                "{folds} folds of {n} samples leave a test fold of {} row(s), which has no R² (scikit-learn's \
                 is NaN there): at most {} folds",
                short.len(),
                n / 2
            ),
        });
    }
    let steps = progress.counter(task, candidates.len() * folds);
    let scope = StopScope::current();
    // Shared among the processes of a group, if one is installed (`crate::distributed`).
    let results: Vec<(f64, Report)> = crate::parallel::map_in_order(candidates.len() * folds, |p| {
        scope.run(|| {
            if stop_requested() {
                return Err(Error::Stopped);
            }
            let (candidate, test) = (&candidates[p / folds], tests[p % folds].clone());
            let train: Vec<usize> = (0..test.start).chain(test.end..n).collect();
            let (xt, yt) = (x.select(Axis(0), &train), y.select(Axis(0), &train));
            let fitted = candidate.fit((xt.view(), yt.view()))?;
            let score = fitted.score((x.slice(s![test.clone(), ..]), y.slice(s![test])))?;
            steps.step(Some(score));
            Ok((score, *fitted.report()))
        })
    })?;
    let shape = (candidates.len(), folds);
    let scores = Array2::from_shape_fn(shape, |(c, k)| results[c * folds + k].0);
    let reports = Array2::from_shape_fn(shape, |(c, k)| results[c * folds + k].1);
    Ok((scores, reports))
}

/// Each row's mean (a candidate's mean test score over the folds).
fn row_means(scores: &Array2<f64>) -> Vec<f64> {
    scores
        .rows()
        .into_iter()
        .map(|r| r.mean().unwrap_or(f64::NAN))
        .collect()
}

/// A grid search: each candidate setting cross-validated on the same contiguous folds, the one with the
/// highest mean score refitted on all the samples (scikit-learn's `GridSearchCV` with `KFold(folds)` and
/// `refit=True`). It is itself an estimator of dense samples, so searches compose.
#[derive(Debug, Clone, PartialEq)]
pub struct GridSearch<E> {
    /// The settings tried, in order (ties go to the first).
    pub candidates: Vec<E>,
    /// The number of folds, at least 2 and at most the number of samples.
    pub folds: usize,
    /// Called after each (candidate, fold) fit, with its test score as the objective.
    pub progress: Progress,
}

impl<E> Default for GridSearch<E> {
    /// No candidates (to be filled), 5 folds (scikit-learn's default), no progress.
    fn default() -> Self {
        Self {
            candidates: Vec::new(),
            folds: 5,
            progress: Progress::default(),
        }
    }
}

/// The outcome of a [`GridSearch`].
#[derive(Debug, Clone, PartialEq)]
pub struct GridSearchFit<F> {
    /// Each candidate's test score on each fold, shape `(candidates, folds)`.
    pub scores: Array2<f64>,
    /// The report of each (candidate, fold) fit, shape `(candidates, folds)`; fits that stopped at their
    /// cap are kept, as in the elastic net's own cross-validation.
    pub fold_reports: Array2<Report>,
    /// The index of the selected candidate: the highest mean score over the folds.
    pub best: usize,
    /// The selected candidate refitted on all the samples.
    pub fit: F,
}

impl<F> GridSearchFit<F> {
    /// Each candidate's mean test score over the folds (scikit-learn's `mean_test_score`).
    pub fn mean_scores(&self) -> Vec<f64> {
        row_means(&self.scores)
    }
}

impl<F: Fitted> Fitted for GridSearchFit<F> {
    /// The refit's report.
    fn report(&self) -> &Report {
        self.fit.report()
    }
}

impl<'a, F: Score<Samples<'a>>> Score<Samples<'a>> for GridSearchFit<F> {
    /// The refitted model's score.
    fn score(&self, data: Samples<'a>) -> Result<f64> {
        self.fit.score(data)
    }
}

impl<'d, E, F> Estimator<Samples<'d>> for GridSearch<E>
where
    E: Sync + for<'a> Estimator<Samples<'a>, Fitted = F>,
    F: Fitted + Send + for<'a> Score<Samples<'a>>,
{
    type Fitted = GridSearchFit<F>;

    /// Cross-validates every candidate, then refits the best on all of `(x, y)`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] without candidates or with `folds` outside `2..=n/2`; shape and
    /// finiteness errors of the data; the first failing fit's error, in (candidate, fold) order — a fit
    /// that fails ends the search, where scikit-learn's default records a NaN score and goes on;
    /// [`Error::Stopped`] from the caller's stop hook; a candidate whose mean score is NaN is never
    /// selected, and if every one's is, [`Error::NonFiniteResult`].
    fn fit(&self, (x, y): Samples<'d>) -> Result<GridSearchFit<F>> {
        let (scores, fold_reports) = fold_scores(&self.candidates, x, y, self.folds, &self.progress, "grid search")?;
        let means = row_means(&scores);
        let best = (0..means.len())
            .filter(|&c| !means[c].is_nan())
            .fold(None, |best: Option<usize>, c| match best {
                Some(b) if means[b] >= means[c] => Some(b),
                _ => Some(c),
            })
            .ok_or_else(|| Error::NonFiniteResult {
                what: "every candidate's mean test score",
                cause: "each candidate scored NaN on some fold: check the candidates' fits".into(),
            })?;
        let fit = self.candidates[best].fit((x, y))?;
        Ok(GridSearchFit {
            scores,
            fold_reports,
            best,
            fit,
        })
    }
}
