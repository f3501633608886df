//! Metrics of a model on a split that the trainer and the page's training both report: the
//! negative ELBO with its two terms (one seeded z per image) and the mean reconstruction's MSE.
//! Results are read back synchronously: CPU backends (and native wgpu) only.

use burn::prelude::*;

use crate::loss::{bce_from_logits, kl_to_standard_normal};
use crate::rng::Rng;
use crate::split::Split;
use crate::{IMAGE_PIXELS, Vae};

/// A `[rows, cols]` tensor from a row-major buffer.
fn matrix(values: Vec<f32>, cols: usize, device: &Device) -> Tensor<2> {
    let rows = values.len() / cols;
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

fn images(values: Vec<f32>, device: &Device) -> Tensor<2> {
    matrix(values, IMAGE_PIXELS, device)
}

/// Seed of the ε drawn for the negative ELBO, so every evaluation of a model gives one number.
pub const EVAL_SEED: u64 = 0x5EED_E1B0;
/// Images per forward pass while evaluating.
pub const EVAL_BATCH: usize = 1000;

/// The ELBO terms on a split, nats per image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElboTerms {
    /// Bernoulli cross-entropy.
    pub recon: f64,
    /// KL divergence to the prior.
    pub kl: f64,
}

impl ElboTerms {
    /// recon + KL.
    pub fn neg_elbo(&self) -> f64 {
        self.recon + self.kl
    }
}

/// Negative ELBO terms on `split`, one z per image with ε from [`EVAL_SEED`].
pub fn elbo_terms(model: &Vae, split: &Split, device: &Device) -> ElboTerms {
    let mut rng = Rng::new(EVAL_SEED, 0);
    let (mut recon, mut kl) = (0.0f64, 0.0f64);
    for start in (0..split.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(split.len());
        let x = images(split.gather(start..end), device);
        let posterior = model.encode(x.clone());
        let eps: Vec<f32> = (0..(end - start) * model.latent())
            .map(|_| rng.normal())
            .collect();
        let z = posterior.mean.clone() + posterior.std() * matrix(eps, model.latent(), device);
        let logits = model.decode_logits(z);
        recon += f64::from(bce_from_logits(logits, x).sum().into_scalar::<f32>());
        kl += f64::from(kl_to_standard_normal(&posterior).sum().into_scalar::<f32>());
    }
    let n = split.len() as f64;
    ElboTerms {
        recon: recon / n,
        kl: kl / n,
    }
}

/// Mean squared error per pixel between `split` and the decoding of its latent means.
pub fn mean_reconstruction_mse(model: &Vae, split: &Split, device: &Device) -> f64 {
    let mut total = 0.0f64;
    for start in (0..split.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(split.len());
        let x = images(split.gather(start..end), device);
        let decoded = model.decode(model.encode(x.clone()).mean);
        total += f64::from((decoded - x).powi_scalar(2).sum().into_scalar::<f32>());
    }
    total / (split.len() * IMAGE_PIXELS) as f64
}
