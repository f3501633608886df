//! The backends the trainer can run on, chosen at run time: the CPU (burn-flex, the default),
//! and, in builds with the `wgpu` or `cuda` feature, a GPU.

use anyhow::{Result, bail};
use burn::prelude::Device;
use clap::ValueEnum;

/// A Burn backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// burn-flex: Burn's recommended pure-Rust CPU backend (SIMD, multi-threaded with rayon).
    Flex,
    /// burn-ndarray: deprecated in Burn 0.22; built only with the `ndarray` feature, for
    /// comparison (with the `openblas` feature it multiplies matrices with the system OpenBLAS).
    Ndarray,
    /// burn-wgpu: the first GPU adapter wgpu finds (Vulkan, Metal or DX12); built with the
    /// `wgpu` feature (on by default).
    Wgpu,
    /// burn-cuda: the first NVIDIA GPU; built only with the `cuda` feature.
    Cuda,
}

impl Backend {
    /// The name recorded in the model card.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "burn-flex",
            Backend::Ndarray if cfg!(feature = "openblas") => "burn-ndarray+openblas",
            Backend::Ndarray => "burn-ndarray",
            Backend::Wgpu => "burn-wgpu",
            Backend::Cuda => "burn-cuda",
        }
    }

    /// Whether the backend runs on the CPU (where the trainer splits each batch over threads).
    pub fn is_cpu(self) -> bool {
        matches!(self, Backend::Flex | Backend::Ndarray)
    }

    /// The device, without autodiff; an error (never a panic) when the backend is not built in
    /// or the machine has no such device.
    pub fn device(self) -> Result<Device> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            Backend::Ndarray => ndarray_device(),
            Backend::Wgpu => wgpu_device(),
            Backend::Cuda => cuda_device(),
        }
    }
}

#[cfg(feature = "ndarray")]
fn ndarray_device() -> Result<Device> {
    #[allow(deprecated)] // measured against Flex on purpose
    Ok(Device::ndarray())
}

#[cfg(not(feature = "ndarray"))]
fn ndarray_device() -> Result<Device> {
    bail!("the ndarray backend is not built in: rebuild with `--features ndarray`")
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device> {
    // Enumerating opens no device that is not there; `Device::wgpu` alone would panic at first
    // use on a machine without an adapter.
    match Device::enumerate(burn::tensor::DeviceType::Wgpu)
        .into_iter()
        .next()
    {
        Some(device) => Ok(device),
        None => bail!(
            "--backend wgpu: wgpu found no GPU adapter (Vulkan, Metal or DX12). Install the GPU's \
             driver (on Debian, software Vulkan: apt-get install mesa-vulkan-drivers) or train \
             on the CPU (--backend flex)"
        ),
    }
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device> {
    bail!("the wgpu backend is not built in: rebuild with `--features wgpu`")
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<Device> {
    match Device::enumerate(burn::tensor::DeviceType::Cuda)
        .into_iter()
        .next()
    {
        Some(device) => Ok(device),
        None => bail!("--backend cuda: no CUDA device found (is the NVIDIA driver installed?)"),
    }
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<Device> {
    bail!("the cuda backend is not built in: rebuild with `--features cuda`")
}
