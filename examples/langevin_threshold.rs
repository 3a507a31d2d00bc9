//! Langevin dynamics with averaging (Wei, Damian & Lee, ICLR 2026) on single-index models with Hermite
//! links and on tensor PCA: the averaged read-out finds the hidden direction from `n = 10·d^{⌈k*/2⌉}`
//! samples while the iterate itself stays at the equator, the sample threshold against the dimension, the
//! effect of the temperature, and what a step costs.
//!
//! `cargo run --release --example langevin_threshold [-- --quick] [--only figure|threshold|temperature|cost]
//! [--time T] [--dims 16,32,64,128] [--plot langevin.svg]`
//!
//! 1. **The paper's figure** (d = 100; `--quick`: 30): links `h_3` and `h_4` and tensor PCA of orders 3 and 4
//!    (order 4 at d = 50, the largest whose `d⁴` tensor is cheap), `n = 10·d^{⌈k*/2⌉}`; the overlap `|⟨θ̂, θ*⟩|` against time for the averaged read-out (the mean for
//!    odd `k*`, the second moment's top eigenvector for even `k*`), the last iterate, and one pass of
//!    online SGD over the same samples (single-index) or as many fresh ones (tensor PCA).
//! 2. **Thresholds** (`k* = 3`): for d = 16, 32, 64, 128 (`--dims`), the smallest `n` on a grid `d^p` (p in quarter steps)
//!    at which each method reaches overlap 0.9 in at least 2 of 3 seeds, and the log-log slope of that `n`
//!    against `d` beside the theory's `k*/2 = 1.5` (Langevin, averaged) and `k* − 1 = 2` (online SGD, at
//!    its default step `d^{−k*/2}/2` and at the best of four steps around it).
//! 3. **Temperature** (`k* = 4`, d = 30, `n = 10·d²`, below online SGD's `d³`): the signal strength `ε`
//!    from `√d/8` to `8√d` — too small and the average is Brownian noise, too large and the dynamics are
//!    gradient flow, stuck at the equator.
//! 4. **Cost** (d = 100, `n = 10·d²`): a Langevin step against one pass of the gradient over the sample and
//!    against one pass of online SGD over it; batches of chains (one matrix product a step) against one.
//!
//! The signal strength is `ε = 2√d` (the averaged estimate's signal-to-noise grows like `ε√T/√d`; at this
//! scale the iterate still does not leave the equator), the step `h = 0.05`, the horizon `T = 1600` for the
//! figure (`--time`) and 400 for the threshold search.
use sparsimony::solvers::Estimator;
use std::time::Instant;

use sparsimony::solvers::langevin::{
    Chain, CorrelationLoss, Langevin, Link, Objective, OnlineSgd, SingleIndex, TensorPca,
};

fn signal(d: usize) -> f64 {
    2.0 * (d as f64).sqrt()
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// An overlap path: times, the averaged read-out, the last iterate, online SGD (interpolated onto the
/// same fractions of its pass).
struct Path {
    title: String,
    times: Vec<f64>,
    averaged: Vec<f64>,
    last: Vec<f64>,
    sgd: Vec<f64>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let only = flag(&args, "--only");
    let run = |part: &str| only.as_deref().is_none_or(|o| o == part);
    let plot = flag(&args, "--plot");
    if let Some(p) = &plot {
        sparsimony::plot::require_svg(std::path::Path::new(p)).unwrap_or_else(|e| panic!("{e}"));
    }
    let horizon: f64 = flag(&args, "--time").map_or(if quick { 400.0 } else { 1600.0 }, |t| {
        t.parse().expect("--time: a number")
    });
    let mut paths = Vec::new();
    if run("figure") {
        paths = figure(if quick { 30 } else { 100 }, horizon);
    }
    if run("threshold") {
        let dims = flag(&args, "--dims").map_or(if quick { vec![16, 32] } else { vec![16, 32, 64, 128] }, |v| {
            v.split(',')
                .map(|d| d.parse().expect("--dims: comma-separated dimensions"))
                .collect()
        });
        threshold(dims);
    }
    if run("temperature") {
        temperature(if quick { 20 } else { 30 }, horizon);
    }
    if run("cost") {
        cost(if quick { 30 } else { 100 });
    }
    if let (Some(path), false) = (plot, paths.is_empty()) {
        use sparsimony::plot::{Curve, Panel, line_panels};
        let panels: Vec<Panel<'_>> = paths
            .iter()
            .map(|p| Panel {
                title: p.title.clone(),
                curves: vec![
                    Curve {
                        label: "averaged read-out".into(),
                        values: &p.averaged,
                        dashed: false,
                    },
                    Curve {
                        label: "last iterate".into(),
                        values: &p.last,
                        dashed: true,
                    },
                    Curve {
                        label: "online SGD (same fraction of its pass)".into(),
                        values: &p.sgd,
                        dashed: true,
                    },
                ],
            })
            .collect();
        line_panels(std::path::Path::new(&path), "time", &paths[0].times, &panels).unwrap_or_else(|e| panic!("{e}"));
        println!("\nplot written to {path}");
    }
}

/// 1. The overlap against time at dimension `d`.
fn figure(d: usize, horizon: f64) -> Vec<Path> {
    println!(
        "1. Overlap |⟨θ̂, θ*⟩| against time, d = {d}, n = 10·d^⌈k*/2⌉, ε = {:.1}, h = 0.05, T = {horizon} \
         (equator scale d^(−1/2) = {:.3})",
        signal(d),
        1.0 / (d as f64).sqrt()
    );
    let mut paths = Vec::new();
    for (k, tensor) in [(3usize, false), (4, false), (3, true), (4, true)] {
        // Order-4 tensors beyond d = 50 would not fit (d⁴ values).
        let d = if tensor && k == 4 { d.min(50) } else { d };
        let n = 10 * d.pow(k.div_ceil(2) as u32);
        let langevin = Langevin {
            signal: signal(d),
            time: horizon,
            seed: 1,
            ..Langevin::default()
        };
        let every = (horizon / langevin.step / 40.0) as usize;
        let (mut times, mut averaged, mut last) = (Vec::new(), Vec::new(), Vec::new());
        let mut record = |t: f64, estimate: &[f64], theta: &[f64]| {
            times.push(t);
            averaged.push(estimate[0].abs());
            last.push(theta[0].abs());
        };
        let start = Instant::now();
        // Online SGD from a uniform start: the overlap after each tenth of its pass.
        let (fit, sgd, title) = if tensor {
            let model = TensorPca::new(d, k, n as f64).expect("a valid model");
            let objective = model.sample(7).expect("a tensor that fits");
            let fit = langevin
                .run_observed(&objective, every, &mut record)
                .expect("a valid fit");
            let sgd: Vec<f64> = (1..=10)
                .map(|tenth| {
                    let part = TensorPca::new(d, k, (n * tenth / 10) as f64).expect("valid");
                    let sgd = OnlineSgd {
                        seed: 1,
                        ..OnlineSgd::default()
                    };
                    sgd.fit(&part).expect("a valid fit").direction[0].abs()
                })
                .collect();
            (fit, sgd, format!("tensor PCA, order {k}, d = {d}"))
        } else {
            let model = SingleIndex::new(d, Link::hermite(k).expect("a valid degree"), 0.0).expect("a valid model");
            let (x, y) = model.sample(7, 0, n).expect("a sample that fits");
            let objective = CorrelationLoss::new(x.view(), y.view(), &model.link).expect("a valid sample");
            let fit = langevin
                .run_observed(&objective, every, &mut record)
                .expect("a valid fit");
            let sgd: Vec<f64> = (1..=10)
                .map(|tenth| {
                    let m = n * tenth / 10;
                    let sgd = OnlineSgd {
                        seed: 1,
                        link: model.link.clone(),
                        ..OnlineSgd::default()
                    };
                    sgd.fit((x.slice(ndarray::s![..m, ..]), y.slice(ndarray::s![..m])))
                        .expect("a valid fit")
                        .direction[0]
                        .abs()
                })
                .collect();
            (fit, sgd, format!("single-index, h_{k}, d = {d}"))
        };
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "  {title}, k* = {k}, n = {n}: {} steps in {seconds:.1} s ({:.2} ms a step)",
            fit.report.iterations,
            1e3 * seconds / fit.report.iterations as f64,
        );
        for q in [times.len() / 8, times.len() / 4, times.len() / 2, times.len() - 1] {
            println!(
                "    t = {:>6.1}: averaged {:.3}, last iterate {:.3}",
                times[q], averaged[q], last[q]
            );
        }
        println!(
            "    online SGD, one pass (η = d^(−k*/2)/2): overlap after each tenth {}",
            sgd.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(" ")
        );
        // SGD's tenths placed at the same fractions of the horizon as the Langevin path's points.
        let sgd_path = times
            .iter()
            .map(|t| sgd[((10.0 * t / horizon).ceil() as usize).clamp(1, 10) - 1])
            .collect();
        paths.push(Path {
            title: format!("{title}: overlap |⟨θ̂, θ*⟩|"),
            times,
            averaged,
            last,
            sgd: sgd_path,
        });
    }
    paths
}

/// 2. The smallest `n` reaching overlap 0.9, against `d`, for `k* = 3`.
fn threshold(dims: Vec<usize>) {
    let exponents: Vec<f64> = (4..=14).map(|q| q as f64 / 4.0).collect(); // n = d^1 … d^3.5
    let sgd_scales = [0.25, 0.5, 1.0, 2.0]; // × d^(−k*/2)
    println!(
        "\n2. Smallest n = d^p (p in quarter steps) with overlap ≥ 0.9 in ≥ 2 of 3 seeds, k* = 3 \
         (Langevin T = 400; online SGD at η = d^(−3/2)/2 and at the best of η = {{1/4, 1/2, 1, 2}}·d^(−3/2))"
    );
    let mut thresholds: Vec<(usize, [Option<f64>; 3])> = Vec::new();
    for &d in &dims {
        let model = SingleIndex::new(d, Link::hermite(3).expect("valid"), 0.0).expect("valid");
        let hits = |p: f64, method: &dyn Fn(&CorrelationLoss<'_>, u64) -> f64| -> bool {
            let n = (d as f64).powf(p).round() as usize;
            let found = (0..3u64)
                .filter(|&seed| {
                    let (x, y) = model.sample(100 + seed, 0, n).expect("a sample that fits");
                    let loss = CorrelationLoss::new(x.view(), y.view(), &model.link).expect("valid");
                    method(&loss, seed) >= 0.9
                })
                .count();
            found >= 2
        };
        let langevin = |loss: &CorrelationLoss<'_>, seed: u64| {
            Langevin {
                signal: signal(d),
                time: 400.0,
                seed,
                ..Langevin::default()
            }
            .fit(loss)
            .expect("a valid fit")
            .estimate[0]
                .abs()
        };
        let sgd_at = |scale: f64| {
            move |loss: &CorrelationLoss<'_>, seed: u64| {
                let (x, y) = loss.sample();
                OnlineSgd {
                    step: Some(scale * (d as f64).powf(-1.5)),
                    seed,
                    link: loss.link().clone(),
                    ..OnlineSgd::default()
                }
                .fit((x, y))
                .expect("a valid fit")
                .direction[0]
                    .abs()
            }
        };
        let start = Instant::now();
        // Langevin costs O(nd) a step: its grid stops at d^2.5.
        let lan = exponents
            .iter()
            .copied()
            .filter(|&p| p <= 2.5)
            .find(|&p| hits(p, &langevin));
        // The samples are held in memory: the grid stops at n·d = 4·10⁸ values (3.2 GB).
        let fits = |p: &f64| (d as f64).powf(*p) * d as f64 <= 4e8;
        let sgd = exponents.iter().copied().filter(fits).find(|&p| hits(p, &sgd_at(0.5)));
        let best = exponents
            .iter()
            .copied()
            .filter(fits)
            .find(|&p| sgd_scales.iter().any(|&c| hits(p, &sgd_at(c))));
        let sgd_top = format!("d^{:.2}", exponents.iter().copied().filter(fits).fold(0.0, f64::max));
        let show = |p: Option<f64>, top: &str| {
            p.map_or(format!("beyond {top}"), |p| {
                format!("d^{p:.2} = {:.0}", (d as f64).powf(p))
            })
        };
        println!(
            "  d = {d:>3}: Langevin (averaged) {}, online SGD {}, best-step SGD {}  ({:.0} s)",
            show(lan, "d^2.5"),
            show(sgd, &sgd_top),
            show(best, &sgd_top),
            start.elapsed().as_secs_f64()
        );
        thresholds.push((d, [lan, sgd, best]));
    }
    // Least-squares slope of ln n = p ln d against ln d over the dimensions where a threshold was found.
    let slope = |m: usize| -> String {
        let pts: Vec<(f64, f64)> = thresholds
            .iter()
            .filter_map(|(d, t)| t[m].map(|p| ((*d as f64).ln(), p * (*d as f64).ln())))
            .collect();
        if pts.len() < 2 {
            return "n/a".into();
        }
        let count = pts.len() as f64;
        let (mx, my) = (
            pts.iter().map(|p| p.0).sum::<f64>() / count,
            pts.iter().map(|p| p.1).sum::<f64>() / count,
        );
        let num: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let den: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        format!("{:.2}", num / den)
    };
    println!(
        "  slope of log n against log d: Langevin {} (theory k*/2 = 1.5), online SGD {} and best-step {} \
         (theory k* − 1 = 2)",
        slope(0),
        slope(1),
        slope(2)
    );
}

/// 3. The signal strength (inverse temperature) against the read-out, `k* = 4`.
fn temperature(d: usize, horizon: f64) {
    let model = SingleIndex::new(d, Link::hermite(4).expect("valid"), 0.0).expect("valid");
    let n = 10 * d * d;
    println!(
        "\n3. Signal strength ε (inverse temperature), k* = 4, d = {d}, n = 10·d² = {n}, h = 0.05, T = {horizon}: \
         median over 3 seeds (equator scale {:.3})",
        1.0 / (d as f64).sqrt()
    );
    let (x, y) = model.sample(3, 0, n).expect("a sample that fits");
    let loss = CorrelationLoss::new(x.view(), y.view(), &model.link).expect("valid");
    for scale in [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0] {
        let eps = scale * (d as f64).sqrt();
        let chains: Vec<Chain> = (0..3).map(|seed| Chain { seed, signal: eps }).collect();
        let fits = Langevin {
            time: horizon,
            ..Langevin::default()
        }
        .run_chains(&loss, &chains)
        .expect("a valid fit");
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[1]
        };
        println!(
            "  ε = {scale:>5}·√d = {eps:>6.2}: averaged {:.3}, last iterate {:.3}",
            median(fits.iter().map(|f| f.estimate[0].abs()).collect()),
            median(fits.iter().map(|f| f.last[0].abs()).collect())
        );
    }
}

/// 4. What a step costs, and batches of chains.
fn cost(d: usize) {
    let model = SingleIndex::new(d, Link::hermite(3).expect("valid"), 0.0).expect("valid");
    let n = 10 * d * d;
    let (x, y) = model.sample(5, 0, n).expect("a sample that fits");
    let loss = CorrelationLoss::new(x.view(), y.view(), &model.link).expect("valid");
    let time = |f: &mut dyn FnMut()| {
        f();
        let start = Instant::now();
        let mut reps = 0;
        while reps < 5 || start.elapsed().as_secs_f64() < 1.0 {
            f();
            reps += 1;
        }
        start.elapsed().as_secs_f64() / reps as f64
    };
    let steps = 200;
    let step = time(&mut || {
        Langevin {
            signal: signal(d),
            time: steps as f64 * 0.05,
            ..Langevin::default()
        }
        .fit(&loss)
        .expect("a valid fit");
    }) / steps as f64;
    let theta: Vec<f64> = (0..d).map(|j| if j == 1 { 1.0 } else { 0.0 }).collect();
    let mut out = vec![0.0; d];
    let gradient = time(&mut || loss.drift(&theta, &mut out).expect("a drift"));
    let sgd = time(&mut || {
        OnlineSgd {
            link: model.link.clone(),
            ..OnlineSgd::default()
        }
        .fit((x.view(), y.view()))
        .expect("a valid fit");
    });
    println!(
        "\n4. Cost at d = {d}, n = {n} ({} threads): a Langevin step {:.3} ms = {:.2}× one gradient pass over \
         the sample ({:.3} ms) = {:.3}× one pass of online SGD over it ({:.3} ms, {n} steps of batch 1)",
        rayon::current_num_threads(),
        1e3 * step,
        step / gradient,
        1e3 * gradient,
        step / sgd,
        1e3 * sgd
    );
    for b in [1usize, 4, 16] {
        let chains: Vec<Chain> = (0..b as u64)
            .map(|seed| Chain {
                seed,
                signal: signal(d),
            })
            .collect();
        let batch = time(&mut || {
            Langevin {
                time: steps as f64 * 0.05,
                ..Langevin::default()
            }
            .run_chains(&loss, &chains)
            .expect("a valid fit");
        }) / steps as f64;
        println!(
            "  {b:>2} chains in lockstep: {:.3} ms a step of all, {:.0} chain-steps/s = {:.2}× one chain's",
            1e3 * batch,
            b as f64 / batch,
            b as f64 * step / batch
        );
    }
}
