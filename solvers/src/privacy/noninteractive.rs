//! The non-interactive LDP estimator (Zhu et al. 2024, Algorithm 1 as its reviewers describe it; the
//! details are ours where the text could not be read): one round of messages, a closed-form server.

use faer::{Mat, Side};
use ndarray::{Array1, ArrayView1, ArrayView2};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::Report;
use sparsimony_core::privacy::{Gaussian, Guarantee};
use sparsimony_core::random::standard_normal;

use super::{LdpFit, Population, check_clip, check_epsilon, check_memory, checked_records, default_clip, keep_top_k};
use crate::data::check_matrix;
use crate::{Error, Estimator, Result};

use super::USERS_PER_PIECE as PIECE;

/// The non-interactive estimator. Each user clips `x` coordinatewise at `τ₁` and `y` at `τ₂` and sends two
/// messages through the Gaussian mechanism ([`Gaussian`], discrete noise on a fine grid) with `(ε/2, δ/2)` each: the
/// upper triangle of `x̃x̃ᵀ` (ℓ2 sensitivity `2dτ₁²`, as `‖x̃x̃ᵀ‖_F = ‖x̃‖² ≤ dτ₁²`) and `x̃ỹ` (sensitivity
/// `2√d τ₁τ₂`); by composition each user's record is `(ε, δ)`-LDP. With public unlabeled data the
/// covariance is taken from it and the users send only `x̃ỹ`, with `(ε, δ)`.
///
/// The server averages the messages into `Σ̂` and `ĝ`, floors the eigenvalues of `Σ̂` at the larger of
/// `eigenvalue_floor · tr(Σ̂)/d` and the noise level `ν = 2√d σ/√n` — the expected operator norm of the
/// averaged noise (a symmetric matrix of independent `N(0, σ²/n)` entries, whose spectrum fills
/// `[−ν, ν]`), which the server knows because the mechanism's `σ` is public: eigenvalues below it cannot be
/// told from noise, and inverting them amplified `ĝ`'s noise into errors of 10–100 at `d = 10` — and returns
/// `Σ̃⁻¹ĝ` soft-thresholded at
/// `threshold`, or its `k` largest entries when `k` is given. The server's objective is the quadratic
/// `½θᵀΣ̃θ − ĝᵀθ` it minimises before thresholding.
#[derive(Debug, Clone, PartialEq)]
pub struct NonInteractive {
    /// The privacy loss ε of each user's record (> 0).
    pub epsilon: f64,
    /// The failure probability δ ∈ (0, 1).
    pub delta: f64,
    /// The coordinatewise clipping threshold `τ₁` of `x`; `None`: `√(2 ln n)`.
    pub clip_x: Option<f64>,
    /// The clipping threshold `τ₂` of `y`; `None`: `√(2 ln n)`.
    pub clip_y: Option<f64>,
    /// Keep the `k` largest coefficients; `None`: soft-threshold at [`NonInteractive::threshold`].
    pub k: Option<usize>,
    /// The soft-threshold `λ` when `k` is `None`.
    pub threshold: f64,
    /// The eigenvalue floor of the covariance, relative to its mean eigenvalue (the noise level `ν` is
    /// the floor when larger).
    pub eigenvalue_floor: f64,
    /// The seed of the users' randomizers (user `i` draws from ChaCha8 stream `i`).
    pub seed: u64,
}

impl Default for NonInteractive {
    fn default() -> Self {
        Self {
            epsilon: 1.0,
            delta: 1e-5,
            clip_x: None,
            clip_y: None,
            k: None,
            threshold: 0.05,
            eigenvalue_floor: 0.1,
            seed: 0,
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
        let (cov_mech, cross_mech) = self.mechanisms(d, n, public.is_some())?;
        let clips = self.clips(n);
        let is_public = public.is_some();
        let pieces: Vec<Sums> = crate::parallel::parts_in_pieces(n, PIECE, |users| {
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
                if let Some(m) = &cov_mech {
                    m.privatize(&tri, &mut tri_msg, &mut rng)?;
                    sums.covariance.iter_mut().zip(&tri_msg).for_each(|(s, v)| *s += v);
                }
                cross_mech.privatize(&cross, &mut cross_msg, &mut rng)?;
                sums.cross.iter_mut().zip(&cross_msg).for_each(|(s, v)| *s += v);
            }
            Ok(sums)
        })?;
        let sums = add_in_order(pieces, d, is_public);
        let covariance = match public {
            Some(p) => Some(public_covariance(p, d, clips.0)?),
            None => None,
        };
        self.server(sums, covariance, cov_mech.map_or(0.0, |m| m.sigma()), n, d)
    }

    /// Checks the settings, and the memory of a run over `n` users with `d` features (`public` further
    /// users' records held for the covariance).
    fn check(&self, n: usize, d: usize, public: usize) -> Result<()> {
        check_epsilon(self.epsilon)?;
        // δ is halved between the two messages and enters the calibration through its logarithm: below
        // 1e-300 it underflows.
        if !(self.delta >= 1e-300 && self.delta < 1.0) {
            return Err(Error::InvalidParameter {
                name: "delta",
                reason: format!("must lie in [1e-300, 1), got {:?}", self.delta),
            });
        }
        check_clip("clip_x", self.clip_x)?;
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
        let (d_f, public_f) = (d as f64, public as f64);
        check_memory(n, d, triangle_len(d) + d_f, 4.0 * d_f * d_f)?;
        crate::data::check_bytes(
            "public",
            8.0 * public_f * d_f,
            || format!("{public} public records of {d} features"),
            ": use fewer public records",
        )
    }

    /// The clipping thresholds for `n` users.
    fn clips(&self, n: usize) -> (f64, f64) {
        (
            self.clip_x.unwrap_or_else(|| default_clip(n)),
            self.clip_y.unwrap_or_else(|| default_clip(n)),
        )
    }

    /// The mechanisms of the covariance message (none with public data) and of the cross-term message.
    fn mechanisms(&self, d: usize, n: usize, public: bool) -> Result<(Option<Gaussian>, Gaussian)> {
        let (tx, ty) = self.clips(n);
        let split = if public { 1.0 } else { 0.5 };
        let (eps, delta) = (self.epsilon * split, self.delta * split);
        let cov = if public {
            None
        } else {
            Some(Gaussian::new(eps, delta, 2.0 * d as f64 * tx * tx, d * (d + 1) / 2)?)
        };
        let cross = Gaussian::new(eps, delta, 2.0 * (d as f64).sqrt() * tx * ty, d)?;
        Ok((cov, cross))
    }

    /// One user's clipped statistics, added to `sums`: the triangle of `x̃x̃ᵀ` (unless `public`) and `x̃ỹ`.
    fn add_clipped(x: &mut [f64], y: f64, clips: (f64, f64), public: bool, cov: &mut [f64], cross: &mut [f64]) {
        x.iter_mut().for_each(|v| *v = v.clamp(-clips.0, clips.0));
        let y = y.clamp(-clips.1, clips.1);
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
        let (cov_mech, cross_mech) = self.mechanisms(d, n, is_public)?;
        let clips = self.clips(n);
        let pieces: Vec<Sums> = crate::parallel::parts_in_pieces(n, PIECE, |users| {
            let mut sums = Sums::zeros(d, is_public);
            let mut row = vec![0.0; d];
            for i in users {
                let y = population.record(data_seed, i as u64, &mut row);
                Self::add_clipped(&mut row, y, clips, is_public, &mut sums.covariance, &mut sums.cross);
            }
            Ok(sums)
        })?;
        let mut sums = add_in_order(pieces, d, is_public);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let scale = (n as f64).sqrt();
        if let Some(m) = &cov_mech {
            let s = m.sigma() * scale;
            sums.covariance
                .iter_mut()
                .for_each(|v| *v += s * standard_normal(&mut rng));
        }
        let s = cross_mech.sigma() * scale;
        sums.cross.iter_mut().for_each(|v| *v += s * standard_normal(&mut rng));
        let covariance = if is_public {
            // Public users are numbered after the private ones.
            let (xp, _) = population.sample(data_seed, n as u64, public)?;
            Some(public_covariance(xp.view(), d, clips.0)?)
        } else {
            None
        };
        self.server(sums, covariance, cov_mech.map_or(0.0, |m| m.sigma()), n, d)
    }

    /// The server: average, condition, solve, threshold.
    /// `sigma`: the covariance messages' noise standard deviation per entry (0 with public data).
    fn server(
        &self,
        sums: Sums,
        public_covariance: Option<Mat<f64>>,
        sigma: f64,
        n: usize,
        d: usize,
    ) -> Result<LdpFit> {
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
        let floor = (self.eigenvalue_floor * mean.abs())
            .max(noise_level)
            .max(f64::MIN_POSITIVE);
        let q = evd.U();
        // θ = Q diag(1/λ̃) Qᵀ ĝ with λ̃ = max(λ, floor); the objective ½θᵀΣ̃θ − ĝᵀθ = −½ ĝᵀΣ̃⁻¹ĝ there.
        let mut theta = vec![0.0; d];
        let mut objective = 0.0;
        for (j, l) in lambda.iter().enumerate() {
            let c: f64 = (0..d).map(|i| q[(i, j)] * g[i]).sum();
            let l = l.max(floor);
            objective -= 0.5 * c * c / l;
            for (i, t) in theta.iter_mut().enumerate() {
                *t += q[(i, j)] * c / l;
            }
        }
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
        LdpFit::new(
            Array1::from(theta),
            objective,
            Report::exact(1),
            guarantee,
            if public_covariance_used(&sums) { 1 } else { 2 },
            n,
        )
    }
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

/// The covariance of public unlabeled records, clipped as the users' are.
fn public_covariance(x: ArrayView2<'_, f64>, d: usize, clip: f64) -> Result<Mat<f64>> {
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
    let clipped = x.mapv(|v| v.clamp(-clip, clip));
    let mut m = Mat::<f64>::zeros(d, d);
    for row in clipped.rows() {
        for i in 0..d {
            for j in 0..d {
                m[(i, j)] += row[i] * row[j];
            }
        }
    }
    let inv = 1.0 / x.nrows() as f64;
    Ok(Mat::from_fn(d, d, |i, j| m[(i, j)] * inv))
}
