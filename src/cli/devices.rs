use serde_json::json;
use sparsimony::gpu::GpuContext;

use super::{CliResult, print_json};

/// `sparsimony devices`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON: {"name", "backend", "device_type", "driver", "driver_info", "f64"}.
    #[arg(long)]
    json: bool,
}

/// Opens the GPU context and describes its adapter (honours WGPU_BACKEND and WGPU_ADAPTER_NAME).
pub fn run(a: Args) -> CliResult {
    let ctx = GpuContext::new()?;
    let i = ctx.adapter_info();
    if a.json {
        print_json(&json!({
            "name": i.name,
            "backend": format!("{:?}", i.backend),
            "device_type": format!("{:?}", i.device_type),
            "driver": i.driver,
            "driver_info": i.driver_info,
            "f64": ctx.supports_f64(),
        }))?;
    } else {
        outln!("adapter: {} ({:?}, {:?})", i.name, i.backend, i.device_type)?;
        outln!("driver:  {} {}", i.driver, i.driver_info)?;
        outln!("f64 shaders: {}", if ctx.supports_f64() { "yes" } else { "no" })?;
    }
    Ok(())
}
