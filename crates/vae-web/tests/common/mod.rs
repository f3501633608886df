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
    use burn::prelude::*;
    use vae::IMAGE_PIXELS;
    use vae::rng::Rng;
    use vae::split::Split;
    use vae::train::TrainLoop;
    use vae::train::step::gradients;
    use vae::weights::{self, Storage};
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

    /// The case's settings.
    pub fn settings() -> TrainSettings {
        TrainSettings {
            hidden: vec![32],
            beta: 1.0,
            lr: 1e-2,
            batch: 16,
            seed: 3,
            epochs: 1,
        }
    }

    /// The case's run on `device`.
    pub fn run_on(device: &Device) -> Training {
        Training::new(settings(), synthetic(), synthetic().first(20), device)
            .expect("the case's settings are valid")
    }

    /// The case's run on the CPU device.
    pub fn run() -> Training {
        run_on(&vae_web::backend::cpu_device())
    }

    /// A tensor's values, read asynchronously (as WebGPU requires).
    pub async fn read<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
        tensor
            .into_data_async()
            .await
            .expect("read back")
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 values")
    }

    /// The initial weights of the backend comparison (f32 bytes), drawn on the CPU.
    pub fn initial_weights() -> Vec<u8> {
        let cpu = vae_web::backend::cpu_device();
        cpu.seed(2);
        let config = settings().hyper().expect("valid").architecture;
        weights::to_bytes(&vae::Vae::new(&config, &cpu), Storage::F32).expect("bytes")
    }

    /// [`STEPS`] steps of the case on `device` from the weights `initial`, the noise ε drawn
    /// on the host: the same computation on every backend (neither the initial weights nor ε
    /// come from the device's generator). The losses, and the decoding of two latent points
    /// afterwards.
    pub async fn steps_from(initial: &[u8], device: &Device) -> (Vec<f32>, Vec<f32>) {
        let hyper = settings().hyper().expect("valid");
        let ad = device.clone().autodiff();
        let model = weights::from_bytes(&hyper.architecture, Storage::F32, initial, &ad)
            .expect("the initial weights load");
        let data = synthetic();
        let optim = hyper.optimizer();
        let mut run = TrainLoop::resume(hyper.clone(), data.len(), model, optim, None, 0, &ad)
            .expect("a run");
        let mut losses = Vec::new();
        for step in 0..STEPS {
            let mut rng = Rng::new(5, step as u64);
            let eps: Vec<f32> = (0..hyper.batch * 2).map(|_| rng.normal()).collect();
            let eps = Tensor::<2>::from_data(TensorData::new(eps, [hyper.batch, 2]), &ad);
            let figures = run.step_with(&data, |model, hyper, b| {
                gradients(model, hyper, b.x, eps, b.kl_weight, hyper.batch)
            });
            losses.extend(read(figures.loss).await);
        }
        let z = Tensor::<2>::from_floats([[0.3, -0.7], [1.0, 0.5]], device);
        (losses, read(run.current().decode(z)).await)
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
