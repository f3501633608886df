//! The CPU backends the trainer can run on, chosen at run time.

use anyhow::{Result, bail};
use burn::prelude::Device;
use clap::ValueEnum;

/// A Burn CPU backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// burn-flex: Burn's recommended pure-Rust CPU backend (SIMD, multi-threaded with rayon).
    Flex,
    /// burn-ndarray: deprecated in Burn 0.22; built only with the `ndarray` feature, for
    /// comparison (with the `openblas` feature it multiplies matrices with the system OpenBLAS).
    Ndarray,
}

impl Backend {
    /// The name recorded in the model card.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "burn-flex",
            Backend::Ndarray if cfg!(feature = "openblas") => "burn-ndarray+openblas",
            Backend::Ndarray => "burn-ndarray",
        }
    }

    /// The device, without autodiff.
    pub fn device(self) -> Result<Device> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            Backend::Ndarray => ndarray_device(),
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
