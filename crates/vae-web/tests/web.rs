//! The web crate in a real browser (headless Chromium): the shipped model on the CPU backend
//! and on WebGPU (SwiftShader headless) against the trainer's golden values.
//!
//! `wasm-pack test --headless --chrome crates/vae-web --features webgpu` (webdriver.json gives
//! Chromium the WebGPU flags; without the feature only the CPU tests are built).

#![cfg(target_family = "wasm")]

mod common;

#[cfg(feature = "webgpu")]
use common::WEBGPU_TOLERANCE;
use common::{CARD, CPU_TOLERANCE, WEIGHTS, check_against_golden};
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

/// Three training steps on WebGPU give the CPU's losses and decoded pixels from the same initial
/// weights and noise (1e-3 relative on each loss, [`WEBGPU_TOLERANCE`] on each pixel: float
/// rounding in other kernels, not another computation).
#[cfg(all(feature = "webgpu", feature = "train"))]
#[wasm_bindgen_test]
async fn training_steps_on_webgpu_match_the_cpu() {
    use common::training::{initial_weights, steps_from};
    let (gpu, _) = init_webgpu().await.expect("a WebGPU adapter");
    let initial = initial_weights();
    let cpu = vae_web::backend::cpu_device();
    let (cpu_losses, cpu_decoded) = steps_from(&initial, &cpu).await;
    let (gpu_losses, gpu_decoded) = steps_from(&initial, &gpu).await;
    assert_eq!(cpu_losses.len(), gpu_losses.len());
    for (c, g) in cpu_losses.iter().zip(&gpu_losses) {
        assert!(
            (c - g).abs() <= 1e-3 * c.abs(),
            "loss {c} (CPU) vs {g} (WebGPU)"
        );
    }
    assert!(
        gpu_losses[gpu_losses.len() - 1] < gpu_losses[0],
        "the loss must fall: {gpu_losses:?}"
    );
    common::assert_close(
        "decoded after training",
        &gpu_decoded,
        &cpu_decoded,
        WEBGPU_TOLERANCE,
    );
}

/// A run on WebGPU as the page drives it: 40 steps in chunks (the page's worker runs chunks
/// too; here each one is short, as the test shares the page's main thread with the runner), the
/// scatter's means, and an export (the weights read back asynchronously) that the page loads
/// and that encodes as the run does.
#[cfg(all(feature = "webgpu", feature = "train"))]
#[wasm_bindgen_test]
async fn a_run_on_webgpu_trains_and_exports_a_model_the_page_loads() {
    use vae_web::training::{TrainSettings, Training};
    let (gpu, _) = init_webgpu().await.expect("a WebGPU adapter");
    let settings = TrainSettings {
        epochs: 10,
        ..common::training::settings()
    };
    let data = common::training::synthetic();
    let run = Training::new(settings, data.clone(), data.first(20), &gpu).expect("a run");
    assert_eq!(run.progress().total_steps, 40);
    let mut losses = Vec::new();
    loop {
        let reports = run.steps(4).await.expect("steps on WebGPU");
        if reports.is_empty() {
            break;
        }
        losses.extend(reports.iter().map(|r| r.loss));
    }
    assert_eq!(losses.len(), 40);
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
    let (first, last) = (
        losses[..5].iter().sum::<f32>(),
        losses[35..].iter().sum::<f32>(),
    );
    assert!(
        last < 0.8 * first,
        "the loss must fall: {first} → {last} (five steps each)"
    );
    let (points, labels) = run.subset_means().await.expect("means on WebGPU");
    assert_eq!((points.len(), labels.len()), (40, 20));
    let exported = run.export(2.0, "wgpu (test)").await.expect("an export");
    let session = Session::load(&exported.card, &exported.weights).expect("the page loads it");
    common::assert_close(
        "the export's means",
        &exported.means,
        &points,
        WEBGPU_TOLERANCE,
    );
    let first_image: Vec<f32> = data.gather(0..1);
    let encoded = session.encode_image(&first_image).await.expect("encode");
    common::assert_close(
        "the loaded export's μ of the first image",
        &encoded.encoding.mean,
        &points[..2],
        WEBGPU_TOLERANCE,
    );
}
