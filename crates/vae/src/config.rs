//! The architecture of the VAE, saved in the model card so that whoever loads the weights
//! rebuilds the same model.

use serde::{Deserialize, Serialize};

/// Hidden-layer nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(0, x), as in the paper's Keras model.
    Relu,
    /// x · sigmoid(x): smooth, which gives a smoother decoded manifold.
    Silu,
}

/// Reconstruction term of the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recon {
    /// Summed Bernoulli cross-entropy over the pixels: the field's standard; with it the loss
    /// is the negative ELBO in nats.
    Bce,
    /// Summed squared error over the pixels, as in the paper we follow.
    Mse,
}

/// Architecture of a multilayer-perceptron VAE.
///
/// The encoder maps the 784 pixels through `hidden` (widest first) to the mean and log-variance
/// of a `latent`-dimensional Gaussian; the decoder mirrors it, from `latent` through `hidden`
/// reversed to 784 pixel logits, unless `decoder_hidden` gives it a layout of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaeConfig {
    /// Dimension of the latent space (the page needs 2).
    pub latent: usize,
    /// Widths of the encoder's hidden layers, input side first; the decoder uses them reversed.
    pub hidden: Vec<usize>,
    /// Widths of the decoder's hidden layers, latent side first, when they differ from
    /// `hidden` reversed (a decoder deeper or wider than the encoder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoder_hidden: Option<Vec<usize>>,
    /// Nonlinearity after every hidden layer.
    pub activation: Activation,
}

impl Default for VaeConfig {
    fn default() -> Self {
        Self {
            latent: 2,
            hidden: vec![512, 256],
            decoder_hidden: None,
            activation: Activation::Silu,
        }
    }
}

impl VaeConfig {
    /// Checks that the architecture can be built: a latent dimension and hidden widths ≥ 1.
    pub fn validate(&self) -> Result<(), String> {
        if self.latent == 0 {
            return Err("latent dimension must be at least 1".into());
        }
        check_widths("encoder", &self.hidden)?;
        if let Some(decoder) = &self.decoder_hidden {
            check_widths("decoder", decoder)?;
        }
        Ok(())
    }

    /// The decoder's hidden widths, latent side first.
    pub fn decoder_widths(&self) -> Vec<usize> {
        match &self.decoder_hidden {
            Some(widths) => widths.clone(),
            None => self.hidden.iter().rev().copied().collect(),
        }
    }

    /// Number of trainable parameters (weights and biases) of the encoder and decoder.
    pub fn parameters(&self) -> usize {
        fn chain(widths: &[usize]) -> usize {
            widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
        }
        let last = self.hidden.last().copied().unwrap_or(crate::IMAGE_PIXELS);
        let encoder = chain(
            &std::iter::once(crate::IMAGE_PIXELS)
                .chain(self.hidden.iter().copied())
                .collect::<Vec<_>>(),
        ) + 2 * (last * self.latent + self.latent);
        let decoder = chain(
            &std::iter::once(self.latent)
                .chain(self.decoder_widths())
                .chain(std::iter::once(crate::IMAGE_PIXELS))
                .collect::<Vec<_>>(),
        );
        encoder + decoder
    }
}

fn check_widths(part: &str, widths: &[usize]) -> Result<(), String> {
    if widths.is_empty() {
        return Err(format!("the {part} needs at least one hidden layer"));
    }
    if let Some(i) = widths.iter().position(|&w| w == 0) {
        return Err(format!("{part} hidden layer {i} has width 0"));
    }
    Ok(())
}
