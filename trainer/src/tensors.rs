//! Moving data between plain Rust buffers and Burn tensors.

use anyhow::{Context, Result};
use burn::prelude::*;
use vae::IMAGE_PIXELS;

/// A `[rows, cols]` tensor from a row-major buffer.
pub fn matrix(values: Vec<f32>, cols: usize, device: &Device) -> Tensor<2> {
    let rows = values.len() / cols;
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

/// A batch of flattened images `[n, 784]`.
pub fn images(values: Vec<f32>, device: &Device) -> Tensor<2> {
    matrix(values, IMAGE_PIXELS, device)
}

/// The values of a tensor, row-major.
pub fn to_vec<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .context("reading a tensor back from the device")
}
