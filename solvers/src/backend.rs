//! Where a fit runs: a field of the estimators that can run on a GPU, not a second method.

/// The hardware an estimator fits on. Estimators with a GPU path (cross-validation grids, SINDy ensembles)
/// take it as their `backend` field and return the same fitted type either way.
///
/// The CPU computes in `f64` (rayon threads where the algorithm is parallel). The GPU runs the batched
/// part in `f32` through wgpu and agrees with the CPU to the tolerance each estimator states. A GPU that
/// cannot run the fit (no adapter, a missing feature, a device lost) is [`crate::Error::Gpu`] with the
/// backend's typed error, so a caller can match it and refit with [`Backend::Cpu`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Backend {
    /// The CPU, in `f64`.
    #[default]
    Cpu,
    /// A GPU context (adapter, device, compiled pipelines), shared between estimators and fits.
    #[cfg(feature = "gpu")]
    Gpu(std::sync::Arc<sparsimony_gpu::GpuContext>),
}

impl Backend {
    /// Opens the GPU adapter wgpu chooses (its environment variables `WGPU_BACKEND`, `WGPU_ADAPTER_NAME`,
    /// `WGPU_POWER_PREF` apply).
    ///
    /// # Errors
    /// [`crate::Error::Gpu`] when no adapter or device can be had; [`crate::Error::NoGpuBackend`] in a
    /// build without the `gpu` feature.
    pub fn gpu() -> crate::Result<Self> {
        #[cfg(feature = "gpu")]
        {
            Ok(Backend::Gpu(std::sync::Arc::new(sparsimony_gpu::GpuContext::new()?)))
        }
        #[cfg(not(feature = "gpu"))]
        {
            Err(crate::Error::NoGpuBackend)
        }
    }

    /// A human name: `"CPU"`, or the GPU adapter's name.
    pub fn name(&self) -> String {
        match self {
            Backend::Cpu => "CPU".into(),
            #[cfg(feature = "gpu")]
            Backend::Gpu(ctx) => ctx.adapter_info().name.clone(),
        }
    }
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Cpu => f.write_str("Cpu"),
            #[cfg(feature = "gpu")]
            Backend::Gpu(_) => write!(f, "Gpu({:?})", self.name()),
        }
    }
}

impl PartialEq for Backend {
    /// The same backend: both the CPU, or the same GPU context.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Backend::Cpu, Backend::Cpu) => true,
            #[cfg(feature = "gpu")]
            (Backend::Gpu(a), Backend::Gpu(b)) => std::sync::Arc::ptr_eq(a, b),
            #[cfg(feature = "gpu")]
            _ => false,
        }
    }
}
