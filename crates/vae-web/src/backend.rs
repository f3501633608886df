//! The two backends: WebGPU (burn-wgpu) and the CPU (burn-flex, Burn's recommended CPU backend,
//! which also runs in wasm), and the state WebGPU is in.

use burn::prelude::Device;
use serde::Serialize;

use crate::error::{ErrorKind, WebError};

/// Which backend runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn-wgpu on the browser's WebGPU adapter.
    WebGpu,
    /// burn-flex on the CPU.
    Cpu,
}

impl BackendKind {
    /// The name the page shows and accepts: `webgpu` or `cpu`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "webgpu",
            BackendKind::Cpu => "cpu",
        }
    }

    /// Parses [`Self::name`]; an unknown name is a [`ErrorKind::BadInput`] error.
    pub fn parse(name: &str) -> Result<Self, WebError> {
        match name {
            "webgpu" => Ok(BackendKind::WebGpu),
            "cpu" => Ok(BackendKind::Cpu),
            _ => Err(WebError::new(
                ErrorKind::BadInput,
                format!("unknown backend `{name}` (webgpu or cpu)"),
            )),
        }
    }
}

/// Where WebGPU stands for a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpuState {
    /// Not tried yet (or being started).
    NotAttached,
    /// Attached and usable.
    Available,
    /// Tried and failed to start (the reason says why).
    Unavailable,
    /// Was usable, then lost (device loss or a failed call): the CPU runs instead.
    Lost,
}

impl GpuState {
    /// The name JavaScript sees: `not-attached`, `available`, `unavailable`, `lost`.
    pub fn name(self) -> &'static str {
        match self {
            GpuState::NotAttached => "not-attached",
            GpuState::Available => "available",
            GpuState::Unavailable => "unavailable",
            GpuState::Lost => "lost",
        }
    }
}

/// The CPU device.
pub fn cpu_device() -> Device {
    Device::flex()
}

/// What the WebGPU adapter says about itself (in a browser, little: the page asks
/// `GPUAdapter.info` for the vendor and architecture).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AdapterInfo {
    /// The adapter's description, e.g. "SwiftShader Device (Subzero)"; may be empty.
    pub name: String,
    /// Whether the browser calls it a fallback adapter (a CPU emulating a GPU).
    pub fallback: bool,
}

/// The error for a failed WebGPU start: "no adapter" (wgpu's `AdapterUnavailable`) said
/// plainly, anything else with wgpu's own words after it.
pub fn init_error(no_adapter: bool, cause: impl std::fmt::Display) -> WebError {
    let message = if no_adapter {
        "the browser offers no WebGPU adapter".to_string()
    } else {
        format!("WebGPU initialisation failed: {cause}")
    };
    WebError::new(ErrorKind::WebGpuUnavailable, message)
}

/// Initialises WebGPU once per module instance: the device and what the adapter says about
/// itself. Later calls return the same device (Burn starts its WebGPU runtime once; a second
/// start would fail), so that whatever one module instance runs on WebGPU (a model, a training
/// run, several tests) shares it; two calls that overlap both start it, and the later one
/// fails as Burn's own second start would. Only in builds with the `webgpu` feature (the
/// page's second module).
#[cfg(all(target_family = "wasm", feature = "webgpu"))]
pub async fn init_webgpu() -> Result<(Device, AdapterInfo), WebError> {
    use burn::tensor::wgpu::{WgpuInitError, wgpu::DeviceType};
    if let Some(started) = webgpu_device() {
        return Ok(started);
    }
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| init_error(matches!(e, WgpuInitError::AdapterUnavailable { .. }), &e))?;
    let info = setup.adapter.get_info();
    let started = (
        device,
        AdapterInfo {
            name: info.name,
            fallback: info.device_type == DeviceType::Cpu,
        },
    );
    WEBGPU.with(|cell| {
        let _ = cell.set(started.clone());
    });
    Ok(started)
}

#[cfg(all(target_family = "wasm", feature = "webgpu"))]
thread_local! {
    /// The WebGPU device [`init_webgpu`] started, once it has.
    static WEBGPU: std::cell::OnceCell<(Device, AdapterInfo)> = const { std::cell::OnceCell::new() };
}

/// The WebGPU device and adapter, if [`init_webgpu`] has started them in this module instance.
#[cfg(all(target_family = "wasm", feature = "webgpu"))]
pub fn webgpu_device() -> Option<(Device, AdapterInfo)> {
    WEBGPU.with(|cell| cell.get().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_adapter_is_said_plainly() {
        let e = init_error(true, "No adapter available for DefaultDevice: none");
        assert_eq!(e.kind, ErrorKind::WebGpuUnavailable);
        assert_eq!(e.message, "the browser offers no WebGPU adapter");
        let other = init_error(false, "device request failed: limits");
        assert_eq!(
            other.message,
            "WebGPU initialisation failed: device request failed: limits"
        );
    }

    #[test]
    fn backend_names_round_trip() {
        for kind in [BackendKind::WebGpu, BackendKind::Cpu] {
            assert_eq!(BackendKind::parse(kind.name()), Ok(kind));
        }
        assert_eq!(
            BackendKind::parse("tpu").unwrap_err().kind,
            ErrorKind::BadInput
        );
    }
}
