//! The measurement operator `Φ = G(U₁, U₂) F`: the image's spectrum (a zero-padded 2D FFT read on grid
//! cells, or a non-uniform FFT anywhere), then per visibility the spectrum convolved with the baseline's
//! kernel `d_α ⊛ flip(conj d_β)`.

use std::sync::Arc;

use rayon::prelude::*;
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};
use sparsimony_core::LinearOperator;

use super::checks::{check_len, check_memory, check_scratch};
use super::dde::Ddes;
use super::nufft::Nufft;
use super::observation::{Baseline, Observation, Sampling};
use crate::error::{Error, Result};

/// Rows per piece of the operator's row-wise work: the rows whose model values are computed together (and,
/// under a process group, sent together), and gridded together onto one spectrum by
/// [`Measurement::grid`]. Fixed, so the pieces — and the sums over them — do not depend on the number of
/// threads or processes.
const GRID_PIECE: usize = 4096;

/// One row of the model: the visibility of the ordered baseline `(first, second)` at `time` at frequency
/// `(u, v)` (grid cells), modelled as `Σ_{a,b} u₁_first[a] · conj(u₂_second[b]) · x̂[k − a + b]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub first: usize,
    pub second: usize,
    pub time: usize,
    pub u: f64,
    pub v: f64,
}

/// Where the rows read the image's spectrum.
enum Layout {
    /// On integer cells of the `P × P` FFT ([`Sampling::Cells`]).
    Cells(Spectrum),
    /// Anywhere, each row's `T × T` patch by the non-uniform FFT ([`Sampling::Nufft`]).
    Nufft(Nufft),
}

/// The 2D DFT of an `N × N` real image zero-padded to `P × P`, kept *centred*: frequency `(f_v, f_u)` at
/// index `(f_v + ⌊P/2⌋, f_u + ⌊P/2⌋)`, row-major, with `x̂[f] = Σ_l x[l] e^{−2πi f·l/P}` (unnormalised).
pub(crate) struct Spectrum {
    n: usize,
    p: usize,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    fft_scratch: usize,
}

impl Spectrum {
    pub(crate) fn new(n: usize, p: usize) -> Self {
        let mut planner = FftPlanner::new();
        let forward = planner.plan_fft_forward(p);
        let inverse = planner.plan_fft_inverse(p);
        let fft_scratch = forward.get_inplace_scratch_len().max(inverse.get_inplace_scratch_len());
        Self {
            n,
            p,
            forward,
            inverse,
            fft_scratch,
        }
    }

    /// Complex scratch elements that [`Spectrum::transform`] and [`Spectrum::adjoint`] need besides
    /// their `P²` output.
    pub(crate) fn scratch_len(&self) -> usize {
        self.p * self.p + self.fft_scratch
    }

    /// The centred spectrum of `x` (`N²` values, row-major) into `out` (`P²`).
    pub(crate) fn transform(&self, x: &[f64], out: &mut [Complex64], scratch: &mut [Complex64]) {
        let (n, p, half) = (self.n, self.p, self.p / 2);
        let (tmp, fft_scratch) = scratch.split_at_mut(p * p);
        // Rows: only the first N rows of the padded image are nonzero.
        for (r, row) in tmp.chunks_exact_mut(p).take(n).enumerate() {
            for (c, z) in row.iter_mut().enumerate() {
                *z = Complex64::new(if c < n { x[r * n + c] } else { 0.0 }, 0.0);
            }
            self.forward.process_with_scratch(row, fft_scratch);
        }
        // Columns, through the transpose; the write back centres both axes.
        for u in 0..p {
            let col = &mut out[u * p..(u + 1) * p];
            for (r, z) in col.iter_mut().enumerate() {
                *z = if r < n {
                    tmp[r * p + u]
                } else {
                    Complex64::new(0.0, 0.0)
                };
            }
            self.forward.process_with_scratch(col, fft_scratch);
        }
        // `out` holds the transposed, uncentred spectrum: column u of the image's spectrum in row u.
        tmp.copy_from_slice(out);
        for q_u in 0..p {
            let cu = (q_u + half) % p;
            for q_v in 0..p {
                out[((q_v + half) % p) * p + cu] = tmp[q_u * p + q_v];
            }
        }
    }

    /// The adjoint of [`Spectrum::transform`] as a map of real images: `Re(Fᴴ X)` on the image's pixels,
    /// for a centred spectrum `spectrum` (`P²`, consumed as scratch) into `x` (`N²`).
    pub(crate) fn adjoint(&self, spectrum: &mut [Complex64], x: &mut [f64], scratch: &mut [Complex64]) {
        let (n, p, half) = (self.n, self.p, self.p / 2);
        let (tmp, fft_scratch) = scratch.split_at_mut(p * p);
        // Uncentre and transpose: row u of tmp is column u of the raw spectrum.
        for q_v in 0..p {
            let cv = (q_v + half) % p;
            for q_u in 0..p {
                tmp[q_u * p + q_v] = spectrum[cv * p + (q_u + half) % p];
            }
        }
        for col in tmp.chunks_exact_mut(p) {
            self.inverse.process_with_scratch(col, fft_scratch);
        }
        // Only the first N rows and columns are needed: transpose the first N of each column back.
        for r in 0..n {
            let row = &mut spectrum[r * p..(r + 1) * p];
            for (u, z) in row.iter_mut().enumerate() {
                *z = tmp[u * p + r];
            }
            self.inverse.process_with_scratch(row, fft_scratch);
            for c in 0..n {
                x[r * n + c] = row[c].re;
            }
        }
    }
}

/// The measurement operator of an observation under given DDEs, `Φ = G(U₁, U₂) F`, a real-linear map from
/// an `N × N` real image (row-major) to complex visibilities stored as interleaved `(re, im)` pairs.
///
/// Each measured visibility of baseline `(α, β)` on cell `k` gives **two** rows: `(α, β)` on `k` and the
/// reversed baseline `(β, α)` on `−k`, whose datum is the conjugate. With `U₁ = U₂` the two rows carry
/// the same information; with `U₁ ≠ U₂` (the two copies of the calibration's DDEs) they make the model
/// symmetric in the antennas, so that each antenna's first-copy kernel meets every other antenna.
/// Row `r` models
///
/// `m_r = Σ_c K_r[c] x̂[k_r − c]`,  `K_r = u₁_first ⊛ flip(conj u₂_second)`, `c ∈ [−(S−1), S−1]²`,
///
/// with `x̂` the image's spectrum at `k − c` cells: with [`Sampling::Cells`] the unnormalised DFT of the
/// image zero-padded to `P × P`, with [`Sampling::Nufft`] the measurement equation about the image's centre
/// (see [`Nufft`](super::Nufft)), each row's `(2S − 1)²` values interpolated (see [`Ddes`] for the taps'
/// convention). Built in `O(rows · S⁴)`; applied in one FFT and `O(rows · (2S − 1)²)` on the cells, one
/// oversampled FFT and `O(rows · (2S − 1)² w)` off them (`w` the NUFFT kernel's width).
///
/// Under a process group installed on the calling thread ([`crate::distributed`]), the rows' model values
/// and, on the cells, the adjoint's gridding are shared among the processes in fixed pieces of rows (the
/// adjoint's pieces added along a fixed tree), with the bits of one process; every process holds every
/// row, and the FFTs and, off the cells, the NUFFT's spreading and interpolation run on each.
pub struct Measurement {
    layout: Layout,
    rows: Vec<Row>,
    /// Each row's `√(w/w̄)` (the relative weight of its visibility), where the observation has weights.
    row_scale: Option<Vec<f64>>,
    side: usize,
    kernels: Vec<Complex64>,
}

impl std::fmt::Debug for Measurement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Measurement")
            .field("image_size", &self.image_size())
            .field("rows", &self.rows.len())
            .field("kernel_side", &self.side)
            .finish()
    }
}

/// The two model rows of each visibility, in the order of [`Measurement`]'s rows.
pub(crate) fn ordered_rows(baselines: &[Baseline]) -> Vec<Row> {
    baselines
        .iter()
        .flat_map(|b| {
            [
                Row {
                    first: b.antenna1,
                    second: b.antenna2,
                    time: b.time,
                    u: b.u,
                    v: b.v,
                },
                Row {
                    first: b.antenna2,
                    second: b.antenna1,
                    time: b.time,
                    u: -b.u,
                    v: -b.v,
                },
            ]
        })
        .collect()
}

/// The data in the order of [`Measurement`]'s rows, interleaved: `y_j` then `conj(y_j)` for each
/// visibility `j`, scaled by `√(w_j / w̄)` where the observation has weights (as the operator's rows are).
///
/// # Errors
/// The weights' defects ([`Observation::validate`]'s): another count than the values, a negative or
/// non-finite weight, all zero.
pub fn ordered_data(observation: &Observation) -> Result<Vec<f64>> {
    observation.check_weights()?;
    let scales = observation.row_scales();
    Ok(observation
        .values
        .iter()
        .enumerate()
        .flat_map(|(j, y)| {
            let s = scales.as_ref().map_or(1.0, |w| w[j]);
            [s * y.re, s * y.im, s * y.re, -s * y.im]
        })
        .collect())
}

impl Measurement {
    /// The operator of `observation` under the DDE copies `u1` (of each row's first antenna) and `u2`
    /// (conjugated, of its second).
    ///
    /// # Errors
    /// The observation's defects ([`Observation::validate`] at the kernels' side) and [`Error::Shape`]
    /// when `u1` and `u2` differ in shape or do not match the observation's antennas and time steps.
    pub fn new(observation: &Observation, u1: &Ddes, u2: &Ddes) -> Result<Self> {
        observation.validate(u1.size())?;
        // Refused before allocating: the rows' kernels and the FFT's three P² buffers.
        let (p, side) = (observation.grid_size as u128, 2 * u1.size() as u128 - 1);
        let bytes = 16 * (2 * observation.baselines.len() as u128 * side * side + 3 * p * p);
        check_memory(
            "visibilities",
            bytes,
            || "the measurement operator".into(),
            || {
                format!(
                    "kernels of {} visibilities at S = {}, a {p}² grid",
                    observation.baselines.len(),
                    u1.size()
                )
            },
        )?;
        let rows = ordered_rows(&observation.baselines);
        let side = 2 * u1.size() - 1;
        let layout = match observation.sampling {
            Sampling::Cells => Layout::Cells(Spectrum::new(observation.image_size, observation.grid_size)),
            Sampling::Nufft { tolerance } => {
                let p = observation.grid_size as f64;
                let frequencies: Vec<[f64; 2]> = rows.iter().map(|r| [r.u / p, r.v / p]).collect();
                Layout::Nufft(Nufft::with_patches(
                    observation.image_size,
                    &frequencies,
                    tolerance,
                    side,
                    1.0 / p,
                )?)
            }
        };
        let row_scale = observation
            .row_scales()
            .map(|s| s.iter().flat_map(|s| [*s; 2]).collect());
        let mut op = Self {
            layout,
            rows,
            row_scale,
            side,
            kernels: Vec::new(),
        };
        op.set_ddes(u1, u2)?;
        Ok(op)
    }

    /// Rebuilds the rows' kernels for new DDEs of the same shape as at construction.
    ///
    /// # Errors
    /// [`Error::Shape`] when `u1` or `u2` has another kernel side, antenna count or time count than the
    /// operator's rows need.
    pub fn set_ddes(&mut self, u1: &Ddes, u2: &Ddes) -> Result<()> {
        let s = u1.size();
        for (what, a, b) in [
            ("DDE kernel side of the two copies", u2.size(), s),
            ("DDE antennas of the two copies", u2.n_antennas(), u1.n_antennas()),
            ("DDE time steps of the two copies", u2.n_times(), u1.n_times()),
            ("convolution side 2S − 1", 2 * s - 1, self.side),
        ] {
            if a != b {
                return Err(Error::Shape {
                    what,
                    expected: b,
                    found: a,
                });
            }
        }
        if let Some(r) = self
            .rows
            .iter()
            .find(|r| r.first.max(r.second) >= u1.n_antennas() || r.time >= u1.n_times())
        {
            return Err(Error::Shape {
                what: "DDE antennas or time steps against the observation",
                expected: r.first.max(r.second).max(r.time) + 1,
                found: u1.n_antennas().min(u1.n_times()),
            });
        }
        let t = self.side;
        self.kernels.resize(self.rows.len() * t * t, Complex64::new(0.0, 0.0));
        let row_scale = self.row_scale.as_deref();
        self.kernels
            .par_chunks_mut(t * t)
            .zip(self.rows.par_iter().enumerate())
            .for_each(|(kernel, (r, row))| {
                kernel.fill(Complex64::new(0.0, 0.0));
                let d1 = u1.kernel(row.time, row.first);
                let d2 = u2.kernel(row.time, row.second);
                // K[c] = Σ_{a − b = c} d1[a] conj(d2[b]), stored reversed: index (S−1) − c per axis.
                for (ia, &x1) in d1.iter().enumerate() {
                    let (av, au) = (ia / s, ia % s);
                    for (ib, &x2) in d2.iter().enumerate() {
                        let (bv, bu) = (ib / s, ib % s);
                        let iv = s - 1 - av + bv;
                        let iu = s - 1 - au + bu;
                        kernel[iv * t + iu] += x1 * x2.conj();
                    }
                }
                if let Some(scale) = row_scale {
                    kernel.iter_mut().for_each(|k| *k *= scale[r]);
                }
            });
        Ok(())
    }

    /// The number of model rows (twice the visibilities).
    pub fn n_rows(&self) -> usize {
        self.rows.len()
    }

    pub(crate) fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Each row's `√(w/w̄)`, where the observation has weights.
    pub(crate) fn row_scale(&self) -> Option<&[f64]> {
        self.row_scale.as_deref()
    }

    /// `Σ_r ‖K_r‖²` over the rows' kernels (row scales included): the squared column norm of `Φ`
    /// averaged over the `P²` pixel positions of the padded grid.
    pub(crate) fn kernel_energy(&self) -> f64 {
        self.kernels.iter().map(|k| k.norm_sqr()).sum()
    }

    /// The side `T = 2S − 1` of each row's patch of the spectrum.
    pub(crate) fn patch_side(&self) -> usize {
        self.side
    }

    /// The pixel (per axis) at which the spectrum's phases are zero: 0 on the cells (the padded FFT's
    /// origin), `⌊N/2⌋` off them (the NUFFT's measurement equation about the image's centre).
    pub(crate) fn phase_origin(&self) -> f64 {
        match &self.layout {
            Layout::Cells(_) => 0.0,
            Layout::Nufft(nufft) => (nufft.image_size() / 2) as f64,
        }
    }

    fn image_size(&self) -> usize {
        match &self.layout {
            Layout::Cells(spectrum) => spectrum.n,
            Layout::Nufft(nufft) => nufft.image_size(),
        }
    }

    /// The index in the centred spectrum of row `row`'s first tap (the cell `k − (S − 1)` per axis).
    fn block_start(&self, p: usize, row: &Row) -> usize {
        let p = p as i64;
        let reach = (self.side as i64 - 1) / 2;
        ((row.v as i64 - reach + p / 2) * p + (row.u as i64 - reach + p / 2)) as usize
    }

    /// Every row's patch of the image `x`: the `T²` spectrum values `x̂[k − (S − 1) + i]` (`i` per axis,
    /// row-major `v` over `u`) its kernel multiplies, in the kernels' order.
    pub(crate) fn patches(&self, x: &[f64]) -> Vec<Complex64> {
        let t2 = self.side * self.side;
        let zero = Complex64::new(0.0, 0.0);
        let mut out = vec![zero; self.rows.len() * t2];
        match &self.layout {
            Layout::Cells(spectrum) => {
                let p = spectrum.p;
                let mut x_hat = vec![zero; p * p];
                let mut scratch = vec![zero; spectrum.scratch_len()];
                spectrum.transform(x, &mut x_hat, &mut scratch);
                out.par_chunks_mut(t2)
                    .zip(self.rows.par_iter())
                    .for_each(|(patch, row)| {
                        let start = self.block_start(p, row);
                        for (iv, patch_row) in patch.chunks_exact_mut(self.side).enumerate() {
                            patch_row.copy_from_slice(&x_hat[start + iv * p..start + iv * p + self.side]);
                        }
                    });
            }
            Layout::Nufft(nufft) => {
                nufft.patches(x, &mut out, &mut vec![zero; nufft.grid_scratch_len()]);
            }
        }
        out
    }

    /// The model visibilities from every row's patch ([`Measurement::patches`]), one complex value per row.
    ///
    /// # Errors
    /// A failed exchange between the processes of a group installed on this thread.
    pub(crate) fn model(&self, patches: &[Complex64], out: &mut [Complex64]) -> Result<()> {
        let t2 = self.side * self.side;
        each_row(out, |r| {
            let (kernel, patch) = (&self.kernels[r * t2..(r + 1) * t2], &patches[r * t2..(r + 1) * t2]);
            let mut acc = Complex64::new(0.0, 0.0);
            for (k, z) in kernel.iter().zip(patch) {
                acc += k * z;
            }
            acc
        })
    }

    /// The model visibilities of a centred spectrum `x_hat` on the cells, one complex value per row (the
    /// same as [`Measurement::model`] of the patches, without copying them).
    fn degrid(&self, p: usize, x_hat: &[Complex64], out: &mut [Complex64]) -> Result<()> {
        let t = self.side;
        each_row(out, |r| {
            let start = self.block_start(p, &self.rows[r]);
            let mut acc = Complex64::new(0.0, 0.0);
            for (iv, k_row) in self.kernels[r * t * t..(r + 1) * t * t].chunks_exact(t).enumerate() {
                let spec = &x_hat[start + iv * p..start + iv * p + t];
                for (k, z) in k_row.iter().zip(spec) {
                    acc += k * z;
                }
            }
            acc
        })
    }

    /// The adjoint of [`Measurement::degrid`]: `Gᴴ z` accumulated into a centred spectrum (overwritten).
    /// Rows are gridded in fixed pieces of [`GRID_PIECE`] rows (more where the grid's `P²` exceeds a
    /// piece's `GRID_PIECE · T²` taps), each onto its own spectrum, and the spectra
    /// summed along a fixed tree ([`crate::distributed`]'s `tree_sum`): the same result on any number of
    /// threads, and of processes of a group installed on this thread, which share the pieces.
    fn grid(&self, p: usize, z: &[Complex64], x_hat: &mut [Complex64]) -> Result<()> {
        let (t, n) = (self.side, self.rows.len());
        // At least enough rows that a piece's gridding (T² per row) outweighs zeroing and adding its own P²
        // spectrum: a choice by the sizes only, like the pieces themselves.
        let rows_per_piece = GRID_PIECE.max((p * p).div_ceil(t * t));
        let sum = crate::distributed::tree_sum(n.div_ceil(rows_per_piece), |k| {
            let mut piece = vec![0.0; 2 * p * p];
            let out: &mut [Complex64] = bytemuck::cast_slice_mut(&mut piece);
            let rows = k * rows_per_piece..((k + 1) * rows_per_piece).min(n);
            let kernels = self.kernels[rows.start * t * t..rows.end * t * t].chunks_exact(t * t);
            for ((row, kernel), &zr) in self.rows[rows.clone()].iter().zip(kernels).zip(&z[rows]) {
                let start = self.block_start(p, row);
                for (iv, k_row) in kernel.chunks_exact(t).enumerate() {
                    let spec = &mut out[start + iv * p..start + iv * p + t];
                    for (k, s) in k_row.iter().zip(spec) {
                        *s += k.conj() * zr;
                    }
                }
            }
            Ok(piece)
        })?;
        match sum.len() {
            0 => x_hat.fill(Complex64::new(0.0, 0.0)),
            len if len == 2 * x_hat.len() => x_hat.copy_from_slice(bytemuck::cast_slice(&sum)),
            _ => return Err(crate::distributed::garbled("a gridded spectrum")),
        }
        Ok(())
    }

    /// Complex scratch the operator needs: on the cells the spectrum and the FFT's; off them the NUFFT's
    /// grids and the rows' patches.
    fn complex_scratch_len(&self) -> usize {
        match &self.layout {
            Layout::Cells(spectrum) => spectrum.p * spectrum.p + spectrum.scratch_len(),
            Layout::Nufft(nufft) => nufft.grid_scratch_len() + self.rows.len() * self.side * self.side,
        }
    }
}

impl LinearOperator<f64> for Measurement {
    fn nrows(&self) -> usize {
        2 * self.rows.len()
    }
    fn ncols(&self) -> usize {
        self.image_size() * self.image_size()
    }
    fn scratch_len(&self) -> usize {
        2 * self.complex_scratch_len()
    }
    fn apply(&self, x: &[f64], y: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        check_len("x (image pixels)", self.ncols(), x.len())?;
        check_len("y (visibility reals)", self.nrows(), y.len())?;
        check_scratch(self.scratch_len(), scratch.len())?;
        let scratch: &mut [Complex64] = bytemuck::cast_slice_mut(&mut scratch[..self.scratch_len()]);
        let model: &mut [Complex64] = bytemuck::cast_slice_mut(y);
        match &self.layout {
            Layout::Cells(spectrum) => {
                let (x_hat, rest) = scratch.split_at_mut(spectrum.p * spectrum.p);
                spectrum.transform(x, x_hat, rest);
                self.degrid(spectrum.p, x_hat, model).map_err(exchange)?;
            }
            Layout::Nufft(nufft) => {
                let (grids, patches) = scratch.split_at_mut(nufft.grid_scratch_len());
                let patches = &mut patches[..self.rows.len() * self.side * self.side];
                nufft.patches(x, patches, grids);
                self.model(patches, model).map_err(exchange)?;
            }
        }
        Ok(())
    }
    fn apply_adjoint(&self, x: &[f64], y: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        check_len("x (visibility reals)", self.nrows(), x.len())?;
        check_len("y (image pixels)", self.ncols(), y.len())?;
        check_scratch(self.scratch_len(), scratch.len())?;
        let scratch: &mut [Complex64] = bytemuck::cast_slice_mut(&mut scratch[..self.scratch_len()]);
        let z: &[Complex64] = bytemuck::cast_slice(x);
        match &self.layout {
            Layout::Cells(spectrum) => {
                let (x_hat, rest) = scratch.split_at_mut(spectrum.p * spectrum.p);
                self.grid(spectrum.p, z, x_hat).map_err(exchange)?;
                spectrum.adjoint(x_hat, y, rest);
            }
            Layout::Nufft(nufft) => {
                // Each row's patch receives conj(K_r)·z_r, then the NUFFT's adjoint takes the patches.
                let t2 = self.side * self.side;
                let (grids, patches) = scratch.split_at_mut(nufft.grid_scratch_len());
                let patches = &mut patches[..self.rows.len() * t2];
                patches
                    .par_chunks_mut(t2)
                    .zip(self.kernels.par_chunks(t2).zip(z.par_iter()))
                    .for_each(|(patch, (kernel, &zr))| {
                        patch.iter_mut().zip(kernel).for_each(|(p, k)| *p = k.conj() * zr);
                    });
                nufft.patches_adjoint(patches, y, grids);
            }
        }
        Ok(())
    }
}

/// `value(r)` of every row `r` in `0..out.len()` into `out`: the rows in fixed pieces of [`GRID_PIECE`],
/// each piece's rows in parallel; under a process group installed on this thread, each process computes its
/// share of the pieces and receives the others' (two values per row; see [`crate::distributed`]).
pub(crate) fn each_row(out: &mut [Complex64], value: impl Fn(usize) -> Complex64 + Sync) -> Result<()> {
    let n = out.len();
    let pieces = crate::parallel::map_in_order(n.div_ceil(GRID_PIECE), |k| {
        let rows = k * GRID_PIECE..((k + 1) * GRID_PIECE).min(n);
        let mut values = vec![0.0; 2 * rows.len()];
        bytemuck::cast_slice_mut::<f64, Complex64>(&mut values)
            .par_iter_mut()
            .zip(rows.into_par_iter())
            .for_each(|(v, r)| *v = value(r));
        Ok(values)
    })?;
    unpack_complex(&pieces, out, GRID_PIECE, "a piece of model visibilities")
}

/// Complex values that crossed between processes as `re, im` pairs (one vector per item of a
/// `map_in_order`), copied into `out` in order, `per_item` values each (the last item may hold fewer).
///
/// # Errors
/// An item of another length than its place in `out` ([`crate::distributed`]'s garbled-values error,
/// naming `what`).
pub(crate) fn unpack_complex(items: &[Vec<f64>], out: &mut [Complex64], per_item: usize, what: &str) -> Result<()> {
    for (chunk, item) in out.chunks_mut(per_item).zip(items) {
        if item.len() != 2 * chunk.len() {
            return Err(crate::distributed::garbled(what));
        }
        chunk.copy_from_slice(bytemuck::cast_slice(item));
    }
    Ok(())
}

/// The core's error for a failed exchange between processes inside the operator (the group's own error,
/// with its details, is lost at the core's interface, which holds no strings).
fn exchange(_: Error) -> sparsimony_core::Error {
    sparsimony_core::Error::Exchange {
        what: "the radio measurement operator",
    }
}
