//! Joint imaging and DDE calibration by block-coordinate forward–backward (Repetti, Birdi, Dabbech &
//! Wiaux 2017, Algorithm 1): the DDE block (each antenna's kernel in parallel, first copy then second)
//! and the image block (forward–backward on core's driver), alternated while the criterion falls.

use std::time::Instant;

use ndarray::Array2;
use rustfft::num_complex::Complex64;
use sparsimony_core::forward_backward::{Acceleration, FbOptions, StepSize, minimize};
use sparsimony_core::{LeastSquares, LinearOperator, Measure, Prox, Report, Smooth};

use super::antenna::{Bounds, antenna_system};
use super::dde::Ddes;
use super::observation::Observation;
use super::operator::{Measurement, ordered_data, unpack_complex};
use super::prior::{FaintPrior, Prior};
use super::sky::{Known, KnownSky};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::{Estimator, Fitted};

/// Self-calibration of direction-dependent effects jointly with imaging (Repetti et al., MNRAS 470, 2017).
///
/// The image is `x = x_o + ε`: `x_o` the bright sources, known; `ε ≥ 0` the unknown faint part, zero on
/// the known sources' pixels. Each antenna `α` has two copies `u₁_α`, `u₂_α` of its `S × S` DDE kernel
/// (see [`Ddes`]); the criterion minimised is
///
/// `J = ¼ Σ_rows |y_r − (Φ(U₁, U₂) x)_r|² + (ν/2) Σ_α ‖u₁_α − u₂_α‖² + η R(ε)`
///
/// (`R` the [`Prior`]: `‖ε‖₁`, or `‖Ψ†ε‖₁` in the SARA dictionary) subject to `ε ≥ 0` and box
/// constraints on the kernels' real and imaginary parts, where the rows are both orientations of every
/// visibility ([`Measurement`]), so the data term is `½‖y − Φx‖²` over the measured visibilities
/// when `U₁ = U₂` — the paper's scaling, in which its `η` applies.
///
/// The algorithm alternates two blocks, each of which lowers `J`, so `J` falls monotonically:
/// * **DDEs**: for each antenna in parallel, the kernel of one copy minimises the box-constrained
///   quadratic `¼‖y_α − H_α u‖² + (ν/2)‖u − u_other‖²` (linear in `u` once the image and the other copy
///   are fixed) by accelerated projected gradient on its `S² × S²` Gram matrix — the paper's inner
///   forward–backward steps, run to convergence since they cost `O(S⁴)` each — first `U₁`, then `U₂`,
///   then the copies' mean where it lowers `J` (StEFCal's averaging); sweeps repeat until the kernels
///   change by less than `dde_tol` (the paper's `JUtot` cycles);
/// * **image**: forward–backward (FISTA with restart, step `1/L`, `L = ½‖Φ‖²` by power iteration) on `ε`,
///   kept only where it lowers the block objective.
///
/// After each outer iteration, a step along the last one (`state + β(state − previous)`, projected onto
/// the constraints; Ang & Gillis 2019's adaptive extrapolation for alternating fits) is kept where it
/// lowers `J`, with `β` grown after a success and halved after a failure. In the DDE stage, up to
/// `joint_steps` joint Levenberg–Marquardt steps over every antenna's kernels and the faint image's
/// support follow (see the `joint` module: the alternation alone crawls along the valley in which a screen
/// common to the antennas trades against the faint flux), each kept only where it lowers `J`.
///
/// Two stages, as in the paper: direction-independent gains (`S = 1`) from constant gains of the
/// amplitude the data imply, then the DDEs (`S = dde_size`) started from those gains, with the faint
/// part restarted from zero when the DIE stage's is weak (`faint_restart`). The outer loop of a stage
/// stops when `J`'s relative decrease falls below `tol`.
///
/// The box bounds come from the data and a stated prior, never from a truth: `ĝ`, the gain amplitude
/// that best explains `|y|` by the bright sources' visibilities (`ĝ² = Σ|y||v_o| / Σ|v_o|²`), bounds each
/// part of a centre tap by `gain_bound · ĝ` and each part of an off-centre tap by `offcentre_bound · ĝ`.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfCalibration {
    /// The sparsity prior `R` of the faint part (default [`Prior::L1`]).
    pub prior: Prior,
    /// `η`, the weight of the prior (default 1e-4, the paper's for ℓ1; the paper uses 1e-2 with SARA,
    /// which the default does not switch to: set it with the prior, e.g. to [`Prior::paper_eta`]).
    pub eta: f64,
    /// The DDE kernels' side `S` (odd; the paper: 5, and 9 for its M31 case).
    pub dde_size: usize,
    /// `ν` of the direction-independent stage (2000).
    pub die_nu: f64,
    /// `ν` of the direction-dependent stage (1000).
    pub dde_nu: f64,
    /// Outer iterations at most, direction-independent stage (10).
    pub die_max_outer: usize,
    /// Outer iterations at most, direction-dependent stage (100).
    pub dde_max_outer: usize,
    /// `U₁`-then-`U₂` sweeps of the DDE block per outer iteration at most, direction-independent stage
    /// (100; the paper's `JUtot` of that stage).
    pub die_sweeps: usize,
    /// The same for the direction-dependent stage (10, the paper's; each sweep costs `O(rows · S⁴)`).
    pub dde_sweeps: usize,
    /// The DDE block stops sweeping once a sweep changes the kernels by less than this, relative (1e-5).
    pub dde_tol: f64,
    /// Projected-gradient iterations at most per antenna and sweep (200).
    pub dde_inner: usize,
    /// Forward–backward iterations at most per image block (1000).
    pub image_max_iter: usize,
    /// The image block's tolerance on the relative change of `ε` (1e-5).
    pub image_tol: f64,
    /// The outer loop's tolerance on the relative decrease of `J` (2e-2).
    pub tol: f64,
    /// The box of the centre taps' real and imaginary parts, in units of `ĝ` (2).
    pub gain_bound: f64,
    /// The box of the off-centre taps' real and imaginary parts, in units of `ĝ` (0.2).
    pub offcentre_bound: f64,
    /// The DDE stage restarts the faint part from zero when its visibilities under the DIE gains are
    /// below this fraction of the bright sources' (0.6, the authors' `p_min`): the DIE stage's faint
    /// image then holds mostly the direction-dependent errors it could not model.
    pub faint_restart: f64,
    /// Joint Levenberg–Marquardt steps over every antenna's kernels and the faint image's support at
    /// most per outer iteration of the direction-dependent stage (5; 0 turns them off and gives the
    /// paper's alternation alone): they move along the valley in which a screen common to the antennas
    /// trades against the faint flux, which the alternation of the two blocks crawls along. Each
    /// linearises at the copies' mean and leaves `U₁ = U₂`; with SARA only the kernels move. On the
    /// paper's simulation they close much of the gap to the true-DDE limit (n_a = 200: 27.3 dB against
    /// 21.7 without, limit 28.8) in less time overall, though they take most of each outer iteration.
    pub joint_steps: usize,
    /// Called after each outer iteration, with `J`.
    pub progress: Progress,
}

impl Default for SelfCalibration {
    fn default() -> Self {
        Self {
            prior: Prior::L1,
            eta: 1e-4,
            dde_size: 5,
            die_nu: 2000.0,
            dde_nu: 1000.0,
            die_max_outer: 10,
            dde_max_outer: 100,
            die_sweeps: 100,
            dde_sweeps: 10,
            dde_tol: 1e-5,
            dde_inner: 200,
            image_max_iter: 1000,
            image_tol: 1e-5,
            tol: 2e-2,
            gain_bound: 2.0,
            offcentre_bound: 0.2,
            faint_restart: 0.6,
            joint_steps: 5,
            progress: Progress::default(),
        }
    }
}

/// The stage an outer iteration belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Direction-independent gains (`S = 1`).
    Die,
    /// Direction-dependent kernels (`S = dde_size`).
    Dde,
}

/// One outer iteration of a [`SelfCalibration`] fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outer {
    /// Its stage.
    pub stage: Stage,
    /// The criterion `J` after it.
    pub criterion: f64,
    /// Its data term `¼ Σ_rows |y − Φx|²`.
    pub data: f64,
    /// Image-block iterations it ran.
    pub image_iterations: usize,
    /// Joint steps it kept ([`SelfCalibration::joint_steps`]; 0 in the direction-independent stage).
    pub joint_steps: usize,
    /// Seconds since the fit started.
    pub seconds: f64,
}

/// An image with the DDEs it was made with.
#[derive(Debug, Clone)]
pub struct SelfCalibrated {
    /// The image `x = x_o + ε` (`N × N`, row-major: rows are `v`; Jy/pixel). Known point sources are
    /// drawn on their nearest pixel (those outside the image left out); the fit used their exact
    /// positions.
    pub image: Array2<f64>,
    /// Its faint part `ε`.
    pub faint: Array2<f64>,
    /// The direction-independent gains of the first stage (`S = 1`; the fixed DDEs for
    /// [`SelfCalibration::image`]).
    pub die: Ddes,
    /// The faint part at the end of the direction-independent stage (`ε` of [`SelfCalibration::image`]).
    pub die_faint: Array2<f64>,
    /// The kernels' two copies `U₁`, `U₂` at the end.
    pub ddes: [Ddes; 2],
    /// The criterion after each outer iteration (empty for [`SelfCalibration::image`]).
    pub history: Vec<Outer>,
    /// The gain amplitude `ĝ` the boxes were scaled by.
    pub gain_scale: f64,
    /// Seconds spent in the image blocks (power iterations included), in the DDE blocks and in the joint
    /// steps.
    pub seconds: [f64; 3],
    /// Outer iterations; converged when the last stage's relative decrease of `J` fell below `tol`
    /// ([`Measure::ObjectiveChange`]). For [`SelfCalibration::image`], the image block's own report.
    pub report: Report,
}

/// The calibration's fixed inputs.
pub(super) struct Problem<'a> {
    pub(super) observation: &'a Observation,
    pub(super) data: Vec<f64>,
    pub(super) known: Known,
    pub(super) prior: FaintPrior,
}

/// The DDE copies, the faint image and the operator they define.
pub(super) struct State {
    pub(super) u: [Ddes; 2],
    pub(super) eps: Vec<f64>,
    pub(super) op: Measurement,
}

impl<'a, K: Into<KnownSky<'a>>> Estimator<(&Observation, K)> for SelfCalibration {
    type Fitted = SelfCalibrated;

    /// Self-calibrates `observation` given the known bright sources `x_o` ([`KnownSky`]: an `N × N`
    /// image, or point sources anywhere): the direction-independent stage, then the direction-dependent
    /// one.
    ///
    /// # Errors
    /// The observation's defects ([`Observation::validate`] at `dde_size`), a bright image of another
    /// size or with a non-finite pixel, an empty source list or a non-finite source, settings out of
    /// range, and [`Error::Singular`] when the bright sources' visibilities are all zero (nothing to
    /// calibrate on).
    fn fit(&self, (observation, known): (&Observation, K)) -> Result<SelfCalibrated> {
        self.check(observation)?;
        let started = Instant::now();
        let problem = self.problem(observation, known.into())?;
        let (na, nt) = (observation.n_antennas, observation.n_times);
        let gain = gain_scale(&problem)?;
        let bounds = Bounds {
            centre: self.gain_bound * gain,
            other: self.offcentre_bound * gain,
        };
        let die = Ddes::constant(1, na, nt, Complex64::new(gain, 0.0))?;
        let op = Measurement::new(observation, &die, &die)?;
        let mut state = State {
            u: [die.clone(), die],
            eps: vec![0.0; observation.image_size * observation.image_size],
            op,
        };
        let counter = self.progress.counter(
            "self-calibration",
            self.die_max_outer.saturating_add(self.dde_max_outer),
        );
        let mut history = Vec::new();
        let mut seconds = [0.0; 3];
        let mut last = (0, 0.0);
        let mut die_gains = state.u[0].clone();
        let mut die_faint = Vec::new();
        for stage in [Stage::Die, Stage::Dde] {
            let (nu, max_outer, sweeps) = match stage {
                Stage::Die => (self.die_nu, self.die_max_outer, self.die_sweeps),
                Stage::Dde => (self.dde_nu, self.dde_max_outer, self.dde_sweeps),
            };
            if stage == Stage::Dde {
                die_gains = state.u[0].clone();
                die_faint = state.eps.clone();
                let restart = self.restarts_faint(&problem, &state)?;
                let u1 = Ddes::from_die(&state.u[0], self.dde_size)?;
                let u2 = Ddes::from_die(&state.u[1], self.dde_size)?;
                state.op = Measurement::new(observation, &u1, &u2)?;
                state.u = [u1, u2];
                if restart {
                    state.eps.fill(0.0);
                }
            }
            let mut previous = self.criterion(&problem, &state, nu)?.0;
            let mut decrease = f64::INFINITY;
            let mut done = 0;
            let mut momentum = 0.5;
            let mut damping = 1e-3;
            while done < max_outer && decrease > self.tol {
                let t0 = Instant::now();
                let block_start = (state.u.clone(), state.eps.clone());
                self.dde_block(&problem, &mut state, nu, sweeps, &bounds)?;
                let t1 = Instant::now();
                let iterations = self.image_block(&problem, &mut state)?.iterations;
                seconds[0] += t1.elapsed().as_secs_f64();
                seconds[1] += (t1 - t0).as_secs_f64();
                let (mut criterion, mut data) = self.criterion(&problem, &state, nu)?;
                // Safeguarded extrapolation along the last outer step (Ang & Gillis 2019's scheme for
                // alternating fits): tried, and kept only where it lowers J, so J stays monotone.
                if done > 0 {
                    let tried = self.extrapolate(&problem, &mut state, &block_start, momentum, &bounds, nu)?;
                    if let Some((c, d)) = tried.filter(|&(c, _)| c < criterion) {
                        (criterion, data) = (c, d);
                        momentum = (momentum * 1.5).min(1.0);
                    } else {
                        momentum *= 0.5;
                    }
                }
                let mut joint = 0;
                if stage == Stage::Dde && self.joint_steps > 0 {
                    let t2 = Instant::now();
                    let by_first = rows_by_first(&state.op, na, nt);
                    let bn = (nu, &bounds);
                    joint = self.joint_lm(&problem, &mut state, bn, &by_first, self.joint_steps, &mut damping)?;
                    if joint > 0 {
                        (criterion, data) = self.criterion(&problem, &state, nu)?;
                    }
                    seconds[2] += t2.elapsed().as_secs_f64();
                }
                decrease = (previous - criterion) / previous.abs().max(f64::MIN_POSITIVE);
                previous = criterion;
                done += 1;
                history.push(Outer {
                    stage,
                    criterion,
                    data,
                    image_iterations: iterations,
                    joint_steps: joint,
                    seconds: started.elapsed().as_secs_f64(),
                });
                counter.step(Some(criterion));
            }
            last = (last.0 + done, decrease);
        }
        let report = Report::new(last.0, Measure::ObjectiveChange, last.1.max(0.0), self.tol);
        Ok(self.finish(&problem, state, (die_gains, die_faint), history, gain, seconds, report))
    }
}

impl Fitted for SelfCalibrated {
    fn report(&self) -> &Report {
        &self.report
    }
}

impl SelfCalibration {
    fn check(&self, observation: &Observation) -> Result<()> {
        let bad = |name: &'static str, reason: &str| {
            Err(Error::InvalidParameter {
                name,
                reason: reason.into(),
            })
        };
        for (name, v) in [
            ("eta", self.eta),
            ("die_nu", self.die_nu),
            ("dde_nu", self.dde_nu),
            ("image_tol", self.image_tol),
            ("dde_tol", self.dde_tol),
            ("faint_restart", self.faint_restart),
            ("tol", self.tol),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return bad(name, "must be non-negative and finite");
            }
        }
        for (name, v) in [
            ("gain_bound", self.gain_bound),
            ("offcentre_bound", self.offcentre_bound),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return bad(name, "must be positive and finite");
            }
        }
        if let Prior::Sara { max_iter, tol, .. } = self.prior {
            if max_iter == 0 {
                return bad("prior", "SARA's inner iterations must be at least 1");
            }
            if !(tol >= 0.0 && tol.is_finite()) {
                return bad("prior", "SARA's inner tolerance must be non-negative and finite");
            }
        }
        for (name, count) in [
            ("image_max_iter", self.image_max_iter),
            ("dde_inner", self.dde_inner),
            ("dde_sweeps", self.dde_sweeps),
            ("die_sweeps", self.die_sweeps),
            ("dde_max_outer", self.dde_max_outer),
            ("die_max_outer", self.die_max_outer),
        ] {
            if count == 0 {
                return bad(name, "must be at least 1");
            }
        }
        let n = observation.image_size;
        // As the simulation's rule: odd kernels of at most a quarter of the image side (larger ones leave
        // the DDEs as free as the image, and grow the grid past any use).
        if self.dde_size == 0 || self.dde_size.is_multiple_of(2) || self.dde_size.saturating_mul(4) > n {
            return bad(
                "dde_size",
                &format!(
                    "must be odd and at most a quarter of the image side N = {n}, got {}",
                    self.dde_size
                ),
            );
        }
        observation.validate(self.dde_size)?;
        // Self-calibration needs closure: with two antennas every gain trades against the sky.
        let mut seen = vec![false; observation.n_antennas];
        for b in &observation.baselines {
            seen[b.antenna1] = true;
            seen[b.antenna2] = true;
        }
        let antennas = seen.iter().filter(|s| **s).count();
        if antennas < 3 {
            return Err(Error::Degenerate {
                what: "the visibilities",
                reason: format!(
                    "involve {antennas} antenna(s): self-calibration needs at least 3 (closure), or gains and sky trade freely"
                ),
            });
        }
        Ok(())
    }

    fn problem<'a>(&self, observation: &'a Observation, known: KnownSky<'_>) -> Result<Problem<'a>> {
        let n = observation.image_size;
        let known = Known::new(known, n)?;
        Ok(Problem {
            observation,
            data: ordered_data(observation)?,
            prior: FaintPrior::new(self.prior, self.eta, n, known.mask(n))?,
            known,
        })
    }

    /// Images `observation` with fixed DDEs (`U₁ = U₂ = ddes`): the image block alone, run to its
    /// tolerance. With unit gains this is imaging without calibration; with the true DDEs of a simulation
    /// it is the limit that calibration can reach.
    ///
    /// # Errors
    /// As the [`SelfCalibration`] fit, at the kernels' side of `ddes`, and [`Error::Shape`] when `ddes`
    /// does not match the observation's antennas and time steps.
    pub fn image<'a>(
        &self,
        observation: &Observation,
        known: impl Into<KnownSky<'a>>,
        ddes: &Ddes,
    ) -> Result<SelfCalibrated> {
        let fixed = Self {
            dde_size: ddes.size(),
            ..self.clone()
        };
        fixed.check(observation)?;
        let problem = fixed.problem(observation, known.into())?;
        let t0 = Instant::now();
        let mut state = State {
            op: Measurement::new(observation, ddes, ddes)?,
            u: [ddes.clone(), ddes.clone()],
            eps: vec![0.0; observation.image_size * observation.image_size],
        };
        let report = fixed.image_block(&problem, &mut state)?;
        let seconds = [t0.elapsed().as_secs_f64(), 0.0, 0.0];
        let die = (ddes.clone(), state.eps.clone());
        Ok(fixed.finish(&problem, state, die, Vec::new(), 1.0, seconds, report))
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        problem: &Problem<'_>,
        state: State,
        (die, die_faint): (Ddes, Vec<f64>),
        history: Vec<Outer>,
        gain_scale: f64,
        seconds: [f64; 3],
        report: Report,
    ) -> SelfCalibrated {
        let n = problem.observation.image_size;
        let image = |v: Vec<f64>| Array2::from_shape_vec((n, n), v).unwrap_or_else(|_| Array2::zeros((n, n)));
        let faint = image(state.eps);
        let bright = image(problem.known.image(n));
        SelfCalibrated {
            image: &bright + &faint,
            faint,
            die,
            die_faint: image(die_faint),
            ddes: state.u,
            history,
            gain_scale,
            seconds,
            report,
        }
    }

    /// `(J, data term)` at the state.
    pub(super) fn criterion(&self, problem: &Problem<'_>, state: &State, nu: f64) -> Result<(f64, f64)> {
        let mut model = vec![0.0; state.op.nrows()];
        let mut scratch = vec![0.0; state.op.scratch_len()];
        state.op.apply(&state.eps, &mut model, &mut scratch)?;
        let known = problem.known.model(&state.op, problem.observation.grid_size)?;
        model.iter_mut().zip(&known).for_each(|(m, k)| *m += k);
        let data: f64 = model
            .iter()
            .zip(&problem.data)
            .map(|(m, y)| (y - m) * (y - m))
            .sum::<f64>()
            / 4.0;
        let coupling = 0.5 * nu * state.u[0].distance2(&state.u[1]);
        let prior = problem.prior.value(&state.eps)?;
        Ok((data + coupling + prior, data))
    }

    /// The image block: forward–backward on `ε` under the current DDEs. The result is kept only if it
    /// lowers the block's objective (FISTA is not monotone), so `J` never rises.
    fn image_block(&self, problem: &Problem<'_>, state: &mut State) -> Result<Report> {
        let op = &state.op;
        let mut scratch = vec![0.0; op.nrows() + op.scratch_len()];
        // b = y − Φ x_o: the data the faint part must explain.
        let mut b = problem.known.model(op, problem.observation.grid_size)?;
        for (bi, y) in b.iter_mut().zip(&problem.data) {
            *bi = y - *bi;
        }
        let f = LeastSquares::new(op, &b, 0.5)?;
        let g = &problem.prior;
        let mut power_scratch = vec![0.0; sparsimony_core::linalg::power_iteration_scratch_len(op)];
        // Power iteration approaches ‖Φ‖² from below: a 10 % margin keeps the step safe.
        let lipschitz = 1.1 * f.lipschitz(500, 1e-3, &mut power_scratch)?;
        if !(lipschitz > 0.0 && lipschitz.is_finite()) {
            return Err(Error::Singular {
                what: "measurement operator",
                detail: format!("its squared norm is {lipschitz:e}: no visibility sees the image"),
            });
        }
        let opts = FbOptions {
            max_iter: self.image_max_iter,
            tol: self.image_tol,
            acceleration: Acceleration::FistaRestart,
            step: StepSize::Lipschitz(lipschitz),
        };
        let mut fb_scratch = vec![0.0; sparsimony_core::forward_backward::scratch_len(&f)];
        let before = f.value(&state.eps, &mut scratch)? + g.value(&state.eps)?;
        let mut eps = state.eps.clone();
        let fb = minimize(&f, g, &mut eps, &opts, &mut fb_scratch, None)?;
        if f.value(&eps, &mut scratch)? + g.value(&eps)? <= before {
            state.eps = eps;
        }
        Ok(fb.report(self.image_tol))
    }

    /// Whether the DDE stage restarts the faint part from zero: when its visibilities under the DIE gains
    /// are below `faint_restart` times the bright sources', the DIE stage's faint image is mostly the
    /// direction-dependent errors it could not model (the authors' code does the same).
    fn restarts_faint(&self, problem: &Problem<'_>, state: &State) -> Result<bool> {
        let op = &state.op;
        let mut scratch = vec![0.0; op.scratch_len()];
        let mut y = vec![0.0; op.nrows()];
        op.apply(&state.eps, &mut y, &mut scratch)?;
        let norm = |y: &[f64]| y.iter().map(|v| v * v).sum::<f64>().sqrt();
        let known = problem.known.model(op, problem.observation.grid_size)?;
        Ok(norm(&y) < self.faint_restart * norm(&known))
    }

    /// Moves the state to `state + β(state − from)` (kernels projected onto the box, `ε` onto its
    /// constraints) and returns its `(J, data term)`; restores the state and returns `None` when the move
    /// does not lower `J`'s value at the state.
    fn extrapolate(
        &self,
        problem: &Problem<'_>,
        state: &mut State,
        (from_u, from_eps): &([Ddes; 2], Vec<f64>),
        beta: f64,
        bounds: &Bounds,
        nu: f64,
    ) -> Result<Option<(f64, f64)>> {
        let current = self.criterion(problem, state, nu)?;
        let kept = (state.u.clone(), state.eps.clone());
        for (u, from) in state.u.iter_mut().zip(from_u) {
            let s2 = u.size() * u.size();
            for (kernel, old) in u.taps_mut().chunks_exact_mut(s2).zip(from.taps().chunks_exact(s2)) {
                for (z, o) in kernel.iter_mut().zip(old) {
                    *z += beta * (*z - o);
                }
                bounds.project(kernel);
            }
        }
        for (e, old) in state.eps.iter_mut().zip(from_eps) {
            *e += beta * (*e - old);
        }
        problem.prior.project(&mut state.eps);
        state.op.set_ddes(&state.u[0], &state.u[1])?;
        let moved = self.criterion(problem, state, nu)?;
        if moved.0 < current.0 {
            Ok(Some(moved))
        } else {
            (state.u, state.eps) = kept;
            state.op.set_ddes(&state.u[0], &state.u[1])?;
            Ok(None)
        }
    }

    /// The DDE block: sweeps of (every antenna's `U₁` kernel in parallel, then `U₂`'s, then the copies'
    /// mean where it helps) until a sweep changes the kernels by less than `dde_tol`, relative, or
    /// `sweeps` sweeps ran; the operator is left built on the result.
    fn dde_block(
        &self,
        problem: &Problem<'_>,
        state: &mut State,
        nu: f64,
        sweeps: usize,
        bounds: &Bounds,
    ) -> Result<()> {
        let obs = problem.observation;
        let patches = sky_patches(problem, &state.op, &state.eps);
        let s = state.u[0].size();
        let (na, nt) = (obs.n_antennas, obs.n_times);
        // The rows of each (time, antenna) as first antenna; the second-copy rows are their partners.
        let rows = state.op.rows().to_vec();
        let row_scale = state.op.row_scale().map(<[f64]>::to_vec);
        let row_scale = row_scale.as_deref();
        let rows = &rows;
        let by_first = rows_by_first(&state.op, na, nt);
        for _ in 0..sweeps {
            let before = state.u.clone();
            for copy in 0..2 {
                let (this, other) = (&state.u[copy], &state.u[1 - copy]);
                // In (time, antenna) order, shared among the processes of a group if one is installed; the
                // first failure by (time, antenna): the same on any thread or process count.
                let solved = crate::parallel::map_in_order(na * nt, |ta| {
                    let (t, a) = (ta / na, ta % na);
                    let system =
                        antenna_system(&by_first[ta], rows, row_scale, &problem.data, &patches, s, copy, other);
                    let kernel = system.solve(this.kernel(t, a), other.kernel(t, a), nu, bounds, self.dde_inner)?;
                    Ok(bytemuck::cast_slice::<Complex64, f64>(&kernel).to_vec())
                })?;
                unpack_complex(&solved, state.u[copy].taps_mut(), s * s, "a DDE kernel")?;
            }
            // The copies' mean, tried as both copies (StEFCal's averaging, Salvini & Wijnholds 2014: the
            // alternation between the copies otherwise zig-zags along the coupling's valley) and kept
            // only where it lowers the criterion, so the block stays monotone.
            state.op.set_ddes(&state.u[0], &state.u[1])?;
            let current = data_term(&state.op, &patches, &problem.data)? + 0.5 * nu * state.u[0].distance2(&state.u[1]);
            let mean = state.u[0].mean(&state.u[1]);
            state.op.set_ddes(&mean, &mean)?;
            if data_term(&state.op, &patches, &problem.data)? < current {
                state.u = [mean.clone(), mean];
            } else {
                state.op.set_ddes(&state.u[0], &state.u[1])?;
            }
            let change = state.u[0].distance2(&before[0]) + state.u[1].distance2(&before[1]);
            let size: f64 = state.u.iter().flat_map(|u| u.taps()).map(|z| z.norm_sqr()).sum();
            if change.sqrt() <= self.dde_tol * size.sqrt() {
                break;
            }
        }
        Ok(())
    }
}

/// Every row's spectrum patch of the whole sky, the known sources plus `eps`, under `op`.
pub(super) fn sky_patches(problem: &Problem<'_>, op: &Measurement, eps: &[f64]) -> Vec<Complex64> {
    let mut patches = op.patches(eps);
    let known = problem.known.patches(op, problem.observation.grid_size);
    patches.iter_mut().zip(&known).for_each(|(p, k)| *p += k);
    patches
}

/// The rows of each `(time, antenna)` as first antenna (index `time · n_antennas + antenna`).
pub(super) fn rows_by_first(op: &Measurement, na: usize, nt: usize) -> Vec<Vec<usize>> {
    let mut by_first: Vec<Vec<usize>> = vec![Vec::new(); na * nt];
    for (r, row) in op.rows().iter().enumerate() {
        by_first[row.time * na + row.first].push(r);
    }
    by_first
}

/// `¼ Σ_rows |y_r − m_r|²` for the model of the rows' spectrum patches under the operator's kernels.
fn data_term(op: &Measurement, patches: &[Complex64], data: &[f64]) -> Result<f64> {
    let mut model = vec![Complex64::new(0.0, 0.0); op.n_rows()];
    op.model(patches, &mut model)?;
    Ok(model
        .iter()
        .zip(data.chunks_exact(2))
        .map(|(m, y)| (y[0] - m.re).powi(2) + (y[1] - m.im).powi(2))
        .sum::<f64>()
        / 4.0)
}

/// `ĝ`: the gain amplitude that best explains `|y|` by the bright sources' visibilities under unit gains,
/// `ĝ² = Σ|y||v_o| / Σ|v_o|²`.
fn gain_scale(problem: &Problem<'_>) -> Result<f64> {
    let obs = problem.observation;
    let unit = Ddes::constant(1, obs.n_antennas, obs.n_times, Complex64::new(1.0, 0.0))?;
    let op = Measurement::new(obs, &unit, &unit)?;
    let model = problem.known.model(&op, obs.grid_size)?;
    let (mut num, mut den) = (0.0, 0.0);
    for (m, y) in model.chunks_exact(2).zip(problem.data.chunks_exact(2)) {
        let (vm, vy) = (m[0].hypot(m[1]), y[0].hypot(y[1]));
        num += vm * vy;
        den += vm * vm;
    }
    if !(den > 0.0 && num > 0.0 && (num / den).is_finite()) {
        return Err(Error::Singular {
            what: "bright-source visibilities",
            detail:
                "the known sources give no visibility, or visibilities beyond f64 (or the data are all zero): nothing \
                     to calibrate on"
                    .into(),
        });
    }
    Ok((num / den).sqrt())
}
