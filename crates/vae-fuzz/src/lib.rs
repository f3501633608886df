//! The checks behind the fuzz targets (`fuzz/`, cargo-fuzz on nightly) and behind their short,
//! seeded run in the test command (`tests/short_run.rs`, stable): each takes arbitrary bytes,
//! hands them to one parser of outside input, and checks what it gives back. A panic, a hang or
//! an unbounded allocation is a bug; an error is the expected answer to bad bytes.
//!
//! Targets: [`idx_images`], [`idx_labels`], [`card`], [`weights`], [`latents`], [`preprocess`].

// Safe code only: the workspace denies `unsafe`, and only vae's gemm call allows it.
#![forbid(unsafe_code)]

use burn::prelude::Device;
use vae::weights::Storage;
use vae::{Activation, IMAGE_PIXELS, ModelCard, VaeConfig};

/// The names of the targets, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`.
pub const TARGETS: [&str; 6] = [
    "idx_images",
    "idx_labels",
    "card",
    "weights",
    "latents",
    "preprocess",
];

/// Runs the target called `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "idx_images" => idx_images(data),
        "idx_labels" => idx_labels(data),
        "card" => card(data),
        "weights" => weights(data),
        "latents" => latents(data),
        "preprocess" => preprocess(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// An IDX image file: parsed, it holds whole 28×28 images.
pub fn idx_images(data: &[u8]) {
    if let Ok(pixels) = vae::idx::parse_images(data) {
        assert_eq!(pixels.len() % IMAGE_PIXELS, 0);
        assert_eq!(pixels.len() + 16, data.len());
    }
}

/// An IDX label file: parsed, every label is a digit.
pub fn idx_labels(data: &[u8]) {
    if let Ok(labels) = vae::idx::parse_labels(data) {
        assert!(labels.iter().all(|&l| l <= 9));
        assert_eq!(labels.len() + 8, data.len());
    }
}

/// A model card (any bytes, as text): parsed, it round-trips through its own JSON, and checking
/// weights against it never panics.
pub fn card(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(card) = ModelCard::from_json(&text) {
        let again = ModelCard::from_json(&card.to_json()).expect("a card's own JSON parses");
        assert_eq!(again.to_json(), card.to_json());
        let _ = card.check_weights(data);
    }
}

/// The small architecture weights are fuzzed against (the shipped one costs a second a run).
pub fn small_architecture() -> VaeConfig {
    VaeConfig {
        latent: 2,
        hidden: vec![8],
        decoder_hidden: None,
        activation: Activation::Silu,
    }
}

/// A weights file, read as each storage: an error or a model, never a panic.
pub fn weights(data: &[u8]) {
    let device = Device::flex();
    for storage in [Storage::F32, Storage::F16, Storage::Q8] {
        let _ = vae::weights::from_bytes(&small_architecture(), storage, data, &device);
    }
}

/// A test-latents file: parsed, it has a label (a digit) per point and round-trips.
pub fn latents(data: &[u8]) {
    if let Ok(l) = vae::latents::Latents::from_bytes(data) {
        assert_eq!(l.points.len(), l.count() * l.dims);
        assert!(l.labels.iter().all(|&d| d <= 9));
        assert!(l.points.iter().all(|v| v.is_finite()));
        let again = vae::latents::Latents::from_bytes(&l.to_bytes()).expect("round trip");
        assert_eq!(again.count(), l.count());
    }
}

/// A drawing: the first four bytes give its width and height (each below 1024), the rest is
/// RGBA of any length. Preprocessed, it is a 28×28 image in [0, 1].
pub fn preprocess(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let width = usize::from(u16::from_le_bytes([data[0], data[1]]) % 1024);
    let height = usize::from(u16::from_le_bytes([data[2], data[3]]) % 1024);
    if let Ok(image) = vae::preprocess::preprocess_rgba(&data[4..], width, height) {
        assert_eq!(image.len(), IMAGE_PIXELS);
        assert!(image.iter().all(|v| (0.0..=1.0).contains(v)), "{image:?}");
    }
}
