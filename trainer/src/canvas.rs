//! A minimal RGB raster with discs, rectangles and a 5×7 bitmap font, encoded to PNG: enough
//! for the model's figures without a plotting or font dependency.

use anyhow::{Context, Result};

/// An RGB colour.
pub type Rgb = [u8; 3];

pub use vae::palette::DIGIT_COLOURS;

/// An image being drawn.
pub struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<Rgb>,
}

/// 5×7 glyphs, one `u8` per row (low 5 bits, leftmost pixel in bit 4).
fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        'z' => [0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F],
        ' ' => [0; 7],
        _ => return None,
    })
}

impl Canvas {
    /// A canvas filled with `background`.
    pub fn new(width: usize, height: usize, background: Rgb) -> Self {
        Self {
            width,
            height,
            pixels: vec![background; width * height],
        }
    }

    /// Blends `colour` into pixel (x, y) with opacity `alpha`; outside pixels are ignored.
    pub fn blend(&mut self, x: i64, y: i64, colour: Rgb, alpha: f32) {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return;
        }
        let p = &mut self.pixels[y as usize * self.width + x as usize];
        for (dst, src) in p.iter_mut().zip(colour) {
            *dst = (f32::from(*dst) * (1.0 - alpha) + f32::from(src) * alpha).round() as u8;
        }
    }

    /// A filled rectangle.
    pub fn rect(&mut self, x: i64, y: i64, w: i64, h: i64, colour: Rgb) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.blend(xx, yy, colour, 1.0);
            }
        }
    }

    /// A filled disc centred at (cx, cy), edges anti-aliased.
    pub fn disc(&mut self, cx: f32, cy: f32, radius: f32, colour: Rgb, alpha: f32) {
        let r = radius.ceil() as i64 + 1;
        let (x0, y0) = (cx.floor() as i64, cy.floor() as i64);
        for y in y0 - r..=y0 + r {
            for x in x0 - r..=x0 + r {
                let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
                let coverage = (radius + 0.5 - d).clamp(0.0, 1.0);
                if coverage > 0.0 {
                    self.blend(x, y, colour, alpha * coverage);
                }
            }
        }
    }

    /// Text in the 5×7 font, each font pixel drawn as `scale`×`scale`; unknown characters are
    /// skipped. Returns the width drawn.
    pub fn text(&mut self, x: i64, y: i64, text: &str, scale: i64, colour: Rgb) -> i64 {
        let mut cx = x;
        for c in text.chars() {
            if let Some(rows) = glyph(c) {
                for (row, bits) in rows.iter().enumerate() {
                    for col in 0..5 {
                        if bits & (0x10 >> col) != 0 {
                            self.rect(
                                cx + col * scale,
                                y + row as i64 * scale,
                                scale,
                                scale,
                                colour,
                            );
                        }
                    }
                }
                cx += 6 * scale;
            }
        }
        cx - x
    }

    /// Width of `text` in pixels at `scale`.
    pub fn text_width(text: &str, scale: i64) -> i64 {
        text.chars().filter(|&c| glyph(c).is_some()).count() as i64 * 6 * scale
    }

    /// A grey image (values in [0, 1], `side × side`) drawn at (x, y), each pixel `scale`×`scale`,
    /// white ink on black as in MNIST.
    pub fn gray_image(&mut self, x: i64, y: i64, values: &[f32], side: usize, scale: i64) {
        for (i, v) in values.iter().enumerate() {
            let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            let (r, c) = ((i / side) as i64, (i % side) as i64);
            self.rect(x + c * scale, y + r * scale, scale, scale, [g, g, g]);
        }
    }

    /// The image as PNG bytes.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().context("writing the PNG header")?;
            let flat: Vec<u8> = self.pixels.iter().flatten().copied().collect();
            writer
                .write_image_data(&flat)
                .context("writing the PNG pixels")?;
        }
        Ok(out)
    }
}
