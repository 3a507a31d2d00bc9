//! `sparsimony._native`: the Rust estimators behind the Python package `sparsimony`.
//!
//! Each function here is one fit of a `sparsimony-solvers` estimator. The Python classes
//! (`python/sparsimony/*.py`) validate their input as scikit-learn does, then call these functions. Each
//! function releases the GIL while it computes, except while it calls back into Python (a control
//! function during a SINDy simulation).
//!
//! Conventions: designs are `X` of shape `(n, d)`, samples in rows. A dense design is a float64 NumPy
//! array in any memory layout, read in place without a copy. A sparse design is the four parts of a
//! SciPy CSC matrix, `(data, indices, indptr, (n, d))`, contiguous, with sorted indices and no
//! duplicates, also read in place (the indices as the machine's `usize`, which sprs needs: the Python side
//! widens SciPy's int32 indices once). Objectives are scikit-learn's:
//! `1/(2n)‖y − Xw − b‖² + α·penalty`. Errors of bad input or settings are `ValueError`, and the solver's
//! message names the problem.

use ndarray::{Array1, Array2};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use sparsimony_solvers::Estimator;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};

use sparsimony_solvers::regression::interrupt::{POLL_INTERVAL, StopHook, with_stop_hook};
use sparsimony_solvers::regression::path::{self, CrossValidation};
use sparsimony_solvers::regression::{
    BestSubset, ElasticNet, Iht, LinearFit, NormalEquations, Omp, Precompute, RandomSupport, Solver, WarmStart,
};
use sparsimony_solvers::{Error, Measure, Report};

mod pde;
mod radio;
mod sindy;

/// A design as Python passes it: dense, or a SciPy CSC matrix's parts.
#[derive(FromPyObject)]
enum Design<'py> {
    /// A float64 array of shape `(n, d)`, any strides.
    Dense(PyReadonlyArray2<'py, f64>),
    /// `(data, indices, indptr, (n, d))` of a CSC matrix (indices as unsigned machine integers).
    Csc(
        (
            PyReadonlyArray1<'py, f64>,
            PyReadonlyArray1<'py, usize>,
            PyReadonlyArray1<'py, usize>,
            (usize, usize),
        ),
    ),
}

/// A design the solvers take: a dense view, or a sparse view of the CSC parts (both borrowed).
enum Data<'a> {
    Dense(ndarray::ArrayView2<'a, f64>),
    Sparse(sprs::CsMatView<'a, f64>),
}

impl<'py> Design<'py> {
    /// The design in the solvers' types, without copying; a malformed CSC structure or a non-contiguous
    /// part is a `ValueError`.
    fn data(&self) -> PyResult<Data<'_>> {
        match self {
            Design::Dense(x) => Ok(Data::Dense(x.as_array())),
            Design::Csc((data, indices, indptr, shape)) => {
                let contiguous = |what: &str| PyValueError::new_err(format!("the CSC {what} must be contiguous"));
                let m = sprs::CsMatView::try_new_csc(
                    *shape,
                    indptr.as_slice().map_err(|_| contiguous("indptr"))?,
                    indices.as_slice().map_err(|_| contiguous("indices"))?,
                    data.as_slice().map_err(|_| contiguous("data"))?,
                )
                .map_err(|(_, _, _, e)| PyValueError::new_err(format!("malformed CSC matrix: {e}")))?;
                Ok(Data::Sparse(m))
            }
        }
    }
}

/// The solvers' errors as Python exceptions: bad input or settings are `ValueError`, the rest
/// `RuntimeError`, each with the solver's message.
fn to_py(e: Error) -> PyErr {
    match e {
        Error::Shape { .. }
        | Error::Empty { .. }
        | Error::Magnitude { .. }
        | Error::NonFinite { .. }
        | Error::InvalidParameter { .. }
        | Error::Singular { .. }
        | Error::Expression { .. }
        | Error::Decomposition { .. }
        | Error::Problem { .. } => PyValueError::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

/// Sample weights are passed to the native functions with sparse designs only: a dense design is
/// centred and scaled on the Python side (scikit-learn's reduction).
fn dense_weights() -> Error {
    Error::InvalidParameter {
        name: "sample_weight",
        reason: "taken natively with sparse designs only (the Python side reduces a weighted dense problem)".into(),
    }
}

/// Runs `f` without the GIL, Ctrl-C honoured: `f` runs on a thread of its own while this one waits for
/// it, checking Python's signals every 20 ms; on Ctrl-C (or any exception a signal handler raises) it
/// sets the stop hook that the solvers poll (see `sparsimony_solvers::regression::interrupt`, carried
/// into their worker threads), waits for `f` to stop at its current iterate (its data are borrowed),
/// and returns the exception instead of its result. Signals reach only Python's main thread, so fits
/// started from other Python threads run to their end. A panic in `f` is raised again here (pyo3 turns
/// it into `PanicException`).
pub(crate) fn detach_interruptible<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    let (stop, hook) = stop_flag();
    let (out, raised) = py.detach(|| {
        std::thread::scope(|s| {
            let (done, finished) = std::sync::mpsc::channel();
            let worker = fit_thread()
                .spawn_scoped(s, move || {
                    let _ = done.send(with_stop_hook(hook, f));
                })
                .map_err(no_thread)?;
            let watched = watch(&finished, &stop, false);
            if let Err(panic) = worker.join() {
                std::panic::resume_unwind(panic);
            }
            Ok::<_, PyErr>(watched)
        })
    })?;
    match (out, raised) {
        (_, Some(e)) => Err(e),
        (Some(out), None) => Ok(out),
        (None, None) => Err(PyRuntimeError::new_err("the fit's thread ended without a result")),
    }
}

/// [`detach_interruptible`] for work that owns its data: on Ctrl-C the exception is raised at once,
/// and the work, told to stop, ends in the background at its next poll (the GP-PDE solver's set-up
/// holds eigendecompositions of tens of seconds on large grids, which cannot be cut short).
pub(crate) fn detach_abandonable<T: Send + 'static>(
    py: Python<'_>,
    f: impl FnOnce() -> T + Send + 'static,
) -> PyResult<T> {
    let (stop, hook) = stop_flag();
    let (done, finished) = std::sync::mpsc::channel();
    let worker = fit_thread()
        .spawn(move || {
            let _ = done.send(with_stop_hook(hook, f));
        })
        .map_err(no_thread)?;
    let (out, raised) = py.detach(move || watch(&finished, &stop, true));
    match (out, raised) {
        (_, Some(e)) => Err(e),
        (Some(out), None) => Ok(out),
        (None, None) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => Err(PyRuntimeError::new_err("the solver's thread ended without a result")),
        },
    }
}

/// A stop flag and the hook that reads it.
fn stop_flag() -> (Arc<AtomicBool>, StopHook) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    (stop, Arc::new(move || flag.load(Ordering::Relaxed)))
}

/// The thread a fit runs on.
fn fit_thread() -> std::thread::Builder {
    std::thread::Builder::new()
        .name("sparsimony-fit".into())
        .stack_size(FIT_STACK)
}

fn no_thread(e: std::io::Error) -> PyErr {
    PyRuntimeError::new_err(format!("could not start the fit's thread: {e}"))
}

/// Waits (without the GIL) for the result on `finished`, checking Python's signals every poll interval;
/// on the first exception a signal handler raises, sets `stop` and keeps the exception, then returns at
/// once when `abandon`, or waits on for the result. Returns the result (`None` when the sender ended
/// without one: a panic, or abandoned) and the exception.
fn watch<T>(finished: &Receiver<T>, stop: &AtomicBool, abandon: bool) -> (Option<T>, Option<PyErr>) {
    let mut raised = None;
    loop {
        match finished.recv_timeout(POLL_INTERVAL) {
            Ok(out) => return (Some(out), raised),
            Err(RecvTimeoutError::Disconnected) => return (None, raised),
            Err(RecvTimeoutError::Timeout) if raised.is_none() => {
                if let Err(e) = Python::attach(|py| py.check_signals()) {
                    raised = Some(e);
                    stop.store(true, Ordering::Relaxed);
                    if abandon {
                        return (None, raised);
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

/// The stack of the thread a fit runs on (the main thread's usual 8 MiB, twice).
const FIT_STACK: usize = 16 << 20;

/// The report as Python receives it: `(n_iter, converged, reached, tolerance)`.
pub(crate) type PyReport = (usize, bool, f64, f64);

pub(crate) fn report(r: &Report) -> PyReport {
    (r.iterations, r.converged, r.reached, r.tolerance)
}

/// A report as pickled: `(iterations, converged, measure name, reached, tolerance)`.
pub(crate) type PickledReport = (usize, bool, String, f64, f64);

/// A report as pickled (see [`PickledReport`]).
pub(crate) fn pickle_report(r: &Report) -> PickledReport {
    (
        r.iterations,
        r.converged,
        r.measure.name().to_string(),
        r.reached,
        r.tolerance,
    )
}

/// The report [`pickle_report`] gave.
pub(crate) fn unpickle_report(p: PickledReport) -> PyResult<Report> {
    let (iterations, converged, measure, reached, tolerance) = p;
    let measure = Measure::ALL
        .into_iter()
        .find(|m| m.name() == measure)
        .ok_or_else(|| PyValueError::new_err(format!("unknown report measure {measure:?}")))?;
    let mut report = Report::new(iterations, measure, reached, tolerance);
    report.converged = converged;
    Ok(report)
}

/// A fit as Python receives it: `(coef, intercept, report)`.
type PyFit<'py> = (Bound<'py, PyArray1<f64>>, f64, PyReport);

fn fit_to_py<'py>(py: Python<'py>, fit: LinearFit) -> PyFit<'py> {
    let r = report(&fit.report);
    (fit.coef.into_pyarray(py), fit.intercept, r)
}

/// The elastic net's settings from the Python arguments (`solver`: "cd" or "fista"; `precompute`:
/// "auto", true or false).
#[allow(clippy::too_many_arguments)]
fn elastic_net(
    alpha: f64,
    l1_ratio: f64,
    fit_intercept: bool,
    positive: bool,
    penalty_weights: Option<Vec<f64>>,
    max_iter: usize,
    tol: f64,
    solver: &str,
    precompute: Option<bool>,
) -> PyResult<ElasticNet> {
    let solver = match solver {
        "cd" => Solver::CoordinateDescent,
        "fista" => Solver::Fista,
        other => {
            return Err(PyValueError::new_err(format!(
                "solver must be 'cd' or 'fista', got {other:?}"
            )));
        }
    };
    Ok(ElasticNet {
        alpha,
        l1_ratio,
        fit_intercept,
        positive,
        penalty_weights,
        max_iter,
        tol,
        solver,
        precompute: match precompute {
            None => Precompute::Auto,
            Some(true) => Precompute::Always,
            Some(false) => Precompute::Never,
        },
    })
}

/// One elastic-net fit (the Lasso at `l1_ratio = 1`), warm-started from `coef_init` when given.
/// Returns `(coef, intercept, (n_iter, converged, duality gap, gap tolerance))`.
#[pyfunction]
#[pyo3(signature = (x, y, *, alpha, l1_ratio, fit_intercept, positive, penalty_weights, max_iter, tol, solver, precompute, coef_init, sample_weight=None))]
#[allow(clippy::too_many_arguments)]
fn enet_fit<'py>(
    py: Python<'py>,
    x: Design<'py>,
    y: PyReadonlyArray1<'py, f64>,
    alpha: f64,
    l1_ratio: f64,
    fit_intercept: bool,
    positive: bool,
    penalty_weights: Option<Vec<f64>>,
    max_iter: usize,
    tol: f64,
    solver: &str,
    precompute: Option<bool>,
    coef_init: Option<PyReadonlyArray1<'py, f64>>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<PyFit<'py>> {
    let model = elastic_net(
        alpha,
        l1_ratio,
        fit_intercept,
        positive,
        penalty_weights,
        max_iter,
        tol,
        solver,
        precompute,
    )?;
    let data = x.data()?;
    let y = y.as_array();
    let start = coef_init.as_ref().map(|c| c.as_array());
    let weights = sample_weight.as_ref().map(|w| w.as_array());
    let fit = detach_interruptible(py, || match (&data, weights, start) {
        (Data::Dense(x), None, None) => model.fit((*x, y)),
        (Data::Dense(x), None, Some(start)) => model.fit(WarmStart { data: (*x, y), start }),
        (Data::Sparse(x), None, None) => model.fit((x.view(), y)),
        (Data::Sparse(x), None, Some(start)) => model.fit(WarmStart {
            data: (x.view(), y),
            start,
        }),
        (Data::Sparse(x), Some(w), None) => model.fit((x.view(), y, w)),
        (Data::Sparse(x), Some(w), Some(start)) => model.fit(WarmStart {
            data: (x.view(), y, w),
            start,
        }),
        (Data::Dense(_), Some(_), _) => Err(dense_weights()),
    })?;
    Ok(fit_to_py(py, fit.map_err(to_py)?))
}

/// Normal equations from Python's parts: `gram` (`p × p`), `cross` (`p × m`), `y_sq` (`m`) over
/// `n_samples` samples (at least one), checked for shape and finiteness.
pub(crate) fn normal_equations(
    gram: &PyReadonlyArray2<'_, f64>,
    cross: &PyReadonlyArray2<'_, f64>,
    y_sq: Vec<f64>,
    n_samples: f64,
) -> PyResult<NormalEquations> {
    if !(n_samples.is_finite() && n_samples >= 1.0) {
        return Err(PyValueError::new_err(format!(
            "the normal equations must hold at least one sample, got n_samples = {n_samples}"
        )));
    }
    let (gram, cross) = (gram.as_array(), cross.as_array());
    let (p, m) = cross.dim();
    if gram.dim() != (p, p) {
        return Err(PyValueError::new_err(format!(
            "gram must be {p} × {p} (one row and column per row of cross), got {:?}",
            gram.dim()
        )));
    }
    // Column-major, as `NormalEquations` stores them: the transposes' rows are the columns.
    NormalEquations::from_parts(
        p,
        m,
        n_samples,
        gram.t().iter().copied().collect(),
        cross.t().iter().copied().collect(),
        y_sq,
    )
    .map_err(to_py)
}

/// The elastic net on normal equations, every target: `gram` (`d × d`, `XᵀX`), `cross` (`d × m`, `XᵀY`),
/// `y_sq` (`‖y_t‖²`, `m` values) over `n_samples` samples, the objective scaled by `1/(2 n_samples)`. No
/// intercept: the caller centres the equations (and restores the intercept) when it fits one. How fits on
/// chunked data (dask arrays) are solved: `O(d²)` memory, whatever the number of samples. Returns one
/// `(coef, 0.0, report)` per target.
#[pyfunction]
#[pyo3(signature = (gram, cross, y_sq, n_samples, *, alpha, l1_ratio, positive, max_iter, tol))]
#[allow(clippy::too_many_arguments)]
fn enet_normal<'py>(
    py: Python<'py>,
    gram: PyReadonlyArray2<'py, f64>,
    cross: PyReadonlyArray2<'py, f64>,
    y_sq: PyReadonlyArray1<'py, f64>,
    n_samples: f64,
    alpha: f64,
    l1_ratio: f64,
    positive: bool,
    max_iter: usize,
    tol: f64,
) -> PyResult<Vec<PyFit<'py>>> {
    let ne = normal_equations(&gram, &cross, y_sq.as_array().to_vec(), n_samples)?;
    let m = ne.n_targets();
    let model = elastic_net(alpha, l1_ratio, false, positive, None, max_iter, tol, "cd", Some(true))?;
    let fits = detach_interruptible(py, || {
        (0..m).map(|t| model.fit((&ne, t))).collect::<Result<Vec<_>, _>>()
    })?
    .map_err(to_py)?;
    Ok(fits.into_iter().map(|f| fit_to_py(py, f)).collect())
}

/// The elastic net along `alphas` (each fit warm-started from the previous one). Returns `(coefs` of
/// shape `(d, len(alphas))`, `intercepts`, `n_iters`, `gaps`, `converged)`, scikit-learn's `enet_path`
/// layout.
#[pyfunction]
#[pyo3(signature = (x, y, alphas, *, l1_ratio, fit_intercept, positive, penalty_weights, max_iter, tol, precompute, sample_weight=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn enet_path<'py>(
    py: Python<'py>,
    x: Design<'py>,
    y: PyReadonlyArray1<'py, f64>,
    alphas: Vec<f64>,
    l1_ratio: f64,
    fit_intercept: bool,
    positive: bool,
    penalty_weights: Option<Vec<f64>>,
    max_iter: usize,
    tol: f64,
    precompute: Option<bool>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<(
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray1<f64>>,
    Vec<usize>,
    Vec<f64>,
    Vec<bool>,
)> {
    let model = elastic_net(
        1.0,
        l1_ratio,
        fit_intercept,
        positive,
        penalty_weights,
        max_iter,
        tol,
        "cd",
        precompute,
    )?;
    let data = x.data()?;
    let y = y.as_array();
    let weights = sample_weight.as_ref().map(|w| w.as_array());
    let fit = detach_interruptible(py, || match (&data, weights) {
        (Data::Dense(x), None) => path::path(&model, *x, y, &alphas),
        (Data::Sparse(x), None) => path::path_sparse(&model, x.view(), y, &alphas),
        (Data::Sparse(x), Some(w)) => path::path_sparse_weighted(&model, x.view(), y, w, &alphas),
        (Data::Dense(_), Some(_)) => Err(dense_weights()),
    })?
    .map_err(to_py)?;
    let coefs: Array2<f64> = fit.coefs.reversed_axes().as_standard_layout().into_owned();
    Ok((
        coefs.into_pyarray(py),
        Array1::from(fit.intercepts).into_pyarray(py),
        fit.reports.iter().map(|r| r.iterations).collect(),
        fit.reports.iter().map(|r| r.reached).collect(),
        fit.reports.iter().map(|r| r.converged).collect(),
    ))
}

/// The smallest `α` at which every penalised coefficient is zero (needs `l1_ratio > 0`).
#[pyfunction]
#[pyo3(signature = (x, y, *, l1_ratio, fit_intercept, penalty_weights, sample_weight=None))]
fn alpha_max<'py>(
    py: Python<'py>,
    x: Design<'py>,
    y: PyReadonlyArray1<'py, f64>,
    l1_ratio: f64,
    fit_intercept: bool,
    penalty_weights: Option<Vec<f64>>,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<f64> {
    let model = ElasticNet {
        l1_ratio,
        fit_intercept,
        penalty_weights,
        ..ElasticNet::default()
    };
    let data = x.data()?;
    let y = y.as_array();
    let weights = sample_weight.as_ref().map(|w| w.as_array());
    py.detach(|| match (&data, weights) {
        (Data::Dense(x), None) => path::alpha_max(&model, *x, y),
        (Data::Sparse(x), None) => path::alpha_max_sparse(&model, x.view(), y),
        (Data::Sparse(x), Some(w)) => path::alpha_max_sparse_weighted(&model, x.view(), y, w),
        (Data::Dense(_), Some(_)) => Err(dense_weights()),
    })
    .map_err(to_py)
}

/// Orthogonal matching pursuit (scikit-learn's `OrthogonalMatchingPursuit`): `n_nonzero` features, or
/// until `‖r‖² ≤ tol`.
#[pyfunction]
#[pyo3(signature = (x, y, *, n_nonzero, tol, fit_intercept))]
fn omp<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    n_nonzero: Option<usize>,
    tol: Option<f64>,
    fit_intercept: bool,
) -> PyResult<PyFit<'py>> {
    let model = Omp {
        n_nonzero,
        tol,
        fit_intercept,
    };
    let (x, y) = (x.as_array(), y.as_array());
    let fit = py.detach(|| model.fit((x, y))).map_err(to_py)?;
    Ok(fit_to_py(py, fit))
}

/// Iterative hard thresholding with `n_nonzero` features, then least squares on the support (`debias`).
#[pyfunction]
#[pyo3(signature = (x, y, *, n_nonzero, max_iter, tol, debias, fit_intercept))]
#[allow(clippy::too_many_arguments)]
fn iht<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    n_nonzero: Option<usize>,
    max_iter: usize,
    tol: f64,
    debias: bool,
    fit_intercept: bool,
) -> PyResult<PyFit<'py>> {
    let model = Iht {
        n_nonzero,
        max_iter,
        tol,
        debias,
        fit_intercept,
    };
    let (x, y) = (x.as_array(), y.as_array());
    let fit = py.detach(|| model.fit((x, y))).map_err(to_py)?;
    Ok(fit_to_py(py, fit))
}

/// Exhaustive best-subset selection of `n_nonzero` features.
#[pyfunction]
#[pyo3(signature = (x, y, *, n_nonzero, fit_intercept))]
fn best_subset<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    n_nonzero: Option<usize>,
    fit_intercept: bool,
) -> PyResult<PyFit<'py>> {
    let model = BestSubset {
        n_nonzero,
        fit_intercept,
    };
    let (x, y) = (x.as_array(), y.as_array());
    let fit = py.detach(|| model.fit((x, y))).map_err(to_py)?;
    Ok(fit_to_py(py, fit))
}

/// The random-support estimator (ill-conditioned designs). Returns the fit and
/// `(directions, unpenalized, alpha, condition_number)`.
#[pyfunction]
#[pyo3(signature = (x, y, *, rel_threshold, max_directions, cv, n_alphas, eps, max_iter, tol, refit, fit_intercept))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn random_support<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    rel_threshold: f64,
    max_directions: Option<usize>,
    cv: usize,
    n_alphas: usize,
    eps: f64,
    max_iter: usize,
    tol: f64,
    refit: bool,
    fit_intercept: bool,
) -> PyResult<(PyFit<'py>, (usize, Vec<usize>, f64, f64))> {
    let model = RandomSupport {
        rel_threshold,
        max_directions,
        cv: CrossValidation {
            model: ElasticNet {
                max_iter,
                tol,
                ..ElasticNet::default()
            },
            folds: cv,
            n_alphas,
            eps,
            ..CrossValidation::default()
        },
        refit,
        fit_intercept,
    };
    let (x, y) = (x.as_array(), y.as_array());
    let fit = py.detach(|| model.fit((x, y))).map_err(to_py)?;
    let extra = (fit.directions, fit.unpenalized, fit.alpha, fit.condition_number);
    Ok((fit_to_py(py, fit.fit), extra))
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("MAX_BYTES", sparsimony_solvers::data::MAX_BYTES)?;
    // The names users give the GP-PDE solver's choices: the library's lists, so Python keeps none.
    m.add("PDE_METHODS", sparsimony_solvers::gp_pde::Method::NAMES.to_vec())?;
    m.add("PDE_SPECTRA", sparsimony_solvers::gp_pde::Spectrum::NAMES.to_vec())?;
    m.add(
        "PDE_TRUST_THRESHOLD",
        sparsimony_solvers::gp_pde::accuracy::TRUST_THRESHOLD,
    )?;
    m.add_function(wrap_pyfunction!(enet_fit, m)?)?;
    m.add_function(wrap_pyfunction!(enet_normal, m)?)?;
    m.add_function(wrap_pyfunction!(enet_path, m)?)?;
    m.add_function(wrap_pyfunction!(alpha_max, m)?)?;
    m.add_function(wrap_pyfunction!(omp, m)?)?;
    m.add_function(wrap_pyfunction!(iht, m)?)?;
    m.add_function(wrap_pyfunction!(best_subset, m)?)?;
    m.add_function(wrap_pyfunction!(random_support, m)?)?;
    m.add_function(wrap_pyfunction!(sindy::sindy_fit, m)?)?;
    m.add_function(wrap_pyfunction!(sindy::differentiate, m)?)?;
    m.add_function(wrap_pyfunction!(sindy::sindy_rebuild, m)?)?;
    m.add_function(wrap_pyfunction!(sindy::sindy_block_halo, m)?)?;
    m.add_function(wrap_pyfunction!(sindy::sindy_block_normal, m)?)?;
    m.add_function(wrap_pyfunction!(sindy::sindy_fit_normal, m)?)?;
    m.add_class::<sindy::SindyModel>()?;
    m.add_function(wrap_pyfunction!(pde::pde_solve, m)?)?;
    m.add_function(wrap_pyfunction!(pde::pde_rebuild, m)?)?;
    m.add_function(wrap_pyfunction!(pde::pde_benchmarks, m)?)?;
    m.add_function(wrap_pyfunction!(pde::pde_benchmark_toml, m)?)?;
    m.add_class::<pde::PdeProblem>()?;
    m.add_class::<pde::PdeSolution>()?;
    m.add_function(wrap_pyfunction!(radio::radio_read, m)?)?;
    m.add_function(wrap_pyfunction!(radio::radio_calibrate, m)?)?;
    m.add("RADIO_PRIORS", sparsimony_solvers::radio::Prior::NAMES.to_vec())?;
    Ok(())
}
