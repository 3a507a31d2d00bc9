//! The spectral initialisation of the kernels' frequencies ([`FrequencyInit`]): the paper's uniform
//! spread, or ours — the peaks of each axis's power spectrum of the equations' sources (or, for a
//! homogeneous equation, of the boundary data on the faces), found by FFT.

use rustfft::{FftPlanner, num_complex::Complex};

use super::model::{Model, PER_COMPONENT};
use super::solver::{FrequencyInit, Settings};

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
                FrequencyInit::Source => match source_peaks(model, d, q, boundary_peaks) {
                    Some((means, weights)) => (means, weights, vec![narrow; q]),
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
                    None => {
                        let top = 0.25 / axis.step();
                        let spacing = top / q as f64;
                        (
                            (0..q).map(|i| i as f64 * spacing).collect(),
                            vec![1.0 / q as f64; q],
                            vec![spacing.ln(); q],
                        )
                    }
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

/// The `q` strongest frequencies (cycles per unit) along axis `d` of the equations' sources, or, where
/// those vanish (a homogeneous equation), of the boundary data on the grid lines along `d` that lie in
/// a Dirichlet face of another axis; with weights (normalised to sum 1), frequency 0 always first.
/// `None` when neither has a signal along `d`.
fn source_peaks(model: &Model<'_>, d: usize, q: usize, boundary_peaks: bool) -> Option<(Vec<f64>, Vec<f64>)> {
    let shape = &model.shape;
    let n = shape[d];
    let axis = model.disc.grid.axes()[d];
    let inner: usize = shape[d + 1..].iter().product();
    let outer: usize = shape[..d].iter().product();
    let fft = FftPlanner::new().plan_fft_forward(n);
    // Hann-windowed power spectra, summed over lines, so that the peaks are smooth enough to interpolate.
    let power_of = |data: &[Vec<f64>], keep: &dyn Fn(usize) -> bool| {
        let mut power = vec![0.0; n / 2 + 1];
        for values in data {
            for o in 0..outer {
                for r in 0..inner {
                    if !keep(o * n * inner + r) {
                        continue;
                    }
                    let mut line: Vec<Complex<f64>> = (0..n)
                        .map(|i| {
                            let w = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
                            Complex::new(w * values[(o * n + i) * inner + r], 0.0)
                        })
                        .collect();
                    fft.process(&mut line);
                    for (k, p) in power.iter_mut().enumerate() {
                        *p += line[k].norm_sqr();
                    }
                }
            }
        }
        power
    };
    let mut order = model
        .disc
        .equations
        .iter()
        .flat_map(|e| &e.terms)
        .flat_map(|t| &t.factors)
        .map(|g| g.orders[d])
        .max()
        .unwrap_or(0);
    let mut power = power_of(&model.disc.sources, &|_| true);
    if power.iter().all(|p| *p <= 1e-20 * n as f64) {
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
        power = power_of(&model.disc.boundary, &on_face);
        order = 0;
    }
    let length = n as f64 * axis.step();
    let amp: Vec<f64> = power
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let w = 2.0 * std::f64::consts::PI * k as f64 / length;
            p.sqrt() / w.max(1.0).powi(order as i32)
        })
        .collect();
    let mut peaks: Vec<usize> = (1..amp.len())
        .filter(|&k| amp[k] >= amp[k - 1] && (k + 1 == amp.len() || amp[k] >= amp[k + 1]))
        .collect();
    peaks.sort_by(|a, b| amp[*b].total_cmp(&amp[*a]));
    let top = amp.iter().fold(0.0f64, |m, x| m.max(*x));
    if top <= 0.0 {
        return None;
    }
    // Detected peaks get at least this share of the strongest amplitude. In 1D the division by (2πs)^m
    // turns the source's spectrum into the solution's; in several dimensions every source line also
    // carries the solution's spectrum undivided (times the derivatives along the other axes), which
    // inflates the low frequencies, so that estimate is coarser and its floor higher (Allen–Cahn 2D at
    // 200²: 0.43 with the lower floor, 1.0e-3 with the higher; the 1D benchmarks and the boundary-data
    // estimate of advection are better with the lower one).
    let floor = if order > 0 && shape.len() > 1 { 1e-2 } else { 1e-3 };
    let mut means = vec![0.0];
    let mut weights = vec![amp[0].max(floor * top)];
    for &k in peaks.iter().take(q.saturating_sub(1)) {
        // Quadratic interpolation of the log spectrum around the peak bin: the frequency to a small
        // fraction of a bin.
        let shift = if k + 1 < power.len() && power[k - 1] > 0.0 && power[k + 1] > 0.0 {
            let (a, b, c) = (power[k - 1].ln(), power[k].ln(), power[k + 1].ln());
            let curvature = a - 2.0 * b + c;
            if curvature < 0.0 {
                (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        } else {
            0.0
        };
        means.push((k as f64 + shift) / length);
        weights.push(amp[k].max(floor * top));
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
    Some((means, weights.iter().map(|w| w * w / total).collect()))
}
