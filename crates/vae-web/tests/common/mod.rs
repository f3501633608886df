//! Fixtures shared by the native and the browser tests: the shipped model and the golden
//! values the trainer computed natively (`trainer golden`).

#![allow(dead_code)] // each test binary uses its own part

use vae::golden::Golden;
use vae_web::Session;

/// The shipped model card.
pub const CARD: &str = include_str!("../../../../www/model/card.json");
/// The shipped weights.
pub static WEIGHTS: &[u8] = include_bytes!("../../../../www/model/weights.bpk");
const GOLDEN: &str = include_str!("../fixtures/golden.json");

/// Tolerance against the native values on the CPU backend (same kernels, other SIMD paths).
pub const CPU_TOLERANCE: f32 = 1e-4;
/// Tolerance on WebGPU (other summation order in the shaders).
pub const WEBGPU_TOLERANCE: f32 = 2e-3;

pub fn golden() -> Golden {
    serde_json::from_str(GOLDEN).expect("golden.json parses")
}

/// Largest absolute difference; panics if above `tolerance`.
pub fn assert_close(what: &str, got: &[f32], expected: &[f32], tolerance: f32) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    let worst = got
        .iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst <= tolerance,
        "{what}: max |difference| {worst} > {tolerance}"
    );
}

/// Encodes the golden images and decodes the golden points with `session`'s active backend.
pub async fn check_against_golden(session: &Session, tolerance: f32) {
    let g = golden();
    for image in &g.images {
        let e = session.encode_image(&image.input).await.expect("encode");
        let what = format!("digit {}", image.label);
        assert_close(
            &format!("{what} mean"),
            &e.encoding.mean,
            &image.mean,
            tolerance,
        );
        assert_close(
            &format!("{what} std"),
            &e.encoding.std,
            &image.std,
            tolerance,
        );
        assert_close(
            &format!("{what} reconstruction"),
            &e.encoding.reconstruction,
            &image.reconstruction,
            tolerance,
        );
    }
    let flat: Vec<f32> = g.points.iter().flatten().copied().collect();
    let decoded = session.decode_batch(&flat).await.expect("decode");
    let expected: Vec<f32> = g.decoded.iter().flatten().copied().collect();
    assert_close("decoded points", &decoded, &expected, tolerance);
}

/// A run of three training steps on a small synthetic set (a bar per digit), the same natively
/// and in the browser: the losses the native run gave are `fixtures/training-golden.json`.
#[cfg(feature = "train")]
pub mod training {
    use vae::IMAGE_PIXELS;
    use vae::split::Split;
    use vae_web::training::{TrainSettings, Training};

    /// The native run's three losses.
    pub const GOLDEN: &str = include_str!("../fixtures/training-golden.json");
    /// Steps of the case.
    pub const STEPS: usize = 3;
    /// Relative tolerance on each loss against the native run (the same kernels; the wasm
    /// SIMD paths sum in another order).
    pub const TOLERANCE: f32 = 1e-4;

    /// 64 images: digit d is a vertical bar at column 4 + 2d, brighter on even images.
    pub fn synthetic() -> Split {
        let mut pixels = Vec::with_capacity(64 * IMAGE_PIXELS);
        let mut labels = Vec::with_capacity(64);
        for i in 0..64u8 {
            let d = i % 10;
            let ink = if i % 2 == 0 { 255 } else { 180 };
            pixels.extend((0..IMAGE_PIXELS).map(|p| {
                let (row, col) = (p / 28, p % 28);
                if col == 4 + 2 * usize::from(d) && (4..24).contains(&row) {
                    ink
                } else {
                    0
                }
            }));
            labels.push(d);
        }
        Split::new(pixels, labels).expect("64 images, 64 labels")
    }

    /// The case's run on the CPU device.
    pub fn run() -> Training {
        let settings = TrainSettings {
            hidden: vec![32],
            beta: 1.0,
            lr: 1e-2,
            batch: 16,
            seed: 3,
            epochs: 1,
        };
        Training::new(
            settings,
            synthetic(),
            synthetic().first(20),
            &vae_web::backend::cpu_device(),
        )
        .expect("the case's settings are valid")
    }

    /// The losses of the case's steps.
    pub async fn losses() -> Vec<f32> {
        let run = run();
        let reports = run.steps(STEPS).await.expect("steps run");
        reports.iter().map(|r| r.loss).collect()
    }

    /// The golden losses.
    pub fn golden() -> Vec<f32> {
        serde_json::from_str::<serde_json::Value>(GOLDEN).expect("training-golden.json parses")
            ["losses"]
            .as_array()
            .expect("a list of losses")
            .iter()
            .map(|v| v.as_f64().expect("a number") as f32)
            .collect()
    }

    /// Each loss within [`TOLERANCE`] (relative) of the golden one, and the loss falling.
    pub fn check(losses: &[f32]) {
        let golden = golden();
        assert_eq!(losses.len(), golden.len(), "{losses:?} vs {golden:?}");
        for (got, want) in losses.iter().zip(&golden) {
            assert!(
                (got - want).abs() <= TOLERANCE * want.abs(),
                "loss {got} vs {want} from the native run"
            );
        }
        assert!(
            losses[STEPS - 1] < losses[0],
            "the loss must fall: {losses:?}"
        );
    }
}
