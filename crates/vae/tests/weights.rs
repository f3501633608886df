//! Weights round trips: what is exported loads back into the same outputs; anything else is
//! an error, never a panic.

use burn::prelude::*;
use vae::weights::{self, Storage, WeightsError};
use vae::{Activation, Vae, VaeConfig};

fn config() -> VaeConfig {
    VaeConfig {
        latent: 2,
        hidden: vec![64, 32],
        decoder_hidden: None,
        activation: Activation::Silu,
    }
}

fn probe_outputs(model: &Vae, d: &Device) -> (Vec<f32>, Vec<f32>) {
    let images = Tensor::<2>::from_data(
        TensorData::new(
            (0..2 * vae::IMAGE_PIXELS)
                .map(|i| (i % 17) as f32 / 17.0)
                .collect::<Vec<f32>>(),
            [2, vae::IMAGE_PIXELS],
        ),
        d,
    );
    let mean = model.encode(images).mean;
    let decoded = model.decode(Tensor::from_floats([[0.5, -1.0], [2.0, 0.25]], d));
    (
        mean.into_data().try_into_vec::<f32>().expect("f32"),
        decoded.into_data().try_into_vec::<f32>().expect("f32"),
    )
}

#[test]
fn f32_export_loads_into_identical_outputs() {
    let d = Device::flex();
    let model = Vae::new(&config(), &d);
    let bytes = weights::to_bytes(&model, Storage::F32).expect("export");
    let loaded = weights::from_bytes(&config(), Storage::F32, &bytes, &d).expect("load");
    assert_eq!(probe_outputs(&model, &d), probe_outputs(&loaded, &d));
}

#[test]
fn f16_export_is_half_the_size_and_close() {
    let d = Device::flex();
    let model = Vae::new(&config(), &d);
    let full = weights::to_bytes(&model, Storage::F32).expect("export");
    let half = weights::to_bytes(&model, Storage::F16).expect("export");
    assert!(
        half.len() * 10 < full.len() * 6,
        "{} vs {} bytes",
        half.len(),
        full.len()
    );
    let loaded = weights::from_bytes(&config(), Storage::F16, &half, &d).expect("load");
    let (a, b) = (probe_outputs(&model, &d), probe_outputs(&loaded, &d));
    for (x, y) in a.0.iter().zip(&b.0).chain(a.1.iter().zip(&b.1)) {
        assert!((x - y).abs() < 1e-2, "{x} vs {y}");
    }
}

#[test]
fn q8_export_is_a_third_of_the_size_and_close() {
    let d = Device::flex();
    let model = Vae::new(&config(), &d);
    let full = weights::to_bytes(&model, Storage::F32).expect("export");
    let q8 = weights::to_bytes(&model, Storage::Q8).expect("export");
    assert!(
        q8.len() * 3 < full.len(),
        "{} vs {} bytes",
        q8.len(),
        full.len()
    );
    let loaded = weights::from_bytes(&config(), Storage::Q8, &q8, &d).expect("load");
    let (a, b) = (probe_outputs(&model, &d), probe_outputs(&loaded, &d));
    for (x, y) in a.0.iter().zip(&b.0).chain(a.1.iter().zip(&b.1)) {
        assert!((x - y).abs() < 3e-2, "{x} vs {y}");
    }
    // 8-bit bytes are not f32 or f16 bytes, and the other way round: an error, not a panic.
    assert!(weights::from_bytes(&config(), Storage::F32, &q8, &d).is_err());
    assert!(weights::from_bytes(&config(), Storage::Q8, &full, &d).is_err());
}

#[test]
fn quantising_a_column_keeps_its_largest_value_and_sign() {
    // 2 × 3, row-major: columns (1, −4), (0, 0), (0.5, 0.25).
    let (q, scales) = weights::quantise_columns(&[1.0, 0.0, 0.5, -4.0, 0.0, 0.25], 3, 8);
    // The scales as the file stores them: f16.
    let f16 = |v: f32| burn::tensor::f16::from_f32(v).to_f32();
    assert_eq!(scales, vec![f16(4.0 / 127.0), 1.0, f16(0.5 / 127.0)]);
    assert_eq!(q, vec![32, 0, 127, -127, 0, 64]);
}

#[test]
fn fewer_bits_use_fewer_levels_and_the_same_layout() {
    // 4 bits: q ∈ ±7. Column (1, −4) → scale 4/7: 1 → 1.75 → 2; column (0.5, 0.25) → 7, 3.5 → 4.
    let (q, scales) = weights::quantise_columns(&[1.0, 0.0, 0.5, -4.0, 0.0, 0.25], 3, 4);
    let f16 = |v: f32| burn::tensor::f16::from_f32(v).to_f32();
    assert_eq!(scales, vec![f16(4.0 / 7.0), 1.0, f16(0.5 / 7.0)]);
    assert_eq!(q, vec![2, 0, 7, -7, 0, 4]);
    // A width outside 2–8 is clamped, never an overflow.
    let (q, _) = weights::quantise_columns(&[1.0, -1.0], 1, 12);
    assert_eq!(q, vec![127, -127]);
    let (q, _) = weights::quantise_columns(&[1.0, -1.0], 1, 0);
    assert_eq!(q, vec![1, -1]);
}

#[test]
fn a_model_in_fewer_bits_loads_and_stays_close() {
    let d = Device::flex();
    let model = Vae::new(&config(), &d);
    let names = weights::q8_matrices(&model);
    let reload = |bits: u8| {
        let plan = names
            .iter()
            .map(|n| (n.clone(), weights::Precision::Bits(bits)))
            .collect();
        let bytes = weights::to_q8_bytes(&model, &plan).expect("export");
        let loaded = weights::from_bytes(&config(), Storage::Q8, &bytes, &d).expect("loads");
        let ((mu, image), (mu_q, image_q)) =
            (probe_outputs(&model, &d), probe_outputs(&loaded, &d));
        mu.iter()
            .chain(&image)
            .zip(mu_q.iter().chain(&image_q))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max)
    };
    let (e8, e4) = (reload(8), reload(4));
    assert!(e8 < e4, "8 bits ({e8}) are closer than 4 ({e4})");
    assert!(e4 > 0.0 && e8 < 0.05, "8 bits: {e8}, 4 bits: {e4}");
}

#[test]
fn weights_of_another_architecture_are_rejected() {
    let d = Device::flex();
    let bytes = weights::to_bytes(&Vae::new(&config(), &d), Storage::F32).expect("export");
    let other = VaeConfig {
        hidden: vec![64, 16],
        decoder_hidden: None,
        ..config()
    };
    let err = weights::from_bytes(&other, Storage::F32, &bytes, &d).expect_err("must fail");
    assert!(matches!(err, WeightsError::Mismatch(_)), "{err}");
    let deeper = VaeConfig {
        hidden: vec![64, 32, 16],
        decoder_hidden: None,
        ..config()
    };
    let err = weights::from_bytes(&deeper, Storage::F32, &bytes, &d).expect_err("must fail");
    assert!(matches!(err, WeightsError::Mismatch(_)), "{err}");
}

#[test]
fn corrupt_bytes_are_an_error_not_a_panic() {
    let d = Device::flex();
    let bytes = weights::to_bytes(&Vae::new(&config(), &d), Storage::F32).expect("export");
    for bad in [
        Vec::new(),
        b"not a burnpack file at all".to_vec(),
        bytes[..bytes.len() / 2].to_vec(),
        bytes[..40].to_vec(),
    ] {
        let result = std::panic::catch_unwind(|| {
            weights::from_bytes(&config(), Storage::F32, &bad, &Device::flex()).map(|_| ())
        });
        match result {
            Ok(Err(_)) => {}
            Ok(Ok(())) => panic!("{} corrupt bytes loaded", bad.len()),
            Err(_) => panic!("{} corrupt bytes panicked", bad.len()),
        }
    }
}

#[test]
fn invalid_architecture_is_an_error() {
    let bad = VaeConfig {
        latent: 0,
        ..config()
    };
    let err = weights::from_bytes(&bad, Storage::F32, &[], &Device::flex()).expect_err("must fail");
    assert!(matches!(err, WeightsError::Config(_)), "{err}");
}

#[test]
fn a_decoder_of_its_own_layout_round_trips_and_counts_its_parameters() {
    let d = Device::flex();
    let config = VaeConfig {
        hidden: vec![64],
        decoder_hidden: Some(vec![16, 48, 96]),
        ..config()
    };
    let model = Vae::new(&config, &d);
    assert_eq!(config.parameters(), model.num_params());
    let bytes = weights::to_bytes(&model, Storage::F32).expect("export");
    let loaded = weights::from_bytes(&config, Storage::F32, &bytes, &d).expect("load");
    assert_eq!(loaded.num_params(), model.num_params());
    // The mirrored layout of the same encoder is another architecture.
    let mirrored = VaeConfig {
        decoder_hidden: None,
        ..config.clone()
    };
    let err = weights::from_bytes(&mirrored, Storage::F32, &bytes, &d).expect_err("must fail");
    assert!(matches!(err, WeightsError::Mismatch(_)), "{err}");
}

#[test]
fn the_default_architecture_has_the_documented_parameter_count() {
    let config = VaeConfig::default();
    assert_eq!(
        config.parameters(),
        Vae::new(&config, &Device::flex()).num_params()
    );
    assert_eq!(config.parameters(), 1_068_820);
}
