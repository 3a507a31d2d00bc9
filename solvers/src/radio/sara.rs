//! The SARA dictionary (Carrillo, McEwen & Wiaux, MNRAS 426, 2012): the Dirac basis and the Daubechies
//! 1–8 wavelet bases concatenated, each orthonormal (periodic boundaries), normalised by `1/√q` for `q`
//! bases so that the dictionary `Ψ` is a tight frame: `ΨΨ† = I`.

use rayon::prelude::*;
use sparsimony_core::LinearOperator;

use super::checks::{check_len, check_scratch};
use crate::error::{Error, Result};

/// The Daubechies scaling (low-pass decomposition) filters `h` of 2 to 16 taps, orders 1–8, as
/// PyWavelets' `dec_lo` (Daubechies, *Ten Lectures on Wavelets*, 1992, Table 6.1, in reverse order): `Σh = √2`,
/// `Σ_k h_k h_{k+2m} = δ_m`, and order `p` has `p` vanishing moments.
const DAUBECHIES: [&[f64]; 8] = [
    &[std::f64::consts::FRAC_1_SQRT_2, std::f64::consts::FRAC_1_SQRT_2],
    &[
        -0.12940952255126037,
        0.2241438680420134,
        0.8365163037378079,
        0.48296291314453416,
    ],
    &[
        0.03522629188570953,
        -0.08544127388202666,
        -0.13501102001025458,
        0.45987750211849154,
        0.8068915093110925,
        0.33267055295008263,
    ],
    &[
        -0.010597401785069032,
        0.0328830116668852,
        0.030841381835560764,
        -0.18703481171909309,
        -0.027983769416859854,
        0.6308807679298589,
        0.7148465705529157,
        0.2303778133088965,
    ],
    &[
        0.0033357252854737712,
        -0.012580751999081999,
        -0.006241490212798274,
        0.07757149384004572,
        -0.032244869584638375,
        -0.24229488706638203,
        0.13842814590132074,
        0.7243085284377729,
        0.6038292697971896,
        0.16010239797419293,
    ],
    &[
        -0.0010773010853084796,
        0.004777257510945511,
        0.0005538422011614961,
        -0.03158203931748603,
        0.027522865530305727,
        0.09750160558732304,
        -0.12976686756726194,
        -0.22626469396543983,
        0.31525035170919763,
        0.7511339080210954,
        0.49462389039845306,
        0.11154074335010947,
    ],
    &[
        0.00035371379997452024,
        -0.0018016407040474908,
        0.0004295779729213665,
        0.01255099855609984,
        -0.01657454163066688,
        -0.03802993693501441,
        0.08061260915108308,
        0.07130921926683026,
        -0.22403618499387498,
        -0.14390600392856498,
        0.4697822874051931,
        0.7291320908462351,
        0.3965393194819173,
        0.07785205408500918,
    ],
    &[
        -0.00011747678412476953,
        0.0006754494064505693,
        -0.00039174037337694705,
        -0.004870352993451574,
        0.008746094047405777,
        0.013981027917398282,
        -0.044088253930794755,
        -0.017369301001807547,
        0.12874742662047847,
        0.0004724845739132828,
        -0.2840155429615469,
        -0.015829105256349306,
        0.5853546836542067,
        0.6756307362972898,
        0.31287159091429995,
        0.05441584224310401,
    ],
];

/// One orthonormal basis of a [`Sara`] dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The pixels themselves.
    Dirac,
    /// The periodised Daubechies wavelet basis of this order (1–8; order 1 is Haar), `levels` levels.
    Daubechies(usize),
}

impl Basis {
    /// The low-pass decomposition filter `h` of this basis (for a wavelet), as PyWavelets' `dec_lo`.
    pub fn filter(self) -> Option<&'static [f64]> {
        match self {
            Basis::Dirac => None,
            Basis::Daubechies(p) => DAUBECHIES.get(p.wrapping_sub(1)).copied(),
        }
    }
}

/// A dictionary of orthonormal bases of `N × N` images, concatenated and normalised by `1/√q`: the
/// SARA prior's sparsity operator.
///
/// As a [`LinearOperator`] it is the **analysis** map `Ψ†`: an `N × N` image (row-major) to `q` blocks of
/// `M × M` coefficients, one block per basis in the dictionary's order, where `M` is `N` rounded up to a
/// multiple of `2^levels` (the image is zero-padded at the bottom and right). Each wavelet block holds
/// the Mallat layout of the periodised 2D transform (PyWavelets' `wavedec2(mode="periodization")` as
/// `coeffs_to_array` lays it out: the coarsest approximation top-left; at each level the band
/// high-pass along the second axis (columns, PyWavelets' `cV`) top-right, the band high-pass along the
/// first axis (rows, `cH`) bottom-left, the diagonal band bottom-right). The adjoint is the synthesis map
/// `Ψ`; since each basis is orthonormal and the padding is an isometry, `ΨΨ† = I` exactly (a tight
/// frame of bound 1), while `Ψ†Ψ` projects onto the range of `Ψ†`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sara {
    n: usize,
    padded: usize,
    levels: usize,
    bases: Vec<Basis>,
}

impl Sara {
    /// The SARA dictionary of `N × N` images: Dirac and Daubechies 1–8 (`q = 9`), `levels` levels
    /// (the paper: 4).
    pub fn new(n: usize, levels: usize) -> Result<Self> {
        let mut bases = vec![Basis::Dirac];
        bases.extend((1..=8).map(Basis::Daubechies));
        Self::with_bases(n, levels, bases)
    }

    /// A dictionary of the given bases, its coefficient blocks in this order (an empty list is refused).
    pub fn with_bases(n: usize, levels: usize, bases: Vec<Basis>) -> Result<Self> {
        let bad = |name, reason: &str| {
            Err(Error::InvalidParameter {
                name,
                reason: reason.into(),
            })
        };
        if n == 0 {
            return bad("image_size", "must be at least 1 pixel");
        }
        if levels == 0 || levels >= usize::BITS as usize || (1usize << levels) > n {
            return Err(Error::InvalidParameter {
                name: "sara_levels",
                reason: format!("must be at least 1 and at most log₂ N = log₂ {n}, got {levels}"),
            });
        }
        if bases.is_empty() {
            return bad("bases", "the dictionary needs at least one basis");
        }
        if let Some(b) = bases.iter().find(|b| **b != Basis::Dirac && b.filter().is_none()) {
            return Err(Error::InvalidParameter {
                name: "bases",
                reason: format!("{b:?}: Daubechies orders are 1 to 8"),
            });
        }
        let block = 1usize << levels;
        // 2^levels ≤ N, so M < 2N; the coefficient count q·M² (and M² + 2M) must fit a usize.
        let padded = n.div_ceil(block) * block;
        let too_big = || Error::InvalidParameter {
            name: "image_size",
            reason: format!("the {n}² image's SARA coefficients overflow the address space"),
        };
        padded
            .checked_mul(padded)
            .and_then(|m2| m2.checked_add(2 * padded))
            .and_then(|b| b.checked_mul(bases.len()))
            .ok_or_else(too_big)?;
        Ok(Self {
            n,
            padded,
            levels,
            bases,
        })
    }

    /// The image side `N`.
    pub fn image_size(&self) -> usize {
        self.n
    }

    /// The side `M` of each basis's coefficient block (`N` rounded up to a multiple of `2^levels`).
    pub fn padded_size(&self) -> usize {
        self.padded
    }

    /// The bases, in the order of the coefficient blocks.
    pub fn bases(&self) -> &[Basis] {
        &self.bases
    }

    /// `1/√q`, the normalisation that makes the dictionary a tight frame.
    fn scale(&self) -> f64 {
        1.0 / (self.bases.len() as f64).sqrt()
    }

    /// The analysis of one basis: `block` (`M²`) holds the padded image on entry and its coefficients
    /// on exit; `line` is scratch of `2M`.
    fn analyse(&self, basis: Basis, block: &mut [f64], line: &mut [f64]) {
        let Some(h) = basis.filter() else { return };
        let m0 = self.padded;
        for level in 0..self.levels {
            let m = m0 >> level;
            for r in 0..m {
                transform_strided(h, block, r * m0, 1, m, line, false);
            }
            for c in 0..m {
                transform_strided(h, block, c, m0, m, line, false);
            }
        }
    }

    /// The synthesis of one basis, the adjoint (and inverse) of [`Sara::analyse`], in place.
    fn synthesise(&self, basis: Basis, block: &mut [f64], line: &mut [f64]) {
        let Some(h) = basis.filter() else { return };
        let m0 = self.padded;
        for level in (0..self.levels).rev() {
            let m = m0 >> level;
            for c in 0..m {
                transform_strided(h, block, c, m0, m, line, true);
            }
            for r in 0..m {
                transform_strided(h, block, r * m0, 1, m, line, true);
            }
        }
    }
}

/// One level of the periodised 1D transform of the `m` values `data[start + i·stride]`: analysis
/// (`adjoint = false`) writes the `m/2` approximation then the `m/2` detail coefficients back in place,
/// `a_k = Σ_j h_j x_{(2k + L/2 − j) mod m}`,  `d_k = Σ_j g_j x_{(2k + L/2 − j) mod m}`,
/// `g_j = (−1)^{j+1} h_{L−1−j}` (PyWavelets' periodisation convention for a filter of `L` taps);
/// `adjoint = true` applies the transpose, which is the inverse since the transform is orthonormal.
fn transform_strided(
    h: &[f64],
    data: &mut [f64],
    start: usize,
    stride: usize,
    m: usize,
    line: &mut [f64],
    adjoint: bool,
) {
    let (input, output) = line.split_at_mut(m);
    let output = &mut output[..m];
    for (i, v) in input.iter_mut().enumerate() {
        *v = data[start + i * stride];
    }
    let taps = h.len();
    let half = m / 2;
    let offset = taps / 2;
    if adjoint {
        output.fill(0.0);
    }
    for k in 0..half {
        let (mut lo, mut hi) = (0.0, 0.0);
        let (a, d) = (input[k], input[half + k]);
        for (j, &hj) in h.iter().enumerate() {
            let i = (2 * k + offset + taps * m - j) % m;
            let sign = if j % 2 == 0 { -1.0 } else { 1.0 };
            let gj = sign * h[taps - 1 - j];
            if adjoint {
                output[i] += hj * a + gj * d;
            } else {
                lo += hj * input[i];
                hi += gj * input[i];
            }
        }
        if !adjoint {
            output[k] = lo;
            output[half + k] = hi;
        }
    }
    for (i, v) in output.iter().enumerate() {
        data[start + i * stride] = *v;
    }
}

impl LinearOperator<f64> for Sara {
    fn nrows(&self) -> usize {
        self.bases.len() * self.padded * self.padded
    }
    fn ncols(&self) -> usize {
        self.n * self.n
    }
    fn scratch_len(&self) -> usize {
        self.bases.len() * (self.padded * self.padded + 2 * self.padded)
    }
    fn apply(&self, x: &[f64], y: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        check_len("x (image pixels)", self.ncols(), x.len())?;
        check_len("y (dictionary coefficients)", self.nrows(), y.len())?;
        check_scratch(self.scratch_len(), scratch.len())?;
        let (n, m, scale) = (self.n, self.padded, self.scale());
        let lines = &mut scratch[..self.bases.len() * 2 * m];
        y.par_chunks_exact_mut(m * m)
            .zip(lines.par_chunks_exact_mut(2 * m))
            .zip(self.bases.par_iter())
            .for_each(|((block, line), &basis)| {
                block.fill(0.0);
                for r in 0..n {
                    for (b, v) in block[r * m..r * m + n].iter_mut().zip(&x[r * n..(r + 1) * n]) {
                        *b = scale * v;
                    }
                }
                self.analyse(basis, block, line);
            });
        Ok(())
    }
    fn apply_adjoint(&self, x: &[f64], y: &mut [f64], scratch: &mut [f64]) -> sparsimony_core::Result<()> {
        check_len("x (dictionary coefficients)", self.nrows(), x.len())?;
        check_len("y (image pixels)", self.ncols(), y.len())?;
        check_scratch(self.scratch_len(), scratch.len())?;
        let (n, m, scale) = (self.n, self.padded, self.scale());
        let q = self.bases.len();
        let (blocks, lines) = scratch[..self.scratch_len()].split_at_mut(q * m * m);
        blocks.copy_from_slice(x);
        blocks
            .par_chunks_exact_mut(m * m)
            .zip(lines.par_chunks_exact_mut(2 * m))
            .zip(self.bases.par_iter())
            .for_each(|((block, line), &basis)| self.synthesise(basis, block, line));
        // Sum the bases' images in a fixed order, so the result does not depend on the thread count.
        y.fill(0.0);
        for block in blocks.chunks_exact(m * m) {
            for r in 0..n {
                for (v, b) in y[r * n..(r + 1) * n].iter_mut().zip(&block[r * m..r * m + n]) {
                    *v += scale * b;
                }
            }
        }
        Ok(())
    }
}
