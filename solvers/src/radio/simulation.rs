//! The paper's simulation: a random array observing a three-level field of compact sources through
//! direction-dependent effects.

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use rustfft::num_complex::Complex64;
use sparsimony_core::random::{standard_normal, uniform_open01};

use super::dde::Ddes;
use super::observation::{Baseline, Observation, Sampling, padded_grid_size};
use super::operator::Measurement;
use crate::error::{Error, Result};

/// A simulated observation as in Repetti et al. (2017, §5) and their code: `n_antennas` antennas at
/// uniformly random positions in a square, observing at declination 40° from latitude 39° over hour angles
/// spread evenly in `[−5 h, +5 h]` (`+5 h` for one time step); the antennas' uv positions scaled so that
/// the longest reaches a quarter of the image's band and snapped to the Fourier grid's cells (every
/// baseline then lies within half the band); an `N × N` image of compact sources at several levels; true
/// DDEs with a dominant centre tap `±1 ± i` (plus `N(0, spread²)` in each part) and small off-centre
/// taps `spread·(N(0,1) + iN(0,1))`; complex Gaussian noise at `input_snr` dB below the visibilities' RMS.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// The number of antennas (the paper: 200, and 100 for its M31 case).
    pub n_antennas: usize,
    /// The number of time steps (1; 10 in the M31 case), each with its own uv positions and DDEs.
    pub n_times: usize,
    /// The image side `N` (127).
    pub image_size: usize,
    /// The true DDEs' kernel side `S` (odd; 5, and 9 in the M31 case).
    pub dde_size: usize,
    /// The standard deviation of the DDEs' perturbations (0.05).
    pub dde_spread: f64,
    /// The sources: for each level, the number of sources and the level's energy `‖x_level‖₂`. The first
    /// level is the bright one whose sources the calibration knows. Default: 10 sources at each of the
    /// energies 10, 0.1 and 1e-5.
    pub levels: Vec<(usize, f64)>,
    /// The energy `‖·‖₂` of an extended, galaxy-like faint component added to the image (`None`, the
    /// default: compact sources only). The galaxy is an inclined exponential disc with a bulge, two
    /// logarithmic spiral arms and 25 compact knots along them, drawn from the seed; it is the emission
    /// the SARA prior is made for. Where it overlaps the bright level's pixels it is given to the bright
    /// (known) part, so the faint part stays zero there. The galaxy is drawn after the sources and
    /// before the array, so with a galaxy the same seed gives another array and other DDEs.
    pub galaxy: Option<f64>,
    /// The noise level, in dB below the RMS of the noiseless visibilities (150: practically noiseless, the
    /// paper's setting).
    pub input_snr: f64,
    /// The seed of everything drawn.
    pub seed: u64,
    /// How the visibilities sample the spectrum: [`Sampling::Cells`] (the paper's, the default) rounds the
    /// antennas' uv positions to grid cells; [`Sampling::Nufft`] keeps them where the array puts them and
    /// predicts the visibilities by the NUFFT at its tolerance (the same draws otherwise).
    pub sampling: Sampling,
}

impl Default for Simulation {
    fn default() -> Self {
        Self {
            n_antennas: 200,
            n_times: 1,
            image_size: 127,
            dde_size: 5,
            dde_spread: 0.05,
            levels: vec![(10, 10.0), (10, 0.1), (10, 1e-5)],
            galaxy: None,
            input_snr: 150.0,
            seed: 0,
            sampling: Sampling::Cells,
        }
    }
}

/// A simulated observation and the truth behind it.
#[derive(Debug, Clone)]
pub struct Simulated {
    /// The visibilities, on a grid padded for kernels of the simulation's `dde_size`.
    pub observation: Observation,
    /// The true image (`N × N`, row-major: rows are `v`).
    pub image: Array2<f64>,
    /// Its bright level, the sources the calibration is given (`x_o` in the paper).
    pub bright: Array2<f64>,
    /// The true DDEs.
    pub ddes: Ddes,
    /// The standard deviation of the complex noise added to each visibility (`E|n|² = σ²`).
    pub noise_std: f64,
}

impl Simulated {
    /// The faint part of the true image, `image − bright` (the unknown `ε` of the paper).
    pub fn faint(&self) -> Array2<f64> {
        &self.image - &self.bright
    }
}

/// `20 log₁₀(‖truth‖ / ‖estimate − truth‖)` in dB, the paper's reconstruction SNR.
pub fn snr_db(estimate: &Array2<f64>, truth: &Array2<f64>) -> f64 {
    let err = (estimate - truth).mapv(|v| v * v).sum().sqrt();
    let norm = truth.mapv(|v| v * v).sum().sqrt();
    20.0 * (norm / err).log10()
}

impl Simulation {
    /// Draws the observation.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming a setting out of range (fewer than 2 antennas, no time step, an
    /// image below 16 pixels, an even kernel side, a negative or non-finite spread, an energy outside
    /// [1e-100, 1e100], an input SNR outside [−60, 300] dB, no level) or a size beyond memory, before allocating;
    /// [`Error::NonFiniteResult`] where the visibilities still overflow.
    pub fn simulate(&self) -> Result<Simulated> {
        self.check()?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let (mut image, mut bright) = self.sources(&mut rng);
        if let Some(energy) = self.galaxy {
            let galaxy = Self::galaxy(self.image_size, energy, &mut rng);
            image += &galaxy;
            for (b, g) in bright.iter_mut().zip(&galaxy) {
                if *b > 0.0 {
                    *b += g;
                }
            }
        }
        let cells = self.antenna_cells(&mut rng);
        let ddes = self.true_ddes(&mut rng)?;
        let mut baselines = Vec::with_capacity(self.n_times * self.n_antennas * (self.n_antennas - 1) / 2);
        for t in 0..self.n_times {
            for a in 0..self.n_antennas {
                for b in a + 1..self.n_antennas {
                    let (ca, cb) = (cells[t * self.n_antennas + a], cells[t * self.n_antennas + b]);
                    baselines.push(Baseline {
                        antenna1: a,
                        antenna2: b,
                        time: t,
                        u: ca.0 - cb.0,
                        v: ca.1 - cb.1,
                    });
                }
            }
        }
        let mut observation = Observation {
            image_size: self.image_size,
            grid_size: padded_grid_size(self.image_size, self.dde_size),
            n_antennas: self.n_antennas,
            n_times: self.n_times,
            values: vec![Complex64::new(0.0, 0.0); baselines.len()],
            baselines,
            sampling: self.sampling,
            weights: None,
        };
        let phi = Measurement::new(&observation, &ddes, &ddes)?;
        let mut model = vec![0.0; 2 * phi.n_rows()];
        let mut scratch = vec![0.0; sparsimony_core::LinearOperator::scratch_len(&phi)];
        sparsimony_core::LinearOperator::apply(&phi, image.as_slice().unwrap_or(&[]), &mut model, &mut scratch)?;
        // Rows alternate (α, β) and (β, α): the measured values are the first of each pair.
        let clean: Vec<Complex64> = model.chunks_exact(4).map(|c| Complex64::new(c[0], c[1])).collect();
        let rms = (clean.iter().map(|y| y.norm_sqr()).sum::<f64>() / clean.len() as f64).sqrt();
        let noise_std = rms * 10f64.powf(-self.input_snr / 20.0);
        let part = noise_std / std::f64::consts::SQRT_2;
        observation.values = clean
            .iter()
            .map(|y| y + Complex64::new(part * standard_normal(&mut rng), part * standard_normal(&mut rng)))
            .collect();
        if !(noise_std.is_finite() && observation.values.iter().all(|y| y.re.is_finite() && y.im.is_finite())) {
            return Err(Error::NonFiniteResult {
                what: "the simulated visibilities",
                cause: "the sources' energies and the input SNR overflow f64 together; use smaller values".into(),
            });
        }
        Ok(Simulated {
            observation,
            image,
            bright,
            ddes,
            noise_std,
        })
    }

    fn check(&self) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(Error::InvalidParameter { name, reason });
        if self.n_antennas < 2 || self.n_times == 0 {
            return bad(
                "antennas",
                format!(
                    "need at least 2 antennas and 1 time step, got {} and {}",
                    self.n_antennas, self.n_times
                ),
            );
        }
        if self.image_size < 16 {
            return bad(
                "image_size",
                format!("must be at least 16 pixels, got {}", self.image_size),
            );
        }
        if self.dde_size == 0 || self.dde_size.is_multiple_of(2) || self.dde_size.saturating_mul(4) > self.image_size {
            return bad(
                "dde_size",
                format!(
                    "must be odd and at most a quarter of the image side, got {}",
                    self.dde_size
                ),
            );
        }
        if !(self.dde_spread >= 0.0 && self.dde_spread.is_finite()) {
            return bad(
                "dde_spread",
                format!("must be non-negative and finite, got {}", self.dde_spread),
            );
        }
        if !(-60.0..=300.0).contains(&self.input_snr) {
            return bad(
                "input_snr",
                format!(
                    "must lie in [−60, 300] dB (the noise's level below the visibilities' RMS: below −60 dB the data are \
                     noise alone, above 300 dB the noise is below their round-off), got {:?}",
                    self.input_snr
                ),
            );
        }
        let energy = |e: f64| (1e-100..=crate::data::MAX_MAGNITUDE).contains(&e);
        if self.levels.is_empty() || self.levels.iter().any(|&(k, e)| k == 0 || !energy(e)) {
            return bad(
                "levels",
                "need at least one level, each with sources and an energy in [1e-100, 1e100]".into(),
            );
        }
        // Refused before allocating: the images (truth, bright part, galaxy, the taken-pixel mask), the FFT's
        // buffers, and per visibility its baseline, value, model and kernel pair.
        let (n, p) = (
            self.image_size as f64,
            self.image_size as f64 + 4.0 * self.dde_size as f64,
        );
        crate::data::check_bytes(
            "image_size",
            8.0 * 4.0 * n * n + 16.0 * 3.0 * p * p,
            || format!("a {0}×{0} image", self.image_size),
            "",
        )?;
        let visibilities = self.n_antennas as f64 * (self.n_antennas as f64 - 1.0) / 2.0 * self.n_times as f64;
        let side = 2.0 * self.dde_size as f64 - 1.0;
        crate::data::check_bytes(
            "antennas",
            visibilities * (40.0 + 16.0 * 4.0 + 2.0 * 16.0 * side * side),
            || {
                format!(
                    "{visibilities:.0} visibilities (antennas² × time steps / 2) at S = {}",
                    self.dde_size
                )
            },
            ": use fewer antennas, time steps or a smaller DDE size",
        )?;
        let baselines = (self.n_antennas as u128) * (self.n_antennas as u128 - 1) / 2 * self.n_times as u128;
        if baselines > 100_000_000 {
            return bad(
                "antennas",
                format!("{baselines} visibilities (antennas² × time steps / 2) exceed the 10⁸ a simulation holds"),
            );
        }
        if let Some(e) = self.galaxy
            && !energy(e)
        {
            return bad("galaxy", format!("its energy must lie in [1e-100, 1e100], got {e:?}"));
        }
        let total = self.levels.iter().map(|l| l.0 as f64).sum::<f64>();
        if 9.0 * total > n * n / 4.0 {
            return bad(
                "levels",
                format!("{total} sources do not fit apart in a {0}×{0} image", self.image_size),
            );
        }
        Ok(())
    }

    /// The image and its bright level: sources at distinct pixels (levels 1 and 2 within the central
    /// two thirds, the others anywhere 4 pixels from the edge, none within 2 pixels of a bright source),
    /// amplitudes `N(m, (m/10)²)`, each blurred by a 3×3 Gaussian of standard deviation 0.5 pixel, each level
    /// scaled to its energy.
    fn sources(&self, rng: &mut ChaCha8Rng) -> (Array2<f64>, Array2<f64>) {
        let n = self.image_size;
        let mut image = Array2::zeros((n, n));
        let mut bright = Array2::zeros((n, n));
        let mut taken = Array2::<bool>::from_elem((n, n), false);
        let blur: Vec<f64> = {
            let w: Vec<f64> = (0..9)
                .map(|i| {
                    let (a, b) = (i / 3, i % 3);
                    let r2 = ((a as f64) - 1.0).powi(2) + ((b as f64) - 1.0).powi(2);
                    (-r2 / (2.0 * 0.25)).exp()
                })
                .collect();
            let s: f64 = w.iter().sum();
            w.iter().map(|v| v / s).collect()
        };
        let (c, third) = (n / 2, n / 3);
        for (l, &(count, energy)) in self.levels.iter().enumerate() {
            let (lo, hi) = if l < 2 { (c - third, c + third) } else { (4, n - 5) };
            let mean = energy / ((count as f64) * 1.01).sqrt();
            let mut level = Array2::<f64>::zeros((n, n));
            let mut placed = 0;
            while placed < count {
                let r = lo + (uniform_open01(rng) * (hi - lo + 1) as f64) as usize;
                let q = lo + (uniform_open01(rng) * (hi - lo + 1) as f64) as usize;
                if taken[[r, q]] {
                    continue;
                }
                // A bright source claims its 5×5 neighbourhood, any other source its pixel.
                let reach = if l == 0 { 2 } else { 0 };
                for dr in 0..=2 * reach {
                    for dq in 0..=2 * reach {
                        if let Some(t) = taken.get_mut([(r + dr).wrapping_sub(reach), (q + dq).wrapping_sub(reach)]) {
                            *t = true;
                        }
                    }
                }
                let amplitude = mean * (1.0 + 0.1 * standard_normal(rng));
                for (i, w) in blur.iter().enumerate() {
                    level[[r + i / 3 - 1, q + i % 3 - 1]] += amplitude * w;
                }
                placed += 1;
            }
            let norm = level.mapv(|v| v * v).sum().sqrt();
            level.mapv_inplace(|v| v * energy / norm);
            image += &level;
            if l == 0 {
                bright.assign(&level);
            }
        }
        (image, bright)
    }

    /// A galaxy-like extended source in an `n × n` image, of energy `‖·‖₂ = energy`, non-negative and zero
    /// beyond 0.45 `n` from its centre: an exponential disc (scale length `n/12`) inclined by a random
    /// axis ratio in `[0.45, 0.8]` at a random position angle, a Gaussian bulge (`n/40`), two logarithmic
    /// spiral arms (pitch 15–25°) modulating the disc, and 25 Gaussian knots (0.7–1.5 pixels) along
    /// the arms.
    fn galaxy(n: usize, energy: f64, rng: &mut ChaCha8Rng) -> Array2<f64> {
        use std::f64::consts::PI;
        let nf = n as f64;
        let centre = (0.5 * (nf - 1.0), 0.5 * (nf - 1.0));
        let ratio = 0.45 + 0.35 * uniform_open01(rng);
        let angle = PI * uniform_open01(rng);
        let pitch = (15.0 + 10.0 * uniform_open01(rng)).to_radians();
        let phase = 2.0 * PI * uniform_open01(rng);
        let (disc, bulge, limit) = (nf / 12.0, nf / 40.0, 0.45 * nf);
        // Galaxy-plane coordinates of image position (row, col): radius in pixels and azimuth.
        let plane = |r: f64, c: f64| {
            let (dy, dx) = (r - centre.0, c - centre.1);
            let (a, b) = (
                dx * angle.cos() + dy * angle.sin(),
                -dx * angle.sin() + dy * angle.cos(),
            );
            let b = b / ratio;
            (a.hypot(b), b.atan2(a))
        };
        // Two arms: the azimuth at which arm k crosses radius ρ.
        let arm = |rho: f64, k: usize| phase + k as f64 * PI + (rho.max(1.0) / bulge).ln() / pitch.tan();
        let mut image = Array2::<f64>::zeros((n, n));
        for ((r, c), v) in image.indexed_iter_mut() {
            let (rho, phi) = plane(r as f64, c as f64);
            if rho > limit {
                continue;
            }
            let spiral = (0..2)
                .map(|k| (0.5 + 0.5 * (phi - arm(rho, k)).cos()).powi(6))
                .fold(0.0, f64::max);
            *v = (-rho / disc).exp() * (0.35 + 1.3 * spiral) + 1.5 * (-(rho / bulge).powi(2)).exp();
        }
        // Knots along the arms, in the galaxy plane, projected back to the image.
        for _ in 0..25 {
            let rho = bulge + (limit * 0.8 - bulge) * uniform_open01(rng);
            let k = usize::from(uniform_open01(rng) < 0.5);
            let phi = arm(rho, k) + 0.15 * standard_normal(rng);
            let (a, b) = (rho * phi.cos(), ratio * rho * phi.sin());
            let (x, y) = (a * angle.cos() - b * angle.sin(), a * angle.sin() + b * angle.cos());
            let (kr, kc) = (centre.0 + y, centre.1 + x);
            let width = 0.7 + 0.8 * uniform_open01(rng);
            let peak = 0.5 * (-rho / disc).exp() * (1.0 + uniform_open01(rng));
            for ((r, c), v) in image.indexed_iter_mut() {
                let d2 = (r as f64 - kr).powi(2) + (c as f64 - kc).powi(2);
                if d2 < 25.0 * width * width && plane(r as f64, c as f64).0 <= limit {
                    *v += peak * (-d2 / (2.0 * width * width)).exp();
                }
            }
        }
        let norm = image.mapv(|v| v * v).sum().sqrt();
        if norm > 0.0 {
            image.mapv_inplace(|v| v * energy / norm);
        }
        image
    }

    /// Each antenna's uv cell at each time step (`t`-major), integer `(u, v)`.
    /// The antennas' uv positions in grid cells, per time step: rounded to cells with [`Sampling::Cells`].
    fn antenna_cells(&self, rng: &mut ChaCha8Rng) -> Vec<(f64, f64)> {
        let na = self.n_antennas;
        let pos: Vec<(f64, f64)> = (0..na).map(|_| (uniform_open01(rng), uniform_open01(rng))).collect();
        let (mx, my) = pos
            .iter()
            .fold((0.0, 0.0), |(a, b), p| (a + p.0 / na as f64, b + p.1 / na as f64));
        let (dec, lat) = (40f64.to_radians(), (38.0 + 59.0 / 60.0 + 48.0 / 3600.0f64).to_radians());
        let mut uv = Vec::with_capacity(na * self.n_times);
        for t in 0..self.n_times {
            let hours = if self.n_times == 1 {
                5.0
            } else {
                -5.0 + 10.0 * t as f64 / (self.n_times - 1) as f64
            };
            let h = hours * std::f64::consts::PI / 12.0;
            for &(e, nn) in &pos {
                // East-north positions to the equatorial frame (the antennas lie in the local plane).
                let (ex, ny) = (e - mx, nn - my);
                let (x, y, z) = (-lat.sin() * ny, ex, lat.cos() * ny);
                let u = h.sin() * x + h.cos() * y;
                let v = -dec.sin() * h.cos() * x + dec.sin() * h.sin() * y + dec.cos() * z;
                uv.push((u, v));
            }
        }
        let reach = uv.iter().map(|(u, v)| u.hypot(*v)).fold(0.0, f64::max);
        let scale = if reach > 0.0 {
            ((self.image_size - 1) / 4) as f64 / reach
        } else {
            0.0
        };
        let place = |c: f64| match self.sampling {
            Sampling::Cells => c.round(),
            Sampling::Nufft { .. } => c,
        };
        uv.iter().map(|(u, v)| (place(u * scale), place(v * scale))).collect()
    }

    fn true_ddes(&self, rng: &mut ChaCha8Rng) -> Result<Ddes> {
        let mut ddes = Ddes::constant(self.dde_size, self.n_antennas, self.n_times, Complex64::new(0.0, 0.0))?;
        let s2 = self.dde_size * self.dde_size;
        let spread = self.dde_spread;
        for kernel in ddes.taps_mut().chunks_exact_mut(s2) {
            for (i, tap) in kernel.iter_mut().enumerate() {
                let (re, im) = (standard_normal(rng), standard_normal(rng));
                *tap = if i == s2 / 2 {
                    let sign = |v: f64| if v < 0.0 { -1.0 } else { 1.0 };
                    Complex64::new(
                        sign(standard_normal(rng)) + spread * re,
                        sign(standard_normal(rng)) + spread * im,
                    )
                } else {
                    spread * Complex64::new(re, im)
                };
            }
        }
        Ok(ddes)
    }
}
