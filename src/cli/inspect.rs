use std::path::PathBuf;

use serde_json::json;
use sparsimony::io::read_table;

use super::{CliResult, print_json};

/// `sparsimony inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A data file (.csv with header, or .npy).
    file: PathBuf,
    /// Print JSON: {"file", "rows", "columns": [{"name", "min", "mean", "max", "non_finite"}]}.
    #[arg(long)]
    json: bool,
}

/// Reads the file and prints its shape and per-column statistics.
pub fn run(a: Args) -> CliResult {
    let t = read_table(&a.file)?;
    let (rows, cols) = t.values.dim();
    let stats: Vec<(f64, f64, f64, usize)> = (0..cols)
        .map(|j| {
            let c = t.values.column(j);
            let finite: Vec<f64> = c.iter().copied().filter(|v| v.is_finite()).collect();
            let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mean = finite.iter().sum::<f64>() / finite.len().max(1) as f64;
            (min, mean, max, rows - finite.len())
        })
        .collect();
    if a.json {
        let columns: Vec<_> = t
            .columns
            .iter()
            .zip(&stats)
            .map(|(name, (min, mean, max, bad))| json!({"name": name, "min": min, "mean": mean, "max": max, "non_finite": bad}))
            .collect();
        print_json(&json!({"file": a.file.display().to_string(), "rows": rows, "columns": columns}))?;
        return Ok(());
    }
    outln!("{}: {rows} rows × {cols} columns", a.file.display())?;
    let width = t.columns.iter().map(String::len).max().unwrap_or(0).max(6);
    outln!(
        "{:>width$}  {:>12}  {:>12}  {:>12}  {:>10}",
        "column",
        "min",
        "mean",
        "max",
        "non-finite"
    )?;
    for (name, (min, mean, max, bad)) in t.columns.iter().zip(&stats) {
        outln!("{name:>width$}  {min:>12.5e}  {mean:>12.5e}  {max:>12.5e}  {bad:>10}")?;
    }
    Ok(())
}
