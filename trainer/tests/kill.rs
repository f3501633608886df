//! Training and exporting killed with SIGKILL at random moments, again and again: every time,
//! `--resume` continues from a whole checkpoint, and the export directory holds either the
//! previous complete model or the new complete model, never a mix or a half-written file.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::write_dataset;
use vae::ModelCard;

const BIN: &str = env!("CARGO_BIN_EXE_trainer");
const KILLS: usize = 20;

/// Whether `dir` holds a complete model: a card that parses, the weights it names with its
/// size and checksum, and a readable latents file of the test set's size. Returns the card.
fn complete_model(dir: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(dir.join(vae::files::CARD)).map_err(|e| e.to_string())?;
    let card = ModelCard::from_json(&text).map_err(|e| e.to_string())?;
    let weights = std::fs::read(dir.join(&card.files.weights)).map_err(|e| e.to_string())?;
    card.check_weights(&weights)?;
    vae::weights::from_bytes(
        &card.architecture,
        card.files.weights_storage,
        &weights,
        &burn::prelude::Device::flex(),
    )
    .map_err(|e| e.to_string())?;
    let latents = std::fs::read(dir.join(&card.files.latents)).map_err(|e| e.to_string())?;
    let latents = vae::latents::Latents::from_bytes(&latents).map_err(|e| e.to_string())?;
    if latents.labels.len() != card.dataset.test_images {
        return Err(format!(
            "{} latents for {} test images",
            latents.labels.len(),
            card.dataset.test_images
        ));
    }
    Ok(text)
}

fn epochs_done(ckpt: &Path) -> u64 {
    let text = std::fs::read_to_string(ckpt.join("state.json")).expect("a checkpoint");
    let state: serde_json::Value = serde_json::from_str(&text).expect("a whole checkpoint");
    state["epochs_done"].as_u64().expect("epochs_done")
}

#[test]
// Every child is killed (or finishes) and reaped before the next starts.
#[allow(clippy::zombie_processes)]
fn kill_9_at_random_moments_never_leaves_a_mixed_model_or_a_broken_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("mnist");
    write_dataset(&data, 2000, 100);
    let (out, ckpt) = (dir.path().join("model"), dir.path().join("ckpt"));
    let path = |p: &Path| p.to_str().expect("utf-8").to_string();
    let train = |epochs: u64, resume: bool| {
        let mut c = Command::new(BIN);
        c.args(["train", "--data", &path(&data), "--out", &path(&out)])
            .args([
                "--checkpoints",
                &path(&ckpt),
                "--hidden",
                "32",
                "--batch",
                "50",
            ])
            .args(["--validation", "50", "--threads", "1"])
            .args(["--epochs", &epochs.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if resume {
            c.arg("--resume");
        }
        c
    };
    // A first complete model, and how long two resumed epochs plus the export take.
    let first = train(1, false).status().expect("trainer runs");
    assert!(first.success());
    let mut model = complete_model(&out).expect("a complete first export");
    // Timed: until the last epoch's checkpoint (training), and until the end (the export).
    let start = Instant::now();
    let mut child = train(3, true).spawn().expect("spawn");
    let mut trained = None;
    while child.try_wait().expect("wait").is_none() {
        if trained.is_none() && epochs_done(&ckpt) == 3 {
            trained = Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let span = start.elapsed();
    let trained = trained.unwrap_or(span / 4);
    let new = complete_model(&out).expect("a complete export");
    assert_ne!(new, model, "a second export differs from the first");
    model = new;

    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let (mut in_training, mut in_export, mut replaced) = (0, 0, 0);
    for kill in 0..KILLS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Half of the kills during start-up, training and checkpointing, half during the
        // export (evaluation, figures, writing and swapping the files) or past its end: the
        // timed run is one sample of a loaded machine's speed, so the export half reaches
        // to 1.5× its span, and some runs finish and replace the model.
        let u = (seed % 1000) as f64 / 1000.0;
        let at = if kill % 2 == 0 {
            trained.mul_f64(u)
        } else {
            trained + (span - trained).mul_f64(u * 1.5)
        };
        let done = epochs_done(&ckpt);
        let mut child = train(done + 2, true).spawn().expect("spawn");
        let started = Instant::now();
        let finished = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            if started.elapsed() >= at {
                // The epoch is checkpointed before the export starts: a kill after that lands
                // in the export (evaluation, figures, writing and swapping the files).
                let exporting = epochs_done(&ckpt) == done + 2;
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                in_export += usize::from(exporting);
                break None;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        in_training += usize::from(finished.is_none());
        // The checkpoint is whole (epochs_done reads) and never goes backwards.
        let after = epochs_done(&ckpt);
        assert!(
            (done..=done + 2).contains(&after),
            "kill {kill}: {done} → {after}"
        );
        // The export is the previous model or a new complete one.
        let now = complete_model(&out)
            .unwrap_or_else(|e| panic!("kill {kill} at {at:?}: the export is broken: {e}"));
        if now != model {
            replaced += 1;
            model = now;
        }
    }
    // The kills landed in both places that matter (the moments are seeded, so this is fixed).
    in_training -= in_export;
    eprintln!("{in_training} kills in training, {in_export} in the export, {replaced} exports");
    assert!(
        in_export >= 3,
        "only {in_export} of {KILLS} kills hit an export"
    );
    assert!(
        in_training >= 3,
        "only {in_training} of {KILLS} kills hit the training"
    );
    // And it still finishes: one more resumed run replaces the model with one `eval` accepts.
    let done = epochs_done(&ckpt);
    assert!(
        train(done + 1, true)
            .status()
            .expect("trainer runs")
            .success()
    );
    let last = complete_model(&out).expect("a complete final export");
    assert_ne!(last, model, "the last run replaced the model");
    let eval = Command::new(BIN)
        .args(["eval", "--data", &path(&data), "--model", &path(&out)])
        .output()
        .expect("eval runs");
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
}
