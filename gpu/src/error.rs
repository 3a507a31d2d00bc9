/// Errors of the GPU backend. The CPU path stays available after any of them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// No GPU adapter could be found (no driver, no Vulkan/Metal/DX12 ICD, or none matching the request).
    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),
    /// An adapter was found but a device could not be opened on it.
    #[error("could not open a device on adapter `{adapter}`: {reason}")]
    DeviceRequest {
        /// The adapter's name.
        adapter: String,
        /// wgpu's reason.
        reason: String,
    },
    /// A buffer would exceed the device's limits.
    #[error("{what} needs {bytes} bytes, over the device limit of {limit} bytes ({limit_name})")]
    BufferTooLarge {
        /// The data that does not fit.
        what: &'static str,
        /// Its size in bytes.
        bytes: u64,
        /// The limit.
        limit: u64,
        /// The name of the wgpu limit.
        limit_name: &'static str,
    },
    /// A size does not fit the 32-bit indices the kernels use.
    #[error("{what} is {value}, over the 32-bit index range of the GPU kernels")]
    IndexOverflow {
        /// Which size.
        what: &'static str,
        /// Its value.
        value: usize,
    },
    /// The adapter lacks a feature the operation needs (e.g. `SHADER_F64` for `f64` kernels).
    #[error("adapter `{adapter}` lacks {feature}")]
    MissingFeature {
        /// The wgpu feature.
        feature: &'static str,
        /// The adapter's name.
        adapter: String,
    },
    /// The device was lost (driver reset, GPU removed, out of memory).
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    /// wgpu reported a validation or out-of-memory error.
    #[error("GPU operation failed: {0}")]
    Operation(String),
    /// Reading results back from the GPU failed.
    #[error("reading results back from the GPU failed: {0}")]
    Readback(String),
    /// A batched solve met a system that is not (numerically) positive definite.
    #[error("problem {problem} of the batch has a singular system on its support")]
    Singular {
        /// The first such problem.
        problem: usize,
    },
    /// The input was rejected by the core checks (shape, NaN, …).
    #[error(transparent)]
    Input(#[from] sparsimony_core::Error),
}

/// Checks that `found == expected` (a shape error naming `what` otherwise).
pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), GpuError> {
    if expected == found {
        Ok(())
    } else {
        Err(sparsimony_core::Error::DimensionMismatch { what, expected, found }.into())
    }
}

/// Checks that every value is finite (naming `what` and the first bad index otherwise).
pub(crate) fn check_finite<T: sparsimony_core::Real>(what: &'static str, values: &[T]) -> Result<(), GpuError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(sparsimony_core::Error::NonFinite { what, index }.into()),
    }
}

/// The last device error of an operator behind core's `LinearOperator` (whose errors cannot carry it).
#[derive(Debug, Default)]
pub(crate) struct ErrorSlot(std::sync::Mutex<Option<GpuError>>);

impl ErrorSlot {
    /// Writes a product's result into `y`: input errors pass through as core errors; device errors are
    /// kept here and reported as [`sparsimony_core::Error::Device`] naming `what`.
    pub(crate) fn deliver(
        &self,
        what: &'static str,
        result: Result<Vec<f32>, GpuError>,
        y: &mut [f32],
    ) -> sparsimony_core::Result<()> {
        match result {
            Ok(v) => {
                y.copy_from_slice(&v);
                Ok(())
            }
            Err(GpuError::Input(e)) => Err(e),
            Err(e) => {
                if let Ok(mut slot) = self.0.lock() {
                    *slot = Some(e);
                }
                Err(sparsimony_core::Error::Device { what })
            }
        }
    }

    /// The kept error, if any (taken).
    pub(crate) fn take(&self) -> Option<GpuError> {
        self.0.lock().ok().and_then(|mut e| e.take())
    }
}
