//! The Latent Canvas variational autoencoder: the one model definition.
//!
//! The trainer (native) and the web crate (wasm) both build the model from this crate, so the
//! weights the trainer exports always match the code the page runs. The crate holds:
//!
//! - [`config`]: the architecture ([`VaeConfig`]), which travels with the weights;
//! - [`model`]: the encoder, the decoder and the reparameterisation ([`Vae`]);
//! - [`loss`]: the reconstruction terms (Bernoulli cross-entropy, mean squared error) and the
//!   analytic KL divergence to N(0, I);
//! - [`card`]: the model card (`card.json`) that describes an exported model;
//! - [`index`]: the list of models the page offers (`www/models.json`);
//! - [`golden`]: the golden-values fixture the browser tests compare with;
//! - [`weights`]: reading and writing the weights file, f32, f16 or 8-bit;
//! - [`idx`]: MNIST's IDX files (images and labels), checked before anything is allocated;
//! - [`metrics`]: the negative ELBO and reconstruction error of a model on a split;
//! - [`latents`]: the compact file of test-set latent means the page draws as a scatter;
//! - [`palette`]: the colour of each digit, for figures and page alike;
//! - [`preprocess`]: turning a drawing into a 28×28 image the way MNIST was made;
//! - [`plane`]: points of the latent plane (grid, interpolation, samples, nearest digits);
//! - [`rng`]: the seeded generator behind every sample, the same on every platform;
//! - [`split`]: a split of MNIST in memory (images and labels), batches gathered from it;
//! - `train` (feature `train`): the training loop, the trainer's and the page's.

pub mod card;
pub mod config;
pub mod golden;
pub mod idx;
pub mod index;
pub mod latents;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod palette;
pub mod plane;
pub mod preprocess;
pub mod rng;
pub mod split;
#[cfg(feature = "train")]
pub mod train;
pub mod weights;

pub use card::ModelCard;
pub use config::{Activation, Recon, VaeConfig};
pub use model::{Decoder, Encoder, Encoding, Posterior, Vae};

/// Side of the square MNIST image, in pixels.
pub const IMAGE_SIDE: usize = 28;

/// Number of pixels of one image.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;

/// File names of an exported model directory (`www/model/`): one source of truth for the
/// trainer that writes them, the wasm crate and the page that read them.
pub mod files {
    /// The model card: architecture, dataset, training run, metrics, plane extent.
    pub const CARD: &str = "card.json";
    /// The weights, in Burn's burnpack format.
    pub const WEIGHTS: &str = "weights.bpk";
    /// The test set's latent means and labels (see [`crate::latents`]).
    pub const LATENTS: &str = "test-latents.bin";
    /// Figure: the test set's latent means coloured by digit (the paper's fig. 2).
    pub const FIG_SCATTER: &str = "latent-scatter.png";
    /// Figure: test inputs above their reconstructions (the paper's fig. 3).
    pub const FIG_RECON: &str = "reconstructions.png";
    /// Figure: the decoded manifold over the latent plane.
    pub const FIG_MANIFOLD: &str = "manifold.png";
}
