//! Turning a drawing into the 28×28 image the model expects, the way MNIST was made: the ink's
//! bounding box is scaled to fit a 20×20 box keeping its aspect ratio (with area averaging, so
//! edges are anti-aliased), then placed in the 28×28 frame so that its centre of mass sits at
//! the centre. White ink on black, intensities in [0, 1] as the training data.

use crate::{IMAGE_PIXELS, IMAGE_SIDE};

/// Side of the box the ink is scaled into.
pub const INK_BOX: usize = 20;
/// Ink below this intensity does not count for the bounding box (anti-aliasing fringes).
const INK_THRESHOLD: f32 = 0.05;

/// Why a drawing could not be preprocessed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PreprocessError {
    /// Width or height is zero.
    #[error("the drawing is empty: {width}x{height} pixels")]
    NoPixels {
        /// Width given.
        width: usize,
        /// Height given.
        height: usize,
    },
    /// The buffer's length does not match the size.
    #[error("a {width}x{height} drawing needs {expected} values, got {found}")]
    Length {
        /// Width given.
        width: usize,
        /// Height given.
        height: usize,
        /// Values expected.
        expected: usize,
        /// Values found.
        found: usize,
    },
    /// Nothing is drawn.
    #[error("nothing is drawn yet")]
    NoInk,
}

/// Ink intensity of RGBA pixels drawn white-on-black: luminance × alpha, in [0, 1].
pub fn ink_from_rgba(
    rgba: &[u8],
    width: usize,
    height: usize,
) -> Result<Vec<f32>, PreprocessError> {
    check(rgba.len(), 4, width, height)?;
    Ok(rgba
        .chunks_exact(4)
        .map(|p| {
            let luma = 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
            (luma / 255.0) * (f32::from(p[3]) / 255.0)
        })
        .collect())
}

fn check(len: usize, per_pixel: usize, width: usize, height: usize) -> Result<(), PreprocessError> {
    if width == 0 || height == 0 {
        return Err(PreprocessError::NoPixels { width, height });
    }
    let expected = width * height * per_pixel;
    if len != expected {
        return Err(PreprocessError::Length {
            width,
            height,
            expected,
            found: len,
        });
    }
    Ok(())
}

/// The MNIST-style 28×28 image (row-major, 784 values in [0, 1]) of an RGBA drawing.
pub fn preprocess_rgba(
    rgba: &[u8],
    width: usize,
    height: usize,
) -> Result<Vec<f32>, PreprocessError> {
    preprocess_ink(&ink_from_rgba(rgba, width, height)?, width, height)
}

/// The MNIST-style 28×28 image of an ink map (`width × height` values in [0, 1]).
pub fn preprocess_ink(
    ink: &[f32],
    width: usize,
    height: usize,
) -> Result<Vec<f32>, PreprocessError> {
    check(ink.len(), 1, width, height)?;
    let (x0, y0, x1, y1) = bounding_box(ink, width, height).ok_or(PreprocessError::NoInk)?;
    let (bw, bh) = (x1 - x0, y1 - y0);
    let scale = INK_BOX as f32 / bw.max(bh) as f32;
    let ow = ((bw as f32 * scale).round() as usize).clamp(1, INK_BOX);
    let oh = ((bh as f32 * scale).round() as usize).clamp(1, INK_BOX);
    let small = resample_area(ink, width, (x0, y0, bw, bh), ow, oh);

    // Centre of mass of the scaled ink, pixel centres at i + ½.
    let (mut mass, mut mx, mut my) = (0.0f32, 0.0f32, 0.0f32);
    for (i, &v) in small.iter().enumerate() {
        mass += v;
        mx += v * ((i % ow) as f32 + 0.5);
        my += v * ((i / ow) as f32 + 0.5);
    }
    let (cx, cy) = if mass > 0.0 {
        (mx / mass, my / mass)
    } else {
        (ow as f32 / 2.0, oh as f32 / 2.0)
    };
    let centre = IMAGE_SIDE as f32 / 2.0;
    let left = ((centre - cx).round() as i64).clamp(0, (IMAGE_SIDE - ow) as i64) as usize;
    let top = ((centre - cy).round() as i64).clamp(0, (IMAGE_SIDE - oh) as i64) as usize;

    let mut out = vec![0.0f32; IMAGE_PIXELS];
    for y in 0..oh {
        for x in 0..ow {
            out[(top + y) * IMAGE_SIDE + left + x] = small[y * ow + x].clamp(0.0, 1.0);
        }
    }
    Ok(out)
}

/// Smallest box [x0, x1) × [y0, y1) holding every pixel above the ink threshold.
fn bounding_box(ink: &[f32], width: usize, height: usize) -> Option<(usize, usize, usize, usize)> {
    let (mut x0, mut y0, mut x1, mut y1) = (width, height, 0, 0);
    for y in 0..height {
        for x in 0..width {
            if ink[y * width + x] > INK_THRESHOLD {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x + 1);
                y1 = y1.max(y + 1);
            }
        }
    }
    (x1 > x0).then_some((x0, y0, x1, y1))
}

/// Area-averaging resample of the `bw × bh` box at (bx, by) into `ow × oh`: each output pixel is
/// the mean of the source area it covers, so downscaling anti-aliases.
fn resample_area(
    ink: &[f32],
    width: usize,
    (bx, by, bw, bh): (usize, usize, usize, usize),
    ow: usize,
    oh: usize,
) -> Vec<f32> {
    let sx = bw as f32 / ow as f32;
    let sy = bh as f32 / oh as f32;
    let mut out = vec![0.0f32; ow * oh];
    for oy in 0..oh {
        let (fy0, fy1) = (oy as f32 * sy, (oy + 1) as f32 * sy);
        for ox in 0..ow {
            let (fx0, fx1) = (ox as f32 * sx, (ox + 1) as f32 * sx);
            let (mut sum, mut area) = (0.0f32, 0.0f32);
            for y in fy0.floor() as usize..(fy1.ceil() as usize).min(bh) {
                let wy = (fy1.min(y as f32 + 1.0) - fy0.max(y as f32)).max(0.0);
                for x in fx0.floor() as usize..(fx1.ceil() as usize).min(bw) {
                    let wx = (fx1.min(x as f32 + 1.0) - fx0.max(x as f32)).max(0.0);
                    sum += wx * wy * ink[(by + y) * width + bx + x];
                    area += wx * wy;
                }
            }
            out[oy * ow + ox] = if area > 0.0 { sum / area } else { 0.0 };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w × h` ink map with a filled rectangle.
    fn rect(w: usize, h: usize, (x0, y0, x1, y1): (usize, usize, usize, usize)) -> Vec<f32> {
        let mut ink = vec![0.0; w * h];
        for y in y0..y1 {
            for x in x0..x1 {
                ink[y * w + x] = 1.0;
            }
        }
        ink
    }

    fn ink_box(img: &[f32]) -> (usize, usize, usize, usize) {
        bounding_box(img, IMAGE_SIDE, IMAGE_SIDE).expect("ink")
    }

    fn centre_of_mass(img: &[f32]) -> (f32, f32) {
        let m: f32 = img.iter().sum();
        let cx: f32 = img
            .iter()
            .enumerate()
            .map(|(i, v)| v * ((i % 28) as f32 + 0.5))
            .sum();
        let cy: f32 = img
            .iter()
            .enumerate()
            .map(|(i, v)| v * ((i / 28) as f32 + 0.5))
            .sum();
        (cx / m, cy / m)
    }

    #[test]
    fn tall_stroke_fills_twenty_rows_and_keeps_its_aspect() {
        // A 40×200 bar in the corner of a 280×280 canvas.
        let out = preprocess_ink(&rect(280, 280, (10, 30, 50, 230)), 280, 280).expect("ink");
        let (x0, y0, x1, y1) = ink_box(&out);
        assert_eq!(y1 - y0, INK_BOX);
        assert_eq!(x1 - x0, 4, "40/200 of 20 pixels wide");
    }

    #[test]
    fn ink_is_centred_by_its_centre_of_mass() {
        let out = preprocess_ink(&rect(100, 100, (70, 5, 95, 40)), 100, 100).expect("ink");
        let (cx, cy) = centre_of_mass(&out);
        assert!(
            (cx - 14.0).abs() <= 0.5 && (cy - 14.0).abs() <= 0.5,
            "({cx}, {cy})"
        );
    }

    #[test]
    fn intensities_stay_in_the_unit_interval_and_edges_are_anti_aliased() {
        // 3 source pixels per output pixel, box not a multiple: partial coverage at the edges.
        let out = preprocess_ink(&rect(300, 300, (0, 0, 61, 61)), 300, 300).expect("ink");
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(out.iter().any(|&v| v > 0.99), "a solid core");
        // A thin diagonal line downscaled gives intermediate grey values.
        let mut line = vec![0.0; 200 * 200];
        for i in 0..200 {
            line[i * 200 + i] = 1.0;
        }
        let out = preprocess_ink(&line, 200, 200).expect("ink");
        assert!(out.iter().any(|&v| v > 0.02 && v < 0.5), "grey edge values");
    }

    #[test]
    fn rgba_white_on_black_is_ink() {
        let mut rgba = vec![0u8; 4 * 4 * 4];
        for p in rgba.chunks_exact_mut(4) {
            p[3] = 255; // opaque black
        }
        rgba[4 * 5..4 * 5 + 4].copy_from_slice(&[255, 255, 255, 255]);
        let ink = ink_from_rgba(&rgba, 4, 4).expect("rgba");
        assert_eq!(ink.iter().filter(|&&v| v > 0.99).count(), 1);
        assert!((ink[5] - 1.0).abs() < 1e-3);
        let out = preprocess_rgba(&rgba, 4, 4).expect("one dot");
        assert!(
            (out.iter().sum::<f32>() - 400.0).abs() < 1e-2,
            "a dot becomes the 20×20 box"
        );
    }

    #[test]
    fn blank_drawing_is_an_error() {
        assert_eq!(
            preprocess_ink(&[0.0; 100], 10, 10),
            Err(PreprocessError::NoInk)
        );
    }

    #[test]
    fn wrong_buffer_length_is_an_error() {
        assert!(matches!(
            preprocess_rgba(&[0; 15], 2, 2),
            Err(PreprocessError::Length {
                expected: 16,
                found: 15,
                ..
            })
        ));
        assert!(matches!(
            preprocess_ink(&[], 0, 5),
            Err(PreprocessError::NoPixels { .. })
        ));
    }
}
