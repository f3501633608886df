//! The two backends: WebGPU (burn-wgpu) and the CPU (burn-flex, Burn's recommended CPU backend,
//! which also runs in wasm).

use burn::prelude::Device;
use serde::Serialize;

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

    /// Parses [`Self::name`].
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "webgpu" => Some(BackendKind::WebGpu),
            "cpu" => Some(BackendKind::Cpu),
            _ => None,
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

/// Initialises WebGPU once: the device and what the adapter says about itself.
#[cfg(target_family = "wasm")]
pub async fn init_webgpu() -> Result<(Device, AdapterInfo), crate::WebError> {
    use burn::tensor::wgpu::wgpu::DeviceType;
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| crate::WebError::context("WebGPU initialisation failed", e))?;
    let info = setup.adapter.get_info();
    Ok((
        device,
        AdapterInfo {
            name: info.name,
            fallback: info.device_type == DeviceType::Cpu,
        },
    ))
}
