//! Points of the latent plane that the page and the trainer's figures both use: the decoded
//! grid, the walk between two codes, samples of the prior and of a posterior, and which test
//! digits lie near a point. One definition, exported to JavaScript through the web crate.

use crate::card::Extent;
use crate::rng::Rng;

/// Cells per side of the decoded grid (the page's overlay and the trainer's manifold figure).
pub const MANIFOLD_GRID: usize = 20;

/// The most points one sampling or interpolation request may ask for.
pub const MAX_POINTS: usize = 1000;

/// The centres of a `grid × grid` tiling of `extent`, row-major from the top-left (largest y
/// first), as `[x0, y0, x1, y1, …]`.
pub fn grid_points(extent: &Extent, grid: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(grid * grid * 2);
    let dx = (extent.x_max - extent.x_min) / grid as f64;
    let dy = (extent.y_max - extent.y_min) / grid as f64;
    for row in 0..grid {
        for col in 0..grid {
            out.push((extent.x_min + (col as f64 + 0.5) * dx) as f32);
            out.push((extent.y_max - (row as f64 + 0.5) * dy) as f32);
        }
    }
    out
}

/// `frames` points evenly spaced on the segment from `a` to `b`, both ends included (one point,
/// `a`, when `frames` is 1), as `[x0, y0, x1, y1, …]`.
pub fn interpolate(a: [f32; 2], b: [f32; 2], frames: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(frames * 2);
    for i in 0..frames {
        let t = if frames > 1 {
            i as f32 / (frames - 1) as f32
        } else {
            0.0
        };
        out.push(a[0] + t * (b[0] - a[0]));
        out.push(a[1] + t * (b[1] - a[1]));
    }
    out
}

/// `n` points z = μ + σ·ε with ε ~ N(0, I) (the prior itself for μ = 0, σ = 1), from `seed`:
/// the same seed gives the same points everywhere.
pub fn sample_gaussian(mean: [f32; 2], std: [f32; 2], n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed, 0);
    let mut out = Vec::with_capacity(n * 2);
    for _ in 0..n {
        out.push(mean[0] + std[0] * rng.normal());
        out.push(mean[1] + std[1] * rng.normal());
    }
    out
}

/// How many of `points` (`[x0, y0, …]`) fall within 1, 2 and 3 units of the origin (for prior
/// samples: within the 1σ, 2σ and 3σ circles), and beyond.
pub fn count_by_radius(points: &[f32]) -> [usize; 4] {
    let mut counts = [0; 4];
    for p in points.chunks_exact(2) {
        let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
        let ring = if r <= 1.0 {
            0
        } else if r <= 2.0 {
            1
        } else if r <= 3.0 {
            2
        } else {
            3
        };
        counts[ring] += 1;
    }
    counts
}

/// The labels of the `k` points of `points` (`[x0, y0, …]`, labelled by `labels`) nearest to
/// `z`, counted per digit: `counts[d]` of them are `d`s.
pub fn nearest_labels(points: &[f32], labels: &[u8], z: [f32; 2], k: usize) -> [usize; 10] {
    let mut dist: Vec<(f32, u8)> = points
        .chunks_exact(2)
        .zip(labels)
        .map(|(p, &l)| ((p[0] - z[0]).powi(2) + (p[1] - z[1]).powi(2), l))
        .collect();
    let k = k.min(dist.len());
    let mut counts = [0; 10];
    if k == 0 {
        return counts;
    }
    dist.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
    for &(_, l) in &dist[..k] {
        counts[usize::from(l) % 10] += 1;
    }
    counts
}

/// Fraction of test means the plane must hold on each axis (the rest are outliers).
pub const EXTENT_COVERAGE: f64 = 0.998;

/// The square region, centred on the prior's mean, that holds `EXTENT_COVERAGE` of the test
/// means on each axis, padded by 5 % and rounded up to a multiple of 0.5.
pub fn plane_extent(points: &[f32]) -> Extent {
    let mut half = 1.0f64;
    for axis in 0..2 {
        let mut v: Vec<f64> = points.chunks_exact(2).map(|p| f64::from(p[axis])).collect();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            continue;
        }
        let tail = (1.0 - EXTENT_COVERAGE) / 2.0;
        let lo = v[((v.len() - 1) as f64 * tail) as usize];
        let hi = v[((v.len() - 1) as f64 * (1.0 - tail)).ceil() as usize];
        half = half.max(lo.abs()).max(hi.abs());
    }
    let half = (half * 1.05 * 2.0).ceil() / 2.0;
    Extent {
        x_min: -half,
        x_max: half,
        y_min: -half,
        y_max: half,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_start_top_left_and_are_cell_centres() {
        let e = Extent {
            x_min: -2.0,
            x_max: 2.0,
            y_min: -2.0,
            y_max: 2.0,
        };
        let p = grid_points(&e, 2);
        assert_eq!(p, vec![-1.0, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0]);
    }

    #[test]
    fn interpolation_includes_both_ends() {
        let p = interpolate([0.0, 1.0], [2.0, -1.0], 3);
        assert_eq!(p, vec![0.0, 1.0, 1.0, 0.0, 2.0, -1.0]);
        assert_eq!(interpolate([0.5, 0.5], [1.0, 1.0], 1), vec![0.5, 0.5]);
        assert!(interpolate([0.0, 0.0], [1.0, 1.0], 0).is_empty());
    }

    #[test]
    fn prior_samples_fall_by_radius_like_a_standard_normal() {
        let p = sample_gaussian([0.0, 0.0], [1.0, 1.0], 20_000, 5);
        let c = count_by_radius(&p);
        let n = 20_000.0;
        // P(r ≤ ρ) = 1 − exp(−ρ²/2) in 2-D: 39.3 %, 86.5 %, 98.9 %.
        assert!((c[0] as f64 / n - 0.393).abs() < 0.015, "{c:?}");
        assert!(((c[0] + c[1]) as f64 / n - 0.865).abs() < 0.01, "{c:?}");
        assert!(
            ((c[0] + c[1] + c[2]) as f64 / n - 0.989).abs() < 0.005,
            "{c:?}"
        );
        assert_eq!(p, sample_gaussian([0.0, 0.0], [1.0, 1.0], 20_000, 5));
    }

    #[test]
    fn posterior_samples_are_scaled_and_shifted() {
        let p = sample_gaussian([3.0, -1.0], [0.01, 0.1], 2000, 1);
        let (xs, ys): (Vec<f32>, Vec<f32>) = p.chunks_exact(2).map(|c| (c[0], c[1])).unzip();
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        let sd = |v: &[f32]| {
            let m = mean(v);
            (v.iter().map(|x| (x - m).powi(2)).sum::<f32>() / v.len() as f32).sqrt()
        };
        assert!((mean(&xs) - 3.0).abs() < 0.002 && (mean(&ys) + 1.0).abs() < 0.02);
        assert!((sd(&xs) - 0.01).abs() < 0.001 && (sd(&ys) - 0.1).abs() < 0.01);
    }

    #[test]
    fn nearest_labels_count_the_k_closest() {
        let points = [0.0, 0.0, 1.0, 0.0, 5.0, 5.0, 0.1, 0.1];
        let labels = [4, 9, 1, 4];
        let c = nearest_labels(&points, &labels, [0.0, 0.0], 3);
        assert_eq!((c[4], c[9], c[1]), (2, 1, 0));
        assert_eq!(
            nearest_labels(&points, &labels, [5.0, 5.0], 10)
                .iter()
                .sum::<usize>(),
            4
        );
        assert_eq!(nearest_labels(&[], &[], [0.0, 0.0], 5), [0; 10]);
    }
}
