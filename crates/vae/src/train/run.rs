//! A training run between steps: the model and its optimiser, the moving average, and where in
//! the run the next step falls (its epoch's shuffle, the schedules, the seeded draws). The CLI
//! trainer and the page's training worker both step it; only how a batch's gradients are
//! computed may differ (the trainer cuts a batch into slices on threads).

use std::fmt;

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use super::step::{Batch, StepFigures, gradients, noise};
use super::{Ema, Hyper, augment};
use crate::Vae;
use crate::rng::Rng;
use crate::split::Split;

/// Mixed into the seed of the distortions' generator, to keep it apart from the shuffle's.
const AUGMENT_STREAM: u64 = 0xA11_6E47;

/// Why a run cannot start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrainError {
    /// The training images do not fill one batch.
    TooFewImages {
        /// Training images.
        images: usize,
        /// The batch size asked for.
        batch: usize,
    },
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::TooFewImages { images, batch } => write!(
                f,
                "the training set has {images} images, fewer than one batch of {batch}"
            ),
        }
    }
}

impl std::error::Error for TrainError {}

/// A run's model, optimiser and position, stepped one batch at a time.
pub struct TrainLoop {
    hyper: Hyper,
    /// Always `Some` between calls (a step moves the model through the optimiser).
    model: Option<Vae>,
    optim: ModuleOptimizer,
    ema: Option<Ema>,
    device: Device,
    steps_per_epoch: usize,
    done: usize,
    order: Vec<usize>,
}

impl TrainLoop {
    /// A new run on `device` (an autodiff device) over `images` training images: the device is
    /// seeded with the run's seed and a new model drawn from it.
    pub fn new(hyper: Hyper, images: usize, device: &Device) -> Result<Self, TrainError> {
        device.seed(hyper.seed);
        let model = Vae::new(&hyper.architecture, device);
        let ema = (hyper.ema > 0.0).then(|| model.valid());
        let optim = hyper.optimizer();
        Self::resume(hyper, images, model, optim, ema, 0, device)
    }

    /// A run that continues after `epochs_done` epochs from `model` (on the autodiff device),
    /// `optim` and the moving average `ema` (without autodiff).
    pub fn resume(
        hyper: Hyper,
        images: usize,
        model: Vae,
        optim: ModuleOptimizer,
        ema: Option<Vae>,
        epochs_done: usize,
        device: &Device,
    ) -> Result<Self, TrainError> {
        if hyper.batch == 0 || images < hyper.batch {
            return Err(TrainError::TooFewImages {
                images,
                batch: hyper.batch,
            });
        }
        let steps_per_epoch = images / hyper.batch;
        let done = epochs_done * steps_per_epoch;
        // One average update per step so far.
        let ema = ema.map(|m| Ema::new(m, hyper.ema, done as u64));
        Ok(Self {
            hyper,
            model: Some(model),
            optim,
            ema,
            device: device.clone(),
            steps_per_epoch,
            done,
            order: (0..images).collect(),
        })
    }

    /// The run's settings.
    pub fn hyper(&self) -> &Hyper {
        &self.hyper
    }

    /// The model as trained so far, on the autodiff device.
    pub fn model(&self) -> &Vae {
        self.model
            .as_ref()
            .expect("the model is back after every step")
    }

    /// The optimiser's state (Adam's moments).
    pub fn optim(&self) -> &ModuleOptimizer {
        &self.optim
    }

    /// The moving average of the weights, with the run's `ema` setting.
    pub fn ema(&self) -> Option<&Vae> {
        self.ema.as_ref().map(|e| &e.model)
    }

    /// The weights to use now (without autodiff): the moving average, else the last step's.
    pub fn current(&self) -> Vae {
        match &self.ema {
            Some(e) => e.model.clone(),
            None => self.model().valid(),
        }
    }

    /// Steps in one epoch (the last partial batch of an epoch is left out).
    pub fn steps_per_epoch(&self) -> usize {
        self.steps_per_epoch
    }

    /// Steps done since the run began.
    pub fn steps_done(&self) -> usize {
        self.done
    }

    /// Steps in the whole run.
    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch * self.hyper.epochs
    }

    /// The 1-based epoch of the next step.
    pub fn epoch(&self) -> usize {
        self.done / self.steps_per_epoch + 1
    }

    /// The next step's batch from `data` (the split the run was made for). At an epoch's
    /// first step the order is shuffled by (seed, epoch) and the device reseeded with
    /// seed + epoch: each epoch's draws depend on them alone, so a resumed run draws what an
    /// uninterrupted one would have.
    fn next_batch(&mut self, data: &Split) -> Batch {
        let (epoch, s) = (self.epoch(), self.done % self.steps_per_epoch);
        let h = &self.hyper;
        if s == 0 {
            self.order = (0..data.len()).collect();
            Rng::new(h.seed, epoch as u64).shuffle(&mut self.order);
            self.device.seed(h.seed.wrapping_add(epoch as u64));
        }
        let rows = self.order[s * h.batch..(s + 1) * h.batch].iter().copied();
        let mut pixels = data.gather(rows);
        if h.augment > 0.0 {
            // Seeded by (seed, step), so a resumed run distorts as an uninterrupted one would.
            let mut rng = Rng::new(h.seed ^ AUGMENT_STREAM, self.done as u64);
            augment::distort_batch(&mut pixels, h.augment, &mut rng);
        }
        let x = Tensor::from_data(
            TensorData::new(pixels, [h.batch, crate::IMAGE_PIXELS]),
            &self.device,
        );
        Batch {
            eps: noise(h.batch, h.architecture.latent, &self.device),
            x,
            lr: h.lr_at(self.done, self.total_steps()),
            kl_weight: h.kl_weight_at(self.done, self.steps_per_epoch),
        }
    }

    /// One step on the next batch of `data`, its gradients computed in one piece.
    pub fn step(&mut self, data: &Split) -> StepFigures {
        self.step_with(data, |model, hyper, b| {
            let batch = b.x.dims()[0];
            gradients(model, hyper, b.x, b.eps, b.kl_weight, batch)
        })
    }

    /// One step on the next batch of `data`, its gradients and figures computed by
    /// `batch_gradients` (e.g. in slices on threads; see [`super::step::merge`]).
    pub fn step_with(
        &mut self,
        data: &Split,
        batch_gradients: impl FnOnce(&Vae, &Hyper, Batch) -> (GradientsParams, StepFigures),
    ) -> StepFigures {
        let batch = self.next_batch(data);
        let lr = batch.lr;
        let model = self
            .model
            .take()
            .expect("the model is back after every step");
        let (grads, figures) = batch_gradients(&model, &self.hyper, batch);
        let model = self.optim.step(lr, model, grads);
        if let Some(ema) = &mut self.ema {
            ema.update(&model.valid());
        }
        self.model = Some(model);
        self.done += 1;
        figures
    }
}
