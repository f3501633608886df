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
/// reversed to 784 pixel logits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaeConfig {
    /// Dimension of the latent space (the page needs 2).
    pub latent: usize,
    /// Widths of the encoder's hidden layers, input side first; the decoder uses them reversed.
    pub hidden: Vec<usize>,
    /// Nonlinearity after every hidden layer.
    pub activation: Activation,
}

impl Default for VaeConfig {
    fn default() -> Self {
        Self {
            latent: 2,
            hidden: vec![512, 256],
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
        if self.hidden.is_empty() {
            return Err("at least one hidden layer is needed".into());
        }
        if let Some(i) = self.hidden.iter().position(|&w| w == 0) {
            return Err(format!("hidden layer {i} has width 0"));
        }
        Ok(())
    }
}
