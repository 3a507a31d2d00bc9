//! The image prior of the calibration: the faint part `ε` of the image `x = x_o + ε` is sparse and
//! non-negative, and zero where the known bright sources are.

use sparsimony_core::Prox;

/// `g(ε) = η‖ε‖₁ + ι{ε ≥ 0} + ι{ε = 0 on the known sources' pixels}`: its proximal map is one-sided soft
/// thresholding off the known pixels and zero on them.
#[derive(Debug, Clone)]
pub(crate) struct FaintL1<'a> {
    pub eta: f64,
    /// `true` on the pixels of the known (bright) sources.
    pub known: &'a [bool],
}

impl Prox<f64> for FaintL1<'_> {
    fn prox(&self, step: f64, x: &mut [f64]) -> sparsimony_core::Result<()> {
        if x.len() != self.known.len() {
            return Err(sparsimony_core::Error::DimensionMismatch {
                what: "image pixels against the known-source mask",
                expected: self.known.len(),
                found: x.len(),
            });
        }
        let t = step * self.eta;
        for (v, &known) in x.iter_mut().zip(self.known) {
            *v = if known { 0.0 } else { (*v - t).max(0.0) };
        }
        Ok(())
    }

    fn value(&self, x: &[f64]) -> sparsimony_core::Result<f64> {
        let mut sum = 0.0;
        for (&v, &known) in x.iter().zip(self.known) {
            if v < 0.0 || (known && v != 0.0) {
                return Ok(f64::INFINITY);
            }
            sum += v;
        }
        Ok(self.eta * sum)
    }
}
