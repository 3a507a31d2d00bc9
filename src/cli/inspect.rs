use std::path::PathBuf;

use serde_json::json;
use sparsimony::io::read_table;

use super::{CliResult, print_json};

/// `sparsimony inspect`.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// A data file (.csv with header, or .npy).
    file: PathBuf,
    /// Print JSON: {"file", "rows", "columns": [{"name", "min", "mean", "max", "non_finite"}]} (min, mean and max
    /// of the finite values; null for a column without any).
    #[arg(long)]
    json: bool,
}

/// Reads the file and prints its shape and per-column statistics.
pub fn run(a: Args) -> CliResult {
    let t = read_table(&a.file)?;
    let (rows, cols) = t.values().dim();
    // Statistics of the finite values (none for a column without any); the mean as a running mean of
    // scaled terms, m·k/(k+1) + v/(k+1), which stays finite where a sum of values near ±1.8e308 would
    // overflow (and so would m + (v − m)/(k+1), at v − m).
    let stats: Vec<(Option<[f64; 3]>, usize)> = (0..cols)
        .map(|j| {
            let finite: Vec<f64> = t.values().column(j).iter().copied().filter(|v| v.is_finite()).collect();
            let bad = rows - finite.len();
            if finite.is_empty() {
                return (None, bad);
            }
            let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
            let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mean = finite
                .iter()
                .enumerate()
                .fold(0.0, |m, (k, v)| m * (k as f64 / (k + 1) as f64) + v / (k + 1) as f64);
            (Some([min, mean, max]), bad)
        })
        .collect();
    if a.json {
        let columns: Vec<_> = t
            .columns
            .iter()
            .zip(&stats)
            .map(|(name, (s, bad))| {
                let at = |k: usize| s.map(|v| v[k]);
                json!({"name": name, "min": at(0), "mean": at(1), "max": at(2), "non_finite": bad})
            })
            .collect();
        print_json(&json!({"file": a.file.display().to_string(), "rows": rows, "columns": columns}))?;
        return Ok(());
    }
    outln!("{}: {rows} rows × {cols} columns", a.file.display())?;
    let width = t.columns.iter().map(String::len).max().unwrap_or(0).clamp(6, 40);
    outln!(
        "{:>width$}  {:>12}  {:>12}  {:>12}  {:>10}",
        "column",
        "min",
        "mean",
        "max",
        "non-finite"
    )?;
    for (name, (s, bad)) in t.columns.iter().zip(&stats) {
        match s {
            Some([min, mean, max]) => outln!("{name:>width$}  {min:>12.5e}  {mean:>12.5e}  {max:>12.5e}  {bad:>10}")?,
            None => outln!("{name:>width$}  {:>12}  {:>12}  {:>12}  {bad:>10}", "—", "—", "—")?,
        }
    }
    Ok(())
}
