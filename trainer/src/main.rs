//! `trainer`: trains the Latent Canvas VAE on MNIST, evaluates it, benchmarks it and exports it
//! for the page.

// Safe code only: the workspace denies `unsafe`, and only vae's gemm call allows it.
#![forbid(unsafe_code)]

mod atomic;
mod backend;
mod canvas;
mod download;
mod evaluate;
mod export;
mod figures;
mod golden;
mod latency;
mod mnist;
mod tensors;
mod train;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use vae::{Activation, Recon, VaeConfig};

use crate::backend::Backend;
use crate::train::Hyper;

/// mimalloc rather than the C library's allocator: every training step allocates and frees
/// buffers of megabytes (the weight gradients), which glibc maps from and returns to the kernel
/// each time (page faults, zeroing); mimalloc keeps them for reuse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Train, evaluate, benchmark and export the Latent Canvas VAE.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train the VAE (checkpointing every epoch), then export it.
    Train(TrainArgs),
    /// Recompute the test-set metrics of an exported model; prints one JSON object.
    Eval(EvalArgs),
    /// Export a checkpoint for the page (as `train` does at its end).
    Export(ExportArgs),
    /// Write the golden values of an exported model (the wasm tests' reference).
    Golden(GoldenArgs),
    /// Measure the native latency of the page's calls (encode, decode, 30×30 grid).
    BenchDecode(BenchDecodeArgs),
    /// Measure training and evaluation throughput (images/s).
    Bench(BenchArgs),
    /// Download MNIST into the cache (checked against the published MD5) and print where it
    /// is: the page's training data come from there (scripts/build-data.sh).
    Download(DownloadArgs),
}

/// Settings that define the model and the run.
#[derive(Args, Debug, Clone)]
struct HyperArgs {
    /// Epochs.
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Peak learning rate (Adam; cosine-decayed to 2 % of it).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Seed of the initialisation, shuffling and sampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Reconstruction term: Bernoulli cross-entropy or the paper's squared error.
    #[arg(long, value_enum, default_value_t = ReconArg::Bce)]
    recon: ReconArg,
    /// Latent dimension (the page needs 2).
    #[arg(long, default_value_t = 2)]
    latent: usize,
    /// Hidden widths of the encoder, comma-separated (the decoder mirrors them).
    #[arg(long, value_delimiter = ',', default_value = "512,256")]
    hidden: Vec<usize>,
    /// Hidden widths of the decoder, latent side first, when it should not mirror the encoder.
    #[arg(long, value_delimiter = ',')]
    decoder_hidden: Option<Vec<usize>>,
    /// Weight β of the KL term (1 trains the ELBO; near 0, an autoencoder in all but name).
    #[arg(long, default_value_t = 1.0)]
    beta: f64,
    /// KL warm-up: epochs over which the KL weight rises linearly from 0 to β.
    #[arg(long, default_value_t = 0)]
    warmup: usize,
    /// Decay of an exponential moving average of the weights, kept and exported instead of the
    /// last step's (0: off; e.g. 0.999).
    #[arg(long, default_value_t = 0.0)]
    ema: f64,
    /// Decoupled weight decay (AdamW); 0 keeps plain Adam.
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Dropout rate after every hidden layer while training (0: none).
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,
    /// Random affine distortions of the training images: 0 none, 1 up to 10° rotation, 10 %
    /// scale, 0.15 shear and 1 px shift.
    #[arg(long, default_value_t = 0.0)]
    augment: f64,
    /// Training images held out (the last ones) to choose the best epoch on; 0 keeps the last.
    #[arg(long, default_value_t = 5000)]
    validation: usize,
    /// Hidden-layer activation.
    #[arg(long, value_enum, default_value_t = ActivationArg::Silu)]
    activation: ActivationArg,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ReconArg {
    Bce,
    Mse,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ActivationArg {
    Relu,
    Silu,
}

impl HyperArgs {
    fn hyper(&self) -> Result<Hyper> {
        let architecture = VaeConfig {
            latent: self.latent,
            hidden: self.hidden.clone(),
            decoder_hidden: self.decoder_hidden.clone(),
            activation: match self.activation {
                ActivationArg::Relu => Activation::Relu,
                ActivationArg::Silu => Activation::Silu,
            },
        };
        architecture
            .validate()
            .map_err(|e| anyhow::anyhow!("--latent/--hidden/--decoder-hidden: {e}"))?;
        anyhow::ensure!(self.batch > 0, "--batch must be at least 1");
        anyhow::ensure!(self.epochs > 0, "--epochs must be at least 1");
        anyhow::ensure!(
            self.lr > 0.0 && self.lr.is_finite(),
            "--lr must be positive"
        );
        anyhow::ensure!(
            self.beta >= 0.0 && self.beta.is_finite(),
            "--beta must be a finite number ≥ 0"
        );
        anyhow::ensure!(
            (0.0..1.0).contains(&self.ema),
            "--ema must be in [0, 1) (e.g. 0.999), not {}",
            self.ema
        );
        anyhow::ensure!(
            self.weight_decay >= 0.0 && self.weight_decay.is_finite(),
            "--weight-decay must be a finite number ≥ 0"
        );
        anyhow::ensure!(
            (0.0..1.0).contains(&self.dropout),
            "--dropout must be in [0, 1), not {}",
            self.dropout
        );
        anyhow::ensure!(
            (0.0..=3.0).contains(&self.augment),
            "--augment must be in [0, 3], not {}",
            self.augment
        );
        Ok(Hyper {
            architecture,
            recon: match self.recon {
                ReconArg::Bce => Recon::Bce,
                ReconArg::Mse => Recon::Mse,
            },
            epochs: self.epochs,
            batch: self.batch,
            lr: self.lr,
            seed: self.seed,
            beta: self.beta,
            warmup: self.warmup,
            ema: self.ema,
            weight_decay: self.weight_decay,
            dropout: self.dropout,
            augment: self.augment,
            validation: self.validation,
        })
    }
}

/// Where MNIST comes from.
#[derive(Args, Debug, Clone)]
struct DataArgs {
    /// Directory with MNIST's four IDX files (gzipped or not). Without it, the files are taken
    /// from the cache, or downloaded into it and checked against their MD5.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Cache directory for downloaded files [default: ~/.cache/latent-canvas/mnist].
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Base URL of a mirror to download from (repeatable; replaces the built-in list).
    #[arg(long)]
    mirror: Vec<String>,
}

impl DataArgs {
    /// The directory holding the four files, downloading them first if needed.
    fn dir(&self) -> Result<PathBuf> {
        if let Some(dir) = &self.data {
            return Ok(dir.clone());
        }
        let cache = match &self.cache {
            Some(c) => c.clone(),
            None => download::default_cache()?,
        };
        let mirrors: Vec<String> = if self.mirror.is_empty() {
            download::MIRRORS.iter().map(|m| (*m).to_string()).collect()
        } else {
            self.mirror
                .iter()
                .map(|m| {
                    if m.ends_with('/') {
                        m.clone()
                    } else {
                        format!("{m}/")
                    }
                })
                .collect()
        };
        download::ensure(&cache, &mirrors)
    }
}

#[derive(Args, Debug)]
struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Exported model directory (with card.json).
    #[arg(long)]
    model: PathBuf,
    /// Importance samples per test image for the bound `iw_nll`.
    #[arg(long, default_value_t = evaluate::IW_SAMPLES)]
    iw_samples: usize,
}

#[derive(Args, Debug)]
struct DownloadArgs {
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Args, Debug)]
struct BenchDecodeArgs {
    /// Exported model directory (with card.json).
    #[arg(long, default_value = "www/model")]
    model: PathBuf,
    /// Repetitions per figure (the median is printed).
    #[arg(long, default_value_t = 50)]
    runs: usize,
}

#[derive(Args, Debug)]
struct GoldenArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Exported model directory (with card.json).
    #[arg(long, default_value = "www/model")]
    model: PathBuf,
    /// Fixture file to write.
    #[arg(long, default_value = "crates/vae-web/tests/fixtures/golden.json")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct ExportArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Checkpoint directory written by `train`.
    #[arg(long, default_value = "checkpoints")]
    checkpoint: PathBuf,
    /// Export directory.
    #[arg(long, default_value = "www/model")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Export directory for the page (weights, card, latents, figures).
    #[arg(long, default_value = "www/model")]
    out: PathBuf,
    /// Checkpoint directory (written after every epoch).
    #[arg(long, default_value = "checkpoints")]
    checkpoints: PathBuf,
    /// Continue from the checkpoint in --checkpoints.
    #[arg(long)]
    resume: bool,
    /// Backend: the CPU (flex), or a GPU (wgpu; cuda in builds with the `cuda` feature).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
    /// Slices of each batch trained side by side on as many threads [default: the CPU's cores].
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    hyper: HyperArgs,
}

#[derive(Args, Debug)]
struct BenchArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Full-size training batches to time.
    #[arg(long, default_value_t = 100)]
    batches: usize,
    /// Backends to measure.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "flex")]
    backend: Vec<Backend>,
    /// Slices of each batch trained side by side on as many threads [default: the CPU's cores].
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    hyper: HyperArgs,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Bench(args) => bench(args),
        Command::Train(args) => train_cmd(args),
        Command::Eval(args) => eval_cmd(args),
        Command::Export(args) => export_cmd(args),
        Command::Golden(args) => golden_cmd(args),
        Command::BenchDecode(args) => bench_decode_cmd(args),
        Command::Download(args) => {
            let dir = args.data.dir()?;
            mnist::Mnist::read(&dir)?; // the files parse, not only download
            println!("{}", dir.display());
            Ok(())
        }
    }
}

fn bench(args: BenchArgs) -> Result<()> {
    let hyper = args.hyper.hyper()?;
    let data = mnist::Mnist::read(&args.data.dir()?)?;
    for backend in args.backend {
        let device = backend.device()?;
        let slices = if backend.is_cpu() {
            threads(args.threads)?
        } else {
            1
        };
        let train_ips = train::throughput(&hyper, &data.train, &device, args.batches, slices)?;
        let t = std::time::Instant::now();
        let model = vae::Vae::new(&hyper.architecture, &device);
        let _ = evaluate::elbo_terms(&model, &data.test, &device);
        let eval_ips = data.test.len() as f64 / t.elapsed().as_secs_f64();
        println!(
            "{}",
            serde_json::json!({
                "backend": backend.name(),
                "hidden": hyper.architecture.hidden,
                "batch": hyper.batch,
                "batches": args.batches,
                "threads": slices,
                // The host loops' SIMD level: they run on burn-flex only.
                "simd": (backend == Backend::Flex).then(vae::train::simd_level),
                "train_images_per_s": train_ips.round(),
                "epoch_seconds": (data.train.len() as f64 / train_ips * 10.0).round() / 10.0,
                "eval_images_per_s": eval_ips.round(),
            })
        );
    }
    Ok(())
}

fn train_cmd(args: TrainArgs) -> Result<()> {
    let hyper = args.hyper.hyper()?;
    let dir = args.data.dir()?;
    let data = mnist::Mnist::read(&dir)?;
    let device = args.backend.device()?;
    let command = command_line();
    let trained = train::train(
        train::Start {
            hyper,
            checkpoints: args.checkpoints.clone(),
            resume: args.resume,
            command,
            backend: args.backend.name().to_string(),
            threads: if args.backend.is_cpu() {
                threads(args.threads)?
            } else {
                1
            },
        },
        &data,
        &device,
    )?;
    export_and_report(
        &args.out,
        &trained.model,
        &trained.state,
        &data,
        &dir,
        &device,
    )
}

/// Exports into `out` and prints where, and the metrics as JSON.
fn export_and_report(
    out: &std::path::Path,
    model: &vae::Vae,
    state: &train::TrainState,
    mnist: &mnist::Mnist,
    dir: &std::path::Path,
    device: &burn::prelude::Device,
) -> Result<()> {
    let card = export::export(
        out,
        model,
        state,
        &export::DataSource { mnist, dir },
        device,
    )?;
    println!("exported to {}", out.display());
    println!("{}", serde_json::to_string(&card.metrics)?);
    Ok(())
}

/// `--threads`, or the number of cores.
fn threads(asked: Option<usize>) -> Result<usize> {
    match asked {
        Some(0) => anyhow::bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, usize::from)),
    }
}

/// The command line as typed (program name shortened), recorded in the model card.
fn command_line() -> String {
    let mut args = std::env::args();
    let _program = args.next();
    let rest: Vec<String> = args
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$`".contains(c)) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a
            }
        })
        .collect();
    format!("cargo run --release -p trainer -- {}", rest.join(" "))
}

fn eval_cmd(args: EvalArgs) -> Result<()> {
    let device = Backend::Flex.device()?;
    let (_, model) = export::load(&args.model, &device)?;
    let data = mnist::Mnist::read(&args.data.dir()?)?;
    anyhow::ensure!(args.iw_samples >= 1, "--iw-samples must be at least 1");
    let metrics = evaluate::metrics(&model, &data.train, &data.test, args.iw_samples, &device)?;
    println!("{}", serde_json::to_string(&metrics)?);
    Ok(())
}

fn bench_decode_cmd(args: BenchDecodeArgs) -> Result<()> {
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    let device = Backend::Flex.device()?;
    let (card, model) = export::load(&args.model, &device)?;
    let latency = latency::measure(
        &model,
        &card.plane,
        &device,
        Backend::Flex.name(),
        args.runs,
    )?;
    println!("{}", serde_json::to_string(&latency)?);
    Ok(())
}

fn golden_cmd(args: GoldenArgs) -> Result<()> {
    let device = Backend::Flex.device()?;
    let (_, model) = export::load(&args.model, &device)?;
    let data = mnist::Mnist::read(&args.data.dir()?)?;
    golden::write(&model, &data.test, &device, &args.out)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

fn export_cmd(args: ExportArgs) -> Result<()> {
    let device = Backend::Flex.device()?;
    let ckpt = train::Checkpoint::load(&args.checkpoint, &device)?.ok_or_else(|| {
        anyhow::anyhow!(
            "no checkpoint in {} (state.json missing)",
            args.checkpoint.display()
        )
    })?;
    let dir = args.data.dir()?;
    let data = mnist::Mnist::read(&dir)?;
    export_and_report(
        &args.out,
        &ckpt.selected(),
        &ckpt.state,
        &data,
        &dir,
        &device,
    )
}
