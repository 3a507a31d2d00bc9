//! What every iterative fit reports: how many iterations it took, whether it reached its tolerance, and
//! the stopping measure it was judged by.
//!
//! One type for every family (regression, SINDy, the GP-PDE solver, the GPU's batched fits), so that a
//! caller can treat "stopped at the iteration cap" the same way everywhere. A fit that stops at its cap is
//! not an error: like scikit-learn, which warns with a `ConvergenceWarning` and returns the model, the
//! estimators return their last iterate with `converged == false`, and the caller decides (the CLI warns).

use core::fmt;

/// The quantity a fit's stopping rule measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Measure {
    /// The duality gap of a convex problem, in the objective's scaling: an upper bound on the
    /// suboptimality (the elastic net: scikit-learn's rule, tolerance `tol · ‖y − ȳ‖²/n`).
    DualityGap,
    /// The relative change of the iterate, `‖x⁺ − x‖ / ‖x⁺‖` (forward–backward, IHT).
    RelativeChange,
    /// The change of the coefficients between iterations in the estimator's own norm (SR3: `‖ΔU‖_F / ν`).
    CoefficientChange,
    /// The relative decrease of the objective between iterations.
    ObjectiveChange,
    /// The squared residual norm `‖r‖²` (OMP with a tolerance), or a relative residual.
    Residual,
    /// The largest component of the (projected) gradient of a smooth objective — least squares or ridge,
    /// where a duality gap degenerates — unscaled as `Xᵀr − n·l2·w`; its tolerance is `tol` times that
    /// gradient at `w = 0`.
    Gradient,
    /// The number of coefficients the last round removed from the support (STLSQ: 0 once it is stable).
    SupportChange,
    /// A privatized gradient's squared norm over the expected squared norm of its privacy noise (LDP-IHT's
    /// last round): about 1 once the iteration sits at its fixed point, larger while the gradient still
    /// carries a signal the rounds did not remove.
    GradientToNoise,
    /// No tolerance: a direct solve, an exhaustive search, or a fixed number of steps (OMP with a target
    /// sparsity); such a fit converges when it completes.
    Exact,
}

impl Measure {
    /// Every measure, in declaration order (an index into it names a measure in a message between
    /// processes or in a pickle).
    pub const ALL: [Measure; 9] = [
        Measure::DualityGap,
        Measure::RelativeChange,
        Measure::CoefficientChange,
        Measure::ObjectiveChange,
        Measure::Residual,
        Measure::Gradient,
        Measure::SupportChange,
        Measure::GradientToNoise,
        Measure::Exact,
    ];

    /// A short human name ("duality gap", …).
    pub fn name(self) -> &'static str {
        match self {
            Measure::DualityGap => "duality gap",
            Measure::RelativeChange => "relative change of the iterate",
            Measure::CoefficientChange => "coefficient change",
            Measure::ObjectiveChange => "relative objective change",
            Measure::Residual => "squared residual norm",
            Measure::Gradient => "largest gradient component",
            Measure::SupportChange => "terms removed in the last round",
            Measure::GradientToNoise => "privatized gradient's squared norm over its noise's",
            Measure::Exact => "exact",
        }
    }
}

/// How an iterative fit ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// Iterations performed, in the estimator's unit (coordinate-descent epochs, proximal-gradient
    /// iterations, thresholding rounds, selection steps, subsets examined, outer iterations).
    pub iterations: usize,
    /// Whether the stopping measure reached its tolerance (always `true` for [`Measure::Exact`]).
    pub converged: bool,
    /// The stopping measure.
    pub measure: Measure,
    /// Its value at the returned iterate (0 for [`Measure::Exact`]).
    pub reached: f64,
    /// The tolerance it was asked to reach, in the same scaling as `reached`.
    pub tolerance: f64,
}

impl Report {
    /// A report judged by `measure`: converged when `reached ≤ tolerance`.
    pub fn new(iterations: usize, measure: Measure, reached: f64, tolerance: f64) -> Self {
        Self {
            iterations,
            converged: reached <= tolerance,
            measure,
            reached,
            tolerance,
        }
    }

    /// The report of a direct method after `iterations` steps ([`Measure::Exact`], converged).
    pub fn exact(iterations: usize) -> Self {
        Self {
            iterations,
            converged: true,
            measure: Measure::Exact,
            reached: 0.0,
            tolerance: 0.0,
        }
    }

    /// `reached / tolerance`: below 1 when converged (0 for an exact report, ∞ for a zero tolerance not met
    /// or a NaN measure).
    pub fn excess(&self) -> f64 {
        if self.reached.is_nan() {
            f64::INFINITY
        } else if self.tolerance > 0.0 {
            self.reached / self.tolerance
        } else if self.reached <= self.tolerance {
            0.0
        } else {
            f64::INFINITY
        }
    }

    /// The report of several fits taken together (the targets of a multi-output fit, the members of an
    /// ensemble, the folds of a cross-validation): converged when all did, the most iterations of any, and
    /// the measure of the fit furthest from its tolerance. `None` for no reports.
    pub fn combine(reports: impl IntoIterator<Item = Report>) -> Option<Report> {
        reports.into_iter().reduce(|a, b| {
            let b_worse = (!b.converged, b.excess()) > (!a.converged, a.excess());
            let mut r = if b_worse { b } else { a };
            r.converged = a.converged && b.converged;
            r.iterations = a.iterations.max(b.iterations);
            r
        })
    }
}

impl fmt::Display for Report {
    /// "converged in 12 iterations (duality gap 3.1e-9 ≤ 1.0e-6)", or "stopped at 1000 iterations without
    /// converging: duality gap 2.99e-6, asked for 2.87e-6".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.measure.name();
        match (self.converged, self.measure) {
            (true, Measure::Exact) => write!(f, "completed in {} iterations", self.iterations),
            (true, _) => write!(
                f,
                "converged in {} iterations ({name} {:.2e} ≤ {:.2e})",
                self.iterations, self.reached, self.tolerance
            ),
            (false, _) => write!(
                f,
                "stopped at {} iterations without converging: {name} {:.3e}, asked for {:.3e}",
                self.iterations, self.reached, self.tolerance
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every measure is in [`Measure::ALL`], once, at its declaration index: the match below is exhaustive
    /// here (in the defining crate), so a new variant does not compile until it has its place in the list,
    /// which messages between processes and pickles index.
    #[test]
    fn all_lists_every_measure_once() {
        let index = |m: Measure| match m {
            Measure::DualityGap => 0,
            Measure::RelativeChange => 1,
            Measure::CoefficientChange => 2,
            Measure::ObjectiveChange => 3,
            Measure::Residual => 4,
            Measure::Gradient => 5,
            Measure::SupportChange => 6,
            Measure::GradientToNoise => 7,
            Measure::Exact => 8,
        };
        for (k, m) in Measure::ALL.iter().enumerate() {
            assert_eq!(index(*m), k, "{m:?}");
        }
    }
}
