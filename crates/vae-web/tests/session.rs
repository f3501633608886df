//! The web crate's logic, natively (burn-flex): the same code the browser runs on its CPU
//! backend. (In the browser, `tests/web.rs` runs.)

#![cfg(not(target_family = "wasm"))]

mod common;

use common::{CARD, CPU_TOLERANCE, WEIGHTS, check_against_golden};
use pollster::block_on;
use vae_web::backend::GpuState;
use vae_web::{BackendKind, ErrorKind, Session, WebError};

fn session() -> Session {
    Session::load(CARD, WEIGHTS).expect("the shipped model loads")
}

#[test]
fn matches_the_trainers_golden_values() {
    block_on(check_against_golden(&session(), CPU_TOLERANCE));
}

#[test]
fn starts_on_the_cpu_and_refuses_webgpu_it_does_not_have() {
    let s = session();
    assert_eq!(s.backend(), BackendKind::Cpu);
    let err = s
        .set_backend(BackendKind::WebGpu)
        .expect_err("no WebGPU here");
    assert!(err.message.contains("WebGPU is not available"), "{err}");
    assert_eq!(err.kind, ErrorKind::WebGpuUnavailable);
    assert_eq!(s.backend(), BackendKind::Cpu);
    assert_eq!(s.gpu_state(), GpuState::NotAttached);
}

#[test]
fn webgpu_state_says_why_it_is_not_used() {
    let s = session();
    s.gpu_failed(WebError::new(
        ErrorKind::WebGpuUnavailable,
        "the browser offers no WebGPU adapter",
    ));
    assert_eq!(s.gpu_state(), GpuState::Unavailable);
    assert_eq!(s.gpu_reason(), "the browser offers no WebGPU adapter");
    let err = s.set_backend(BackendKind::WebGpu).expect_err("unavailable");
    assert_eq!(err.message, "the browser offers no WebGPU adapter");
    s.disable_gpu();
    assert_eq!(s.gpu_state(), GpuState::Lost);
    assert!(s.gpu_reason().contains("lost"), "{}", s.gpu_reason());
    assert_eq!(s.backend(), BackendKind::Cpu);
}

#[test]
fn decoding_on_a_missing_backend_is_an_error() {
    let s = session();
    let err = block_on(s.decode_batch_on(BackendKind::WebGpu, &[0.0, 0.0])).expect_err("no GPU");
    assert!(err.message.contains("WebGPU is not available"), "{err}");
    let cpu = block_on(s.decode_batch_on(BackendKind::Cpu, &[0.0, 0.0])).expect("CPU");
    assert_eq!(cpu, block_on(s.decode(0.0, 0.0)).expect("decode"));
}

#[test]
fn drawing_is_preprocessed_then_encoded() {
    // A white vertical bar on black: a "1".
    let (w, h) = (140usize, 140usize);
    let mut rgba = vec![0u8; w * h * 4];
    for y in 20..120 {
        for x in 64..76 {
            rgba[(y * w + x) * 4..(y * w + x) * 4 + 4].copy_from_slice(&[255, 255, 255, 255]);
        }
    }
    for p in rgba.chunks_exact_mut(4) {
        p[3] = 255;
    }
    let e = block_on(session().encode_drawing(&rgba, w, h)).expect("encode");
    assert_eq!(e.input.len(), 784);
    assert_eq!(e.encoding.reconstruction.len(), 784);
    assert_eq!(e.encoding.mean.len(), 2);
    let std = &e.encoding.std;
    assert!(std.iter().all(|s| *s > 0.0 && *s < 1.0), "{std:?}");
    // The reconstruction of a bar is bar-like: correlated with the input.
    let corr = correlation(&e.input, &e.encoding.reconstruction);
    assert!(corr > 0.5, "correlation {corr}");
}

#[test]
fn blank_drawing_is_an_error() {
    let err = block_on(session().encode_drawing(&[0; 40 * 40 * 4], 40, 40)).expect_err("blank");
    assert_eq!(err.message, "nothing is drawn yet");
    assert_eq!(err.kind, ErrorKind::BadInput);
}

#[test]
fn bad_decode_input_is_an_error() {
    let s = session();
    assert!(block_on(s.decode_batch(&[1.0, 2.0, 3.0])).is_err());
    assert!(block_on(s.decode_batch(&[])).is_err());
    let err = block_on(s.decode_batch(&[f32::NAN, 0.0])).expect_err("NaN");
    assert!(err.message.contains("non-finite"), "{err}");
    assert_eq!(err.kind, ErrorKind::BadInput);
    assert!(block_on(s.encode_image(&[0.5; 10])).is_err());
    let too_many = vec![0.0; 2 * (vae_web::session::MAX_DECODE_POINTS + 1)];
    let err = block_on(s.decode_batch(&too_many)).expect_err("too many points");
    assert!(err.message.contains("at most 4096 points"), "{err}");
}

#[test]
fn corrupt_weights_are_an_error() {
    let mut bad = WEIGHTS.to_vec();
    for b in &mut bad[..64] {
        *b ^= 0xA5;
    }
    let err = Session::load(CARD, &bad)
        .err()
        .expect("corrupt weights rejected");
    assert!(err.message.contains("weights.bpk"), "{err}");
    assert_eq!(err.kind, ErrorKind::BadModel);
    let err = Session::load(CARD, &WEIGHTS[..WEIGHTS.len() - 1])
        .err()
        .expect("short");
    assert!(err.message.contains("bytes"), "{err}");
    // One flipped bit in the middle of a tensor: only the checksum can tell.
    let mut flipped = WEIGHTS.to_vec();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    let err = Session::load(CARD, &flipped)
        .err()
        .expect("bit flip rejected");
    assert!(err.message.contains("checksum"), "{err}");
}

#[test]
fn corrupt_card_is_an_error() {
    let err = Session::load("{\"format\": 1", WEIGHTS)
        .err()
        .expect("bad JSON");
    assert!(err.message.starts_with("reading card.json"), "{err}");
    let other = CARD.replace("\"latent\": 2", "\"latent\": 3");
    let err = Session::load(&other, WEIGHTS).err().expect("3-D latent");
    assert!(err.message.contains("2-D latent plane"), "{err}");
}

fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len() as f32;
    let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
    let cov: f32 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f32 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f32 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}
