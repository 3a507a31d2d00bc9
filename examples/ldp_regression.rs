//! Sparse linear regression under local differential privacy (Zhu, Ding, Aggarwal, Xu & Wang, ICLR 2024):
//! the paper's rates measured, where the interactive estimator recovers the support, and what 10⁸ users
//! cost.
//!
//! `cargo run --release --example ldp_regression [-- --quick] [--seeds S] [--max-n N] [--only NAME]
//! [--no-rates] [--plot ldp.svg]` (`--only`: the rates of the estimators whose name contains NAME, nothing
//! else; `--no-rates`: parts 2 and 3 only)
//!
//! 1. **Rates** (about 15 minutes on 2 cores; `--quick` about one). Every estimator — non-interactive, non-interactive with public unlabeled data, LDP-IHT,
//!    and the non-private Lasso and IHT on the same users' raw records — over one-at-a-time sweeps of `n`,
//!    `ε`, `d` and `k` around a base point in its own regime, on `x ~ N(0, I)` (and the `n` sweep again on
//!    an AR(1) design, `Σ_ij = 0.5^|i−j|`). Each cell is the median ℓ2 error over the seeds; each slope the
//!    least-squares slope of log error against log parameter, printed beside the paper's exponent and
//!    beside the exponent of the mechanism's own noise scale over the same ε grid (the paper's `1/ε` is its
//!    small-ε form). The slope's ± is the standard deviation of the per-seed slopes.
//! 2. **Support recovery** of LDP-IHT at `d = 100, k = 8`, `ε ∈ {1, 4}`: the fraction of seeds recovering
//!    the support on a grid of `n` up to `--max-n` (default 10⁷; the note's run used 10⁸), with this
//!    crate's defaults (radius `√d`, `k′ = 2k`, batches sized from the messages, the secant step) beside the paper's settings
//!    (the worst-case radius, `k′ = 8k`, `T = ⌈ln n⌉`).
//! 3. **The non-interactive estimator in its regime** (`d = 10, k = 2`): ε = 1 against ε = 4.
//!
//! Every user's record, clipped statistic and randomizer is drawn per user; the non-interactive
//! simulation draws the sum of its users' Gaussian noises at once, which is their distribution up to the
//! noise's grid (thousands of times finer than σ).
use std::time::Instant;

use sparsimony::core::privacy::{Gaussian, L2Ball};
use sparsimony::solvers::privacy::{Baseline, LdpIht, NonInteractive, Population, Scaling};

/// The estimators of the study.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Estimator {
    NonInteractive,
    Public,
    Iht,
    Lasso,
    NonPrivateIht,
}

/// Clipping of the non-interactive estimators' x and y: a public constant. The default `√(2 ln n)` grows
/// the covariance message's sensitivity `2dτ²` to 32d at 10⁷ users; at τ = 3 it is 18d and the clipping
/// bias about 2 % on this unit-scale data (at τ = 2, 8d but a bias of about 10 %, a floor the rates
/// would hit).
const NON_INTERACTIVE_CLIP: f64 = 3.0;

impl Estimator {
    const ALL: [Self; 5] = [
        Self::NonInteractive,
        Self::Public,
        Self::Iht,
        Self::Lasso,
        Self::NonPrivateIht,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::NonInteractive => "non-interactive",
            Self::Public => "public data",
            Self::Iht => "LDP-IHT",
            Self::Lasso => "Lasso (non-private)",
            Self::NonPrivateIht => "IHT (non-private)",
        }
    }

    fn private(self) -> bool {
        !matches!(self, Self::Lasso | Self::NonPrivateIht)
    }

    /// The paper's exponents of the ℓ2 error in (n, ε, d, k): Õ(d√k/(√n ε)), √d better with public data,
    /// Õ(k√d/(√n ε)) interactive; the non-private Lasso's σ√(k log d / n).
    fn theory(self) -> [f64; 4] {
        match self {
            Self::NonInteractive => [-0.5, -1.0, 1.0, 0.5],
            Self::Public => [-0.5, -1.0, 0.5, 0.5],
            Self::Iht => [-0.5, -1.0, 0.5, 1.0],
            Self::Lasso | Self::NonPrivateIht => [-0.5, 0.0, 0.0, 0.5],
        }
    }

    /// The base point (n, ε, d, k) and the sweeps of n, ε, d, k around it.
    fn design(self, quick: bool) -> (Point, [Vec<f64>; 4]) {
        let q = |full: Vec<f64>, short: Vec<f64>| if quick { short } else { full };
        match self {
            Self::NonInteractive => (
                Point::new(1e7, 1.0, 5, 2),
                [
                    q(vec![3e6, 1e7, 3e7], vec![1e6, 3e6]),
                    q(vec![0.25, 0.5, 1.0], vec![0.5, 1.0]),
                    q(vec![3.0, 5.0, 8.0], vec![3.0, 5.0]),
                    q(vec![1.0, 2.0, 4.0], vec![1.0, 2.0]),
                ],
            ),
            Self::Public => (
                Point::new(3e7, 1.0, 20, 2),
                [
                    q(vec![3e6, 1e7, 3e7, 1e8], vec![3e6, 1e7]),
                    q(vec![0.25, 0.5, 1.0], vec![0.5, 1.0]),
                    q(vec![10.0, 20.0, 40.0, 80.0], vec![10.0, 20.0]),
                    q(vec![1.0, 2.0, 4.0, 8.0], vec![1.0, 2.0]),
                ],
            ),
            Self::Iht | Self::Lasso | Self::NonPrivateIht => (
                Point::new(3e6, 1.0, 50, 4),
                [
                    q(vec![1e6, 3e6, 1e7, 3e7], vec![3e5, 1e6]),
                    q(vec![0.25, 0.5, 1.0], vec![0.5, 1.0]),
                    q(vec![25.0, 50.0, 100.0, 200.0], vec![25.0, 50.0]),
                    q(vec![2.0, 4.0, 8.0, 16.0], vec![2.0, 4.0]),
                ],
            ),
        }
    }

    /// The ℓ2 error of one fit.
    fn error(self, p: &Point, seed: u64) -> f64 {
        let mut population = Population::sparse(p.d, p.k, 1.0).expect("a valid model");
        population.correlation = p.rho;
        let n = p.n as usize;
        let data_seed = 1000 + seed;
        let non_interactive = NonInteractive {
            epsilon: p.epsilon,
            clip_x: Some(NON_INTERACTIVE_CLIP),
            clip_y: Some(NON_INTERACTIVE_CLIP),
            k: Some(p.k),
            seed,
            scaling: Scaling::Given,
            ..NonInteractive::default()
        };
        let coef = match self {
            Self::NonInteractive => non_interactive
                .simulate(&population, n, 0, data_seed)
                .map(|f| f.linear.coef),
            Self::Public => non_interactive
                .simulate(&population, n, n / 10, data_seed)
                .map(|f| f.linear.coef),
            Self::Iht => LdpIht {
                epsilon: p.epsilon,
                k: p.k,
                seed,
                scaling: Scaling::Given,
                ..LdpIht::default()
            }
            .simulate(&population, n, data_seed)
            .map(|f| f.linear.coef),
            Self::Lasso => Baseline::Lasso.simulate(&population, n, data_seed).map(|f| f.coef),
            Self::NonPrivateIht => Baseline::Iht { k: p.k }
                .simulate(&population, n, data_seed)
                .map(|f| f.coef),
        }
        .unwrap_or_else(|e| panic!("{} at {p:?}: {e}", self.name()));
        population.distance(&coef)
    }

    /// The exponent in ε of the noise scale of this estimator's mechanism over `grid` (least squares), at
    /// dimension `d`: the DJW factor (e^ε+1)/(e^ε−1) for LDP-IHT, the Gaussian mechanism's σ otherwise.
    fn mechanism_exponent(self, grid: &[f64], d: usize) -> f64 {
        let scale = |eps: f64| match self {
            Self::Iht => L2Ball::new(eps, 1.0, d).expect("valid").scale(),
            Self::NonInteractive => Gaussian::new(eps / 2.0, 0.5e-5, 1.0, d).expect("valid").sigma(),
            Self::Public => Gaussian::new(eps, 1e-5, 1.0, d).expect("valid").sigma(),
            Self::Lasso | Self::NonPrivateIht => 1.0,
        };
        slope(grid, &grid.iter().map(|&e| scale(e)).collect::<Vec<_>>())
    }
}

/// One configuration: users, privacy loss, dimension, sparsity, correlation of neighbouring features.
#[derive(Debug, Clone, Copy)]
struct Point {
    n: f64,
    epsilon: f64,
    d: usize,
    k: usize,
    rho: f64,
}

impl Point {
    fn new(n: f64, epsilon: f64, d: usize, k: usize) -> Self {
        Self {
            n,
            epsilon,
            d,
            k,
            rho: 0.0,
        }
    }

    /// This point with parameter `axis` (0 n, 1 ε, 2 d, 3 k) set to `value`.
    fn with(self, axis: usize, value: f64) -> Self {
        let mut p = self;
        match axis {
            0 => p.n = value,
            1 => p.epsilon = value,
            2 => p.d = value as usize,
            _ => p.k = value as usize,
        }
        p
    }
}

/// Least-squares slope of `ln y` against `ln x`.
fn slope(x: &[f64], y: &[f64]) -> f64 {
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let mx = lx.iter().sum::<f64>() / lx.len() as f64;
    let my = ly.iter().sum::<f64>() / ly.len() as f64;
    let num: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let den: f64 = lx.iter().map(|a| (a - mx).powi(2)).sum();
    num / den
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        0.5 * (s[m - 1] + s[m])
    }
}

/// A sweep's result: the grid, the median error per grid point, the slope of the medians and the
/// standard deviation of the per-seed slopes.
struct Sweep {
    grid: Vec<f64>,
    medians: Vec<f64>,
    slope: f64,
    spread: f64,
}

fn sweep(est: Estimator, base: Point, axis: usize, grid: &[f64], seeds: u64) -> Sweep {
    let errors: Vec<Vec<f64>> = grid
        .iter()
        .map(|&v| (0..seeds).map(|s| est.error(&base.with(axis, v), s)).collect())
        .collect();
    let medians: Vec<f64> = errors.iter().map(|e| median(e)).collect();
    let per_seed: Vec<f64> = (0..seeds as usize)
        .map(|s| slope(grid, &errors.iter().map(|e| e[s]).collect::<Vec<_>>()))
        .collect();
    let mean = per_seed.iter().sum::<f64>() / per_seed.len() as f64;
    let spread = if per_seed.len() > 1 {
        (per_seed.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (per_seed.len() - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    Sweep {
        grid: grid.to_vec(),
        slope: slope(grid, &medians),
        medians,
        spread,
    }
}

/// The tolerance on a measured exponent: 0.2, or twice the seeds' spread when larger.
fn agrees(measured: f64, spread: f64, theory: f64) -> bool {
    (measured - theory).abs() <= 0.2f64.max(2.0 * spread)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let quick = args.iter().any(|a| a == "--quick");
    let seeds: u64 = flag("--seeds").map_or(if quick { 2 } else { 3 }, |s| s.parse().expect("--seeds N"));
    let max_n: f64 = flag("--max-n").map_or(if quick { 1e6 } else { 1e7 }, |s| s.parse().expect("--max-n N"));
    let plot = flag("--plot").cloned();
    // `--only NAME`: the rates of the estimators whose name contains NAME, and nothing else.
    let only = flag("--only").cloned();
    // `--no-rates`: parts 2 and 3 only.
    let rates = !args.iter().any(|a| a == "--no-rates");
    if let Some(p) = &plot {
        sparsimony::plot::require_svg(std::path::Path::new(p)).unwrap_or_else(|e| panic!("{e}"));
    }
    let threads = rayon::current_num_threads();
    println!(
        "LDP sparse regression; x ~ N(0, Σ), θ* = (1/√k, …, 1/√k, 0, …), noise σ = 1; median ℓ2 error over {seeds} seeds; {threads} threads"
    );
    println!(
        "non-interactive estimators clip x and y at {NON_INTERACTIVE_CLIP}, δ = 1e-5, public data n/10 users; LDP-IHT with its defaults"
    );

    // 1. Rates.
    let axes = ["n", "ε", "d", "k"];
    let mut n_sweeps: Vec<(Estimator, Sweep, Sweep)> = Vec::new();
    println!(
        "\n1. Rates: slopes of log error (measured ± seeds' spread | paper's exponent | mechanism's), agreement within max(0.2, 2·spread)"
    );
    for est in Estimator::ALL {
        if !rates || only.as_ref().is_some_and(|o| !est.name().contains(o.as_str())) {
            continue;
        }
        let (base, grids) = est.design(quick);
        println!(
            "\n{} — base n = {:.0e}, ε = {}, d = {}, k = {}",
            est.name(),
            base.n,
            base.epsilon,
            base.d,
            base.k
        );
        let mut isotropic_n = None;
        for (axis, grid) in grids.iter().enumerate() {
            if axis == 1 && !est.private() {
                continue;
            }
            let start = Instant::now();
            let s = sweep(est, base, axis, grid, seeds);
            let theory = est.theory()[axis];
            let cells: Vec<String> = s
                .grid
                .iter()
                .zip(&s.medians)
                .map(|(g, e)| format!("{}={g:.3e}: {e:.3e}", axes[axis]))
                .collect();
            let mechanism = if axis == 1 {
                format!(" | mechanism {:+.2}", est.mechanism_exponent(grid, base.d))
            } else {
                String::new()
            };
            println!(
                "  {:<2} slope {:+.2} ± {:.2} | paper {:+.2}{mechanism} | {} | {}  ({:.1} s)",
                axes[axis],
                s.slope,
                s.spread,
                theory,
                if agrees(s.slope, s.spread, theory) {
                    "agrees"
                } else {
                    "DIFFERS"
                },
                cells.join(", "),
                start.elapsed().as_secs_f64()
            );
            if axis == 0 {
                isotropic_n = Some(s);
            }
        }
        let correlated = Point { rho: 0.5, ..base };
        let s = sweep(est, correlated, 0, &grids[0], seeds);
        println!(
            "  n  slope {:+.2} ± {:.2} on the AR(1) design ρ = 0.5 | paper {:+.2} | {} | {}",
            s.slope,
            s.spread,
            est.theory()[0],
            if agrees(s.slope, s.spread, est.theory()[0]) {
                "agrees"
            } else {
                "DIFFERS"
            },
            s.grid
                .iter()
                .zip(&s.medians)
                .map(|(g, e)| format!("n={g:.0e}: {e:.3e}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        n_sweeps.push((est, isotropic_n.expect("the n sweep ran"), s));
    }

    if let Some(path) = plot.filter(|_| !n_sweeps.is_empty()) {
        use sparsimony::plot::{Curve, Panel, line_panels};
        // One abscissa for all panels: log10 n over every grid, NaN where an estimator did not run.
        let mut all: Vec<f64> = n_sweeps.iter().flat_map(|(_, s, _)| s.grid.iter().copied()).collect();
        all.sort_by(f64::total_cmp);
        all.dedup();
        let x: Vec<f64> = all.iter().map(|n| n.log10()).collect();
        let on_grid = |s: &Sweep| -> Vec<f64> {
            all.iter()
                .map(|n| {
                    s.grid
                        .iter()
                        .position(|g| g == n)
                        .map_or(f64::NAN, |i| s.medians[i].log10())
                })
                .collect()
        };
        // Per estimator: its name, then log10 error on the isotropic and AR(1) designs and the n^(−1/2) line.
        type Series = (String, Vec<f64>, Vec<f64>, Vec<f64>);
        let series: Vec<Series> = n_sweeps
            .iter()
            .map(|(est, iso, cor)| {
                let theory: Vec<f64> = all
                    .iter()
                    .map(|n| {
                        if iso.grid.contains(n) {
                            iso.medians[0].log10() + est.theory()[0] * (n / iso.grid[0]).log10()
                        } else {
                            f64::NAN
                        }
                    })
                    .collect();
                (est.name().to_string(), on_grid(iso), on_grid(cor), theory)
            })
            .collect();
        let panels: Vec<Panel<'_>> = series
            .iter()
            .map(|(name, iso, cor, theory)| Panel {
                title: format!("{name}: log10 ℓ2 error"),
                curves: vec![
                    Curve {
                        label: "isotropic".into(),
                        values: iso,
                        dashed: false,
                    },
                    Curve {
                        label: "AR(1), ρ = 0.5".into(),
                        values: cor,
                        dashed: false,
                    },
                    Curve {
                        label: "n^(−1/2)".into(),
                        values: theory,
                        dashed: true,
                    },
                ],
            })
            .collect();
        line_panels(std::path::Path::new(&path), "log10 n", &x, &panels).unwrap_or_else(|e| panic!("{e}"));
        println!("\nplot written to {path}");
    }

    if only.is_some() {
        return;
    }

    // 2. Support recovery of LDP-IHT at d = 100, k = 8.
    println!(
        "\n2. Support recovery, LDP-IHT, d = 100, k = 8: seeds recovering the support exactly (median ℓ2 error, mean time per fit)"
    );
    let grid: Vec<f64> = [1e5, 3e5, 1e6, 1e7, 1e8].into_iter().filter(|&n| n <= max_n).collect();
    // The paper's model, a noisier one (σ = 4: y's scale 4.1, the signal a quarter of it), and a
    // correlated design (AR(1), ρ = ½, on which a unit step oscillates).
    let populations = [
        ("σ = 1", 1.0, 0.0),
        ("σ = 4", 4.0, 0.0),
        ("AR(1) ρ = ½, σ = 1", 1.0, 0.5),
    ];
    // The defaults learn the data's scales from 5 % of the users; the second row gives them (the data are
    // of unit scale), so the two show what learning them costs.
    let configurations = [
        ("defaults (r = √d, k′ = 2k, adaptive)   ", false, Scaling::default()),
        ("defaults, scales given               ", false, Scaling::Given),
        ("paper's (r = r̄, k′ = 8k, T = ⌈ln n⌉)   ", true, Scaling::Given),
    ];
    // `--max-n` below 1e5 skips this part.
    for &(name, noise, correlation) in populations.iter().filter(|_| !grid.is_empty()) {
        println!("  {name}");
        let mut population = Population::sparse(100, 8, noise).expect("a valid model");
        population.correlation = correlation;
        // The paper's settings fail at every n of the grid on the paper's own model; once is enough.
        for &(label, paper, scaling) in configurations
            .iter()
            .filter(|c| !c.1 || noise == 1.0 && correlation == 0.0)
        {
            for epsilon in [1.0, 4.0] {
                let mut cells = Vec::new();
                for &n in &grid {
                    // The largest n once per seed is minutes; fewer seeds there.
                    let runs = if n >= 1e8 { seeds.min(2) } else { seeds.max(5) };
                    let start = Instant::now();
                    let fits: Vec<(bool, f64)> = (0..runs)
                        .map(|s| {
                            let est = LdpIht {
                                epsilon,
                                k: 8,
                                seed: s,
                                scaling,
                                ..if paper {
                                    LdpIht {
                                        sparsity_factor: 8,
                                        rounds: Some(n.ln().ceil() as usize),
                                        // Any radius above the bound r̄ is r̄.
                                        radius: Some(f64::MAX),
                                        ..LdpIht::default()
                                    }
                                } else {
                                    LdpIht::default()
                                }
                            };
                            let fit = est.simulate(&population, n as usize, 2000 + s).expect("a valid fit");
                            let err = population.distance(fit.coef());
                            (fit.support == (0..8).collect::<Vec<_>>(), err)
                        })
                        .collect();
                    let seconds = start.elapsed().as_secs_f64() / runs as f64;
                    let recovered = fits.iter().filter(|f| f.0).count();
                    let errs: Vec<f64> = fits.iter().map(|f| f.1).collect();
                    cells.push(format!(
                        "n={n:.0e}: {recovered}/{runs} ({:.3}, {seconds:.1} s)",
                        median(&errs)
                    ));
                }
                println!("    {label:<40} ε = {epsilon}: {}", cells.join(", "));
            }
        }
    }

    // 3. The non-interactive estimator in its regime: the 1/ε rate of its privacy noise.
    println!(
        "\n3. Non-interactive, d = 10, k = 2, n = 1e8 (quick: 1e7): ε = 1 against ε = 4; the privacy noise is the distance to the same estimator at ε = 500 (the end of the mechanisms' range) on the same users (its clipping bias is the rest)"
    );
    let n = if quick { 1e7 } else { 1e8 };
    let population = Population::sparse(10, 2, 1.0).expect("a valid model");
    let coef = |epsilon: f64, seed: u64| {
        NonInteractive {
            epsilon,
            clip_x: Some(NON_INTERACTIVE_CLIP),
            clip_y: Some(NON_INTERACTIVE_CLIP),
            k: Some(2),
            seed,
            scaling: Scaling::Given,
            ..NonInteractive::default()
        }
        .simulate(&population, n as usize, 0, 1000 + seed)
        .expect("a valid fit")
        .linear
        .coef
    };
    let distance = |a: &ndarray::Array1<f64>, b: &ndarray::Array1<f64>| {
        a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
    };
    let (mut total, mut noise, mut bias) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()], Vec::new());
    for s in 0..seeds {
        let limit = coef(500.0, s);
        bias.push(distance(&limit, &population.theta));
        for (i, epsilon) in [1.0, 4.0].into_iter().enumerate() {
            let c = coef(epsilon, s);
            total[i].push(distance(&c, &population.theta));
            noise[i].push(distance(&c, &limit));
        }
    }
    let sigma = |eps: f64| Gaussian::new(eps / 2.0, 0.5e-5, 1.0, 1).expect("valid").sigma();
    println!(
        "  ℓ2 error ε=1 {:.3e}, ε=4 {:.3e} (clipping bias {:.3e}); privacy noise ε=1 {:.3e}, ε=4 {:.3e}: ratio {:.2}; the mechanism's σ ratio {:.2}; the paper's 1/ε: 4",
        median(&total[0]),
        median(&total[1]),
        median(&bias),
        median(&noise[0]),
        median(&noise[1]),
        median(&noise[0]) / median(&noise[1]),
        sigma(1.0) / sigma(4.0)
    );
}
