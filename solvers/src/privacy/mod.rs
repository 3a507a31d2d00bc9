//! Sparse linear regression under local differential privacy (Zhu, Ding, Aggarwal, Xu & Wang, "Improved
//! Analysis of Sparse Linear Regression in Local Differential Privacy Model", ICLR 2024, arXiv 2310.07367).
//!
//! `n` users each hold one record `(x, y)`, `x ∈ ℝ^d`, from `y = ⟨x, θ*⟩ + noise` with a `k`-sparse `θ*`. No
//! record leaves its device unprotected: each device runs a randomizer of [`sparsimony_core::privacy`] and
//! sends what it returns; a server turns the messages into `θ̂`. The estimators, as the paper orders them:
//!
//! * [`NonInteractive`]: one round. Each user clips `x` coordinatewise at `τ₁` and `y` at `τ₂`, and sends
//!   `x̃x̃ᵀ` and `x̃ỹ` through the (discrete) Gaussian mechanism, each with half the budget; the server
//!   averages, conditions the covariance (its eigenvalues floored), solves and thresholds. With public
//!   unlabeled data (`(x, y, public)` in [`NonInteractive`]'s fit) the covariance comes from the public `x` without
//!   noise and the users send only `x̃ỹ`, with the whole budget. Rates: `Õ(d√k/(√n ε))`, and `√d` better
//!   with public data.
//! * [`LdpIht`]: sequentially interactive iterative hard thresholding. The users are split into disjoint
//!   batches, one per round; a user of round `t` sends the gradient `x̃(⟨x̃, θ_{t−1}⟩ − ỹ)`, clipped to an
//!   ℓ2 ball, through the ℓ2-ball randomizer of Duchi, Jordan & Wainwright (pure ε); the server averages,
//!   steps, keeps the top `k′` coordinates and projects onto the unit ball. Rate `Õ(k√d/(√n ε))` with the
//!   paper's worst-case clipping radius; the default radius `√d` (see [`LdpIht`]) makes the noise
//!   independent of `k′`.
//!
//! [`Baseline`] fits the regression module's Lasso and IHT on the same users' raw records: what a server
//! trusted with the data would reach.
//!
//! Every user sends one message (the non-interactive user two, about the same record, whose guarantees
//! compose to the stated one), so the [`LdpFit::guarantee`] holds for each user. The lower bounds are
//! `Ω(√(dk log d)/(√n ε))` (non-interactive) and `Ω(√(dk)/(√n ε))` (interactive).
//!
//! Simulation ([`Population`]) regenerates each user's record from a counter-based seed, so `n·d` need
//! never fit in memory; `simulate` methods draw each user's record and message per user, except where a
//! sum of independent (discrete) Gaussian noises is drawn at once as a Gaussian of the summed variance —
//! their distribution up to the noise's grid, thousands of times finer than σ, as their documentation
//! says.

mod baseline;
mod iht;
mod noninteractive;
mod population;
mod scale;

pub use baseline::Baseline;
pub use iht::LdpIht;
pub use noninteractive::NonInteractive;
pub use population::Population;
pub use scale::{MIN_USERS_PER_STEP, Scales, Scaling};
pub use sparsimony_core::privacy::Guarantee;

use ndarray::Array1;

use crate::regression::LinearFit;

impl crate::Fitted for LdpFit {
    fn report(&self) -> &crate::Report {
        &self.linear.report
    }
}

impl<'a> crate::Score<(ndarray::ArrayView2<'a, f64>, ndarray::ArrayView1<'a, f64>)> for LdpFit {
    /// `R²` of the linear model on `(X, y)`.
    fn score(&self, data: (ndarray::ArrayView2<'a, f64>, ndarray::ArrayView1<'a, f64>)) -> crate::Result<f64> {
        crate::Score::score(&self.linear, data)
    }
}

/// A model fitted from privatized messages.
#[derive(Debug, Clone, PartialEq)]
pub struct LdpFit {
    /// The coefficients (no intercept: the model is `y = ⟨x, θ⟩ + noise`), the server's objective and the
    /// report. `predict` and `score` work as for any linear fit.
    pub linear: LinearFit,
    /// The indices of the nonzero coefficients, in increasing order.
    pub support: Vec<usize>,
    /// The guarantee that holds for each user's record, all its messages taken together.
    pub guarantee: Guarantee,
    /// Messages each user sent.
    pub messages_per_user: usize,
    /// Users whose messages the server used.
    pub users: usize,
    /// The expected ℓ2 error that the privacy noise adds to the kept coefficients: the standard deviation
    /// of the noise in `θ̂` on its support, from the mechanisms' known variances and the numbers of users
    /// (public quantities, so stating it costs no privacy). How it is computed is each estimator's to say.
    /// When it reaches [`NOISE_WARNING`] of `‖θ̂‖`, [`LdpFit::noise_dominated`] says so. In the data's units,
    /// as `θ̂`.
    pub noise_error: f64,
    /// The scales the fit divided `x` and `y` by ([`Scales::UNIT`] when they were given), and the users
    /// spent learning them (counted in [`LdpFit::users`]). The objective is in the scaled units.
    pub scales: Scales,
}

/// The share of `‖θ̂‖` at which the privacy noise's expected error makes an estimate untrustworthy: at a
/// quarter of the coefficients' norm, the support and the signs of the smaller coefficients are in doubt.
/// (With many features the bar is higher: see [`LdpFit::noise_dominated`].)
pub const NOISE_WARNING: f64 = 0.25;

impl LdpFit {
    fn new(
        coef: Array1<f64>,
        objective: f64,
        report: crate::Report,
        guarantee: Guarantee,
        messages: usize,
        users: usize,
        noise_error: f64,
    ) -> crate::Result<Self> {
        // The privacy noise at an extreme setting (a clip of 1e100, a tiny ε) can overflow: an estimate
        // whose squared norm is not finite carries no information and is refused, never reported.
        if !coef.iter().map(|c| c * c).sum::<f64>().is_finite() || !objective.is_finite() || !noise_error.is_finite() {
            return Err(crate::Error::NonFiniteResult {
                what: "the LDP estimate",
                cause: "the privacy noise, scaled by ε and the clipping thresholds, overflowed f64; \
                        use a moderate ε and clips on the data's scale"
                    .into(),
            });
        }
        let support = coef
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != 0.0)
            .map(|(j, _)| j)
            .collect();
        Ok(Self {
            linear: LinearFit {
                coef,
                intercept: 0.0,
                objective,
                report,
            },
            support,
            guarantee,
            messages_per_user: messages,
            users,
            noise_error,
            scales: Scales::UNIT,
        })
    }

    /// The fit of data scaled by `scales` turned into the data's units: `θ = θ̂ s_y/s_x`, the noise's error
    /// likewise, the scale users counted.
    fn rescale(&mut self, scales: Scales) {
        let factor = scales.y / scales.x;
        self.linear.coef.mapv_inplace(|c| c * factor);
        self.noise_error *= factor;
        self.users += scales.users;
        self.scales = scales;
    }

    /// The coefficients `θ̂`.
    pub fn coef(&self) -> &Array1<f64> {
        &self.linear.coef
    }

    /// Whether the estimate can be trusted as far as the server can tell: the privacy noise does not
    /// dominate it ([`LdpFit::noise_dominated`]) and the iteration settled (the report converged; the
    /// one-round estimators always do).
    pub fn trusted(&self) -> bool {
        !self.noise_dominated() && self.linear.report.converged
    }

    /// Whether the privacy noise's expected error `e` ([`LdpFit::noise_error`]) is too large for `‖θ̂‖`:
    /// `‖θ̂‖ ≤ e · max(1/NOISE_WARNING, 1.5 √(2 ln(2d/k)))` for `k` kept of `d` coefficients. The second
    /// term is the selection's: the `k` largest of `d` pure-noise coefficients reach about
    /// `√(2 ln(2d/k))` standard deviations each, so without it noise alone would pass as signal at large `d`.
    /// Then the users were too few for this ε, dimension and clipping to carry the signal, and the estimate
    /// is not to be trusted. It covers the privacy noise only, not the bias of clipping thresholds set far
    /// below the data's scale.
    pub fn noise_dominated(&self) -> bool {
        let norm = self.linear.coef.iter().map(|c| c * c).sum::<f64>().sqrt();
        let d = self.linear.coef.len() as f64;
        let k = self.support.len().max(1) as f64;
        let selection = 1.5 * (2.0 * (2.0 * d / k).ln()).max(0.0).sqrt();
        let norm = norm / (1.0 / NOISE_WARNING).max(selection);
        self.noise_error.is_nan() || self.noise_error >= norm
    }
}

/// Keeps the `k` entries of largest magnitude (ties to the lower index), zeroing the rest: core's
/// [`TopK`](sparsimony_core::prox::TopK) projection. A non-finite estimate (the privacy noise overflowed at
/// an extreme setting) is left whole, for [`LdpFit::new`] to refuse with its reason.
fn keep_top_k(v: &mut [f64], k: usize) {
    use sparsimony_core::prox::{Prox, TopK};
    if v.iter().all(|x| x.is_finite()) {
        // Finite values and a unit step: the projection cannot fail.
        let _ = TopK::new(k).prox(1.0, v);
    }
}

/// The default coordinatewise clipping threshold for `n` users: `√(2 ln n)`, beyond which a standard
/// Gaussian coordinate falls with probability about `1/n` (so clipping rarely bites on unit-scale data
/// while the sensitivity grows only like `√log n`). Data of another scale should set the thresholds.
fn default_clip(n: usize) -> f64 {
    (2.0 * (n.max(3) as f64).ln()).sqrt()
}

/// The records `(x, y)` of `n ≥ 1` users with `d ≥ 1` features, checked (finite, shapes agree); `y` as a
/// vector.
fn checked_records(x: ndarray::ArrayView2<'_, f64>, y: ndarray::ArrayView1<'_, f64>) -> crate::Result<Vec<f64>> {
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return Err(crate::Error::Empty {
            what: "X",
            rows: n,
            cols: d,
        });
    }
    crate::data::check_matrix("X", x)?;
    let y = crate::data::check_vector("y (one value per row of X)", y, n)?;
    if x.iter().all(|v| *v == 0.0) {
        return Err(crate::Error::Degenerate {
            what: "X",
            reason: "is all zero: the records carry no features to regress on".into(),
        });
    }
    Ok(y)
}

pub use sparsimony_core::privacy::EPSILON_RANGE;

fn check_epsilon(epsilon: f64) -> crate::Result<()> {
    if EPSILON_RANGE.contains(&epsilon) {
        Ok(())
    } else {
        Err(crate::Error::InvalidParameter {
            name: "epsilon",
            reason: format!(
                "must lie in [{:e}, {}] (outside it the mechanisms' noise or probabilities leave their exact range), got {epsilon:?}",
                EPSILON_RANGE.start(),
                EPSILON_RANGE.end()
            ),
        })
    }
}

/// Refuses a run over `n` users whose memory — the partial sums of its pieces of [`USERS_PER_PIECE`]
/// users (`per_piece` values each, all held until they are added in order) and the server's matrices
/// (`server` values) — exceeds the library's cap ([`crate::data::MAX_BYTES`]), before anything is
/// allocated. Named `"users"` (the users and their features together set it).
fn check_memory(n: usize, d: usize, per_piece: f64, server: f64) -> crate::Result<()> {
    let pieces = n.div_ceil(USERS_PER_PIECE) as f64;
    let bytes = 8.0 * (pieces * (per_piece + 4.0) + server);
    crate::data::check_bytes(
        "users",
        bytes,
        || format!("{n} users with {d} features"),
        ": use fewer users or features",
    )
}

/// Users per piece of the servers' parallel sums (a size-only split: the same result on any number of
/// threads).
const USERS_PER_PIECE: usize = 4096;

fn check_clip(name: &'static str, clip: Option<f64>) -> crate::Result<()> {
    match clip {
        Some(c) if !(c > 0.0 && c.is_finite()) => Err(crate::Error::InvalidParameter {
            name,
            reason: format!("must be positive and finite, got {c}"),
        }),
        _ => Ok(()),
    }
}
