//! The model card (`card.json`): everything needed to rebuild, trust and display an exported
//! model. The trainer writes it; the wasm crate and the page read it.

use serde::{Deserialize, Serialize};

use crate::config::{Recon, VaeConfig};
use crate::weights::Storage;

/// Version of the card's layout; bumped when a field changes meaning.
pub const CARD_FORMAT: u32 = 1;

/// Test-set metrics of a model, as `trainer eval` prints them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Negative ELBO in nats per image: summed Bernoulli cross-entropy + KL, one z sample per
    /// image drawn with a fixed seed.
    pub neg_elbo: f64,
    /// The Bernoulli cross-entropy part of `neg_elbo`, nats per image.
    pub recon: f64,
    /// The KL part of `neg_elbo`, nats per image.
    pub kl: f64,
    /// Mean squared error per pixel when decoding μ (no sampling).
    pub mse: f64,
    /// Accuracy of a 5-nearest-neighbour vote of each test μ among the training μ.
    pub knn5_acc: f64,
    /// Importance-weighted bound −log (1/k Σ p(x|z) p(z) / q(z|x)) with `iw_samples` samples per
    /// image, nats per image (≤ `neg_elbo`). With continuous pixels and a Bernoulli likelihood
    /// it bounds the model's cross-entropy, not a normalised −log p(x).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iw_nll: Option<f64>,
    /// Importance samples per image behind `iw_nll`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iw_samples: Option<usize>,
    /// KL of q(z|x) from the prior in each latent dimension, averaged over the test set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kl_per_dim: Vec<f64>,
    /// Latent dimensions in use: those whose μ varies over the test set with variance > 0.01.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_units: Option<usize>,
}

/// One dataset file and its checksum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileDigest {
    /// File name, e.g. `train-images-idx3-ubyte.gz`.
    pub name: String,
    /// MD5 of the file as distributed.
    pub md5: String,
}

/// The data the model was trained and evaluated on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Name, `MNIST`.
    pub name: String,
    /// Training images used.
    pub train_images: usize,
    /// Test images evaluated.
    pub test_images: usize,
    /// The four files and their MD5 checksums.
    pub files: Vec<FileDigest>,
}

/// How the model was trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Training {
    /// Epochs trained.
    pub epochs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Seed of the initialisation, the shuffling and the sampling.
    pub seed: u64,
    /// Reconstruction term that was minimised.
    pub recon: Recon,
    /// Wall-clock training time in seconds (all epochs, resumed runs summed).
    pub seconds: f64,
    /// The Burn backend it ran on.
    pub backend: String,
    /// The exact command that produced the model.
    pub command: String,
    /// Weight β of the KL term in the objective (1: the ELBO).
    #[serde(default = "one")]
    pub beta: f64,
    /// Epochs of KL warm-up (the KL weight rising linearly from 0 to β).
    #[serde(default)]
    pub kl_warmup_epochs: usize,
    /// Decay of the moving average of the weights that was exported (absent: the weights as
    /// trained).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ema: Option<f64>,
    /// Decoupled weight decay (AdamW).
    #[serde(default)]
    pub weight_decay: f64,
    /// Dropout rate after every hidden layer while training.
    #[serde(default)]
    pub dropout: f64,
    /// Strength of the random affine distortions of the training images (0: none).
    #[serde(default)]
    pub augment: f64,
    /// The held-out split the exported epoch was chosen on (absent: the last epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
}

fn one() -> f64 {
    1.0
}

/// How the exported epoch was chosen: on images held out from the training set, never on the
/// test set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    /// Which images: `"last N of the training set"`.
    pub split: String,
    /// Number of held-out images (not trained on).
    pub images: usize,
    /// The chosen epoch (1-based).
    pub epoch: usize,
    /// Its validation negative ELBO, nats per image.
    pub neg_elbo: f64,
}

/// The region of the latent plane the page shows: every test μ lies inside it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Extent {
    /// Smallest x (first latent coordinate).
    pub x_min: f64,
    /// Largest x.
    pub x_max: f64,
    /// Smallest y (second latent coordinate).
    pub y_min: f64,
    /// Largest y.
    pub y_max: f64,
}

/// Files of the export other than the card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Files {
    /// Weights file name.
    pub weights: String,
    /// How the weights are stored.
    pub weights_storage: Storage,
    /// Size of the weights file in bytes.
    pub weights_bytes: u64,
    /// Hex SHA-256 of the weights file.
    pub weights_sha256: String,
    /// Bits per value of each quantised matrix of [`Storage::Q8`] weights (16: kept in f16);
    /// empty for other storages.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub weights_bits: std::collections::BTreeMap<String, u8>,
    /// Test-set latents file name (see [`crate::latents`]).
    pub latents: String,
    /// Figures: latent scatter, reconstructions, manifold.
    pub figures: Vec<String>,
}

/// The model card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Layout version, [`CARD_FORMAT`].
    pub format: u32,
    /// The architecture the weights belong to.
    pub architecture: VaeConfig,
    /// The data.
    pub dataset: Dataset,
    /// The training run.
    pub training: Training,
    /// Test-set metrics of the exported weights (as stored, f16 included).
    pub metrics: Metrics,
    /// Latent region for the page's plane.
    pub plane: Extent,
    /// The other files of the export.
    pub files: Files,
}

/// Why a card could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// Not JSON, or a field is missing or of the wrong type.
    #[error("model card is not valid: {0}")]
    Parse(#[from] serde_json::Error),
    /// A layout this crate does not read.
    #[error("model card format {found} is not supported (expected {CARD_FORMAT})")]
    Format {
        /// The card's `format`.
        found: u32,
    },
    /// The architecture cannot be built.
    #[error("model card architecture is invalid: {0}")]
    Architecture(String),
}

impl ModelCard {
    /// Parses and checks a card.
    pub fn from_json(text: &str) -> Result<Self, CardError> {
        let card: Self = serde_json::from_str(text)?;
        if card.format != CARD_FORMAT {
            return Err(CardError::Format { found: card.format });
        }
        card.architecture
            .validate()
            .map_err(CardError::Architecture)?;
        Ok(card)
    }

    /// Checks that `bytes` are the weights this card describes (size and SHA-256), so that a
    /// truncated, corrupted or stale file is reported as such.
    pub fn check_weights(&self, bytes: &[u8]) -> Result<(), String> {
        let name = &self.files.weights;
        if bytes.len() as u64 != self.files.weights_bytes {
            return Err(format!(
                "{name} has {} bytes, the model card says {} (incomplete download or a stale file?)",
                bytes.len(),
                self.files.weights_bytes
            ));
        }
        if crate::weights::sha256_hex(bytes) != self.files.weights_sha256 {
            return Err(format!(
                "{name} does not match the checksum in the model card (corrupt or stale file)"
            ));
        }
        Ok(())
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a card always serialises");
        s.push('\n');
        s
    }
}
