//! Test-set metrics: negative ELBO (with its two terms), the importance-weighted bound, the KL
//! of each latent dimension and the active units, MSE of the mean reconstruction, and the
//! 5-nearest-neighbour accuracy of the latent means.

use anyhow::Result;
use burn::prelude::*;
use rayon::prelude::*;
use vae::card::Metrics;
use vae::{IMAGE_PIXELS, Vae};

use crate::mnist::Split;
use crate::tensors::{images, matrix, to_vec};
use vae::loss::bce_from_logits;
use vae::metrics::{EVAL_BATCH, knn_label};
pub use vae::metrics::{elbo_terms, mean_reconstruction_mse};
use vae::rng::Rng;

/// Latent means μ of every image of `split`, `len × latent`, row-major.
pub fn latent_means(model: &Vae, split: &Split, device: &Device) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity(split.len() * model.latent());
    for start in (0..split.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(split.len());
        let x = images(split.gather(start..end), device);
        out.extend(to_vec(model.encode(x).mean)?);
    }
    Ok(out)
}

/// Fraction of `query` points whose 5 nearest `reference` points (Euclidean) vote for their
/// label (ties go to the label of the nearest among the tied).
pub fn knn5_accuracy(
    reference: &[f32],
    reference_labels: &[u8],
    query: &[f32],
    query_labels: &[u8],
    dims: usize,
) -> f64 {
    let correct = query
        .par_chunks(dims)
        .zip(query_labels.par_iter())
        .filter(|(q, label)| {
            knn_label(reference, reference_labels, dims, q, 5, None) == Some(**label)
        })
        .count();
    correct as f64 / query_labels.len().max(1) as f64
}

/// Seed of the importance samples of [`iw_nll`].
pub const IW_SEED: u64 = 0x1A5_5EED;
/// Importance samples per image that `trainer eval` and the export use.
pub const IW_SAMPLES: usize = 1000;
/// Rows (image × sample) per decoder pass of [`iw_nll`].
const IW_ROWS: usize = 10_000;

/// The importance-weighted bound −log (1/k Σᵢ p(x|zᵢ) p(zᵢ) / q(zᵢ|x)), zᵢ ~ q(z|x), averaged
/// over `split` (nats per image): ≤ the negative ELBO, and tighter as `k` grows (Burda et al.,
/// 2016). With MNIST's continuous pixels and a Bernoulli likelihood it bounds the model's
/// cross-entropy, not a normalised −log p(x).
pub fn iw_nll(model: &Vae, split: &Split, k: usize, device: &Device) -> Result<f64> {
    anyhow::ensure!(k >= 1, "importance samples must be at least 1");
    let latent = model.latent();
    let mut rng = Rng::new(IW_SEED, k as u64);
    let per_pass = (IW_ROWS / k).max(1);
    let mut total = 0.0f64;
    for start in (0..split.len()).step_by(per_pass) {
        let end = (start + per_pass).min(split.len());
        let n = end - start;
        let x = images(split.gather(start..end), device);
        let posterior = model.encode(x.clone());
        let mean = to_vec(posterior.mean)?;
        let log_var = to_vec(posterior.log_var)?;
        // z = μ + σ·ε for k samples of each image, built on the host so the seed fixes them.
        let mut z = Vec::with_capacity(n * k * latent);
        // log p(z) − log q(z|x) = Σ_d −z²/2 + ε²/2 + log σ (the log 2π terms cancel): the part
        // of log w that needs no decoder.
        let mut prior_over_q = Vec::with_capacity(n * k);
        for i in 0..n {
            let (mu, lv) = (
                &mean[i * latent..][..latent],
                &log_var[i * latent..][..latent],
            );
            for _ in 0..k {
                let mut acc = 0.0f64;
                for d in 0..latent {
                    let eps = rng.normal();
                    let zd = mu[d] + (0.5 * lv[d]).exp() * eps;
                    z.push(zd);
                    acc += -0.5 * f64::from(zd * zd)
                        + 0.5 * f64::from(eps * eps)
                        + 0.5 * f64::from(lv[d]);
                }
                prior_over_q.push(acc);
            }
        }
        let logits = model.decode_logits(matrix(z, latent, device));
        let targets = x
            .unsqueeze_dim::<3>(1)
            .repeat_dim(1, k)
            .reshape([n * k, IMAGE_PIXELS]);
        let neg_log_lik = to_vec(bce_from_logits(logits, targets))?;
        for i in 0..n {
            let log_w: Vec<f64> = (0..k)
                .map(|j| prior_over_q[i * k + j] - f64::from(neg_log_lik[i * k + j]))
                .collect();
            let max = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = log_w.iter().map(|w| (w - max).exp()).sum();
            total -= max + (sum / k as f64).ln();
        }
    }
    Ok(total / split.len() as f64)
}

/// KL(q(z|x) ‖ N(0, 1)) of each latent dimension, averaged over `split`, and the number of
/// active units: dimensions whose μ varies across the split with a variance above 0.01
/// (Burda et al., 2016).
pub fn kl_per_dimension(model: &Vae, split: &Split, device: &Device) -> Result<(Vec<f64>, usize)> {
    let latent = model.latent();
    let mut kl = vec![0.0f64; latent];
    let (mut sum, mut sum_sq) = (vec![0.0f64; latent], vec![0.0f64; latent]);
    for start in (0..split.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(split.len());
        let posterior = model.encode(images(split.gather(start..end), device));
        let mean = to_vec(posterior.mean)?;
        let log_var = to_vec(posterior.log_var)?;
        for (i, (&m, &lv)) in mean.iter().zip(&log_var).enumerate() {
            let (m, lv) = (f64::from(m), f64::from(lv));
            let d = i % latent;
            kl[d] += 0.5 * (m * m + lv.exp() - 1.0 - lv);
            sum[d] += m;
            sum_sq[d] += m * m;
        }
    }
    let n = split.len().max(1) as f64;
    let active = (0..latent)
        .filter(|&d| sum_sq[d] / n - (sum[d] / n).powi(2) > 0.01)
        .count();
    Ok((kl.into_iter().map(|v| v / n).collect(), active))
}

/// All test-set metrics of the model card, with `iw_samples` importance samples per image.
pub fn metrics(
    model: &Vae,
    train: &Split,
    test: &Split,
    iw_samples: usize,
    device: &Device,
) -> Result<Metrics> {
    let terms = elbo_terms(model, test, device);
    let train_mu = latent_means(model, train, device)?;
    let test_mu = latent_means(model, test, device)?;
    let (kl_per_dim, active_units) = kl_per_dimension(model, test, device)?;
    Ok(Metrics {
        neg_elbo: terms.neg_elbo(),
        recon: terms.recon,
        kl: terms.kl,
        mse: mean_reconstruction_mse(model, test, device),
        knn5_acc: knn5_accuracy(
            &train_mu,
            &train.labels,
            &test_mu,
            &test.labels,
            model.latent(),
        ),
        iw_nll: Some(iw_nll(model, test, iw_samples, device)?),
        iw_samples: Some(iw_samples),
        kl_per_dim,
        active_units: Some(active_units),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vae::VaeConfig;
    use vae::loss::kl_to_standard_normal;

    /// 40 synthetic "digits": bars at different positions, with some pixel noise.
    fn synthetic() -> Split {
        let mut rng = Rng::new(7, 0);
        let mut pixels = Vec::new();
        for i in 0..40 {
            for p in 0..IMAGE_PIXELS {
                let (row, col) = (p / 28, p % 28);
                let on = col.abs_diff(6 + (i % 8) * 2) < 2 && (4..24).contains(&row);
                let noise = (rng.uniform() * 40.0) as u8;
                pixels.push(if on { 255 - noise } else { noise });
            }
        }
        Split {
            pixels,
            labels: (0..40).map(|i| (i % 10) as u8).collect(),
        }
    }

    #[test]
    fn importance_weighted_bound_is_below_the_elbo_and_tightens_with_k() {
        let device = Device::flex();
        device.seed(3);
        let config = VaeConfig {
            hidden: vec![16],
            ..VaeConfig::default()
        };
        let model = Vae::new(&config, &device);
        let split = synthetic();
        // The ELBO averaged over many ε, so its own sampling noise does not blur the comparison.
        let elbo_mean = {
            let samples = 20;
            let sum: f64 = (0..samples)
                .map(|s| {
                    let mut posterior_rng = Rng::new(99, s);
                    let x = images(split.gather(0..split.len()), &device);
                    let posterior = model.encode(x.clone());
                    let eps: Vec<f32> = (0..split.len() * 2)
                        .map(|_| posterior_rng.normal())
                        .collect();
                    let z = posterior.mean.clone() + posterior.std() * matrix(eps, 2, &device);
                    let recon = bce_from_logits(model.decode_logits(z), x).mean();
                    let kl = kl_to_standard_normal(&posterior).mean();
                    f64::from((recon + kl).into_scalar::<f32>())
                })
                .sum();
            sum / samples as f64
        };
        let bounds: Vec<f64> = [1, 10, 100, 1000]
            .iter()
            .map(|&k| iw_nll(&model, &split, k, &device).expect("iw_nll"))
            .collect();
        // k = 1 is the ELBO itself (another draw of ε).
        assert!(
            (bounds[0] - elbo_mean).abs() < 0.02 * elbo_mean,
            "k=1 bound {} vs ELBO {elbo_mean}",
            bounds[0]
        );
        for pair in bounds.windows(2) {
            assert!(
                pair[1] < pair[0],
                "the bound must tighten as k grows: {bounds:?}"
            );
        }
        assert!(
            bounds[3] < elbo_mean - 0.5,
            "iw_nll(k=1000) {} must lie below the negative ELBO {elbo_mean}",
            bounds[3]
        );
    }

    #[test]
    fn kl_per_dimension_sums_to_the_kl_term() {
        let device = Device::flex();
        let config = VaeConfig {
            hidden: vec![16],
            ..VaeConfig::default()
        };
        let model = Vae::new(&config, &device);
        let split = synthetic();
        let (per_dim, active) = kl_per_dimension(&model, &split, &device).expect("kl");
        let total = elbo_terms(&model, &split, &device).kl;
        assert_eq!(per_dim.len(), 2);
        assert!((per_dim.iter().sum::<f64>() - total).abs() < 1e-3 * total.max(1.0));
        assert!(active <= 2);
    }

    #[test]
    fn knn_votes_for_the_majority_of_the_five_nearest() {
        // Five points of label 1 near the origin, five of label 2 near (10, 10).
        let reference = [
            0.0, 0.0, 0.1, 0.0, 0.0, 0.1, -0.1, 0.0, 0.0, -0.1, //
            10.0, 10.0, 10.1, 10.0, 10.0, 10.1, 9.9, 10.0, 10.0, 9.9,
        ];
        let labels = [1, 1, 1, 1, 1, 2, 2, 2, 2, 2];
        let query = [0.05, 0.05, 9.0, 9.0, 0.0, 0.0];
        let acc = knn5_accuracy(&reference, &labels, &query, &[1, 2, 2], 2);
        assert!((acc - 2.0 / 3.0).abs() < 1e-9, "accuracy {acc}");
    }
}
