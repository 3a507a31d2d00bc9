//! The image prior of the calibration: the faint part `ε` of the image `x = x_o + ε` is non-negative,
//! zero where the known bright sources are, and sparse — in the pixel basis (ℓ1) or in the SARA
//! dictionary (`‖Ψ†ε‖₁`).

use std::sync::Mutex;

use sparsimony_core::forward_backward::{self, FbState};
use sparsimony_core::prox::BoxConstraint;
use sparsimony_core::{Acceleration, FbOptions, LinearOperator, Prox, Smooth, StepSize};

use super::checks::check_memory;
use super::sara::Sara;
use crate::error::Result;

/// The sparsity prior `R(ε)` of the faint part, weighted by [`SelfCalibration::eta`](super::SelfCalibration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Prior {
    /// `R(ε) = ‖ε‖₁`: point-like faint sources (the paper's random images; `η` = 1e-4 there). Its
    /// proximal map is exact: one-sided soft thresholding.
    L1,
    /// `R(ε) = ‖Ψ†ε‖₁` with `Ψ` the [`Sara`] dictionary (Dirac and Daubechies 1–8, normalised to a tight
    /// frame): extended emission (the paper's M31 run; `η` = 1e-2 there). Its proximal map has no closed
    /// form and is computed by an inner dual forward–backward, warm-started from the last call.
    Sara {
        /// Wavelet levels (the paper: 4).
        levels: usize,
        /// Inner iterations at most per proximal map (the paper's code: 200).
        max_iter: usize,
        /// The inner loop stops when the primal iterate changes by less than this, relative (1e-4).
        tol: f64,
    },
}

impl Prior {
    /// The weight `η` the paper uses with this prior: 1e-4 for ℓ1, 1e-2 for SARA.
    pub fn paper_eta(self) -> f64 {
        match self {
            Prior::L1 => 1e-4,
            Prior::Sara { .. } => 1e-2,
        }
    }

    /// SARA with the paper's settings: 4 levels, at most 200 inner iterations, tolerance 1e-4.
    pub fn sara() -> Self {
        Prior::Sara {
            levels: 4,
            max_iter: 200,
            tol: 1e-4,
        }
    }
}

impl Prior {
    /// The priors' names (CLI `--prior`), as [`Display`](std::fmt::Display) writes them.
    pub const NAMES: [&'static str; 2] = ["l1", "sara"];
}

impl std::fmt::Display for Prior {
    /// The prior's name (SARA's settings are not part of it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Prior::L1 => "l1",
            Prior::Sara { .. } => "sara",
        })
    }
}

impl std::str::FromStr for Prior {
    type Err = crate::Error;

    /// A prior by its name (one of [`Prior::NAMES`]); `sara` with the paper's settings ([`Prior::sara`]).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) (`"prior"`) naming the choices.
    fn from_str(name: &str) -> Result<Self> {
        match name {
            "l1" => Ok(Prior::L1),
            "sara" => Ok(Prior::sara()),
            other => Err(crate::error::unknown_name("prior", other, &Prior::NAMES)),
        }
    }
}

/// The dual iterate and buffers of SARA's proximal map, kept between calls.
struct SaraWork {
    psi: Sara,
    max_iter: usize,
    tol: f64,
    /// The dual variable `d` (one value per coefficient), warm start of the next call.
    dual: Vec<f64>,
    /// The forward–backward driver's scratch for [`SaraDual`].
    driver: Vec<f64>,
    /// The point `v` whose proximal map is computed.
    input: Vec<f64>,
    /// The primal iterate `z = P_C(v − Ψd)` at the current and the previous dual iterate.
    image: Vec<f64>,
    previous: Vec<f64>,
    /// `Ψ†z` for [`Prox::value`], and the dictionary's scratch outside the driver.
    coefficients: Vec<f64>,
    scratch: Vec<f64>,
}

/// The dual of SARA's proximal problem `argmin_z ½‖z − v‖² + t‖Ψ†z‖₁ + ι_C(z)` without its constraint
/// `‖d‖∞ ≤ t`: `f(d) = ½‖w‖² − ½‖w − P_C(w)‖²` with `w = v − Ψd`, whose gradient `−Ψ†P_C(w)` is
/// 1-Lipschitz (`Ψ` is a tight frame, `‖Ψ‖ = 1`). At its minimiser over the box, `z = P_C(v − Ψd)` is the
/// proximal point (Combettes, Dũng & Vũ 2010).
struct SaraDual<'a> {
    psi: &'a Sara,
    input: &'a [f64],
    known: &'a [bool],
}

impl SaraDual<'_> {
    /// `Ψd` in `image` becomes `z = P_C(v − Ψd)`; returns `f(d)`.
    fn primal_in_place(&self, image: &mut [f64]) -> f64 {
        let mut value = 0.0;
        for ((z, &v), &known) in image.iter_mut().zip(self.input).zip(self.known) {
            let w = v - *z;
            *z = if known { 0.0 } else { w.max(0.0) };
            value += 0.5 * (w * w - (w - *z) * (w - *z));
        }
        value
    }

    /// `z = P_C(v − Ψd)` into `image`.
    fn primal(&self, d: &[f64], image: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        self.psi.apply_adjoint(d, image, scratch)?;
        self.primal_in_place(image);
        Ok(())
    }
}

impl Smooth<f64> for SaraDual<'_> {
    fn dim(&self) -> usize {
        self.psi.nrows()
    }
    fn scratch_len(&self) -> usize {
        self.psi.ncols() + self.psi.scratch_len()
    }
    fn value(&self, d: &[f64], scratch: &mut [f64]) -> sparsimony_core::Result<f64> {
        let (image, scratch) = scratch.split_at_mut(self.psi.ncols().min(scratch.len()));
        self.psi.apply_adjoint(d, image, scratch)?;
        Ok(self.primal_in_place(image))
    }
    fn value_grad(&self, d: &[f64], grad: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<f64> {
        let (image, scratch) = scratch.split_at_mut(self.psi.ncols().min(scratch.len()));
        self.psi.apply_adjoint(d, image, scratch)?;
        let value = self.primal_in_place(image);
        self.psi.apply(image, grad, scratch)?;
        grad.iter_mut().for_each(|g| *g = -*g);
        Ok(value)
    }
}

/// `g(ε) = η R(ε) + ι{ε ≥ 0} + ι{ε = 0 on the known sources' pixels}`.
pub(crate) struct FaintPrior {
    eta: f64,
    /// `true` on the pixels of the known (bright) sources.
    known: Vec<bool>,
    sara: Option<Mutex<SaraWork>>,
}

impl FaintPrior {
    /// The prior of an `n × n` image with the given known pixels.
    pub(crate) fn new(prior: Prior, eta: f64, n: usize, known: Vec<bool>) -> Result<Self> {
        match prior {
            Prior::L1 => Ok(Self { eta, known, sara: None }),
            Prior::Sara { levels, max_iter, tol } => {
                Self::with_dictionary(Sara::new(n, levels)?, max_iter, tol, eta, known)
            }
        }
    }

    /// `η‖Ψ†ε‖₁` and the constraints for a given dictionary `Ψ`, its proximal map run for at most
    /// `max_iter` dual iterations to the relative change `tol`.
    fn with_dictionary(psi: Sara, max_iter: usize, tol: f64, eta: f64, known: Vec<bool>) -> Result<Self> {
        let (rows, cols) = (psi.nrows(), psi.ncols());
        // Refused before allocating: five coefficient vectors (the dual, the driver's three, `Ψ†z`), four
        // images (the driver's, `v` and two primal iterates) and the analysis scratch twice.
        let bytes = 8 * (5 * rows as u128 + 2 * psi.scratch_len() as u128 + 4 * cols as u128);
        check_memory(
            "image_size",
            bytes,
            || format!("the SARA prior of a {}² image", psi.image_size()),
            || "coefficients and buffers".into(),
        )?;
        let work = SaraWork {
            max_iter,
            tol,
            dual: vec![0.0; rows],
            driver: vec![0.0; 3 * rows + cols + psi.scratch_len()],
            input: vec![0.0; cols],
            image: vec![0.0; cols],
            previous: vec![0.0; cols],
            coefficients: vec![0.0; rows],
            scratch: vec![0.0; psi.scratch_len()],
            psi,
        };
        Ok(Self {
            eta,
            known,
            sara: Some(Mutex::new(work)),
        })
    }

    /// `η` where the prior is ℓ1 (then `η Σ ε` on the feasible set, linear), `None` for SARA.
    pub(crate) fn l1_weight(&self) -> Option<f64> {
        self.sara.is_none().then_some(self.eta)
    }

    /// Projects onto the constraints: zero on the known pixels, non-negative elsewhere.
    pub(crate) fn project(&self, x: &mut [f64]) {
        for (v, &known) in x.iter_mut().zip(&self.known) {
            *v = if known { 0.0 } else { v.max(0.0) };
        }
    }

    fn check_len(&self, len: usize) -> sparsimony_core::Result<()> {
        if len == self.known.len() {
            Ok(())
        } else {
            Err(sparsimony_core::Error::DimensionMismatch {
                what: "image pixels against the known-source mask",
                expected: self.known.len(),
                found: len,
            })
        }
    }
}

impl Prox<f64> for FaintPrior {
    /// ℓ1: one-sided soft thresholding off the known pixels, zero on them. SARA: the proximal map
    /// `argmin_z ½‖z − v‖² + t‖Ψ†z‖₁ + ι_C(z)`, `t = step · η`, by core's forward–backward driver on its
    /// dual ([`SaraDual`]; Combettes, Dũng & Vũ 2010): at the extrapolated dual point `y`,
    /// `z = P_C(v − Ψy)` and `d⁺ = clip_[−t, t](y + Ψ†z)` — a gradient step of size 1 = 1/‖Ψ‖² — with
    /// FISTA's momentum and adaptive restart, stopping when `z` changes by less than `tol`, relative;
    /// `z` is always feasible.
    fn prox(&self, step: f64, x: &mut [f64]) -> sparsimony_core::Result<()> {
        self.check_len(x.len())?;
        let t = step * self.eta;
        if !(step > 0.0 && t.is_finite()) {
            return Err(sparsimony_core::Error::InvalidParameter {
                name: "step",
                reason: "must be positive, and its product with η finite",
            });
        }
        if let Some(index) = x.iter().position(|v| !v.is_finite()) {
            return Err(sparsimony_core::Error::NonFinite {
                what: "image given to the prior's proximal map",
                index,
            });
        }
        let Some(work) = &self.sara else {
            for (v, &known) in x.iter_mut().zip(&self.known) {
                *v = if known { 0.0 } else { (*v - t).max(0.0) };
            }
            return Ok(());
        };
        // A panic elsewhere cannot leave the buffers invalid (each call overwrites them): ignore poisoning.
        let mut guard = work.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let w = &mut *guard;
        w.input.copy_from_slice(x);
        let dual = SaraDual {
            psi: &w.psi,
            input: &w.input,
            known: &self.known,
        };
        let ball = BoxConstraint::new(-t, t)?;
        ball.prox(1.0, &mut w.dual)?;
        // The stop is on the primal iterate: the criterion follows z from one dual iterate to the next.
        dual.primal(&w.dual, &mut w.previous, &mut w.scratch)?;
        let (image, previous, scratch, tol) = (&mut w.image, &mut w.previous, &mut w.scratch, w.tol);
        let mut failed = None;
        let mut settled = |state: &FbState<'_, f64>| match dual.primal(state.x, image, scratch) {
            Ok(()) => {
                let change: f64 = image.iter().zip(previous.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
                let size: f64 = image.iter().map(|a| a * a).sum();
                std::mem::swap(image, previous);
                change <= tol * tol * size
            }
            Err(e) => {
                failed = Some(e);
                true
            }
        };
        let options = FbOptions {
            max_iter: w.max_iter,
            tol: 0.0,
            acceleration: Acceleration::FistaRestart,
            step: StepSize::Lipschitz(1.0),
        };
        forward_backward::minimize(&dual, &ball, &mut w.dual, &options, &mut w.driver, Some(&mut settled))?;
        if let Some(e) = failed {
            return Err(e);
        }
        // `previous` holds z at the last dual iterate (the criterion runs after every iteration).
        x.copy_from_slice(&w.previous);
        Ok(())
    }

    fn value(&self, x: &[f64]) -> sparsimony_core::Result<f64> {
        self.check_len(x.len())?;
        if x.iter()
            .zip(&self.known)
            .any(|(&v, &known)| v < 0.0 || (known && v != 0.0))
        {
            return Ok(f64::INFINITY);
        }
        let Some(work) = &self.sara else {
            return Ok(self.eta * x.iter().sum::<f64>());
        };
        // A panic elsewhere cannot leave the buffers invalid (each call overwrites them): ignore poisoning.
        let mut guard = work.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let w = &mut *guard;
        w.psi.apply(x, &mut w.coefficients, &mut w.scratch)?;
        Ok(self.eta * w.coefficients.iter().map(|c| c.abs()).sum::<f64>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;
    use sparsimony_core::random::standard_normal;

    fn objective(prior: &FaintPrior, t: f64, v: &[f64], z: &[f64]) -> f64 {
        let dist: f64 = z.iter().zip(v).map(|(a, b)| (a - b) * (a - b)).sum();
        0.5 * dist + t / prior.eta * prior.value(z).unwrap()
    }

    fn random(len: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..len).map(|_| standard_normal(&mut rng)).collect()
    }

    #[test]
    fn warm_started_sara_prox_at_the_default_settings_matches_a_cold_tight_solve() {
        let n = 32;
        let known = vec![false; n * n];
        let warm = FaintPrior::new(Prior::sara(), 0.3, n, known.clone()).unwrap();
        let tight = Prior::Sara {
            levels: 4,
            max_iter: 20_000,
            tol: 1e-12,
        };
        // Calls at different points and steps, as the image block makes them.
        for (seed, step) in [(1, 0.5), (2, 0.2), (3, 0.8)] {
            let v = random(n * n, seed);
            let mut z = v.clone();
            warm.prox(step, &mut z).unwrap();
            let cold = FaintPrior::new(tight, 0.3, n, known.clone()).unwrap();
            let mut exact = v.clone();
            cold.prox(step, &mut exact).unwrap();
            let err: f64 = z.iter().zip(&exact).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
            let size: f64 = exact.iter().map(|a| a * a).sum::<f64>().sqrt();
            // The stop on a relative change of 1e-4 leaves an error of a few 1e-3 (2e-3 at step 0.8).
            assert!(err < 5e-3 * size, "step {step}: ‖z − z*‖/‖z*‖ = {:e}", err / size);
        }
    }

    #[test]
    fn a_sara_prior_beyond_memory_is_refused_before_allocating() {
        match FaintPrior::new(Prior::sara(), 1e-2, 40_000, Vec::new()) {
            Err(crate::Error::InvalidParameter { name, reason }) => {
                assert_eq!(name, "image_size");
                assert!(reason.contains("GiB"), "{reason}");
            }
            Ok(_) => panic!("a 40 000² SARA prior was allocated"),
            Err(other) => panic!("wrong error: {other:?}"),
        }
    }

    #[test]
    fn sara_prox_is_the_minimiser() {
        let n = 24;
        let mut known = vec![false; n * n];
        known[5 * n + 7] = true;
        known[12 * n + 3] = true;
        let prior = FaintPrior::new(
            Prior::Sara {
                levels: 3,
                max_iter: 5000,
                tol: 1e-10,
            },
            0.3,
            n,
            known.clone(),
        )
        .unwrap();
        let v = random(n * n, 3);
        let mut z = v.clone();
        let step = 0.5;
        prior.prox(step, &mut z).unwrap();
        let t = step * prior.eta;
        let at = objective(&prior, t, &v, &z);
        assert!(at.is_finite(), "the prox is feasible");
        // Against random feasible perturbations of every size: the objective is 1-strongly convex, so at
        // its minimiser F(w) ≥ F(z) + ½‖w − z‖² (a quarter of it asked, for the iteration's residual).
        for (k, scale) in [1e-1, 1e-2, 1e-3, 1e-4].into_iter().enumerate() {
            for s in 0..20 {
                let d = random(n * n, 100 + 20 * k as u64 + s);
                let mut w: Vec<f64> = z.iter().zip(&d).map(|(a, b)| a + scale * b).collect();
                prior.project(&mut w);
                let there = objective(&prior, t, &v, &w);
                let dist2: f64 = w.iter().zip(&z).map(|(a, b)| (a - b) * (a - b)).sum();
                assert!(
                    there >= at + 0.25 * dist2 - 1e-12 * at.abs(),
                    "a perturbation of {scale}: {there} < {at} + ¼‖w − z‖²"
                );
            }
        }
        // With the Dirac basis alone (Ψ = I) the dual iteration gives one-sided soft thresholding.
        let psi = Sara::with_bases(n, 1, vec![super::super::sara::Basis::Dirac]).unwrap();
        let dirac = FaintPrior::with_dictionary(psi, 100, 1e-14, 0.3, known.clone()).unwrap();
        let exact = FaintPrior::new(Prior::L1, 0.3, n, known).unwrap();
        let (mut a, mut b) = (v.clone(), v.clone());
        dirac.prox(step, &mut a).unwrap();
        exact.prox(step, &mut b).unwrap();
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-12, "dual iteration against soft thresholding: {worst:e}");
    }
}
