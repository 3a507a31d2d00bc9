//! `sparsimony.radio`'s native half: recorded visibilities read from a Measurement Set or a UVFITS file
//! into arrays, and the joint imaging and self-calibration of such arrays on a list of known sources.

use std::path::PathBuf;

use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsimony::solvers::Estimator;
use sparsimony::solvers::radio::{
    Complex64, Correlation, Ddes, Imaging, PointSource, Prior, SelfCalibration, Stage, UvData,
};

use crate::to_py;

/// A correlation's name (`"XX"`, `"RR"`, …) and back.
const CORRELATIONS: [(&str, Correlation); 8] = [
    ("RR", Correlation::RR),
    ("RL", Correlation::RL),
    ("LR", Correlation::LR),
    ("LL", Correlation::LL),
    ("XX", Correlation::XX),
    ("XY", Correlation::XY),
    ("YX", Correlation::YX),
    ("YY", Correlation::YY),
];

fn correlation_name(c: Correlation) -> &'static str {
    CORRELATIONS.iter().find(|(_, k)| *k == c).map_or("?", |(n, _)| n)
}

/// Reads the Measurement Set (a folder) or UVFITS file at `path` into a dict of arrays (the keys of
/// `radio_calibrate`'s `vis`): `n_antennas`; per row `antenna1`, `antenna2` (0-based), `time` (s),
/// `uvw` (rows × 3, metres), `spectral_window`; `frequencies` (windows × channels, Hz); `correlations`
/// (names); `data` (rows × channels × correlations, complex, Jy), `weights` and `flags` alike;
/// `phase_centre` (RA, Dec in degrees).
#[pyfunction]
#[pyo3(signature = (path, *, data_column="DATA", field=0))]
pub fn radio_read(py: Python<'_>, path: PathBuf, data_column: &str, field: usize) -> PyResult<Py<PyDict>> {
    let data = if path.is_dir() {
        let selection = sparsimony::io::measurement_set::Selection {
            data_column: data_column.to_owned(),
            field,
        };
        py.detach(|| sparsimony::io::measurement_set::read(&path, &selection))
    } else {
        py.detach(|| sparsimony::io::uvfits::read(&path))
    }
    .map_err(|e| PyValueError::new_err(e.to_string()))?;
    to_dict(py, data)
}

fn to_dict(py: Python<'_>, d: UvData) -> PyResult<Py<PyDict>> {
    let (rows, windows) = (d.n_rows(), d.frequencies.len());
    let (channels, corrs) = (d.frequencies.first().map_or(0, Vec::len), d.correlations.len());
    let shape = |v: Vec<f64>, s: (usize, usize)| ndarray::Array2::from_shape_vec(s, v);
    let out = PyDict::new(py);
    out.set_item("n_antennas", d.n_antennas)?;
    let index = |v: Vec<usize>| v.into_iter().map(|x| x as i64).collect::<Vec<_>>();
    out.set_item("antenna1", index(d.antenna1).into_pyarray(py))?;
    out.set_item("antenna2", index(d.antenna2).into_pyarray(py))?;
    out.set_item("spectral_window", index(d.spectral_window).into_pyarray(py))?;
    out.set_item("time", d.time.into_pyarray(py))?;
    let uvw = shape(d.uvw.concat(), (rows, 3)).map_err(|e| PyValueError::new_err(e.to_string()))?;
    out.set_item("uvw", uvw.into_pyarray(py))?;
    let frequencies =
        shape(d.frequencies.concat(), (windows, channels)).map_err(|e| PyValueError::new_err(e.to_string()))?;
    out.set_item("frequencies", frequencies.into_pyarray(py))?;
    let names: Vec<&str> = d.correlations.iter().map(|c| correlation_name(*c)).collect();
    out.set_item("correlations", names)?;
    let cube = (rows, channels, corrs);
    let err = |e: ndarray::ShapeError| PyValueError::new_err(e.to_string());
    out.set_item(
        "data",
        ndarray::Array3::from_shape_vec(cube, d.data)
            .map_err(err)?
            .into_pyarray(py),
    )?;
    out.set_item(
        "weights",
        ndarray::Array3::from_shape_vec(cube, d.weights)
            .map_err(err)?
            .into_pyarray(py),
    )?;
    out.set_item(
        "flags",
        ndarray::Array3::from_shape_vec(cube, d.flags)
            .map_err(err)?
            .into_pyarray(py),
    )?;
    out.set_item(
        "phase_centre",
        (d.phase_centre[0].to_degrees(), d.phase_centre[1].to_degrees()),
    )?;
    Ok(out.unbind())
}

/// Recorded visibilities as Python passes them (the dict of [`radio_read`]).
#[derive(FromPyObject)]
pub struct Visibilities<'py> {
    #[pyo3(item)]
    n_antennas: usize,
    #[pyo3(item)]
    antenna1: PyReadonlyArray1<'py, i64>,
    #[pyo3(item)]
    antenna2: PyReadonlyArray1<'py, i64>,
    #[pyo3(item)]
    time: PyReadonlyArray1<'py, f64>,
    #[pyo3(item)]
    uvw: PyReadonlyArray2<'py, f64>,
    #[pyo3(item)]
    spectral_window: PyReadonlyArray1<'py, i64>,
    #[pyo3(item)]
    frequencies: PyReadonlyArray2<'py, f64>,
    #[pyo3(item)]
    correlations: Vec<String>,
    #[pyo3(item)]
    data: PyReadonlyArray3<'py, Complex64>,
    #[pyo3(item)]
    weights: PyReadonlyArray3<'py, f64>,
    #[pyo3(item)]
    flags: PyReadonlyArray3<'py, bool>,
    #[pyo3(item)]
    phase_centre: (f64, f64),
}

impl Visibilities<'_> {
    /// The library's [`UvData`] (its `validate` checks the rest).
    fn uv_data(&self) -> PyResult<UvData> {
        let index = |name: &str, v: &PyReadonlyArray1<'_, i64>| -> PyResult<Vec<usize>> {
            v.as_array()
                .iter()
                .enumerate()
                .map(|(r, &x)| {
                    usize::try_from(x)
                        .map_err(|_| PyValueError::new_err(format!("{name}[{r}] = {x}: indices are 0, 1, …")))
                })
                .collect()
        };
        let uvw = self.uvw.as_array();
        if uvw.ncols() != 3 {
            return Err(PyValueError::new_err(format!(
                "uvw must be rows × 3 (metres), got {:?}",
                uvw.dim()
            )));
        }
        let correlations = self
            .correlations
            .iter()
            .map(|n| {
                CORRELATIONS
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(n))
                    .map(|(_, c)| *c)
                    .ok_or_else(|| PyValueError::new_err(format!("correlation {n:?}: one of RR RL LR LL XX XY YX YY")))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let (ra, dec) = self.phase_centre;
        Ok(UvData {
            n_antennas: self.n_antennas,
            antenna1: index("antenna1", &self.antenna1)?,
            antenna2: index("antenna2", &self.antenna2)?,
            time: self.time.as_array().to_vec(),
            uvw: uvw.rows().into_iter().map(|r| [r[0], r[1], r[2]]).collect(),
            spectral_window: index("spectral_window", &self.spectral_window)?,
            frequencies: self
                .frequencies
                .as_array()
                .rows()
                .into_iter()
                .map(|r| r.to_vec())
                .collect(),
            correlations,
            data: self.data.as_array().iter().copied().collect(),
            weights: self.weights.as_array().iter().copied().collect(),
            flags: self.flags.as_array().iter().copied().collect(),
            phase_centre: [ra.to_radians(), dec.to_radians()],
        })
    }
}

/// Self-calibrates `vis` (the dict of [`radio_read`]) on the known sources `sky` (k × 3: RA, Dec in
/// degrees, flux density in Jy), imaging `image_size` pixels of `cell_arcsec` about the phase centre.
/// Returns a dict: `image`, `faint`, `die_faint` (N × N, Jy/pixel, row 0 the south, column 0 the east),
/// `die_gains` (time steps × antennas, complex), `ddes` (time steps × antennas × S × S, the two copies'
/// mean), `history` (the criterion per outer iteration), `stages` (`"die"`/`"dde"` per entry),
/// `converged`, `decrease`, `tolerance`, `gain_scale`, `reduced_chi2` (None without weights), `kept`,
/// `dropped`, `w_phase`, `step_times`, `seconds` (image blocks, DDE blocks, joint steps).
#[pyfunction]
#[pyo3(signature = (vis, sky, *, image_size, cell_arcsec, dde_size=5, prior="l1", eta=None, tol=None,
    max_outer=100, joint_steps=5, solution_interval=0.0, accuracy=1e-8))]
#[allow(clippy::too_many_arguments)]
pub fn radio_calibrate(
    py: Python<'_>,
    vis: Visibilities<'_>,
    sky: PyReadonlyArray2<'_, f64>,
    image_size: usize,
    cell_arcsec: f64,
    dde_size: usize,
    prior: &str,
    eta: Option<f64>,
    tol: Option<f64>,
    max_outer: usize,
    joint_steps: usize,
    solution_interval: f64,
    accuracy: f64,
) -> PyResult<Py<PyDict>> {
    let data = vis.uv_data()?;
    let imaging = Imaging {
        image_size,
        cell_arcsec,
        tolerance: accuracy,
        solution_interval,
        ..Imaging::default()
    };
    let sky = sky.as_array();
    if sky.ncols() != 3 {
        return Err(PyValueError::new_err(format!(
            "sky must be k × 3 (RA, Dec in degrees, flux in Jy), got {:?}",
            sky.dim()
        )));
    }
    let mut sources = Vec::with_capacity(sky.nrows());
    for row in sky.rows() {
        let (r, c) = imaging.pixel(row[0], row[1], data.phase_centre).map_err(to_py)?;
        sources.push(PointSource {
            row: r,
            col: c,
            flux: row[2],
        });
    }
    let prior: Prior = prior.parse().map_err(to_py)?;
    let mut cal = SelfCalibration {
        dde_size,
        prior,
        eta: eta.unwrap_or(prior.paper_eta()),
        dde_max_outer: max_outer,
        joint_steps,
        ..SelfCalibration::default()
    };
    if let Some(tol) = tol {
        cal.tol = tol;
        cal.die_max_outer = cal.die_max_outer.max(max_outer);
    }
    let (reduced, fit) = py
        .detach(|| -> Result<_, sparsimony::solvers::Error> {
            let reduced = data.stokes_i(&imaging)?;
            let fit = cal.fit((&reduced.observation, sources.as_slice()))?;
            Ok((reduced, fit))
        })
        .map_err(to_py)?;
    let out = PyDict::new(py);
    for (name, image) in [
        ("image", &fit.image),
        ("faint", &fit.faint),
        ("die_faint", &fit.die_faint),
    ] {
        out.set_item(name, image.clone().into_pyarray(py))?;
    }
    out.set_item("die_gains", gains(&fit.die).into_pyarray(py))?;
    let mut mean = fit.ddes[0].clone();
    for (m, b) in mean.taps_mut().iter_mut().zip(fit.ddes[1].taps()) {
        *m = 0.5 * (*m + b);
    }
    let s = mean.size();
    let ddes = ndarray::Array4::from_shape_vec((mean.n_times(), mean.n_antennas(), s, s), mean.taps().to_vec())
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    out.set_item("ddes", ddes.into_pyarray(py))?;
    out.set_item("history", fit.history.iter().map(|o| o.criterion).collect::<Vec<_>>())?;
    let stages: Vec<&str> = fit
        .history
        .iter()
        .map(|o| if o.stage == Stage::Die { "die" } else { "dde" })
        .collect();
    out.set_item("stages", stages)?;
    out.set_item("converged", fit.report.converged)?;
    out.set_item("decrease", fit.report.reached)?;
    out.set_item("tolerance", fit.report.tolerance)?;
    out.set_item("gain_scale", fit.gain_scale)?;
    let chi2 = fit
        .history
        .last()
        .and_then(|o| reduced.observation.reduced_chi2(o.data));
    out.set_item("reduced_chi2", chi2)?;
    out.set_item("kept", reduced.kept)?;
    out.set_item("dropped", reduced.dropped)?;
    out.set_item("w_phase", reduced.w_phase)?;
    out.set_item("step_times", reduced.step_times)?;
    out.set_item("seconds", (fit.seconds[0], fit.seconds[1], fit.seconds[2]))?;
    Ok(out.unbind())
}

/// The centre taps of `d` (time steps × antennas).
fn gains(d: &Ddes) -> ndarray::Array2<Complex64> {
    let centre = d.size() * d.size() / 2;
    ndarray::Array2::from_shape_fn((d.n_times(), d.n_antennas()), |(t, a)| d.kernel(t, a)[centre])
}
