//! The Bernoulli cross-entropy's value and gradient on the host, in one vectorisable pass: the
//! CPU backend's fast path for the step's reconstruction term.
//!
//! Per pixel, with logit `l` and target `x`: the loss softplus(l) − x·l and its derivative
//! σ(l) − x, both from one e = exp(−|l|):
//!
//! - softplus(l) − x·l = (max(l, 0) − x·l) + log1p(e), with log1p(e) = 2·atanh(e / (2 + e))
//!   as a series (e ≤ 1, so the ratio is at most 1/3 and eight terms reach f32's precision,
//!   with no loss for tiny e);
//! - σ(l) = 1 / (1 + e) for l ≥ 0, e / (1 + e) otherwise.
//!
//! The exponential is Cephes' `expf` (a degree-7 polynomial after reduction by ln 2), written
//! without branches or calls so that the compiler vectorises the loop; burn-flex's
//! `log_sigmoid` calls the C library's scalar `log1pf` and `expf` per pixel, and autodiff
//! records five more element-wise passes around it. Each pixel's loss and gradient are within
//! 2e-7 of the f64 formula (tests below); the step against Burn's log-sigmoid path is tested in
//! `step.rs`.

/// Pixels summed per lane before a row's lanes are added up in `f64`.
const LANES: usize = 16;

/// e^(−a) for a ≥ 0, without branches. Beyond a = 87 it returns e^(−87) (about the smallest
/// normal float): the terms it feeds are then far below rounding. A NaN stays NaN, so a NaN
/// logit gives a NaN loss and gradient, as Burn's path does.
#[inline(always)]
pub(super) fn exp_neg(a: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // 1.5 · 2^23: adding it rounds to an integer, held in the low bits of the mantissa.
    const ROUND: f32 = 12_582_912.0;
    const ROUND_BITS: i32 = 0x4B40_0000;
    // ln 2 = C1 + C2, with C1 exact in few bits (Cephes).
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    // Not `a.min(87.0)`, which would turn a NaN into 87.
    let x = -(if a > 87.0 { 87.0 } else { a });
    let k = x * LOG2E + ROUND;
    let n = k - ROUND;
    let r = x - n * C1 - n * C2;
    let mut p = 1.987_569_2e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    let exponent = (k.to_bits() as i32 - ROUND_BITS + 127) << 23;
    y * f32::from_bits(exponent as u32)
}

/// log(1 + e) for e in [0, 1], as 2·atanh(s) with s = e / (2 + e) ≤ 1/3.
#[inline(always)]
fn log1p_unit(e: f32) -> f32 {
    let s = e / (2.0 + e);
    let z = s * s;
    let mut p = 1.0 / 15.0_f32;
    p = p * z + 1.0 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    p = p * z + 1.0;
    2.0 * s * p
}

/// One pixel's loss softplus(l) − x·l and its derivative σ(l) − x.
#[inline(always)]
fn pixel(l: f32, x: f32) -> (f32, f32) {
    let e = exp_neg(l.abs());
    // (max(l, 0) − x·l) first: exact where x = 1 and l > 0, so no cancellation against l.
    let loss = (l.max(0.0) - x * l) + log1p_unit(e);
    let r = 1.0 / (1.0 + e);
    let sigmoid = if l >= 0.0 { r } else { e * r };
    (loss, sigmoid - x)
}

/// The summed cross-entropy Σ softplus(l) − x·l of `logits` against `targets` (both row-major,
/// `cols` values a row), and its gradient times `scale` written into `grad`. Each of 16 lanes
/// adds a row's pixels in f32 (49 each for MNIST), then the lanes are added in f64: a few
/// roundings of a row's loss, far below the nats reported.
///
/// Panics if the three slices differ in length or `cols` does not divide it (a caller's bug:
/// the step passes tensors of one shape).
pub fn bce_with_gradient(
    logits: &[f32],
    targets: &[f32],
    cols: usize,
    scale: f32,
    grad: &mut [f32],
) -> f64 {
    // Compiled for AVX2 too, and AVX-512 where pulp's `x86-v4` is on (the trainer's build,
    // through Burn's), the widest the CPU has taken at run time (the lanes and the order of the
    // sums stay the same, so does the result).
    pulp::Arch::new().dispatch(Rows {
        logits,
        targets,
        cols,
        scale,
        grad,
    })
}

/// [`bce_with_gradient`]'s arguments, for [`pulp::Arch::dispatch`].
struct Rows<'a> {
    logits: &'a [f32],
    targets: &'a [f32],
    cols: usize,
    scale: f32,
    grad: &'a mut [f32],
}

impl pulp::WithSimd for Rows<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> f64 {
        bce_rows(self.logits, self.targets, self.cols, self.scale, self.grad)
    }
}

/// [`bce_with_gradient`]'s loop.
#[inline(always)]
fn bce_rows(logits: &[f32], targets: &[f32], cols: usize, scale: f32, grad: &mut [f32]) -> f64 {
    assert!(
        logits.len() == targets.len() && logits.len() == grad.len(),
        "logits, targets and gradient differ in length"
    );
    assert!(
        cols > 0 && logits.len().is_multiple_of(cols),
        "rows of {cols} do not fill {} values",
        logits.len()
    );
    let mut total = 0.0_f64;
    let rows = logits
        .chunks_exact(cols)
        .zip(targets.chunks_exact(cols))
        .zip(grad.chunks_exact_mut(cols));
    for ((l, x), g) in rows {
        let mut lanes = [0.0_f32; LANES];
        let mut chunks = l
            .chunks_exact(LANES)
            .zip(x.chunks_exact(LANES))
            .zip(g.chunks_exact_mut(LANES));
        for ((l, x), g) in &mut chunks {
            for i in 0..LANES {
                let (loss, d) = pixel(l[i], x[i]);
                lanes[i] += loss;
                g[i] = d * scale;
            }
        }
        let done = cols / LANES * LANES;
        let mut row: f64 = lanes.iter().map(|&v| f64::from(v)).sum();
        for i in done..cols {
            let (loss, d) = pixel(l[i], x[i]);
            row += f64::from(loss);
            g[i] = d * scale;
        }
        total += row;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// softplus(l) − x·l and σ(l) − x in f64 through the standard library.
    fn reference(l: f32, x: f32) -> (f64, f64) {
        let (l, x) = (f64::from(l), f64::from(x));
        let softplus = l.max(0.0) + (-l.abs()).exp().ln_1p();
        (softplus - x * l, 1.0 / (1.0 + (-l).exp()) - x)
    }

    fn logits() -> Vec<f32> {
        let mut v: Vec<f32> = (-4000..=4000).map(|i| i as f32 * 0.005).collect();
        v.extend([
            0.0,
            -0.0,
            1e-30,
            -1e-30,
            1e-8,
            -1e-8,
            30.0,
            -30.0,
            86.9,
            -86.9,
            87.5,
            -87.5,
            100.0,
            -100.0,
            1e4,
            -1e4,
            f32::MAX,
            f32::MIN,
        ]);
        v
    }

    #[test]
    fn each_pixel_matches_the_f64_formula_to_float_rounding() {
        for l in logits() {
            for x in [0.0, 0.25, 1.0] {
                let (loss, d) = pixel(l, x);
                let (want, want_d) = reference(l, x);
                // Absolute on small values, relative on large ones (|x·l| up to 3e38).
                let tol = 2e-7 * want.abs().max(1.0);
                assert!(
                    (f64::from(loss) - want).abs() <= tol,
                    "loss at l={l}, x={x}"
                );
                assert!(
                    (f64::from(d) - want_d).abs() <= 2e-7,
                    "gradient at l={l}, x={x}"
                );
            }
        }
    }

    #[test]
    fn exp_and_log1p_hold_their_precision_across_the_range() {
        for i in 0..=86_990 {
            let a = i as f32 * 1e-3;
            let want = (-f64::from(a)).exp();
            let got = f64::from(exp_neg(a));
            assert!(
                (got - want).abs() <= 2.5e-7 * want,
                "exp(-{a}): {got} vs {want}"
            );
            let want = want.ln_1p();
            let got = f64::from(log1p_unit((-f64::from(a)).exp() as f32));
            assert!((got - want).abs() <= 2.5e-7 * want, "log1p(exp(-{a}))");
        }
        assert!(
            pixel(f32::NAN, 0.0).0.is_nan(),
            "a NaN logit gives a NaN loss"
        );
    }

    #[test]
    fn rows_sum_and_the_gradient_is_scaled() {
        // 3 rows of 37 (two full lanes' chunks and a remainder each).
        let cols = 37;
        let l: Vec<f32> = (0..3 * cols)
            .map(|i| (i as f32 * 0.37).sin() * 9.0)
            .collect();
        let x: Vec<f32> = (0..3 * cols).map(|i| (i % 5) as f32 / 4.0).collect();
        let mut g = vec![f32::NAN; l.len()];
        let total = bce_with_gradient(&l, &x, cols, 0.5, &mut g);
        let want: f64 = l.iter().zip(&x).map(|(&l, &x)| reference(l, x).0).sum();
        assert!((total - want).abs() < 1e-5, "{total} vs {want}");
        for ((&l, &x), &g) in l.iter().zip(&x).zip(&g) {
            assert!((f64::from(g) - 0.5 * reference(l, x).1).abs() < 2e-7);
        }
    }

    #[test]
    #[should_panic(expected = "do not fill")]
    fn a_shape_that_does_not_divide_is_refused() {
        bce_with_gradient(&[0.0; 5], &[0.0; 5], 2, 1.0, &mut [0.0; 5]);
    }
}
