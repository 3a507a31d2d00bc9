//! Langevin dynamics with averaging (Wei, Damian & Lee, ICLR 2026) on single-index models with Hermite
//! links: the averaged read-out finds the hidden direction from `n = 10·d^{⌈k*/2⌉}` samples while the
//! iterate itself stays at the equator, and the sample threshold against the dimension.
//!
//! `cargo run --release --example langevin_threshold [-- --quick] [--plot langevin.svg]`
//!
//! 1. **The paper's figure** (d = 100; `--quick`: 30): links `h_3` and `h_4`, `n = 10·d²`; the overlap
//!    `|⟨θ̂, θ*⟩|` against time for the averaged read-out (mean for `k* = 3`, second moment for `k* = 4`), the
//!    last iterate, and one pass of online SGD over the same samples (the overlap after each tenth).
//! 2. **Thresholds** (`k* = 3`): for d = 16, 32, 64, the smallest `n` on a grid `d^p` (p in quarter steps)
//!    at which each method reaches overlap 0.9 in at least 2 of 3 seeds, and the log-log slope of that `n`
//!    against `d` beside the theory's `k*/2 = 1.5` (Langevin, averaged) and `k* − 1 = 2` (online SGD).
//!
//! The signal strength is `ε = 2√d` (the averaged estimate's signal-to-noise grows like `ε√T/√d`; at this
//! scale the iterate still does not leave the equator), the step `h = 0.05`, the horizon `T = 400`.
use std::time::Instant;

use sparsimony::solvers::langevin::{Langevin, Link, OnlineSgd, SingleIndex};

fn signal(d: usize) -> f64 {
    2.0 * (d as f64).sqrt()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let plot = args
        .iter()
        .position(|a| a == "--plot")
        .and_then(|i| args.get(i + 1))
        .cloned();
    if let Some(p) = &plot {
        sparsimony::plot::require_svg(std::path::Path::new(p)).unwrap_or_else(|e| panic!("{e}"));
    }
    let horizon = 400.0;

    // 1. The figure.
    let d = if quick { 30 } else { 100 };
    println!(
        "1. Overlap |⟨θ̂, θ*⟩| against time, d = {d}, n = 10·d², ε = {:.1}, h = 0.05 (equator scale d^(−1/2) = {:.3})",
        signal(d),
        1.0 / (d as f64).sqrt()
    );
    let mut panels = Vec::new();
    for k in [3usize, 4] {
        let model = SingleIndex::new(d, Link::hermite(k).expect("a valid degree"), 0.0).expect("a valid model");
        let n = 10 * d.pow(k.div_ceil(2) as u32);
        let (x, y) = model.sample(7, 0, n);
        let every = (horizon / 0.05 / 40.0) as usize;
        let (mut times, mut averaged, mut last) = (Vec::new(), Vec::new(), Vec::new());
        let start = Instant::now();
        let fit = Langevin {
            signal: signal(d),
            time: horizon,
            seed: 1,
            ..Langevin::default()
        }
        .fit_observed(x.view(), y.view(), &model.link, every, |t, estimate, theta| {
            times.push(t);
            averaged.push(estimate[0].abs());
            last.push(theta[0].abs());
        })
        .expect("a valid fit");
        let seconds = start.elapsed().as_secs_f64();
        // Online SGD over the same samples, from a uniform start: the overlap after each tenth of the pass.
        let sgd: Vec<f64> = (1..=10)
            .map(|tenth| {
                let m = n * tenth / 10;
                let (theta, _) = OnlineSgd {
                    seed: 1,
                    ..OnlineSgd::default()
                }
                .fit(x.slice(ndarray::s![..m, ..]), y.slice(ndarray::s![..m]), &model.link)
                .expect("a valid fit");
                theta[0].abs()
            })
            .collect();
        println!(
            "  k* = {k}, n = {n}, {} steps in {seconds:.1} s ({:.2} ms a step, {:.1} ns per sample and coordinate)",
            fit.report.iterations,
            1e3 * seconds / fit.report.iterations as f64,
            1e9 * seconds / (fit.report.iterations as f64 * (n * d) as f64)
        );
        for q in [times.len() / 8, times.len() / 4, times.len() / 2, times.len() - 1] {
            println!(
                "    t = {:>6.1}: averaged {:.3}, last iterate {:.3}",
                times[q], averaged[q], last[q]
            );
        }
        println!(
            "    online SGD over the n samples (one pass, η = d^(−(k*+1)/2)): overlap after each tenth {}",
            sgd.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(" ")
        );
        panels.push((k, times, averaged, last));
    }

    // 2. Thresholds.
    let dims: Vec<usize> = if quick { vec![16, 32] } else { vec![16, 32, 64] };
    let exponents: Vec<f64> = (4..=14).map(|q| q as f64 / 4.0).collect(); // n = d^1 … d^3.5
    println!("\n2. Smallest n = d^p (p in quarter steps) with overlap ≥ 0.9 in ≥ 2 of 3 seeds, k* = 3");
    let mut thresholds: Vec<(usize, Option<f64>, Option<f64>)> = Vec::new();
    for &d in &dims {
        let model = SingleIndex::new(d, Link::hermite(3).expect("valid"), 0.0).expect("valid");
        let success = |p: f64, langevin: bool| -> bool {
            let n = (d as f64).powf(p).round() as usize;
            let hits = (0..3u64)
                .filter(|&seed| {
                    let (x, y) = model.sample(100 + seed, 0, n);
                    let overlap = if langevin {
                        Langevin {
                            signal: signal(d),
                            time: horizon,
                            seed,
                            ..Langevin::default()
                        }
                        .fit(x.view(), y.view(), &model.link)
                        .expect("a valid fit")
                        .estimate[0]
                    } else {
                        OnlineSgd {
                            seed,
                            ..OnlineSgd::default()
                        }
                        .fit(x.view(), y.view(), &model.link)
                        .expect("a valid fit")
                        .0[0]
                    };
                    overlap.abs() >= 0.9
                })
                .count();
            hits >= 2
        };
        let start = Instant::now();
        // Langevin costs O(nd) a step: its grid stops at d^2.5.
        let lan = exponents
            .iter()
            .copied()
            .filter(|&p| p <= 2.5)
            .find(|&p| success(p, true));
        let sgd = exponents.iter().copied().find(|&p| success(p, false));
        let show = |p: Option<f64>, top: &str| {
            p.map_or(format!("beyond {top}"), |p| {
                format!("d^{p:.2} = {:.0}", (d as f64).powf(p))
            })
        };
        println!(
            "  d = {d:>3}: Langevin (averaged) {}, online SGD {}  ({:.0} s)",
            show(lan, "d^2.5"),
            show(sgd, "d^3.5"),
            start.elapsed().as_secs_f64()
        );
        thresholds.push((d, lan, sgd));
    }
    // Least-squares slope of ln n = p ln d against ln d over the dimensions where a threshold was found.
    let slope = |found: Vec<(usize, f64)>| -> Option<f64> {
        let pts: Vec<(f64, f64)> = found
            .iter()
            .map(|&(d, p)| ((d as f64).ln(), p * (d as f64).ln()))
            .collect();
        if pts.len() < 2 {
            return None;
        }
        let (mx, my) = (
            pts.iter().map(|p| p.0).sum::<f64>() / pts.len() as f64,
            pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64,
        );
        let num: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let den: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        Some(num / den)
    };
    let fmt = |s: Option<f64>| s.map_or("n/a".to_string(), |s| format!("{s:.2}"));
    println!(
        "  slope of log n against log d: Langevin {} (theory k*/2 = 1.5), online SGD {} (theory k* − 1 = 2)",
        fmt(slope(thresholds.iter().filter_map(|t| t.1.map(|p| (t.0, p))).collect())),
        fmt(slope(thresholds.iter().filter_map(|t| t.2.map(|p| (t.0, p))).collect()))
    );

    if let Some(path) = plot {
        use sparsimony::plot::{Curve, Panel, line_panels};
        let x = panels[0].1.clone();
        let curves: Vec<Panel<'_>> = panels
            .iter()
            .map(|(k, _, averaged, last)| Panel {
                title: format!("k* = {k}: overlap |⟨θ̂, θ*⟩|"),
                curves: vec![
                    Curve {
                        label: "averaged read-out".into(),
                        values: averaged,
                        dashed: false,
                    },
                    Curve {
                        label: "last iterate".into(),
                        values: last,
                        dashed: true,
                    },
                ],
            })
            .collect();
        line_panels(std::path::Path::new(&path), "time", &x, &curves).unwrap_or_else(|e| panic!("{e}"));
        println!("\nplot written to {path}");
    }
}
