//! Test-set metrics: negative ELBO (with its two terms), MSE of the mean reconstruction, and
//! the 5-nearest-neighbour accuracy of the latent means.

use anyhow::Result;
use burn::prelude::*;
use rayon::prelude::*;
use vae::card::Metrics;
use vae::loss::{bce_from_logits, kl_to_standard_normal};
use vae::{IMAGE_PIXELS, Vae};

use crate::mnist::Split;
use crate::rng::Rng;
use crate::tensors::{images, matrix, to_vec};

/// Seed of the ε drawn for the negative ELBO, so every evaluation of a model gives one number.
pub const EVAL_SEED: u64 = 0x5EED_E1B0;
/// Images per forward pass while evaluating.
pub const EVAL_BATCH: usize = 1000;

/// The ELBO terms on a split, nats per image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElboTerms {
    /// Bernoulli cross-entropy.
    pub recon: f64,
    /// KL divergence to the prior.
    pub kl: f64,
}

impl ElboTerms {
    /// recon + KL.
    pub fn neg_elbo(&self) -> f64 {
        self.recon + self.kl
    }
}

/// Negative ELBO terms on `split`, one z per image with ε from [`EVAL_SEED`].
pub fn elbo_terms(model: &Vae, split: &Split, device: &Device) -> Result<ElboTerms> {
    let mut rng = Rng::new(EVAL_SEED, 0);
    let (mut recon, mut kl) = (0.0f64, 0.0f64);
    for start in (0..split.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(split.len());
        let x = images(split.gather(start..end), device);
        let posterior = model.encode(x.clone());
        let eps: Vec<f32> = (0..(end - start) * model.latent())
            .map(|_| rng.normal())
            .collect();
        let z = posterior.mean.clone() + posterior.std() * matrix(eps, model.latent(), device);
        let logits = model.decode_logits(z);
        recon += f64::from(bce_from_logits(logits, x).sum().into_scalar::<f32>());
        kl += f64::from(kl_to_standard_normal(&posterior).sum().into_scalar::<f32>());
    }
    let n = split.len() as f64;
    Ok(ElboTerms {
        recon: recon / n,
        kl: kl / n,
    })
}

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

/// Mean squared error per pixel between `split` and the decoding of its latent means.
pub fn mean_reconstruction_mse(model: &Vae, split: &Split, device: &Device) -> Result<f64> {
    let mut total = 0.0f64;
    for start in (0..split.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(split.len());
        let x = images(split.gather(start..end), device);
        let decoded = model.decode(model.encode(x.clone()).mean);
        total += f64::from((decoded - x).powi_scalar(2).sum().into_scalar::<f32>());
    }
    Ok(total / (split.len() * IMAGE_PIXELS) as f64)
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
    const K: usize = 5;
    let correct: usize = query
        .par_chunks(dims)
        .zip(query_labels.par_iter())
        .filter(|(q, label)| {
            // The K best (distance, label), kept sorted by distance.
            let mut best = [(f32::INFINITY, 0u8); K];
            for (r, &l) in reference.chunks(dims).zip(reference_labels) {
                let d: f32 = q.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum();
                if d < best[K - 1].0 {
                    let mut i = K - 1;
                    while i > 0 && best[i - 1].0 > d {
                        best[i] = best[i - 1];
                        i -= 1;
                    }
                    best[i] = (d, l);
                }
            }
            let mut votes = [0usize; 10];
            for &(_, l) in &best {
                votes[l as usize] += 1;
            }
            let top = *votes.iter().max().unwrap_or(&0);
            // Nearest first, so the first label with the top count wins ties.
            let winner = best
                .iter()
                .map(|&(_, l)| l)
                .find(|&l| votes[l as usize] == top)
                .unwrap_or(0);
            winner == **label
        })
        .count();
    correct as f64 / query_labels.len().max(1) as f64
}

/// All test-set metrics of the model card.
pub fn metrics(model: &Vae, train: &Split, test: &Split, device: &Device) -> Result<Metrics> {
    let terms = elbo_terms(model, test, device)?;
    let train_mu = latent_means(model, train, device)?;
    let test_mu = latent_means(model, test, device)?;
    Ok(Metrics {
        neg_elbo: terms.neg_elbo(),
        recon: terms.recon,
        kl: terms.kl,
        mse: mean_reconstruction_mse(model, test, device)?,
        knn5_acc: knn5_accuracy(
            &train_mu,
            &train.labels,
            &test_mu,
            &test.labels,
            model.latent(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
