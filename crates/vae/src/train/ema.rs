//! An exponential moving average of a model's weights: the averaged model is smoother than the
//! last step's and usually evaluates a little better.

use crate::Vae;
use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;

/// Moves every float parameter towards the new model's ([`Vae::flat_parameters`]):
/// `avg ← d·avg + (1 − d)·new`.
struct Blend {
    new: std::vec::IntoIter<Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(new) = self.new.next() else {
            return param;
        };
        let decay = self.decay;
        param.map(|avg| {
            let shape = avg.shape();
            avg.mul_scalar(decay) + new.reshape(shape).mul_scalar(1.0 - decay)
        })
    }
}

/// The averaged weights and how many updates they have seen.
pub struct Ema {
    /// The averaged model (on the plain device: it is never differentiated).
    pub model: Vae,
    decay: f64,
    updates: u64,
}

impl Ema {
    /// Starts the average at `model` (a model without autodiff), having seen `updates` steps.
    pub fn new(model: Vae, decay: f64, updates: u64) -> Self {
        Self {
            model,
            decay,
            updates,
        }
    }

    /// Folds in the current weights of `model` (without autodiff). The decay is warmed up as
    /// min(d, (1 + t) / (10 + t)), so that early steps do not average in the random init.
    pub fn update(&mut self, model: &Vae) {
        let t = self.updates as f64;
        let decay = self.decay.min((1.0 + t) / (10.0 + t));
        let mut blend = Blend {
            new: model.flat_parameters().into_iter(),
            decay,
        };
        self.model = self.model.clone().map(&mut blend);
        self.updates += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VaeConfig;

    fn first_weight(model: &Vae) -> Vec<f32> {
        model.flat_parameters()[0]
            .clone()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32")
    }

    /// Starts an average at one random model with `decay`, having seen `updates` steps, folds
    /// in another, and checks every first-layer weight is `kept`·old + (1 − `kept`)·new.
    fn check_one_update(decay: f64, updates: u64, kept: f32) {
        let device = Device::flex();
        let config = VaeConfig {
            hidden: vec![8],
            ..VaeConfig::default()
        };
        let (a, b) = (Vae::new(&config, &device), Vae::new(&config, &device));
        let mut ema = Ema::new(a.clone(), decay, updates);
        ema.update(&b);
        let (wa, wb, we) = (first_weight(&a), first_weight(&b), first_weight(&ema.model));
        for ((a, b), e) in wa.iter().zip(&wb).zip(&we) {
            let expected = kept * a + (1.0 - kept) * b;
            assert!((e - expected).abs() < 1e-6, "{e} vs {expected}");
        }
        assert_eq!(ema.updates, updates + 1);
    }

    #[test]
    fn average_moves_towards_the_new_weights_by_one_minus_decay() {
        // After many updates the decay is the configured one (the warm-up is over).
        check_one_update(0.9, 1_000_000, 0.9);
    }

    #[test]
    fn first_updates_follow_the_model_closely() {
        // t = 0: the decay is warmed up to (1 + 0) / (10 + 0) = 0.1.
        check_one_update(0.999, 0, 0.1);
    }
}
