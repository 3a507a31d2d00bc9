//! The spectral initialisation of the kernels' frequencies ([`FrequencyInit`]): the paper's uniform
//! spread, or ours — the frequencies of the sinusoids in each axis's lines of the equations' sources (or,
//! for a homogeneous equation, of the boundary data on the faces), found by ESPRIT and weighted by
//! their windowed amplitude — or a broadband start over the band those frequencies span.

use super::model::{Model, PER_COMPONENT};
use super::settings::{FrequencyInit, Settings};

/// The largest damping `|γ|·L` over a line of length `L` of a pole whose frequency starts a component: an
/// envelope that grows or decays by up to `e³⁰` along the line, so every pole but numerical debris (a
/// modulus near underflow, whose argument means nothing). Damped, growing and modulated waves are poles
/// of this kind: a damped wave `exp(−0.2x)·sin(73x)` on `[0, 2π]` is one at `1.3`; a wave times a variable
/// coefficient, a chirp or a Gaussian-modulated wave a cluster of them. Kept to undamped poles only
/// (`0.05`, before), the solver never saw those frequencies: relative errors 0.36 on that damped wave and
/// 0.47 on a damped Helmholtz problem (now 1.3e-6 and 2.7e-6), 13.6 on a growing wave. The smooth part of
/// a source, which ESPRIT also fits with damped poles, lies below the half cycle per line that
/// `source_peaks` counts as the envelope. (A bound of 3 or 10 gave the same suite figures as 30; 30 took
/// a chirp `sin(30x²)` from 3.4e-4 and 1.4e-4 to 1.2e-6.)
const MAX_DAMPING: f64 = 30.0;

/// Frequencies (cycles per unit) of the damped or undamped complex exponentials in `lines` (equispaced samples at
/// `step`), by ESPRIT (Roy & Kailath 1989) on the lines' summed Hankel covariance: the signal subspace
/// (eigenvalues above 1e-10 of the largest, at most `max_poles`), its shift invariance solved in least
/// squares, and the eigenvalues `z = e^{(−γ + 2πif)·step}` kept where the damping `γ` over the whole line
/// is below [`MAX_DAMPING`]; positive frequencies only, each once.
fn esprit(lines: &[Vec<f64>], step: f64, max_poles: usize) -> Vec<f64> {
    use faer::linalg::solvers::SolveLstsq;
    let Some(n) = lines.first().map(Vec::len) else {
        return Vec::new();
    };
    let l = (n / 2).min(100);
    if l < 3 {
        return Vec::new();
    }
    let cols = n - l + 1;
    let mut r = faer::Mat::<f64>::zeros(l, l);
    for line in lines {
        let h = faer::Mat::<f64>::from_fn(l, cols, |i, j| line[i + j]);
        faer::linalg::matmul::matmul(
            r.as_mut(),
            faer::Accum::Add,
            h.as_ref(),
            h.transpose(),
            1.0,
            faer::Par::Seq,
        );
    }
    let Ok(evd) = r.self_adjoint_eigen(faer::Side::Lower) else {
        return Vec::new();
    };
    let lam = evd.S().column_vector();
    let top = lam[l - 1];
    if top.is_nan() || top <= 0.0 {
        return Vec::new();
    }
    let k = (0..l)
        .filter(|&i| lam[i] > 1e-10 * top)
        .count()
        .min(max_poles)
        .min(l - 1);
    if k == 0 {
        return Vec::new();
    }
    let u = evd.U();
    let us = u.subcols(l - k, k);
    let u1 = us.subrows(0, l - 1).to_owned();
    let mut u2 = us.subrows(1, l - 1).to_owned();
    u1.qr().solve_lstsq_in_place(u2.as_mut());
    let phi = u2.subrows(0, k).to_owned();
    let Ok(z) = phi.eigenvalues() else {
        return Vec::new();
    };
    let span = n as f64 * step;
    let mut f: Vec<f64> = z
        .iter()
        .filter(|z| (z.norm().ln() / step * span).abs() < MAX_DAMPING)
        .map(|z| z.arg() / (2.0 * std::f64::consts::PI * step))
        .filter(|f| *f > 0.0)
        .collect();
    f.sort_by(f64::total_cmp);
    f.dedup_by(|a, b| (*a - *b).abs() < 1e-6 / span);
    f
}

/// `q` components spread evenly over `[0, top)` at equal weights, each as wide as the spacing `top/q`,
/// the first at `offset` spacings (means, weights, log widths).
fn spread(top: f64, q: usize, offset: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let spacing = top / q as f64;
    (
        (0..q).map(|i| (i as f64 + offset) * spacing).collect(),
        vec![1.0 / q as f64; q],
        vec![spacing.ln(); q],
    )
}

/// Initial kernel parameters; `boundary_peaks`: whether a homogeneous equation's kernels start at the
/// peaks of the boundary data (see [`FrequencyInit::Source`]) or evenly spread.
pub(crate) fn initial_theta(model: &Model<'_>, s: &Settings, boundary_peaks: bool) -> Vec<f64> {
    let q = s.components;
    let mut theta = vec![0.0; model.kernel_parameters()];
    let axes = model.disc.grid.axes();
    for f in 0..model.disc.fields {
        for (d, axis) in axes.iter().enumerate() {
            let o = model.offset(f, d);
            let length = axis.upper - axis.lower;
            // A tenth of one frequency bin of the grid's spectrum: narrow peaks, so each component
            // starts as one nearly pure mode; at frequency 0, an envelope as long as the domain.
            let narrow = (0.1 / (length + axis.step())).ln();
            let (means, weights, ln_sigmas): (Vec<f64>, Vec<f64>, Vec<f64>) = match s.frequencies {
                FrequencyInit::Uniform { scale } => (
                    (0..q)
                        .map(|i| if q > 1 { i as f64 / (q - 1) as f64 * scale } else { 0.0 })
                        .collect(),
                    vec![1.0 / q as f64; q],
                    vec![-(std::f64::consts::SQRT_2 * std::f64::consts::PI).ln(); q],
                ),
                FrequencyInit::Band => {
                    // 1.5× the band the data show (a chirp's highest local frequency), at most half the
                    // Nyquist frequency; that half where they show none.
                    let half_nyquist = 0.25 / axis.step();
                    let top = source_peaks(model, d, q, true)
                        .map(|p| 1.5 * p.highest)
                        .filter(|&t| t > 0.0)
                        .map_or(half_nyquist, |t| t.min(half_nyquist));
                    spread(top, q, 0.5)
                }
                FrequencyInit::Source => match source_peaks(model, d, q, boundary_peaks) {
                    Some(p) => (p.means, p.weights, vec![narrow; q]),
                    // Neither the sources nor the boundary data show a spectrum (a 1D homogeneous equation,
                    // whose data are two end values): the envelope alone, as long as the domain, with the
                    // components spread as below switched off (power 1e-12) but free to grow. A linear
                    // solution of u_xx = 0 is 4e-6 from it; the evenly weighted spread, whose short
                    // components make a bend at the ends cheaper than a straight line, ends at 0.97.
                    None if boundary_peaks => {
                        let spacing = 0.25 / axis.step() / q as f64;
                        let mut weights = vec![1e-12; q];
                        let mut ln_sigmas = vec![spacing.ln(); q];
                        (weights[0], ln_sigmas[0]) = (1.0, narrow);
                        ((0..q).map(|i| i as f64 * spacing).collect(), weights, ln_sigmas)
                    }
                    // The alternative start of a homogeneous equation (see `solve`): components spread
                    // evenly up to half the Nyquist frequency, each as wide as the spacing.
                    None => spread(0.25 / axis.step(), q, 0.0),
                },
            };
            for c in 0..q {
                theta[o + c * PER_COMPONENT] = weights[c].max(1e-12).ln();
                theta[o + c * PER_COMPONENT + 1] = means[c];
                theta[o + c * PER_COMPONENT + 2] = ln_sigmas[c];
            }
        }
    }
    theta
}

/// What [`source_peaks`] finds along an axis.
struct Peaks {
    /// `q` frequencies (cycles per unit), 0 first, then the peaks by amplitude, then padding.
    means: Vec<f64>,
    /// Their weights, summing to 1.
    weights: Vec<f64>,
    /// The highest frequency of a detected peak (0 without one): the edge of the data's band.
    highest: f64,
}

/// The `q` strongest frequencies (cycles per unit) along axis `d` of the equations' sources, or, where
/// those vanish (a homogeneous equation), of the boundary data on the grid lines along `d` that lie in
/// a Dirichlet face of another axis; with weights (normalised to sum 1), frequency 0 always first.
/// `None` when neither has a signal along `d`.
///
/// The frequencies are the poles of the lines ([`esprit`], damped ones too): exact to round-off for sums of
/// sinusoids, however close (two waves 0.7 cycles apart on a unit interval merge into one peak of a
/// windowed FFT, whose frequency is then wrong by a fraction of a cycle). Each is weighted by the lines'
/// Hann-windowed amplitude there, divided by `(2πs)^m` for an `m`-th order operator along the axis (a
/// leading-order estimate of the solution's spectrum).
fn source_peaks(model: &Model<'_>, d: usize, q: usize, boundary_peaks: bool) -> Option<Peaks> {
    let shape = &model.shape;
    let n = shape[d];
    let axis = model.disc.grid.axes()[d];
    let inner: usize = shape[d + 1..].iter().product();
    let outer: usize = shape[..d].iter().product();
    // The lines along d of every field's `data` whose first point `keep` accepts.
    let lines_of = |data: &[Vec<f64>], keep: &dyn Fn(usize) -> bool| -> Vec<Vec<f64>> {
        let mut lines = Vec::new();
        for values in data {
            for o in 0..outer {
                for r in 0..inner {
                    if keep(o * n * inner + r) {
                        lines.push((0..n).map(|i| values[(o * n + i) * inner + r]).collect());
                    }
                }
            }
        }
        lines
    };
    let silent = |lines: &[Vec<f64>]| lines.iter().flatten().all(|v| v * v <= 1e-20);
    let mut order = model
        .disc
        .equations
        .iter()
        .flat_map(|e| &e.terms)
        .flat_map(|t| &t.factors)
        .map(|g| g.orders[d])
        .max()
        .unwrap_or(0);
    let mut lines = lines_of(&model.disc.sources, &|_| true);
    if silent(&lines) {
        if !boundary_peaks {
            return None;
        }
        // The line through a point lies in the boundary (as a whole) when the point lies in a face of
        // another axis: the mask there is that of the line's first point.
        let on_face = |start: usize| {
            let index = model.disc.grid.multi_index(start);
            (0..shape.len()).filter(|&e| e != d).any(|e| {
                (index[e] == 0 && model.disc.faces[e][0]) || (index[e] + 1 == shape[e] && model.disc.faces[e][1])
            })
        };
        lines = lines_of(&model.disc.boundary, &on_face);
        order = 0;
        if silent(&lines) {
            return None;
        }
    }
    let length = n as f64 * axis.step();
    let tau = 2.0 * std::f64::consts::PI;
    // The lines' Hann-windowed amplitude at frequency f (root of the summed power), divided by (2πf)^m.
    let amplitude = |f: f64| {
        let power: f64 = lines
            .iter()
            .map(|line| {
                let (mut re, mut im) = (0.0, 0.0);
                for (i, v) in line.iter().enumerate() {
                    let w = 0.5 - 0.5 * (tau * i as f64 / n as f64).cos();
                    let phase = tau * f * i as f64 * axis.step();
                    re += w * v * phase.cos();
                    im -= w * v * phase.sin();
                }
                re * re + im * im
            })
            .sum();
        power.sqrt() / (tau * f).max(1.0).powi(order as i32)
    };
    // Poles below half a cycle over the axis are the envelope's (frequency 0).
    let mut found: Vec<(f64, f64)> = esprit(&lines, axis.step(), 2 * q + 8)
        .into_iter()
        .filter(|&f| f > 0.5 / length)
        .map(|f| (f, amplitude(f)))
        .collect();
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    let envelope = amplitude(0.0);
    let top = found.iter().fold(envelope, |m, x| m.max(x.1));
    if top.is_nan() || top <= 0.0 {
        return None;
    }
    let highest = found.iter().fold(0.0f64, |m, x| m.max(x.0));
    // Detected peaks get at least this share of the strongest amplitude. In 1D the division by (2πs)^m
    // turns the source's spectrum into the solution's; in several dimensions every source line also
    // carries the solution's spectrum undivided (times the derivatives along the other axes), which
    // inflates the low frequencies, so that estimate is coarser and its floor higher (Allen–Cahn 2D at
    // 200²: 0.43 with the lower floor, 1.0e-3 with the higher; the 1D benchmarks and the boundary-data
    // estimate of advection are better with the lower one).
    let floor = if order > 0 && shape.len() > 1 { 1e-2 } else { 1e-3 };
    let mut means = vec![0.0];
    let mut weights = vec![envelope.max(floor * top)];
    for (f, a) in found.into_iter().take(q.saturating_sub(1)) {
        means.push(f);
        weights.push(a.max(floor * top));
    }
    // Pad with frequencies spread over the band, nearly switched off (amplitude 1e-6 of the top, power
    // 1e-12) but free to grow in the outer loop: each one adds prior variance at a frequency the data do
    // not show, which the fit pays for in bias (1D Poisson sin(100x), first inner solve: relative error
    // 3.9e-6 with amplitude 1e-3, 6.8e-7 with 1e-6, and a lower objective).
    let nyquist = 0.5 / axis.step();
    while means.len() < q {
        let i = means.len();
        means.push(nyquist * i as f64 / q as f64);
        weights.push(1e-6 * top);
    }
    let total: f64 = weights.iter().map(|w| w * w).sum();
    Some(Peaks {
        means,
        weights: weights.iter().map(|w| w * w / total).collect(),
        highest,
    })
}

#[cfg(test)]
mod tests {
    use super::esprit;

    /// 40 lines of two waves 0.72 cycles apart on a unit interval (a windowed FFT merges them into one
    /// peak), with per-line amplitudes and phases, plus `smooth(x)` on every line.
    fn close_waves(smooth: &dyn Fn(f64) -> f64) -> (Vec<Vec<f64>>, f64, [f64; 2]) {
        let (n, step) = (120, 1.0 / 119.0);
        let (f1, f2) = (6.4398546313, 7.1622907490);
        let tau = 2.0 * std::f64::consts::PI;
        let lines = (0..40)
            .map(|m| {
                let (a, p) = (1.0 + 0.1 * m as f64, 0.3 * m as f64);
                (0..n)
                    .map(|i| {
                        let x = i as f64 * step;
                        a * (tau * f1 * x + p).sin() + 0.4 * (tau * f2 * x + 1.0).sin() + smooth(x)
                    })
                    .collect()
            })
            .collect();
        (lines, step, [f1, f2])
    }

    #[test]
    fn esprit_finds_close_sinusoids_exactly() {
        let (lines, step, waves) = close_waves(&|_| 0.0);
        let f = esprit(&lines, step, 30);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(
            (f[0] - waves[0]).abs() < 1e-8 && (f[1] - waves[1]).abs() < 1e-8,
            "{f:?}"
        );
    }

    #[test]
    fn esprit_finds_close_sinusoids_beside_a_smooth_part() {
        // A polynomial and a Gaussian bump beside the waves: the bump's own spectrum is modelled by extra
        // poles, but both waves are still found to a thousandth of a cycle (the FFT peak is off by a
        // fraction of a cycle).
        let (lines, step, waves) = close_waves(&|x| 0.5 * x * x + (-(x - 0.5) * (x - 0.5) / 0.02).exp());
        let f = esprit(&lines, step, 30);
        for w in waves {
            assert!(f.iter().any(|v| (v - w).abs() < 1e-3), "{w} not in {f:?}");
        }
        // A line without sinusoids has no pole above half a cycle.
        let n = lines[0].len();
        let smooth: Vec<f64> = (0..n).map(|i| (i as f64 * step).exp()).collect();
        assert!(esprit(&[smooth], step, 30).iter().all(|&v| v < 0.5));
    }

    #[test]
    fn esprit_finds_damped_and_modulated_waves() {
        // exp(−0.2x)·sin(73x) on [0, 2π] (damping 1.3 over the line) and sin(50x)·(1 + 1.5x²) on [0, 1]
        // (a wave times a variable coefficient): their frequencies are found, not dropped as damped.
        let tau = 2.0 * std::f64::consts::PI;
        for (length, wave, envelope) in [
            (tau, 73.0, &(|x: f64| (-0.2 * x).exp()) as &dyn Fn(f64) -> f64),
            (1.0, 50.0, &|x: f64| 1.0 + 1.5 * x * x),
        ] {
            let (n, step) = (500, length / 499.0);
            let line: Vec<f64> = (0..n)
                .map(|i| {
                    let x = i as f64 * step;
                    envelope(x) * (wave * x).sin()
                })
                .collect();
            let f = esprit(&[line], step, 18);
            assert!(
                f.iter().any(|v| (v * tau - wave).abs() < 0.05 * wave),
                "{wave} rad not in {f:?} cycles"
            );
        }
    }
}
