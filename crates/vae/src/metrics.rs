//! Metrics of a model on a split that the trainer and the page's training both report: the
//! negative ELBO with its two terms (one seeded z per image) and the mean reconstruction's MSE.
//! Results are read back synchronously: CPU backends (and native wgpu) only.

use burn::prelude::*;

use crate::loss::{bce_from_logits, kl_to_standard_normal};
use crate::rng::Rng;
use crate::split::Split;
use crate::{IMAGE_PIXELS, Vae};

/// A `[rows, cols]` tensor from a row-major buffer.
fn matrix(values: Vec<f32>, cols: usize, device: &Device) -> Tensor<2> {
    let rows = values.len() / cols;
    Tensor::from_data(TensorData::new(values, [rows, cols]), device)
}

fn images(values: Vec<f32>, device: &Device) -> Tensor<2> {
    matrix(values, IMAGE_PIXELS, device)
}

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
pub fn elbo_terms(model: &Vae, split: &Split, device: &Device) -> ElboTerms {
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
    ElboTerms {
        recon: recon / n,
        kl: kl / n,
    }
}

/// Mean squared error per pixel between `split` and the decoding of its latent means.
pub fn mean_reconstruction_mse(model: &Vae, split: &Split, device: &Device) -> f64 {
    let mut total = 0.0f64;
    for start in (0..split.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(split.len());
        let x = images(split.gather(start..end), device);
        let decoded = model.decode(model.encode(x.clone()).mean);
        total += f64::from((decoded - x).powi_scalar(2).sum().into_scalar::<f32>());
    }
    total / (split.len() * IMAGE_PIXELS) as f64
}

/// The label that the `k` nearest rows of `points` (`dims` values each, labelled by `labels`)
/// give `query` by majority vote (squared Euclidean distance), leaving out row `skip` (the
/// query itself, for a leave-one-out count); a tie goes to the tied label whose member is
/// nearest. `None` when there is no other row (a row at a NaN distance counts as none). The
/// trainer's and the page's 5-NN accuracy both count with it.
pub fn knn_label(
    points: &[f32],
    labels: &[u8],
    dims: usize,
    query: &[f32],
    k: usize,
    skip: Option<usize>,
) -> Option<u8> {
    // The k best (distance, label), kept sorted by distance, nearest first.
    let mut best: Vec<(f32, u8)> = Vec::with_capacity(k + 1);
    let rows = points.chunks_exact(dims.max(1)).zip(labels).enumerate();
    for (_, (row, &label)) in rows.filter(|(i, _)| Some(*i) != skip) {
        let d: f32 = query.iter().zip(row).map(|(a, b)| (a - b) * (a - b)).sum();
        // A row (or query) with a NaN (a diverged model's codes) is no one's neighbour.
        if d.is_nan() || (best.len() == k && best.last().is_some_and(|&(worst, _)| d >= worst)) {
            continue;
        }
        let at = best.partition_point(|&(e, _)| e <= d);
        best.insert(at, (d, label));
        best.truncate(k);
    }
    let mut votes = [0usize; 256];
    for &(_, label) in &best {
        votes[usize::from(label)] += 1;
    }
    let top = best.iter().map(|&(_, l)| votes[usize::from(l)]).max()?;
    best.iter()
        .map(|&(_, l)| l)
        .find(|&l| votes[usize::from(l)] == top)
}

#[cfg(test)]
mod tests {
    use super::knn_label;

    #[test]
    fn the_majority_of_the_nearest_wins_and_a_tie_goes_to_the_nearest() {
        // 1-D points: 0.0 (label 1), 1.0 (2), 1.1 (2), 5.0 (3), 5.1 (3).
        let points = [0.0, 1.0, 1.1, 5.0, 5.1];
        let labels = [1, 2, 2, 3, 3];
        assert_eq!(knn_label(&points, &labels, 1, &[0.9], 3, None), Some(2));
        // k = 2 at 0.4: 0.0 (1) and 1.0 (2) tie one vote each: the nearest, label 1, wins.
        assert_eq!(knn_label(&points, &labels, 1, &[0.4], 2, None), Some(1));
        // Leaving out the query's own row.
        assert_eq!(knn_label(&points, &labels, 1, &[0.0], 1, Some(0)), Some(2));
        // NaN rows never vote; a NaN query has no neighbours.
        let (with_nan, nan_labels) = ([f32::NAN, f32::NAN, 5.0], [7, 7, 3]);
        assert_eq!(
            knn_label(&with_nan, &nan_labels, 1, &[0.0], 3, None),
            Some(3)
        );
        assert_eq!(knn_label(&points, &labels, 1, &[f32::NAN], 3, None), None);
        // More neighbours asked for than there are: all of them vote (2 and 3 tie; 5.0 is a 3).
        assert_eq!(knn_label(&points, &labels, 1, &[5.0], 10, None), Some(3));
        assert_eq!(
            knn_label(&points[..1], &labels[..1], 1, &[0.0], 5, Some(0)),
            None
        );
    }
}
