use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use crate::GpuError;

/// An open GPU device with its queue and a cache of compiled compute pipelines.
///
/// Creating one is expensive (adapter discovery, device creation); create it once and share it.
#[derive(Debug)]
pub struct GpuContext {
    adapter_info: wgpu::AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipelines: Mutex<HashMap<&'static str, wgpu::ComputePipeline>>,
    lost: Arc<Mutex<Option<String>>>,
    lost_flag: Arc<AtomicBool>,
}

impl GpuContext {
    /// Opens the highest-performance adapter wgpu finds.
    ///
    /// The environment variables of wgpu are honoured: `WGPU_BACKEND` (e.g. `vulkan`), `WGPU_ADAPTER_NAME`
    /// (a substring of the adapter name, e.g. `llvmpipe` for Mesa's software driver) and
    /// `WGPU_POWER_PREF`. The device is opened with the adapter's full limits and, where available, the
    /// `SHADER_F64` and `SUBGROUP` features.
    ///
    /// # Errors
    /// [`GpuError::NoAdapter`] when no adapter is available, [`GpuError::DeviceRequest`] when the device
    /// cannot be opened.
    pub fn new() -> Result<Self, GpuError> {
        pollster::block_on(Self::new_async())
    }

    async fn new_async() -> Result<Self, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        // WGPU_ADAPTER_NAME chooses by name (a case-insensitive substring), as wgpu's own helper does —
        // which panics when nothing matches; here that is `NoAdapter`, naming what there is.
        let wanted_name = std::env::var("WGPU_ADAPTER_NAME").ok().map(|n| n.to_lowercase());
        let adapter = match wanted_name {
            Some(name) => {
                let adapters = instance.enumerate_adapters(wgpu::Backends::all()).await;
                let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
                adapters
                    .into_iter()
                    .find(|a| a.get_info().name.to_lowercase().contains(&name))
                    .ok_or_else(|| {
                        GpuError::NoAdapter(format!(
                            "WGPU_ADAPTER_NAME is `{name}`, which names none of the adapters found ({})",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        ))
                    })?
            }
            None => {
                let options = wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::from_env()
                        .unwrap_or(wgpu::PowerPreference::HighPerformance),
                    force_fallback_adapter: false,
                    compatible_surface: None,
                    ..Default::default()
                };
                instance
                    .request_adapter(&options)
                    .await
                    .map_err(|e| GpuError::NoAdapter(e.to_string()))?
            }
        };
        let adapter_info = adapter.get_info();
        let wanted = wgpu::Features::SHADER_F64 | wgpu::Features::SUBGROUP;
        let descriptor = wgpu::DeviceDescriptor {
            label: Some("sparsimony"),
            required_features: adapter.features() & wanted,
            required_limits: adapter.limits(),
            ..Default::default()
        };
        let (device, queue) = adapter
            .request_device(&descriptor)
            .await
            .map_err(|e| GpuError::DeviceRequest {
                adapter: adapter_info.name.clone(),
                reason: e.to_string(),
            })?;
        let lost = Arc::new(Mutex::new(None));
        let lost_flag = Arc::new(AtomicBool::new(false));
        let (l, f) = (lost.clone(), lost_flag.clone());
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut slot) = l.lock() {
                *slot = Some(format!("{reason:?}: {message}"));
            }
            f.store(true, Ordering::SeqCst);
        });
        Ok(Self {
            adapter_info,
            device,
            queue,
            pipelines: Mutex::new(HashMap::new()),
            lost,
            lost_flag,
        })
    }

    /// Name, vendor, driver and backend of the adapter in use.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.adapter_info
    }

    /// Whether kernels may use `f64` (the adapter has `SHADER_F64`).
    pub fn supports_f64(&self) -> bool {
        self.device.features().contains(wgpu::Features::SHADER_F64)
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Fails with [`GpuError::DeviceLost`] once the device has been lost.
    pub(crate) fn check_alive(&self) -> Result<(), GpuError> {
        if self.lost_flag.load(Ordering::SeqCst) {
            let msg = self.lost.lock().ok().and_then(|m| m.clone()).unwrap_or_default();
            return Err(GpuError::DeviceLost(msg));
        }
        Ok(())
    }

    /// The compute pipeline for `entry` in the WGSL `source`, compiled once and cached under `name`.
    pub(crate) fn pipeline(
        &self,
        name: &'static str,
        source: &'static str,
        entry: &'static str,
    ) -> Result<wgpu::ComputePipeline, GpuError> {
        let mut cache = self
            .pipelines
            .lock()
            .map_err(|_| GpuError::Operation("pipeline cache poisoned".into()))?;
        if let Some(p) = cache.get(name) {
            return Ok(p.clone());
        }
        let pipeline = self.capture_errors(|| {
            let module = self.device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(name),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        })?;
        cache.insert(name, pipeline.clone());
        Ok(pipeline)
    }

    /// Runs `f` inside validation and out-of-memory error scopes and turns a captured error into
    /// [`GpuError::Operation`].
    pub(crate) fn capture_errors<R>(&self, f: impl FnOnce() -> R) -> Result<R, GpuError> {
        self.check_alive()?;
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let r = f();
        let v = pollster::block_on(validation.pop());
        let o = pollster::block_on(oom.pop());
        if let Some(e) = v.or(o) {
            return Err(GpuError::Operation(e.to_string()));
        }
        self.check_alive()?;
        Ok(r)
    }

    /// Checks a storage buffer of `bytes` against the device limits.
    pub(crate) fn check_storage_size(&self, what: &'static str, bytes: u64) -> Result<(), GpuError> {
        let limits = self.device.limits();
        if bytes > limits.max_storage_buffer_binding_size {
            return Err(GpuError::BufferTooLarge {
                what,
                bytes,
                limit: limits.max_storage_buffer_binding_size,
                limit_name: "max_storage_buffer_binding_size",
            });
        }
        if bytes > limits.max_buffer_size {
            return Err(GpuError::BufferTooLarge {
                what,
                bytes,
                limit: limits.max_buffer_size,
                limit_name: "max_buffer_size",
            });
        }
        Ok(())
    }

    /// A storage buffer initialised with `data` (at least 4 bytes, since wgpu cannot bind empty buffers).
    pub(crate) fn storage_buffer<T: bytemuck::Pod>(
        &self,
        what: &'static str,
        data: &[T],
        extra_usage: wgpu::BufferUsages,
    ) -> Result<wgpu::Buffer, GpuError> {
        let bytes: &[u8] = bytemuck::cast_slice(data);
        self.check_storage_size(what, bytes.len() as u64)?;
        let padded;
        let contents = if bytes.len() < 4 {
            padded = [0u8; 4];
            &padded[..]
        } else {
            bytes
        };
        self.capture_errors(|| {
            self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(what),
                contents,
                usage: wgpu::BufferUsages::STORAGE | extra_usage,
            })
        })
    }

    /// A grid of `groups` workgroups within the per-dimension limit: `(x, y)`, folded into a second
    /// dimension beyond it (kernels index workgroups as `x + y · gx`).
    pub(crate) fn grid(&self, groups: u32) -> (u32, u32) {
        let max_dim = self.device.limits().max_compute_workgroups_per_dimension;
        if groups <= max_dim {
            (groups, 1)
        } else {
            (max_dim, groups.div_ceil(max_dim))
        }
    }

    /// A uniform buffer holding `value`.
    pub(crate) fn uniform<T: bytemuck::Pod>(&self, value: &T) -> Result<wgpu::Buffer, GpuError> {
        self.capture_errors(|| {
            self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("parameters"),
                contents: bytemuck::bytes_of(value),
                usage: wgpu::BufferUsages::UNIFORM,
            })
        })
    }

    /// A zeroed storage buffer of `len` values of `T` that can be read back.
    pub(crate) fn output<T: bytemuck::Pod + Default>(
        &self,
        what: &'static str,
        len: usize,
    ) -> Result<wgpu::Buffer, GpuError> {
        self.storage_buffer(what, &vec![T::default(); len.max(1)], wgpu::BufferUsages::COPY_SRC)
    }

    /// Runs `pipeline` on a `(gx, gy)` grid with `buffers` bound at 0, 1, … in order.
    pub(crate) fn dispatch(
        &self,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
        (gx, gy): (u32, u32),
    ) -> Result<(), GpuError> {
        self.capture_errors(|| {
            let layout = pipeline.get_bind_group_layout(0);
            let entries: Vec<wgpu::BindGroupEntry> = buffers
                .iter()
                .enumerate()
                .map(|(i, b)| wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource: b.as_entire_binding(),
                })
                .collect();
            let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout: &layout,
                entries: &entries,
            });
            let mut encoder = self.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &bind, &[]);
                pass.dispatch_workgroups(gx, gy, 1);
            }
            self.queue.submit([encoder.finish()]);
        })
    }

    /// Copies `len` values of `T` from the start of `buffer` back to the host.
    pub(crate) fn read_back<T: bytemuck::Pod>(&self, buffer: &wgpu::Buffer, len: usize) -> Result<Vec<T>, GpuError> {
        let bytes = (len * std::mem::size_of::<T>()) as u64;
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let staging = self.capture_errors(|| {
            let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("readback"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let mut encoder = self.device.create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(buffer, 0, &staging, 0, bytes);
            self.queue.submit([encoder.finish()]);
            staging
        })?;
        let slice = staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        self.check_alive()?;
        rx.recv()
            .map_err(|e| GpuError::Readback(e.to_string()))?
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let view = slice
            .get_mapped_range()
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let out = bytemuck::cast_slice::<u8, T>(&view).to_vec();
        drop(view);
        staging.unmap();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_buffers_are_refused_before_allocation() {
        let Ok(ctx) = GpuContext::new() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but no GPU adapter"
            );
            eprintln!("*** SKIPPED: no GPU adapter ***");
            return;
        };
        let limit = ctx.device().limits().max_storage_buffer_binding_size;
        let r = ctx.check_storage_size("test data", limit + 4);
        assert!(
            matches!(r, Err(GpuError::BufferTooLarge { limit: l, .. }) if l == limit),
            "{r:?}"
        );
        assert!(ctx.check_storage_size("test data", 4).is_ok());
    }
}
