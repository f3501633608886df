//! Mild random affine distortions of training images: MNIST's test digits come from writers
//! the training set never saw, and slightly rotated, sheared, scaled and shifted copies of the
//! training digits stand in for new writers (Simard et al., 2003). Each distortion is about the
//! digit's centre of mass, which MNIST centres, so distorted digits stay centred as the test
//! digits are.

use crate::IMAGE_PIXELS;
use crate::rng::Rng;

const SIDE: usize = 28;

/// Largest distortions at strength 1.
const MAX_ROTATION_DEG: f64 = 10.0;
const MAX_SCALE: f64 = 0.10;
const MAX_SHEAR: f64 = 0.15;
const MAX_SHIFT_PX: f64 = 1.0;

/// Centre of mass of an image's ink, in pixel coordinates (pixel centres at i + 0.5); the
/// image centre for a blank image.
fn centre_of_mass(image: &[f32]) -> (f64, f64) {
    let (mut total, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &v) in image.iter().enumerate() {
        let v = f64::from(v);
        total += v;
        sx += v * ((i % SIDE) as f64 + 0.5);
        sy += v * ((i / SIDE) as f64 + 0.5);
    }
    if total <= 0.0 {
        (SIDE as f64 / 2.0, SIDE as f64 / 2.0)
    } else {
        (sx / total, sy / total)
    }
}

/// Bilinear sample of `image` at (x, y) in pixel coordinates; 0 outside.
fn sample(image: &[f32], x: f64, y: f64) -> f32 {
    let (fx, fy) = (x - 0.5, y - 0.5);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (ax, ay) = ((fx - x0) as f32, (fy - y0) as f32);
    let at = |col: f64, row: f64| -> f32 {
        if col < 0.0 || row < 0.0 || col >= SIDE as f64 || row >= SIDE as f64 {
            0.0
        } else {
            image[row as usize * SIDE + col as usize]
        }
    };
    let top = at(x0, y0) * (1.0 - ax) + at(x0 + 1.0, y0) * ax;
    let bottom = at(x0, y0 + 1.0) * (1.0 - ax) + at(x0 + 1.0, y0 + 1.0) * ax;
    top * (1.0 - ay) + bottom * ay
}

/// A randomly distorted copy of a 28×28 image in [0, 1]: rotation, anisotropic scale and shear
/// about the centre of mass, then a shift, each uniform up to `strength` times its maximum.
/// Strength 0 returns the image unchanged.
pub fn distort(image: &[f32], strength: f64, rng: &mut Rng) -> Vec<f32> {
    debug_assert_eq!(image.len(), IMAGE_PIXELS);
    if strength <= 0.0 {
        return image.to_vec();
    }
    let mut draw = |max: f64| (2.0 * rng.uniform() - 1.0) * max * strength;
    let angle = draw(MAX_ROTATION_DEG).to_radians();
    let (sx, sy) = (1.0 + draw(MAX_SCALE), 1.0 + draw(MAX_SCALE));
    let shear = draw(MAX_SHEAR);
    let (tx, ty) = (draw(MAX_SHIFT_PX), draw(MAX_SHIFT_PX));
    // Forward map A = R · Sh · S; each output pixel reads the source at A⁻¹ (p − c − t) + c.
    let (c, s) = (angle.cos(), angle.sin());
    let a = [
        [c * sx, (c * shear - s) * sy],
        [s * sx, (s * shear + c) * sy],
    ];
    let det = a[0][0] * a[1][1] - a[0][1] * a[1][0];
    let inv = [
        [a[1][1] / det, -a[0][1] / det],
        [-a[1][0] / det, a[0][0] / det],
    ];
    let (cx, cy) = centre_of_mass(image);
    let mut out = Vec::with_capacity(IMAGE_PIXELS);
    for row in 0..SIDE {
        for col in 0..SIDE {
            let (px, py) = (col as f64 + 0.5 - cx - tx, row as f64 + 0.5 - cy - ty);
            let x = inv[0][0] * px + inv[0][1] * py + cx;
            let y = inv[1][0] * px + inv[1][1] * py + cy;
            out.push(sample(image, x, y).clamp(0.0, 1.0));
        }
    }
    out
}

/// Distorts every image of a row-major batch in place.
pub fn distort_batch(batch: &mut [f32], strength: f64, rng: &mut Rng) {
    for image in batch.chunks_exact_mut(IMAGE_PIXELS) {
        let distorted = distort(image, strength, rng);
        image.copy_from_slice(&distorted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bar 4 px wide and 16 px tall, centred.
    fn bar() -> Vec<f32> {
        (0..IMAGE_PIXELS)
            .map(|i| {
                let (row, col) = (i / SIDE, i % SIDE);
                if (12..16).contains(&col) && (6..22).contains(&row) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect()
    }

    #[test]
    fn strength_zero_is_the_identity() {
        let image = bar();
        assert_eq!(distort(&image, 0.0, &mut Rng::new(1, 0)), image);
    }

    #[test]
    fn distortions_change_the_image_but_keep_it_centred_and_its_ink() {
        let image = bar();
        let ink: f32 = image.iter().sum();
        let (cx, cy) = centre_of_mass(&image);
        let mut rng = Rng::new(3, 0);
        for _ in 0..50 {
            let out = distort(&image, 1.0, &mut rng);
            assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
            assert_ne!(out, image);
            let out_ink: f32 = out.iter().sum();
            // Scale changes the area by at most (1.1)² or (0.9)².
            assert!((out_ink / ink - 1.0).abs() < 0.3, "ink {ink} → {out_ink}");
            let (ox, oy) = centre_of_mass(&out);
            assert!(
                (ox - cx).abs() < 1.3 && (oy - cy).abs() < 1.3,
                "centre moved to {ox}, {oy}"
            );
        }
    }

    #[test]
    fn same_seed_same_distortion() {
        let image = bar();
        let a = distort(&image, 1.0, &mut Rng::new(9, 4));
        let b = distort(&image, 1.0, &mut Rng::new(9, 4));
        assert_eq!(a, b);
    }
}
