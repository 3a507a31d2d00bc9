//! Simulated records regenerated from `(seed, index)`, so that `10⁸` of them need no memory and any number
//! of threads draws the same ones.

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::{SplitMix64, Xoshiro256PlusPlus};

/// SplitMix64's increment (the golden ratio times 2⁶⁴).
const SPLITMIX_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The generator of record `index` under `seed`: a xoshiro256++ whose state is the outputs
/// `4·index + 1, …, 4·index + 4` of a SplitMix64 stream keyed by the seed. SplitMix64 is counter-based (its
/// outputs are a bijective mix of `key + j·γ`), so the records' states are distinct. Simulated data are the
/// world, not a device's secret: this generator is several times faster than the ChaCha8 the devices'
/// randomizers keep.
pub(crate) fn record_rng(seed: u64, index: u64) -> Xoshiro256PlusPlus {
    let key = SplitMix64::seed_from_u64(seed).next_u64();
    // Xoshiro256PlusPlus::seed_from_u64(s) fills its state with SplitMix64 outputs 1..=4 from s.
    Xoshiro256PlusPlus::seed_from_u64(key.wrapping_add(index.wrapping_mul(SPLITMIX_GAMMA.wrapping_mul(4))))
}

/// Records `first..first + n` as a design (`n × d`, one record per row) and responses, record `i` written
/// by `record(i, row)` (which returns its response); refused, as `"n"`, before allocating when the design
/// would not fit in memory ([`crate::data::memory_cap`]).
pub(crate) fn sample_rows(
    n: usize,
    d: usize,
    first: u64,
    record: impl Fn(u64, &mut [f64]) -> f64,
) -> crate::Result<(ndarray::Array2<f64>, ndarray::Array1<f64>)> {
    crate::data::check_bytes(
        "n",
        8.0 * n as f64 * (d as f64 + 1.0),
        || format!("{n} samples of {d} features"),
        ": use fewer samples",
    )?;
    let mut x = ndarray::Array2::zeros((n, d));
    let mut y = ndarray::Array1::zeros(n);
    for (i, (mut row, yi)) in x.rows_mut().into_iter().zip(y.iter_mut()).enumerate() {
        let row = row.as_slice_mut().ok_or(crate::Error::Shape {
            what: "a sampled row (contiguous)",
            expected: d,
            found: 0,
        })?;
        *yi = record(first + i as u64, row);
    }
    Ok((x, y))
}
