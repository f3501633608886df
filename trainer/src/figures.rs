//! The model's figures: the latent scatter (the paper's fig. 2), inputs above their
//! reconstructions (fig. 3), and the decoded manifold (keras.io style).

use anyhow::Result;
use vae::IMAGE_SIDE;
use vae::card::Extent;

use crate::canvas::{Canvas, DIGIT_COLOURS, Rgb};

const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [40, 40, 40];
const GRID: Rgb = [225, 225, 225];

/// Tick values every `step` within [lo, hi].
fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn tick_label(v: f64) -> String {
    if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A "nice" tick step for a span: 0.5, 1, 2 or 5 times a power of ten, about 6 ticks.
fn tick_step(span: f64) -> f64 {
    let raw = span / 6.0;
    let pow = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * pow)
}

/// Test-set latent means coloured by digit, with axes and a legend.
pub fn latent_scatter(points: &[f32], labels: &[u8], extent: &Extent) -> Result<Vec<u8>> {
    const PLOT: i64 = 640;
    const LEFT: i64 = 56;
    const TOP: i64 = 16;
    const BOTTOM: i64 = 48;
    const LEGEND: i64 = 80;
    let mut c = Canvas::new(
        (LEFT + PLOT + LEGEND) as usize,
        (TOP + PLOT + BOTTOM) as usize,
        WHITE,
    );
    let sx =
        |x: f64| LEFT as f64 + (x - extent.x_min) / (extent.x_max - extent.x_min) * PLOT as f64;
    let sy = |y: f64| TOP as f64 + (extent.y_max - y) / (extent.y_max - extent.y_min) * PLOT as f64;
    let step = tick_step(extent.x_max - extent.x_min);
    for t in ticks(extent.x_min, extent.x_max, step) {
        let x = sx(t).round() as i64;
        c.rect(x, TOP, 1, PLOT, GRID);
        let label = tick_label(t);
        c.text(
            x - Canvas::text_width(&label, 2) / 2,
            TOP + PLOT + 8,
            &label,
            2,
            INK,
        );
    }
    for t in ticks(extent.y_min, extent.y_max, step) {
        let y = sy(t).round() as i64;
        c.rect(LEFT, y, PLOT, 1, GRID);
        let label = tick_label(t);
        c.text(
            LEFT - 6 - Canvas::text_width(&label, 2),
            y - 7,
            &label,
            2,
            INK,
        );
    }
    for (p, &l) in points.chunks_exact(2).zip(labels) {
        let colour = DIGIT_COLOURS[usize::from(l) % 10];
        c.disc(
            sx(f64::from(p[0])) as f32,
            sy(f64::from(p[1])) as f32,
            1.6,
            colour,
            0.55,
        );
    }
    // Frame.
    c.rect(LEFT, TOP, PLOT, 1, INK);
    c.rect(LEFT, TOP + PLOT, PLOT, 1, INK);
    c.rect(LEFT, TOP, 1, PLOT, INK);
    c.rect(LEFT + PLOT, TOP, 1, PLOT + 1, INK);
    c.text(LEFT + PLOT / 2 - 12, TOP + PLOT + 30, "z1", 2, INK);
    c.text(6, TOP + PLOT / 2 - 7, "z2", 2, INK);
    // Legend.
    for digit in 0..10u8 {
        let y = TOP + 10 + i64::from(digit) * 28;
        let x = LEFT + PLOT + 16;
        c.disc(
            x as f32 + 8.0,
            y as f32 + 7.0,
            7.0,
            DIGIT_COLOURS[usize::from(digit)],
            1.0,
        );
        c.text(x + 24, y, &digit.to_string(), 2, INK);
    }
    c.to_png()
}

/// Inputs (top row) above their reconstructions (bottom row), each `IMAGE_SIDE²` in [0, 1].
pub fn reconstructions(inputs: &[Vec<f32>], outputs: &[Vec<f32>]) -> Result<Vec<u8>> {
    const SCALE: i64 = 3;
    const GAP: i64 = 4;
    let cell = IMAGE_SIDE as i64 * SCALE;
    let n = inputs.len() as i64;
    let mut c = Canvas::new(
        (GAP + n * (cell + GAP)) as usize,
        (GAP + 2 * (cell + GAP)) as usize,
        WHITE,
    );
    for (i, (a, b)) in inputs.iter().zip(outputs).enumerate() {
        let x = GAP + i as i64 * (cell + GAP);
        c.gray_image(x, GAP, a, IMAGE_SIDE, SCALE);
        c.gray_image(x, GAP + cell + GAP, b, IMAGE_SIDE, SCALE);
    }
    c.to_png()
}

/// A `grid × grid` mosaic of decoded digits, row-major from the top-left of the plane (the
/// largest y first), as [`vae::plane::grid_points`] lays them out.
pub fn manifold(decoded: &[f32], grid: usize) -> Result<Vec<u8>> {
    let side = IMAGE_SIDE * grid;
    let mut c = Canvas::new(side, side, [0, 0, 0]);
    for (k, digit) in decoded.chunks_exact(IMAGE_SIDE * IMAGE_SIDE).enumerate() {
        let (row, col) = (k / grid, k % grid);
        c.gray_image(
            (col * IMAGE_SIDE) as i64,
            (row * IMAGE_SIDE) as i64,
            digit,
            IMAGE_SIDE,
            1,
        );
    }
    c.to_png()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_steps_are_round_numbers() {
        assert_eq!(tick_step(8.0), 2.0);
        assert_eq!(tick_step(6.0), 1.0);
        assert_eq!(tick_step(3.0), 0.5);
        assert_eq!(
            ticks(-3.0, 3.0, 1.0),
            vec![-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
        );
    }

    #[test]
    fn figures_are_png_files() {
        let e = Extent {
            x_min: -1.0,
            x_max: 1.0,
            y_min: -1.0,
            y_max: 1.0,
        };
        let png = latent_scatter(&[0.0, 0.0, 0.5, -0.5], &[3, 7], &e).expect("scatter");
        assert_eq!(&png[1..4], b"PNG");
        let img = vec![0.5; IMAGE_SIDE * IMAGE_SIDE];
        assert_eq!(
            &reconstructions(std::slice::from_ref(&img), std::slice::from_ref(&img))
                .expect("recon")[1..4],
            b"PNG"
        );
        assert_eq!(&manifold(&img, 1).expect("manifold")[1..4], b"PNG");
    }
}
