//! Sequentially interactive LDP iterative hard thresholding (Zhu et al. 2024, the corrected analysis of
//! LDP-IHT): one batch of users per round, each sending one privatized gradient.

use ndarray::{Array1, ArrayView1, ArrayView2};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::linalg::dot;
use sparsimony_core::privacy::L2Ball;
use sparsimony_core::{Measure, Report};

use super::{
    LdpFit, Population, Scaling, check_clip, check_epsilon, check_memory, checked_records, default_clip, keep_top_k,
};
use crate::{Error, Estimator, Progress, Result};

use super::USERS_PER_PIECE as PIECE;

/// LDP iterative hard thresholding. The `n` users are split into disjoint batches, one per round (see
/// the batches below); `θ₀ = 0`. A user of round `t` clips `x` coordinatewise at `τ₁` and `y`
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
/// **The batches.** Unless `rounds` is set (then `T` equal batches of `⌊n/T⌋`, the paper's schedule),
/// the server sizes each batch from what the messages so far show, as adaptive-sample-size methods do
/// (Byrd, Chin, Nocedal & Wu 2012, the "norm test"). The averaged messages of `m` users carry noise of
/// squared norm about `B²/m` (`B` the randomizer's message norm, public), and the server sees their
/// squared norm `‖ĝ‖²`. The first batch has `⌈2B²⌉` users (at most `n/8`), whose noise has norm `1/√2`
/// against `θ`'s ball of radius 1. While the gradient stands above its noise (`‖ĝ‖² ≥ 3B²/m`: its signal
/// at least `√2` times the noise) the iterate is still moving towards the fixed point and the batch size
/// is kept; once it does not, the iterate sits at this batch size's noise floor and the next batch is twice
/// as large. The last round (when fewer than twice
/// the batch remain, or at round `⌈ln n⌉`, the paper's `T = O(log n)`) takes every user left. The final
/// error is then about the noise of a batch of a third to a half of the users, where equal batches leave
/// `1/T` of them (on `d = 100, k = 8, ε = 1, σ = 1` with private scales, 10⁶ users: the support in 50 of
/// 50 seeds, where equal batches found it in 2 of 5). The schedule depends on the messages only (post-processing) and every user is
/// still asked once.
///
/// **The step.** A gradient round contracts the error by `I − ηsΣ`, `s` the clipping's factor above and
/// `Σ` the design's covariance, both unknown; `η = 1` overshoots when `sΣ` has eigenvalues above 2 (an
/// AR(1) design with correlation ½ swings about `θ*` between about 0 and 1.6 `θ*` and never settles). The server measures the curvature
/// along its last step `δ` from the next round's messages, `κ = ⟨δ, ĝ_t − ĝ_{t−1}⟩/‖δ‖²` (a secant, as
/// Barzilai & Borwein's step; the part of `ĝ_{t−1}`'s noise that `δ` carries, `η k_δ σ²`, subtracted),
/// and where it stands four standard deviations above the messages' noise it sets `η = 1/κ` within
/// `[step/16, 4 step]`. `step` is the first round's step; the later ones also lengthen where clipping
/// flattens the loss (`s ≈ 0.2` for a residual of deviation 4 clipped at 1, where `η = 1` would contract
/// by only 0.8 a round).
///
/// The server sets `θ_t = Π_{‖θ‖≤1}(H_{k′}(θ_{t−1} − η · mean of the messages))`. Each user sends one
/// message, so the protocol is ε-LDP for every user. The model is assumed scaled so that `‖θ*‖ ≤ 1` and
/// `E[xxᵀ] ≈ I` (for which the first step `η = 1` suits).
///
/// The fit's coefficients are `H_k(θ_T)`, the `k` largest of the last iterate (the estimate of the
/// `k`-sparse `θ*`; `θ_T` itself keeps `k′`); its objective is `½‖ĝ_T‖²`, the last round's averaged privatized
/// gradient (the only loss information the server has); its report counts the rounds and is judged by
/// [`Measure::GradientToNoise`]: the last round's averaged gradient against its noise. Where that
/// gradient still stands out (an ill-conditioned design the rounds could not settle: AR(1) with ρ = 0.85
/// on neighbouring features), the report says the fit did not converge, and [`LdpFit::trusted`] is
/// false. What the gradient cannot show is an error along the design's weak directions, where it is
/// small: on such designs a right support can come with coefficients off by more than the stated noise.
/// The stated noise itself assumes a contraction of ½ a round; on an AR(1) design with ρ = ½ it was half
/// the measured error. Its [`LdpFit::noise_error`] is the noise of every round in the `k` kept coefficients, each
/// round's contracted by ½ a round after it: `√(k v_T)` with `v_t = v_{t−1}/4 + η_t² B²/(d m_t)`.
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
    /// Rounds `T` of equal batches; `None`: batches sized from the messages (see the type's
    /// documentation).
    pub rounds: Option<usize>,
    /// The first round's step `η` (later rounds take the measured inverse curvature within
    /// `[step/16, 4 step]`; see the type's documentation).
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
    /// Called after every round (task `"ldp_iht"`), counting users: `done` is the users asked so far,
    /// `total` those the rounds will ask.
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
        // Multiplied by the reciprocals: a division per coordinate was a tenth of a simulated user's time.
        let (rx, ry) = (1.0 / sx, 1.0 / sy);
        let mut fit = self.rounds_over(first, n - first, d, |i, row| {
            let y = record(first + i, row);
            row.iter_mut().for_each(|v| *v *= rx);
            y * ry
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
        let message2 = randomizer.scale().powi(2);
        let mut schedule = match self.rounds {
            Some(rounds) if rounds > n => {
                return Err(Error::InvalidParameter {
                    name: "rounds",
                    reason: format!(
                        "{rounds} rounds need at least as many users, and {n} remain after the {first} that learnt the scales"
                    ),
                });
            }
            Some(rounds) => Schedule::equal(n, rounds),
            None => Schedule::adaptive(n, message2),
        };
        let mut theta = vec![0.0; d];
        let (mut last, mut previous, mut delta) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        let (mut step, mut previous_variance, mut variance) = (self.step, 0.0, 0.0);
        let steps = self.progress.counter("ldp_iht", schedule.users);
        let mut curvature = [0.0; 2];
        let mut settled = f64::INFINITY;

        // Every user's randomizer is ChaCha8 stream `first + i` of the one key: cloned from the keyed
        // generator rather than keyed again.
        let keyed = ChaCha8Rng::seed_from_u64(self.seed);
        let mut rounds = 0;
        while let Some(batch) = schedule.next() {
            let m = batch.len();
            let pieces: Vec<Vec<f64>> = crate::parallel::parts_in_pieces(m, PIECE, |users| {
                let mut sum = vec![0.0; d];
                let (mut x, mut g, mut msg) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
                for i in batch.start + users.start..batch.start + users.end {
                    let y = record(i, &mut x).clamp(-ty, ty);
                    // Clip x; ‖g‖ = |residual|·‖x̃‖, so the ℓ2 clip of g is one factor applied as g is formed.
                    x.iter_mut().for_each(|v| *v = v.clamp(-tx, tx));
                    let length2 = dot(&x, &x);
                    let residual = dot(&x, &theta) - y;
                    let norm = residual.abs() * length2.sqrt();
                    let factor = if norm > radius {
                        residual * (radius / norm)
                    } else {
                        residual
                    };
                    g.iter_mut().zip(&x).for_each(|(gj, xj)| *gj = xj * factor);
                    let mut rng = keyed.clone();
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
            // Per coordinate, the averaged messages' noise variance (at most B²/(d m)).
            let noise_variance = message2 / (d as f64 * m as f64);
            if rounds > 0
                && let Some((kappa, sd)) = secant(&delta, &last, &previous, step, [noise_variance, previous_variance])
            {
                // The curvatures measured so far, weighted by their precision, each round's weight halved
                // (the clipping's factor grows as the residuals shrink).
                curvature = [
                    curvature[0] / 2.0 + kappa / (sd * sd),
                    curvature[1] / 2.0 + 1.0 / (sd * sd),
                ];
                step = (curvature[1] / curvature[0]).clamp(self.step / 16.0, self.step * 4.0);
            }
            let gradient2 = last.iter().map(|v| v * v).sum::<f64>();
            settled = gradient2 / (message2 / m as f64);
            schedule.observe(settled);
            delta.copy_from_slice(&theta);
            theta.iter_mut().zip(&last).for_each(|(th, g)| *th -= step * g);
            keep_top_k(&mut theta, kp);
            let norm = theta.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 1.0 {
                theta.iter_mut().for_each(|v| *v /= norm);
            }
            delta.iter_mut().zip(&theta).for_each(|(dl, th)| *dl = th - *dl);
            std::mem::swap(&mut last, &mut previous);
            previous_variance = noise_variance;

            // The noise of earlier rounds contracted by about ½ a round, this round's added through the step.
            variance = variance / 4.0 + step * step * noise_variance;
            rounds += 1;
            steps.advance(m, Some(norm));
        }
        // `previous` holds the last round's averaged messages.
        let last = previous;

        let objective = 0.5 * last.iter().map(|v| v * v).sum::<f64>();
        // θ_T keeps k′ ≥ k coordinates; the estimate of the k-sparse θ* is its k largest.
        keep_top_k(&mut theta, self.k);
        let noise_error = (self.k.min(d) as f64 * variance).sqrt();
        LdpFit::new(
            Array1::from(theta),
            objective,
            Report::new(rounds, Measure::GradientToNoise, settled, settled_tolerance(d)),
            randomizer.guarantee(),
            1,
            schedule.used(),
            noise_error,
        )
    }
}

/// The curvature of the expected loss along the last step `δ = θ_{t−1} − θ_{t−2}`, from the averaged messages
/// `ĝ_t` (at `θ_{t−1}`) and `ĝ_{t−1}` (at `θ_{t−2}`), per coordinate of noise variance `σ²_t` and
/// `σ²_{t−1}`: `κ = (⟨δ, ĝ_t − ĝ_{t−1}⟩ − η k_δ σ²_{t−1})/‖δ‖²`, where `η k_δ σ²_{t−1}` (`k_δ` the
/// coordinates `δ` moved, `η` the step it took) is the expectation of the part of `ĝ_{t−1}`'s noise that
/// `δ = −η ĝ_{t−1}` carries (exactly so on the coordinates kept in both rounds and without the
/// projection onto the unit ball; coordinates that left the support and a projected step make it an
/// approximation, which the four-deviation test and the clamp of the step absorb). Returns `κ` and its
/// standard deviation, `√(σ²_t + σ²_{t−1})/‖δ‖`; `None`
/// unless `κ` stands four of them above 0.
fn secant(delta: &[f64], gradient: &[f64], previous: &[f64], step: f64, variances: [f64; 2]) -> Option<(f64, f64)> {
    let [variance, previous_variance] = variances;
    let length2 = delta.iter().map(|v| v * v).sum::<f64>();
    let moved = delta.iter().filter(|v| **v != 0.0).count() as f64;
    let inner = delta
        .iter()
        .zip(gradient.iter().zip(previous))
        .map(|(dl, (a, b))| dl * (a - b))
        .sum::<f64>()
        - step * moved * previous_variance;
    let sd = (length2 * (variance + previous_variance)).sqrt();
    let kappa = inner / length2;
    // A zero noise (a radius so small that B² underflowed) or a non-finite value gives no usable weight.
    (length2 > 0.0 && sd > 0.0 && inner > 4.0 * sd && kappa.is_finite() && (sd / length2).is_finite())
        .then(|| (kappa, sd / length2))
}

/// The last round's averaged gradient at most this many times its noise's squared norm: the iteration
/// reached its fixed point as far as the messages can tell; above it the report says the fit did not
/// converge. `max(4, 1 + 5√(2/d))`: a signal of at least `√3` times the noise, and about five standard
/// deviations of the ratio for pure noise (`χ²_d/d`) at large `d`; at `d ≤ 5` pure noise passes it but
/// for about 1 in 200 to 1 in 1000 (the ratio's tail is heavier there). At the fixed point the gradient
/// also carries the noise the last step put into the iterate, about `(k′/d) m_T/m_{T−1}` of its own noise
/// (`m` the batches), so where `k′` is a large share of `d` (`d = 10, k′ = 8`) a settled fit can exceed the
/// tolerance: the verdict errs towards "not to be trusted" there, an alarm to check rather than a proof.
/// Correcting for that share was tried and also excused fits stuck on a wrong support (the share is
/// largest exactly when the last round is much larger than the one before).
fn settled_tolerance(d: usize) -> f64 {
    (1.0 + 5.0 * (2.0 / d as f64).sqrt()).max(4.0)
}

/// How the users are split into rounds: equal batches, or batches sized from the messages (see
/// [`LdpIht`]).
struct Schedule {
    /// Users in all, and the first not yet asked.
    users: usize,
    next: usize,
    /// The next batch's size, and the rounds left before the last (which takes everyone left).
    batch: usize,
    rounds_left: usize,
    /// Whether the batch doubles once the gradient sinks into its noise.
    adaptive: bool,
}

impl Schedule {
    /// `rounds` batches of `⌊n/rounds⌋` (the remainder sends nothing).
    fn equal(n: usize, rounds: usize) -> Self {
        Self {
            users: rounds * (n / rounds),
            next: 0,
            batch: n / rounds,
            rounds_left: rounds,
            adaptive: false,
        }
    }

    /// A first batch of `⌈2B²⌉` users (at most `n/8`, at least 1), at most `⌈ln n⌉` rounds.
    fn adaptive(n: usize, message2: f64) -> Self {
        let batch = ((2.0 * message2).ceil().min(n.div_ceil(8) as f64) as usize).max(1);
        Self {
            users: n,
            next: 0,
            batch,
            rounds_left: ((n.max(2) as f64).ln().ceil() as usize).max(1),
            adaptive: true,
        }
    }

    /// The next round's users, `None` when every round is done.
    fn next(&mut self) -> Option<std::ops::Range<usize>> {
        if self.rounds_left == 0 || self.next >= self.users {
            return None;
        }
        self.rounds_left -= 1;
        let left = self.users - self.next;
        let take = if self.adaptive && (self.rounds_left == 0 || left < 2 * self.batch) {
            self.rounds_left = 0;
            left
        } else {
            self.batch.min(left)
        };
        let batch = self.next..self.next + take;
        self.next += take;
        Some(batch)
    }

    /// The round's averaged messages had `ratio` times the squared norm of their noise: a gradient whose
    /// signal is not at least `√2` times its noise (`ratio < 3`) doubles the next batch.
    fn observe(&mut self, ratio: f64) {
        if self.adaptive && ratio < 3.0 {
            self.batch = self.batch.saturating_mul(2);
        }
    }

    /// The users asked so far.
    fn used(&self) -> usize {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::{Schedule, secant};

    /// Runs a schedule to its end, the gradient standing above its noise in the first `signal` rounds
    /// only; returns the batch sizes.
    fn batches(mut schedule: Schedule, signal: usize) -> Vec<usize> {
        let mut sizes = Vec::new();
        while let Some(batch) = schedule.next() {
            schedule.observe(if sizes.len() < signal { 10.0 } else { 1.0 });
            sizes.push(batch.len());
        }
        sizes
    }

    #[test]
    fn the_adaptive_schedule_keeps_its_batch_while_the_gradient_stands_out_then_doubles_and_ends_with_everyone_left() {
        // n = 10 000, B² = 50: the first batch 2B² = 100, ⌈ln n⌉ = 10 rounds at most. The fourth round's
        // gradient is the first in its noise, so the fifth batch doubles; after the ninth (3200) 3400 are
        // left, fewer than twice 6400, and the tenth round takes them all.
        let sizes = batches(Schedule::adaptive(10_000, 50.0), 3);
        assert_eq!(sizes, [100, 100, 100, 100, 200, 400, 800, 1600, 3200, 3400]);
        // A gradient that always stands out keeps the batch, and round ⌈ln n⌉ takes the rest.
        let sizes = batches(Schedule::adaptive(10_000, 50.0), usize::MAX);
        assert_eq!(sizes.len(), 10);
        assert_eq!(&sizes[..9], [100; 9]);
        assert_eq!(sizes[9], 10_000 - 900);
        // The first batch is at most n/8; tiny populations still get one user a round.
        assert_eq!(batches(Schedule::adaptive(800, 1e6), 0)[0], 100);
        assert_eq!(batches(Schedule::adaptive(1, 1e6), 0), [1]);
        // Equal batches leave the remainder out.
        assert_eq!(batches(Schedule::equal(10, 3), 0), [3, 3, 3]);
    }

    #[test]
    fn the_secant_measures_a_quadratic_curvature_and_declines_to_guess_inside_the_noise() {
        // The loss ½κ‖θ‖², gradient κθ, noiseless: a step δ from θ = (1, 2, 0) by −η·g.
        let kappa = 2.5;
        let before = [1.0, 2.0, 0.0];
        let g0: Vec<f64> = before.iter().map(|v| kappa * v).collect();
        let after: Vec<f64> = before.iter().zip(&g0).map(|(t, g)| t - 0.3 * g).collect();
        let g1: Vec<f64> = after.iter().map(|v| kappa * v).collect();
        let delta: Vec<f64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
        let (measured, sd) = secant(&delta, &g1, &g0, 0.3, [1e-12, 1e-12]).unwrap();
        assert!((measured - kappa).abs() < 1e-6, "{measured}");
        let length = delta.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((sd - 2e-12f64.sqrt() / length).abs() < 1e-15, "{sd}");
        // The same step inside noise of unit variance per coordinate: no estimate.
        assert_eq!(secant(&delta, &g1, &g0, 0.3, [1.0, 1.0]), None);
        // No step, no curvature.
        assert_eq!(secant(&[0.0; 3], &g1, &g0, 0.3, [1e-12, 1e-12]), None);
    }
}
