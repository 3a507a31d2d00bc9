//! Direction-dependent effects: one small Fourier-domain kernel per antenna and time step.

use rustfft::num_complex::Complex64;

use crate::error::{Error, Result};

/// The direction-dependent effects (DDEs) of an array: for each time step `t` and antenna `α`, an `S × S`
/// complex kernel `d_{t,α}` in the spatial Fourier domain (`S` odd). Tap `(p_v, p_u) ∈ [−s, s]²`,
/// `s = (S − 1)/2`, is the coefficient of the antenna's gain screen `D(l) = Σ_p d[p] e^{2πi p·l/P}` over
/// the image's pixels `l` (`P` the Fourier grid's side), so `S = 1` is a direction-independent gain (DIE).
///
/// Layout: `taps[((t · n_antennas) + α) · S² + (p_v + s) · S + (p_u + s)]` — time slowest, then antenna,
/// then the kernel row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Ddes {
    size: usize,
    n_antennas: usize,
    n_times: usize,
    taps: Vec<Complex64>,
}

impl Ddes {
    /// Kernels of side `size` (odd) that are all the identity: centre tap `gain`, the others zero.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for an even or zero `size`, no antennas or no time steps, or a
    /// non-finite gain.
    pub fn constant(size: usize, n_antennas: usize, n_times: usize, gain: Complex64) -> Result<Self> {
        if size == 0 || size.is_multiple_of(2) {
            return Err(Error::InvalidParameter {
                name: "dde_size",
                reason: format!("the kernel side S must be odd and positive, got {size}"),
            });
        }
        if n_antennas < 2 || n_times == 0 {
            return Err(Error::InvalidParameter {
                name: "antennas",
                reason: format!("need at least 2 antennas and 1 time step, got {n_antennas} and {n_times}"),
            });
        }
        if !(gain.re.is_finite() && gain.im.is_finite()) {
            return Err(Error::InvalidParameter {
                name: "gain",
                reason: "must be finite".into(),
            });
        }
        let mut taps = vec![Complex64::new(0.0, 0.0); size * size * n_antennas * n_times];
        let centre = size * size / 2;
        for kernel in taps.chunks_exact_mut(size * size) {
            kernel[centre] = gain;
        }
        Ok(Self {
            size,
            n_antennas,
            n_times,
            taps,
        })
    }

    /// Kernels of side `size` whose centre taps are `die`'s gains and whose other taps are zero: the
    /// direction-independent solution as the start of the direction-dependent stage.
    ///
    /// # Errors
    /// As [`Ddes::constant`].
    pub fn from_die(die: &Ddes, size: usize) -> Result<Self> {
        let mut out = Self::constant(size, die.n_antennas, die.n_times, Complex64::new(0.0, 0.0))?;
        let centre = size * size / 2;
        for (kernel, old) in out
            .taps
            .chunks_exact_mut(size * size)
            .zip(die.taps.chunks_exact(die.size * die.size))
        {
            kernel[centre] = old[die.size * die.size / 2];
        }
        Ok(out)
    }

    /// The kernel side `S`.
    pub fn size(&self) -> usize {
        self.size
    }
    /// The number of antennas.
    pub fn n_antennas(&self) -> usize {
        self.n_antennas
    }
    /// The number of time steps.
    pub fn n_times(&self) -> usize {
        self.n_times
    }
    /// The kernel of antenna `antenna` at time step `time` (`S²` taps, row-major).
    pub fn kernel(&self, time: usize, antenna: usize) -> &[Complex64] {
        let s2 = self.size * self.size;
        let start = (time * self.n_antennas + antenna) * s2;
        &self.taps[start..start + s2]
    }
    /// All taps, in the layout of the type's documentation.
    pub fn taps(&self) -> &[Complex64] {
        &self.taps
    }
    /// All taps, mutable.
    pub fn taps_mut(&mut self) -> &mut [Complex64] {
        &mut self.taps
    }
    /// The tap-wise mean `(self + other)/2` of two sets of kernels of the same shape (the calibration's
    /// two copies).
    pub(crate) fn mean(&self, other: &Ddes) -> Ddes {
        let mut mean = self.clone();
        for (m, b) in mean.taps.iter_mut().zip(&other.taps) {
            *m = 0.5 * (*m + b);
        }
        mean
    }
    /// `Σ |a − b|²` over all taps of two sets of kernels of the same shape.
    pub(crate) fn distance2(&self, other: &Ddes) -> f64 {
        self.taps.iter().zip(&other.taps).map(|(a, b)| (a - b).norm_sqr()).sum()
    }

    /// The DDEs up to the model's ambiguities, compared with `truth`: the relative error
    /// `‖d − c·d*‖ / ‖d*‖` after the best phase `c_t = e^{iφ_t}` of each time step `t` (a phase common to
    /// every antenna at one time cancels in each of that time's visibilities, so each step has its own).
    ///
    /// # Errors
    /// [`Error::Shape`] when the shapes differ.
    pub fn relative_error(&self, truth: &Ddes) -> Result<f64> {
        for (what, a, b) in [
            ("DDE kernel side", self.size, truth.size),
            ("DDE antennas", self.n_antennas, truth.n_antennas),
            ("DDE time steps", self.n_times, truth.n_times),
        ] {
            if a != b {
                return Err(Error::Shape {
                    what,
                    expected: b,
                    found: a,
                });
            }
        }
        let step = self.n_antennas * self.size * self.size;
        let mut err = 0.0;
        for (got, want) in self.taps.chunks_exact(step).zip(truth.taps.chunks_exact(step)) {
            let cross: Complex64 = got.iter().zip(want).map(|(a, b)| a * b.conj()).sum();
            let phase = if cross.norm() > 0.0 {
                cross / cross.norm()
            } else {
                Complex64::new(1.0, 0.0)
            };
            err += got
                .iter()
                .zip(want)
                .map(|(a, b)| (a - phase * b).norm_sqr())
                .sum::<f64>();
        }
        let norm: f64 = truth.taps.iter().map(|b| b.norm_sqr()).sum();
        Ok((err / norm).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_time_steps_phase_is_its_own() {
        // Truth with distinct taps; the estimate is the truth turned by a phase per step, then one tap
        // moved by a known amount: the error is that amount over the truth's norm.
        let mut truth = Ddes::constant(3, 4, 3, Complex64::new(0.0, 0.0)).unwrap();
        for (k, t) in truth.taps_mut().iter_mut().enumerate() {
            *t = Complex64::new((k as f64 * 0.7).sin() + 1.5, (k as f64 * 1.3).cos());
        }
        let mut est = truth.clone();
        let step = 4 * 9;
        for (t, chunk) in est.taps_mut().chunks_exact_mut(step).enumerate() {
            let c = Complex64::from_polar(1.0, 0.9 * t as f64 - 2.0);
            chunk.iter_mut().for_each(|x| *x *= c);
        }
        assert!(est.relative_error(&truth).unwrap() < 1e-15);
        let norm = truth.taps().iter().map(|b| b.norm_sqr()).sum::<f64>().sqrt();
        // A small move orthogonal (in phase) to nothing in particular: the best phase shifts slightly, so
        // the error is at most the move and within second order of it.
        est.taps_mut()[step + 5] += Complex64::new(1e-6, 0.0);
        let e = est.relative_error(&truth).unwrap() * norm;
        assert!(e <= 1e-6 * (1.0 + 1e-12) && e > 0.9e-6, "{e}");
        let other = Ddes::constant(3, 4, 2, Complex64::new(1.0, 0.0)).unwrap();
        assert!(matches!(est.relative_error(&other), Err(Error::Shape { .. })));
    }
}
