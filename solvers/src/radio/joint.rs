//! The joint step of the DDE stage: Levenberg–Marquardt over every antenna's kernel and the faint image's
//! support at once. The image/DDE alternation crawls along a near-degenerate valley, in which a screen
//! common to all antennas trades against the faint flux; neither block alone can move along it, a step in
//! both together can.
//!
//! At the state `(Ū, ε)` (`Ū` the copies' mean, `U₁ = U₂ = Ū`), each row's model visibility
//! `m_r = Σ_{a,b} ū_α[a] conj(ū_β[b]) x̂[k − a + b] + (Φε)_r` is linearised in the taps of its two antennas
//! and in the pixels where `ε > 0` (ℓ1 only; with SARA the step is in the kernels alone):
//!
//! `δm_r = g_r · δu_α + f_r · conj(δu_β) + (Φ_S δε)_r`, `g_r[a] = Σ_b conj(ū_β[b]) x̂[k − a + b]`,
//! `f_r[b] = Σ_a ū_α[a] x̂[k − a + b]`,
//!
//! and the step minimises `¼‖ρ − Jδ‖² + η 1ᵀδε + (λ/2) δᵀDδ` (`ρ` the residual, `D` the diagonal of
//! `½JᵀJ`, Marquardt's scaling), solved by conjugate gradients with `J` applied matrix-free
//! (`O(rows · S²)` plus one `Φ`/`Φᵀ` pair per iteration), preconditioned by each antenna's exact block
//! of the damped Hessian in its own taps (a real `2S² × 2S²` Cholesky factor; the taps of one kernel are
//! strongly correlated through the spectrum they read) and the pixels' mean diagonal. The gauge — one
//! phase per time step, common to every antenna, which no visibility sees — is projected out of the
//! step. The step is projected onto the constraints and tried whole, then halved twice along the
//! projected arc; the first point that lowers the criterion `J` is kept, so `J` never rises. `λ` shrinks
//! threefold after a success and grows fourfold after a failure. (Nielsen's gain-ratio rule kept `λ`
//! higher and stopped the stage early: on 100 antennas, seed 1, 15.1 dB against 25.3.)

use rayon::prelude::*;
use rustfft::num_complex::Complex64;
use sparsimony_core::LinearOperator;

use super::antenna::Bounds;
use super::calibration::{Problem, SelfCalibration, State, sky_patches};
use super::checks::check_memory;
use super::dde::Ddes;
use super::operator::{Measurement, Row, each_row, unpack_complex};
use crate::error::Result;
use crate::krylov::{conjugate_gradients, dot};

/// Levenberg–Marquardt tries per step before giving up (`λ` grows fourfold after each).
const TRIES: usize = 8;
/// The conjugate gradients' relative residual and iteration cap per try.
const CG_TOLERANCE: f64 = 1e-4;
const CG_CAP: usize = 100;
/// The fractions of a step tried along the projected arc.
const ARC: [f64; 3] = [1.0, 0.5, 0.25];

/// The model's Jacobian at a state, applied matrix-free: real vectors of two fields, the kernels' taps
/// (interleaved `re, im`, [`Ddes`]'s layout) and the support's pixels, to complex rows.
struct Jacobian<'a> {
    s2: usize,
    n_antennas: usize,
    rows: &'a [Row],
    /// `g_r` (`S²` per row, scaled by the row's `√(w/w̄)`).
    g: Vec<Complex64>,
    /// `f_r`, likewise.
    f: Vec<Complex64>,
    /// The rows of each `(time, antenna)` as first antenna; the partner `r ^ 1` has it as second.
    by_first: &'a [Vec<usize>],
    op: &'a Measurement,
    support: &'a [usize],
}

impl<'a> Jacobian<'a> {
    /// `g` and `f` of every row from the rows' spectrum patches of the whole sky (`x_o + ε`).
    fn new(
        op: &'a Measurement,
        mean: &Ddes,
        patches: &[Complex64],
        by_first: &'a [Vec<usize>],
        support: &'a [usize],
    ) -> Self {
        let s = mean.size();
        let (s2, t) = (s * s, 2 * s - 1);
        let rows = op.rows();
        let scale = op.row_scale();
        let mut g = vec![Complex64::new(0.0, 0.0); rows.len() * s2];
        let mut f = g.clone();
        g.par_chunks_mut(s2)
            .zip(f.par_chunks_mut(s2))
            .enumerate()
            .for_each(|(r, (g, f))| {
                let row = rows[r];
                let (d1, d2) = (mean.kernel(row.time, row.first), mean.kernel(row.time, row.second));
                let patch = &patches[r * t * t..(r + 1) * t * t];
                let w = scale.map_or(1.0, |s| s[r]);
                for (a, (ga, &da)) in g.iter_mut().zip(d1).enumerate() {
                    let (av, au) = (a / s, a % s);
                    let mut acc = Complex64::new(0.0, 0.0);
                    for (b, (fb, &db)) in f.iter_mut().zip(d2).enumerate() {
                        let x = patch[(s - 1 - av + b / s) * t + (s - 1 - au + b % s)];
                        acc += db.conj() * x;
                        *fb += da * x;
                    }
                    *ga = w * acc;
                }
                f.iter_mut().for_each(|v| *v *= w);
            });
        Self {
            s2,
            n_antennas: mean.n_antennas(),
            rows,
            g,
            f,
            by_first,
            op,
            support,
        }
    }

    /// `J z` into complex rows.
    fn apply(&self, z: &[Vec<f64>]) -> Result<Vec<Complex64>> {
        let taps: &[Complex64] = bytemuck::cast_slice(&z[0]);
        let (s2, na) = (self.s2, self.n_antennas);
        let kernel = |t: usize, a: usize| &taps[(t * na + a) * s2..(t * na + a + 1) * s2];
        let mut out = vec![Complex64::new(0.0, 0.0); self.rows.len()];
        if !self.support.is_empty() {
            let mut image = vec![0.0; self.op.ncols()];
            for (&p, &v) in self.support.iter().zip(&z[1]) {
                image[p] = v;
            }
            let mut scratch = vec![0.0; self.op.scratch_len()];
            self.op
                .apply(&image, bytemuck::cast_slice_mut(&mut out), &mut scratch)?;
        }
        let mut taps_part = vec![Complex64::new(0.0, 0.0); self.rows.len()];
        each_row(&mut taps_part, |r| {
            let row = self.rows[r];
            let (g, f) = (&self.g[r * s2..(r + 1) * s2], &self.f[r * s2..(r + 1) * s2]);
            let (d1, d2) = (kernel(row.time, row.first), kernel(row.time, row.second));
            let mut acc = Complex64::new(0.0, 0.0);
            for ((g, f), (x1, x2)) in g.iter().zip(f).zip(d1.iter().zip(d2)) {
                acc += g * x1 + f * x2.conj();
            }
            acc
        })?;
        out.iter_mut().zip(&taps_part).for_each(|(m, t)| *m += t);
        Ok(out)
    }

    /// `Jᵀ w` (the adjoint for the real inner products) of complex rows `w`.
    fn adjoint(&self, w: &[Complex64]) -> Result<Vec<Vec<f64>>> {
        let s2 = self.s2;
        // Each (time, antenna)'s taps, shared among the processes of a group if one is installed.
        let per_kernel = crate::parallel::map_in_order(self.by_first.len(), |ta| {
            let mut out = vec![Complex64::new(0.0, 0.0); s2];
            for &r in &self.by_first[ta] {
                let partner = r ^ 1;
                let (g, f) = (&self.g[r * s2..(r + 1) * s2], &self.f[partner * s2..(partner + 1) * s2]);
                for ((o, g), f) in out.iter_mut().zip(g).zip(f) {
                    *o += g.conj() * w[r] + f * w[partner].conj();
                }
            }
            Ok(bytemuck::cast_slice::<Complex64, f64>(&out).to_vec())
        })?;
        let mut taps = vec![Complex64::new(0.0, 0.0); self.by_first.len() * s2];
        unpack_complex(&per_kernel, &mut taps, s2, "a kernel's taps")?;
        let mut pixels = vec![0.0; self.support.len()];
        if !self.support.is_empty() {
            let mut image = vec![0.0; self.op.ncols()];
            let mut scratch = vec![0.0; self.op.scratch_len()];
            self.op
                .apply_adjoint(bytemuck::cast_slice(w), &mut image, &mut scratch)?;
            pixels.iter_mut().zip(self.support).for_each(|(v, &p)| *v = image[p]);
        }
        Ok(vec![bytemuck::cast_slice(&taps).to_vec(), pixels])
    }

    /// The diagonal of `½JᵀJ`: exact for the taps; for the pixels, half of `Φ`'s squared column norm
    /// averaged over the padded grid, `½ Σ_r ‖K_r‖²` (every pixel's on the cells when the kernels are
    /// single taps).
    fn diagonal(&self) -> Vec<Vec<f64>> {
        let s2 = self.s2;
        let mut taps = vec![0.0; self.by_first.len() * s2];
        taps.par_chunks_mut(s2).zip(self.by_first).for_each(|(out, rows)| {
            for &r in rows {
                let partner = r ^ 1;
                let (g, f) = (&self.g[r * s2..(r + 1) * s2], &self.f[partner * s2..(partner + 1) * s2]);
                for ((o, g), f) in out.iter_mut().zip(g).zip(f) {
                    *o += 0.5 * (g.norm_sqr() + f.norm_sqr());
                }
            }
        });
        let pixel = 0.5 * self.op.kernel_energy();
        vec![
            taps.iter().flat_map(|&d| [d, d]).collect(),
            vec![pixel; self.support.len()],
        ]
    }
}

impl Jacobian<'_> {
    /// Each `(time, antenna)`'s diagonal block of `½JᵀJ` in its taps: complex-linear and Hermitian,
    /// `½ Σ (conj(g_r) g_rᵀ + f_p f_pᴴ)` over its rows `r` as first antenna and their partners `p` (in
    /// which it is second), `S² × S²` row-major.
    fn blocks(&self) -> Vec<Vec<Complex64>> {
        let s2 = self.s2;
        self.by_first
            .par_iter()
            .map(|rows| {
                let mut block = vec![Complex64::new(0.0, 0.0); s2 * s2];
                for &r in rows {
                    let partner = r ^ 1;
                    let (g, f) = (&self.g[r * s2..(r + 1) * s2], &self.f[partner * s2..(partner + 1) * s2]);
                    for (i, row) in block.chunks_exact_mut(s2).enumerate() {
                        let (gi, fi) = (0.5 * g[i].conj(), 0.5 * f[i]);
                        for ((b, gj), fj) in row.iter_mut().zip(g).zip(f) {
                            *b += gi * gj + fi * fj.conj();
                        }
                    }
                }
                block
            })
            .collect()
    }
}

/// The preconditioner of one try: each `(time, antenna)`'s block of the damped Hessian `B + λ diag(B)`
/// factorised in its real form (taps interleaved `re, im`), and the pixels' damped diagonal.
struct Preconditioner {
    blocks: Vec<Option<faer::linalg::solvers::Llt<f64>>>,
    taps: Vec<f64>,
    pixel: f64,
}

impl Preconditioner {
    fn new(blocks: &[Vec<Complex64>], diagonal: &[Vec<f64>], floor: f64, lambda: f64) -> Self {
        let factors = blocks
            .par_iter()
            .map(|block| {
                let n = (block.len() as f64).sqrt().round() as usize;
                let real = faer::Mat::from_fn(2 * n, 2 * n, |p, q| {
                    let z = block[(p / 2) * n + q / 2];
                    if p == q {
                        return z.re.max(floor) * (1.0 + lambda);
                    }
                    match (p % 2, q % 2) {
                        (0, 0) | (1, 1) => z.re,
                        (0, _) => -z.im,
                        _ => z.im,
                    }
                });
                real.as_ref().llt(faer::Side::Lower).ok()
            })
            .collect();
        Self {
            blocks: factors,
            taps: diagonal[0].iter().map(|d| (1.0 + lambda) * d.max(floor)).collect(),
            pixel: (1.0 + lambda) * diagonal[1].first().copied().unwrap_or(1.0).max(floor),
        }
    }

    fn apply(&self, r: &[Vec<f64>]) -> Vec<Vec<f64>> {
        use faer::linalg::solvers::Solve;
        let n2 = r[0].len() / self.blocks.len().max(1);
        let mut taps = vec![0.0; r[0].len()];
        taps.par_chunks_mut(n2)
            .zip(r[0].par_chunks(n2))
            .zip(self.blocks.par_iter().zip(self.taps.par_chunks(n2)))
            .for_each(|((out, r), (factor, diagonal))| match factor {
                Some(llt) => {
                    let x = llt.solve(faer::MatRef::from_column_major_slice(r, n2, 1));
                    out.iter_mut().enumerate().for_each(|(i, o)| *o = x[(i, 0)]);
                }
                None => out.iter_mut().zip(r).zip(diagonal).for_each(|((o, r), d)| *o = r / d),
            });
        vec![taps, r[1].iter().map(|v| v / self.pixel).collect()]
    }
}

impl SelfCalibration {
    /// Up to `steps` joint Levenberg–Marquardt steps from the state (see the module's documentation),
    /// each kept only where it lowers `J`; returns how many were kept. `by_first` lists each
    /// `(time, antenna)`'s rows as first antenna; `lambda` carries the damping from call to call.
    pub(super) fn joint_lm(
        &self,
        problem: &Problem<'_>,
        state: &mut State,
        (nu, bounds): (f64, &Bounds),
        by_first: &[Vec<usize>],
        steps: usize,
        lambda: &mut f64,
    ) -> Result<usize> {
        let obs = problem.observation;
        // Refused before allocating: every row's two derivatives and patch, and the candidates' operator.
        let (s, rows) = (state.u[0].size() as u128, state.op.n_rows() as u128);
        let side = (2 * s - 1) * (2 * s - 1);
        check_memory(
            "joint_steps",
            16 * rows * (2 * s * s + 3 * side) + 48 * (state.u[0].taps().len() as u128) * s * s,
            || "the joint steps".into(),
            || {
                format!(
                    "the derivatives and patches of {rows} rows at S = {s}, a second operator, each kernel's Hessian block"
                )
            },
        )?;
        let mut kept = 0;
        let l1 = problem.prior.l1_weight();
        // The candidates are weighed on an operator of their own while the Jacobian holds the state's.
        let mut trial = State {
            u: state.u.clone(),
            eps: state.eps.clone(),
            op: Measurement::new(obs, &state.u[0], &state.u[1])?,
        };
        let mut current = self.criterion(problem, state, nu)?.0;
        for _ in 0..steps {
            let mean = state.u[0].mean(&state.u[1]);
            state.op.set_ddes(&mean, &mean)?;
            let patches = sky_patches(problem, &state.op, &state.eps);
            let mut model = vec![Complex64::new(0.0, 0.0); state.op.n_rows()];
            state.op.model(&patches, &mut model)?;
            let residual: Vec<Complex64> = model
                .iter()
                .zip(problem.data.chunks_exact(2))
                .map(|(m, y)| Complex64::new(y[0], y[1]) - m)
                .collect();
            let support: Vec<usize> = match l1 {
                Some(_) => (0..state.eps.len()).filter(|&p| state.eps[p] > 0.0).collect(),
                None => Vec::new(),
            };
            let jac = Jacobian::new(&state.op, &mean, &patches, by_first, &support);
            drop(patches);
            // The local model's gradient at δ = 0: −½Jᵀρ, plus η on the support (ℓ1 is linear there).
            let mut gradient = jac.adjoint(&residual)?;
            gradient.iter_mut().flatten().for_each(|v| *v *= -0.5);
            gradient[1].iter_mut().for_each(|v| *v += l1.unwrap_or(0.0));
            let diagonal = jac.diagonal();
            let blocks = jac.blocks();
            let floor = 1e-12 * diagonal[0].iter().fold(0.0f64, |m, &d| m.max(d));
            if !(floor > 0.0 && floor.is_finite()) {
                // No visibility depends on the taps (or the derivatives overflow): no step to take.
                drop(jac);
                state.op.set_ddes(&state.u[0], &state.u[1])?;
                break;
            }
            let mut accepted = false;
            for _ in 0..TRIES {
                let damp = *lambda;
                let failed = std::cell::RefCell::new(None);
                let hessian = |z: &[Vec<f64>]| -> Vec<Vec<f64>> {
                    let mut out = match jac.apply(z).and_then(|jz| jac.adjoint(&jz)) {
                        Ok(out) => out,
                        Err(e) => {
                            failed.borrow_mut().get_or_insert(e);
                            return z.to_vec();
                        }
                    };
                    for ((o, zf), df) in out.iter_mut().zip(z).zip(&diagonal) {
                        for ((o, z), d) in o.iter_mut().zip(zf).zip(df) {
                            *o = 0.5 * *o + damp * d.max(floor) * z;
                        }
                    }
                    out
                };
                let preconditioner = Preconditioner::new(&blocks, &diagonal, floor, damp);
                let precondition = |r: &[Vec<f64>]| preconditioner.apply(r);
                let (mut step, _, _) = conjugate_gradients(hessian, precondition, &gradient, CG_TOLERANCE, CG_CAP);
                if let Some(e) = failed.into_inner() {
                    return Err(e);
                }
                remove_gauge(&mean, &mut step[0]);
                // Not a descent direction to working precision (converged, or the CG found nothing): stop.
                let slope = dot(&gradient, &step);
                let descends = slope < -1e-12 * current.abs();
                if !descends {
                    break;
                }
                // Along the projected arc: the whole step, then halves, before more damping.
                for fraction in ARC {
                    let mut candidate = mean.clone();
                    let s2 = candidate.size() * candidate.size();
                    let delta: &[Complex64] = bytemuck::cast_slice(&step[0]);
                    for (kernel, d) in candidate.taps_mut().chunks_exact_mut(s2).zip(delta.chunks_exact(s2)) {
                        kernel.iter_mut().zip(d).for_each(|(k, d)| *k += fraction * d);
                        bounds.project(kernel);
                    }
                    let mut eps = state.eps.clone();
                    for (&p, d) in support.iter().zip(&step[1]) {
                        eps[p] = (eps[p] + fraction * d).max(0.0);
                    }
                    trial.op.set_ddes(&candidate, &candidate)?;
                    (trial.u, trial.eps) = ([candidate.clone(), candidate], eps);
                    let value = self.criterion(problem, &trial, nu)?.0;
                    if value < current {
                        (accepted, current) = (true, value);
                        break;
                    }
                }
                if accepted {
                    *lambda = (*lambda / 3.0).max(1e-9);
                    break;
                }
                *lambda = (*lambda * 4.0).min(1e9);
            }
            drop(jac);
            if !accepted {
                state.op.set_ddes(&state.u[0], &state.u[1])?;
                break;
            }
            std::mem::swap(state, &mut trial);
            kept += 1;
        }
        Ok(kept)
    }
}

/// Removes from a step of the taps (interleaved `re, im`) its component along each time step's gauge
/// `i·Ū_t` (a phase common to every antenna at that time, which no visibility sees).
fn remove_gauge(mean: &Ddes, step: &mut [f64]) {
    let per_time = 2 * mean.n_antennas() * mean.size() * mean.size();
    let taps: &[f64] = bytemuck::cast_slice(mean.taps());
    for (d, u) in step.chunks_exact_mut(per_time).zip(taps.chunks_exact(per_time)) {
        // i(a + ib) = −b + ia.
        let gauge = |k: usize| if k.is_multiple_of(2) { -u[k + 1] } else { u[k - 1] };
        let (mut dot, mut norm) = (0.0, 0.0);
        for (k, dk) in d.iter().enumerate() {
            dot += dk * gauge(k);
            norm += gauge(k) * gauge(k);
        }
        if norm > 0.0 {
            let c = dot / norm;
            d.iter_mut().enumerate().for_each(|(k, dk)| *dk -= c * gauge(k));
        }
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;
    use sparsimony_core::random::standard_normal;

    use super::*;
    use crate::radio::calibration::rows_by_first;
    use crate::radio::{Sampling, Simulation};

    fn random_ddes(like: &Ddes, rng: &mut ChaCha8Rng) -> Ddes {
        let mut d = like.clone();
        for tap in d.taps_mut() {
            *tap = Complex64::new(standard_normal(rng), standard_normal(rng));
        }
        d
    }

    /// The model is bilinear in the taps (`u`, `conj u`) and linear in the image, so the central
    /// difference of the operator itself at step 1 is exactly the Jacobian's product, for the taps alone
    /// and for the pixels alone, under unequal weights; `Jᵀ` passes the dot-product test; the diagonal
    /// and each antenna's Hessian block are `½‖J e_k‖²` and `½ e_jᵀJᵀJ e_k` (the block in its real form,
    /// as the preconditioner factorises it).
    #[test]
    fn jacobian_is_the_models_central_difference_and_its_adjoint_passes_the_dot_product_test() {
        for sampling in [Sampling::Cells, Sampling::Nufft { tolerance: 1e-12 }] {
            let sim = Simulation {
                n_antennas: 7,
                n_times: 2,
                image_size: 21,
                dde_size: 3,
                levels: vec![(3, 10.0), (4, 0.1)],
                sampling,
                seed: 5,
                ..Simulation::default()
            }
            .simulate()
            .unwrap();
            // Unequal weights, some zero: each row's derivatives carry its √(w/w̄) as its model does.
            let mut obs = sim.observation.clone();
            obs.weights = Some((0..obs.values.len()).map(|j| [0.0, 0.5, 1.0, 3.0][j % 4]).collect());
            let obs = &obs;
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let (na, nt) = (obs.n_antennas, obs.n_times);
            let u = random_ddes(&sim.ddes, &mut rng);
            let x: Vec<f64> = (0..21 * 21).map(|_| standard_normal(&mut rng).abs()).collect();
            let support: Vec<usize> = (0..x.len()).filter(|p| p % 3 != 0).collect();
            let op = Measurement::new(obs, &u, &u).unwrap();
            let by_first = rows_by_first(&op, na, nt);
            let patches = op.patches(&x);
            let jac = Jacobian::new(&op, &u, &patches, &by_first, &support);
            let model = |u: &Ddes, x: &[f64]| -> Vec<f64> {
                let op = Measurement::new(obs, u, u).unwrap();
                let mut y = vec![0.0; op.nrows()];
                op.apply(x, &mut y, &mut vec![0.0; op.scratch_len()]).unwrap();
                y
            };
            let delta = random_ddes(&sim.ddes, &mut rng);
            let dx: Vec<f64> = support.iter().map(|_| standard_normal(&mut rng)).collect();
            let taps: Vec<f64> = bytemuck::cast_slice(delta.taps()).to_vec();
            let zeros = (vec![0.0; taps.len()], vec![0.0; dx.len()]);
            let shifted = |sign: f64| {
                let mut v = u.clone();
                v.taps_mut()
                    .iter_mut()
                    .zip(delta.taps())
                    .for_each(|(a, d)| *a += sign * d);
                v
            };
            let moved = |sign: f64| {
                let mut y = x.clone();
                support.iter().zip(&dx).for_each(|(&p, d)| y[p] += sign * d);
                y
            };
            let cases = [
                (
                    vec![taps.clone(), zeros.1.clone()],
                    model(&shifted(1.0), &x),
                    model(&shifted(-1.0), &x),
                ),
                (
                    vec![zeros.0.clone(), dx.clone()],
                    model(&u, &moved(1.0)),
                    model(&u, &moved(-1.0)),
                ),
            ];
            for (z, plus, minus) in cases {
                let jz: Vec<f64> = bytemuck::cast_slice(&jac.apply(&z).unwrap()).to_vec();
                let scale = plus.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                for ((j, p), m) in jz.iter().zip(&plus).zip(&minus) {
                    assert!(
                        (j - 0.5 * (p - m)).abs() <= 1e-9 * scale,
                        "{sampling:?}: {j} against {}",
                        0.5 * (p - m)
                    );
                }
            }
            let z = vec![taps, dx];
            let w: Vec<Complex64> = (0..op.n_rows())
                .map(|_| Complex64::new(standard_normal(&mut rng), standard_normal(&mut rng)))
                .collect();
            let jz = jac.apply(&z).unwrap();
            let lhs: f64 = jz.iter().zip(&w).map(|(a, b)| (a.conj() * b).re).sum();
            let jtw = jac.adjoint(&w).unwrap();
            let rhs = dot(&z, &jtw);
            assert!(
                (lhs - rhs).abs() <= 1e-10 * lhs.abs(),
                "{sampling:?}: {lhs} against {rhs}"
            );
            // The diagonal is the taps' exact ½‖J e_k‖²; the blocks' real form is ½ e_jᵀJᵀJ e_k.
            let diagonal = jac.diagonal();
            let blocks = jac.blocks();
            let unit = |k: usize| {
                let mut e = vec![vec![0.0; z[0].len()], vec![0.0; z[1].len()]];
                e[0][k] = 1.0;
                jac.apply(&e).unwrap()
            };
            for k in [0, 5, 17] {
                let norm: f64 = unit(k).iter().map(|v| v.norm_sqr()).sum();
                assert!((diagonal[0][k] - 0.5 * norm).abs() <= 1e-10 * norm, "{k}");
            }
            // Kernel 3 (time 0, antenna 3): its real block entry (p, q) against the two columns' product.
            let (n2, kernel) = (2 * 9, 3);
            for (p, q) in [(0, 0), (0, 1), (1, 0), (2, 7), (7, 2), (5, 16), (17, 17)] {
                let (jp, jq) = (unit(kernel * n2 + p), unit(kernel * n2 + q));
                let want: f64 = 0.5 * jp.iter().zip(&jq).map(|(a, b)| (a.conj() * b).re).sum::<f64>();
                let z = blocks[kernel][(p / 2) * 9 + q / 2];
                let got = match (p % 2, q % 2) {
                    (0, 0) | (1, 1) => z.re,
                    (0, _) => -z.im,
                    _ => z.im,
                };
                assert!(
                    (got - want).abs() <= 1e-10 * diagonal[0][kernel * n2].max(1e-300),
                    "({p}, {q}): {got} against {want}"
                );
            }
        }
    }

    /// The gauge is removed: what is left is orthogonal to `i·Ū_t` for every time step, and a step along
    /// the gauge alone vanishes.
    #[test]
    fn the_gauge_is_projected_out_per_time_step() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let base = Ddes::constant(3, 4, 2, Complex64::new(1.0, 0.0)).unwrap();
        let mean = random_ddes(&base, &mut rng);
        let mut step: Vec<f64> = (0..2 * base.taps().len()).map(|_| standard_normal(&mut rng)).collect();
        remove_gauge(&mean, &mut step);
        let per_time = 2 * 4 * 9;
        let taps: &[f64] = bytemuck::cast_slice(mean.taps());
        for (d, u) in step.chunks_exact(per_time).zip(taps.chunks_exact(per_time)) {
            let dot: f64 = d
                .chunks_exact(2)
                .zip(u.chunks_exact(2))
                .map(|(d, u)| -d[0] * u[1] + d[1] * u[0])
                .sum();
            assert!(dot.abs() < 1e-12, "{dot}");
        }
        let mut along: Vec<f64> = taps.chunks_exact(2).flat_map(|u| [-2.0 * u[1], 2.0 * u[0]]).collect();
        remove_gauge(&mean, &mut along);
        assert!(along.iter().all(|v| v.abs() < 1e-12));
    }
}
