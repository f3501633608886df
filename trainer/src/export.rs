//! Exporting a trained model for the page: weights (8-bit when that costs < 0.3 nats, and
//! narrower matrices while it still does; else f16 when < 0.1 nats), the model card, the
//! test-set latents and the figures, written to a staging directory and swapped into place in
//! one step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::prelude::*;
use vae::card::{
    CARD_FORMAT, Dataset, FileDigest, Files, Metrics, ModelCard, Training, Validation,
};
use vae::latents::Latents;
use vae::plane::plane_extent;
use vae::plane::{MANIFOLD_GRID, grid_points};
use vae::weights::{self, Precision, Storage};
use vae::{Encoding, IMAGE_PIXELS, Vae, files};

use crate::atomic::replace_dir;
use crate::download::md5_file;
use crate::evaluate::{IW_SAMPLES, elbo_terms, latent_means, metrics};
use crate::figures;
use crate::mnist::{ALL_FILES, Mnist};
use crate::tensors::{matrix, to_vec};
use crate::train::TrainState;

/// Largest change of the test negative ELBO (nats) that f16 storage may cause.
pub const F16_TOLERANCE: f64 = 0.1;
/// Largest change of the test negative ELBO (nats) that 8-bit storage may cause.
pub const Q8_TOLERANCE: f64 = 0.3;
/// What an export needs to know about the data.
pub struct DataSource<'a> {
    /// The data, in memory.
    pub mnist: &'a Mnist,
    /// The directory it was read from (for the checksums).
    pub dir: &'a Path,
}

fn digests(dir: &Path) -> Result<Vec<FileDigest>> {
    ALL_FILES
        .iter()
        .map(|f| {
            let gz = dir.join(f.name);
            let path = if gz.exists() {
                gz
            } else {
                gz.with_extension("")
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(FileDigest {
                name,
                md5: md5_file(&path)?,
            })
        })
        .collect()
}

/// Fewest bits an export gives a matrix: below this the steps are coarse enough to move the
/// model more than any transfer saving is worth.
pub const MIN_BITS: u8 = 5;

/// A candidate storage: its bytes, storage, the model as loaded from them, its test negative
/// ELBO and the bit width of each quantised matrix.
struct Candidate {
    bytes: Vec<u8>,
    storage: Storage,
    model: Vae,
    neg_elbo: f64,
    plan: BTreeMap<String, Precision>,
}

/// Picks the smallest storage whose loss of quality is within bounds: 8-bit if it moves the
/// test negative ELBO by less than [`Q8_TOLERANCE`] (keeping in f16, most costly first, the
/// matrices whose 8 bits alone cost the most, but never more than half of them), then fewer
/// bits where the bound allows (see [`narrow`]); else f16 if by less than [`F16_TOLERANCE`],
/// else f32. Returns the chosen candidate.
fn choose_storage(
    model: &Vae,
    state: &TrainState,
    data: &Mnist,
    device: &Device,
) -> Result<Candidate> {
    let arch = &state.hyper.architecture;
    let load = |bytes: Vec<u8>, storage, plan: BTreeMap<String, Precision>| -> Result<Candidate> {
        let loaded = weights::from_bytes(arch, storage, &bytes, device)?;
        let neg_elbo = elbo_terms(&loaded, &data.test, device).neg_elbo();
        Ok(Candidate {
            bytes,
            storage,
            model: loaded,
            neg_elbo,
            plan,
        })
    };
    let q8 = |plan: BTreeMap<String, Precision>| {
        load(weights::to_q8_bytes(model, &plan)?, Storage::Q8, plan)
    };
    let full = load(
        weights::to_bytes(model, Storage::F32)?,
        Storage::F32,
        BTreeMap::new(),
    )?;
    let report = |what: &str, c: &Candidate, limit: f64| {
        eprintln!(
            "test neg ELBO: f32 {:.4}, {what} {:.4} (change {:+.4} nats; limit {limit}; {} bytes, {} gzipped)",
            full.neg_elbo,
            c.neg_elbo,
            c.neg_elbo - full.neg_elbo,
            c.bytes.len(),
            gzipped_len(&c.bytes)
        );
        (c.neg_elbo - full.neg_elbo).abs() < limit
    };
    let matrices = weights::q8_matrices(model);
    let mut best = q8(BTreeMap::new())?;
    if !report("Q8", &best, Q8_TOLERANCE) {
        // What each matrix costs in 8 bits on its own (the others f16).
        let mut costs = Vec::new();
        for name in &matrices {
            let others = matrices
                .iter()
                .filter(|m| *m != name)
                .map(|m| (m.clone(), Precision::F16))
                .collect();
            costs.push((q8(others)?.neg_elbo - full.neg_elbo, name.clone()));
        }
        costs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut keep = BTreeMap::new();
        for (cost, name) in costs.into_iter().take(matrices.len() / 2) {
            eprintln!("  {name} in 8 bits alone: {cost:+.4} nats: kept in f16");
            keep.insert(name, Precision::F16);
            best = q8(keep.clone())?;
            if report(&format!("Q8 ({} in f16)", keep.len()), &best, Q8_TOLERANCE) {
                break;
            }
        }
    }
    if (best.neg_elbo - full.neg_elbo).abs() < Q8_TOLERANCE {
        return narrow(best, &matrices, q8, |c| {
            (c.neg_elbo - full.neg_elbo).abs() < Q8_TOLERANCE
        });
    }
    let half = load(
        weights::to_bytes(model, Storage::F16)?,
        Storage::F16,
        BTreeMap::new(),
    )?;
    Ok(if report("F16", &half, F16_TOLERANCE) {
        half
    } else {
        full
    })
}

/// Gives matrices fewer bits, one bit at a time in rounds over all of them (so that no one
/// matrix spends the whole bound), down to [`MIN_BITS`], keeping each step whose model is
/// still `within` bounds; what gzip then saves on the wire is what the narrower values buy.
fn narrow(
    mut best: Candidate,
    matrices: &[String],
    q8: impl Fn(BTreeMap<String, Precision>) -> Result<Candidate>,
    within: impl Fn(&Candidate) -> bool,
) -> Result<Candidate> {
    // A matrix over the bound at some width stays at the one before: the others only coarsen.
    let mut settled = std::collections::BTreeSet::new();
    loop {
        let mut narrowed = false;
        for name in matrices {
            let Precision::Bits(b) = Precision::of(&best.plan, name) else {
                continue; // kept in f16
            };
            if b <= MIN_BITS || settled.contains(name) {
                continue;
            }
            let mut plan = best.plan.clone();
            plan.insert(name.clone(), Precision::Bits(b - 1));
            let candidate = q8(plan)?;
            let kept = within(&candidate);
            eprintln!(
                "  {name} in {} bits: test neg ELBO {:.4}, {} gzipped: {}",
                b - 1,
                candidate.neg_elbo,
                gzipped_len(&candidate.bytes),
                if kept { "kept" } else { "over the bound" }
            );
            if kept {
                best = candidate;
                narrowed = true;
            } else {
                settled.insert(name.clone());
            }
        }
        if !narrowed {
            return Ok(best);
        }
    }
}

/// Bytes of `bytes` gzipped at level 9 (flate2's; a static server's gzip gives about as much).
fn gzipped_len(bytes: &[u8]) -> usize {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to memory cannot fail.
    let _ = gz.write_all(bytes);
    gz.finish().map(|v| v.len()).unwrap_or(0)
}

/// What the card records of a [`Storage::Q8`] plan: the bits of every quantised matrix (16
/// for one kept in f16); nothing for other storages.
fn bits_of(
    plan: &BTreeMap<String, Precision>,
    matrices: &[String],
    storage: Storage,
) -> BTreeMap<String, u8> {
    if storage != Storage::Q8 {
        return BTreeMap::new();
    }
    matrices
        .iter()
        .map(|name| (name.clone(), Precision::of(plan, name).bits()))
        .collect()
}

/// The first test image of each digit 0–9, in [0, 1].
fn one_per_digit(data: &Mnist) -> Vec<Vec<f32>> {
    (0..10u8)
        .filter_map(|d| data.test.labels.iter().position(|&l| l == d))
        .map(|i| data.test.image(i).collect())
        .collect()
}

/// Writes the export of `model` into `out`, replacing what was there only once everything is
/// written. Returns the card.
pub fn export(
    out: &Path,
    model: &Vae,
    state: &TrainState,
    data: &DataSource<'_>,
    device: &Device,
) -> Result<ModelCard> {
    let mnist = data.mnist;
    let Candidate {
        bytes: weight_bytes,
        storage,
        model: stored,
        plan,
        ..
    } = choose_storage(model, state, mnist, device)?;
    let metrics: Metrics = metrics(&stored, &mnist.train, &mnist.test, IW_SAMPLES, device)?;
    let test_mu = latent_means(&stored, &mnist.test, device)?;
    let plane = plane_extent(&test_mu);

    let inputs = one_per_digit(mnist);
    let flat: Vec<f32> = inputs.iter().flatten().copied().collect();
    let rows = to_vec(stored.encoding_rows(matrix(flat, IMAGE_PIXELS, device)))?;
    let outputs: Vec<Vec<f32>> = Encoding::from_rows(&rows, stored.latent())
        .context("splitting the encodings of the reconstruction figure")?
        .into_iter()
        .map(|e| e.reconstruction)
        .collect();
    let grid = grid_points(&plane, MANIFOLD_GRID);
    let decoded = to_vec(stored.decode(matrix(grid, 2, device)))?;

    let latents = Latents {
        dims: stored.latent(),
        points: test_mu.clone(),
        labels: mnist.test.labels.clone(),
    };
    let outputs_png = [
        (
            files::FIG_SCATTER,
            figures::latent_scatter(&test_mu, &mnist.test.labels, &plane)?,
        ),
        (
            files::FIG_RECON,
            figures::reconstructions(&inputs, &outputs)?,
        ),
        (
            files::FIG_MANIFOLD,
            figures::manifold(&decoded, MANIFOLD_GRID)?,
        ),
    ];
    let card = ModelCard {
        format: CARD_FORMAT,
        architecture: state.hyper.architecture.clone(),
        dataset: Dataset {
            name: "MNIST".into(),
            // The held-out validation images were not trained on.
            train_images: mnist.train.len() - state.hyper.validation.min(mnist.train.len()),
            test_images: mnist.test.len(),
            files: digests(data.dir)?,
        },
        training: Training {
            epochs: state.epochs_done,
            batch: state.hyper.batch,
            lr: state.hyper.lr,
            seed: state.hyper.seed,
            recon: state.hyper.recon,
            seconds: (state.seconds * 10.0).round() / 10.0,
            backend: state.backend.clone(),
            command: state.command.clone(),
            beta: state.hyper.beta,
            kl_warmup_epochs: state.hyper.warmup,
            ema: (state.hyper.ema > 0.0).then_some(state.hyper.ema),
            weight_decay: state.hyper.weight_decay,
            dropout: state.hyper.dropout,
            augment: state.hyper.augment,
            validation: state.best.as_ref().map(|best| Validation {
                split: format!("last {} of the training set", state.hyper.validation),
                images: state.hyper.validation,
                epoch: best.epoch,
                neg_elbo: best.val_neg_elbo,
            }),
        },
        metrics,
        plane,
        files: Files {
            weights: files::WEIGHTS.into(),
            weights_storage: storage,
            weights_bytes: weight_bytes.len() as u64,
            weights_sha256: weights::sha256_hex(&weight_bytes),
            weights_bits: bits_of(&plan, &weights::q8_matrices(&stored), storage),
            latents: files::LATENTS.into(),
            figures: outputs_png.iter().map(|(n, _)| (*n).to_string()).collect(),
        },
    };
    replace_dir(out, |dir| {
        let write = |name: &str, bytes: &[u8]| -> Result<()> {
            let path: PathBuf = dir.join(name);
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
        };
        write(files::WEIGHTS, &weight_bytes)?;
        write(files::LATENTS, &latents.to_bytes())?;
        for (name, png) in &outputs_png {
            write(name, png)?;
        }
        write(files::CARD, card.to_json().as_bytes())
    })
    .with_context(|| format!("exporting to {}", out.display()))?;
    Ok(card)
}

/// Loads an exported model directory: the card and the model built from its weights.
pub fn load(dir: &Path, device: &Device) -> Result<(ModelCard, Vae)> {
    let card_path = dir.join(files::CARD);
    let text = std::fs::read_to_string(&card_path)
        .with_context(|| format!("reading {}", card_path.display()))?;
    let card =
        ModelCard::from_json(&text).with_context(|| format!("in {}", card_path.display()))?;
    let weights_path = dir.join(&card.files.weights);
    let bytes = std::fs::read(&weights_path)
        .with_context(|| format!("reading {}", weights_path.display()))?;
    card.check_weights(&bytes)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("in {}", dir.display()))?;
    let model = weights::from_bytes(
        &card.architecture,
        card.files.weights_storage,
        &bytes,
        device,
    )
    .with_context(|| format!("loading {}", weights_path.display()))?;
    Ok((card, model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_is_square_centred_and_covers_the_points() {
        let points: Vec<f32> = (0..1000)
            .flat_map(|i| {
                [
                    (i as f32 / 1000.0) * 4.0 - 2.0,
                    (i as f32 / 1000.0) * 2.0 - 1.5,
                ]
            })
            .collect();
        let e = plane_extent(&points);
        assert_eq!((e.x_min, e.x_max), (-e.x_max, e.x_max));
        assert_eq!((e.y_min, e.y_max), (e.x_min, e.x_max));
        assert!(e.x_max >= 2.0 && e.x_max <= 2.5, "{e:?}");
    }

    #[test]
    fn narrowing_spreads_the_bound_over_the_matrices_and_leaves_f16_alone() {
        let device = Device::flex();
        let config = vae::VaeConfig {
            latent: 2,
            hidden: vec![8],
            decoder_hidden: None,
            activation: vae::Activation::Silu,
        };
        let model = Vae::new(&config, &device);
        // A stand-in for the test ELBO: each bit fewer quadruples a matrix's quantisation noise.
        let cost = |plan: &BTreeMap<String, Precision>| -> f64 {
            [("a", 0.01), ("b", 0.001)]
                .iter()
                .map(|(name, c)| match Precision::of(plan, name) {
                    Precision::Bits(b) => c * 4f64.powi(8 - i32::from(b)),
                    Precision::F16 => 0.0,
                })
                .sum()
        };
        let candidate = |plan: BTreeMap<String, Precision>| -> Result<Candidate> {
            Ok(Candidate {
                bytes: Vec::new(),
                storage: Storage::Q8,
                model: model.clone(),
                neg_elbo: cost(&plan),
                plan,
            })
        };
        let start = BTreeMap::from([("c".to_string(), Precision::F16)]);
        let names = ["a", "b", "c"].map(String::from);
        let best = narrow(
            candidate(start).expect("a candidate"),
            &names,
            candidate,
            |c| c.neg_elbo < 0.3,
        )
        .expect("narrowed");
        // Rounds: a and b to 7, then to 6 (0.176); a to 5 would cost 0.64 + 0.016: a stays at
        // 6; b to 5 (0.224); then b is at the floor. c, in f16, is never touched.
        let want = BTreeMap::from([
            ("a".to_string(), Precision::Bits(6)),
            ("b".to_string(), Precision::Bits(MIN_BITS)),
            ("c".to_string(), Precision::F16),
        ]);
        assert_eq!(best.plan, want);
        assert!((best.neg_elbo - 0.224).abs() < 1e-12, "{}", best.neg_elbo);
    }

    #[test]
    fn one_outlier_does_not_stretch_the_plane() {
        let mut points: Vec<f32> = (0..2000)
            .flat_map(|i| [(i % 7) as f32 - 3.0, 0.0])
            .collect();
        points.extend([40.0, 40.0]);
        assert!(plane_extent(&points).x_max < 4.0);
    }
}
