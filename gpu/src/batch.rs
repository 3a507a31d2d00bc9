//! Many small regression problems at once: batched normal equations (`XᵀX/n`, `Xᵀy/n` for every problem in
//! one dispatch) and a batched elastic net (Lasso) by coordinate descent on them, one workgroup per problem.
//!
//! Layout: problem `b`'s design is `x[b·n·d .. (b+1)·n·d]`, an `n × d` column-major block (samples down the
//! columns); its response is `y[b·n .. (b+1)·n]`. Every problem has the same `n` and `d` (`d ≤ 256`).

use crate::error::{check_finite, check_len};
use crate::{GpuContext, GpuError};
use bytemuck::{Pod, Zeroable};
use sparsimony_core::{Measure, Report};

const GRAM_WGSL: &str = include_str!("shaders/batch_gram.wgsl");
const CD_WGSL: &str = include_str!("shaders/batch_cd.wgsl");
/// The largest number of features the batched kernels take (their workgroup arrays are this long).
pub const MAX_FEATURES: usize = 256;

/// A batch of equally sized problems in the layout of the module docs.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The designs, `batch · n · d` values.
    pub x: &'a [f32],
    /// The responses, `batch · n` values.
    pub y: &'a [f32],
    /// Number of problems.
    pub batch: usize,
    /// Samples per problem.
    pub n: usize,
    /// Features per problem (1 to [`MAX_FEATURES`]).
    pub d: usize,
}

impl Batch<'_> {
    fn check(&self) -> Result<(), GpuError> {
        let bad = |name, reason| Err(sparsimony_core::Error::InvalidParameter { name, reason }.into());
        if self.batch == 0 || self.n == 0 || self.d == 0 {
            return bad("batch, n, d", "must all be positive");
        }
        if self.d > MAX_FEATURES {
            return bad("d", "the batched kernels take at most 256 features");
        }
        check_len("x (batch · n · d values)", self.batch * self.n * self.d, self.x.len())?;
        check_len("y (batch · n values)", self.batch * self.n, self.y.len())?;
        check_finite("x", self.x)?;
        check_finite("y", self.y)
    }
}

/// The normal equations of every problem of a batch, scaled by `1/n` (and centred with an intercept).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNormal {
    /// `XᵀX/n` per problem, `batch · d · d` values (each `d × d` column-major).
    pub gram: Vec<f32>,
    /// `Xᵀy/n` per problem, `batch · d` values.
    pub cross: Vec<f32>,
    /// `yᵀy/n` per problem.
    pub y_sq: Vec<f32>,
    /// Mean of `y` per problem (0 without centring).
    pub y_mean: Vec<f32>,
    /// Column means per problem, `batch · d` values (0 without centring).
    pub x_mean: Vec<f32>,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct GramDims {
    batch: u32,
    n: u32,
    d: u32,
    intercept: u32,
    groups_x: u32,
    _pad: [u32; 3],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct CdParams {
    batch: u32,
    d: u32,
    max_epochs: u32,
    check_every: u32,
    l1_ratio: f32,
    tol: f32,
    groups_x: u32,
    _pad: u32,
}

/// A batched elastic net: for every problem `b`,
///
/// ```text
///     min_w  1/(2n)‖y_b − X_b w − c‖² + α_b (ρ‖w‖₁ + (1−ρ)/2 ‖w‖²)
/// ```
///
/// (scikit-learn's scaling; `ρ = 1` is the Lasso; the intercept `c` by centring), solved in `f32` by
/// cyclic coordinate descent on the problem's normal equations and stopped when scikit-learn's duality gap
/// is at most `tol · ‖y_b − ȳ_b‖²/n`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchElasticNet {
    /// ρ ∈ [0, 1].
    pub l1_ratio: f32,
    /// Fit an intercept per problem.
    pub fit_intercept: bool,
    /// Epoch cap.
    pub max_epochs: u32,
    /// Relative duality-gap tolerance (scikit-learn's `tol`; below about 1e-6 `f32` cannot resolve it).
    pub tol: f32,
    /// Epochs between duality-gap checks.
    pub check_every: u32,
}

impl Default for BatchElasticNet {
    /// The Lasso with an intercept, 10 000 epochs, `tol = 1e-4` (scikit-learn's default), checks every 5.
    fn default() -> Self {
        Self {
            l1_ratio: 1.0,
            fit_intercept: true,
            max_epochs: 10_000,
            tol: 1e-4,
            check_every: 5,
        }
    }
}

/// The solutions of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchFit {
    /// Coefficients, `batch · d` values (problem `b`'s at `b·d..(b+1)·d`).
    pub coef: Vec<f32>,
    /// Intercepts, one per problem (0 without an intercept).
    pub intercept: Vec<f32>,
    /// One report per problem: epochs (or thresholding rounds), converged, and the measure reached (the
    /// duality gap, scaled as the objective, for the elastic net). A problem that stops at the cap keeps
    /// its last iterate and says so here; the batch is not an error.
    pub reports: Vec<Report>,
}

/// Problems per dispatch so that each buffer fits the device's binding limit.
fn chunk_size(ctx: &GpuContext, per_problem_bytes: u64) -> usize {
    let limits = ctx.device().limits();
    let cap = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
    ((cap / per_problem_bytes.max(1)) as usize).max(1)
}

/// The normal equations of every problem, computed on the GPU (each entry a dot product over the `n` rows
/// in row order, with fused multiply–adds), centred when `center` is set.
///
/// # Errors
/// Shape, parameter and finiteness errors of the batch; the device errors of [`GpuError`].
pub fn batch_normal_equations(ctx: &GpuContext, data: &Batch<'_>, center: bool) -> Result<BatchNormal, GpuError> {
    data.check()?;
    let (n, d) = (data.n, data.d);
    let per_problem = (n * d * 4) as u64;
    let chunk = chunk_size(ctx, per_problem);
    let pipeline = ctx.pipeline("batch_gram", GRAM_WGSL, "batch_gram")?;
    let mut out = BatchNormal {
        gram: Vec::with_capacity(data.batch * d * d),
        cross: Vec::with_capacity(data.batch * d),
        y_sq: Vec::with_capacity(data.batch),
        y_mean: Vec::with_capacity(data.batch),
        x_mean: Vec::with_capacity(data.batch * d),
    };
    for start in (0..data.batch).step_by(chunk) {
        let b = chunk.min(data.batch - start);
        let groups = u32::try_from(b).map_err(|_| GpuError::IndexOverflow {
            what: "batch",
            value: b,
        })?;
        let (gx, gy) = ctx.grid(groups);
        let dims = ctx.uniform(&GramDims {
            batch: groups,
            n: n as u32,
            d: d as u32,
            intercept: center as u32,
            groups_x: gx,
            _pad: [0; 3],
        })?;
        let x = ctx.storage_buffer(
            "batch x",
            &data.x[start * n * d..(start + b) * n * d],
            wgpu::BufferUsages::empty(),
        )?;
        let y = ctx.storage_buffer(
            "batch y",
            &data.y[start * n..(start + b) * n],
            wgpu::BufferUsages::empty(),
        )?;
        let gram = ctx.output::<f32>("batch Gram", b * d * d)?;
        let cross = ctx.output::<f32>("batch Xᵀy", b * d)?;
        let stats = ctx.output::<f32>("batch statistics", b * (d + 2))?;
        ctx.dispatch(&pipeline, &[&dims, &x, &y, &gram, &cross, &stats], (gx, gy))?;
        out.gram.extend(ctx.read_back::<f32>(&gram, b * d * d)?);
        out.cross.extend(ctx.read_back::<f32>(&cross, b * d)?);
        let st = ctx.read_back::<f32>(&stats, b * (d + 2))?;
        for p in st.chunks(d + 2) {
            out.y_sq.push(p[0]);
            out.y_mean.push(p[1]);
            out.x_mean.extend_from_slice(&p[2..]);
        }
    }
    Ok(out)
}

impl BatchElasticNet {
    /// Fits every problem of `data`, problem `b` at penalty `alphas[b] > 0`.
    ///
    /// # Errors
    /// Shape, parameter and finiteness errors; the device errors of [`GpuError`]. A problem whose duality
    /// gap is still above the tolerance after `max_epochs` is not an error: its report says so.
    pub fn fit(&self, ctx: &GpuContext, data: &Batch<'_>, alphas: &[f32]) -> Result<BatchFit, GpuError> {
        let bad = |name, reason| Err(sparsimony_core::Error::InvalidParameter { name, reason }.into());
        if !(0.0..=1.0).contains(&self.l1_ratio) {
            return bad("l1_ratio", "must lie in [0, 1]");
        }
        if !(self.tol > 0.0 && self.tol.is_finite()) || self.max_epochs == 0 || self.check_every == 0 {
            return bad("tol, max_epochs, check_every", "must be positive");
        }
        check_len("alphas (one per problem)", data.batch, alphas.len())?;
        if alphas.iter().any(|a| !(*a > 0.0 && a.is_finite())) {
            // At α = 0 the duality gap is ‖r‖²/2n, which does not vanish: the stopping rule needs a penalty.
            return bad(
                "alphas",
                "must be finite and > 0 (α = 0 is least squares: solve it directly)",
            );
        }
        let normal = batch_normal_equations(ctx, data, self.fit_intercept)?;
        self.fit_normal(ctx, &normal, alphas)
    }

    /// Fits problems given by their normal equations (computed anywhere, e.g. per cross-validation fold on
    /// the CPU), problem `b` at `alphas[b] > 0`; `fit_intercept` is ignored (the equations carry the
    /// centring: intercepts come from their means).
    ///
    /// # Errors
    /// As [`BatchElasticNet::fit`], and shape errors when the arrays of `normal` disagree.
    pub fn fit_normal(&self, ctx: &GpuContext, normal: &BatchNormal, alphas: &[f32]) -> Result<BatchFit, GpuError> {
        let batch = normal.y_sq.len();
        let d = normal.cross.len() / batch.max(1);
        check_len("Xᵀy/n (batch · d values)", batch * d, normal.cross.len())?;
        check_len("XᵀX/n (batch · d · d values)", batch * d * d, normal.gram.len())?;
        check_len("column means (batch · d values)", batch * d, normal.x_mean.len())?;
        check_len("means of y (one per problem)", batch, normal.y_mean.len())?;
        check_len("alphas (one per problem)", batch, alphas.len())?;
        if batch == 0 || d == 0 || d > MAX_FEATURES {
            return Err(sparsimony_core::Error::InvalidParameter {
                name: "batch, d",
                reason: "need at least one problem and 1 ≤ d ≤ 256",
            }
            .into());
        }
        check_finite("XᵀX/n", &normal.gram)?;
        check_finite("Xᵀy/n", &normal.cross)?;
        check_finite("yᵀy/n", &normal.y_sq)?;
        let pipeline = ctx.pipeline("batch_cd", CD_WGSL, "batch_cd")?;
        let chunk = chunk_size(ctx, (d * d * 4) as u64);
        let mut fit = BatchFit {
            coef: Vec::with_capacity(batch * d),
            intercept: Vec::with_capacity(batch),
            reports: Vec::with_capacity(batch),
        };
        for start in (0..batch).step_by(chunk) {
            let b = chunk.min(batch - start);
            let groups = b as u32;
            let (gx, gy) = ctx.grid(groups);
            let params = ctx.uniform(&CdParams {
                batch: groups,
                d: d as u32,
                max_epochs: self.max_epochs,
                check_every: self.check_every,
                l1_ratio: self.l1_ratio,
                tol: self.tol,
                groups_x: gx,
                _pad: 0,
            })?;
            let stats: Vec<f32> = (start..start + b)
                .flat_map(|p| {
                    let mut s = vec![normal.y_sq[p], normal.y_mean[p]];
                    s.extend_from_slice(&normal.x_mean[p * d..(p + 1) * d]);
                    s
                })
                .collect();
            let usage = wgpu::BufferUsages::empty();
            let gram = ctx.storage_buffer("batch Gram", &normal.gram[start * d * d..(start + b) * d * d], usage)?;
            let cross = ctx.storage_buffer("batch Xᵀy", &normal.cross[start * d..(start + b) * d], usage)?;
            let stats = ctx.storage_buffer("batch statistics", &stats, usage)?;
            let alpha = ctx.storage_buffer("alphas", &alphas[start..start + b], usage)?;
            let coef = ctx.output::<f32>("coefficients", b * d)?;
            let report = ctx.output::<f32>("gaps and epochs", 2 * b)?;
            ctx.dispatch(
                &pipeline,
                &[&params, &gram, &cross, &stats, &alpha, &coef, &report],
                (gx, gy),
            )?;
            let w = ctx.read_back::<f32>(&coef, b * d)?;
            let rep = ctx.read_back::<f32>(&report, 2 * b)?;
            for (p, wp) in w.chunks(d).enumerate() {
                let q = start + p;
                let dot: f32 = wp
                    .iter()
                    .zip(&normal.x_mean[q * d..(q + 1) * d])
                    .map(|(a, m)| a * m)
                    .sum();
                fit.intercept.push(normal.y_mean[q] - dot);
                // A NaN gap counts as not converged (`Report::new` compares `≤`).
                fit.reports.push(Report::new(
                    rep[2 * p + 1] as usize,
                    Measure::DualityGap,
                    f64::from(rep[2 * p]),
                    f64::from(self.tol * normal.y_sq[q]),
                ));
            }
            fit.coef.extend(w);
        }
        Ok(fit)
    }
}

const STLSQ_WGSL: &str = include_str!("shaders/batch_stlsq.wgsl");

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct StlsqParams {
    batch: u32,
    p: u32,
    max_iter: u32,
    unbias: u32,
    threshold: f32,
    alpha: f32,
    groups_x: u32,
    _pad: u32,
}

/// Batched STLSQ (PySINDy's sequentially thresholded ridge regression, as
/// `sparsimony_solvers::regression::Stlsq`) on normal equations, one workgroup per problem: each round
/// solves the ridge problem on the support (equilibrated Cholesky in `f32`) and drops coefficients below
/// the threshold, until a round drops nothing; then least squares on the support when `unbias` is set.
/// Problems may share a Gram matrix (the targets of one SINDy model, the members of an ensemble on the
/// same rows), so each names the Gram matrix it uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStlsq {
    /// Coefficients below this in magnitude are dropped (PySINDy's default 0.1).
    pub threshold: f32,
    /// Ridge weight `α ≥ 0` on the (unnormalised) coefficients (default 0.05).
    pub alpha: f32,
    /// Cap on thresholding rounds (default 20).
    pub max_iter: u32,
    /// Refit least squares on the final support (default true).
    pub unbias: bool,
}

impl Default for BatchStlsq {
    /// PySINDy's defaults: threshold 0.1, `α = 0.05`, 20 rounds, unbiased.
    fn default() -> Self {
        Self {
            threshold: 0.1,
            alpha: 0.05,
            max_iter: 20,
            unbias: true,
        }
    }
}

impl BatchStlsq {
    /// Fits problem `b` to `grams[gram_index[b]]` (each `p × p`, column-major, `ΘᵀΘ`) and `cross[b·p..]`
    /// (`Θᵀy`). The fit has no intercepts (all 0); each report counts thresholding rounds, judged by
    /// [`Measure::SupportChange`] (converged when the last round dropped nothing; the count itself is not
    /// read back, so an unconverged report says "at least 1").
    ///
    /// # Errors
    /// Shape, parameter and finiteness errors; [`GpuError::Singular`] naming the first problem whose
    /// system on its support is not positive definite; device errors.
    pub fn fit_normal(
        &self,
        ctx: &GpuContext,
        p: usize,
        grams: &[f32],
        gram_index: &[u32],
        cross: &[f32],
    ) -> Result<BatchFit, GpuError> {
        let batch = gram_index.len();
        if p == 0 || p > MAX_FEATURES || batch == 0 {
            return Err(sparsimony_core::Error::InvalidParameter {
                name: "p, batch",
                reason: "need 1 ≤ p ≤ 256 features and at least one problem",
            }
            .into());
        }
        if !(self.threshold >= 0.0 && self.threshold.is_finite() && self.alpha >= 0.0 && self.alpha.is_finite()) {
            return Err(sparsimony_core::Error::InvalidParameter {
                name: "threshold, alpha",
                reason: "must be finite and ≥ 0",
            }
            .into());
        }
        if !grams.len().is_multiple_of(p * p) {
            check_len(
                "grams (a multiple of p · p values)",
                grams.len().div_ceil(p * p) * p * p,
                grams.len(),
            )?;
        }
        let n_grams = grams.len() / (p * p);
        if let Some(index) = gram_index.iter().position(|&g| g as usize >= n_grams) {
            return Err(sparsimony_core::Error::InvalidSparseStructure {
                reason: "gram_index names a Gram matrix that does not exist",
                position: index,
            }
            .into());
        }
        check_len("cross (batch · p values)", batch * p, cross.len())?;
        check_finite("grams", grams)?;
        check_finite("cross", cross)?;
        let pipeline = ctx.pipeline("batch_stlsq", STLSQ_WGSL, "batch_stlsq")?;
        let usage = wgpu::BufferUsages::empty();
        let gram_buf = ctx.storage_buffer("Gram matrices", grams, usage)?;
        let chunk = chunk_size(ctx, (p * p * 4) as u64);
        let (mut coef, mut rounds) = (Vec::with_capacity(batch * p), Vec::with_capacity(batch));
        for start in (0..batch).step_by(chunk) {
            let b = chunk.min(batch - start);
            let (gx, gy) = ctx.grid(b as u32);
            let params = ctx.uniform(&StlsqParams {
                batch: b as u32,
                p: p as u32,
                max_iter: self.max_iter,
                unbias: self.unbias as u32,
                threshold: self.threshold,
                alpha: self.alpha,
                groups_x: gx,
                _pad: 0,
            })?;
            let index = ctx.storage_buffer("Gram index", &gram_index[start..start + b], usage)?;
            let rhs = ctx.storage_buffer("Θᵀy", &cross[start * p..(start + b) * p], usage)?;
            let scratch = ctx.output::<f32>("Cholesky scratch", b * p * p)?;
            let out = ctx.output::<f32>("coefficients", b * p)?;
            let status = ctx.output::<u32>("rounds", b)?;
            ctx.dispatch(
                &pipeline,
                &[&params, &gram_buf, &index, &rhs, &scratch, &out, &status],
                (gx, gy),
            )?;
            coef.extend(ctx.read_back::<f32>(&out, b * p)?);
            rounds.extend(ctx.read_back::<u32>(&status, b)?);
        }
        if let Some(problem) = rounds.iter().position(|&r: &u32| r == u32::MAX) {
            return Err(GpuError::Singular { problem });
        }
        let reports = rounds
            .iter()
            .map(|&r| {
                let shrinking = r & 0x8000_0000 != 0;
                Report::new(
                    (r & 0x7FFF_FFFF) as usize,
                    Measure::SupportChange,
                    f64::from(u8::from(shrinking)),
                    0.0,
                )
            })
            .collect();
        Ok(BatchFit {
            intercept: vec![0.0; batch],
            coef,
            reports,
        })
    }
}
