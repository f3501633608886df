//! The golden-values fixture: what the exported model computes natively for fixed inputs. The
//! trainer writes it (`trainer golden`); the web crate's tests compare the browser's results
//! with it. One schema for both sides.

use serde::{Deserialize, Serialize};

/// One encoded test image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoldenImage {
    /// The digit it shows.
    pub label: u8,
    /// Its 784 pixels in [0, 1].
    pub input: Vec<f32>,
    /// μ of q(z|x).
    pub mean: Vec<f32>,
    /// σ of q(z|x).
    pub std: Vec<f32>,
    /// The decoding of μ.
    pub reconstruction: Vec<f32>,
}

/// The fixture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Golden {
    /// How the values were made.
    pub source: String,
    /// Encoded test images.
    pub images: Vec<GoldenImage>,
    /// Latent points.
    pub points: Vec<[f32; 2]>,
    /// The decoding of each point, 784 values each.
    pub decoded: Vec<Vec<f32>>,
}
