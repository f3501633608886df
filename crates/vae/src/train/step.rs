//! One optimisation step's parts: the batch, the noise, and the objective's gradients on a
//! batch or on a slice of one (slices add up to the batch).

use burn::module::{ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;

use super::{Hyper, host_bce, on_flex};
use crate::Vae;
use crate::config::Recon;
use crate::loss::{kl_to_standard_normal, reconstruction};

/// One step's objective and its terms, per image, as one-element tensors on the device: read
/// them with `into_scalar` natively, or `into_data_async` where the backend forbids
/// synchronous reads (WebGPU).
#[derive(Clone, Debug)]
pub struct StepFigures {
    /// The objective: reconstruction + KL weight × KL.
    pub loss: Tensor<1>,
    /// The reconstruction term.
    pub recon: Tensor<1>,
    /// The KL term (unweighted).
    pub kl: Tensor<1>,
}

impl std::ops::Add for StepFigures {
    type Output = StepFigures;

    /// The figures of two slices of one batch, added (each is already scaled by the batch).
    fn add(self, other: StepFigures) -> StepFigures {
        StepFigures {
            loss: self.loss + other.loss,
            recon: self.recon + other.recon,
            kl: self.kl + other.kl,
        }
    }
}

/// A batch ready for one step: the images, the reparameterisation noise, and the step's
/// learning rate and KL weight from the run's schedules.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Images `[batch, 784]` in [0, 1], on the autodiff device.
    pub x: Tensor<2>,
    /// Noise ε ~ N(0, I), `[batch, latent]`.
    pub eps: Tensor<2>,
    /// Learning rate of this step.
    pub lr: f64,
    /// Weight of the KL term in this step.
    pub kl_weight: f64,
}

/// The reparameterisation noise ε ~ N(0, I) of a batch, `[batch, latent]`, from the device's
/// generator.
pub fn noise(batch: usize, latent: usize, device: &Device) -> Tensor<2> {
    Tensor::random([batch, latent], Distribution::Normal(0.0, 1.0), device)
}

/// The objective's gradients and figures on images `x` with noise `eps`, a slice of a batch of
/// `batch` images: scaled so that the slices of a batch add up to the batch mean.
pub fn gradients(
    model: &Vae,
    hyper: &Hyper,
    x: Tensor<2>,
    eps: Tensor<2>,
    kl_weight: f64,
    batch: usize,
) -> (GradientsParams, StepFigures) {
    let output = model.forward_with(x.clone(), Some(eps), hyper.dropout);
    let n = batch as f64;
    let (recon, recon_figure) = reconstruction_term(hyper.recon, output.logits, x, n);
    let kl = kl_to_standard_normal(&output.posterior).sum().div_scalar(n);
    let kl_figure = kl.clone().detach();
    let loss = recon + kl.mul_scalar(kl_weight);
    let figures = StepFigures {
        loss: recon_figure.clone() + kl_figure.clone().mul_scalar(kl_weight),
        recon: recon_figure,
        kl: kl_figure,
    };
    (GradientsParams::from_grads(loss.backward(), model), figures)
}

/// The reconstruction term summed over the images and divided by `n`: a tensor to
/// differentiate, and its value (detached).
///
/// On the CPU backend (burn-flex) with the cross-entropy, the value and the gradient in the
/// logits come from one vectorised pass on the host ([`host_bce`]) and reach autodiff as
/// Σ l·g with g held constant: its gradient in the logits is g, the cross-entropy's, so the step
/// is the same to float rounding, at a fraction of the element-wise passes. Elsewhere (a GPU,
/// whose reads are asynchronous, or the squared error) Burn's ops compute it.
fn reconstruction_term(
    recon: Recon,
    logits: Tensor<2>,
    x: Tensor<2>,
    n: f64,
) -> (Tensor<1>, Tensor<1>) {
    let device = logits.device();
    if recon == Recon::Bce && on_flex(&device) {
        let [rows, cols] = logits.dims();
        let (l, t) = (logits.clone().into_data(), x.clone().into_data());
        if let (Ok(l), Ok(t)) = (l.as_slice::<f32>(), t.as_slice::<f32>()) {
            let mut g = vec![0.0_f32; rows * cols];
            let sum = host_bce::bce_with_gradient(l, t, cols, (1.0 / n) as f32, &mut g);
            let g = Tensor::<2>::from_data(TensorData::new(g, [rows, cols]), &device);
            let value =
                Tensor::<1>::from_data(TensorData::new(vec![(sum / n) as f32], [1]), &device);
            return ((logits * g).sum(), value);
        }
    }
    let term = reconstruction(recon, logits, x).sum().div_scalar(n);
    (term.clone(), term.detach())
}

/// The gradients and figures of the slices of one batch (`first` and the `rest`), added up:
/// those of the whole batch. Each parameter's gradients are added in the slices' order (as
/// Burn's `GradientsAccumulator` does), the parameters side by side on rayon's threads where
/// the feature is on.
pub fn merge(
    model: &Vae,
    first: (GradientsParams, StepFigures),
    rest: impl IntoIterator<Item = (GradientsParams, StepFigures)>,
) -> (GradientsParams, StepFigures) {
    let (grads, mut figures) = first;
    let mut parts = vec![grads];
    for (g, f) in rest {
        parts.push(g);
        figures = figures + f;
    }
    if parts.len() == 1 {
        return (parts.swap_remove(0), figures);
    }
    let mut taken = Taken {
        parts,
        vectors: Vec::new(),
        matrices: Vec::new(),
        merged: GradientsParams::new(),
    };
    model.visit(&mut taken);
    let mut merged = taken.merged;
    for (id, sum) in add_up(taken.vectors) {
        merged.register::<1>(id, sum);
    }
    for (id, sum) in add_up(taken.matrices) {
        merged.register::<2>(id, sum);
    }
    (merged, figures)
}

/// Each parameter's gradients, taken out of the slices' gradients, by rank: the model's biases
/// and weights, to be added up side by side; a parameter of another rank (none today) is added
/// up in place.
struct Taken {
    parts: Vec<GradientsParams>,
    vectors: Vec<(ParamId, Vec<Tensor<1>>)>,
    matrices: Vec<(ParamId, Vec<Tensor<2>>)>,
    merged: GradientsParams,
}

impl ModuleVisitor for Taken {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let id = param.id;
        match D {
            1 => {
                let grads = self.parts.iter_mut().filter_map(|p| p.remove::<1>(id));
                self.vectors.push((id, grads.collect()));
            }
            2 => {
                let grads = self.parts.iter_mut().filter_map(|p| p.remove::<2>(id));
                self.matrices.push((id, grads.collect()));
            }
            _ => {
                let grads = self.parts.iter_mut().filter_map(|p| p.remove::<D>(id));
                if let Some(sum) = grads.reduce(|a, b| a + b) {
                    self.merged.register::<D>(id, sum);
                }
            }
        }
    }
}

/// The sum of each parameter's gradients, in order; none for a parameter without any.
fn add_up<const D: usize>(grads: Vec<(ParamId, Vec<Tensor<D>>)>) -> Vec<(ParamId, Tensor<D>)> {
    let sum = |(id, parts): (ParamId, Vec<Tensor<D>>)| {
        let sum = parts.into_iter().reduce(|a, b| a + b)?;
        Some((id, sum))
    };
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        grads.into_par_iter().filter_map(sum).collect()
    }
    #[cfg(not(feature = "rayon"))]
    grads.into_iter().filter_map(sum).collect()
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::tensor::Distribution;

    use super::*;
    use crate::VaeConfig;
    use crate::loss::LossTerms;

    /// Every parameter's gradient, in the model's order.
    struct Gather<'a>(&'a GradientsParams, Vec<Vec<f32>>);

    impl ModuleVisitor for Gather<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let grad = self
                .0
                .get::<D>(param.id)
                .expect("every parameter has a gradient");
            self.1
                .push(grad.into_data().try_to_vec::<f32>().expect("f32"));
        }
    }

    fn gathered(model: &Vae, grads: &GradientsParams) -> Vec<Vec<f32>> {
        let mut gather = Gather(grads, Vec::new());
        model.visit(&mut gather);
        gather.1
    }

    #[test]
    fn the_host_cross_entropy_gives_burns_loss_and_gradients() {
        let device = Device::flex().autodiff();
        device.seed(7);
        let config = VaeConfig {
            hidden: vec![32],
            ..VaeConfig::default()
        };
        let model = Vae::new(&config, &device);
        let hyper = Hyper::plain(config, 1, 12, 1e-3, 7);
        // Pixels across [0, 1], with exact zeros and ones as in MNIST.
        let x = Tensor::<2>::random(
            [12, crate::IMAGE_PIXELS],
            Distribution::Uniform(-0.3, 1.3),
            &device,
        )
        .clamp(0.0, 1.0);
        let eps = noise(12, 2, &device);
        let (kl_weight, batch) = (0.6, 16);

        let (grads, figures) = gradients(&model, &hyper, x.clone(), eps.clone(), kl_weight, batch);

        // Burn's ops alone: the log-sigmoid form of the cross-entropy, differentiated by autodiff.
        let output = model.forward_with(x.clone(), Some(eps), 0.0);
        let terms = LossTerms::new(Recon::Bce, &output, x);
        let recon = terms.recon.sum().div_scalar(batch as f64);
        let kl = terms.kl.sum().div_scalar(batch as f64);
        let loss = recon.clone() + kl.clone().mul_scalar(kl_weight);
        let value = |t: Tensor<1>| f64::from(t.into_scalar::<f32>());
        let (want_loss, want_recon, want_kl) = (
            value(loss.clone().detach()),
            value(recon.detach()),
            value(kl.detach()),
        );
        let want = GradientsParams::from_grads(loss.backward(), &model);

        let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
        assert!(
            close(value(figures.recon), want_recon),
            "reconstruction term"
        );
        assert!(close(value(figures.kl), want_kl), "KL term");
        assert!(close(value(figures.loss), want_loss), "loss");
        let (ours, burns) = (gathered(&model, &grads), gathered(&model, &want));
        assert_eq!(ours.len(), burns.len());
        for (a, b) in ours.iter().zip(&burns) {
            let scale = b.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() <= 1e-5 * scale.max(1e-3), "{x} vs {y}");
            }
        }
    }

    #[test]
    fn merge_adds_the_slices_as_burns_accumulator_does_bit_for_bit() {
        let device = Device::flex().autodiff();
        device.seed(9);
        let config = VaeConfig {
            hidden: vec![16],
            ..VaeConfig::default()
        };
        let model = Vae::new(&config, &device);
        let hyper = Hyper::plain(config, 1, 9, 1e-3, 9);
        let inputs: Vec<_> = [4, 3, 2]
            .into_iter()
            .map(|rows| {
                let x = Tensor::<2>::random(
                    [rows, crate::IMAGE_PIXELS],
                    Distribution::Uniform(0.0, 1.0),
                    &device,
                );
                (x, noise(rows, 2, &device))
            })
            .collect();
        let parts = || {
            inputs
                .iter()
                .map(|(x, eps)| gradients(&model, &hyper, x.clone(), eps.clone(), 1.0, 9))
                .collect::<Vec<_>>()
        };
        let mut accumulator = burn::optim::GradientsAccumulator::<Vae>::new();
        for (g, _) in parts() {
            accumulator.accumulate(&model, g);
        }
        let want = accumulator.grads();
        let mut parts = parts().into_iter();
        let first = parts.next().expect("three parts");
        let (got, _) = merge(&model, first, parts);
        let bits = |g: &GradientsParams| -> Vec<Vec<u32>> {
            let values = gathered(&model, g);
            values
                .iter()
                .map(|v| v.iter().map(|x| x.to_bits()).collect())
                .collect()
        };
        assert_eq!(bits(&got), bits(&want));
        assert_eq!(got.len(), want.len());
    }
}
