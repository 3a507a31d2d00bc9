use num_traits::{Float, FromPrimitive, ToPrimitive};

/// The floating-point scalars sparsimony computes with: `f32` and `f64`.
///
/// A thin alias over [`num_traits::Float`] with conversions, so that generic code can write constants
/// (`T::lit(0.5)`) without unwraps on data paths.
pub trait Real: Float + FromPrimitive + ToPrimitive + core::fmt::Debug + Default + Send + Sync + 'static {
    /// The value `x` converted to `Self` (rounded to nearest for `f32`).
    fn lit(x: f64) -> Self;
    /// `self` converted to `f64` (exact for both `f32` and `f64`).
    fn to_f64_lossless(self) -> f64;
}

impl Real for f32 {
    #[inline]
    fn lit(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn to_f64_lossless(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    #[inline]
    fn lit(x: f64) -> Self {
        x
    }
    #[inline]
    fn to_f64_lossless(self) -> f64 {
        self
    }
}
