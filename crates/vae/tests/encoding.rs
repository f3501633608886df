//! The encoding the page shows (μ, σ, decoding of μ) in one tensor equals the three computed
//! apart, and splits back into them.

use burn::prelude::*;
use vae::{Activation, Encoding, IMAGE_PIXELS, Vae, VaeConfig};

fn vec(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32")
}

#[test]
fn encoding_rows_hold_mean_std_and_reconstruction() {
    let device = Device::flex();
    let model = Vae::new(
        &VaeConfig {
            latent: 2,
            hidden: vec![32],
            decoder_hidden: None,
            activation: Activation::Silu,
        },
        &device,
    );
    let pixels: Vec<f32> = (0..3 * IMAGE_PIXELS)
        .map(|i| (i % 11) as f32 / 11.0)
        .collect();
    let images =
        || Tensor::<2>::from_data(TensorData::new(pixels.clone(), [3, IMAGE_PIXELS]), &device);
    let rows = vec(model.encoding_rows(images()));
    let encodings = Encoding::from_rows(&rows, 2).expect("whole rows");
    assert_eq!(encodings.len(), 3);
    let posterior = model.encode(images());
    let mean = vec(posterior.mean.clone());
    let std = vec(posterior.std());
    let recon = vec(model.decode(posterior.mean));
    for (i, e) in encodings.iter().enumerate() {
        assert_eq!(e.mean, mean[2 * i..2 * i + 2]);
        assert_eq!(e.std, std[2 * i..2 * i + 2]);
        assert_eq!(
            e.reconstruction,
            recon[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]
        );
    }
    assert!(
        Encoding::from_rows(&rows[1..], 2).is_none(),
        "a partial row is refused"
    );
}
