//! Golden values: what the exported model computes natively for fixed inputs, written as a
//! fixture that the wasm tests compare the browser's results with.

use std::path::Path;

use anyhow::{Context, Result};
use burn::prelude::*;
use vae::golden::{Golden, GoldenImage};
use vae::{Encoding, IMAGE_PIXELS, Vae};

use crate::mnist::Split;
use crate::tensors::{matrix, to_vec};

/// Test images in the fixture (the first of digits 0, 3 and 7).
const DIGITS: [u8; 3] = [0, 3, 7];
/// Latent points in the fixture: the origin, the four quadrants, further out.
const POINTS: [[f32; 2]; 5] = [
    [0.0, 0.0],
    [1.0, 1.0],
    [-1.5, 0.5],
    [0.75, -2.0],
    [-2.5, -2.5],
];

/// Computes the golden values of `model` and writes them as JSON to `out`.
pub fn write(model: &Vae, test: &Split, device: &Device, out: &Path) -> Result<()> {
    let mut images = Vec::new();
    for digit in DIGITS {
        let i = test
            .labels
            .iter()
            .position(|&l| l == digit)
            .with_context(|| format!("no test image of digit {digit}"))?;
        let input: Vec<f32> = test.image(i).collect();
        let rows = to_vec(model.encoding_rows(matrix(input.clone(), IMAGE_PIXELS, device)))?;
        let Encoding {
            mean,
            std,
            reconstruction,
        } = Encoding::from_rows(&rows, model.latent())
            .and_then(|mut e| e.pop())
            .context("splitting an encoding")?;
        images.push(GoldenImage {
            label: digit,
            input,
            mean,
            std,
            reconstruction,
        });
    }
    let flat: Vec<f32> = POINTS.iter().flatten().copied().collect();
    let decoded = to_vec(model.decode(matrix(flat, 2, device)))?
        .chunks_exact(IMAGE_PIXELS)
        .map(<[f32]>::to_vec)
        .collect();
    let golden = Golden {
        source: "trainer golden: the exported model on burn-flex, natively".into(),
        images,
        points: POINTS.to_vec(),
        decoded,
    };
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(out, serde_json::to_string(&golden)?)
        .with_context(|| format!("writing {}", out.display()))
}
