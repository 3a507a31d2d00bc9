//! Measurement Sets (CASA tables, MS v2) read into [`UvData`], through
//! casacore itself (the `rubbl_casatables` crate). Read: `MAIN` (`ANTENNA1`, `ANTENNA2`, `TIME`, `UVW`,
//! `DATA_DESC_ID`, `FIELD_ID`, `FLAG`, `FLAG_ROW`, `WEIGHT` or `WEIGHT_SPECTRUM`, and the data column),
//! `ANTENNA` (its row count), `DATA_DESCRIPTION`, `SPECTRAL_WINDOW` (`CHAN_FREQ`), `POLARIZATION`
//! (`CORR_TYPE`) and `FIELD` (`PHASE_DIR`). Every problem is an [`IoError::Table`] naming the table, the
//! column and, where one is at fault, the row.

use std::path::Path;

use rubbl_casatables::{Complex, Table, TableOpenMode};
use sparsimony_solvers::radio::{Complex64, Correlation, UvData};

use super::IoError;

/// Which part of a Measurement Set to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The data column (`DATA`; `CORRECTED_DATA` after a calibration elsewhere).
    pub data_column: String,
    /// The field (a `FIELD` row, 0): rows of other fields are skipped.
    pub field: usize,
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            data_column: "DATA".into(),
            field: 0,
        }
    }
}

/// A table of the set, opened read-only, with the error context of its reads.
struct Reader<'a> {
    path: &'a Path,
    name: &'static str,
    table: Table,
}

impl<'a> Reader<'a> {
    fn open(path: &'a Path, name: &'static str) -> Result<Self, IoError> {
        let location = if name == "MAIN" {
            path.to_path_buf()
        } else {
            path.join(name)
        };
        let table = Table::open(&location, TableOpenMode::Read).map_err(|e| IoError::Table {
            path: path.to_path_buf(),
            table: name,
            column: None,
            message: format!("cannot be opened as a CASA table ({e})"),
        })?;
        Ok(Self { path, name, table })
    }

    fn rows(&self) -> usize {
        self.table.n_rows() as usize
    }

    fn error(&self, column: &str, message: String) -> IoError {
        IoError::Table {
            path: self.path.to_path_buf(),
            table: self.name,
            column: Some(column.to_owned()),
            message,
        }
    }

    fn has(&mut self, column: &str) -> bool {
        self.table
            .column_names()
            .map(|names| names.iter().any(|n| n == column))
            .unwrap_or(false)
    }

    fn require(&mut self, column: &str) -> Result<(), IoError> {
        if self.has(column) {
            Ok(())
        } else {
            Err(self.error(column, "the column is missing".into()))
        }
    }

    /// A whole scalar column.
    fn scalars<T: rubbl_casatables::CasaScalarData>(&mut self, column: &str) -> Result<Vec<T>, IoError> {
        self.require(column)?;
        self.table
            .get_col_as_vec(column)
            .map_err(|e| self.error(column, format!("unreadable as expected ({e})")))
    }

    /// One array cell, flattened in casacore's order (the first axis fastest).
    fn cell<T: rubbl_casatables::CasaScalarData>(&mut self, column: &str, row: usize) -> Result<Vec<T>, IoError> {
        self.table
            .get_cell_as_vec(column, row as u64)
            .map_err(|e| self.error(column, format!("row {row}: unreadable ({e})")))
    }

    /// Every row's array cell of `column`, each of `expected` values.
    fn cells<T: rubbl_casatables::CasaScalarData>(
        &mut self,
        column: &str,
        rows: &[usize],
        expected: impl Fn(usize) -> usize,
    ) -> Result<Vec<T>, IoError> {
        self.require(column)?;
        let mut out = Vec::new();
        for &r in rows {
            let cell: Vec<T> = self.cell(column, r)?;
            if cell.len() != expected(r) {
                return Err(self.error(
                    column,
                    format!("row {r}: {} values where {} were expected", cell.len(), expected(r)),
                ));
            }
            out.extend(cell);
        }
        Ok(out)
    }
}

/// Reads the rows of `selection.field` of the Measurement Set at `path` (a directory). Reads from several
/// threads are serialised (casacore's table system is not safe to enter concurrently).
///
/// # Errors
/// [`IoError::Table`] for a table that cannot be opened, a missing or unreadable column, an index out of
/// its table (a data description, spectral window, polarization or field), spectral windows of unequal
/// channel counts or several polarization setups among the rows read, or no row of the field.
pub fn read(path: &Path, selection: &Selection) -> Result<UvData, IoError> {
    // casacore's table system keeps process-wide state (its table cache) that concurrent opens from several
    // threads were seen to corrupt (a rare crash in the tests): one read at a time.
    static CASACORE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = CASACORE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut main = Reader::open(path, "MAIN")?;
    let n_antennas = Reader::open(path, "ANTENNA")?.rows();
    let (spw_of, pol_of) = {
        let mut dd = Reader::open(path, "DATA_DESCRIPTION")?;
        let spw: Vec<i32> = dd.scalars("SPECTRAL_WINDOW_ID")?;
        let pol: Vec<i32> = dd.scalars("POLARIZATION_ID")?;
        (spw, pol)
    };
    let phase_centre = {
        let mut field = Reader::open(path, "FIELD")?;
        if selection.field >= field.rows() {
            return Err(field.error(
                "PHASE_DIR",
                format!("field {} asked for, {} described", selection.field, field.rows()),
            ));
        }
        field.require("PHASE_DIR")?;
        let dir: Vec<f64> = field.cell("PHASE_DIR", selection.field)?;
        if dir.len() < 2 || !dir.iter().all(|v| v.is_finite()) {
            return Err(field.error(
                "PHASE_DIR",
                format!("row {}: not a finite direction: {dir:?}", selection.field),
            ));
        }
        [dir[0], dir[1]]
    };

    // The rows of the field, and the data descriptions they use.
    let n = main.rows();
    let field_id: Vec<i32> = if main.has("FIELD_ID") {
        main.scalars("FIELD_ID")?
    } else {
        vec![0; n]
    };
    let rows: Vec<usize> = (0..n).filter(|&r| field_id[r] == selection.field as i32).collect();
    if rows.is_empty() {
        return Err(main.error("FIELD_ID", format!("no row of field {} among {n}", selection.field)));
    }
    let dd_id: Vec<i32> = main.scalars("DATA_DESC_ID")?;
    let mut windows: Vec<usize> = Vec::new();
    let mut polarization = None;
    let mut window_of_row = Vec::with_capacity(rows.len());
    for &r in &rows {
        let d = usize::try_from(dd_id[r])
            .ok()
            .filter(|d| *d < spw_of.len())
            .ok_or_else(|| {
                main.error(
                    "DATA_DESC_ID",
                    format!("row {r}: {} is not a DATA_DESCRIPTION row", dd_id[r]),
                )
            })?;
        let (spw, pol) = (spw_of[d], pol_of[d]);
        match polarization {
            None => polarization = Some(pol),
            Some(p) if p != pol => {
                return Err(main.error(
                    "DATA_DESC_ID",
                    format!("row {r}: polarization setup {pol} after {p}; one setup per field is read"),
                ));
            }
            Some(_) => {}
        }
        let spw =
            usize::try_from(spw).map_err(|_| main.error("DATA_DESC_ID", format!("row {r}: spectral window {spw}")))?;
        let k = windows.iter().position(|w| *w == spw).unwrap_or_else(|| {
            windows.push(spw);
            windows.len() - 1
        });
        window_of_row.push(k);
    }
    let pol = polarization.unwrap_or(0);

    let frequencies: Vec<Vec<f64>> = {
        let mut sw = Reader::open(path, "SPECTRAL_WINDOW")?;
        sw.require("CHAN_FREQ")?;
        let mut out = Vec::new();
        for &w in &windows {
            if w >= sw.rows() {
                return Err(sw.error("CHAN_FREQ", format!("spectral window {w} of {} described", sw.rows())));
            }
            out.push(sw.cell::<f64>("CHAN_FREQ", w)?);
        }
        if let Some(k) = out.iter().position(|f| f.len() != out[0].len()) {
            return Err(sw.error(
                "CHAN_FREQ",
                format!(
                    "spectral windows {} and {} have {} and {} channels: windows of one field must have as many",
                    windows[0],
                    windows[k],
                    out[0].len(),
                    out[k].len()
                ),
            ));
        }
        out
    };
    let correlations: Vec<Correlation> = {
        let mut p = Reader::open(path, "POLARIZATION")?;
        let pol = usize::try_from(pol).ok().filter(|q| *q < p.rows()).ok_or_else(|| {
            p.error(
                "CORR_TYPE",
                format!("polarization setup {pol} of {} described", p.rows()),
            )
        })?;
        p.require("CORR_TYPE")?;
        let codes: Vec<i32> = p.cell("CORR_TYPE", pol)?;
        if codes.is_empty() {
            return Err(p.error("CORR_TYPE", format!("row {pol}: no correlation")));
        }
        codes
            .iter()
            .map(|&c| {
                Correlation::from_casa(c).ok_or_else(|| {
                    p.error(
                        "CORR_TYPE",
                        format!("row {pol}: correlation code {c} is not a feed product"),
                    )
                })
            })
            .collect::<Result<_, _>>()?
    };
    let (n_chan, n_corr) = (frequencies[0].len(), correlations.len());
    let per_row = n_chan * n_corr;

    let antenna = |main: &mut Reader, column: &'static str| -> Result<Vec<usize>, IoError> {
        let all: Vec<i32> = main.scalars(column)?;
        rows.iter()
            .map(|&r| usize::try_from(all[r]).map_err(|_| main.error(column, format!("row {r}: antenna {}", all[r]))))
            .collect()
    };
    let antenna1 = antenna(&mut main, "ANTENNA1")?;
    let antenna2 = antenna(&mut main, "ANTENNA2")?;
    let all_times: Vec<f64> = main.scalars("TIME")?;
    let time = rows.iter().map(|&r| all_times[r]).collect();
    let uvw_flat: Vec<f64> = main.cells("UVW", &rows, |_| 3)?;
    let uvw = uvw_flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();

    let column = selection.data_column.as_str();
    main.require(column)?;
    let mut data = Vec::with_capacity(rows.len() * per_row);
    for &r in &rows {
        // Single precision as most writers store it; double where the column is so declared.
        let cell: Vec<Complex64> = match main.table.get_cell_as_vec::<Complex<f32>>(column, r as u64) {
            Ok(v) => v
                .into_iter()
                .map(|z| Complex64::new(f64::from(z.re), f64::from(z.im)))
                .collect(),
            Err(_) => main
                .cell::<Complex<f64>>(column, r)?
                .into_iter()
                .map(|z| Complex64::new(z.re, z.im))
                .collect(),
        };
        if cell.len() != per_row {
            return Err(main.error(
                column,
                format!(
                    "row {r}: {} values for {n_chan} channels × {n_corr} correlations",
                    cell.len()
                ),
            ));
        }
        data.extend(cell);
    }
    let mut flags: Vec<bool> = main.cells("FLAG", &rows, |_| per_row)?;
    if main.has("FLAG_ROW") {
        let flag_row: Vec<bool> = main.scalars("FLAG_ROW")?;
        for (k, &r) in rows.iter().enumerate() {
            if flag_row[r] {
                flags[k * per_row..(k + 1) * per_row].fill(true);
            }
        }
    }
    // WEIGHT_SPECTRUM where every row has one, otherwise WEIGHT (one per correlation) for every channel.
    let spectrum = main.has("WEIGHT_SPECTRUM")
        && rows.iter().all(|&r| {
            main.table
                .get_cell_as_vec::<f32>("WEIGHT_SPECTRUM", r as u64)
                .is_ok_and(|v| v.len() == per_row)
        });
    let weights: Vec<f64> = if spectrum {
        main.cells::<f32>("WEIGHT_SPECTRUM", &rows, |_| per_row)?
            .into_iter()
            .map(f64::from)
            .collect()
    } else {
        let w: Vec<f32> = main.cells("WEIGHT", &rows, |_| n_corr)?;
        w.chunks_exact(n_corr)
            .flat_map(|row| (0..n_chan).flat_map(move |_| row.iter().map(|&x| f64::from(x))))
            .collect()
    };
    Ok(UvData {
        n_antennas,
        antenna1,
        antenna2,
        time,
        uvw,
        spectral_window: window_of_row,
        frequencies,
        correlations,
        data,
        weights,
        flags,
        phase_centre,
    })
}
