//! One optimisation step's parts: the batch, the noise, and the objective's gradients on a
//! batch or on a slice of one (slices add up to the batch).

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;

use super::Hyper;
use crate::Vae;
use crate::loss::LossTerms;

/// One step's objective and its terms, per image, as one-element tensors on the device: read
/// them with `into_scalar` natively, or `into_data_async` where the backend forbids
/// synchronous reads (WebGPU).
#[derive(Clone, Debug)]
pub struct StepFigures {
    /// The objective: reconstruction + KL weight × KL.
    pub loss: Tensor<1>,
    /// The reconstruction term.
    pub recon: Tensor<1>,
    /// The KL term (unweighted).
    pub kl: Tensor<1>,
}

impl std::ops::Add for StepFigures {
    type Output = StepFigures;

    /// The figures of two slices of one batch, added (each is already scaled by the batch).
    fn add(self, other: StepFigures) -> StepFigures {
        StepFigures {
            loss: self.loss + other.loss,
            recon: self.recon + other.recon,
            kl: self.kl + other.kl,
        }
    }
}

/// A batch ready for one step: the images, the reparameterisation noise, and the step's
/// learning rate and KL weight from the run's schedules.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Images `[batch, 784]` in [0, 1], on the autodiff device.
    pub x: Tensor<2>,
    /// Noise ε ~ N(0, I), `[batch, latent]`.
    pub eps: Tensor<2>,
    /// Learning rate of this step.
    pub lr: f64,
    /// Weight of the KL term in this step.
    pub kl_weight: f64,
}

/// The reparameterisation noise ε ~ N(0, I) of a batch, `[batch, latent]`, from the device's
/// generator.
pub fn noise(batch: usize, latent: usize, device: &Device) -> Tensor<2> {
    Tensor::random([batch, latent], Distribution::Normal(0.0, 1.0), device)
}

/// The objective's gradients and figures on images `x` with noise `eps`, a slice of a batch of
/// `batch` images: scaled so that the slices of a batch add up to the batch mean.
pub fn gradients(
    model: &Vae,
    hyper: &Hyper,
    x: Tensor<2>,
    eps: Tensor<2>,
    kl_weight: f64,
    batch: usize,
) -> (GradientsParams, StepFigures) {
    let output = model.forward_with(x.clone(), Some(eps), hyper.dropout);
    let terms = LossTerms::new(hyper.recon, &output, x);
    let n = batch as f64;
    let recon = terms.recon.sum().div_scalar(n);
    let kl = terms.kl.sum().div_scalar(n);
    let loss = recon.clone() + kl.clone().mul_scalar(kl_weight);
    let figures = StepFigures {
        loss: loss.clone().detach(),
        recon: recon.detach(),
        kl: kl.detach(),
    };
    (GradientsParams::from_grads(loss.backward(), model), figures)
}

/// The gradients and figures of the slices of one batch (`first` and the `rest`), added up:
/// those of the whole batch.
pub fn merge(
    model: &Vae,
    first: (GradientsParams, StepFigures),
    rest: impl IntoIterator<Item = (GradientsParams, StepFigures)>,
) -> (GradientsParams, StepFigures) {
    let (mut grads, mut figures) = first;
    let mut rest = rest.into_iter().peekable();
    if rest.peek().is_none() {
        return (grads, figures);
    }
    let mut accumulator = GradientsAccumulator::<Vae>::new();
    accumulator.accumulate(model, grads);
    for (g, f) in rest {
        accumulator.accumulate(model, g);
        figures = figures + f;
    }
    grads = accumulator.grads();
    (grads, figures)
}
