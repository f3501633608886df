//! The training loop: minibatch Adam with a cosine learning-rate schedule, test-set evaluation
//! after every epoch, and a checkpoint after every epoch that `--resume` continues from.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use vae::Vae;
pub use vae::train::Hyper;
use vae::train::host_dense::serial_kernels;
use vae::train::step::{gradients, merge, noise};
use vae::train::{Batch, StepFigures, TrainLoop};
use vae::weights::{self, Storage};

use crate::atomic::replace_dir;
use crate::evaluate::elbo_terms;
use crate::mnist::{Mnist, Split};
use crate::tensors::images;
use vae::rng::Rng;

/// One epoch's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training objective (per image).
    pub train_loss: f64,
    /// Validation negative ELBO of the weights the run would keep (the average, if any), nats
    /// per image; absent without a validation split.
    #[serde(default)]
    pub val_neg_elbo: Option<f64>,
    /// Test negative ELBO, nats per image (logged only: never used to choose).
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

/// The epoch a run keeps: the best on the validation split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestEpoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Its validation negative ELBO.
    pub val_neg_elbo: f64,
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
    /// The best epoch on the validation split so far (with a validation split).
    #[serde(default)]
    pub best: Option<BestEpoch>,
}

const STATE_FILE: &str = "state.json";
const MODEL_FILE: &str = "model.bpk";
const OPTIM_FILE: &str = "optimizer.bpk";
const EMA_FILE: &str = "ema.bpk";
const BEST_FILE: &str = "best.bpk";

/// A checkpoint: the state, the model, the optimiser, and the average and best weights.
pub struct Checkpoint {
    /// Progress and settings.
    pub state: TrainState,
    /// The model (on the device it was loaded for).
    pub model: Vae,
    /// Adam's moments.
    pub optim: ModuleOptimizer,
    /// The moving average of the weights, with the run's `ema` setting.
    pub ema: Option<Vae>,
    /// The weights of the best epoch on the validation split, with a validation split.
    pub best: Option<Vae>,
}

fn read_weights(dir: &Path, name: &str, hyper: &Hyper, device: &Device) -> Result<Vae> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    weights::from_bytes(&hyper.architecture, Storage::F32, &bytes, device)
        .with_context(|| format!("loading {}", path.display()))
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
        let hyper = &state.hyper;
        let model = read_weights(dir, MODEL_FILE, hyper, device)?;
        // The average and the best weights are never differentiated.
        let plain = device.clone().inner();
        let ema = if hyper.ema > 0.0 {
            Some(read_weights(dir, EMA_FILE, hyper, &plain)?)
        } else {
            None
        };
        let best = if state.best.is_some() {
            Some(read_weights(dir, BEST_FILE, hyper, &plain)?)
        } else {
            None
        };
        let optim_path = dir.join(OPTIM_FILE);
        let optim = hyper
            .optimizer()
            .load(&optim_path)
            .with_context(|| format!("loading {}", optim_path.display()))?;
        Ok(Some(Self {
            state,
            model,
            optim,
            ema,
            best,
        }))
    }

    /// The weights the run keeps: the best epoch on the validation split, else the average,
    /// else the last step's.
    pub fn selected(&self) -> Vae {
        kept_weights(self.best.clone(), self.ema.clone(), &self.model)
    }

    fn save(
        dir: &Path,
        state: &TrainState,
        model: &Vae,
        optim: &ModuleOptimizer,
        ema: Option<&Vae>,
        best: Option<&Vae>,
    ) -> Result<()> {
        replace_dir(dir, |tmp| {
            std::fs::write(
                tmp.join(MODEL_FILE),
                weights::to_bytes(model, Storage::F32)?,
            )?;
            if let Some(ema) = ema {
                std::fs::write(tmp.join(EMA_FILE), weights::to_bytes(ema, Storage::F32)?)?;
            }
            if let Some(best) = best {
                std::fs::write(tmp.join(BEST_FILE), weights::to_bytes(best, Storage::F32)?)?;
            }
            optim
                .save(tmp.join(OPTIM_FILE))
                .map_err(|e| anyhow::anyhow!("saving the optimizer state: {e:?}"))?;
            std::fs::write(tmp.join(STATE_FILE), serde_json::to_string_pretty(state)?)?;
            Ok(())
        })
        .with_context(|| format!("writing the checkpoint to {}", dir.display()))
    }
}

/// The weights a run keeps: the best epoch on the validation split, else the moving average,
/// else the last step's (without autodiff).
fn kept_weights(best: Option<Vae>, ema: Option<Vae>, model: &Vae) -> Vae {
    best.or(ema).unwrap_or_else(|| model.valid())
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
    /// Slices of each batch computed side by side (see [`step`]); does not change the result.
    pub threads: usize,
}

/// The result of a finished run.
pub struct Trained {
    /// The weights the run keeps (see [`Checkpoint::selected`]), without autodiff.
    pub model: Vae,
    /// Its final state (settings, time, history).
    pub state: TrainState,
}

/// A job for [`side_by_side`].
type Job<'a, R> = Box<dyn FnOnce() -> R + Send + 'a>;

/// Runs `jobs` side by side on rayon's pool, the first on the calling thread, and returns their
/// results in order. Called from one of the pool's threads (the training loops run on one:
/// see [`on_worker`]), the other jobs go to threads that are already awake from the step's last
/// parallel part, rather than to threads that must be started or woken.
fn side_by_side<R: Send>(jobs: Vec<Job<'_, R>>) -> Vec<R> {
    let mut slots: Vec<Option<R>> = jobs.iter().map(|_| None).collect();
    let mut jobs = jobs.into_iter();
    if let (Some(first), Some((first_slot, rest))) = (jobs.next(), slots.split_first_mut()) {
        rayon::scope(|scope| {
            for (job, slot) in jobs.zip(rest) {
                scope.spawn(move |_| *slot = Some(job()));
            }
            *first_slot = Some(first());
        });
    }
    slots
        .into_iter()
        .map(|r| r.expect("side_by_side: every job ran"))
        .collect()
}

/// Runs `f` (a training loop) on one of rayon's threads, so that a step's parallel parts (the
/// batch's slices, Adam's chunks, gemm's blocks) run on the pool's threads, which stay awake
/// between them, with the loop's own thread among them. From the main thread, each part
/// woke sleeping threads: measured 15 % of a step.
fn on_worker<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| f())
}

/// A batch's gradients and figures, the batch cut into `threads` slices whose forward and
/// backward passes run side by side (each on its own fork of the model's autodiff graph). Their
/// gradients add up to those of the whole batch, and each slice takes its rows of the one ε, so
/// the step is the single-threaded one up to float rounding. Dropout draws its masks from the
/// device's shared generator, so a run with dropout takes one slice, to stay reproducible.
fn sliced_gradients(
    model: &Vae,
    hyper: &Hyper,
    b: Batch,
    threads: usize,
) -> (GradientsParams, StepFigures) {
    let batch = b.x.dims()[0];
    let device = b.x.device();
    let slices = if hyper.dropout > 0.0 {
        1
    } else {
        threads.clamp(1, batch)
    };
    if slices == 1 {
        // One slice: the kernels themselves use every core (rayon's global pool).
        return gradients(model, hyper, b.x, b.eps, b.kl_weight, batch);
    }
    let rows = |i: usize| (i * batch / slices, (i + 1) * batch / slices);
    let cut = |t: &Tensor<2>, i: usize| {
        let (a, z) = rows(i);
        t.clone().narrow(0, a, z - a)
    };
    // Each slice's dense products single-threaded (the slices use the cores): measured faster
    // than slices whose products also split their work. Each slice after the first forks the
    // model's autodiff graph on its own thread, in parallel with the other slices. The slices'
    // graphs must stay disjoint (the batch is untracked, the replicas are forks): a thread
    // waiting inside a kernel of one slice may steal another whole slice while it holds its
    // graph's lock, which would deadlock if the two shared a graph.
    let jobs = (0..slices)
        .map(|i| {
            let (xi, ei) = (cut(&b.x, i), cut(&b.eps, i));
            let (device, kl_weight) = (&device, b.kl_weight);
            Box::new(move || {
                let replica = match i {
                    0 => model.clone(),
                    _ => model.clone().fork(device),
                };
                serial_kernels(|| gradients(&replica, hyper, xi, ei, kl_weight, batch))
            }) as Job<'_, _>
        })
        .collect();
    let mut parts = side_by_side(jobs).into_iter();
    let first = parts.next().expect("slices ≥ 2");
    merge(model, first, parts)
}

/// One optimiser step on a batch of images `x` with noise `eps` in `threads` slices (see
/// [`sliced_gradients`]), returning the updated model: the trainer's tests and `throughput`.
#[allow(clippy::too_many_arguments)] // one step's inputs, each named for what it is
fn step(
    model: Vae,
    optim: &mut ModuleOptimizer,
    hyper: &Hyper,
    x: Tensor<2>,
    eps: Tensor<2>,
    lr: f64,
    kl_weight: f64,
    threads: usize,
) -> (Vae, StepFigures) {
    let b = Batch {
        x,
        eps,
        lr,
        kl_weight,
    };
    let (grads, figures) = sliced_gradients(&model, hyper, b, threads);
    (optim.step(lr, model, grads), figures)
}

/// Runs `batches` training steps on `data` without evaluation: the figure `trainer bench`
/// reports. Returns the images per second.
pub fn throughput(
    hyper: &Hyper,
    data: &Split,
    device: &Device,
    batches: usize,
    threads: usize,
) -> Result<f64> {
    let train_device = device.clone().autodiff();
    train_device.seed(hyper.seed);
    let mut model = Vae::new(&hyper.architecture, &train_device);
    let mut optim = hyper.optimizer();
    let mut order: Vec<usize> = (0..data.len()).collect();
    Rng::new(hyper.seed, 0).shuffle(&mut order);
    let mut run = |model: Vae, b: usize| {
        let start = (b * hyper.batch) % (data.len() - hyper.batch);
        let x = images(
            data.gather(order[start..start + hyper.batch].iter().copied()),
            &train_device,
        );
        let eps = noise(hyper.batch, model.latent(), &train_device);
        let (model, figures) = step(
            model, &mut optim, hyper, x, eps, hyper.lr, hyper.beta, threads,
        );
        let _ = figures.loss.into_scalar::<f32>(); // wait for the step to finish
        model
    };
    on_worker(|| {
        // Warm-up: allocations and caches.
        for b in 0..3 {
            model = run(model, b);
        }
        let t = Instant::now();
        for b in 0..batches {
            model = run(model, b);
        }
        Ok((batches * hyper.batch) as f64 / t.elapsed().as_secs_f64())
    })
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

/// A run in progress: the shared training loop, the best weights and the run's record.
struct Run {
    steps: TrainLoop,
    best: Option<Vae>,
    state: TrainState,
}

/// Continues from the checkpoint (with `--resume`, when there is one) or starts afresh.
fn resume_or_start(start: &Start, train_device: &Device, images: usize) -> Result<Run> {
    let resumed = if start.resume {
        Checkpoint::load(&start.checkpoints, train_device)?
    } else {
        None
    };
    let Some(ckpt) = resumed else {
        if start.resume {
            eprintln!(
                "no checkpoint in {}: starting a new run",
                start.checkpoints.display()
            );
        }
        return Ok(Run {
            steps: TrainLoop::new(start.hyper.clone(), images, train_device)?,
            best: None,
            state: TrainState {
                hyper: start.hyper.clone(),
                epochs_done: 0,
                seconds: 0.0,
                command: start.command.clone(),
                backend: start.backend.clone(),
                history: Vec::new(),
                best: None,
            },
        });
    };
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
    let steps = TrainLoop::resume(
        state.hyper.clone(),
        images,
        ckpt.model,
        ckpt.optim,
        ckpt.ema,
        state.epochs_done,
        train_device,
    )?;
    Ok(Run {
        steps,
        best: ckpt.best,
        state,
    })
}

/// What one epoch's steps averaged.
struct EpochTrain {
    loss: f64,
    seconds: f64,
}

/// Runs the next epoch of training steps over `train`.
fn train_epoch(run: &mut Run, train: &Split, threads: usize) -> EpochTrain {
    let steps_per_epoch = run.steps.steps_per_epoch();
    let progress = bar(run.steps.epoch(), run.state.hyper.epochs, steps_per_epoch);
    let t = Instant::now();
    let (mut sum_loss, mut sum_recon, mut sum_kl) = (0.0f64, 0.0f64, 0.0f64);
    on_worker(|| {
        for s in 0..steps_per_epoch {
            let (mut lr, mut kl_weight) = (0.0, 0.0);
            let figures = run.steps.step_with(train, |model, hyper, b| {
                (lr, kl_weight) = (b.lr, b.kl_weight);
                sliced_gradients(model, hyper, b, threads)
            });
            sum_loss += f64::from(figures.loss.into_scalar::<f32>());
            sum_recon += f64::from(figures.recon.into_scalar::<f32>());
            sum_kl += f64::from(figures.kl.into_scalar::<f32>());
            if s % 10 == 9 || s + 1 == steps_per_epoch {
                let n = (s + 1) as f64;
                progress.set_position((s + 1) as u64);
                progress.set_message(format!(
                    "loss {:.2} (recon {:.2} + kl {:.2} × {kl_weight:.2}) · lr {lr:.2e}",
                    sum_loss / n,
                    sum_recon / n,
                    sum_kl / n
                ));
            }
        }
    });
    let seconds = t.elapsed().as_secs_f64();
    progress.finish_and_clear();
    EpochTrain {
        loss: sum_loss / steps_per_epoch as f64,
        seconds,
    }
}

/// Trains (or continues training) and returns the model; checkpoints after every epoch.
///
/// With `hyper.validation` > 0 the last that many training images are held out: the run keeps
/// the epoch whose weights (the average, with `ema`) give the lowest validation negative ELBO.
pub fn train(start: Start, data: &Mnist, device: &Device) -> Result<Trained> {
    let (train, validation) = data.train.split_last(start.hyper.validation);
    if train.len() < start.hyper.batch {
        bail!(
            "the training set has {} images (after holding out {} for validation), fewer than \
             one batch of {}",
            train.len(),
            validation.len(),
            start.hyper.batch
        );
    }
    let train_device = device.clone().autodiff();
    let mut run = resume_or_start(&start, &train_device, train.len())?;
    let hyper = run.state.hyper.clone();
    let steps_per_epoch = run.steps.steps_per_epoch();

    for epoch in run.state.epochs_done + 1..=hyper.epochs {
        let epoch_train = train_epoch(&mut run, &train, start.threads);
        let kept = run.steps.current();
        let val_neg_elbo = if !validation.is_empty() {
            Some(elbo_terms(&kept, &validation, device).neg_elbo())
        } else {
            None
        };
        let terms = elbo_terms(&kept, &data.test, device);
        let log = EpochLog {
            epoch,
            train_loss: epoch_train.loss,
            val_neg_elbo,
            test_neg_elbo: terms.neg_elbo(),
            test_recon: terms.recon,
            test_kl: terms.kl,
            seconds: epoch_train.seconds,
            images_per_second: (steps_per_epoch * hyper.batch) as f64 / epoch_train.seconds,
        };
        let improved = match (val_neg_elbo, &run.state.best) {
            (Some(v), Some(best)) => v < best.val_neg_elbo,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if let (true, Some(v)) = (improved, val_neg_elbo) {
            run.state.best = Some(BestEpoch {
                epoch,
                val_neg_elbo: v,
            });
            run.best = Some(kept);
        }
        println!(
            "epoch {epoch:>3}/{}  train loss {:8.3}  val {}  test neg ELBO {:8.3} (recon {:8.3} + KL {:6.3})  {:6.0} img/s  {:5.1} s{}",
            hyper.epochs,
            log.train_loss,
            val_neg_elbo.map_or_else(|| "   -    ".to_string(), |v| format!("{v:8.3}")),
            log.test_neg_elbo,
            log.test_recon,
            log.test_kl,
            log.images_per_second,
            epoch_train.seconds,
            if improved { "  *" } else { "" }
        );
        run.state.epochs_done = epoch;
        run.state.seconds += epoch_train.seconds;
        run.state.history.push(log);
        Checkpoint::save(
            &start.checkpoints,
            &run.state,
            run.steps.model(),
            run.steps.optim(),
            run.steps.ema(),
            run.best.as_ref(),
        )?;
    }
    let model = kept_weights(run.best, run.steps.ema().cloned(), run.steps.model());
    Ok(Trained {
        model,
        state: run.state,
    })
}

/// A resumed run must keep the settings the checkpoint was trained with; only `--epochs` may
/// change (the cosine schedule then stretches over the new total).
fn check_resume(saved: &Hyper, asked: &Hyper) -> Result<()> {
    let differ = saved.differences(asked);
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

#[cfg(test)]
mod tests {
    use super::*;
    use vae::VaeConfig;

    fn hyper() -> Hyper {
        let architecture = VaeConfig {
            hidden: vec![32, 16],
            ..VaeConfig::default()
        };
        Hyper::plain(architecture, 1, 24, 1e-2, 1)
    }

    fn batch(device: &Device) -> Tensor<2> {
        let values: Vec<f32> = (0..24 * vae::IMAGE_PIXELS)
            .map(|i| ((i * 7919) % 101) as f32 / 100.0)
            .collect();
        images(values, device)
    }

    /// Weights after `steps` steps from the same start, with the batch in `threads` slices.
    fn weights_after(threads: usize, steps: usize) -> (Vec<f32>, f32) {
        let hyper = hyper();
        let device = Device::flex().autodiff();
        device.seed(11);
        let mut model = Vae::new(&hyper.architecture, &device);
        let mut optim = hyper.optimizer();
        let mut loss = 0.0;
        for _ in 0..steps {
            let eps = noise(24, 2, &device);
            let (next, figures) = step(
                model,
                &mut optim,
                &hyper,
                batch(&device),
                eps,
                1e-2,
                1.0,
                threads,
            );
            model = next;
            loss = figures.loss.into_scalar::<f32>();
        }
        let bytes = weights::to_bytes(&model.valid(), Storage::F32).expect("bytes");
        let plain = weights::from_bytes(&hyper.architecture, Storage::F32, &bytes, &Device::flex())
            .expect("load");
        let z = Tensor::<2>::from_floats([[0.3, -0.7], [1.0, 0.5]], &Device::flex());
        let decoded = plain
            .decode(z)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        (decoded, loss)
    }

    #[test]
    fn jobs_side_by_side_come_back_in_order_the_first_on_the_calling_thread() {
        use std::thread::{ThreadId, current};
        on_worker(|| {
            let caller = current().id();
            let jobs = (0..4)
                .map(|i: usize| Box::new(move || (i, current().id())) as Job<'_, (usize, ThreadId)>)
                .collect();
            let results = side_by_side(jobs);
            let order: Vec<usize> = results.iter().map(|r| r.0).collect();
            assert_eq!(order, [0, 1, 2, 3]);
            assert_eq!(results[0].1, caller, "the first job on the calling thread");
        });
        assert!(side_by_side(Vec::<Job<'_, ()>>::new()).is_empty());
    }

    #[test]
    fn a_batch_in_slices_on_threads_gives_the_single_thread_step() {
        let (one, loss_one) = weights_after(1, 3);
        for threads in [2, 3] {
            let (many, loss_many) = weights_after(threads, 3);
            assert!(
                (loss_one - loss_many).abs() < 1e-3 * loss_one.abs(),
                "loss {loss_one} vs {loss_many} with {threads} threads"
            );
            let worst = one
                .iter()
                .zip(&many)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                worst < 1e-4,
                "decoded pixels differ by {worst} with {threads} threads"
            );
        }
    }

    /// Loss of each of three steps, and the decoder's output at two points after them, on
    /// `device`, from the same initial weights, batch and noise.
    #[cfg(feature = "wgpu")]
    fn three_steps_on(device: &Device, initial: &[u8]) -> (Vec<f32>, Vec<f32>) {
        let hyper = hyper();
        let ad = device.clone().autodiff();
        let mut model = weights::from_bytes(&hyper.architecture, Storage::F32, initial, &ad)
            .expect("initial weights");
        let mut optim = hyper.optimizer();
        let mut rng = Rng::new(5, 0);
        let mut losses = Vec::new();
        for _ in 0..3 {
            let eps: Vec<f32> = (0..24 * 2).map(|_| rng.normal()).collect();
            let eps = crate::tensors::matrix(eps, 2, &ad);
            let (next, figures) = step(model, &mut optim, &hyper, batch(&ad), eps, 1e-2, 1.0, 1);
            model = next;
            losses.push(figures.loss.into_scalar::<f32>());
        }
        let z = Tensor::<2>::from_floats([[0.3, -0.7], [1.0, 0.5]], device);
        let decoded = model
            .valid()
            .decode(z)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        (losses, decoded)
    }

    /// The same three steps on the GPU (wgpu: here Mesa's software Vulkan, lavapipe) and on the
    /// CPU agree to 1e-3 relative on the loss and 1e-3 on every decoded pixel: float rounding
    /// in other kernels, not another computation.
    #[cfg(feature = "wgpu")]
    #[test]
    fn training_steps_on_wgpu_match_the_cpu() {
        let hyper = hyper();
        let cpu = Device::flex();
        cpu.seed(2);
        let initial =
            weights::to_bytes(&Vae::new(&hyper.architecture, &cpu), Storage::F32).expect("bytes");
        let gpu = crate::backend::Backend::Wgpu
            .device()
            .expect("this test needs a wgpu adapter (apt-get install mesa-vulkan-drivers)");
        let (cpu_losses, cpu_decoded) = three_steps_on(&cpu, &initial);
        let (gpu_losses, gpu_decoded) = three_steps_on(&gpu, &initial);
        for (c, g) in cpu_losses.iter().zip(&gpu_losses) {
            assert!(
                (c - g).abs() < 1e-3 * c.abs(),
                "loss {c} (CPU) vs {g} (wgpu)"
            );
        }
        assert!(
            cpu_losses[2] < cpu_losses[0],
            "the loss must fall: {cpu_losses:?}"
        );
        let worst = cpu_decoded
            .iter()
            .zip(&gpu_decoded)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-3, "decoded pixels differ by {worst}");
    }
}
