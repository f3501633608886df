//! The loss terms: formulas checked against direct computation and Monte-Carlo estimates, and
//! a few optimisation steps that must make the loss fall.

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;
use vae::loss::{LossTerms, bce_from_logits, kl_to_standard_normal, squared_error_from_logits};
use vae::{Activation, Posterior, Recon, Vae, VaeConfig};

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32 tensor")
}

fn device() -> Device {
    Device::flex()
}

#[test]
fn bce_from_logits_matches_the_textbook_formula() {
    let d = device();
    let logits = [-30.0f32, -2.0, 0.0, 0.5, 3.0, 30.0];
    let target = [0.0f32, 0.3, 1.0, 0.5, 0.9, 1.0];
    let got = values(bce_from_logits(
        Tensor::from_floats([logits], &d),
        Tensor::from_floats([target], &d),
    ))[0];
    let expected: f64 = logits
        .iter()
        .zip(target)
        .map(|(&l, x)| {
            let p = 1.0 / (1.0 + (-f64::from(l)).exp());
            let p = p.clamp(1e-300, 1.0 - 1e-16);
            -(f64::from(x) * p.ln() + (1.0 - f64::from(x)) * (1.0 - p).ln())
        })
        .sum();
    assert!(
        (f64::from(got) - expected).abs() < 1e-3,
        "{got} vs {expected}"
    );
}

#[test]
fn squared_error_sums_over_pixels() {
    let d = device();
    // sigmoid(0) = 0.5: errors 0.5 and 0.5 → 0.25 + 0.25.
    let got = values(squared_error_from_logits(
        Tensor::from_floats([[0.0, 0.0]], &d),
        Tensor::from_floats([[0.0, 1.0]], &d),
    ))[0];
    assert!((got - 0.5).abs() < 1e-6, "{got}");
}

#[test]
fn kl_is_zero_for_the_prior_itself() {
    let d = device();
    let posterior = Posterior {
        mean: Tensor::zeros([3, 2], &d),
        log_var: Tensor::zeros([3, 2], &d),
    };
    assert!(
        values(kl_to_standard_normal(&posterior))
            .iter()
            .all(|v| v.abs() < 1e-7)
    );
}

#[test]
fn kl_matches_a_monte_carlo_estimate() {
    // KL(q‖p) = E_q[log q(z) − log p(z)], estimated with 200,000 samples of z ~ q.
    let d = device();
    d.seed(42);
    let (mu, log_var) = ([0.7f32, -1.3], [-0.9f32, 0.6]);
    let posterior = Posterior {
        mean: Tensor::from_floats([mu], &d),
        log_var: Tensor::from_floats([log_var], &d),
    };
    let analytic = f64::from(values(kl_to_standard_normal(&posterior))[0]);

    let n = 200_000;
    let eps = values(Tensor::<2>::random(
        [n, 2],
        Distribution::Normal(0.0, 1.0),
        &d,
    ));
    let mut total = 0.0f64;
    for e in eps.chunks_exact(2) {
        for k in 0..2 {
            let sigma = (0.5 * f64::from(log_var[k])).exp();
            let z = f64::from(mu[k]) + sigma * f64::from(e[k]);
            let log_q = -0.5 * f64::from(e[k]).powi(2) - sigma.ln();
            let log_p = -0.5 * z * z;
            total += log_q - log_p; // the ½ log 2π terms cancel
        }
    }
    let estimate = total / n as f64;
    assert!(
        (estimate - analytic).abs() < 0.02,
        "analytic {analytic:.4}, Monte Carlo {estimate:.4}"
    );
}

#[test]
fn loss_falls_within_a_few_steps_on_a_synthetic_set() {
    let d = device().autodiff();
    d.seed(7);
    let config = VaeConfig {
        latent: 2,
        hidden: vec![32],
        decoder_hidden: None,
        activation: Activation::Silu,
    };
    let mut model = Vae::new(&config, &d);
    let mut optim = AdamConfig::new().init();
    // Two prototype "images" (left half lit, right half lit), 16 noisy copies each.
    let mut pixels = Vec::new();
    for i in 0..32 {
        for p in 0..vae::IMAGE_PIXELS {
            let lit = (p % 28 < 14) == (i % 2 == 0);
            pixels.push(if lit { 0.9 } else { 0.05 } + 0.05 * ((i * 31 + p) % 3) as f32);
        }
    }
    let x = Tensor::<2>::from_data(TensorData::new(pixels, [32, vae::IMAGE_PIXELS]), &d);
    let mut losses = Vec::new();
    for _ in 0..30 {
        let output = model.forward(x.clone());
        let loss = LossTerms::new(Recon::Bce, &output, x.clone()).objective(1.0);
        losses.push(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    assert!(
        last < 0.7 * first,
        "loss went from {first} to {last}: {losses:?}"
    );
}

#[test]
fn bce_gradient_is_sigmoid_minus_target() {
    let d = device().autodiff();
    let logits = [-30.0f32, -2.0, 0.0, 0.5, 3.0, 30.0];
    let target = [0.0f32, 0.3, 1.0, 0.5, 0.9, 1.0];
    let l = Tensor::<2>::from_floats([logits], &d).require_grad();
    let loss = bce_from_logits(l.clone(), Tensor::from_floats([target], &d)).sum();
    let grads = loss.backward();
    let grad = values(l.grad(&grads).expect("a gradient"));
    for ((g, &l), x) in grad.iter().zip(&logits).zip(target) {
        let expected = 1.0 / (1.0 + (-l).exp()) - x;
        assert!(
            (g - expected).abs() < 1e-5,
            "d/dl at {l}: {g} vs {expected}"
        );
    }
}

#[test]
fn dropout_is_off_at_evaluation_and_on_in_training() {
    let config = VaeConfig {
        hidden: vec![64],
        ..VaeConfig::default()
    };
    let plain = device();
    plain.seed(5);
    let model = Vae::new(&config, &plain);
    let x = Tensor::<2>::ones([4, vae::IMAGE_PIXELS], &plain).mul_scalar(0.5);
    let a = values(model.encode(x.clone()).mean);
    let b = values(model.forward_with_dropout(x.clone(), 0.0).posterior.mean);
    assert_eq!(a, b, "rate 0 is the identity");
    let c = values(model.forward_with_dropout(x, 0.5).posterior.mean);
    assert_ne!(a, c, "rate 0.5 must change the encoding while training");
}
