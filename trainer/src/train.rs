//! The training loop: minibatch Adam with a cosine learning-rate schedule, test-set evaluation
//! after every epoch, and a checkpoint after every epoch that `--resume` continues from.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use vae::loss::LossTerms;
use vae::weights::{self, Storage};
use vae::{Recon, Vae, VaeConfig};

use crate::atomic::replace_dir;
use crate::evaluate::elbo_terms;
use crate::mnist::{Mnist, Split};
use crate::rng::Rng;
use crate::tensors::images;

/// Everything that defines a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    /// Architecture.
    pub architecture: VaeConfig,
    /// Reconstruction term.
    pub recon: Recon,
    /// Epochs in all.
    pub epochs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Peak learning rate (cosine-decayed to 2 % of it over the run).
    pub lr: f64,
    /// Seed of the initialisation, the shuffling and the sampling.
    pub seed: u64,
}

impl Hyper {
    /// Learning rate at `step` of `total`: cosine decay from `lr` to `lr / 50`.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let progress = step as f64 / total.max(1) as f64;
        let floor = 0.02;
        self.lr * (floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()))
    }
}

/// One epoch's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training objective (per image).
    pub train_loss: f64,
    /// Test negative ELBO, nats per image.
    pub test_neg_elbo: f64,
    /// Test reconstruction (BCE) part.
    pub test_recon: f64,
    /// Test KL part.
    pub test_kl: f64,
    /// Training seconds of this epoch (evaluation excluded).
    pub seconds: f64,
    /// Training images per second.
    pub images_per_second: f64,
}

/// What a checkpoint directory's `state.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainState {
    /// The run's settings.
    pub hyper: Hyper,
    /// Epochs finished.
    pub epochs_done: usize,
    /// Training seconds so far.
    pub seconds: f64,
    /// The command that started the run.
    pub command: String,
    /// Name of the backend.
    pub backend: String,
    /// Per-epoch figures so far.
    pub history: Vec<EpochLog>,
}

const STATE_FILE: &str = "state.json";
const MODEL_FILE: &str = "model.bpk";
const OPTIM_FILE: &str = "optimizer.bpk";

/// A checkpoint: the state, the model and the optimizer.
pub struct Checkpoint {
    /// Progress and settings.
    pub state: TrainState,
    /// The model (on the device it was loaded for).
    pub model: Vae,
    /// Adam's moments, if the checkpoint has them.
    pub optim: Option<ModuleOptimizer>,
}

impl Checkpoint {
    /// Reads the checkpoint in `dir`; `Ok(None)` if there is none.
    pub fn load(dir: &Path, device: &Device) -> Result<Option<Self>> {
        let state_path = dir.join(STATE_FILE);
        if !state_path.exists() {
            return Ok(None);
        }
        let state: TrainState = serde_json::from_str(
            &std::fs::read_to_string(&state_path)
                .with_context(|| format!("reading {}", state_path.display()))?,
        )
        .with_context(|| format!("parsing {}", state_path.display()))?;
        let model_path = dir.join(MODEL_FILE);
        let bytes = std::fs::read(&model_path)
            .with_context(|| format!("reading {}", model_path.display()))?;
        let model = weights::from_bytes(&state.hyper.architecture, Storage::F32, &bytes, device)
            .with_context(|| format!("loading {}", model_path.display()))?;
        let optim_path = dir.join(OPTIM_FILE);
        let optim = adam()
            .load(&optim_path)
            .with_context(|| format!("loading {}", optim_path.display()))?;
        Ok(Some(Self {
            state,
            model,
            optim: Some(optim),
        }))
    }

    fn save(dir: &Path, state: &TrainState, model: &Vae, optim: &ModuleOptimizer) -> Result<()> {
        replace_dir(dir, |tmp| {
            std::fs::write(
                tmp.join(MODEL_FILE),
                weights::to_bytes(model, Storage::F32)?,
            )?;
            optim
                .save(tmp.join(OPTIM_FILE))
                .map_err(|e| anyhow::anyhow!("saving the optimizer state: {e:?}"))?;
            std::fs::write(tmp.join(STATE_FILE), serde_json::to_string_pretty(state)?)?;
            Ok(())
        })
        .with_context(|| format!("writing the checkpoint to {}", dir.display()))
    }
}

fn adam() -> ModuleOptimizer {
    AdamConfig::new().with_epsilon(1e-7).init()
}

/// Where a run starts: fresh, or from a checkpoint.
pub struct Start {
    /// The run's settings.
    pub hyper: Hyper,
    /// The checkpoint directory.
    pub checkpoints: PathBuf,
    /// Continue from the checkpoint in `checkpoints`, if there is one.
    pub resume: bool,
    /// The command line, recorded in the card.
    pub command: String,
    /// The backend's name, recorded in the card.
    pub backend: String,
}

/// The result of a finished run.
pub struct Trained {
    /// The model, without autodiff.
    pub model: Vae,
    /// Its final state (settings, time, history).
    pub state: TrainState,
}

/// One optimisation step's objective and terms, as tensors (read lazily).
struct StepFigures {
    loss: Tensor<1>,
    recon: Tensor<1>,
    kl: Tensor<1>,
}

/// One Adam step on a batch of images, returning the updated model.
fn step(
    model: Vae,
    optim: &mut ModuleOptimizer,
    recon: Recon,
    x: Tensor<2>,
    lr: f64,
) -> (Vae, StepFigures) {
    let output = model.forward(x.clone());
    let terms = LossTerms::new(recon, &output, x);
    let loss = terms.objective(1.0);
    let figures = StepFigures {
        loss: loss.clone().detach(),
        recon: terms.recon.mean().detach(),
        kl: terms.kl.mean().detach(),
    };
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optim.step(lr, model, grads), figures)
}

/// Runs `batches` training steps on `data` without evaluation: the figure `trainer bench`
/// reports. Returns the images per second.
pub fn throughput(hyper: &Hyper, data: &Split, device: &Device, batches: usize) -> Result<f64> {
    let train_device = device.clone().autodiff();
    train_device.seed(hyper.seed);
    let mut model = Vae::new(&hyper.architecture, &train_device);
    let mut optim = adam();
    let mut order: Vec<usize> = (0..data.len()).collect();
    Rng::new(hyper.seed, 0).shuffle(&mut order);
    let mut run = |model: Vae, b: usize| {
        let start = (b * hyper.batch) % (data.len() - hyper.batch);
        let x = images(
            data.gather(order[start..start + hyper.batch].iter().copied()),
            &train_device,
        );
        let (model, figures) = step(model, &mut optim, hyper.recon, x, hyper.lr);
        let _ = figures.loss.into_scalar::<f32>(); // wait for the step to finish
        model
    };
    // Warm-up: allocations and caches.
    for b in 0..3 {
        model = run(model, b);
    }
    let t = Instant::now();
    for b in 0..batches {
        model = run(model, b);
    }
    Ok((batches * hyper.batch) as f64 / t.elapsed().as_secs_f64())
}

fn bar(epoch: usize, epochs: usize, steps: usize) -> ProgressBar {
    let bar = ProgressBar::new(steps as u64).with_prefix(format!("epoch {epoch}/{epochs}"));
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:28}] {pos}/{len} {msg} · {per_sec} · ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Trains (or continues training) and returns the model; checkpoints after every epoch.
pub fn train(start: Start, data: &Mnist, device: &Device) -> Result<Trained> {
    if data.train.len() < start.hyper.batch {
        bail!(
            "the training set has {} images, fewer than one batch of {}",
            data.train.len(),
            start.hyper.batch
        );
    }
    let train_device = device.clone().autodiff();
    let resumed = if start.resume {
        Checkpoint::load(&start.checkpoints, &train_device)?
    } else {
        None
    };
    let (mut model, mut optim, mut state) = match resumed {
        Some(ckpt) => {
            let mut state = ckpt.state;
            check_resume(&state.hyper, &start.hyper)?;
            if start.hyper.epochs < state.epochs_done {
                bail!(
                    "the checkpoint in {} has {} epochs already, more than --epochs {}",
                    start.checkpoints.display(),
                    state.epochs_done,
                    start.hyper.epochs
                );
            }
            state.hyper.epochs = start.hyper.epochs;
            eprintln!(
                "resuming from {} after epoch {}/{}",
                start.checkpoints.display(),
                state.epochs_done,
                state.hyper.epochs
            );
            (ckpt.model, ckpt.optim.unwrap_or_else(adam), state)
        }
        None => {
            if start.resume {
                eprintln!(
                    "no checkpoint in {}: starting a new run",
                    start.checkpoints.display()
                );
            }
            train_device.seed(start.hyper.seed);
            let state = TrainState {
                hyper: start.hyper.clone(),
                epochs_done: 0,
                seconds: 0.0,
                command: start.command.clone(),
                backend: start.backend.clone(),
                history: Vec::new(),
            };
            (
                Vae::new(&start.hyper.architecture, &train_device),
                adam(),
                state,
            )
        }
    };
    let hyper = state.hyper.clone();
    let steps_per_epoch = data.train.len() / hyper.batch;
    let total_steps = steps_per_epoch * hyper.epochs;

    for epoch in state.epochs_done + 1..=hyper.epochs {
        // Each epoch's shuffle and noise depend on (seed, epoch) alone: a resumed run draws
        // what an uninterrupted one would have drawn.
        let mut order: Vec<usize> = (0..data.train.len()).collect();
        Rng::new(hyper.seed, epoch as u64).shuffle(&mut order);
        train_device.seed(hyper.seed.wrapping_add(epoch as u64));

        let progress = bar(epoch, hyper.epochs, steps_per_epoch);
        let t = Instant::now();
        let (mut sum_loss, mut sum_recon, mut sum_kl) = (0.0f64, 0.0f64, 0.0f64);
        for s in 0..steps_per_epoch {
            let idx = order[s * hyper.batch..(s + 1) * hyper.batch]
                .iter()
                .copied();
            let x = images(data.train.gather(idx), &train_device);
            let lr = hyper.lr_at((epoch - 1) * steps_per_epoch + s, total_steps);
            let (next, figures) = step(model, &mut optim, hyper.recon, x, lr);
            model = next;
            sum_loss += f64::from(figures.loss.into_scalar::<f32>());
            sum_recon += f64::from(figures.recon.into_scalar::<f32>());
            sum_kl += f64::from(figures.kl.into_scalar::<f32>());
            if s % 10 == 9 || s + 1 == steps_per_epoch {
                let n = (s + 1) as f64;
                progress.set_position((s + 1) as u64);
                progress.set_message(format!(
                    "loss {:.2} (recon {:.2} + kl {:.2}) · lr {lr:.2e}",
                    sum_loss / n,
                    sum_recon / n,
                    sum_kl / n
                ));
            }
        }
        let seconds = t.elapsed().as_secs_f64();
        progress.finish_and_clear();

        let valid = model.valid();
        let terms = elbo_terms(&valid, &data.test, device)?;
        let log = EpochLog {
            epoch,
            train_loss: sum_loss / steps_per_epoch as f64,
            test_neg_elbo: terms.neg_elbo(),
            test_recon: terms.recon,
            test_kl: terms.kl,
            seconds,
            images_per_second: (steps_per_epoch * hyper.batch) as f64 / seconds,
        };
        println!(
            "epoch {epoch:>3}/{}  train loss {:8.3}  test neg ELBO {:8.3} (recon {:8.3} + KL {:6.3})  {:6.0} img/s  {:5.1} s",
            hyper.epochs,
            log.train_loss,
            log.test_neg_elbo,
            log.test_recon,
            log.test_kl,
            log.images_per_second,
            seconds
        );
        state.epochs_done = epoch;
        state.seconds += seconds;
        state.history.push(log);
        Checkpoint::save(&start.checkpoints, &state, &model, &optim)?;
    }
    Ok(Trained {
        model: model.valid(),
        state,
    })
}

/// A resumed run must keep the settings the checkpoint was trained with; only `--epochs` may
/// change (the cosine schedule then stretches over the new total).
fn check_resume(saved: &Hyper, asked: &Hyper) -> Result<()> {
    let mut differ = Vec::new();
    if saved.architecture != asked.architecture {
        differ.push(format!(
            "architecture {:?} vs {:?}",
            saved.architecture, asked.architecture
        ));
    }
    if saved.recon != asked.recon {
        differ.push(format!("--recon {:?} vs {:?}", saved.recon, asked.recon));
    }
    if saved.batch != asked.batch {
        differ.push(format!("--batch {} vs {}", saved.batch, asked.batch));
    }
    if saved.lr != asked.lr {
        differ.push(format!("--lr {} vs {}", saved.lr, asked.lr));
    }
    if saved.seed != asked.seed {
        differ.push(format!("--seed {} vs {}", saved.seed, asked.seed));
    }
    if differ.is_empty() {
        Ok(())
    } else {
        bail!(
            "the checkpoint was trained with other settings (checkpoint vs command line): {}; \
             run without --resume to start over",
            differ.join(", ")
        )
    }
}
