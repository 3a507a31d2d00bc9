//! The non-interactive LDP estimator (Zhu et al. 2024, Algorithm 1 as its reviewers describe it; the
//! details are ours where the text could not be read): one round of messages, a closed-form server.

use faer::{Mat, Side};
use ndarray::{Array1, ArrayView1, ArrayView2};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::Report;
use sparsimony_core::privacy::{Gaussian, Guarantee, SENSITIVITY_RANGE};
use sparsimony_core::random::standard_normal;

use super::{
    EPSILON_RANGE, LdpFit, Population, Scales, Scaling, check_clip, check_epsilon, check_memory, checked_records,
    default_clip, keep_top_k,
};
use crate::data::check_matrix;
use crate::{Error, Estimator, Result};

use super::USERS_PER_PIECE as PIECE;

/// The non-interactive estimator. Each user clips `x` coordinatewise at `τ₁`, then to the ℓ2 ball of
/// radius `r` (the smaller of [`NonInteractive::radius_x`] and `√d τ₁`), and `y` at `τ₂`, and sends two
/// messages through the Gaussian mechanism ([`Gaussian`], discrete noise on a fine grid) with
/// `(ε/2, δ/2)` each: the upper triangle of `x̃x̃ᵀ` and `x̃ỹ`. Their ℓ2 sensitivities are `√2 r²` (for
/// `‖a‖, ‖b‖ ≤ r`, `‖aaᵀ − bbᵀ‖²_F = ‖a‖⁴ + ‖b‖⁴ − 2⟨a, b⟩² ≤ 2r⁴`, and the upper triangle holds part of
/// it) and `2rτ₂`; by composition each user's record is `(ε, δ)`-LDP. The ℓ2 clip is what makes the
/// covariance message usable: a coordinatewise clip alone bounds `‖x̃‖²` by `dτ₁²` (about 320 at
/// `d = 10`, `n = 10⁷`) where `r² ≈ (√d + 1)²` is about 17. With public unlabeled data the covariance is
/// taken from it (clipped the same way) and the users send only `x̃ỹ`, with `(ε, δ)`.
///
/// The server averages the messages into `Σ̂` and `ĝ` and **denoises `Σ̂`'s eigenvalues** with the noise
/// level it knows (the mechanism's σ is public): the averaged noise `E` is a symmetric matrix of
/// independent `N(0, s²)` entries, `s = σ/√n`, so the observed eigenvalues' spread about their mean `μ`,
/// `Σ(λ̂ − μ)²`, exceeds the signal's by about `E‖E − (tr E/d)I‖²_F = (d² − 1)s²`. The server shrinks
/// the eigenvalues towards `μ` by the share of the spread that is signal, `λ̃ = μ + a(λ̂ − μ)` with
/// `a = max(0, 1 − (d² − 1)s²/Σ(λ̂ − μ)²)` (linear shrinkage with a known noise level, as Ledoit & Wolf's
/// with the noise estimated), and floors them at the larger of `eigenvalue_floor · μ` and `ν/2`, half the
/// noise's spectral edge `ν = 2s√d` (below it an eigenvalue cannot be told from noise, and inverting it
/// amplifies `ĝ`'s noise without bound). (The spiked-Wigner inversion
/// `λ̃ = (λ̂ + √(λ̂² − 4s²d))/2` was tried: at `d = 10`, `n = 10⁷` it left errors of 0.29 at ε = 1 where
/// this gives 0.11, as a covariance near `I` is not a few spikes.) It returns `Σ̃⁻¹ĝ` soft-thresholded at
/// `threshold`, or its `k` largest
/// entries when `k` is given. The server's objective is the quadratic `½θᵀΣ̃θ − ĝᵀθ` it minimises before
/// thresholding. Its [`LdpFit::noise_error`] is the noise's standard deviation on the support: ĝ's noise
/// through `Σ̃⁻¹`, and the covariance's to first order (`−Σ̃⁻¹Eθ̂`, with `θ̂ = Σ̃⁻¹ĝ` before thresholding),
/// `√(Σ_{j∈S} (σ_g² + σ²‖θ̂‖²)(Σ̃⁻²)_jj/n)`; with public data, the public covariance's sampling error
/// (entries of variance about `μ²/n_public`) in place of the covariance messages' noise.
#[derive(Debug, Clone, PartialEq)]
pub struct NonInteractive {
    /// The privacy loss ε of each user's record (> 0).
    pub epsilon: f64,
    /// The failure probability δ ∈ (0, 1).
    pub delta: f64,
    /// The coordinatewise clipping threshold `τ₁` of `x`; `None`: `√(2 ln n)`.
    pub clip_x: Option<f64>,
    /// The ℓ2 radius `r` that `x` is clipped to after the coordinatewise clip; `None`: `√d + 1` (for
    /// features of unit scale: about 16 % of Gaussian records are shortened, by little).
    pub radius_x: Option<f64>,
    /// The clipping threshold `τ₂` of `y`; `None`: `√(2 ln n)`.
    pub clip_y: Option<f64>,
    /// Keep the `k` largest coefficients; `None`: soft-threshold at [`NonInteractive::threshold`].
    pub k: Option<usize>,
    /// The soft-threshold `λ` when `k` is `None`.
    pub threshold: f64,
    /// The eigenvalue floor of the covariance, relative to its mean eigenvalue (half the noise's spectral
    /// edge, `ν/2`, is the floor when larger).
    pub eigenvalue_floor: f64,
    /// The seed of the users' randomizers (user `i` draws from ChaCha8 stream `i`).
    pub seed: u64,
    /// How the scales of `x` and `y` are learnt before the fit (default: privately, from a twentieth of
    /// the users; see [`Scaling`]). The clipping thresholds and the radius apply to the scaled data; the
    /// coefficients come back in the data's units.
    pub scaling: Scaling,
}

impl Default for NonInteractive {
    fn default() -> Self {
        Self {
            epsilon: 1.0,
            delta: 1e-5,
            clip_x: None,
            radius_x: None,
            clip_y: None,
            k: None,
            threshold: 0.05,
            eigenvalue_floor: 0.1,
            seed: 0,
            scaling: Scaling::default(),
        }
    }
}

/// What the users' messages add up to.
struct Sums {
    /// `Σ_i` of the (privatized) upper triangles of `x̃x̃ᵀ`, row by row; empty with public data.
    covariance: Vec<f64>,
    /// `Σ_i` of the (privatized) `x̃ỹ`.
    cross: Vec<f64>,
}

impl Sums {
    /// No messages yet, for `d` features (no covariance terms when the covariance is public).
    fn zeros(d: usize, public: bool) -> Self {
        Self {
            covariance: vec![0.0; if public { 0 } else { triangle(d) }],
            cross: vec![0.0; d],
        }
    }
}

impl crate::distributed::Part for Sums {
    fn encode(&self, out: &mut Vec<f64>) {
        crate::distributed::encode_counted(&self.covariance, out);
        out.extend_from_slice(&self.cross);
    }
    fn decode(values: &[f64]) -> Result<Self> {
        let (covariance, cross) = crate::distributed::decode_counted(values, "the servers' sums")?;
        Ok(Self {
            covariance: covariance.to_vec(),
            cross: cross.to_vec(),
        })
    }
}

/// The upper triangle's length for dimension `d`.
fn triangle(d: usize) -> usize {
    d * (d + 1) / 2
}

/// [`triangle`] as a float, for memory estimates of any `d` (no overflow).
fn triangle_len(d: usize) -> f64 {
    d as f64 * (d as f64 + 1.0) / 2.0
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for NonInteractive {
    type Fitted = LdpFit;

    /// Fits from `n` records (`x` one user per row, `y` their responses), each user's messages privatized
    /// as that user's device would; the covariance from the users' privatized messages.
    ///
    /// # Errors
    /// Shape, emptiness and finiteness errors of the data; the settings' [`Error::InvalidParameter`].
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<LdpFit> {
        self.fit_records(x, y, None)
    }
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>, ArrayView2<'a, f64>)> for NonInteractive {
    type Fitted = LdpFit;

    /// Fits from `n` records `(x, y)` with the covariance from `public` unlabeled records (one per row).
    ///
    /// # Errors
    /// Shape, emptiness and finiteness errors of the data; the settings' [`Error::InvalidParameter`].
    fn fit(&self, (x, y, public): (ArrayView2<'a, f64>, ArrayView1<'a, f64>, ArrayView2<'a, f64>)) -> Result<LdpFit> {
        self.fit_records(x, y, Some(public))
    }
}

impl NonInteractive {
    /// Fits from `n` records (`x` one user per row, `y` their responses), each user's messages privatized
    /// as that user's device would (per-user randomness: ChaCha8 stream `i` of [`NonInteractive::seed`]),
    /// with the covariance from `public` unlabeled records when given.
    ///
    /// # Errors
    /// Shape, emptiness and finiteness errors of the data; the settings' [`Error::InvalidParameter`].
    fn fit_records(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        public: Option<ArrayView2<'_, f64>>,
    ) -> Result<LdpFit> {
        let y = checked_records(x, y)?;
        let (n, d) = x.dim();
        self.check(n, d, public.map_or(0, |p| p.nrows()))?;
        let is_public = public.is_some();
        let plan = self.plan(n, d, is_public, |i, row| {
            row.iter_mut().zip(x.row(i)).for_each(|(a, b)| *a = *b);
            y[i]
        })?;
        let (first, fitted, clips) = (plan.scales.users, plan.fitted, plan.clips);
        let pieces: Vec<Sums> = crate::parallel::parts_in_pieces(fitted, PIECE, |users| {
            let users = first + users.start..first + users.end;
            let mut sums = Sums::zeros(d, is_public);
            let (mut row, mut tri, mut tri_msg) = (vec![0.0; d], vec![0.0; triangle(d)], vec![0.0; triangle(d)]);
            let (mut cross, mut cross_msg) = (vec![0.0; d], vec![0.0; d]);
            for (i, &yi) in users.clone().zip(&y[users]) {
                row.iter_mut().zip(x.row(i)).for_each(|(a, b)| *a = *b);
                tri.fill(0.0);
                cross.fill(0.0);
                Self::add_clipped(&mut row, yi, clips, is_public, &mut tri, &mut cross);
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                rng.set_stream(i as u64);
                if let Some(m) = &plan.covariance {
                    m.privatize(&tri, &mut tri_msg, &mut rng)?;
                    sums.covariance.iter_mut().zip(&tri_msg).for_each(|(s, v)| *s += v);
                }
                plan.cross.privatize(&cross, &mut cross_msg, &mut rng)?;
                sums.cross.iter_mut().zip(&cross_msg).for_each(|(s, v)| *s += v);
            }
            Ok(sums)
        })?;
        let sums = add_in_order(pieces, d, is_public);
        let covariance = match public {
            Some(p) => Some((public_covariance(p, d, clips)?, p.nrows())),
            None => None,
        };
        self.server(&plan, sums, covariance, d)
    }

    /// What a fit over `n` users sets up before any message is read: the scales from the first users
    /// ([`NonInteractive::scaling`]), and the mechanisms and the clipping of the others.
    fn plan(&self, n: usize, d: usize, public: bool, record: impl Fn(usize, &mut [f64]) -> f64) -> Result<Plan> {
        let scales = self.scaling.learn(n, d, self.epsilon, self.seed, record)?;
        let fitted = n - scales.users;
        let (covariance, cross) = self.mechanisms(d, fitted, public)?;
        Ok(Plan {
            scales,
            fitted,
            covariance,
            cross,
            clips: self.clips(fitted, d, scales),
        })
    }

    /// Checks the settings, and the memory of a run over `n` users with `d` features (`public` further
    /// users' records held for the covariance).
    fn check(&self, n: usize, d: usize, public: usize) -> Result<()> {
        check_epsilon(self.epsilon)?;
        // Without public data ε is halved between the two messages.
        if public == 0 && self.epsilon < 2.0 * EPSILON_RANGE.start() {
            return Err(Error::InvalidParameter {
                name: "epsilon",
                reason: format!(
                    "must be at least {:e} here (the users' two messages take half each), got {:e}",
                    2.0 * EPSILON_RANGE.start(),
                    self.epsilon
                ),
            });
        }
        self.scaling.check()?;
        // δ is halved between the two messages; the Gaussian mechanism takes δ ≥ 1e-300.
        if !(self.delta >= 2e-300 && self.delta < 1.0) {
            return Err(Error::InvalidParameter {
                name: "delta",
                reason: format!("must lie in [2e-300, 1), got {:?}", self.delta),
            });
        }
        check_clip("clip_x", self.clip_x)?;
        check_clip("radius_x", self.radius_x)?;
        check_clip("clip_y", self.clip_y)?;
        if let Some(k) = self.k
            && (k == 0 || k > d)
        {
            return Err(Error::InvalidParameter {
                name: "k",
                reason: format!("must lie in 1..={d} (the number of features), got {k}"),
            });
        }
        if !(self.threshold >= 0.0 && self.threshold.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "threshold",
                reason: format!("must be non-negative and finite, got {}", self.threshold),
            });
        }
        if !(self.eigenvalue_floor > 0.0 && self.eigenvalue_floor.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "eigenvalue_floor",
                reason: format!("must be positive and finite, got {}", self.eigenvalue_floor),
            });
        }
        // The mechanisms' own checks (the sensitivities the clips give) before any user is asked for anything.
        self.mechanisms(d, n, public > 0)?;
        let (d_f, public_f) = (d as f64, public as f64);
        check_memory(n, d, triangle_len(d) + d_f, 4.0 * d_f * d_f)?;
        crate::data::check_bytes(
            "public",
            8.0 * public_f * d_f,
            || format!("{public} public records of {d} features"),
            ": use fewer public records",
        )
    }

    /// The clipping for `n` users with `d` features, of data divided by `scales`.
    fn clips(&self, n: usize, d: usize, scales: Scales) -> Clips {
        let coordinate = self.clip_x.unwrap_or_else(|| default_clip(n));
        let root_d = (d as f64).sqrt();
        Clips {
            scales: (scales.x, scales.y),
            coordinate,
            radius: self.radius_x.unwrap_or(root_d + 1.0).min(root_d * coordinate),
            y: self.clip_y.unwrap_or_else(|| default_clip(n)),
        }
    }

    /// The mechanisms of the covariance message (none with public data) and of the cross-term message.
    fn mechanisms(&self, d: usize, n: usize, public: bool) -> Result<(Option<Gaussian>, Gaussian)> {
        let c = self.clips(n, d, Scales::UNIT);
        let split = if public { 1.0 } else { 0.5 };
        let (eps, delta) = (self.epsilon * split, self.delta * split);
        // The sensitivities checked here, so that an error names them and the clips that set them.
        let sensitivity = |what: &str, value: f64| {
            if SENSITIVITY_RANGE.contains(&value) {
                Ok(value)
            } else {
                Err(Error::InvalidParameter {
                    name: "sensitivity",
                    reason: format!(
                        "the {what} is {value:e} (x clipped to the ℓ2 radius {:e}, y at {:e}), outside the mechanisms' \
                         range [{:e}, {:e}]: clip on the data's scale",
                        c.radius,
                        c.y,
                        SENSITIVITY_RANGE.start(),
                        SENSITIVITY_RANGE.end()
                    ),
                })
            }
        };
        let cov = if public {
            None
        } else {
            let s = sensitivity(
                "covariance message's sensitivity √2·r²",
                std::f64::consts::SQRT_2 * c.radius * c.radius,
            )?;
            Some(Gaussian::new(eps, delta, s, triangle(d))?)
        };
        let s = sensitivity("cross-term message's sensitivity 2·r·τy", 2.0 * c.radius * c.y)?;
        let cross = Gaussian::new(eps, delta, s, d)?;
        Ok((cov, cross))
    }

    /// One user's clipped statistics, added to `sums`: the triangle of `x̃x̃ᵀ` (unless `public`) and `x̃ỹ`.
    fn add_clipped(x: &mut [f64], y: f64, clips: Clips, public: bool, cov: &mut [f64], cross: &mut [f64]) {
        clips.clip_x(x);
        let y = (y / clips.scales.1).clamp(-clips.y, clips.y);
        if !public {
            let mut t = 0;
            for i in 0..x.len() {
                for j in i..x.len() {
                    cov[t] += x[i] * x[j];
                    t += 1;
                }
            }
        }
        cross.iter_mut().zip(x.iter()).for_each(|(c, xi)| *c += xi * y);
    }

    /// Simulates `n` users of `population` (records regenerated from `data_seed`) and fits, with the
    /// covariance from `public` further users' unlabeled records when `public > 0`. Every user's clipped
    /// statistics are computed exactly; the sum of their noises — independent discrete Gaussians of
    /// parameter σ per user and entry, on a grid of step below `2⁻²⁵σ` — is drawn at once as `N(0, nσ²)`
    /// per entry. That is the sum's distribution up to the grid: a discrete Gaussian that fine has the
    /// continuous one's moments to a relative `e^(−2π²·2⁵⁰)`, and the sum's rounding to the grid moves it by
    /// less than `2⁻²⁵σ`. It makes `10⁸` users cost their statistics only. The fit of records `(x, y)` is
    /// the per-user path.
    ///
    /// # Errors
    /// As the fit of records; [`Error::Empty`] for `n = 0`.
    pub fn simulate(&self, population: &Population, n: usize, public: usize, data_seed: u64) -> Result<LdpFit> {
        let d = population.check_users(n)?;
        self.check(n, d, public)?;
        let is_public = public > 0;
        let plan = self.plan(n, d, is_public, |i, row| population.record(data_seed, i as u64, row))?;
        let (first, fitted, clips) = (plan.scales.users, plan.fitted, plan.clips);
        let pieces: Vec<Sums> = crate::parallel::parts_in_pieces(fitted, PIECE, |users| {
            let mut sums = Sums::zeros(d, is_public);
            let mut row = vec![0.0; d];
            for i in first + users.start..first + users.end {
                let y = population.record(data_seed, i as u64, &mut row);
                Self::add_clipped(&mut row, y, clips, is_public, &mut sums.covariance, &mut sums.cross);
            }
            Ok(sums)
        })?;
        let mut sums = add_in_order(pieces, d, is_public);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let scale = (fitted as f64).sqrt();
        if let Some(m) = &plan.covariance {
            let s = m.sigma() * scale;
            sums.covariance
                .iter_mut()
                .for_each(|v| *v += s * standard_normal(&mut rng));
        }
        let s = plan.cross.sigma() * scale;
        sums.cross.iter_mut().for_each(|v| *v += s * standard_normal(&mut rng));
        let covariance = if is_public {
            // Public users are numbered after the private ones.
            let (xp, _) = population.sample(data_seed, n as u64, public)?;
            Some((public_covariance(xp.view(), d, clips)?, public))
        } else {
            None
        };
        self.server(&plan, sums, covariance, d)
    }

    /// The server: average, condition, solve, threshold, and the answer in the data's units. `public`: the
    /// public covariance and the number of records behind it.
    fn server(&self, plan: &Plan, sums: Sums, public: Option<(Mat<f64>, usize)>, d: usize) -> Result<LdpFit> {
        let n = plan.fitted;
        // The covariance messages' noise standard deviation per entry (0 with public data).
        let sigma = plan.covariance.map_or(0.0, |m| m.sigma());
        let cross_sigma = plan.cross.sigma();
        let (public_covariance, public) = match public {
            Some((m, records)) => (Some(m), records),
            None => (None, 0),
        };
        let inv_n = 1.0 / n as f64;
        let noise_level = 2.0 * (d as f64).sqrt() * sigma / (n as f64).sqrt();
        let covariance = public_covariance.unwrap_or_else(|| {
            let mut m = Mat::<f64>::zeros(d, d);
            let mut t = 0;
            for i in 0..d {
                for j in i..d {
                    m[(i, j)] = sums.covariance[t] * inv_n;
                    m[(j, i)] = m[(i, j)];
                    t += 1;
                }
            }
            m
        });
        let g: Vec<f64> = sums.cross.iter().map(|v| v * inv_n).collect();
        let evd = covariance
            .as_ref()
            .self_adjoint_eigen(Side::Lower)
            .map_err(|e| Error::eigen("the averaged covariance", e, "rescale the data"))?;
        let lambda: Vec<f64> = (0..d).map(|j| evd.S().column_vector()[j]).collect();
        let mean = lambda.iter().sum::<f64>() / d as f64;
        // An eigenvalue below half the noise's edge ν cannot be told from noise: inverting it would amplify
        // ĝ's noise without bound (and the mean itself is noise when the users are few).
        let floor = (self.eigenvalue_floor * mean.abs())
            .max(0.5 * noise_level)
            .max(f64::MIN_POSITIVE);
        // Linear shrinkage towards the mean eigenvalue with the known noise: the spread of the observed
        // eigenvalues about their mean, Σ(λ̂ − μ)², exceeds the signal's by the noise's E‖E − (tr E/d) I‖²_F
        // = (d² − 1)s², s = ν/(2√d).
        let s2 = noise_level * noise_level / (4.0 * d as f64);
        let spread: f64 = lambda.iter().map(|l| (l - mean) * (l - mean)).sum();
        let keep = if spread > 0.0 {
            (1.0 - ((d * d) as f64 - 1.0) * s2 / spread).max(0.0)
        } else {
            0.0
        };
        let shrink = |l: f64| mean + keep * (l - mean);
        let q = evd.U();
        // θ = Q diag(1/λ̃) Qᵀ ĝ with λ̃ = max(shrink(λ), floor); the objective ½θᵀΣ̃θ − ĝᵀθ = −½ ĝᵀΣ̃⁻¹ĝ there.
        let mut theta = vec![0.0; d];
        // (Σ̃⁻²)_ii, for the noise's variance in each coefficient.
        let mut inverse_square = vec![0.0; d];
        let mut objective = 0.0;
        for (j, l) in lambda.iter().enumerate() {
            let c: f64 = (0..d).map(|i| q[(i, j)] * g[i]).sum();
            let l = shrink(*l).max(floor);
            objective -= 0.5 * c * c / l;
            for (i, t) in theta.iter_mut().enumerate() {
                *t += q[(i, j)] * c / l;
                inverse_square[i] += q[(i, j)] * q[(i, j)] / (l * l);
            }
        }
        // θ̂ = Σ̃⁻¹ĝ: ĝ's noise (N(0, σ_g²/n) per entry) enters as Σ̃⁻¹ e, the covariance's (E, entries
        // N(0, σ²/n)) to first order as −Σ̃⁻¹Eθ̂, whose entries have variance σ²‖θ̂‖²/n before Σ̃⁻¹.
        // A public covariance has its sampling error instead, entries of variance about μ²/n_public.
        let norm2: f64 = theta.iter().map(|t| t * t).sum();
        let sampling = if public > 0 {
            norm2 * mean * mean / public as f64
        } else {
            0.0
        };
        let per_entry = (cross_sigma * cross_sigma + sigma * sigma * norm2) * inv_n + sampling;
        match self.k {
            Some(k) => keep_top_k(&mut theta, k),
            None => theta
                .iter_mut()
                .for_each(|t| *t = t.signum() * (t.abs() - self.threshold).max(0.0)),
        }
        let guarantee = Guarantee {
            epsilon: self.epsilon,
            delta: self.delta,
        };
        let noise_error = theta
            .iter()
            .zip(&inverse_square)
            .filter(|(t, _)| **t != 0.0)
            .map(|(_, w)| per_entry * w)
            .sum::<f64>()
            .sqrt();
        let mut fit = LdpFit::new(
            Array1::from(theta),
            objective,
            Report::exact(1),
            guarantee,
            if public_covariance_used(&sums) { 1 } else { 2 },
            n,
            noise_error,
        )?;
        fit.rescale(plan.scales);
        Ok(fit)
    }
}

/// A fit's setup ([`NonInteractive::plan`]): users `scales.users..scales.users + fitted` send messages.
struct Plan {
    /// The scales, learnt from the first users.
    scales: Scales,
    /// The users whose messages the server averages.
    fitted: usize,
    /// The covariance message's mechanism (none with public data).
    covariance: Option<Gaussian>,
    /// The cross-term message's mechanism.
    cross: Gaussian,
    /// How each of those users scales and clips its record.
    clips: Clips,
}

/// Whether the users sent the cross term only (the covariance came from public data).
fn public_covariance_used(sums: &Sums) -> bool {
    sums.covariance.is_empty()
}

/// The pieces' sums added in order.
fn add_in_order(pieces: Vec<Sums>, d: usize, public: bool) -> Sums {
    let mut total = Sums::zeros(d, public);
    for p in pieces {
        total
            .covariance
            .iter_mut()
            .zip(&p.covariance)
            .for_each(|(a, b)| *a += b);
        total.cross.iter_mut().zip(&p.cross).for_each(|(a, b)| *a += b);
    }
    total
}

/// How a user's record is scaled and clipped: `x` coordinatewise, then to an ℓ2 ball; `y` to an interval.
#[derive(Debug, Clone, Copy)]
struct Clips {
    /// `(s_x, s_y)`: the record is divided by them first.
    scales: (f64, f64),
    /// `τ₁`.
    coordinate: f64,
    /// `r`, at most `√d τ₁`.
    radius: f64,
    /// `τ₂`.
    y: f64,
}

impl Clips {
    /// `x` divided by `s_x`, clipped coordinatewise at `τ₁`, then scaled into the ℓ2 ball of radius `r`.
    fn clip_x(&self, x: &mut [f64]) {
        let s = self.scales.0;
        x.iter_mut()
            .for_each(|v| *v = (*v / s).clamp(-self.coordinate, self.coordinate));
        let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > self.radius {
            let s = self.radius / norm;
            x.iter_mut().for_each(|v| *v *= s);
        }
    }
}

/// The covariance of public unlabeled records, clipped as the users' are.
fn public_covariance(x: ArrayView2<'_, f64>, d: usize, clips: Clips) -> Result<Mat<f64>> {
    if x.nrows() == 0 {
        return Err(Error::Empty {
            what: "public X",
            rows: 0,
            cols: x.ncols(),
        });
    }
    if x.ncols() != d {
        return Err(Error::Shape {
            what: "public X columns (the users' features)",
            expected: d,
            found: x.ncols(),
        });
    }
    check_matrix("public X", x)?;
    // Fewer records than features (or all-zero ones) give a singular covariance: the estimate would be
    // the noise amplified by its null space.
    if x.nrows() < d || x.iter().all(|v| *v == 0.0) {
        return Err(Error::Degenerate {
            what: "public X",
            reason: format!(
                "has {} record(s) of {d} features{}: the covariance needs at least as many records as features, not all zero",
                x.nrows(),
                if x.iter().all(|v| *v == 0.0) { ", all zero" } else { "" }
            ),
        });
    }
    let mut m = Mat::<f64>::zeros(d, d);
    let mut row = vec![0.0; d];
    for record in x.rows() {
        row.iter_mut().zip(record).for_each(|(a, b)| *a = *b);
        clips.clip_x(&mut row);
        for i in 0..d {
            for j in 0..d {
                m[(i, j)] += row[i] * row[j];
            }
        }
    }
    let inv = 1.0 / x.nrows() as f64;
    Ok(Mat::from_fn(d, d, |i, j| m[(i, j)] * inv))
}
