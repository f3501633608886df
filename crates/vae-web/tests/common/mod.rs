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
