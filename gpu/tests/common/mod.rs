//! Shared by the GPU tests.
use sparsimony_gpu::GpuContext;

/// The GPU context, or a loud skip when there is no adapter — except in CI (`CI=true`), where a missing
/// adapter fails the test.
pub fn context() -> Option<GpuContext> {
    match GpuContext::new() {
        Ok(ctx) => {
            let info = ctx.adapter_info();
            eprintln!(
                "GPU test on adapter `{}` ({:?}, {:?}, driver {})",
                info.name, info.backend, info.device_type, info.driver
            );
            Some(ctx)
        }
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but no GPU adapter ({e}); .ci/run installs mesa-vulkan-drivers and libvulkan1 for this")
        }
        Err(e) => {
            eprintln!("\n*** SKIPPED: GPU test has no adapter: {e}");
            eprintln!("*** install Mesa's software Vulkan (Debian: mesa-vulkan-drivers libvulkan1) to run it ***\n");
            None
        }
    }
}
