//! The non-uniform FFT of a pixel image at arbitrary spatial frequencies (the visibilities of an
//! interferometer in physical units), and its exact adjoint: the "exponential of semicircle" kernel of
//! Barnett, Magland & af Klinteberg (SIAM J. Sci. Comput. 41, 2019 — FINUFFT's), on a grid oversampled
//! twice, with the kernel's width chosen for a stated accuracy.
//!
//! Written here rather than taken from a crate: the direction-dependent effects are convolved with the
//! interpolation kernel row by row on the oversampled grid (PURIFY's `G` matrix), which needs the kernel's
//! weights per visibility — no NUFFT crate exposes them.
//!
//! **Convention.** Pixel `(r, c)` of an `N × N` row-major image sits at `(l_v, l_u) = (r − ⌊N/2⌋,
//! c − ⌊N/2⌋)` pixels from the centre, and the visibility at `ν = (ν_u, ν_v)` cycles per pixel is
//!
//! `V(ν) = Σ_{r,c} x[r, c] · e^{−2πi (ν_u l_u + ν_v l_v)}`.
//!
//! `V` is 1-periodic in each `ν` (pixel positions are integers), so any finite frequency is accepted.
//!
//! **Algorithm** (type 2; the adjoint reverses each step): the image divided by the kernel's Fourier
//! transform per axis (`φ̂`, by Gauss–Legendre quadrature), zero-padded to `M × M` (`M ≥ 2N`, 5-smooth),
//! FFT'd; each visibility then interpolated from the `w × w` grid values around `ν·M` with weights
//! `φ(ν_u M − j_u) φ(ν_v M − j_v)`, `φ(z) = e^{β(√(1 − (2z/w)²) − 1)}`. The error is about `10^{1−w}`
//! relative to `Σ|x|` (`w = ⌈log₁₀(1/ε)⌉ + 1`, `β = 2.30 w`, the paper's choice for 2× oversampling).

use std::sync::Arc;

use rayon::prelude::*;
use rustfft::num_complex::Complex64;
use rustfft::{Fft, FftPlanner};
use sparsimony_core::LinearOperator;

use super::checks::{check_len, check_memory, check_scratch};
use crate::error::{Error, Result};

/// The widest kernel (grid cells per axis): the kernel's own error about `10⁻¹⁵`; in practice the FFT's
/// rounding leaves about `10⁻¹⁴` relative to `Σ|x|` (f64's end).
pub const MAX_WIDTH: usize = 16;

/// Grid rows spread together by the adjoint: each strip of rows of the oversampled grid is spread by one
/// task into its own buffer, and the buffers are added in strip order, so the result does not depend on
/// the thread count.
const STRIP: usize = 32;

/// The "exponential of semicircle" kernel `φ(z) = e^{β(√(1 − (2z/w)²) − 1)}` on `|z| < w/2` grid cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpSemicircle {
    width: usize,
    beta: f64,
}

impl ExpSemicircle {
    /// The kernel for a relative accuracy `tolerance` on the twice-oversampled grid:
    /// `w = ⌈log₁₀(1/ε)⌉ + 1` cells (at least 2, at most [`MAX_WIDTH`]), `β = 2.30 w`.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a tolerance outside `[10⁻¹⁵, 10⁻¹]` or not finite.
    pub fn for_tolerance(tolerance: f64) -> Result<Self> {
        if !(1e-15..=1e-1).contains(&tolerance) {
            return Err(Error::InvalidParameter {
                name: "tolerance",
                reason: format!(
                    "the NUFFT's relative accuracy must lie in [1e-15, 1e-1] (f64 ends near 1e-15), got {tolerance:e}"
                ),
            });
        }
        let width = ((1.0 / tolerance).log10().ceil() as usize + 1).clamp(2, MAX_WIDTH);
        Ok(Self {
            width,
            beta: 2.30 * width as f64,
        })
    }

    /// The width `w` in grid cells.
    pub fn width(&self) -> usize {
        self.width
    }

    /// `φ(z)`, zero outside `|z| < w/2`.
    pub fn eval(&self, z: f64) -> f64 {
        let t = 2.0 * z / self.width as f64;
        if t.abs() >= 1.0 {
            0.0
        } else {
            (self.beta * ((1.0 - t * t).sqrt() - 1.0)).exp()
        }
    }

    /// The Fourier transform `φ̂(ξ) = ∫ φ(z) e^{−2πiξz} dz` (real: `φ` is even) at `ξ` cycles per grid cell,
    /// by Gauss–Legendre quadrature on `[0, w/2]` with `nodes` (from [`gauss_legendre`]).
    fn fourier(&self, xi: f64, nodes: &[(f64, f64)]) -> f64 {
        let half = 0.5 * self.width as f64;
        // Nodes on [−1, 1] mapped to [0, w/2]; the integrand is even, so twice the half-line.
        nodes
            .iter()
            .map(|&(t, weight)| {
                let z = half * 0.5 * (t + 1.0);
                weight * self.eval(z) * (2.0 * std::f64::consts::PI * xi * z).cos()
            })
            .sum::<f64>()
            * half
    }
}

/// The `n`-point Gauss–Legendre rule on `[−1, 1]` as (node, weight) pairs: the roots of `P_n` by Newton's
/// method from Tricomi's initial guesses, the weights `2/((1 − t²) P_n′(t)²)`.
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| {
            let mut t = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut derivative = 1.0;
            for _ in 0..100 {
                // P_n(t) and P_n′(t) by the three-term recurrence.
                let (mut p0, mut p1) = (1.0, t);
                for k in 2..=n {
                    let k = k as f64;
                    (p0, p1) = (p1, ((2.0 * k - 1.0) * t * p1 - (k - 1.0) * p0) / k);
                }
                derivative = n as f64 * (t * p1 - p0) / (t * t - 1.0);
                let step = p1 / derivative;
                t -= step;
                if step.abs() < 1e-16 {
                    break;
                }
            }
            (t, 2.0 / ((1.0 - t * t) * derivative * derivative))
        })
        .collect()
}

/// The smallest `m ≥ n` whose only prime factors are 2, 3 and 5, and even (the FFT's fast sizes).
fn smooth_size(n: usize) -> usize {
    let mut m = n.max(2);
    loop {
        let mut r = m;
        for f in [2, 3, 5] {
            while r.is_multiple_of(f) {
                r /= f;
            }
        }
        if r == 1 && m.is_multiple_of(2) {
            return m;
        }
        m += 1;
    }
}

/// `Σ_b weights[b] · row[(start + b) mod M]`.
#[inline]
fn read_wrapped(row: &[Complex64], start: usize, weights: &[f64]) -> Complex64 {
    let mut acc = Complex64::new(0.0, 0.0);
    if start + weights.len() <= row.len() {
        for (g, &f) in row[start..start + weights.len()].iter().zip(weights) {
            acc += g * f;
        }
    } else {
        for (b, &f) in weights.iter().enumerate() {
            acc += row[(start + b) % row.len()] * f;
        }
    }
    acc
}

/// `row[(start + b) mod M] += weights[b] · value`: the adjoint of [`read_wrapped`].
#[inline]
fn add_wrapped(row: &mut [Complex64], start: usize, weights: &[f64], value: Complex64) {
    let m = row.len();
    if start + weights.len() <= m {
        for (g, &f) in row[start..start + weights.len()].iter_mut().zip(weights) {
            *g += value * f;
        }
    } else {
        for (b, &f) in weights.iter().enumerate() {
            row[(start + b) % m] += value * f;
        }
    }
}

/// The NUFFT measurement operator of an `N × N` real image at given frequencies: a real-linear map to
/// complex visibilities stored as interleaved `(re, im)` pairs, with its exact adjoint (the dot-product
/// test holds to rounding). See the module's documentation for the convention.
///
/// Inside the crate it also serves the calibration's direction-dependent effects: each visibility then
/// reads a *patch* of `T × T` frequencies `ν + (i − (T − 1)/2)·δ` (`i` per axis, `δ` the DDE taps'
/// spacing), the spectrum values its DDE kernel is convolved with, each interpolated as a visibility is.
pub struct Nufft {
    image_size: usize,
    grid_size: usize,
    kernel: ExpSemicircle,
    tolerance: f64,
    /// `1/φ̂` of each pixel's offset from the centre, per axis (the same on both).
    correction: Vec<f64>,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
    fft_scratch: usize,
    /// The patch side `T` (1: the visibilities alone).
    side: usize,
    /// Per visibility, the first grid cell (mod `M`) of patch point 0's window along `u` and `v`.
    base: Vec<[usize; 2]>,
    /// Per visibility, `2T` window starts relative to `base` (the `u` points, then the `v` points).
    offsets: Vec<u32>,
    /// Per visibility, `2T·w` weights: each `u` point's `φ(t − j)` over its window, then each `v` point's.
    weights: Vec<f64>,
    /// The most grid rows (`u`) one visibility's patch reads.
    span: usize,
    /// The visibilities of each strip of [`STRIP`] grid rows, by the first row they read.
    strips: Vec<Vec<usize>>,
}

impl std::fmt::Debug for Nufft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nufft")
            .field("image_size", &self.image_size)
            .field("grid_size", &self.grid_size)
            .field("kernel", &self.kernel)
            .field("tolerance", &self.tolerance)
            .field("visibilities", &self.base.len())
            .field("patch_side", &self.side)
            .finish()
    }
}

impl Nufft {
    /// The operator of an `image_size × image_size` image at `frequencies` (`(ν_u, ν_v)` cycles per
    /// pixel), to relative accuracy `tolerance` ([`ExpSemicircle::for_tolerance`]).
    ///
    /// # Errors
    /// [`Error::Empty`] without frequencies, [`Error::NonFinite`] for a NaN or infinite frequency,
    /// [`Error::InvalidParameter`] for an image under 2 pixels, a tolerance out of range, or a grid or
    /// weight table beyond memory.
    pub fn new(image_size: usize, frequencies: &[[f64; 2]], tolerance: f64) -> Result<Self> {
        Self::with_patches(image_size, frequencies, tolerance, 1, 0.0)
    }

    /// The operator whose every visibility reads a `side × side` patch of frequencies `spacing` cycles
    /// per pixel apart, centred on its own (`side` odd; `side = 1` is [`Nufft::new`]).
    ///
    /// # Errors
    /// As [`Nufft::new`], and [`Error::InvalidParameter`] (`"dde_size"`) for an even side or a patch
    /// spanning half a cycle per pixel or more (the grid's strips are sized for less).
    pub(crate) fn with_patches(
        image_size: usize,
        frequencies: &[[f64; 2]],
        tolerance: f64,
        side: usize,
        spacing: f64,
    ) -> Result<Self> {
        let kernel = ExpSemicircle::for_tolerance(tolerance)?;
        // Beyond 2³¹ pixels a side the grid's sizes would overflow before the memory check could refuse.
        if !(2..=1 << 31).contains(&image_size) {
            return Err(Error::InvalidParameter {
                name: "image_size",
                reason: format!("the image must be 2 to 2^31 pixels wide, got {image_size}"),
            });
        }
        if frequencies.is_empty() {
            return Err(Error::Empty {
                what: "visibility frequencies",
                rows: 0,
                cols: 2,
            });
        }
        if let Some(row) = frequencies.iter().position(|f| !(f[0].is_finite() && f[1].is_finite())) {
            return Err(Error::NonFinite {
                what: "visibility frequencies",
                row,
                col: usize::from(frequencies[row][0].is_finite()),
            });
        }
        let extent = spacing * side.saturating_sub(1) as f64;
        if side.is_multiple_of(2) || !(0.0..0.5).contains(&extent) {
            return Err(Error::InvalidParameter {
                name: "dde_size",
                reason: format!(
                    "the DDE kernels' {side} taps per axis, {spacing:e} cycles per pixel apart, span {extent:e}: the side must \
                     be odd and the span under 1/2 cycle per pixel"
                ),
            });
        }
        let w = kernel.width;
        // At least 2N (the oversampling the kernel's β is chosen for), and more than a strip's buffer, so
        // that no buffer row meets the same grid row twice.
        let span_at = |m: usize| w + 1 + (extent * m as f64).ceil() as usize;
        let mut m = smooth_size((2 * image_size).max(STRIP + span_at(2 * image_size)));
        while STRIP + span_at(m) > m {
            m = smooth_size(m + 1);
        }
        let per_visibility = 24 + 4 * 2 * side as u128 + 8 * 2 * (side * w) as u128;
        // Two grids, and the adjoint's strip buffers: each strip's rows and the span after them.
        let span = span_at(m) as u128;
        let grids = 2 * (m as u128).pow(2) + (m as u128).div_ceil(STRIP as u128) * (STRIP as u128 + span) * m as u128;
        check_memory(
            "image_size",
            16 * grids + frequencies.len() as u128 * per_visibility,
            || "the NUFFT".into(),
            || {
                format!(
                    "a {m}² oversampled grid, {} visibilities at width {w}, {side}² patches",
                    frequencies.len()
                )
            },
        )?;
        let nodes = gauss_legendre(4 * w + 8);
        let half = (image_size / 2) as f64;
        let correction = (0..image_size)
            .map(|i| 1.0 / kernel.fourier((i as f64 - half) / m as f64, &nodes))
            .collect();
        let mut planner = FftPlanner::new();
        let forward = planner.plan_fft_forward(m);
        let inverse = planner.plan_fft_inverse(m);
        let fft_scratch = forward.get_inplace_scratch_len().max(inverse.get_inplace_scratch_len());

        let n_vis = frequencies.len();
        let mut base = Vec::with_capacity(n_vis);
        let mut offsets = vec![0u32; 2 * side * n_vis];
        let mut weights = vec![0.0; 2 * side * w * n_vis];
        let mut strips = vec![Vec::new(); m.div_ceil(STRIP)];
        let (mf, reach, mut span) = (m as f64, (side - 1) / 2, 0);
        for (r, f) in frequencies.iter().enumerate() {
            let mut first = [0usize; 2];
            for (axis, &nu) in f.iter().enumerate() {
                // Patch point 0's grid position in [0, M); point i lies i·δM cells beyond it.
                let lowest = nu - reach as f64 * spacing;
                let t0 = (lowest - lowest.floor()) * mf;
                let mut start0 = 0.0;
                for i in 0..side {
                    let t = t0 + i as f64 * spacing * mf;
                    let start = (t - 0.5 * w as f64).ceil();
                    if i == 0 {
                        start0 = start;
                    }
                    offsets[(2 * r + axis) * side + i] = (start - start0) as u32;
                    let out = &mut weights[((2 * r + axis) * side + i) * w..][..w];
                    for (a, o) in out.iter_mut().enumerate() {
                        *o = kernel.eval(t - (start + a as f64));
                    }
                }
                first[axis] = (start0 as i64).rem_euclid(m as i64) as usize;
            }
            span = span.max(offsets[2 * r * side + side - 1] as usize + w);
            base.push(first);
            strips[first[0] / STRIP].push(r);
        }
        Ok(Self {
            image_size,
            grid_size: m,
            kernel,
            tolerance,
            correction,
            forward,
            inverse,
            fft_scratch,
            side,
            base,
            offsets,
            weights,
            span,
            strips,
        })
    }

    /// The image side `N` (pixels).
    pub fn image_size(&self) -> usize {
        self.image_size
    }
    /// The oversampled grid side `M`.
    pub fn grid_size(&self) -> usize {
        self.grid_size
    }
    /// The interpolation kernel.
    pub fn kernel(&self) -> ExpSemicircle {
        self.kernel
    }
    /// The requested relative accuracy.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }
    /// The number of visibilities.
    pub fn n_visibilities(&self) -> usize {
        self.base.len()
    }

    /// Complex scratch that [`Nufft::patches`] and [`Nufft::patches_adjoint`] need: two grids.
    pub(crate) fn grid_scratch_len(&self) -> usize {
        2 * self.grid_size * self.grid_size
    }

    /// Every visibility's patch of the image `x` (`N²`, row-major) into `out` (`T²` per visibility, `v`
    /// points row-major over `u` points; `T = 1`: the visibilities).
    pub(crate) fn patches(&self, x: &[f64], out: &mut [Complex64], scratch: &mut [Complex64]) {
        let m2 = self.grid_size * self.grid_size;
        let (grid, tmp) = scratch[..2 * m2].split_at_mut(m2);
        self.image_to_grid(x, grid, tmp);
        self.degrid(grid, out);
    }

    /// The adjoint of [`Nufft::patches`] as a map of real images: `values` (`T²` per visibility) into `x`.
    pub(crate) fn patches_adjoint(&self, values: &[Complex64], x: &mut [f64], scratch: &mut [Complex64]) {
        let m2 = self.grid_size * self.grid_size;
        let (grid, tmp) = scratch[..2 * m2].split_at_mut(m2);
        self.spread(values, grid);
        self.grid_to_image(grid, x, tmp);
    }

    /// Visibility `r`'s window starts and weights: (`u` offsets, `v` offsets, `u` weights, `v` weights).
    fn footprint(&self, r: usize) -> (&[u32], &[u32], &[f64], &[f64]) {
        let (t, w) = (self.side, self.kernel.width);
        let (ou, ov) = self.offsets[2 * t * r..2 * t * (r + 1)].split_at(t);
        let (wu, wv) = self.weights[2 * t * w * r..2 * t * w * (r + 1)].split_at(t * w);
        (ou, ov, wu, wv)
    }

    /// The patches from the grid (stored transposed, `grid[j_u · M + j_v]`): per visibility, first each
    /// `v` point's interpolation along every grid row the patch reads (`H[j][i_v]`), then each `u` point's
    /// along `H`'s rows.
    fn degrid(&self, grid: &[Complex64], out: &mut [Complex64]) {
        let (m, w, t) = (self.grid_size, self.kernel.width, self.side);
        let zero = Complex64::new(0.0, 0.0);
        out.par_chunks_mut(t * t).enumerate().for_each_init(
            || vec![zero; self.span * t],
            |h, (r, patch)| {
                let [bu, bv] = self.base[r];
                let (ou, ov, wu, wv) = self.footprint(r);
                let rows = ou[t - 1] as usize + w;
                for (j, hj) in h.chunks_exact_mut(t).take(rows).enumerate() {
                    let grid_row = &grid[((bu + j) % m) * m..][..m];
                    for (iv, hv) in hj.iter_mut().enumerate() {
                        *hv = read_wrapped(grid_row, (bv + ov[iv] as usize) % m, &wv[iv * w..(iv + 1) * w]);
                    }
                }
                for (iv, patch_row) in patch.chunks_exact_mut(t).enumerate() {
                    for (iu, p) in patch_row.iter_mut().enumerate() {
                        let o = ou[iu] as usize;
                        let mut acc = zero;
                        for (a, &f) in wu[iu * w..(iu + 1) * w].iter().enumerate() {
                            acc += h[(o + a) * t + iv] * f;
                        }
                        *p = acc;
                    }
                }
            },
        );
    }

    /// The adjoint of [`Nufft::degrid`]: the patches' `values` spread onto the grid (overwritten). Each
    /// strip of grid rows is spread by one task into its own buffer (its rows and the `span − 1` after
    /// them), and the buffers are added in strip order.
    fn spread(&self, values: &[Complex64], grid: &mut [Complex64]) {
        let (m, w, t) = (self.grid_size, self.kernel.width, self.side);
        let height = STRIP + self.span - 1;
        let zero = Complex64::new(0.0, 0.0);
        let buffers: Vec<Option<Vec<Complex64>>> = self
            .strips
            .par_iter()
            .enumerate()
            .map(|(k, members)| {
                if members.is_empty() {
                    return None;
                }
                let mut buffer = vec![zero; height * m];
                let mut h = vec![zero; self.span * t];
                for &r in members {
                    let [bu, bv] = self.base[r];
                    let (ou, ov, wu, wv) = self.footprint(r);
                    let rows = ou[t - 1] as usize + w;
                    h[..rows * t].fill(zero);
                    for (iv, patch_row) in values[r * t * t..(r + 1) * t * t].chunks_exact(t).enumerate() {
                        for (iu, &value) in patch_row.iter().enumerate() {
                            let o = ou[iu] as usize;
                            for (a, &f) in wu[iu * w..(iu + 1) * w].iter().enumerate() {
                                h[(o + a) * t + iv] += value * f;
                            }
                        }
                    }
                    let local = bu - k * STRIP;
                    for (j, hj) in h.chunks_exact(t).take(rows).enumerate() {
                        let row = &mut buffer[(local + j) * m..][..m];
                        for (iv, &hv) in hj.iter().enumerate() {
                            add_wrapped(row, (bv + ov[iv] as usize) % m, &wv[iv * w..(iv + 1) * w], hv);
                        }
                    }
                }
                Some(buffer)
            })
            .collect();
        // Each grid row gathers, in strip order, the rows of the buffers that cover it.
        grid.par_chunks_mut(m).enumerate().for_each(|(j, out)| {
            out.fill(zero);
            for (k, buffer) in buffers.iter().enumerate() {
                let Some(buffer) = buffer else { continue };
                let local = (j + m - k * STRIP) % m;
                if local < height {
                    out.iter_mut()
                        .zip(&buffer[local * m..(local + 1) * m])
                        .for_each(|(o, b)| *o += b);
                }
            }
        });
    }

    /// The oversampled grid's spectrum of the corrected image, stored transposed (`grid[j_u · M + j_v]`).
    fn image_to_grid(&self, x: &[f64], grid: &mut [Complex64], tmp: &mut [Complex64]) {
        let (n, m, half) = (self.image_size, self.grid_size, self.image_size / 2);
        let zero = Complex64::new(0.0, 0.0);
        // Image row r at grid row (r − N/2) mod M, corrected, then FFT'd along u.
        tmp.fill(zero);
        for r in 0..n {
            let gr = (r + m - half) % m;
            let row = &mut tmp[gr * m..(gr + 1) * m];
            for c in 0..n {
                row[(c + m - half) % m] = Complex64::new(x[r * n + c] * self.correction[r] * self.correction[c], 0.0);
            }
        }
        let rows: Vec<usize> = (0..n).map(|r| (r + m - half) % m).collect();
        self.fft_rows(tmp, Some(&rows), false);
        // Transposed, then FFT'd along v.
        transpose(tmp, grid, m);
        self.fft_rows(grid, None, false);
    }

    /// The adjoint of [`Nufft::image_to_grid`]: `grid` (consumed) into the image `x`, real part.
    fn grid_to_image(&self, grid: &mut [Complex64], x: &mut [f64], tmp: &mut [Complex64]) {
        let (n, m, half) = (self.image_size, self.grid_size, self.image_size / 2);
        self.fft_rows(grid, None, true);
        transpose(grid, tmp, m);
        let rows: Vec<usize> = (0..n).map(|r| (r + m - half) % m).collect();
        self.fft_rows(tmp, Some(&rows), true);
        for r in 0..n {
            let row = &tmp[rows[r] * m..(rows[r] + 1) * m];
            for c in 0..n {
                x[r * n + c] = row[(c + m - half) % m].re * self.correction[r] * self.correction[c];
            }
        }
    }

    /// In-place FFTs of the grid's rows (`only` those listed, or all), in parallel.
    fn fft_rows(&self, grid: &mut [Complex64], only: Option<&[usize]>, inverse: bool) {
        let m = self.grid_size;
        let fft = if inverse { &self.inverse } else { &self.forward };
        let scratch = || vec![Complex64::new(0.0, 0.0); self.fft_scratch];
        match only {
            None => grid
                .par_chunks_mut(m)
                .for_each_init(scratch, |s, row| fft.process_with_scratch(row, s)),
            Some(rows) => {
                let mut wanted = vec![false; m];
                rows.iter().for_each(|&r| wanted[r] = true);
                grid.par_chunks_mut(m)
                    .zip(wanted.par_iter())
                    .filter(|(_, w)| **w)
                    .for_each_init(scratch, |s, (row, _)| fft.process_with_scratch(row, s));
            }
        }
    }
}

/// `out = inᵀ` for `m × m` row-major matrices.
fn transpose(input: &[Complex64], out: &mut [Complex64], m: usize) {
    out.par_chunks_mut(m).enumerate().for_each(|(i, row)| {
        for (j, o) in row.iter_mut().enumerate() {
            *o = input[j * m + i];
        }
    });
}

impl LinearOperator<f64> for Nufft {
    fn nrows(&self) -> usize {
        2 * self.base.len() * self.side * self.side
    }
    fn ncols(&self) -> usize {
        self.image_size * self.image_size
    }
    fn scratch_len(&self) -> usize {
        2 * (self.grid_scratch_len() + self.base.len() * self.side * self.side)
    }
    fn apply(&self, x: &[f64], y: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        check_len("x (image pixels)", self.ncols(), x.len())?;
        check_len("y (visibility reals)", self.nrows(), y.len())?;
        check_scratch(self.scratch_len(), scratch.len())?;
        let scratch: &mut [Complex64] = bytemuck::cast_slice_mut(&mut scratch[..self.scratch_len()]);
        let (grids, model) = scratch.split_at_mut(self.grid_scratch_len());
        self.patches(x, model, grids);
        y.copy_from_slice(bytemuck::cast_slice(model));
        Ok(())
    }
    fn apply_adjoint(&self, x: &[f64], y: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        check_len("x (visibility reals)", self.nrows(), x.len())?;
        check_len("y (image pixels)", self.ncols(), y.len())?;
        check_scratch(self.scratch_len(), scratch.len())?;
        let scratch: &mut [Complex64] = bytemuck::cast_slice_mut(&mut scratch[..self.scratch_len()]);
        let (grids, z) = scratch.split_at_mut(self.grid_scratch_len());
        z.copy_from_slice(bytemuck::cast_slice(x));
        self.patches_adjoint(z, y, grids);
        Ok(())
    }
}

/// The measurement equation summed directly, `V(ν) = Σ_{r,c} x[r, c] e^{−2πi(ν_u l_u + ν_v l_v)}` (the
/// convention of the module's documentation): `O(N² · visibilities)`, the reference the NUFFT is tested
/// against, and exact for a few sources.
pub fn direct_dft(image: &[f64], image_size: usize, frequencies: &[[f64; 2]]) -> Vec<Complex64> {
    let half = (image_size / 2) as f64;
    let sources: Vec<(f64, f64, f64)> = image
        .iter()
        .enumerate()
        .filter(|(_, v)| **v != 0.0)
        .map(|(i, &v)| ((i % image_size) as f64 - half, (i / image_size) as f64 - half, v))
        .collect();
    frequencies
        .par_iter()
        .map(|f| {
            sources
                .iter()
                .map(|&(lu, lv, v)| Complex64::from_polar(v, -2.0 * std::f64::consts::PI * (f[0] * lu + f[1] * lv)))
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each patch point against the direct sum at its own frequency, and the patches' adjoint by the
    /// dot-product test (patches of the DDE kernels' shape: 5 points 1/20 cycle per pixel apart).
    #[test]
    fn patches_agree_with_the_direct_sum_and_their_adjoint() {
        let n = 12;
        let image: Vec<f64> = (0..n * n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect();
        let frequencies = [[0.013, -0.2], [0.49, 0.31], [-0.5, 0.0], [0.1, 0.45], [2.3, -1.7]];
        let (side, spacing) = (5, 0.05);
        let op = Nufft::with_patches(n, &frequencies, 1e-13, side, spacing).unwrap();
        let mut out = vec![Complex64::new(0.0, 0.0); frequencies.len() * side * side];
        op.patches(
            &image,
            &mut out,
            &mut vec![Complex64::new(0.0, 0.0); op.grid_scratch_len()],
        );
        let scale: f64 = image.iter().map(|v| v.abs()).sum();
        for (r, f) in frequencies.iter().enumerate() {
            for iv in 0..side {
                for iu in 0..side {
                    let shift = |i: usize| (i as f64 - 2.0) * spacing;
                    let exact = direct_dft(&image, n, &[[f[0] + shift(iu), f[1] + shift(iv)]])[0];
                    let got = out[r * side * side + iv * side + iu];
                    assert!(
                        (got - exact).norm() < 1e-12 * scale,
                        "visibility {r}, point ({iv}, {iu})"
                    );
                }
            }
        }
        let z: Vec<f64> = (0..op.nrows()).map(|i| ((i * 31) % 17) as f64 - 8.0).collect();
        let (mut ax, mut aty) = (vec![0.0; op.nrows()], vec![0.0; op.ncols()]);
        let mut scratch = vec![0.0; op.scratch_len()];
        op.apply(&image, &mut ax, &mut scratch).unwrap();
        op.apply_adjoint(&z, &mut aty, &mut scratch).unwrap();
        let lhs: f64 = ax.iter().zip(&z).map(|(a, b)| a * b).sum();
        let rhs: f64 = image.iter().zip(&aty).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12 * lhs.abs().max(1.0), "{lhs} against {rhs}");
        assert!(matches!(
            Nufft::with_patches(n, &frequencies, 1e-6, 11, 0.05),
            Err(Error::InvalidParameter { name: "dde_size", .. })
        ));
    }
}
