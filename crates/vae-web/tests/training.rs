//! Training in the web crate, natively (burn-flex): the same code the browser's Train panel
//! runs. The three-step case's losses are the golden values the browser test compares with
//! (`UPDATE_GOLDEN=1 cargo test -p vae-web --features train --test training` rewrites them).

#![cfg(all(not(target_family = "wasm"), feature = "train"))]

mod common;

use common::training::{self, STEPS};
use pollster::block_on;
use vae_web::ErrorKind;
use vae_web::training::{TrainSettings, Training};

/// Burn's CPU generator is one per process: runs that draw from it in parallel tests would
/// interleave their draws. Each test holds this while it trains.
static GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn generator() -> std::sync::MutexGuard<'static, ()> {
    GENERATOR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn three_steps_lower_the_loss_and_match_the_golden_values() {
    let _generator = generator();
    let losses = block_on(training::losses());
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/training-golden.json"
        );
        let json = serde_json::json!({ "steps": STEPS, "losses": losses });
        std::fs::write(path, format!("{json:#}\n")).expect("writing the fixture");
        return; // the next build compares against it
    }
    training::check(&losses);
}

/// The case the browser test runs on WebGPU and the CPU: from the same weights and host-drawn
/// noise it gives the same losses every time, and they fall.
#[test]
fn the_backend_comparison_case_is_deterministic_and_trains() {
    let _generator = generator();
    let initial = training::initial_weights();
    let cpu = vae_web::backend::cpu_device();
    let (losses, decoded) = block_on(training::steps_from(&initial, &cpu));
    let (again, _) = block_on(training::steps_from(&initial, &cpu));
    assert_eq!(
        losses, again,
        "the same weights and noise give the same steps"
    );
    assert_eq!(losses.len(), STEPS);
    assert!(
        losses[STEPS - 1] < losses[0],
        "the loss must fall: {losses:?}"
    );
    assert_eq!(decoded.len(), 2 * vae::IMAGE_PIXELS);
    assert!(decoded.iter().all(|p| (0.0..=1.0).contains(p)));
}

#[test]
fn a_run_reports_progress_means_and_an_export_the_page_loads() {
    let _generator = generator();
    let run = training::run();
    assert_eq!(run.progress().total_steps, 4);
    assert_eq!(
        block_on(run.steps(10)).expect("steps").len(),
        4,
        "the run ends"
    );
    assert!(block_on(run.steps(1)).expect("no more").is_empty());
    let (points, labels) = block_on(run.subset_means()).expect("means");
    assert_eq!((points.len(), labels.len()), (40, 20));
    assert!(points.iter().all(|v| v.is_finite()));
    let vae_web::training::Exported {
        card,
        weights,
        means,
    } = block_on(run.export(1.5, "test")).expect("export");
    assert_eq!(means, points, "the export's means are the run's");
    let session = vae_web::Session::load(&card, &weights).expect("the page loads the export");
    assert_eq!(session.card().architecture.hidden, vec![32]);
    let card = vae::ModelCard::from_json(&card).expect("a card");
    assert_eq!(card.dataset.test_images, 20);
    assert!(card.metrics.neg_elbo.is_finite() && card.metrics.neg_elbo > 0.0);
    assert!((0.0..=1.0).contains(&card.metrics.knn5_acc));
}

#[test]
fn bad_settings_and_data_are_refused_with_what_is_wrong() {
    let _generator = generator();
    let json = |s: &TrainSettings| serde_json::to_string(s).expect("json");
    for (bad, says) in [
        (
            TrainSettings {
                beta: 5.0,
                ..TrainSettings::default()
            },
            "β = 5",
        ),
        (
            TrainSettings {
                hidden: vec![],
                ..TrainSettings::default()
            },
            "0 hidden layers",
        ),
        (
            TrainSettings {
                hidden: vec![4096],
                ..TrainSettings::default()
            },
            "4096 units",
        ),
        (
            TrainSettings {
                lr: 0.5,
                ..TrainSettings::default()
            },
            "learning rate 0.5",
        ),
        (
            TrainSettings {
                batch: 0,
                ..TrainSettings::default()
            },
            "batch of 0",
        ),
        (
            TrainSettings {
                epochs: 0,
                ..TrainSettings::default()
            },
            "0 epochs",
        ),
    ] {
        let err = TrainSettings::from_json(&json(&bad)).expect_err(says);
        assert_eq!(err.kind, ErrorKind::BadInput);
        assert!(err.message.contains(says), "{} lacks {says}", err.message);
    }
    assert!(TrainSettings::from_json("{\"hidden\": [64], \"extra\": 1}").is_err());
    let too_big = TrainSettings {
        batch: 128,
        ..TrainSettings::default()
    };
    let err = Training::new(
        too_big,
        training::synthetic(),
        training::synthetic(),
        &vae_web::backend::cpu_device(),
    )
    .err()
    .expect("64 images do not fill a batch of 128");
    assert!(
        err.message.contains("fewer than one batch"),
        "{}",
        err.message
    );
}
