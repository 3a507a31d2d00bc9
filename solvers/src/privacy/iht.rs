//! Sequentially interactive LDP iterative hard thresholding (Zhu et al. 2024, the corrected analysis of
//! LDP-IHT): one batch of users per round, each sending one privatized gradient.

use ndarray::{Array1, ArrayView1, ArrayView2};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::Report;
use sparsimony_core::privacy::L2Ball;

use super::{
    LdpFit, Population, Scaling, check_clip, check_epsilon, check_memory, checked_records, default_clip, keep_top_k,
};
use crate::{Error, Estimator, Progress, Result};

use super::USERS_PER_PIECE as PIECE;

/// LDP iterative hard thresholding. The `n` users are split into `T` disjoint batches of `m = ⌊n/T⌋`
/// (the remainder sends nothing); `θ₀ = 0`. A user of round `t` clips `x` coordinatewise at `τ₁` and `y`
/// at `τ₂`, forms `g = x̃(⟨x̃, θ_{t−1}⟩ − ỹ)` — of norm at most `r̄ = √d τ₁(√k′ τ₁ + τ₂)`, as `θ_{t−1}` is
/// `k′`-sparse in the unit ball — clips it to the ℓ2 ball of radius `r = min(r̄, radius)` and sends it
/// through the ℓ2-ball randomizer ([`L2Ball`] of radius `r`, pure ε, unbiased).
///
/// **The radius.** The message's noise is proportional to `r`, and the worst case `r̄` (about
/// `√d · √k′ · 2 ln n`, the paper's) is hundreds of times a typical gradient's norm `‖x‖·|residual| ≈
/// √d · √(‖θ − θ*‖² + σ²)`. The default `r = √d` clips the gradients whose residual exceeds about 1; for a
/// Gaussian design the clipped mean is still a positive multiple `s · (θ − θ*)` of the true gradient
/// (Stein's lemma: `E[x ψ(⟨x, Δ⟩ − ξ)] = Δ · E[ψ′]` for the clipping `ψ` of the residual, `‖x‖`
/// concentrating at `√d`), so the iteration keeps its fixed point and only its step shrinks (`s ≈ ½`).
/// On `d = 100, k = 8, ε = 1` this recovers the support from 10⁶ users where `r̄` fails at 10⁷. `r` is a
/// public constant fixed before any data are seen, as privacy requires; data of another scale should
/// set it.
///
/// **The rounds.** Each round contracts the error by about `1 − s ≈ ½` and adds the averaged messages'
/// noise, of standard deviation `σ_c = B/√(d m)` per coordinate (`B` the randomizer's message norm,
/// `m = ⌊n/T⌋` users a round). Unless set, `T` minimises the predicted error `2^{−T} + √k′ σ_c(T)` over
/// `1..=⌈ln n⌉` (the paper's `T = O(log n)` is the upper end): a function of `n, d, k′, ε, r` only.
///
/// The server sets `θ_t = Π_{‖θ‖≤1}(H_{k′}(θ_{t−1} − η · mean of the messages))`. Each user sends one
/// message, so the protocol is ε-LDP for every user. The model is assumed scaled so that `‖θ*‖ ≤ 1` and
/// `E[xxᵀ] ≈ I` (then `η = 1`).
///
/// The fit's coefficients are `H_k(θ_T)`, the `k` largest of the last iterate (the estimate of the
/// `k`-sparse `θ*`; `θ_T` itself keeps `k′`); its objective is `½‖ĝ_T‖²`, the last round's averaged privatized
/// gradient (the only loss information the server has); its report counts the rounds (a fixed number, not
/// a convergence test). Its [`LdpFit::noise_error`] is the last round's noise in the `k` kept coefficients,
/// `η B √(k/(d m))`.
#[derive(Debug, Clone, PartialEq)]
pub struct LdpIht {
    /// The privacy loss ε of each user (> 0).
    pub epsilon: f64,
    /// The sparsity `k` of `θ*`.
    pub k: usize,
    /// `k′ = sparsity_factor · k` coordinates are kept each round (default 2, the factor IHT's analysis
    /// needs for a well-conditioned design, `E[xxᵀ] = I`; the paper's 8 keeps 64 of 100 coordinates at
    /// `d = 100, k = 8`, each adding its noise).
    pub sparsity_factor: usize,
    /// Rounds `T`; `None`: the minimiser of the predicted error (see the type's documentation).
    pub rounds: Option<usize>,
    /// The step `η`.
    pub step: f64,
    /// The coordinatewise clipping threshold `τ₁` of `x`; `None`: `√(2 ln n)`.
    pub clip_x: Option<f64>,
    /// The clipping threshold `τ₂` of `y`; `None`: `√(2 ln n)`.
    pub clip_y: Option<f64>,
    /// The ℓ2 radius each gradient is clipped to (the bound `r̄` of the clipped data when smaller);
    /// `None`: `√d`.
    pub radius: Option<f64>,
    /// The seed of the users' randomizers (user `i` draws from ChaCha8 stream `i`).
    pub seed: u64,
    /// How the scales of `x` and `y` are learnt before the rounds (default: privately, from a twentieth
    /// of the users; see [`Scaling`]). The clipping thresholds, the radius and the unit ball of `θ` apply to
    /// the scaled data; the coefficients come back in the data's units.
    pub scaling: Scaling,
    /// Called after every round (task `"ldp_iht"`).
    pub progress: Progress,
}

impl Default for LdpIht {
    fn default() -> Self {
        Self {
            epsilon: 1.0,
            k: 1,
            sparsity_factor: 2,
            rounds: None,
            step: 1.0,
            clip_x: None,
            clip_y: None,
            radius: None,
            seed: 0,
            scaling: Scaling::default(),
            progress: Progress::default(),
        }
    }
}

impl<'a> Estimator<(ArrayView2<'a, f64>, ArrayView1<'a, f64>)> for LdpIht {
    type Fitted = LdpFit;

    /// Fits from `n` records (`x` one user per row, `y` their responses), each user's gradient privatized
    /// as that user's device would.
    ///
    /// # Errors
    /// Shape, emptiness and finiteness errors of the data; the settings' [`Error::InvalidParameter`].
    fn fit(&self, (x, y): (ArrayView2<'a, f64>, ArrayView1<'a, f64>)) -> Result<LdpFit> {
        let y = checked_records(x, y)?;
        let (n, d) = x.dim();
        self.run(n, d, |i, row| {
            row.iter_mut().zip(x.row(i)).for_each(|(a, b)| *a = *b);
            y[i]
        })
    }
}

impl LdpIht {
    fn check(&self, n: usize, d: usize) -> Result<()> {
        check_epsilon(self.epsilon)?;
        check_clip("clip_x", self.clip_x)?;
        check_clip("clip_y", self.clip_y)?;
        check_clip("radius", self.radius)?;
        if self.k == 0 || self.k > d {
            return Err(Error::InvalidParameter {
                name: "k",
                reason: format!("must lie in 1..={d} (the number of features), got {}", self.k),
            });
        }
        if self.sparsity_factor == 0 {
            return Err(Error::InvalidParameter {
                name: "sparsity_factor",
                reason: "must be at least 1".into(),
            });
        }
        if !(self.step > 0.0 && self.step.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "step",
                reason: format!("must be positive and finite, got {}", self.step),
            });
        }
        if let Some(rounds) = self.rounds
            && (rounds == 0 || rounds > n)
        {
            return Err(Error::InvalidParameter {
                name: "rounds",
                reason: format!("must lie in 1..={n} (one batch of users per round), got {rounds}"),
            });
        }
        check_memory(n, d, d as f64, 4.0 * d as f64)
    }

    /// The rounds for `n` users when not set: the `T ∈ 1..=⌈ln n⌉` minimising `2^{−T} + √k′ B/√(d ⌊n/T⌋)`.
    fn default_rounds(n: usize, d: usize, kp: usize, message_norm: f64) -> usize {
        let predicted = |t: usize| {
            let m = (n / t).max(1) as f64;
            0.5f64.powi(t as i32) + (kp as f64).sqrt() * message_norm / (d as f64 * m).sqrt()
        };
        let most = ((n.max(2) as f64).ln().ceil() as usize).clamp(1, n);
        (1..=most)
            .min_by(|&a, &b| predicted(a).total_cmp(&predicted(b)))
            .unwrap_or(1)
    }

    /// Simulates `n` users of `population` (records regenerated from `data_seed`, one at a time) and fits:
    /// every user's record, clipped gradient and ℓ2-ball message is drawn per user — no shortcut.
    ///
    /// # Errors
    /// As the fit of records; [`Error::Empty`] for `n = 0`.
    pub fn simulate(&self, population: &Population, n: usize, data_seed: u64) -> Result<LdpFit> {
        let d = population.check_users(n)?;
        self.run(n, d, |i, row| population.record(data_seed, i as u64, row))
    }

    /// The protocol over users `0..n`, user `i`'s record given by `record(i, x) -> y`: the scales from the
    /// first users ([`LdpIht::scaling`]), the rounds over the others on the scaled records, and the
    /// coefficients in the data's units.
    fn run(&self, n: usize, d: usize, record: impl Fn(usize, &mut [f64]) -> f64 + Sync) -> Result<LdpFit> {
        self.check(n, d)?;
        self.scaling.check()?;
        let scales = self.scaling.learn(n, d, self.epsilon, self.seed, &record)?;
        let first = scales.users;
        let (sx, sy) = (scales.x, scales.y);
        let mut fit = self.rounds_over(first, n - first, d, |i, row| {
            let y = record(first + i, row);
            row.iter_mut().for_each(|v| *v /= sx);
            y / sy
        })?;
        fit.rescale(scales);
        Ok(fit)
    }

    /// The rounds over `n` users (user `i` is the data's user `first + i`, whose randomizer is ChaCha8
    /// stream `first + i`), on records of unit scale.
    fn rounds_over(
        &self,
        first: usize,
        n: usize,
        d: usize,
        record: impl Fn(usize, &mut [f64]) -> f64 + Sync,
    ) -> Result<LdpFit> {
        let kp = self.sparsity_factor.saturating_mul(self.k).min(d);
        let tx = self.clip_x.unwrap_or_else(|| default_clip(n));
        let ty = self.clip_y.unwrap_or_else(|| default_clip(n));
        let bound = (d as f64).sqrt() * tx * ((kp as f64).sqrt() * tx + ty);
        let radius = self.radius.unwrap_or((d as f64).sqrt()).min(bound);
        if !(radius > 0.0 && radius.is_finite()) {
            // The bound from the clipping thresholds underflowed to 0 or overflowed: blame them, not the
            // radius the user may never have set.
            return Err(Error::InvalidParameter {
                name: "clip_x",
                reason: format!(
                    "the clipped gradients' ℓ2 bound √d·τx(√k′·τx + τy) = {bound:e} (τx = {tx:e}, τy = {ty:e}) is not a \
                     positive finite radius: use clipping thresholds on the data's scale"
                ),
            });
        }
        let randomizer = L2Ball::new(self.epsilon, radius, d)?;
        let rounds = self
            .rounds
            .unwrap_or_else(|| Self::default_rounds(n, d, kp, randomizer.scale()));
        if rounds > n {
            return Err(Error::InvalidParameter {
                name: "rounds",
                reason: format!(
                    "{rounds} rounds need at least as many users, and {n} remain after the {first} that learnt the scales"
                ),
            });
        }
        let m = n / rounds;
        let mut theta = vec![0.0; d];
        let mut last = vec![0.0; d];
        let steps = self.progress.counter("ldp_iht", rounds);
        for t in 0..rounds {
            let batch = t * m..(t + 1) * m;
            let pieces: Vec<Vec<f64>> = crate::parallel::parts_in_pieces(m, PIECE, |users| {
                let mut sum = vec![0.0; d];
                let (mut x, mut g, mut msg) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
                for i in batch.start + users.start..batch.start + users.end {
                    let y = record(i, &mut x).clamp(-ty, ty);
                    // Clip x, and sum ⟨x̃, θ⟩ and ‖x̃‖² in the same pass: ‖g‖ = |residual|·‖x̃‖, so the
                    // ℓ2 clip of g is one factor applied as g is formed.
                    let (mut dot, mut length2) = (0.0, 0.0);
                    for (v, t) in x.iter_mut().zip(&theta) {
                        *v = v.clamp(-tx, tx);
                        dot += *v * t;
                        length2 += *v * *v;
                    }
                    let residual = dot - y;
                    let norm = residual.abs() * length2.sqrt();
                    let factor = if norm > radius {
                        residual * (radius / norm)
                    } else {
                        residual
                    };
                    g.iter_mut().zip(&x).for_each(|(gj, xj)| *gj = xj * factor);
                    let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                    rng.set_stream((first + i) as u64);
                    randomizer.privatize(&g, &mut msg, &mut rng)?;
                    sum.iter_mut().zip(&msg).for_each(|(s, v)| *s += v);
                }
                Ok(sum)
            })?;
            last.fill(0.0);
            for p in &pieces {
                last.iter_mut().zip(p).for_each(|(a, b)| *a += b / m as f64);
            }
            theta.iter_mut().zip(&last).for_each(|(th, g)| *th -= self.step * g);
            keep_top_k(&mut theta, kp);
            let norm = theta.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 1.0 {
                theta.iter_mut().for_each(|v| *v /= norm);
            }
            steps.step(Some(norm));
        }
        let objective = 0.5 * last.iter().map(|v| v * v).sum::<f64>();
        // θ_T keeps k′ ≥ k coordinates; the estimate of the k-sparse θ* is its k largest.
        keep_top_k(&mut theta, self.k);
        // The last round's averaged messages carry noise of variance (B² − ‖g‖²)/(d m) ≤ B²/(d m) per
        // coordinate, through the step η; earlier rounds' noise is contracted (by about ½ a round).
        let noise_error = self.step * randomizer.scale() * (self.k.min(d) as f64 / (d as f64 * m as f64)).sqrt();
        LdpFit::new(
            Array1::from(theta),
            objective,
            Report::exact(rounds),
            randomizer.guarantee(),
            1,
            rounds * m,
            noise_error,
        )
    }
}
