//! Training in the browser (feature `train`): a fresh VAE trained by the shared loop
//! ([`vae::train::TrainLoop`], the CLI trainer's) on MNIST bytes the page fetched, stepped a
//! few batches at a time so that the worker reports between them. The current weights encode a
//! fixed test subset for the live scatter, and export as the trainer exports them: a card and
//! a weights file that `trainer eval --model DIR` reads and the page loads again.
//!
//! The run trains on the CPU or on WebGPU (the device it is given). Step figures and latent
//! means are read back asynchronously (`into_data_async`), as WebGPU requires; an export first
//! copies the weights to the CPU the same way ([`model_on_cpu`]), then measures the card's
//! metrics there.

use std::cell::RefCell;

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use vae::card::{CARD_FORMAT, Dataset, Files, Metrics, ModelCard, Training as TrainingCard};
use vae::metrics::knn_label;
use vae::split::Split;
use vae::train::{Hyper, TrainLoop};
use vae::weights::{self, Storage};
use vae::{IMAGE_PIXELS, Vae, VaeConfig, files};

use crate::error::{ErrorKind, WebError};
use crate::session::read;
use crate::to_cpu::model_on_cpu;

/// Widths a hidden layer may have in the page's panel.
pub const HIDDEN_RANGE: std::ops::RangeInclusive<usize> = 8..=1024;
/// The largest β the panel offers.
pub const MAX_BETA: f64 = 4.0;
/// Batch sizes the panel accepts.
pub const BATCH_RANGE: std::ops::RangeInclusive<usize> = 8..=1024;
/// The most steps one `steps` call runs (the worker reports between calls).
pub const MAX_STEPS_PER_CALL: usize = 1000;

/// What the user chose in the Train panel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    /// Encoder hidden widths, input side first (the decoder mirrors them).
    pub hidden: Vec<usize>,
    /// Weight of the KL term, 0 to [`MAX_BETA`].
    pub beta: f64,
    /// Peak learning rate (cosine-decayed over the run), in (0, 0.1].
    pub lr: f64,
    /// Minibatch size.
    pub batch: usize,
    /// Seed of the initialisation, the shuffling and the noise.
    pub seed: u64,
    /// Epochs in the run (the learning-rate schedule spans them).
    pub epochs: usize,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            // Measured in the page (scripts/bench-train.sh: headless Chromium on this machine's
            // two cores, 5-NN of the 2,000 test digits' means when the run ends or 60 s after
            // Start): one layer of 256 over 6 epochs plateaus near 50 %; two layers learn the
            // layout faster: 128-64 over 8 epochs ends in 54-58 s at 70.7 / 68.2 / 67.7 %
            // (seeds 1, 2, 3), 256-128 over 6 epochs is at 68.3 % after 60 s (2,889 steps).
            hidden: vec![128, 64],
            beta: 1.0,
            lr: 5e-3,
            batch: 100,
            seed: 1,
            epochs: 8,
        }
    }
}

impl TrainSettings {
    /// Parses the panel's settings (JSON) and checks every field's range.
    pub fn from_json(text: &str) -> Result<Self, WebError> {
        let s: Self = serde_json::from_str(text).map_err(|e| {
            WebError::context(ErrorKind::BadInput, "reading the training settings", e)
        })?;
        s.hyper()?;
        Ok(s)
    }

    /// The run these settings define (the trainer's [`Hyper`]), or what is out of range.
    pub fn hyper(&self) -> Result<Hyper, WebError> {
        let bad = |m: String| WebError::new(ErrorKind::BadInput, m);
        if self.hidden.is_empty() || self.hidden.len() > 3 {
            return Err(bad(format!(
                "{} hidden layers: between 1 and 3, please",
                self.hidden.len()
            )));
        }
        if let Some(w) = self.hidden.iter().find(|w| !HIDDEN_RANGE.contains(w)) {
            return Err(bad(format!(
                "a hidden layer of {w} units: between {} and {}, please",
                HIDDEN_RANGE.start(),
                HIDDEN_RANGE.end()
            )));
        }
        if !(0.0..=MAX_BETA).contains(&self.beta) {
            return Err(bad(format!(
                "β = {}: between 0 and {MAX_BETA}, please",
                self.beta
            )));
        }
        if !(self.lr > 0.0 && self.lr <= 0.1) {
            return Err(bad(format!(
                "learning rate {}: above 0 and at most 0.1, please",
                self.lr
            )));
        }
        if !BATCH_RANGE.contains(&self.batch) {
            return Err(bad(format!(
                "batch of {}: between {} and {}, please",
                self.batch,
                BATCH_RANGE.start(),
                BATCH_RANGE.end()
            )));
        }
        if !(1..=1000).contains(&self.epochs) {
            return Err(bad(format!(
                "{} epochs: between 1 and 1000, please",
                self.epochs
            )));
        }
        let architecture = VaeConfig {
            hidden: self.hidden.clone(),
            ..VaeConfig::default()
        };
        Ok(Hyper {
            beta: self.beta,
            ..Hyper::plain(architecture, self.epochs, self.batch, self.lr, self.seed)
        })
    }
}

/// One step's objective and terms, nats per image.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepReport {
    /// Reconstruction + β · KL.
    pub loss: f32,
    /// Bernoulli cross-entropy.
    pub recon: f32,
    /// KL divergence to the prior.
    pub kl: f32,
}

/// Where the run is.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Progress {
    /// Steps done.
    pub steps_done: usize,
    /// Steps in one epoch.
    pub steps_per_epoch: usize,
    /// Steps in the run.
    pub total_steps: usize,
    /// 1-based epoch of the next step.
    pub epoch: usize,
}

/// A run in the browser: the shared loop, the training images and the scatter's test subset.
pub struct Training {
    run: RefCell<TrainLoop>,
    settings: TrainSettings,
    train: Split,
    subset: Split,
    /// The subset's images on the run's device (uploaded once).
    subset_images: Tensor<2>,
}

/// The images of `split` as a `[n, 784]` tensor on `device`.
fn images(split: &Split, device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(split.gather(0..split.len()), [split.len(), IMAGE_PIXELS]),
        device,
    )
}

/// The latent means of `split` under `model`, `n × latent` row-major, read synchronously: a
/// model on the CPU only.
fn means_now(model: &Vae, split: &Split, device: &Device) -> Result<Vec<f32>, WebError> {
    model
        .encode(images(split, device))
        .mean
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| {
            WebError::context(
                ErrorKind::Device,
                "reading the latent means",
                format!("{e:?}"),
            )
        })
}

impl Training {
    /// A new run with `settings` on `device` (a plain device, the CPU or WebGPU: autodiff is
    /// added here) over the images of `train`; `subset` is the test images whose latent means
    /// the scatter shows.
    pub fn new(
        settings: TrainSettings,
        train: Split,
        subset: Split,
        device: &Device,
    ) -> Result<Self, WebError> {
        let hyper = settings.hyper()?;
        if subset.is_empty() {
            return Err(WebError::new(
                ErrorKind::BadInput,
                "the test subset for the scatter is empty",
            ));
        }
        let run = TrainLoop::new(hyper, train.len(), &device.clone().autodiff())
            .map_err(|e| WebError::context(ErrorKind::BadInput, "starting the run", e))?;
        Ok(Self {
            run: RefCell::new(run),
            settings,
            train,
            subset_images: images(&subset, device),
            subset,
        })
    }

    /// The settings the run was started with.
    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    /// Where the run is.
    pub fn progress(&self) -> Progress {
        let run = self.run.borrow();
        Progress {
            steps_done: run.steps_done(),
            steps_per_epoch: run.steps_per_epoch(),
            total_steps: run.total_steps(),
            epoch: run.epoch(),
        }
    }

    /// Runs up to `n` steps (fewer at the run's end; at most [`MAX_STEPS_PER_CALL`]) and
    /// returns their figures.
    pub async fn steps(&self, n: usize) -> Result<Vec<StepReport>, WebError> {
        let figures: Vec<Tensor<1>> = {
            let mut run = self.run.borrow_mut();
            let left = run.total_steps() - run.steps_done();
            (0..n.min(left).min(MAX_STEPS_PER_CALL))
                .flat_map(|_| {
                    let f = run.step(&self.train);
                    [f.loss, f.recon, f.kl]
                })
                .collect()
        };
        if figures.is_empty() {
            return Ok(Vec::new());
        }
        // One read for all the steps' figures.
        let values = read(Tensor::cat(figures, 0)).await?;
        Ok(values
            .chunks_exact(3)
            .map(|c| StepReport {
                loss: c[0],
                recon: c[1],
                kl: c[2],
            })
            .collect())
    }

    /// The model as trained so far, without autodiff.
    pub fn current(&self) -> Vae {
        self.run.borrow().current()
    }

    /// The latent means μ of the test subset under the current weights, `n × 2` row-major,
    /// and the subset's labels.
    pub async fn subset_means(&self) -> Result<(Vec<f32>, Vec<u8>), WebError> {
        let mean = self.current().encode(self.subset_images.clone()).mean;
        let means = read(mean).await?;
        Ok((means, self.subset.labels.clone()))
    }

    /// Labels of the test subset whose latent means the run reports.
    pub fn subset_labels(&self) -> &[u8] {
        &self.subset.labels
    }

    /// The current weights (f32) and their card, in the trainer's export format; `seconds`
    /// of training so far and the `backend`'s name go in the card. The card's metrics are
    /// measured on the test subset (`dataset.test_images` says how many), the plane's extent
    /// on the subset's means, which come with them (the page's scatter for the model). The
    /// weights are copied to the CPU first (asynchronously) and everything is measured there.
    pub async fn export(&self, seconds: f64, backend: &str) -> Result<Exported, WebError> {
        // The weights and where the run is, taken together: the run may go on stepping while
        // the weights come back from the device.
        let (current, progress, hyper) = {
            let run = self.run.borrow();
            (run.current(), self.progress(), run.hyper().clone())
        };
        let model = model_on_cpu(&current).await?;
        let device = crate::backend::cpu_device();
        let bytes = weights::to_bytes(&model, Storage::F32)
            .map_err(|e| WebError::context(ErrorKind::BadModel, "writing the weights", e))?;
        let terms = vae::metrics::elbo_terms(&model, &self.subset, &device);
        let mse = vae::metrics::mean_reconstruction_mse(&model, &self.subset, &device);
        let means = means_now(&model, &self.subset, &device)?;
        let knn5 = leave_one_out_knn(&means, &self.subset.labels, 5);
        let epochs = progress.steps_done / progress.steps_per_epoch;
        let card = ModelCard {
            format: CARD_FORMAT,
            architecture: hyper.architecture.clone(),
            dataset: Dataset {
                name: "MNIST".into(),
                train_images: self.train.len(),
                test_images: self.subset.len(),
                files: Vec::new(),
            },
            training: TrainingCard {
                epochs,
                batch: hyper.batch,
                lr: hyper.lr,
                seed: hyper.seed,
                recon: hyper.recon,
                seconds: (seconds * 10.0).round() / 10.0,
                backend: backend.to_string(),
                command: format!(
                    "trained in the browser: {} steps of {} ({} epochs of {}), settings {}",
                    progress.steps_done,
                    progress.total_steps,
                    hyper.epochs,
                    progress.steps_per_epoch,
                    serde_json::to_string(&self.settings).unwrap_or_default()
                ),
                beta: hyper.beta,
                kl_warmup_epochs: hyper.warmup,
                ema: None,
                weight_decay: hyper.weight_decay,
                dropout: hyper.dropout,
                augment: hyper.augment,
                validation: None,
            },
            metrics: Metrics {
                neg_elbo: terms.neg_elbo(),
                recon: terms.recon,
                kl: terms.kl,
                mse,
                knn5_acc: knn5,
                iw_nll: None,
                iw_samples: None,
                kl_per_dim: Vec::new(),
                active_units: None,
            },
            plane: vae::plane::plane_extent(&means),
            files: Files {
                weights: files::WEIGHTS.into(),
                weights_storage: Storage::F32,
                weights_bits: Default::default(),
                weights_bytes: bytes.len() as u64,
                weights_sha256: weights::sha256_hex(&bytes),
                latents: files::LATENTS.into(),
                figures: Vec::new(),
            },
        };
        Ok(Exported {
            card: card.to_json(),
            weights: bytes,
            means,
        })
    }
}

/// A model trained in the page, as [`Training::export`] gives it.
#[derive(Clone, Debug)]
pub struct Exported {
    /// The model card (JSON).
    pub card: String,
    /// The weights file (burnpack, f32).
    pub weights: Vec<u8>,
    /// The test subset's latent means under these weights, `n × 2` row-major.
    pub means: Vec<f32>,
}

/// The latent means of `split` under the model of `card` and `weights` (checked as the page
/// checks a model it loads), `n × latent` row-major, on the CPU.
pub fn means_of(card: &str, weights: &[u8], split: &Split) -> Result<Vec<f32>, WebError> {
    let session = crate::Session::load(card, weights)?;
    means_now(session.cpu_model(), split, &crate::backend::cpu_device())
}

/// Accuracy of a `k`-nearest-neighbour vote of each 2-D point among the others ([`knn_label`]).
fn leave_one_out_knn(points: &[f32], labels: &[u8], k: usize) -> f64 {
    let right = (0..labels.len())
        .filter(|&i| {
            let own = points.get(2 * i..2 * i + 2).unwrap_or_default();
            knn_label(points, labels, 2, own, k, Some(i)) == Some(labels[i])
        })
        .count();
    right as f64 / labels.len().max(1) as f64
}
