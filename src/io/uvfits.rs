//! UVFITS files (AIPS Memo 117, Greisen: FITS random groups of visibilities) read into [`UvData`],
//! through fits-well: the primary array's groups — random parameters `UU`, `VV`, `WW` (seconds of light
//! travel), `DATE` (Julian date; addends of one name summed), `BASELINE` (`256·a₁ + a₂`, or
//! `2048·a₁ + a₂ + 65536` beyond 255 antennas) or `ANTENNA1`/`ANTENNA2`, and an array over the axes
//! `COMPLEX` (real, imaginary, weight), `STOKES`, `FREQ`, `IF`, `RA`, `DEC` in any order — the `AIPS AN`
//! table (its stations `NOSTA`, the antennas' numbers) and the `AIPS FQ` table (`IF FREQ`, each IF's
//! offset from the `FREQ` axis). A non-positive weight flags its value, as AIPS writes flags. Each IF
//! is a spectral window: every group becomes one row per IF. Every problem is an [`IoError::Table`]
//! naming the HDU (`PRIMARY`, `AIPS AN`, `AIPS FQ`) and the keyword or parameter.
//!
//! **Convention.** `u, v, w` and the visibilities are taken as a Measurement Set holds them (the same
//! orientation, no conjugation), as pyuvdata writes UVFITS — checked on a file it wrote from the
//! Measurement Set fixture; files exported by AIPS or CASA's `exportuvfits` are not yet checked against.
//! The phase centre is taken to be J2000.

use std::path::Path;

use fits_well::FitsReader;
use fits_well::header::Header;
use sparsimony_solvers::radio::{Complex64, Correlation, SPEED_OF_LIGHT, UvData};

use super::IoError;

/// A FITS file read from disk.
type Reader = fits_well::io::StreamReader<std::io::BufReader<std::fs::File>>;

/// The random groups of a UVFITS file, with the error context of their reads.
struct Groups<'a> {
    path: &'a Path,
    groups: fits_well::io::RandomGroups,
}

fn table_error(path: &Path, table: &'static str, column: &str, message: String) -> IoError {
    IoError::Table {
        path: path.to_path_buf(),
        table,
        column: Some(column.to_owned()),
        message,
    }
}

impl Groups<'_> {
    fn error(&self, parameter: &str, message: String) -> IoError {
        table_error(self.path, "PRIMARY", parameter, message)
    }

    /// The parameter whose `PTYPE` is `name` or starts with it (`UU---SIN`), its addends summed.
    fn parameter(&self, name: &str) -> Option<fits_well::io::GroupParameter> {
        let found = self.named(name)?;
        self.groups.parameter(found.trim()).ok()
    }

    /// The first `PTYPE` that is `name` or `name` with a projection suffix.
    fn named(&self, name: &str) -> Option<&String> {
        self.groups.metadata().parameter_names.iter().flatten().find(|p| {
            let p = p.trim().to_ascii_uppercase();
            p == name || (p.starts_with(name) && p[name.len()..].starts_with('-'))
        })
    }

    fn require(&self, name: &str) -> Result<fits_well::io::GroupParameter, IoError> {
        self.parameter(name)
            .ok_or_else(|| self.error(name, "the random parameter is missing".into()))
    }

    /// Every group's value of `parameter`.
    fn values(&self, name: &str, parameter: &fits_well::io::GroupParameter) -> Result<Vec<f64>, IoError> {
        (0..self.groups.metadata().gcount)
            .map(|g| {
                self.groups
                    .parameter_physical(g, parameter)
                    .map_err(|e| self.error(name, format!("group {g}: unreadable ({e})")))
            })
            .collect()
    }
}

/// An array axis: its length and the coordinate of each pixel (`CRVAL + (i + 1 − CRPIX)·CDELT`).
struct Axis {
    len: usize,
    crval: f64,
    cdelt: f64,
    crpix: f64,
}

impl Axis {
    fn at(&self, i: usize) -> f64 {
        self.crval + (i as f64 + 1.0 - self.crpix) * self.cdelt
    }
}

/// The array axes by `CTYPE` (`NAXIS2…`, fastest first), with each one's stride in the group's array.
fn axes(path: &Path, header: &Header, shape: &[usize]) -> Result<Vec<(String, Axis, usize)>, IoError> {
    let keyword = |name: String| -> Result<Option<f64>, IoError> {
        header
            .get_real(name.as_str())
            .map_err(|e| table_error(path, "PRIMARY", &name, format!("unreadable ({e})")))
    };
    let mut stride = 1;
    let mut out = Vec::new();
    for (k, &len) in shape.iter().enumerate() {
        let n = k + 2;
        let ctype = header
            .get_text(format!("CTYPE{n}").as_str())
            .ok()
            .flatten()
            .map(|t| t.trim().to_ascii_uppercase())
            .unwrap_or_default();
        let axis = Axis {
            len,
            crval: keyword(format!("CRVAL{n}"))?.unwrap_or(0.0),
            cdelt: keyword(format!("CDELT{n}"))?.unwrap_or(1.0),
            crpix: keyword(format!("CRPIX{n}"))?.unwrap_or(1.0),
        };
        out.push((ctype, axis, stride));
        stride *= len;
    }
    Ok(out)
}

/// Reads the UVFITS file at `path` (one source, subarray and frequency setup).
///
/// # Errors
/// [`IoError::Table`] for a file that is not FITS or whose primary HDU holds no random groups, a missing
/// axis (`COMPLEX`, `STOKES`, `FREQ`) or random parameter (`UU`, `VV`, `WW`, `DATE`, the baseline), another
/// axis longer than one pixel, `UU` not in seconds or not of the SIN projection, an antenna absent from
/// `AIPS AN`, several IFs without `AIPS FQ` or with channel widths or sidebands of their own, several
/// sources, subarrays or frequency setups, a Stokes code that is not a correlation; [`IoError::Open`] when the file cannot be opened.
pub fn read(path: &Path) -> Result<UvData, IoError> {
    let error = |table: &'static str, column: &str, message: String| table_error(path, table, column, message);
    let file = std::fs::File::open(path).map_err(|e| IoError::Open {
        path: path.into(),
        source: e,
    })?;
    let mut fits = FitsReader::open(std::io::BufReader::new(file))
        .map_err(|e| error("PRIMARY", "SIMPLE", format!("not a FITS file ({e})")))?;
    let header = fits
        .hdu(0)
        .map_err(|e| error("PRIMARY", "SIMPLE", format!("unreadable ({e})")))?
        .header
        .clone();
    let groups = fits
        .read_groups(0)
        .map_err(|e| error("PRIMARY", "GROUPS", format!("no random groups of visibilities ({e})")))?;
    let groups = Groups { path, groups };
    let meta = groups.groups.metadata();
    let (gcount, shape) = (meta.gcount, meta.group_shape.to_vec());
    let axes = axes(path, &header, &shape)?;
    let find = |name: &str| {
        axes.iter()
            .find(|(t, _, _)| t == name || t.starts_with(&format!("{name}-")))
    };
    let missing = |name: &str| {
        error(
            "PRIMARY",
            &format!("CTYPE ({name})"),
            "the array axis is missing".into(),
        )
    };
    let complex = find("COMPLEX").ok_or_else(|| missing("COMPLEX"))?;
    let stokes = find("STOKES").ok_or_else(|| missing("STOKES"))?;
    let freq = find("FREQ").ok_or_else(|| missing("FREQ"))?;
    let if_axis = find("IF");
    if let Some((ctype, axis, _)) = axes.iter().find(|(t, a, _)| {
        a.len > 1
            && !["COMPLEX", "STOKES", "FREQ", "IF"]
                .iter()
                .any(|n| t == n || t.starts_with(&format!("{n}-")))
    }) {
        return Err(error(
            "PRIMARY",
            &format!("CTYPE ({ctype})"),
            format!(
                "an axis of {} pixels that is not COMPLEX, STOKES, FREQ or IF is not read",
                axis.len
            ),
        ));
    }
    if !(2..=3).contains(&complex.1.len) {
        return Err(error(
            "PRIMARY",
            "NAXIS (COMPLEX)",
            format!(
                "the COMPLEX axis holds {} values: real, imaginary and weight are read",
                complex.1.len
            ),
        ));
    }
    let correlations: Vec<Correlation> = (0..stokes.1.len)
        .map(|i| {
            let code = stokes.1.at(i).round() as i32;
            Correlation::from_uvfits(code).ok_or_else(|| {
                error(
                    "PRIMARY",
                    "CRVAL (STOKES)",
                    format!("Stokes code {code} is not a correlation product (RR … YX: −1 … −8)"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let n_if = if_axis.map_or(1, |a| a.1.len);
    let n_chan = freq.1.len;
    let offsets = if_offsets(&mut fits, path, n_if, freq.1.cdelt)?;
    let frequencies: Vec<Vec<f64>> = offsets
        .iter()
        .map(|o| (0..n_chan).map(|c| freq.1.at(c) + o).collect())
        .collect();
    let phase_centre = phase_centre(
        path,
        &header,
        &find("RA").map(|a| a.1.crval),
        &find("DEC").map(|a| a.1.crval),
    )?;
    let (stations, n_antennas) = stations(&mut fits, path)?;

    // Random parameters: u, v, w in the SIN projection's plane (NCP's east–west-array coordinates are not
    // converted).
    for name in ["UU", "VV", "WW"] {
        if let Some(p) = groups.named(name)
            && !(p.trim().len() == name.len() || p.trim().to_ascii_uppercase().ends_with("-SIN"))
        {
            return Err(groups.error(
                name,
                format!(
                    "{}: only the SIN projection's u, v, w (UU, UU---SIN) are read",
                    p.trim()
                ),
            ));
        }
    }
    let uvw: Vec<Vec<f64>> = ["UU", "VV", "WW"]
        .iter()
        .map(|name| groups.values(name, &groups.require(name)?))
        .collect::<Result<_, _>>()?;
    if let Some(g) = (0..gcount).find(|&g| uvw.iter().any(|c| c[g].is_nan() || c[g].abs() >= 1.0)) {
        return Err(groups.error(
            "UU",
            format!(
                "group {g}: ({:e}, {:e}, {:e}) is not in seconds of light travel (a baseline of 300 000 km or more, or \
                 not finite): UU, VV, WW in seconds are read",
                uvw[0][g], uvw[1][g], uvw[2][g]
            ),
        ));
    }
    let date = groups.values("DATE", &groups.require("DATE")?)?;
    let extra_date = match groups.parameter("_DATE") {
        Some(p) => groups.values("_DATE", &p)?,
        None => vec![0.0; gcount],
    };
    let pairs = antenna_pairs(&groups, gcount)?;
    for name in ["SOURCE", "SUBARRAY", "FREQSEL"] {
        if let Some(p) = groups.parameter(name) {
            let values = groups.values(name, &p)?;
            if let Some((g, v)) = values.iter().enumerate().find(|(_, v)| **v != values[0]) {
                return Err(groups.error(
                    name,
                    format!(
                        "group {g}: {name} {v} after {}; one source, subarray and frequency setup are read (split the file \
                         first)",
                        values[0]
                    ),
                ));
            }
        }
    }

    // The groups' arrays, one row per group and IF.
    let per_row = n_chan * correlations.len();
    let rows = gcount * n_if;
    let mut d = UvData {
        n_antennas,
        antenna1: Vec::with_capacity(rows),
        antenna2: Vec::with_capacity(rows),
        time: Vec::with_capacity(rows),
        uvw: Vec::with_capacity(rows),
        spectral_window: Vec::with_capacity(rows),
        frequencies,
        correlations,
        data: Vec::with_capacity(rows * per_row),
        weights: Vec::with_capacity(rows * per_row),
        flags: Vec::with_capacity(rows * per_row),
        phase_centre,
    };
    let (c_stride, s_stride, f_stride) = (complex.2, stokes.2, freq.2);
    let i_stride = if_axis.map_or(0, |a| a.2);
    let mut array: Vec<f64> = Vec::with_capacity(meta.group_shape.iter().product());
    for g in 0..gcount {
        let (a1, a2) = pairs[g];
        let index = |number: usize| {
            stations.iter().position(|&s| s == number).ok_or_else(|| {
                error(
                    "AIPS AN",
                    "NOSTA",
                    format!(
                        "group {g}: antenna {number} is not among the {} stations",
                        stations.len()
                    ),
                )
            })
        };
        let (i1, i2) = (index(a1)?, index(a2)?);
        array.clear();
        groups
            .groups
            .array_physical_into(g, &mut array)
            .map_err(|e| groups.error("DATA", format!("group {g}: unreadable ({e})")))?;
        for k in 0..n_if {
            d.antenna1.push(i1);
            d.antenna2.push(i2);
            d.time.push((date[g] + extra_date[g] - 2_400_000.5) * 86_400.0);
            d.uvw.push([0, 1, 2].map(|c| uvw[c][g] * SPEED_OF_LIGHT));
            d.spectral_window.push(k);
            for ch in 0..n_chan {
                for s in 0..d.correlations.len() {
                    let at = k * i_stride + ch * f_stride + s * s_stride;
                    let (re, im) = (array[at], array[at + c_stride]);
                    let w = if complex.1.len == 3 {
                        array[at + 2 * c_stride]
                    } else {
                        1.0
                    };
                    // A NaN weight stays unflagged, for the reduction to refuse by its row.
                    let flagged = w <= 0.0;
                    d.data.push(Complex64::new(re, im));
                    d.weights.push(if flagged { 0.0 } else { w });
                    d.flags.push(flagged);
                }
            }
        }
    }
    Ok(d)
}

/// Each group's antennas (the stations' numbers, 1-based as AIPS writes them).
fn antenna_pairs(groups: &Groups<'_>, gcount: usize) -> Result<Vec<(usize, usize)>, IoError> {
    let number = |g: usize, name: &str, v: f64| -> Result<usize, IoError> {
        station_number(v)
            .ok_or_else(|| groups.error(name, format!("group {g}: {v} is not an antenna number (1, 2, …)")))
    };
    if let (Some(p1), Some(p2)) = (groups.parameter("ANTENNA1"), groups.parameter("ANTENNA2")) {
        let (a1, a2) = (groups.values("ANTENNA1", &p1)?, groups.values("ANTENNA2", &p2)?);
        return (0..gcount)
            .map(|g| Ok((number(g, "ANTENNA1", a1[g])?, number(g, "ANTENNA2", a2[g])?)))
            .collect();
    }
    let baseline = groups.values("BASELINE", &groups.require("BASELINE")?)?;
    (0..gcount)
        .map(|g| {
            // The subarray sits in the fraction (AIPS: + (subarray − 1)/100): the first alone is read.
            let b = baseline[g].floor();
            if baseline[g] - b > 0.005 {
                return Err(groups.error(
                    "BASELINE",
                    format!(
                        "group {g}: {} names subarray {:.0}; one subarray is read (split the file first)",
                        baseline[g],
                        (baseline[g] - b) * 100.0 + 1.0
                    ),
                ));
            }
            let (a1, a2) = if b >= 65_536.0 {
                ((b - 65_536.0) / 2048.0, (b - 65_536.0) % 2048.0)
            } else {
                (b / 256.0, b % 256.0)
            };
            Ok((number(g, "BASELINE", a1.floor())?, number(g, "BASELINE", a2)?))
        })
        .collect()
}

/// Each IF's frequency offset (Hz) from the `FREQ` axis: `AIPS FQ`'s `IF FREQ` (its first row), or 0
/// for a single IF without the table; IFs whose `CH WIDTH` or `SIDEBAND` (−1: channels descending) differ
/// from the axis's spacing are refused.
fn if_offsets(fits: &mut Reader, path: &Path, n_if: usize, channel_width: f64) -> Result<Vec<f64>, IoError> {
    let Ok(table) = fits.read_table("AIPS FQ") else {
        return if n_if == 1 {
            Ok(vec![0.0])
        } else {
            Err(table_error(
                path,
                "AIPS FQ",
                "IF FREQ",
                format!("{n_if} IFs, but no AIPS FQ table to give their frequencies"),
            ))
        };
    };
    let mut values: Vec<f64> = Vec::new();
    table
        .column("IF FREQ")
        .and_then(|c| c.physical_into(&mut values))
        .map_err(|e| table_error(path, "AIPS FQ", "IF FREQ", format!("unreadable ({e})")))?;
    if values.len() < n_if || values[..n_if].iter().any(|v| !v.is_finite()) {
        return Err(table_error(
            path,
            "AIPS FQ",
            "IF FREQ",
            format!("{} finite offsets for {n_if} IFs are needed, found {values:?}", n_if),
        ));
    }
    // Each IF's channels as the FREQ axis spaces them: a width or sideband of its own is refused.
    for (name, expected) in [("CH WIDTH", channel_width.abs()), ("SIDEBAND", 1.0)] {
        let mut found: Vec<f64> = Vec::new();
        if table.column(name).and_then(|c| c.physical_into(&mut found)).is_ok()
            && let Some(v) = found
                .iter()
                .take(n_if)
                .find(|v| (v.abs() - expected).abs() > 1e-6 * expected)
        {
            return Err(table_error(
                path,
                "AIPS FQ",
                name,
                format!("an IF's {name} {v} differs from the FREQ axis's ({expected}): not read"),
            ));
        }
    }
    Ok(values[..n_if].to_vec())
}

/// The phase centre (radians): the `RA` and `DEC` axes' `CRVAL` (degrees), or `OBSRA`/`OBSDEC`.
fn phase_centre(path: &Path, header: &Header, ra: &Option<f64>, dec: &Option<f64>) -> Result<[f64; 2], IoError> {
    let keyword = |name: &str| header.get_real(name).ok().flatten();
    match (ra.or_else(|| keyword("OBSRA")), dec.or_else(|| keyword("OBSDEC"))) {
        (Some(ra), Some(dec)) if ra.is_finite() && dec.is_finite() && dec.abs() <= 90.0 => {
            Ok([ra.to_radians(), dec.to_radians()])
        }
        (ra, dec) => Err(table_error(
            path,
            "PRIMARY",
            "CRVAL (RA, DEC)",
            format!("no finite phase centre: RA {ra:?}, Dec {dec:?} (degrees)"),
        )),
    }
}

/// The stations' numbers (`AIPS AN`'s `NOSTA`, in its row order) and their count.
fn stations(fits: &mut Reader, path: &Path) -> Result<(Vec<usize>, usize), IoError> {
    let table = fits
        .read_table("AIPS AN")
        .map_err(|e| table_error(path, "AIPS AN", "NOSTA", format!("the antenna table is missing ({e})")))?;
    let mut numbers: Vec<f64> = Vec::new();
    table
        .column("NOSTA")
        .and_then(|c| c.physical_into(&mut numbers))
        .map_err(|e| table_error(path, "AIPS AN", "NOSTA", format!("unreadable ({e})")))?;
    let stations: Vec<usize> = numbers
        .iter()
        .enumerate()
        .map(|(r, &v)| {
            station_number(v).ok_or_else(|| {
                table_error(
                    path,
                    "AIPS AN",
                    "NOSTA",
                    format!("row {r}: {v} is not a station number"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let n = stations.len();
    Ok((stations, n))
}

/// A whole number from 1 to 10⁶ (antenna and station numbers), if `v` is one.
fn station_number(v: f64) -> Option<usize> {
    ((1.0..1e6).contains(&v) && v.fract() == 0.0).then_some(v as usize)
}
