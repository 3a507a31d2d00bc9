//! Reading the numeric data the CLI takes: CSV with a header row, and NumPy `.npy` files.
//!
//! Errors name the file and, for CSV, the line and column of the problem.

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, ArrayD, ArrayView2, ShapeBuilder};

/// Errors of the file readers.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file's extension is neither `.csv` nor `.npy`.
    #[error("{path}: unknown file type (expected .csv or .npy)")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A malformed CSV record.
    #[error("{path}, line {line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A `.npy` file that is not a 1-D or 2-D array of `f64` (or `f32`).
    #[error("{path}: {message}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An output file could not be written, or would replace an input.
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    /// The data has the wrong shape for its use.
    #[error("{path}: {message}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A table of a Measurement Set is missing, or one of its columns or rows is unusable.
    #[error("{path}: table {table}{}: {message}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Table {
        /// The Measurement Set (its directory).
        path: PathBuf,
        /// The table (`MAIN`, `ANTENNA`, `SPECTRAL_WINDOW`, …).
        table: &'static str,
        /// The column, where one is at fault.
        column: Option<String>,
        /// What is wrong (with the row where one is).
        message: String,
    },
}

mod fits;
#[cfg(feature = "measurement-set")]
pub mod measurement_set;
pub mod uvfits;

pub use fits::{FitsHeader, SkyFrame, write_fits};

/// A table of numbers with column names (for `.npy`, `x0, x1, …`).
#[derive(Debug)]
pub struct Table {
    /// Column names, from the CSV header.
    pub columns: Vec<String>,
    /// For a CSV file, the 1-based line each row was read from (blank lines and the header skipped);
    /// empty for `.npy`.
    pub lines: Vec<u64>,
    values: Values,
}

/// Where a table's values are held.
#[derive(Debug)]
enum Values {
    /// Parsed or converted into memory.
    Owned(Array2<f64>),
    /// A `.npy` file of `f64` in the machine's byte order, read in place from its memory map: no copy, and
    /// only the pages a computation touches are read from disk.
    Mapped {
        map: memmap2::Mmap,
        /// Byte offset of the data in the file.
        offset: usize,
        rows: usize,
        cols: usize,
        /// Column-major (`fortran_order: True`) rather than row-major.
        fortran: bool,
    },
}

impl Table {
    /// A table of values held in memory (`values` row-major or not, shape `(rows, columns.len())`).
    pub fn new(columns: Vec<String>, values: Array2<f64>, lines: Vec<u64>) -> Self {
        Self {
            columns,
            lines,
            values: Values::Owned(values),
        }
    }

    /// The values, one row per record, shape `(rows, columns.len())`: row-major for CSV and for C-ordered
    /// `.npy` files, column-major for Fortran-ordered ones (a view of the file's memory map for `f64`
    /// `.npy` data).
    pub fn values(&self) -> ArrayView2<'_, f64> {
        match &self.values {
            Values::Owned(a) => a.view(),
            Values::Mapped {
                map,
                offset,
                rows,
                cols,
                fortran,
            } => {
                let data: &[f64] = bytemuck::cast_slice(&map[*offset..*offset + rows * cols * 8]);
                ArrayView2::from_shape((*rows, *cols).set_f(*fortran), data)
                    .expect("shape and alignment checked when the file was mapped")
            }
        }
    }

    /// The values as an owned array (a copy for a memory-mapped file).
    pub fn into_values(self) -> Array2<f64> {
        match self.values {
            Values::Owned(a) => a,
            Values::Mapped { .. } => self.values().to_owned(),
        }
    }

    /// Where value `(row, col)` (0-based) is in `path`, as a person finds it: `"X.csv, line 3, column
    /// `b`"` for CSV, `"X.npy, row 2, column 2"` (1-based) for `.npy`.
    pub fn locate(&self, path: &Path, row: usize, col: usize) -> String {
        let name = self
            .columns
            .get(col)
            .map_or_else(|| format!("{}", col + 1), |c| format!("`{c}`"));
        match self.lines.get(row) {
            Some(line) => format!("{}, line {line}, column {name}", path.display()),
            None => format!("{}, row {}, column {}", path.display(), row + 1, col + 1),
        }
    }

    /// The single column of a one-column table as a vector, or a shape error naming `path`.
    pub fn to_vector(&self, path: &Path) -> Result<Array1<f64>, IoError> {
        let (rows, cols) = self.values().dim();
        if cols != 1 {
            return Err(IoError::Shape {
                path: path.into(),
                message: format!("expected one column, found {cols} ({rows} rows)"),
            });
        }
        Ok(self.values().column(0).to_owned())
    }
}

/// Reads a `.csv` (header row, then one numeric record per line) or `.npy` (1-D or 2-D, f64 or f32) file.
/// A 1-D `.npy` array becomes one column.
///
/// Regular files are memory-mapped. An `f64` `.npy` file in the machine's byte order is used in place, without a
/// copy; CSV records are parsed in parallel pieces (on the current rayon pool) straight into the table
/// when no field is quoted, and by the `csv` crate's reader otherwise, with the same results and errors.
pub fn read_table(path: &Path) -> Result<Table, IoError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => read_csv(path),
        Some("npy") => read_npy(path),
        _ => Err(IoError::UnknownFormat { path: path.into() }),
    }
}

/// A file's bytes: memory-mapped for a regular file, read into memory otherwise (a pipe, an empty file).
enum FileBytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Self::Mapped(map) => map,
            Self::Read(bytes) => bytes,
        }
    }
}

fn file_bytes(path: &Path) -> Result<FileBytes, IoError> {
    use std::io::Read;
    let open = |source| IoError::Open {
        path: path.into(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(open)?;
    let meta = file.metadata().map_err(open)?;
    if !meta.is_file() || meta.len() == 0 {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(open)?;
        return Ok(FileBytes::Read(bytes));
    }
    // SAFETY: the map is only read. Another process truncating or rewriting the file while it is read is
    // undefined behaviour, as for every memory-mapped reader (ripgrep, numpy's mmap_mode); the CLI reads
    // its input files once, at start.
    unsafe { memmap2::Mmap::map(&file) }
        .map(FileBytes::Mapped)
        .map_err(open)
}

fn read_csv(path: &Path) -> Result<Table, IoError> {
    let file = file_bytes(path)?;
    let bytes: &[u8] = &file;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    // The 1-based line of the record starting at a byte offset, counted in the file itself: the csv
    // crate's own count, and its record offsets, include the blank lines before a record, so they drift
    // after one. Offsets only grow, so the count resumes where it stopped.
    let mut counted = (0usize, 1u64);
    let mut line_of = |byte: u64| -> u64 {
        let mut end = (byte as usize).min(bytes.len());
        while end < bytes.len() && (bytes[end] == b'\n' || bytes[end] == b'\r') {
            end += 1;
        }
        if end < counted.0 {
            counted = (0, 1);
        }
        counted.1 += bytes[counted.0..end].iter().filter(|&&b| b == b'\n').count() as u64;
        counted.0 = end;
        counted.1
    };
    let csv_err = |e: csv::Error, line_of: &mut dyn FnMut(u64) -> u64| {
        let line = e.position().map_or(0, |p| line_of(p.byte()));
        let message = match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("{len} field(s) where the header has {expected_len}")
            }
            _ => e.to_string(),
        };
        IoError::Csv {
            path: path.into(),
            line,
            message,
        }
    };
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| csv_err(e, &mut line_of))?
        .iter()
        .map(str::to_string)
        .collect();
    if columns.is_empty() || columns.iter().all(String::is_empty) {
        return Err(IoError::Csv {
            path: path.into(),
            line: 1,
            message: "no header row".into(),
        });
    }
    // Columns are chosen by name (--t-column, --control) and named in the results: two of one name would
    // make both ambiguous (SINDy would fit `x` against `x`).
    // A hash map, not a quadratic scan: text-like designs have hundreds of thousands of columns.
    let mut first = std::collections::HashMap::with_capacity(columns.len());
    for (j, name) in columns.iter().enumerate() {
        if let Some(k) = first.insert(name.as_str(), j) {
            return Err(IoError::Csv {
                path: path.into(),
                line: 1,
                message: format!(
                    "columns {} and {} are both named `{name}`: names must be unique",
                    k + 1,
                    j + 1
                ),
            });
        }
    }
    let body = usize::try_from(reader.position().byte())
        .unwrap_or(bytes.len())
        .min(bytes.len());
    let first_line = 1 + bytes[..body].iter().filter(|&&b| b == b'\n').count() as u64;
    let (values, lines) = match parse_plain_records(&bytes[body..], first_line, columns.len()) {
        Some(parsed) => parsed,
        None => {
            let (mut values, mut lines) = (Vec::new(), Vec::new());
            for record in reader.records() {
                let record = record.map_err(|e| csv_err(e, &mut line_of))?;
                let line = record.position().map_or(0, |p| line_of(p.byte()));
                lines.push(line);
                for (j, field) in record.iter().enumerate() {
                    let v: f64 = field.parse().map_err(|_| IoError::Csv {
                        path: path.into(),
                        line,
                        message: format!("column `{}`: `{field}` is not a number", columns[j]),
                    })?;
                    values.push(v);
                }
            }
            (values, lines)
        }
    };
    if lines.is_empty() {
        return Err(IoError::Csv {
            path: path.into(),
            line: 2,
            message: "no data rows after the header".into(),
        });
    }
    let values = Array2::from_shape_vec((lines.len(), columns.len()), values).map_err(|e| IoError::Shape {
        path: path.into(),
        message: format!("the records do not fill a table of the header's width ({e})"),
    })?;
    Ok(Table::new(columns, values, lines))
}

/// The records after a CSV header, read without the `csv` crate's state machine where that gives the same
/// result: no quote character, and every carriage return part of a CRLF line end. Then each non-blank line is
/// a record of `cols` comma-separated fields, each a number once surrounding ASCII whitespace is trimmed.
/// The bytes are cut at line ends into pieces of about 1 MB, and the pieces are parsed in parallel in two
/// passes: count each piece's records, then parse each piece into its own rows of one buffer. Returns
/// the values (row-major) and each record's 1-based line (`first_line` is the line `body` starts on), or
/// `None` when this reading does not apply or a record is malformed: the `csv` reader then reads the file
/// and names the error.
fn parse_plain_records(body: &[u8], first_line: u64, cols: usize) -> Option<(Vec<f64>, Vec<u64>)> {
    use rayon::prelude::*;
    const PIECE: usize = 1 << 20;
    for i in memchr::memchr2_iter(b'"', b'\r', body) {
        if body[i] == b'"' || body.get(i + 1) != Some(&b'\n') {
            return None;
        }
    }
    let mut cuts = vec![0];
    while let Some(&last) = cuts.last()
        && last < body.len()
    {
        let target = (last + PIECE).min(body.len());
        cuts.push(memchr::memchr(b'\n', &body[target..]).map_or(body.len(), |k| target + k + 1));
    }
    let pieces: Vec<&[u8]> = cuts.windows(2).map(|w| &body[w[0]..w[1]]).collect();
    // Records and line ends of each piece.
    let counts: Vec<(usize, u64)> = pieces
        .par_iter()
        .map(|p| {
            text_lines(p).fold((0, 0), |(records, line_ends), line| {
                (records + usize::from(!line.is_empty()), line_ends + 1)
            })
        })
        .map(|(records, lines): (usize, u64)| (records, lines - 1))
        .collect();
    let rows: usize = counts.iter().map(|c| c.0).sum();
    // A record of `cols` numbers takes at least 2·cols − 1 bytes: more records than that allows means
    // short records, which the reader reports, rather than a table allocated for them (a wide header over
    // ten million one-field lines would ask for terabytes).
    if rows.checked_mul(2 * cols - 1)? > body.len() {
        return None;
    }
    let mut values = vec![0.0; rows.checked_mul(cols)?];
    let mut lines = vec![0u64; rows];
    let mut jobs = Vec::with_capacity(pieces.len());
    let (mut values_left, mut lines_left, mut line) = (&mut values[..], &mut lines[..], first_line);
    for (piece, &(records, line_ends)) in pieces.iter().zip(&counts) {
        let (v, rest) = values_left.split_at_mut(records * cols);
        let (l, rest_lines) = lines_left.split_at_mut(records);
        jobs.push((*piece, v, l, line));
        (values_left, lines_left, line) = (rest, rest_lines, line + line_ends);
    }
    let parsed = jobs.into_par_iter().all(|(piece, values, lines, first)| {
        let records = text_lines(piece).enumerate().filter(|(_, text)| !text.is_empty());
        for ((k, text), (row, line)) in records.zip(values.chunks_mut(cols).zip(lines.iter_mut())) {
            *line = first + k as u64;
            if !parse_record(text, row) {
                return false;
            }
        }
        true
    });
    parsed.then_some((values, lines))
}

/// The lines of `text`, without their `\n` or `\r\n` ends (as `split` on `\n` gives them: the piece after
/// the last line end too, empty or not), found with SIMD line-end search.
fn text_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text)
        .map(Some)
        .chain(std::iter::once(None))
        .map(move |end| {
            let end = end.unwrap_or(text.len());
            let line = &text[start..end];
            start = end + 1;
            line.strip_suffix(b"\r").unwrap_or(line)
        })
}

/// Parses one record (a line without its end) of exactly `row.len()` comma-separated numbers, each with
/// optional surrounding ASCII whitespace, into `row`; false for anything else. The numbers are read by
/// fast-float2 (the Eisel–Lemire algorithm Rust's own parser uses, correctly rounded, on bytes: no UTF-8
/// check and no field splitting first); a field it reads but Rust's parser would refuse cannot occur, since
/// any field it stops short of ends the fast path.
fn parse_record(text: &[u8], row: &mut [f64]) -> bool {
    let last = row.len().saturating_sub(1);
    let mut rest = text;
    for (k, value) in row.iter_mut().enumerate() {
        let field = rest.trim_ascii_start();
        let Ok((v, used)) = fast_float2::parse_partial::<f64, _>(field) else {
            return false;
        };
        *value = v;
        rest = field[used..].trim_ascii_start();
        match rest.split_first() {
            Some((&b',', tail)) if k < last => rest = tail,
            None if k == last => return true,
            _ => return false,
        }
    }
    false
}

fn read_npy(path: &Path) -> Result<Table, IoError> {
    use ndarray_npy::{ReadNpyError, ReadNpyExt};
    let open = || {
        std::fs::File::open(path).map_err(|source| IoError::Open {
            path: path.into(),
            source,
        })
    };
    // ndarray-npy checks the header, the element type and the data's length, and its typed error says which
    // failed, so the message names the problem (integers, a truncated file) instead of the last reader's
    // complaint; the array is read with any number of dimensions and its shape judged here.
    let explain = |e: ReadNpyError| IoError::Npy {
        path: path.into(),
        message: match e {
            ReadNpyError::ParseHeader(h) => format!("not a valid .npy header ({h})"),
            ReadNpyError::WrongDescriptor(d) => format!("values of type {d}; f64 ('<f8') and f32 ('<f4') are read"),
            ReadNpyError::MissingData => "truncated: fewer data bytes than its header's shape and type need".into(),
            ReadNpyError::ExtraBytes(n) => format!("{n} byte(s) after the data its header describes"),
            ReadNpyError::LengthOverflow => "its header's shape is larger than any array".into(),
            other => other.to_string(),
        },
    };
    // A header that promises more data than the file holds is refused before the reader allocates what
    // it promises (a 35 KB file claiming 10¹¹ × 10 values would abort on memory).
    if let Some((shape, needed, held)) = npy_promised_bytes(path)
        && needed > u128::from(held)
    {
        return Err(IoError::Npy {
            path: path.into(),
            message: format!(
                "truncated: its header's shape {shape:?} needs {needed} bytes of data, the file holds {held}"
            ),
        });
    }
    // f64 data in the machine's byte order is used in place; anything else (f32, the other byte order, a
    // shape that is not 1-D or 2-D, an empty array, a malformed file) is read below, which converts it or
    // names what is wrong.
    if let FileBytes::Mapped(map) = file_bytes(path)?
        && let Some((offset, rows, cols, fortran)) = mapped_layout(&map)
    {
        return Ok(Table {
            columns: (0..cols).map(|j| format!("x{j}")).collect(),
            lines: Vec::new(),
            values: Values::Mapped {
                map,
                offset,
                rows,
                cols,
                fortran,
            },
        });
    }
    let any: ArrayD<f64> = match ArrayD::<f64>::read_npy(open()?) {
        Ok(a) => a,
        Err(ReadNpyError::WrongDescriptor(_)) => ArrayD::<f32>::read_npy(open()?).map_err(explain)?.mapv(f64::from),
        Err(e) => return Err(explain(e)),
    };
    let shape = any.shape().to_vec();
    let values: Array2<f64> = match shape.len() {
        1 => any
            .into_dimensionality::<ndarray::Ix1>()
            .map(|v| v.insert_axis(ndarray::Axis(1))),
        2 => any.into_dimensionality::<ndarray::Ix2>(),
        n => {
            return Err(IoError::Npy {
                path: path.into(),
                message: format!("a {n}-D array of shape {shape:?}; 1-D and 2-D arrays are read"),
            });
        }
    }
    .map_err(|e| IoError::Npy {
        path: path.into(),
        message: e.to_string(),
    })?;
    if values.is_empty() {
        return Err(IoError::Shape {
            path: path.into(),
            message: format!("empty array of shape {:?}", values.dim()),
        });
    }
    let columns = (0..values.ncols()).map(|j| format!("x{j}")).collect();
    Ok(Table::new(columns, values, Vec::new()))
}

/// Where a `.npy` file's non-empty 1-D or 2-D `f64` data lies in `bytes` if it can be used in place (the
/// machine's byte order, aligned, the exact length): the data's byte offset, rows, columns, and whether it
/// is column-major. A 1-D array is one column.
fn mapped_layout(bytes: &[u8]) -> Option<(usize, usize, usize, bool)> {
    use ndarray_npy::ViewNpyExt;
    let view = ndarray::ArrayViewD::<f64>::view_npy(bytes).ok()?;
    let (rows, cols) = match *view.shape() {
        [n] => (n, 1),
        [r, c] => (r, c),
        _ => return None,
    };
    if rows == 0 || cols == 0 {
        return None;
    }
    let offset = (view.as_ptr() as usize).checked_sub(bytes.as_ptr() as usize)?;
    Some((offset, rows, cols, !view.is_standard_layout()))
}

/// What a `.npy` header promises: its shape, the data bytes that shape and the element size need, and the
/// bytes the file holds after the header — `None` where the header cannot be read this far (the reader
/// then says what is wrong with it).
fn npy_promised_bytes(path: &Path) -> Option<(Vec<u64>, u128, u64)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let mut head = [0u8; 12];
    f.read_exact(&mut head[..10]).ok()?;
    if &head[..6] != b"\x93NUMPY" {
        return None;
    }
    let (header_len, start) = match head[6] {
        1 => (u64::from(u16::from_le_bytes([head[8], head[9]])), 10),
        2 | 3 => {
            f.read_exact(&mut head[10..12]).ok()?;
            (
                u64::from(u32::from_le_bytes([head[8], head[9], head[10], head[11]])),
                12,
            )
        }
        _ => return None,
    };
    if header_len > 1 << 20 {
        return None;
    }
    let mut header = vec![0u8; header_len as usize];
    f.read_exact(&mut header).ok()?;
    let text = String::from_utf8_lossy(&header);
    let after = |key: &str| text.find(key).map(|i| &text[i + key.len()..]);
    let descr = after("'descr':")?.trim_start().trim_start_matches(['\'', '"']);
    let item: u128 = descr
        .chars()
        .skip(2)
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    let shape_text = after("'shape':")?.trim_start().strip_prefix('(')?;
    let shape: Vec<u64> = shape_text[..shape_text.find(')')?]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect::<Option<_>>()?;
    let needed = shape.iter().fold(item, |acc, &n| acc.saturating_mul(u128::from(n)));
    Some((shape, needed, len.saturating_sub(start + header_len)))
}
