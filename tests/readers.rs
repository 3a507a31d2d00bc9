//! The file readers: CSV read by the parallel fast path equals the `csv` crate's reader (values, record
//! lines), and `.npy` files used in place from their memory map equal the arrays written.

use std::path::PathBuf;

use ndarray::{Array1, Array2, ShapeBuilder};
use ndarray_npy::WriteNpyExt;
use proptest::prelude::*;
use sparsimony::io::{Table, read_table};

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sparsimony-readers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The same table, as bit patterns (NaN equal to NaN).
fn same(a: &Table, b: &Table) {
    assert_eq!(a.columns, b.columns);
    assert_eq!(a.lines, b.lines);
    let bits = |t: &Table| t.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(a.values().dim(), b.values().dim());
    assert_eq!(bits(a), bits(b));
}

/// A CSV text of `rows`, each field written as `fmt` chooses, with optional blank lines and CRLF ends; and
/// the same text with the first field quoted, which only the `csv` crate's reader reads.
fn csv_pair(rows: &[Vec<f64>], style: &[(u8, bool, bool)], crlf: bool) -> (String, String) {
    let end = if crlf { "\r\n" } else { "\n" };
    let cols = rows.first().map_or(1, Vec::len);
    let header: Vec<String> = (0..cols).map(|j| format!("c{j}")).collect();
    let mut body = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let (fmt, pad, blank) = style[i % style.len()];
        let fields: Vec<String> = row
            .iter()
            .map(|v| {
                let s = match fmt % 3 {
                    0 => format!("{v}"),
                    1 => format!("{v:e}"),
                    _ => format!("{v:.17}"),
                };
                if pad { format!(" {s}\t") } else { s }
            })
            .collect();
        body.push(fields.join(","));
        if blank {
            body.push(String::new());
        }
    }
    let plain = format!("{}{end}{}{end}", header.join(","), body.join(end));
    let start = plain.find(end).expect("a header line") + end.len();
    let stop = start + plain[start..].find([',', '\r', '\n']).expect("a first record");
    let quoted = format!("{}\"{}\"{}", &plain[..start], &plain[start..stop], &plain[stop..]);
    (plain, quoted)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any table of numbers (NaN, ±∞, subnormals, padding, blank lines, CRLF) reads the same by both paths.
    #[test]
    fn fast_csv_equals_the_reader(
        cols in 1usize..5,
        values in proptest::collection::vec(
            prop_oneof![6 => -1e6..1e6f64, 1 => Just(f64::NAN), 1 => Just(f64::NEG_INFINITY), 1 => Just(5e-324)],
            1..120,
        ),
        style in proptest::collection::vec((0u8..3, any::<bool>(), any::<bool>()), 1..8),
        crlf in any::<bool>(),
    ) {
        let rows: Vec<Vec<f64>> = values.chunks(cols).filter(|r| r.len() == cols).map(<[f64]>::to_vec).collect();
        prop_assume!(!rows.is_empty());
        let (plain, quoted) = csv_pair(&rows, &style, crlf);
        let (a, b) = (read_table(&temp("p.csv", plain.as_bytes())), read_table(&temp("q.csv", quoted.as_bytes())));
        let (a, b) = (a.unwrap(), b.unwrap());
        same(&a, &b);
        prop_assert_eq!(a.values().nrows(), rows.len());
    }
}

/// A file of several parallel pieces (about 1 MB each): the rows, their lines and the values are where they
/// belong across piece boundaries, and a bad field in the last piece is reported by the reader at its line.
#[test]
fn fast_csv_across_pieces() {
    let rows: Vec<Vec<f64>> = (0..120_000)
        .map(|i| vec![i as f64, (i as f64 * 0.1).sin(), -1.0 / (i as f64 + 1.0)])
        .collect();
    let (plain, quoted) = csv_pair(&rows, &[(2, false, false), (0, true, false), (1, false, true)], false);
    assert!(plain.len() > 3 << 20, "{} bytes: fewer than four pieces", plain.len());
    let a = read_table(&temp("big.csv", plain.as_bytes())).unwrap();
    same(&a, &read_table(&temp("bigq.csv", quoted.as_bytes())).unwrap());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(a.values()[(i, 0)], row[0]);
    }
    // Every third record is followed by a blank line: line of record i is 2 + i + i / 3.
    assert!(
        a.lines
            .iter()
            .enumerate()
            .all(|(i, &l)| l == 2 + i as u64 + i as u64 / 3)
    );
    let bad = format!("{plain}1,2,3x\n");
    let e = read_table(&temp("bad.csv", bad.as_bytes())).unwrap_err().to_string();
    let line = 2 + 120_000 + 120_000 / 3;
    assert!(e.contains(&format!("line {line}")) && e.contains("not a number"), "{e}");
}

/// Records far shorter than the header are reported by the reader at their line, with no table allocated for
/// them first (a wide header over many one-field lines).
#[test]
fn short_records_are_refused_before_allocating() {
    let header: Vec<String> = (0..1000).map(|j| format!("c{j}")).collect();
    let text = format!("{}\n{}", header.join(","), "1\n".repeat(100_000));
    let e = read_table(&temp("wide.csv", text.as_bytes())).unwrap_err().to_string();
    assert!(
        e.contains("line 2") && e.contains("1 field(s) where the header has 1000"),
        "{e}"
    );
}

/// `.npy` files of `f64` are used in place, row- or column-major, 1-D or 2-D; `f32` files are converted.
#[test]
fn npy_in_place_and_converted() {
    let a = Array2::from_shape_fn((37, 3), |(i, j)| i as f64 * 10.0 + j as f64 - 0.5);
    let mut c = Vec::new();
    a.write_npy(&mut c).unwrap();
    let mut f = Vec::new();
    let fortran = Array2::from_shape_vec((37, 3).f(), a.t().iter().copied().collect()).unwrap();
    assert_eq!(fortran, a);
    fortran.write_npy(&mut f).unwrap();
    let mut one = Vec::new();
    a.column(1).to_owned().write_npy(&mut one).unwrap();
    let mut single = Vec::new();
    a.mapv(|v| v as f32).write_npy(&mut single).unwrap();
    for (name, bytes, expect) in [
        ("c.npy", c, a.clone()),
        ("f.npy", f, a.clone()),
        ("one.npy", one, a.column(1).to_owned().insert_axis(ndarray::Axis(1))),
        ("single.npy", single, a.clone()),
    ] {
        let t = read_table(&temp(name, &bytes)).unwrap();
        assert_eq!(t.values(), expect.view(), "{name}");
        assert_eq!(t.columns.len(), expect.ncols(), "{name}");
        assert_eq!(t.into_values(), expect, "{name}");
    }
    let v = Array1::<f64>::zeros(0);
    let mut empty = Vec::new();
    v.write_npy(&mut empty).unwrap();
    assert!(
        read_table(&temp("empty.npy", &empty))
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
}

/// A file that cannot be mapped (a named pipe) is read as before.
#[cfg(unix)]
#[test]
fn csv_from_a_pipe() {
    let dir = std::env::temp_dir().join(format!("sparsimony-readers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("pipe.csv");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, "x,y\n1,2\n\n3,5\n").unwrap())
    };
    let t = read_table(&fifo).unwrap();
    writer.join().unwrap();
    assert_eq!(t.values(), ndarray::arr2(&[[1.0, 2.0], [3.0, 5.0]]));
    assert_eq!(t.lines, vec![2, 4]);
}
