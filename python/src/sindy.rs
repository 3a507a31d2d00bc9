//! SINDy for Python: a fit from a specification dict (built by `sparsimony.sindy`'s PySINDy-named
//! classes), and the fitted model as a Python object whose methods run in Rust.
//!
//! The specification is plain data: `{"differentiation": {...}, "library": {...}, "optimizer": {...},
//! "discrete_time": bool}`, each part a dict with a `"kind"` and the part's parameters (see
//! `python/sparsimony/sindy.py`, which writes them).

use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use sparsimony_solvers::regression::Stlsq;
use sparsimony_solvers::sindy::{
    ControlFn, Differentiation, Ensemble, Library, Optimizer, Regularizer, SimulateOptions, Sindy, SindyFit, Sr3, Time,
    Trajectory,
};
use sparsimony_solvers::{Estimator, Fitted, Score};

use crate::to_py;

/// `d[key]`, or a `ValueError` naming the missing key.
fn item<'py>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    d.get_item(key)?
        .ok_or_else(|| PyValueError::new_err(format!("the specification lacks {key:?}")))
}

fn kind(d: &Bound<'_, PyDict>) -> PyResult<String> {
    item(d, "kind")?.extract()
}

fn differentiation(d: &Bound<'_, PyDict>) -> PyResult<Differentiation> {
    Ok(match kind(d)?.as_str() {
        "finite_difference" => Differentiation::FiniteDifference {
            order: item(d, "order")?.extract()?,
            derivative: item(d, "d")?.extract()?,
            drop_endpoints: item(d, "drop_endpoints")?.extract()?,
        },
        "smoothed_finite_difference" => Differentiation::SmoothedFiniteDifference {
            window: item(d, "window_length")?.extract()?,
            polyorder: item(d, "polyorder")?.extract()?,
            order: item(d, "order")?.extract()?,
        },
        "spectral" => Differentiation::Spectral {
            derivative: item(d, "d")?.extract()?,
        },
        other => return Err(PyValueError::new_err(format!("unknown differentiation {other:?}"))),
    })
}

fn library(d: &Bound<'_, PyDict>) -> PyResult<Library> {
    let parts = |d: &Bound<'_, PyDict>| -> PyResult<Vec<Library>> {
        item(d, "parts")?
            .cast_into::<PyList>()?
            .iter()
            .map(|p| library(&p.cast_into::<PyDict>()?))
            .collect()
    };
    Ok(match kind(d)?.as_str() {
        "polynomial" => Library::Polynomial {
            degree: item(d, "degree")?.extract()?,
            include_bias: item(d, "include_bias")?.extract()?,
            interaction_only: item(d, "interaction_only")?.extract()?,
        },
        "fourier" => Library::Fourier {
            n_frequencies: item(d, "n_frequencies")?.extract()?,
            include_sin: item(d, "include_sin")?.extract()?,
            include_cos: item(d, "include_cos")?.extract()?,
        },
        "concat" => Library::Concat(parts(d)?),
        "tensor" => Library::Tensor(parts(d)?),
        other => return Err(PyValueError::new_err(format!("unknown library {other:?}"))),
    })
}

fn optimizer(d: &Bound<'_, PyDict>) -> PyResult<Optimizer> {
    Ok(match kind(d)?.as_str() {
        "stlsq" => Optimizer::Stlsq(Stlsq {
            threshold: item(d, "threshold")?.extract()?,
            alpha: item(d, "alpha")?.extract()?,
            max_iter: item(d, "max_iter")?.extract()?,
            normalize_columns: item(d, "normalize_columns")?.extract()?,
            unbias: item(d, "unbias")?.extract()?,
            ..Stlsq::default()
        }),
        "sr3" => Optimizer::Sr3(Sr3 {
            lambda: item(d, "reg_weight_lam")?.extract()?,
            regularizer: match item(d, "regularizer")?.extract::<String>()?.to_lowercase().as_str() {
                "l0" => Regularizer::L0,
                "l1" => Regularizer::L1,
                "cel0" => Regularizer::Cel0,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "regularizer must be 'L0', 'L1' or 'CEL0', got {other:?}"
                    )));
                }
            },
            nu: item(d, "relax_coeff_nu")?.extract()?,
            tol: item(d, "tol")?.extract()?,
            max_iter: item(d, "max_iter")?.extract()?,
            normalize_columns: item(d, "normalize_columns")?.extract()?,
            unbias: item(d, "unbias")?.extract()?,
        }),
        "ensemble" => Optimizer::Ensemble(Box::new(Ensemble {
            base: optimizer(&item(d, "opt")?.cast_into::<PyDict>()?)?,
            n_models: item(d, "n_models")?.extract()?,
            bagging: item(d, "bagging")?.extract()?,
            n_subset: item(d, "n_subset")?.extract()?,
            replace: item(d, "replace")?.extract()?,
            drop_terms: item(d, "n_candidates_to_drop")?.extract()?,
            seed: item(d, "seed")?.extract()?,
            ..Ensemble::default()
        })),
        other => return Err(PyValueError::new_err(format!("unknown optimizer {other:?}"))),
    })
}

/// One trajectory as Python passes it: states, time (a step or the sample times), controls, and
/// derivatives given instead of computed.
type PyTrajectory<'py> = (
    PyReadonlyArray2<'py, f64>,
    Bound<'py, PyAny>,
    Option<PyReadonlyArray2<'py, f64>>,
    Option<PyReadonlyArray2<'py, f64>>,
);

/// The time of a trajectory: a float step, or one time per sample.
enum PyTime<'py> {
    Step(f64),
    Points(PyReadonlyArray1<'py, f64>),
}

impl<'py> PyTime<'py> {
    fn new(t: &Bound<'py, PyAny>) -> PyResult<Self> {
        match t.extract::<f64>() {
            Ok(step) => Ok(PyTime::Step(step)),
            Err(_) => Ok(PyTime::Points(t.extract()?)),
        }
    }

    fn time(&self) -> Time<'_> {
        match self {
            PyTime::Step(s) => Time::Step(*s),
            PyTime::Points(p) => Time::Points(p.as_array()),
        }
    }
}

/// The trajectories in the solvers' form: views of the NumPy arrays, which can cross into a detached
/// thread.
fn views<'a>(data: &'a [PyTrajectory<'_>], times: &'a [PyTime<'_>]) -> Vec<Trajectory<'a>> {
    data.iter()
        .zip(times)
        .map(|((x, _, u, x_dot), t)| {
            let mut tr = Trajectory::new(x.as_array(), t.time());
            if let Some(u) = u {
                tr = tr.with_control(u.as_array());
            }
            if let Some(x_dot) = x_dot {
                tr = tr.with_target(x_dot.as_array());
            }
            tr
        })
        .collect()
}

/// The derivative of `x` (`(n_samples, n_states)`) at time `t` (a step or the sample times) by the
/// differentiation `spec`; rows outside the method's valid range (with `drop_endpoints`) are NaN, as in
/// PySINDy.
#[pyfunction]
pub fn differentiate<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    t: Bound<'py, PyAny>,
    spec: Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let method = differentiation(&spec)?;
    let time = PyTime::new(&t)?;
    let (x, t) = (x.as_array(), time.time());
    let derivative = py.detach(|| method.differentiate(x, &t)).map_err(to_py)?;
    let mut x_dot = derivative.x_dot;
    for (i, mut row) in x_dot.rows_mut().into_iter().enumerate() {
        if !derivative.valid.contains(&i) {
            row.fill(f64::NAN);
        }
    }
    Ok(x_dot.into_pyarray(py))
}

/// The most decimals `equations` writes: a double has no more digits to show, and Rust's formatting
/// panics on a precision above 65535.
const MAX_PRECISION: usize = 100;

/// A fitted SINDy model: the Rust `SindyFit` and the differentiation that scores it.
///
/// It pickles (joblib, multiprocessing) through `__reduce__`: the specification it was fitted with, its
/// names, coefficients and report rebuild it with [`sindy_rebuild`] (an ensemble's members are not kept).
#[pyclass(module = "sparsimony._native", frozen)]
pub struct SindyModel {
    fit: SindyFit,
    differentiation: Differentiation,
    /// The specification dict of the fit (a copy), to rebuild the model when unpickled.
    spec: Py<PyDict>,
}

/// Rebuilds a pickled [`SindyModel`] (see its `__reduce__`): `spec` as `sindy_fit` takes it, the state
/// and control names, the coefficients and the report.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn sindy_rebuild(
    spec: Bound<'_, PyDict>,
    state_names: Vec<String>,
    control_names: Vec<String>,
    coef: PyReadonlyArray2<'_, f64>,
    report: crate::PickledReport,
    n_samples: usize,
) -> PyResult<SindyModel> {
    let report = crate::unpickle_report(report)?;
    let library = library(&item(&spec, "library")?.cast_into()?)?;
    let discrete: bool = item(&spec, "discrete_time")?.extract()?;
    let fit = SindyFit::from_parts(
        &library,
        state_names,
        control_names,
        coef.as_array().to_owned(),
        discrete,
        report,
        n_samples,
    )
    .map_err(to_py)?;
    Ok(SindyModel {
        fit,
        differentiation: differentiation(&item(&spec, "differentiation")?.cast_into()?)?,
        spec: spec.copy()?.unbind(),
    })
}

/// The model `spec` describes, with its state and control names.
fn model(
    spec: &Bound<'_, PyDict>,
    state_names: Option<Vec<String>>,
    control_names: Option<Vec<String>>,
) -> PyResult<Sindy> {
    Ok(Sindy {
        differentiation: differentiation(&item(spec, "differentiation")?.cast_into()?)?,
        library: library(&item(spec, "library")?.cast_into()?)?,
        optimizer: optimizer(&item(spec, "optimizer")?.cast_into()?)?,
        state_names,
        control_names,
        discrete_time: item(spec, "discrete_time")?.extract()?,
        ..Sindy::default()
    })
}

/// Normal equations as Python receives them: `(gram (p, p), cross (p, m), y_sq (m,), n_samples)`.
type PyNormal<'py> = (Bound<'py, PyArray2<f64>>, Bound<'py, PyArray2<f64>>, Vec<f64>, f64);

/// The rows a block of a trajectory needs from each neighbour under `spec` (`Sindy::block_halo`), or
/// `None` where blocks cannot be fitted separately.
#[pyfunction]
pub fn sindy_block_halo(spec: Bound<'_, PyDict>, targets_given: bool) -> PyResult<Option<usize>> {
    Ok(model(&spec, None, None)?.block_halo(targets_given))
}

/// The normal equations of rows `own_start..own_end` of `block` (`(x, t, u, x_dot)`, widened by the halo),
/// under `spec` (`Sindy::block_normal_equations`).
#[pyfunction]
#[pyo3(signature = (block, own_start, own_end, spec, feature_names=None, control_names=None))]
pub fn sindy_block_normal<'py>(
    py: Python<'py>,
    block: PyTrajectory<'py>,
    own_start: usize,
    own_end: usize,
    spec: Bound<'py, PyDict>,
    feature_names: Option<Vec<String>>,
    control_names: Option<Vec<String>>,
) -> PyResult<PyNormal<'py>> {
    let model = model(&spec, feature_names, control_names)?;
    let time = [PyTime::new(&block.1)?];
    let blocks = [block];
    let views = views(&blocks, &time);
    let ne = crate::detach_interruptible(py, || model.block_normal_equations(&views[0], own_start..own_end))?
        .map_err(to_py)?;
    let (p, m) = (ne.n_features(), ne.n_targets());
    let gram = ndarray::Array2::from_shape_fn((p, p), |(a, b)| ne.gram(a, b));
    let cross = ndarray::Array2::from_shape_fn((p, m), |(j, t)| ne.cross(j, t));
    Ok((
        gram.into_pyarray(py),
        cross.into_pyarray(py),
        (0..m).map(|t| ne.y_sq(t)).collect(),
        ne.n_samples(),
    ))
}

/// Fits SINDy under `spec` on normal equations summed over blocks (`Sindy::fit_normal_equations`).
#[pyfunction]
#[pyo3(signature = (gram, cross, y_sq, n_samples, n_controls, spec, feature_names=None, control_names=None))]
#[allow(clippy::too_many_arguments)]
pub fn sindy_fit_normal<'py>(
    py: Python<'py>,
    gram: PyReadonlyArray2<'py, f64>,
    cross: PyReadonlyArray2<'py, f64>,
    y_sq: Vec<f64>,
    n_samples: f64,
    n_controls: usize,
    spec: Bound<'py, PyDict>,
    feature_names: Option<Vec<String>>,
    control_names: Option<Vec<String>>,
) -> PyResult<SindyModel> {
    let model = model(&spec, feature_names, control_names)?;
    let ne = crate::normal_equations(&gram, &cross, y_sq, n_samples)?;
    let fit = crate::detach_interruptible(py, || model.fit_normal_equations(&ne, ne.n_targets(), n_controls))?
        .map_err(to_py)?;
    Ok(SindyModel {
        fit,
        differentiation: model.differentiation,
        spec: spec.copy()?.unbind(),
    })
}

/// Fits SINDy to `trajectories` (a list of `(x, t, u, x_dot)`) under `spec`, naming the states
/// `feature_names` (default `x0, x1, …`) and the controls `control_names`.
#[pyfunction]
#[pyo3(signature = (trajectories, spec, feature_names=None, control_names=None))]
pub fn sindy_fit<'py>(
    py: Python<'py>,
    trajectories: Vec<PyTrajectory<'py>>,
    spec: Bound<'py, PyDict>,
    feature_names: Option<Vec<String>>,
    control_names: Option<Vec<String>>,
) -> PyResult<SindyModel> {
    let model = model(&spec, feature_names, control_names)?;
    let times = trajectories
        .iter()
        .map(|(_, t, _, _)| PyTime::new(t))
        .collect::<PyResult<Vec<_>>>()?;
    let views = views(&trajectories, &times);
    let fit = crate::detach_interruptible(py, || model.fit(&views))?.map_err(to_py)?;
    Ok(SindyModel {
        fit,
        differentiation: model.differentiation,
        spec: spec.copy()?.unbind(),
    })
}

#[pymethods]
impl SindyModel {
    /// Pickling: `sindy_rebuild` and its arguments.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let rebuild = py.import("sparsimony._native")?.getattr("sindy_rebuild")?;
        let report = crate::pickle_report(self.fit.report());
        let args = (
            self.spec.bind(py).clone(),
            self.fit.state_names().to_vec(),
            self.fit.control_names().to_vec(),
            self.fit.coefficients().clone().into_pyarray(py),
            report,
            self.fit.n_samples(),
        )
            .into_pyobject(py)?;
        Ok((rebuild, args))
    }

    /// The coefficients, `(n_states, n_features)`.
    fn coefficients<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        self.fit.coefficients().clone().into_pyarray(py)
    }

    /// The library's term names.
    fn feature_names(&self) -> Vec<String> {
        self.fit.feature_names().to_vec()
    }

    /// The states' names.
    fn state_names(&self) -> Vec<String> {
        self.fit.state_names().to_vec()
    }

    /// The right-hand sides, PySINDy's format, coefficients to `precision` digits (at most
    /// [`MAX_PRECISION`]).
    fn equations(&self, precision: usize) -> PyResult<Vec<String>> {
        if precision > MAX_PRECISION {
            return Err(PyValueError::new_err(format!(
                "precision must lie in 0..={MAX_PRECISION} (decimals of each coefficient), got {precision}"
            )));
        }
        Ok(self.fit.equations(precision))
    }

    /// The left-hand sides (`x0'` or `x0[k+1]`).
    fn lhs(&self) -> Vec<String> {
        self.fit.lhs()
    }

    /// `Ξ θ(x, u)` for each sample.
    #[pyo3(signature = (x, u=None))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
        u: Option<PyReadonlyArray2<'py, f64>>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (x, u) = (x.as_array(), u.as_ref().map(|u| u.as_array()));
        let out = py.detach(|| self.fit.predict(x, u)).map_err(to_py)?;
        Ok(out.into_pyarray(py))
    }

    /// R² of the model's output on the trajectories, averaged over states (PySINDy's `score`).
    fn score(&self, py: Python<'_>, trajectories: Vec<PyTrajectory<'_>>) -> PyResult<f64> {
        let times = trajectories
            .iter()
            .map(|(_, t, _, _)| PyTime::new(t))
            .collect::<PyResult<Vec<_>>>()?;
        let views = views(&trajectories, &times);
        py.detach(|| self.fit.score((&views, &self.differentiation)))
            .map_err(to_py)
    }

    /// Integrates the model from `x0` to each of `t` (Dormand–Prince at `rtol`, `atol`); `u`, when the
    /// model has controls, is called as `u(t)` and returns the control values. A discrete-time model is
    /// iterated `len(t)` steps instead (with `u` an array of one row per step).
    #[pyo3(signature = (x0, t, u=None, rtol=1e-10, atol=1e-10, max_steps=100_000))]
    #[allow(clippy::too_many_arguments)]
    fn simulate<'py>(
        &self,
        py: Python<'py>,
        x0: PyReadonlyArray1<'py, f64>,
        t: Bound<'py, PyAny>,
        u: Option<Bound<'py, PyAny>>,
        rtol: f64,
        atol: f64,
        max_steps: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        if self.fit.is_discrete_time() {
            let steps: usize = t.extract()?;
            let u: Option<PyReadonlyArray2<'py, f64>> = u.map(|u| u.extract()).transpose()?;
            let (x0, u) = (x0.as_array(), u.as_ref().map(|u| u.as_array()));
            let out = py.detach(|| self.fit.simulate_discrete(x0, steps, u)).map_err(to_py)?;
            return Ok(out.into_pyarray(py));
        }
        let times: PyReadonlyArray1<'py, f64> = t.extract()?;
        let options = SimulateOptions { rtol, atol, max_steps };
        if u.is_none() {
            // Nothing of Python's is called: integrate without the GIL.
            let (x0, times) = (x0.as_array(), times.as_array());
            let out = py
                .detach(|| self.fit.simulate(x0, times, None, &options))
                .map_err(to_py)?;
            return Ok(out.into_pyarray(py));
        }
        // The control callback runs Python, so the GIL is kept; its first error ends the integration.
        let mut failure: Option<PyErr> = None;
        let mut call = |time: f64, out: &mut [f64]| {
            if failure.is_some() {
                return;
            }
            let values = u
                .as_ref()
                .map(|f| f.call1((time,)).and_then(|v| v.extract::<Vec<f64>>()));
            match values {
                Some(Ok(v)) if v.len() == out.len() => out.copy_from_slice(&v),
                Some(Ok(v)) => {
                    failure = Some(PyValueError::new_err(format!(
                        "u(t) returned {} values for {} control inputs",
                        v.len(),
                        out.len()
                    )))
                }
                Some(Err(e)) => failure = Some(e),
                None => {}
            }
        };
        let control: Option<ControlFn<'_>> = if u.is_some() { Some(&mut call) } else { None };
        let result = self.fit.simulate(x0.as_array(), times.as_array(), control, &options);
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(result.map_err(to_py)?.into_pyarray(py))
    }

    /// The model as Rust source for `sparsimony-core` (a module of statics, for a microcontroller), in
    /// scalar type `ty` ("f32" or "f64").
    #[pyo3(signature = (name="model", ty="f32"))]
    fn export(&self, name: &str, ty: &str) -> PyResult<String> {
        self.fit
            .export()
            .and_then(|m| m.to_rust_source(name, ty))
            .map_err(to_py)
    }

    /// The coefficient of each ensemble member, `(n_models, n_states, n_features)`, and the inclusion
    /// probabilities, `(n_states, n_features)`; `None` without an ensemble.
    #[allow(clippy::type_complexity)]
    fn ensemble<'py>(&self, py: Python<'py>) -> Option<(Vec<Bound<'py, PyArray2<f64>>>, Bound<'py, PyArray2<f64>>)> {
        self.fit.ensemble().map(|e| {
            (
                e.models.iter().map(|m| m.clone().into_pyarray(py)).collect(),
                e.inclusion.clone().into_pyarray(py),
            )
        })
    }

    /// The fit's report: `(iterations, converged, reached, tolerance)`.
    fn report(&self) -> (usize, bool, f64, f64) {
        crate::report(self.fit.report())
    }

    /// Samples the fit used.
    fn n_samples(&self) -> usize {
        self.fit.n_samples()
    }
}
