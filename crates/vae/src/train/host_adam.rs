//! Adam in one pass over each parameter on the host: the CPU backend's fast path for the
//! optimiser.
//!
//! Burn's [`Adam`] updates a parameter in thirteen element-wise tensor operations (the two
//! moments, the bias-corrected step, the subtraction), each a pass over memory with its own
//! allocation; on burn-flex that was a tenth of a training step. [`HostAdam`] does the same
//! arithmetic, in the same order and precision, in one loop over the parameter, its gradient
//! and its moments, and keeps Burn's state type ([`AdamState`]), so checkpoints are the same
//! files and a run resumes across either. On any other device (a GPU) it is Burn's Adam.

use burn::optim::{Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, Optimizer};
use burn::prelude::*;
use burn::tensor::DType;

use super::on_flex;

/// Adam's first-moment decay.
const BETA_1: f32 = 0.9;
/// Adam's second-moment decay.
const BETA_2: f32 = 0.999;

/// Adam (no weight decay, no AMSGrad) whose step runs on the host on the CPU backend.
#[derive(Clone)]
pub struct HostAdam {
    /// Burn's Adam with the same settings: the path on other devices.
    adam: Adam,
    epsilon: f32,
}

impl HostAdam {
    /// Adam with betas 0.9 and 0.999 (Burn's defaults) and `epsilon`.
    pub fn new(epsilon: f32) -> Self {
        let config = AdamConfig::new()
            .with_beta_1(BETA_1)
            .with_beta_2(BETA_2)
            .with_epsilon(epsilon);
        Self {
            adam: config.build(),
            epsilon,
        }
    }
}

/// Parameters longer than this are updated in chunks of it on rayon's threads (feature
/// `rayon`: the trainer's; the page's worker has one thread).
#[cfg(feature = "rayon")]
const CHUNK: usize = 1 << 16;

/// The constants of one Adam step, as Burn derives them.
#[derive(Clone, Copy)]
struct StepConstants {
    /// The first step: the moments are set from the gradient alone, as Burn does (a
    /// zero moment decayed and added to would turn −0.0 into +0.0).
    first: bool,
    beta_1: f32,
    beta_2: f32,
    /// √(1 − β₂ᵗ) / (1 − β₁ᵗ).
    combined_factor: f32,
    /// ε · √(1 − β₂ᵗ).
    denominator_epsilon: f32,
    lr: f32,
}

impl StepConstants {
    /// The constants of step `time` (1 at the first).
    fn new(adam: &HostAdam, time: usize, lr: f32) -> Self {
        let time = i32::try_from(time).unwrap_or(i32::MAX);
        let bias_correction2_sqrt = (1.0 - BETA_2.powi(time)).sqrt();
        Self {
            first: time == 1,
            beta_1: BETA_1,
            beta_2: BETA_2,
            combined_factor: bias_correction2_sqrt / (1.0 - BETA_1.powi(time)),
            denominator_epsilon: adam.epsilon * bias_correction2_sqrt,
            lr,
        }
    }
}

/// One Adam step over a parameter `p`, its gradient `g` and its moments `m` and `v` (of the
/// same length; overwritten at the first step), all updated in place: Burn's formulas,
/// operation for operation (no fused multiply-adds, so the same bits on every CPU).
#[inline(always)]
fn adam_pass(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], c: StepConstants) {
    let (f1, f2) = (1.0 - c.beta_1, 1.0 - c.beta_2);
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        if c.first {
            *m = g * f1;
            *v = g * g * f2;
        } else {
            *m = *m * c.beta_1 + g * f1;
            *v = *v * c.beta_2 + g * g * f2;
        }
        let step = *m * c.combined_factor / (v.sqrt() + c.denominator_epsilon);
        *p -= step * c.lr;
    }
}

/// [`adam_pass`] compiled for AVX2 too, and AVX-512 where pulp's `x86-v4` is on (the trainer's
/// build, through Burn's), the widest the CPU has taken at run time.
fn adam_pass_widest(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], c: StepConstants) {
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || adam_pass(p, g, m, v, c),
    );
}

/// [`adam_pass_widest`] over the whole parameter, a long one in chunks on rayon's threads.
fn adam_update(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], c: StepConstants) {
    #[cfg(feature = "rayon")]
    if p.len() > CHUNK {
        use rayon::prelude::*;
        p.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(|(((p, g), m), v)| adam_pass_widest(p, g, m, v, c));
        return;
    }
    adam_pass_widest(p, g, m, v, c);
}

impl Optimizer for HostAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let device = tensor.device();
        let moments = state
            .iter()
            .flat_map(|s| [&s.momentum.moment_1, &s.momentum.moment_2]);
        let all_f32 = [&tensor, &grad]
            .into_iter()
            .chain(moments)
            .all(|t| t.dtype() == DType::F32);
        if !on_flex(&device) || !all_f32 {
            return self.adam.step(lr, tensor, grad, state);
        }
        // Each tensor is read in place where it is the only owner of its buffer (burn-flex
        // hands the buffer over without a copy), and handed back the same way.
        let shape = tensor.shape();
        let (time, mut m, mut v) = match state {
            Some(s) => (
                s.momentum.time + 1,
                s.momentum.moment_1.into_data(),
                s.momentum.moment_2.into_data(),
            ),
            None => {
                let zeros = || TensorData::zeros::<f32, _>(shape.clone());
                (1, zeros(), zeros())
            }
        };
        let (mut p, g) = (tensor.into_data(), grad.into_data());
        let stepped = if let (Ok(ps), Ok(gs), Ok(ms), Ok(vs)) = (
            p.as_mut_slice::<f32>(),
            g.as_slice::<f32>(),
            m.as_mut_slice::<f32>(),
            v.as_mut_slice::<f32>(),
        ) && [gs.len(), ms.len(), vs.len()]
            .iter()
            .all(|&n| n == ps.len())
        {
            adam_update(ps, gs, ms, vs, StepConstants::new(self, time, lr as f32));
            true
        } else {
            false
        };
        let tensor = |data: TensorData| Tensor::<D>::from_data(data, &device);
        if !stepped {
            // A buffer that does not read as f32 in place (never seen), or moments of another
            // length than the parameter (a foreign state): Burn's Adam, on the values as they
            // were, decides.
            let state = (time > 1).then(|| {
                AdamState::new(AdaptiveMomentumState::new(time - 1, tensor(m), tensor(v)))
            });
            return self.adam.step(lr, tensor(p), tensor(g), state);
        }
        let momentum = AdaptiveMomentumState::new(time, tensor(m), tensor(v));
        (tensor(p), Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <Adam as Optimizer>::to_device(state, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values' bits: equal bits, not just equal values (±0, NaN).
    fn bits(t: &Tensor<2>) -> Vec<u32> {
        let values: Vec<f32> = t.clone().into_data().try_into_vec().unwrap();
        values.into_iter().map(f32::to_bits).collect()
    }

    /// Three steps of ours and of Burn's Adam on a parameter of `rows` × 3 values.
    fn check_three_steps(rows: usize) {
        let device = Device::flex();
        let tensor = |f: &dyn Fn(usize) -> f32| {
            let values: Vec<f32> = (0..rows * 3).map(f).collect();
            Tensor::<2>::from_data(TensorData::new(values, [rows, 3]), &device)
        };
        let ours = HostAdam::new(1e-7);
        let burns = AdamConfig::new().with_epsilon(1e-7).build();
        let mut a = tensor(&|i| ((i * 7) % 11) as f32 * 0.3 - 1.5);
        let mut b = a.clone();
        let (mut sa, mut sb) = (None, None);
        for (step, lr) in [(0, 0.01), (1, 0.005), (2, 0.02)] {
            let g = |i: usize| match (i + step) % 6 {
                0 => 0.0,
                5 => -0.0,
                1 => 1e-6,
                k => (k as f32 - 2.5) * (1.0 + step as f32),
            };
            (a, sa) = ours.step(lr, a, tensor(&g), sa);
            (b, sb) = burns.step(lr, b, tensor(&g), sb);
        }
        assert_eq!(bits(&a), bits(&b));
        let (sa, sb) = (sa.unwrap().momentum, sb.unwrap().momentum);
        assert_eq!(sa.time, sb.time);
        assert_eq!(bits(&sa.moment_1), bits(&sb.moment_1));
        assert_eq!(bits(&sa.moment_2), bits(&sb.moment_2));
    }

    #[test]
    fn three_steps_equal_burns_adam_bit_for_bit() {
        check_three_steps(2);
    }

    #[test]
    fn a_long_parameter_in_chunks_equals_burns_adam_bit_for_bit() {
        // 300,000 values: several chunks and a partial one when rayon splits them.
        check_three_steps(100_000);
    }
}
