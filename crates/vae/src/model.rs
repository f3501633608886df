//! Encoder, decoder and the reparameterisation trick.

use burn::module::{ModuleVisitor, Param};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::{relu, sigmoid, silu};

use crate::IMAGE_PIXELS;
use crate::config::{Activation, VaeConfig};

/// `layer` applied to `x`, then `activation` where one is given: one operation of its own on
/// the CPU backend where training is compiled in ([`crate::train::host_dense`]), Burn's
/// `Linear` and activation elsewhere.
fn dense(layer: &Linear, x: Tensor<2>, activation: Option<Activation>) -> Tensor<2> {
    #[cfg(feature = "train")]
    if let Some(y) = crate::train::host_dense::dense(layer, &x, activation) {
        return y;
    }
    let y = layer.forward(x);
    match activation {
        Some(Activation::Relu) => relu(y),
        Some(Activation::Silu) => silu(y),
        None => y,
    }
}

/// Zeroes each unit with probability `rate` and scales the rest by 1 / (1 − rate) (inverted
/// dropout); the identity for `rate` = 0, which is how the model evaluates.
fn drop_out(x: Tensor<2>, rate: f64) -> Tensor<2> {
    if rate <= 0.0 {
        return x;
    }
    let keep = 1.0 - rate;
    let mask = x.random_like(Distribution::Bernoulli(keep));
    (x * mask).mul_scalar(1.0 / keep)
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

    fn forward(&self, mut x: Tensor<2>, activation: Activation, dropout: f64) -> Tensor<2> {
        for layer in &self.layers {
            x = drop_out(dense(layer, x, Some(activation)), dropout);
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
        self.sample_with(self.mean.random_like(Distribution::Normal(0.0, 1.0)))
    }

    /// z = μ + σ·ε for a given ε `[batch, latent]`: the same sample however a batch is split.
    pub fn sample_with(&self, eps: Tensor<2>) -> Tensor<2> {
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
        self.forward_with_dropout(images, activation, 0.0)
    }

    /// As [`Encoder::forward`], with dropout of rate `dropout` after every hidden layer
    /// (training only).
    pub fn forward_with_dropout(
        &self,
        images: Tensor<2>,
        activation: Activation,
        dropout: f64,
    ) -> Posterior {
        let h = self.body.forward(images, activation, dropout);
        Posterior {
            mean: dense(&self.mean, h.clone(), None),
            log_var: dense(&self.log_var, h, None),
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
        self.logits_with_dropout(z, activation, 0.0)
    }

    /// As [`Decoder::logits`], with dropout of rate `dropout` after every hidden layer
    /// (training only).
    pub fn logits_with_dropout(
        &self,
        z: Tensor<2>,
        activation: Activation,
        dropout: f64,
    ) -> Tensor<2> {
        dense(&self.out, self.body.forward(z, activation, dropout), None)
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
        let decoder_hidden = config.decoder_widths();
        let dec_out = *decoder_hidden.last().unwrap_or(&config.latent);
        let dec_widths: Vec<usize> = std::iter::once(config.latent)
            .chain(decoder_hidden)
            .collect();
        Self {
            encoder: Encoder {
                body: Mlp::new(&enc_widths, device),
                mean: LinearConfig::new(last, config.latent).init(device),
                log_var: LinearConfig::new(last, config.latent).init(device),
            },
            decoder: Decoder {
                body: Mlp::new(&dec_widths, device),
                out: LinearConfig::new(dec_out, IMAGE_PIXELS).init(device),
            },
            activation: config.activation,
            latent: config.latent,
        }
    }

    /// Dimension of the latent space.
    pub fn latent(&self) -> usize {
        self.latent
    }

    /// Every float parameter, flattened, in the order a `ModuleVisitor` or `ModuleMapper`
    /// meets them: for code that walks two models' weights side by side (the moving average,
    /// the copy of a GPU model to the CPU).
    pub fn flat_parameters(&self) -> Vec<Tensor<1>> {
        struct Collect(Vec<Tensor<1>>);
        impl ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.push(param.val().reshape([-1]));
            }
        }
        let mut collect = Collect(Vec::new());
        self.visit(&mut collect);
        collect.0
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

    /// What the page shows of encoded images, in one tensor `[batch, 2·latent + 784]` (one
    /// read-back from a GPU): μ, σ and the decoding of μ side by side per row. Split it with
    /// [`Encoding::from_rows`].
    pub fn encoding_rows(&self, images: Tensor<2>) -> Tensor<2> {
        let posterior = self.encode(images);
        let reconstruction = self.decode(posterior.mean.clone());
        Tensor::cat(
            vec![posterior.mean.clone(), posterior.std(), reconstruction],
            1,
        )
    }

    /// Encode, sample z with the reparameterisation trick, decode.
    pub fn forward(&self, images: Tensor<2>) -> VaeOutput {
        self.forward_with_dropout(images, 0.0)
    }

    /// As [`Vae::forward`], with dropout of rate `dropout` after every hidden layer of the
    /// encoder and the decoder: a regulariser for training.
    pub fn forward_with_dropout(&self, images: Tensor<2>, dropout: f64) -> VaeOutput {
        self.forward_with(images, None, dropout)
    }

    /// The forward pass with everything random made explicit: the noise ε `[batch, latent]` of
    /// the reparameterisation (drawn from the device's generator when `None`), and the dropout
    /// rate. A batch split into slices with the slices of one ε gives the same z as the whole.
    pub fn forward_with(
        &self,
        images: Tensor<2>,
        eps: Option<Tensor<2>>,
        dropout: f64,
    ) -> VaeOutput {
        let posterior = self
            .encoder
            .forward_with_dropout(images, self.activation, dropout);
        let z = match eps {
            Some(eps) => posterior.sample_with(eps),
            None => posterior.sample(),
        };
        let logits = self
            .decoder
            .logits_with_dropout(z.clone(), self.activation, dropout);
        VaeOutput {
            posterior,
            z,
            logits,
        }
    }
}

/// One encoded image as the page shows it: μ and σ of q(z|x) and the decoding of μ.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoding {
    /// μ of q(z|x).
    pub mean: Vec<f32>,
    /// σ of q(z|x).
    pub std: Vec<f32>,
    /// The decoding of μ, 28×28 in [0, 1].
    pub reconstruction: Vec<f32>,
}

impl Encoding {
    /// Splits the values of [`Vae::encoding_rows`] (row-major) into one encoding per image;
    /// `None` if their number does not fit whole rows of a model with `latent` dimensions.
    pub fn from_rows(values: &[f32], latent: usize) -> Option<Vec<Encoding>> {
        let row = 2 * latent + IMAGE_PIXELS;
        if !values.len().is_multiple_of(row) {
            return None;
        }
        Some(
            values
                .chunks_exact(row)
                .map(|r| Encoding {
                    mean: r[..latent].to_vec(),
                    std: r[latent..2 * latent].to_vec(),
                    reconstruction: r[2 * latent..].to_vec(),
                })
                .collect(),
        )
    }
}
