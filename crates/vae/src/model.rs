//! Encoder, decoder and the reparameterisation trick.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::{relu, sigmoid, silu};

use crate::IMAGE_PIXELS;
use crate::config::{Activation, VaeConfig};

fn activate<const D: usize>(activation: Activation, x: Tensor<D>) -> Tensor<D> {
    match activation {
        Activation::Relu => relu(x),
        Activation::Silu => silu(x),
    }
}

/// A stack of linear layers, each followed by the activation.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    fn new(widths: &[usize], device: &Device) -> Self {
        let layers = widths
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Self { layers }
    }

    fn forward(&self, mut x: Tensor<2>, activation: Activation) -> Tensor<2> {
        for layer in &self.layers {
            x = activate(activation, layer.forward(x));
        }
        x
    }
}

/// The Gaussian q(z|x) the encoder outputs for a batch: mean and log-variance, `[batch, latent]`.
#[derive(Clone, Debug)]
pub struct Posterior {
    /// Mean μ.
    pub mean: Tensor<2>,
    /// Log-variance log σ².
    pub log_var: Tensor<2>,
}

impl Posterior {
    /// Standard deviation σ = exp(½ log σ²).
    pub fn std(&self) -> Tensor<2> {
        self.log_var.clone().mul_scalar(0.5).exp()
    }

    /// Draws z = μ + σ·ε with ε ~ N(0, I) (the reparameterisation trick: gradients flow to μ, σ).
    pub fn sample(&self) -> Tensor<2> {
        let eps = self.mean.random_like(Distribution::Normal(0.0, 1.0));
        self.mean.clone() + self.std() * eps
    }
}

/// Maps images `[batch, 784]` in [0, 1] to the posterior q(z|x).
#[derive(Module, Debug)]
pub struct Encoder {
    body: Mlp,
    mean: Linear,
    log_var: Linear,
}

impl Encoder {
    /// The posterior for a batch of flattened images.
    pub fn forward(&self, images: Tensor<2>, activation: Activation) -> Posterior {
        let h = self.body.forward(images, activation);
        Posterior {
            mean: self.mean.forward(h.clone()),
            log_var: self.log_var.forward(h),
        }
    }
}

/// Maps latent points `[batch, latent]` to pixel logits `[batch, 784]`.
#[derive(Module, Debug)]
pub struct Decoder {
    body: Mlp,
    out: Linear,
}

impl Decoder {
    /// Pixel logits: the Bernoulli parameters before the sigmoid.
    pub fn logits(&self, z: Tensor<2>, activation: Activation) -> Tensor<2> {
        self.out.forward(self.body.forward(z, activation))
    }
}

/// The variational autoencoder: encoder, decoder and the architecture they were built from.
#[derive(Module, Debug)]
pub struct Vae {
    /// q(z|x).
    pub encoder: Encoder,
    /// p(x|z).
    pub decoder: Decoder,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    latent: usize,
}

/// Everything one training or evaluation pass produces for a batch.
#[derive(Clone, Debug)]
pub struct VaeOutput {
    /// The posterior q(z|x).
    pub posterior: Posterior,
    /// The sampled latent points.
    pub z: Tensor<2>,
    /// The decoder's pixel logits at `z`.
    pub logits: Tensor<2>,
}

impl Vae {
    /// A freshly initialised model of the given architecture.
    ///
    /// Panics if `config` is invalid; call [`VaeConfig::validate`] first on untrusted input.
    pub fn new(config: &VaeConfig, device: &Device) -> Self {
        if let Err(e) = config.validate() {
            panic!("invalid VAE config: {e}");
        }
        let last = *config.hidden.last().unwrap_or(&IMAGE_PIXELS);
        let enc_widths: Vec<usize> = std::iter::once(IMAGE_PIXELS)
            .chain(config.hidden.iter().copied())
            .collect();
        let dec_widths: Vec<usize> = std::iter::once(config.latent)
            .chain(config.hidden.iter().rev().copied())
            .collect();
        Self {
            encoder: Encoder {
                body: Mlp::new(&enc_widths, device),
                mean: LinearConfig::new(last, config.latent).init(device),
                log_var: LinearConfig::new(last, config.latent).init(device),
            },
            decoder: Decoder {
                body: Mlp::new(&dec_widths, device),
                out: LinearConfig::new(config.hidden[0], IMAGE_PIXELS).init(device),
            },
            activation: config.activation,
            latent: config.latent,
        }
    }

    /// Dimension of the latent space.
    pub fn latent(&self) -> usize {
        self.latent
    }

    /// q(z|x) for a batch of flattened images `[batch, 784]` in [0, 1].
    pub fn encode(&self, images: Tensor<2>) -> Posterior {
        self.encoder.forward(images, self.activation)
    }

    /// Pixel intensities in [0, 1], `[batch, 784]`, for latent points `[batch, latent]`.
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        sigmoid(self.decode_logits(z))
    }

    /// Pixel logits for latent points (the loss works on logits for numerical stability).
    pub fn decode_logits(&self, z: Tensor<2>) -> Tensor<2> {
        self.decoder.logits(z, self.activation)
    }

    /// Encode, sample z with the reparameterisation trick, decode.
    pub fn forward(&self, images: Tensor<2>) -> VaeOutput {
        let posterior = self.encode(images);
        let z = posterior.sample();
        let logits = self.decode_logits(z.clone());
        VaeOutput {
            posterior,
            z,
            logits,
        }
    }
}
