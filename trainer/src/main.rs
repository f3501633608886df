//! `trainer`: trains the Latent Canvas VAE on MNIST, evaluates it, benchmarks it and exports it
//! for the page.

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
mod rng;
mod tensors;
mod train;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use vae::{Activation, Recon, VaeConfig};

use crate::backend::Backend;
use crate::train::Hyper;

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
            activation: match self.activation {
                ActivationArg::Relu => Activation::Relu,
                ActivationArg::Silu => Activation::Silu,
            },
        };
        architecture
            .validate()
            .map_err(|e| anyhow::anyhow!("--latent/--hidden: {e}"))?;
        anyhow::ensure!(self.batch > 0, "--batch must be at least 1");
        anyhow::ensure!(self.epochs > 0, "--epochs must be at least 1");
        anyhow::ensure!(
            self.lr > 0.0 && self.lr.is_finite(),
            "--lr must be positive"
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
    /// CPU backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    backend: Backend,
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
    }
}

fn bench(args: BenchArgs) -> Result<()> {
    let hyper = args.hyper.hyper()?;
    let data = mnist::Mnist::read(&args.data.dir()?)?;
    for backend in args.backend {
        let device = backend.device()?;
        let train_ips = train::throughput(&hyper, &data.train, &device, args.batches)?;
        let t = std::time::Instant::now();
        let model = vae::Vae::new(&hyper.architecture, &device);
        let _ = evaluate::elbo_terms(&model, &data.test, &device)?;
        let eval_ips = data.test.len() as f64 / t.elapsed().as_secs_f64();
        println!(
            "{}",
            serde_json::json!({
                "backend": backend.name(),
                "hidden": hyper.architecture.hidden,
                "batch": hyper.batch,
                "batches": args.batches,
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
    let metrics = evaluate::metrics(&model, &data.train, &data.test, &device)?;
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
    export_and_report(&args.out, &ckpt.model, &ckpt.state, &data, &dir, &device)
}
