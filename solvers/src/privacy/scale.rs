//! The scales of `x` and `y`, learnt privately from a share of the users before a fit, so that the
//! estimators' defaults (clipping thresholds, radii, the unit ball of `θ`) hold for data in any units.

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::privacy::RandomizedResponse;

use crate::{Error, Result};

/// How a fit learns the scales of the features and of the response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scaling {
    /// The data are used in their own units: the defaults assume features and responses of unit scale.
    Given,
    /// The first `share` of the users (at least [`MIN_USERS_PER_STEP`] per round and statistic) send one
    /// randomized-response
    /// bit each, which the server turns into the scales `s_x` (one for all features: the median of
    /// `|x_j|` over the features, each user asked about feature `i mod d`) and `s_y` (the median of `|y|`),
    /// both divided by `0.6745` (the median of `|N(0, 1)|`), so a Gaussian variable comes out with its
    /// standard deviation. The remaining users are fitted on `x/s_x` and `y/s_y`, and the coefficients
    /// returned in the data's units, `θ = θ̂ s_y/s_x`.
    ///
    /// Each scale is found by a noisy bisection over quarter octaves from `2⁻⁶⁴` to `2⁶⁴` (ten rounds,
    /// disjoint users each): a user of round `r` reports whether `|v| ≥ 2^(m/4)` for the round's midpoint `m`
    /// through [`RandomizedResponse`] at the fit's ε, and the server moves towards the side holding more than
    /// half of the debiased reports. A user sends that bit and nothing else, so the fit's guarantee is
    /// unchanged.
    /// The features share one scale: data whose features come in different units should be standardised
    /// by their owner, or per-feature scales learnt at `d` times the users.
    Private {
        /// The share of the users spent on the scales, in `(0, 1)`.
        share: f64,
    },
}

impl Default for Scaling {
    /// A twentieth of the users learn the scales.
    fn default() -> Self {
        Scaling::Private { share: 0.05 }
    }
}

/// The fewest users a step of the bisection asks (so that the debiased share above the midpoint has a
/// standard deviation of at most `0.5 (e^ε + 1)/((e^ε − 1)√100)`, 0.11 at ε = 1): 18 steps need 1800 users.
pub const MIN_USERS_PER_STEP: usize = 100;

/// Bisection rounds: quarter octaves over `[−64, 64]` octaves are 513 points, 512 gaps.
const ROUNDS: usize = 9;

/// The median of `|N(0, 1)|`.
const HALF_NORMAL_MEDIAN: f64 = 0.674_489_750_196_081_7;

/// The scales a fit divides by, and the users spent on them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scales {
    /// `s_x`, in the features' units.
    pub x: f64,
    /// `s_y`, in the response's units.
    pub y: f64,
    /// The users whose reports set them (the first ones; the fit uses the others).
    pub users: usize,
}

impl Scales {
    /// No scaling and no users spent.
    pub const UNIT: Scales = Scales {
        x: 1.0,
        y: 1.0,
        users: 0,
    };
}

impl Scaling {
    /// Checks the share.
    pub(crate) fn check(&self) -> Result<()> {
        if let Scaling::Private { share } = *self
            && !(share > 0.0 && share < 1.0)
        {
            return Err(Error::InvalidParameter {
                name: "scale_share",
                reason: format!("must lie in (0, 1), got {share}"),
            });
        }
        Ok(())
    }

    /// The users this scaling spends out of `n`: `⌊share·n⌋`, at least [`MIN_USERS_PER_STEP`] per round
    /// and statistic.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] when that is more than half the users.
    pub(crate) fn users(&self, n: usize) -> Result<usize> {
        match *self {
            Scaling::Given => Ok(0),
            Scaling::Private { share } => {
                let least = 2 * ROUNDS * MIN_USERS_PER_STEP;
                let spent = ((share * n as f64) as usize).max(least);
                if 2 * spent > n {
                    return Err(Error::InvalidParameter {
                        name: "users",
                        reason: format!(
                            "{n} users are too few to learn the data's scales privately ({least} of them at least, \
                             and no more than half): give the scales (Scaling::Given, --scale given) with the data \
                             in units where features and response are of order 1"
                        ),
                    });
                }
                Ok(spent)
            }
        }
    }

    /// The scales from the first [`Scaling::users`] users, user `i`'s record given by `record(i, x) -> y`
    /// and its bit randomized by ChaCha8 stream `i` of `seed` at `epsilon`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] as [`Scaling::users`] and for an ε outside the randomizers' range.
    pub(crate) fn learn(
        &self,
        n: usize,
        d: usize,
        epsilon: f64,
        seed: u64,
        record: impl Fn(usize, &mut [f64]) -> f64,
    ) -> Result<Scales> {
        let spent = self.users(n)?;
        if spent == 0 {
            return Ok(Scales::UNIT);
        }
        let rr = RandomizedResponse::new(epsilon)?;
        // Each statistic's bracket, in quarter octaves: the median of |v| lies in [2^(lo/4), 2^(hi/4)].
        let mut bracket = [(-256i32, 256i32); 2];
        let mut row = vec![0.0; d];
        let per_round = spent / ROUNDS;
        for round in 0..ROUNDS {
            let mids = bracket.map(|(lo, hi)| lo + (hi - lo) / 2);
            let (mut sums, mut counts) = ([0.0f64; 2], [0usize; 2]);
            for i in round * per_round..(round + 1) * per_round {
                let y = record(i, &mut row);
                // Even users report on x (feature i/2 mod d), odd ones on y.
                let which = i % 2;
                let v = if which == 0 { row[(i / 2) % d] } else { y };
                let above = v.abs() >= quarter_octave(mids[which]);
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(i as u64);
                sums[which] += rr.debias(rr.privatize(above, &mut rng));
                counts[which] += 1;
            }
            for s in 0..2 {
                let (lo, hi) = bracket[s];
                if counts[s] > 0 && hi - lo > 1 {
                    bracket[s] = if sums[s] / counts[s] as f64 > 0.5 {
                        (mids[s], hi)
                    } else {
                        (lo, mids[s])
                    };
                }
            }
        }
        // A median at the bottom of the range is a zero median (most entries exactly 0, as in sparse or
        // one-hot data): no scale to divide by.
        if let Some(s) = (0..2).find(|&s| bracket[s].0 == -256) {
            return Err(Error::Degenerate {
                what: if s == 0 { "x" } else { "y" },
                reason: "the median of |value| the users report is 0 (mostly zeros): its scale cannot be learnt \
                         from medians; give the scales (Scaling::Given, --scale given) with data of unit scale"
                    .into(),
            });
        }
        let [x, y] = bracket.map(|(lo, hi)| quarter_octave(lo + hi).sqrt() / HALF_NORMAL_MEDIAN);
        Ok(Scales { x, y, users: spent })
    }
}

/// `2^(q/4)`.
fn quarter_octave(q: i32) -> f64 {
    (f64::from(q) / 4.0).exp2()
}
