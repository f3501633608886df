//! Native latency of the calls the page makes (encode one image, decode one point, decode a
//! 30×30 grid), to set beside the browser's figures (`scripts/bench-web.sh`).

use std::time::Instant;

use anyhow::Result;
use burn::prelude::*;
use serde::Serialize;
use vae::card::Extent;
use vae::{IMAGE_PIXELS, Vae};

use crate::tensors::{matrix, to_vec};

/// Median latencies in milliseconds, read-back included.
#[derive(Serialize)]
pub struct Latency {
    /// Backend.
    pub backend: &'static str,
    /// Repetitions per figure.
    pub runs: usize,
    /// Encode one image (μ, σ and the reconstruction of μ).
    pub encode_ms: f64,
    /// Decode one latent point.
    pub decode_ms: f64,
    /// Decode a 30×30 grid in one batch.
    pub grid_30x30_ms: f64,
}

fn median_ms(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        t.push(start.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(f64::total_cmp);
    Ok(t[runs / 2])
}

/// Measures `model` on `device`.
pub fn measure(
    model: &Vae,
    plane: &Extent,
    device: &Device,
    backend: &'static str,
    runs: usize,
) -> Result<Latency> {
    let mut image = vec![0.0f32; IMAGE_PIXELS];
    for r in 6..22 {
        image[r * 28 + 14] = 1.0;
    }
    let grid = vae::plane::grid_points(plane, 30);
    Ok(Latency {
        backend,
        runs,
        encode_ms: median_ms(runs, || {
            // What the page does: one pass, one read-back.
            to_vec(model.encoding_rows(matrix(image.clone(), IMAGE_PIXELS, device))).map(|_| ())
        })?,
        decode_ms: median_ms(runs, || {
            to_vec(model.decode(matrix(vec![0.5, -0.5], 2, device))).map(|_| ())
        })?,
        grid_30x30_ms: median_ms(runs.div_ceil(4).max(3), || {
            to_vec(model.decode(matrix(grid.clone(), 2, device))).map(|_| ())
        })?,
    })
}
