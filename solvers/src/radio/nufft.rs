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

use super::operator::{check_len, check_memory, check_scratch};
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

/// Where one visibility reads the grid: the first cell of its window per axis (modulo `M`) and its `2w`
/// weights (`u` then `v`).
#[derive(Debug, Clone, Copy)]
struct Window {
    u0: usize,
    v0: usize,
}

/// The NUFFT measurement operator of an `N × N` real image at given frequencies: a real-linear map to
/// complex visibilities stored as interleaved `(re, im)` pairs, with its exact adjoint (the dot-product
/// test holds to rounding). See the module's documentation for the convention.
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
    windows: Vec<Window>,
    /// `2w` weights per visibility: `φ(t_u − j_u)` over its window, then `φ(t_v − j_v)`.
    weights: Vec<f64>,
    /// The visibilities of each strip of [`STRIP`] grid rows (`u`), by the first row of their window.
    strips: Vec<Vec<usize>>,
}

impl std::fmt::Debug for Nufft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nufft")
            .field("image_size", &self.image_size)
            .field("grid_size", &self.grid_size)
            .field("kernel", &self.kernel)
            .field("tolerance", &self.tolerance)
            .field("visibilities", &self.windows.len())
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
        let kernel = ExpSemicircle::for_tolerance(tolerance)?;
        if image_size < 2 {
            return Err(Error::InvalidParameter {
                name: "image_size",
                reason: format!("the image must be at least 2 pixels wide, got {image_size}"),
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
        let w = kernel.width;
        // At least 2N (the oversampling the kernel's β is chosen for) and a strip's buffer, so that no
        // buffer row meets the same grid row twice.
        let m = smooth_size((2 * image_size).max(STRIP + w));
        check_memory(
            "image_size",
            16 * 3 * (m as u128).pow(2) + (frequencies.len() as u128) * (16 * w as u128 + 16),
            || "the NUFFT".into(),
            || {
                format!(
                    "a {m}² oversampled grid, {} visibilities at width {w}",
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

        let mut windows = Vec::with_capacity(frequencies.len());
        let mut weights = vec![0.0; 2 * w * frequencies.len()];
        let mut strips = vec![Vec::new(); m.div_ceil(STRIP)];
        let mf = m as f64;
        for (r, (f, wr)) in frequencies.iter().zip(weights.chunks_exact_mut(2 * w)).enumerate() {
            let mut start = [0usize; 2];
            for (axis, (nu, out)) in f.iter().zip(wr.chunks_exact_mut(w)).enumerate() {
                // The grid position in [0, M), then the window's first cell ⌈t − w/2⌉.
                let t = (nu - nu.floor()) * mf;
                let first = (t - 0.5 * w as f64).ceil();
                for (a, o) in out.iter_mut().enumerate() {
                    *o = kernel.eval(t - (first + a as f64));
                }
                start[axis] = (first as i64).rem_euclid(m as i64) as usize;
            }
            windows.push(Window {
                u0: start[0],
                v0: start[1],
            });
            strips[start[0] / STRIP].push(r);
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
            windows,
            weights,
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
        self.windows.len()
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

    /// The visibilities from the grid, one per frequency.
    fn degrid(&self, grid: &[Complex64], out: &mut [Complex64]) {
        let (m, w) = (self.grid_size, self.kernel.width);
        out.par_iter_mut()
            .zip(self.windows.par_iter().zip(self.weights.par_chunks_exact(2 * w)))
            .for_each(|(y, (win, wr))| {
                let (wu, wv) = wr.split_at(w);
                let mut acc = Complex64::new(0.0, 0.0);
                for (a, &fu) in wu.iter().enumerate() {
                    let row = &grid[((win.u0 + a) % m) * m..][..m];
                    let mut inner = Complex64::new(0.0, 0.0);
                    if win.v0 + w <= m {
                        for (g, &fv) in row[win.v0..win.v0 + w].iter().zip(wv) {
                            inner += g * fv;
                        }
                    } else {
                        for (b, &fv) in wv.iter().enumerate() {
                            inner += row[(win.v0 + b) % m] * fv;
                        }
                    }
                    acc += inner * fu;
                }
                *y = acc;
            });
    }

    /// The adjoint of [`Nufft::degrid`]: `z` spread onto the grid (overwritten). Each strip of grid rows is
    /// spread by one task into its own buffer (its rows and the `w − 1` after them), and the buffers are
    /// added in strip order.
    fn spread(&self, z: &[Complex64], grid: &mut [Complex64]) {
        let (m, w) = (self.grid_size, self.kernel.width);
        let height = STRIP + w - 1;
        let zero = Complex64::new(0.0, 0.0);
        let buffers: Vec<Option<Vec<Complex64>>> = self
            .strips
            .par_iter()
            .enumerate()
            .map(|(k, rows)| {
                if rows.is_empty() {
                    return None;
                }
                let mut buffer = vec![zero; height * m];
                for &r in rows {
                    let (win, wr) = (self.windows[r], &self.weights[2 * w * r..2 * w * (r + 1)]);
                    let (wu, wv) = wr.split_at(w);
                    let local = win.u0 - k * STRIP;
                    for (a, &fu) in wu.iter().enumerate() {
                        let row = &mut buffer[(local + a) * m..][..m];
                        let value = z[r] * fu;
                        if win.v0 + w <= m {
                            for (g, &fv) in row[win.v0..win.v0 + w].iter_mut().zip(wv) {
                                *g += value * fv;
                            }
                        } else {
                            for (b, &fv) in wv.iter().enumerate() {
                                row[(win.v0 + b) % m] += value * fv;
                            }
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
                let local = (j + m - (k * STRIP) % m) % m;
                if local < height {
                    out.iter_mut()
                        .zip(&buffer[local * m..(local + 1) * m])
                        .for_each(|(o, b)| *o += b);
                }
            }
        });
    }

    /// Complex scratch elements: the grid, a second grid, and the visibilities.
    fn complex_scratch_len(&self) -> usize {
        2 * self.grid_size * self.grid_size + self.windows.len()
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
        2 * self.windows.len()
    }
    fn ncols(&self) -> usize {
        self.image_size * self.image_size
    }
    fn scratch_len(&self) -> usize {
        2 * self.complex_scratch_len()
    }
    fn apply(&self, x: &[f64], y: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        check_len("x (image pixels)", self.ncols(), x.len())?;
        check_len("y (visibility reals)", self.nrows(), y.len())?;
        check_scratch(self.scratch_len(), scratch.len())?;
        let scratch: &mut [Complex64] = bytemuck::cast_slice_mut(&mut scratch[..self.scratch_len()]);
        let m2 = self.grid_size * self.grid_size;
        let (grid, rest) = scratch.split_at_mut(m2);
        let (tmp, model) = rest.split_at_mut(m2);
        self.image_to_grid(x, grid, tmp);
        self.degrid(grid, model);
        y.copy_from_slice(bytemuck::cast_slice(model));
        Ok(())
    }
    fn apply_adjoint(&self, x: &[f64], y: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        check_len("x (visibility reals)", self.nrows(), x.len())?;
        check_len("y (image pixels)", self.ncols(), y.len())?;
        check_scratch(self.scratch_len(), scratch.len())?;
        let scratch: &mut [Complex64] = bytemuck::cast_slice_mut(&mut scratch[..self.scratch_len()]);
        let m2 = self.grid_size * self.grid_size;
        let (grid, rest) = scratch.split_at_mut(m2);
        let (tmp, z) = rest.split_at_mut(m2);
        z.copy_from_slice(bytemuck::cast_slice(x));
        self.spread(z, grid);
        self.grid_to_image(grid, y, tmp);
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
