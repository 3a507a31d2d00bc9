//! The GP-PDE solver for Python: a problem parsed from TOML text (or a dict, written as TOML), solved
//! with the settings the command line starts from, and the solution's arrays as NumPy arrays.
//!
//! Grids are tensor grids given by their coordinates per axis; arrays on them are shaped
//! `(len(axis 0), len(axis 1), …)`, C order (the first axis slowest), as the solver stores them.

use std::ops::ControlFlow;

use ndarray::Array1;
use numpy::{IntoPyArray, PyArray1, PyArrayDyn, PyReadonlyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use sparsimony_solvers::gp_pde::accuracy::Indicator;
use sparsimony_solvers::gp_pde::{
    self, Component, Method, Objective, Problem, Solution, SolutionParts, SpectralMixture, Spectrum,
};

use sparsimony_solvers::Error;

use crate::{PyReport, report, to_py};

/// How deeply a dict problem may nest (a problem nests three levels; the recursion below must not run
/// out of stack on a hostile one).
const MAX_DEPTH: usize = 32;

/// `obj` (str, int, float, bool, list/tuple, dict with str keys, nested) as a TOML value, at nesting
/// `depth`.
fn toml_value(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<toml::Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "a problem nests lists and dicts at most {MAX_DEPTH} deep"
        )));
    }
    // bool before int: Python's bools are ints.
    if obj.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(obj.extract()?));
    }
    if obj.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract().map(toml::Value::Integer).map_err(|_| {
            PyValueError::new_err(format!("{obj} does not fit a 64-bit integer, as problem numbers must"))
        });
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(obj.extract()?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        return toml_table(d, depth + 1).map(toml::Value::Table);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return obj
            .try_iter()?
            .map(|v| toml_value(&v?, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(toml::Value::Array);
    }
    // NumPy scalars and other numbers.
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(toml::Value::Integer(i));
    }
    if let Ok(x) = obj.extract::<f64>() {
        return Ok(toml::Value::Float(x));
    }
    Err(PyTypeError::new_err(format!(
        "a problem holds strings, numbers, booleans, lists and dicts; got {} ({})",
        obj.repr()?,
        obj.get_type().name()?
    )))
}

/// `d` (str keys) as a TOML table, at nesting `depth`.
fn toml_table(d: &Bound<'_, PyDict>, depth: usize) -> PyResult<toml::Table> {
    let mut table = toml::Table::new();
    for (k, v) in d.iter() {
        let key: String = k
            .extract()
            .map_err(|_| PyTypeError::new_err(format!("problem keys must be strings, got {k}")))?;
        table.insert(key, toml_value(&v, depth)?);
    }
    Ok(table)
}

/// A PDE problem: domain, grid, equations, boundary data and (optionally) the exact solution.
#[pyclass(module = "sparsimony._native", frozen)]
pub struct PdeProblem {
    problem: Problem,
}

#[pymethods]
impl PdeProblem {
    /// Parses `spec`: the TOML text of a problem, or the same as a dict (`{"axis": [{...}], "equation":
    /// [{...}], ...}`).
    #[new]
    fn new(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (text, from_dict) = match (spec.extract::<String>(), spec.cast::<PyDict>()) {
            (Ok(text), _) => (text, false),
            (_, Ok(d)) => (
                toml::to_string(&toml_table(d, 0)?)
                    .map_err(|e| PyValueError::new_err(format!("problem description: {e}")))?,
                true,
            ),
            _ => {
                return Err(PyTypeError::new_err(format!(
                    "a problem is TOML text or a dict, got {}",
                    spec.get_type().name()?
                )));
            }
        };
        let problem = Problem::from_toml(&text).map_err(|e| match e {
            // A dict's TOML was written here: a line and column in it would point at text the user
            // never saw.
            Error::Problem { message, .. } if from_dict => Error::Problem {
                line: None,
                column: None,
                message,
            },
            e => e,
        });
        Ok(Self {
            problem: problem.map_err(to_py)?,
        })
    }

    /// A built-in problem by name.
    #[staticmethod]
    fn benchmark(name: &str) -> PyResult<Self> {
        Ok(Self {
            problem: Problem::benchmark(name).map_err(to_py)?,
        })
    }

    /// The problem on a grid of `points` per axis (one count for every axis, or one per axis).
    fn with_grid(&self, points: Vec<usize>) -> PyResult<Self> {
        Ok(Self {
            problem: self.problem.clone().with_grid(&points).map_err(to_py)?,
        })
    }

    /// Its name.
    #[getter]
    fn name(&self) -> &str {
        self.problem.name()
    }

    /// Its description.
    #[getter]
    fn description(&self) -> &str {
        self.problem.description()
    }

    /// The names of its fields (the unknown functions).
    #[getter]
    fn fields(&self) -> Vec<String> {
        self.problem.fields().to_vec()
    }

    /// The names of its axes.
    #[getter]
    fn axes(&self) -> Vec<String> {
        self.problem.axis_names().iter().map(|s| s.to_string()).collect()
    }

    /// Points per axis of the collocation grid.
    #[getter]
    fn shape(&self) -> Vec<usize> {
        self.problem.axes().iter().map(|a| a.points).collect()
    }

    /// The collocation grid: equispaced coordinates per axis, ends included (`ValueError` for an axis
    /// whose coordinates would take more than 16 GiB).
    #[getter]
    fn grid<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyArray1<f64>>>> {
        self.problem
            .axes()
            .iter()
            .map(|a| Ok(Array1::from(a.coordinates().map_err(to_py)?).into_pyarray(py)))
            .collect()
    }

    /// Whether it gives the exact solution.
    #[getter]
    fn has_exact(&self) -> bool {
        self.problem.has_exact()
    }

    /// The exact solution of every field on the tensor grid of `coordinates` (one array per axis), or
    /// `None` without one.
    fn exact<'py>(
        &self,
        py: Python<'py>,
        coordinates: Vec<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<Option<Vec<Bound<'py, PyArrayDyn<f64>>>>> {
        let points = coordinate_vecs(&coordinates, self.problem.axes().len())?;
        let problem = &self.problem;
        let exact = py.detach(|| problem.exact_on(&points)).map_err(to_py)?;
        let shape: Vec<usize> = points.iter().map(Vec::len).collect();
        exact
            .map(|fields| fields.into_iter().map(|f| shaped(py, &shape, f)).collect())
            .transpose()
    }
}

/// The coordinates per axis as vectors, checked: one finite array per axis.
fn coordinate_vecs(coordinates: &[PyReadonlyArray1<'_, f64>], axes: usize) -> PyResult<Vec<Vec<f64>>> {
    if coordinates.len() != axes {
        return Err(PyValueError::new_err(format!(
            "the problem has {axes} axes, got coordinates for {}",
            coordinates.len()
        )));
    }
    coordinates
        .iter()
        .enumerate()
        .map(|(d, c)| {
            let v = c.as_array().to_vec();
            match v.iter().position(|x| !x.is_finite()) {
                Some(i) => Err(PyValueError::new_err(format!(
                    "coordinate {i} of axis {d} is not finite ({})",
                    v[i]
                ))),
                None => Ok(v),
            }
        })
        .collect()
}

/// `values` (row-major) as an array of `shape`.
fn shaped<'py>(py: Python<'py>, shape: &[usize], values: Vec<f64>) -> PyResult<Bound<'py, PyArrayDyn<f64>>> {
    ndarray::ArrayD::from_shape_vec(shape, values)
        .map(|a| a.into_pyarray(py))
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A solved problem: the GP's values on the collocation grid, its posterior mean anywhere, the learned
/// kernels, and how the solve went.
#[pyclass(module = "sparsimony._native", frozen)]
pub struct PdeSolution {
    solution: Solution,
    /// Wall-clock seconds of the solve.
    #[pyo3(get)]
    seconds: f64,
    /// The indicator the refinement measured it by, with the problem it was measured on (not
    /// computed again for that problem).
    indicator: Option<(Problem, Indicator)>,
}

/// A kernel as pickled: `(family, Student-t degrees of freedom or 0, [(weight, mean, scale), ...])`.
type PickledKernel = (String, u32, Vec<(f64, f64, f64)>);

/// A solution as pickled: axes `(lower, step, points)`, kernels per field and axis, values and weights
/// per field, log precisions, objective `(total, residual_rms, boundary_rms)`, report, seconds.
type PickledSolution = (
    Vec<(f64, f64, usize)>,
    Vec<Vec<PickledKernel>>,
    Vec<Vec<f64>>,
    Vec<Vec<f64>>,
    (f64, f64),
    (f64, f64, f64),
    crate::PickledReport,
    f64,
);

/// Rebuilds a pickled [`PdeSolution`] (see its `__reduce__`).
#[pyfunction]
pub fn pde_rebuild(state: PickledSolution) -> PyResult<PdeSolution> {
    let (axes, kernels, values, weights, (lv, lt), (total, residual_rms, boundary_rms), report, seconds) = state;
    let kernels = kernels
        .into_iter()
        .map(|per_axis| {
            per_axis
                .into_iter()
                .map(|(family, dof, components)| {
                    // The pickle's format: the family ("gaussian" or "student_t") and the degrees of
                    // freedom apart, as every version has written it.
                    let spectrum = match family.as_str() {
                        "gaussian" => Spectrum::Gaussian,
                        "student_t" => Spectrum::StudentT { dof },
                        other => return Err(PyValueError::new_err(format!("unknown spectral family {other:?}"))),
                    };
                    let components = components
                        .into_iter()
                        .map(|(weight, mean, scale)| Component { weight, mean, scale })
                        .collect();
                    SpectralMixture::new(spectrum, components).map_err(to_py)
                })
                .collect::<PyResult<Vec<_>>>()
        })
        .collect::<PyResult<Vec<_>>>()?;
    let solution = Solution::from_parts(SolutionParts {
        axes,
        kernels,
        values,
        weights,
        log_precisions: [lv, lt],
        objective: Objective {
            total,
            residual_rms,
            boundary_rms,
        },
        report: crate::unpickle_report(report)?,
    })
    .map_err(to_py)?;
    Ok(PdeSolution {
        solution,
        seconds,
        indicator: None,
    })
}

#[pymethods]
impl PdeSolution {
    /// Pickling (joblib, multiprocessing): `pde_rebuild` and the solution as plain data.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (PickledSolution,))> {
        let rebuild = py.import("sparsimony._native")?.getattr("pde_rebuild")?;
        let p = self.solution.to_parts();
        let kernels = p
            .kernels
            .iter()
            .map(|per_axis| {
                per_axis
                    .iter()
                    .map(|k| {
                        let (family, dof) = match k.spectrum() {
                            Spectrum::Gaussian => ("gaussian", 0),
                            Spectrum::StudentT { dof } => ("student_t", dof),
                        };
                        let cs = k.components().iter().map(|c| (c.weight, c.mean, c.scale)).collect();
                        (family.to_string(), dof, cs)
                    })
                    .collect()
            })
            .collect();
        let o = p.objective;
        Ok((
            rebuild,
            ((
                p.axes,
                kernels,
                p.values,
                p.weights,
                (p.log_precisions[0], p.log_precisions[1]),
                (o.total, o.residual_rms, o.boundary_rms),
                crate::pickle_report(&p.report),
                self.seconds,
            ),),
        ))
    }

    /// The values of every field on the collocation grid, each shaped as the grid.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyArrayDyn<f64>>>> {
        (0..self.solution.fields())
            .map(|f| Ok(self.solution.values(f).map_err(to_py)?.into_pyarray(py)))
            .collect()
    }

    /// The posterior mean of every field on the tensor grid of `coordinates` (one array per axis).
    fn predict<'py>(
        &self,
        py: Python<'py>,
        coordinates: Vec<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<Vec<Bound<'py, PyArrayDyn<f64>>>> {
        let views: Vec<_> = coordinates.iter().map(|c| c.as_array()).collect();
        let predicted = py
            .detach(|| {
                (0..self.solution.fields())
                    .map(|f| self.solution.predict(f, &views))
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(to_py)?;
        Ok(predicted.into_iter().map(|a| a.into_pyarray(py)).collect())
    }

    /// The relative L2 errors against `problem`'s exact solution on the command line's test grid (300
    /// points in 1D, 100 per axis above): `(over all fields, per field)`, or `None` without an exact
    /// solution; `ValueError` where the exact solution is not finite at a test point.
    fn test_errors(&self, py: Python<'_>, problem: &PdeProblem) -> PyResult<Option<(f64, Vec<f64>)>> {
        py.detach(|| gp_pde::accuracy::test_errors(&problem.problem, &self.solution))
            .map_err(to_py)
    }

    /// The residual indicator of the solution on `problem` (the one it was solved from):
    /// `(pde_residual, boundary_residual, error_estimate, null_space, missing_data)`: the residuals off the collocation
    /// grid, each relative to the equation's or the data's scale, the relative error estimated through
    /// the operator's amplification of them (`None` outside that estimate's scope, infinite for a null
    /// space or boundary data too few to determine the solution), whether the data leave a null space, and
    /// what data are missing where too few (`gp_pde::accuracy::residual_indicator`, `gp_pde::stability`).
    #[allow(clippy::type_complexity)]
    fn residual_indicator(
        &self,
        py: Python<'_>,
        problem: &PdeProblem,
    ) -> PyResult<(f64, f64, Option<f64>, bool, Option<String>)> {
        let i = match &self.indicator {
            Some((p, i)) if *p == problem.problem => *i,
            _ => py
                .detach(|| gp_pde::accuracy::residual_indicator(&problem.problem, &self.solution))
                .map_err(to_py)?,
        };
        Ok((
            i.residual,
            i.boundary,
            i.estimate(),
            i.null_space(),
            i.shortfall.map(|s| s.describe(&problem.problem)),
        ))
    }

    /// The learned kernels: per field and axis, a list of `(weight, frequency, length_scale)` per
    /// mixture component (frequency in cycles per unit of the axis, length scale in its units).
    fn components(&self) -> Vec<Vec<Vec<(f64, f64, f64)>>> {
        self.solution
            .components()
            .iter()
            .map(|axes| {
                axes.iter()
                    .map(|cs| cs.iter().map(|c| (c.weight, c.frequency, c.length_scale)).collect())
                    .collect()
            })
            .collect()
    }

    /// Mixture components kept per field and axis (weight above `1e-6` of the largest).
    fn components_kept(&self) -> Vec<Vec<usize>> {
        self.solution.components_kept()
    }

    /// The objective of the kept iterate: `(total, residual_rms, boundary_rms)`.
    fn objective(&self) -> (f64, f64, f64) {
        let o = self.solution.objective;
        (o.total, o.residual_rms, o.boundary_rms)
    }

    /// How the solve ended: `(outer iterations, converged, reached, tolerance)` (see the solvers'
    /// `Solution`: the inner solves' largest relative residual against their tolerance).
    fn report(&self) -> PyReport {
        report(&self.solution.report)
    }
}

/// Solves `problem` with the settings the command line starts from (`method` "exact" or "adam",
/// `spectrum` one of `Spectrum::NAMES`, by default the problem's `[solver] spectrum` or "student_t"),
/// overridden by the given ones. `callback(iteration, objective)`
/// is called after every outer iteration (with the GIL); returning `True` stops the solve there, as
/// does Ctrl-C (KeyboardInterrupt is raised) — both take effect when the current outer iteration ends.
#[pyfunction]
#[pyo3(signature = (problem, *, method="exact", spectrum=None, components=None, iterations=None,
    learning_rate=None, callback=None, refine=true))]
#[allow(clippy::too_many_arguments)]
pub fn pde_solve(
    py: Python<'_>,
    problem: &PdeProblem,
    method: &str,
    spectrum: Option<&str>,
    components: Option<usize>,
    iterations: Option<usize>,
    learning_rate: Option<f64>,
    callback: Option<Py<PyAny>>,
    refine: bool,
) -> PyResult<PdeSolution> {
    let method: Method = method.parse().map_err(to_py)?;
    let mut settings = gp_pde::settings_for(&problem.problem, method, components, iterations);
    let chosen_spectrum = spectrum.map(str::to_owned);
    settings.spectrum = match spectrum {
        None => settings.spectrum,
        Some(name) => name.parse().map_err(to_py)?,
    };
    if let Some(lr) = learning_rate {
        settings.learning_rate = lr;
    }
    // Owned, so that Ctrl-C returns at once (the set-up's eigendecompositions cannot be cut short; the
    // solver, told to stop, ends at its next poll in the background).
    let problem = problem.problem.clone();
    let (solved, raised) = crate::detach_abandonable(py, move || {
        // An error raised by the callback, to be raised once the solver has stopped.
        let mut raised: Option<PyErr> = None;
        let solved = (|| {
            // Ctrl-C, seen by the watcher, stops the solver through the stop hook, which it polls; its
            // exception is raised by the caller. The callback is the user's own rule. Refined as the
            // command line refines (`gp_pde::refine`): again with raised precisions (then the other
            // spectral family, then the broadband start) while the estimated error stays above its target.
            let refine = if refine {
                gp_pde::refine::Refine {
                    other_spectrum: chosen_spectrum.is_none() && problem.spectrum().is_none(),
                    ..gp_pde::refine::Refine::DEFAULT
                }
            } else {
                gp_pde::refine::Refine::OFF
            };
            let refined = gp_pde::refine::solve_refined(&problem, &settings, refine, |it| {
                let Some(f) = &callback else {
                    return ControlFlow::Continue(());
                };
                Python::attach(|py| {
                    match f
                        .call1(py, (it.iteration, it.objective.total))
                        .and_then(|v| v.is_truthy(py))
                    {
                        Ok(false) => ControlFlow::Continue(()),
                        Ok(true) => ControlFlow::Break(()),
                        Err(e) => {
                            raised = Some(e);
                            ControlFlow::Break(())
                        }
                    }
                })
            })?;
            let seconds = refined.attempts.iter().map(|a| a.seconds).sum::<f64>();
            Ok::<_, sparsimony_solvers::Error>((refined.solution, seconds, (problem, refined.indicator)))
        })();
        (solved, raised)
    })?;
    if let Some(e) = raised {
        return Err(e);
    }
    let (solution, seconds, indicator) = solved.map_err(to_py)?;
    Ok(PdeSolution {
        solution,
        seconds,
        indicator: Some(indicator),
    })
}

/// The built-in problems: `(name, description)` pairs.
#[pyfunction]
pub fn pde_benchmarks() -> PyResult<Vec<(String, String)>> {
    Problem::benchmark_names()
        .into_iter()
        .map(|n| {
            let p = Problem::benchmark(n).map_err(to_py)?;
            Ok((n.to_string(), p.description().to_string()))
        })
        .collect()
}

/// The TOML text of a built-in problem.
#[pyfunction]
pub fn pde_benchmark_toml(name: &str) -> PyResult<&'static str> {
    Problem::benchmark_toml(name).map_err(to_py)
}
