//! The settings of a training run, and the schedules they define.

use burn::optim::{AdamWConfig, ModuleOptimizer};
use serde::{Deserialize, Serialize};

use super::host_adam::HostAdam;
use crate::{Recon, VaeConfig};

/// Everything that defines a training run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    /// Architecture.
    pub architecture: VaeConfig,
    /// Reconstruction term.
    pub recon: Recon,
    /// Epochs in all.
    pub epochs: usize,
    /// Minibatch size.
    pub batch: usize,
    /// Peak learning rate (cosine-decayed to 2 % of it over the run).
    pub lr: f64,
    /// Seed of the initialisation, the shuffling and the sampling.
    pub seed: u64,
    /// Weight β of the KL term (1: the ELBO; 0: a plain autoencoder with a noisy code).
    #[serde(default = "one")]
    pub beta: f64,
    /// Epochs over which the KL weight rises linearly from 0 to β (0: no warm-up).
    #[serde(default)]
    pub warmup: usize,
    /// Decay of the exponential moving average of the weights (0: no average).
    #[serde(default)]
    pub ema: f64,
    /// Decoupled weight decay (AdamW; 0: plain Adam).
    #[serde(default)]
    pub weight_decay: f64,
    /// Dropout rate after every hidden layer while training (0: none).
    #[serde(default)]
    pub dropout: f64,
    /// Strength of random affine distortions of the training images (0: none; 1: up to 10°
    /// rotation, 10 % scale, 0.15 shear, 1 px shift; see [`super::augment`]).
    #[serde(default)]
    pub augment: f64,
    /// Images held out from the end of the training set to choose the epoch on (0: none; the
    /// last epoch is kept).
    #[serde(default)]
    pub validation: usize,
}

fn one() -> f64 {
    1.0
}

impl Hyper {
    /// A run of `epochs` epochs of `batch` images at peak learning rate `lr` from `seed`, with
    /// the Bernoulli cross-entropy, β = 1 and none of the extras (no KL warm-up, weight average,
    /// weight decay, dropout, distortions or validation split): the base of the page's Train
    /// panel (which sets β) and of the tests.
    pub fn plain(architecture: VaeConfig, epochs: usize, batch: usize, lr: f64, seed: u64) -> Self {
        Hyper {
            architecture,
            recon: Recon::Bce,
            epochs,
            batch,
            lr,
            seed,
            beta: 1.0,
            warmup: 0,
            ema: 0.0,
            weight_decay: 0.0,
            dropout: 0.0,
            augment: 0.0,
            validation: 0,
        }
    }

    /// Learning rate at `step` of `total`: cosine decay from `lr` to `lr / 50`.
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let progress = step as f64 / total.max(1) as f64;
        let floor = 0.02;
        self.lr * (floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()))
    }

    /// Weight of the KL term at `step` (0-based), with `steps_per_epoch` steps an epoch: β after
    /// the warm-up, rising linearly from β / warm-up steps before.
    pub fn kl_weight_at(&self, step: usize, steps_per_epoch: usize) -> f64 {
        let warmup_steps = self.warmup * steps_per_epoch;
        if warmup_steps == 0 {
            self.beta
        } else {
            self.beta * ((step + 1) as f64 / warmup_steps as f64).min(1.0)
        }
    }

    /// The optimiser: Adam, or AdamW with `weight_decay`.
    pub fn optimizer(&self) -> ModuleOptimizer {
        if self.weight_decay > 0.0 {
            AdamWConfig::new()
                .with_epsilon(1e-7)
                .with_weight_decay(self.weight_decay as f32)
                .init()
        } else {
            // Burn's Adam, with a one-pass step on the CPU backend.
            ModuleOptimizer::from(HostAdam::new(1e-7))
        }
    }
}

impl Hyper {
    /// The settings (all but `epochs`) in which `self` and `other` differ, as `--flag a vs b`.
    pub fn differences(&self, other: &Hyper) -> Vec<String> {
        let mut differ = Vec::new();
        if self.architecture != other.architecture {
            differ.push(format!(
                "architecture {:?} vs {:?}",
                self.architecture, other.architecture
            ));
        }
        let mut field = |name: &str, a: String, b: String| {
            if a != b {
                differ.push(format!("--{name} {a} vs {b}"));
            }
        };
        field(
            "recon",
            format!("{:?}", self.recon),
            format!("{:?}", other.recon),
        );
        field("batch", self.batch.to_string(), other.batch.to_string());
        field("lr", self.lr.to_string(), other.lr.to_string());
        field("seed", self.seed.to_string(), other.seed.to_string());
        field("beta", self.beta.to_string(), other.beta.to_string());
        field("warmup", self.warmup.to_string(), other.warmup.to_string());
        field("ema", self.ema.to_string(), other.ema.to_string());
        field(
            "weight-decay",
            self.weight_decay.to_string(),
            other.weight_decay.to_string(),
        );
        field(
            "dropout",
            self.dropout.to_string(),
            other.dropout.to_string(),
        );
        field(
            "augment",
            self.augment.to_string(),
            other.augment.to_string(),
        );
        field(
            "validation",
            self.validation.to_string(),
            other.validation.to_string(),
        );
        differ
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hyper() -> Hyper {
        Hyper::plain(VaeConfig::default(), 1, 24, 1e-2, 1)
    }

    #[test]
    fn kl_weight_rises_over_the_warm_up_then_stays_at_beta() {
        let h = Hyper {
            warmup: 2,
            beta: 0.5,
            ..hyper()
        };
        assert!((h.kl_weight_at(0, 10) - 0.5 / 20.0).abs() < 1e-12);
        assert!((h.kl_weight_at(9, 10) - 0.25).abs() < 1e-12);
        assert_eq!(h.kl_weight_at(19, 10), 0.5);
        assert_eq!(h.kl_weight_at(500, 10), 0.5);
        let none = hyper();
        assert_eq!(none.kl_weight_at(0, 10), 1.0);
    }

    #[test]
    fn learning_rate_decays_from_its_peak_to_two_percent() {
        let h = hyper();
        assert_eq!(h.lr_at(0, 100), 1e-2);
        assert!((h.lr_at(50, 100) - 1e-2 * 0.51).abs() < 1e-12);
        assert!((h.lr_at(100, 100) - 2e-4).abs() < 1e-12);
    }

    #[test]
    fn differences_name_each_setting_that_changed() {
        let a = hyper();
        let b = Hyper {
            beta: 0.5,
            epochs: 9,
            ..hyper()
        };
        assert_eq!(a.differences(&b), vec!["--beta 1 vs 0.5".to_string()]);
    }
}
