//! The web crate in a real browser (headless Chromium): the shipped model on the CPU backend
//! and on WebGPU (SwiftShader headless) against the trainer's golden values.
//!
//! `wasm-pack test --headless --chrome crates/vae-web --features webgpu` (webdriver.json gives
//! Chromium the WebGPU flags; without the feature only the CPU tests are built).

#![cfg(target_family = "wasm")]

mod common;

use common::{CARD, CPU_TOLERANCE, WEBGPU_TOLERANCE, WEIGHTS, check_against_golden};
#[cfg(feature = "webgpu")]
use vae_web::BackendKind;
use vae_web::Session;
#[cfg(feature = "webgpu")]
use vae_web::backend::init_webgpu;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn cpu_backend_matches_the_golden_values() {
    let session = Session::load(CARD, WEIGHTS).expect("the shipped model loads");
    check_against_golden(&session, CPU_TOLERANCE).await;
}

/// No adapter is a failure, not a skip: this test exists to prove WebGPU works.
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn webgpu_backend_matches_the_golden_values() {
    let session = Session::load(CARD, WEIGHTS).expect("the shipped model loads");
    let (device, info) = init_webgpu()
        .await
        .expect("a WebGPU adapter (headless Chromium needs --enable-unsafe-webgpu)");
    session
        .attach_gpu(WEIGHTS, device, info)
        .await
        .expect("weights load on WebGPU");
    session.set_backend(BackendKind::WebGpu).expect("switch");
    assert_eq!(session.backend(), BackendKind::WebGpu);
    check_against_golden(&session, WEBGPU_TOLERANCE).await;
}

#[wasm_bindgen_test]
fn corrupt_weights_are_an_error_not_a_panic() {
    let mut bad = WEIGHTS.to_vec();
    let n = bad.len();
    for b in &mut bad[n / 2..n / 2 + 256] {
        *b = 0xFF;
    }
    assert!(Session::load(CARD, &bad[..n / 3]).is_err());
    assert!(Session::load(CARD, b"garbage").is_err());
}

/// Three training steps of the shared loop in the browser (burn-flex with autodiff in wasm)
/// lower the loss and give the native run's losses.
#[cfg(feature = "train")]
#[wasm_bindgen_test]
async fn training_steps_match_the_native_run() {
    common::training::check(&common::training::losses().await);
}
