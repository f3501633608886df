//! The VAE's loss terms, per image (summed over pixels or latent dimensions, not averaged), so
//! that with [`Recon::Bce`] the total is the negative ELBO in nats per image.

use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, sigmoid};

use crate::config::Recon;
use crate::model::{Posterior, VaeOutput};

/// Bernoulli cross-entropy −Σ [x log p + (1−x) log(1−p)] with p = sigmoid(logits), per image
/// `[batch, 1]`, computed from the logits for numerical stability.
pub fn bce_from_logits(logits: Tensor<2>, target: Tensor<2>) -> Tensor<2> {
    // softplus(l) − x·l = (1 − x)·l − log σ(l): one multiply by a constant and Burn's fused,
    // overflow-free log-sigmoid (with its own backward), instead of a chain of elementwise ops
    // that autodiff would each record.
    (target.neg().add_scalar(1.0) * logits.clone() - log_sigmoid(logits)).sum_dim(1)
}

/// Summed squared error Σ (sigmoid(l) − x)² per image `[batch, 1]` (the paper's loss).
pub fn squared_error_from_logits(logits: Tensor<2>, target: Tensor<2>) -> Tensor<2> {
    (sigmoid(logits) - target).powi_scalar(2).sum_dim(1)
}

/// KL(q(z|x) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²), per image `[batch, 1]`.
pub fn kl_to_standard_normal(posterior: &Posterior) -> Tensor<2> {
    let Posterior { mean, log_var } = posterior;
    (log_var.clone().add_scalar(1.0) - mean.clone().powi_scalar(2) - log_var.clone().exp())
        .sum_dim(1)
        .mul_scalar(-0.5)
}

/// The reconstruction term chosen by `recon`, per image `[batch, 1]`.
pub fn reconstruction(recon: Recon, logits: Tensor<2>, target: Tensor<2>) -> Tensor<2> {
    match recon {
        Recon::Bce => bce_from_logits(logits, target),
        Recon::Mse => squared_error_from_logits(logits, target),
    }
}

/// The two terms of the loss for one batch, per image `[batch, 1]`.
#[derive(Clone, Debug)]
pub struct LossTerms {
    /// Reconstruction error.
    pub recon: Tensor<2>,
    /// KL divergence of q(z|x) from the prior.
    pub kl: Tensor<2>,
}

impl LossTerms {
    /// The terms of `output`, a forward pass on `images`.
    pub fn new(recon: Recon, output: &VaeOutput, images: Tensor<2>) -> Self {
        Self {
            recon: reconstruction(recon, output.logits.clone(), images),
            kl: kl_to_standard_normal(&output.posterior),
        }
    }

    /// The batch mean of reconstruction + `kl_weight` · KL: the scalar to minimise.
    pub fn objective(&self, kl_weight: f64) -> Tensor<1> {
        (self.recon.clone() + self.kl.clone().mul_scalar(kl_weight)).mean()
    }
}
