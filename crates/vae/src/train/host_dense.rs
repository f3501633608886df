//! A dense layer, act(x·W + b), as one operation with its own backward pass on the CPU
//! backend (burn-flex): the model's every linear layer and its activation, forward and
//! backward, in matrix products written straight into fresh buffers and one pass each side for
//! the bias and the activation.
//!
//! Burn's `Linear` followed by an activation is, on burn-flex, a matrix product whose output is
//! allocated zeroed as bytes and then copied into an aligned buffer (a tenth of a training
//! step), a bias addition and an activation forward, and as many element-wise passes again
//! backward, each with its own allocation and autodiff node. Here the forward pass is one
//! product (`gemm`, the kernel burn-flex itself calls) and one pass adding the bias and applying
//! the activation; the backward pass one pass through the activation's derivative, one for the
//! bias's gradient and one product for each of the weight's and the input's gradients, taken
//! only where autodiff asks for them. The values are Burn's up to float rounding (tests below
//! compare every output and gradient with `Linear` and the activation).
//!
//! It is a Burn backend extension ([`DenseBackend`], `#[backend_extension]`): the extension
//! trait for burn-flex and for autodiff on burn-flex, reached through the dispatch backend with
//! `into_dispatch`/`from_dispatch`. Other devices (a GPU) keep `Linear` ([`dense`] says where).

use std::borrow::Cow;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend, Dispatch, Flex, backend_extension};
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::{Bytes, DType};

use super::host_bce::exp_neg;
use super::on_flex;
use crate::config::Activation;

/// The dense layer as a backend operation: burn-flex's and autodiff-on-burn-flex's.
#[backend_extension(Flex, Autodiff)]
pub trait DenseBackend: Backend {
    /// act(x·W + b) for inputs `x` `[n, k]`, weight `[k, m]` and bias `[m]`: `[n, m]`; no
    /// activation where `activation` is `None`.
    fn dense(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        activation: Option<Activation>,
    ) -> FloatTensor<Self>;
}

/// `layer` applied to `x` `[n, k]`, then `activation` where one is given, as one
/// [`DenseBackend`] operation: on burn-flex (with or without autodiff), for f32 tensors and a
/// layer with a bias. `None` elsewhere, for Burn's `Linear` and activation.
pub fn dense(layer: &Linear, x: &Tensor<2>, activation: Option<Activation>) -> Option<Tensor<2>> {
    let bias = layer.bias.as_ref()?;
    let (weight, bias) = (layer.weight.val(), bias.val());
    let all_f32 = [x.dtype(), weight.dtype(), bias.dtype()] == [DType::F32; 3];
    if !all_f32 || !on_flex(&x.device()) {
        return None;
    }
    let y = <Dispatch as DenseBackend>::dense(
        x.clone().into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        activation,
    );
    Some(Tensor::from_dispatch(y))
}

/// An f32 tensor's values in row-major order: a view where the tensor already is so, a copy
/// otherwise.
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(
            t.to_contiguous()
                .as_slice::<f32>()
                .expect("contiguous")
                .to_vec(),
        ),
    }
}

/// A 2-D f32 tensor's values in row-major order (see [`values`]) and its dimensions.
fn row_major(t: &FlexTensor) -> (Cow<'_, [f32]>, usize, usize) {
    let shape = t.layout().shape();
    assert_eq!(
        shape.num_dims(),
        2,
        "dense: a matrix operand has {} dims",
        shape.num_dims()
    );
    (values(t), shape[0], shape[1])
}

/// A burn-flex tensor of `shape` over `values`, without a copy.
fn flex_tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(values),
        Layout::contiguous(Shape::from(shape.to_vec())),
        DType::F32,
    )
}

/// An operand of a matrix product: `rows` × `cols` values at `values[i·row_stride +
/// j·col_stride]` (a row-major matrix, or its transpose with the strides swapped).
#[derive(Clone, Copy)]
struct Operand<'a> {
    values: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Operand<'a> {
    /// A row-major `rows` × `cols` matrix.
    fn rows(values: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            values,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major `rows` × `cols` matrix.
    fn transposed(values: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            values,
            rows: cols,
            cols: rows,
            row_stride: 1,
            col_stride: cols,
        }
    }
}

/// lhs · rhs into a fresh row-major buffer, by gemm (on rayon's threads for large products,
/// as burn-flex decides). The workspace's one `unsafe` block: gemm takes raw pointers and
/// strides, so every index it can read is checked against its slice first.
#[allow(unsafe_code)]
fn product(lhs: Operand<'_>, rhs: Operand<'_>) -> Vec<f32> {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(
        k, rhs.rows,
        "dense: inner dimensions {k} and {} differ",
        rhs.rows
    );
    for op in [lhs, rhs] {
        let last = (op.rows.max(1) - 1)
            .checked_mul(op.row_stride)
            .and_then(|r| r.checked_add((op.cols.max(1) - 1).checked_mul(op.col_stride)?))
            .expect("dense: an operand's extent overflows usize");
        assert!(
            op.rows * op.cols == 0 || last < op.values.len(),
            "dense: an operand of {} values is read up to index {last}",
            op.values.len()
        );
    }
    let len = m
        .checked_mul(n)
        .expect("dense: the output's size overflows usize");
    let mut out = vec![0.0_f32; len];
    let work = len.saturating_mul(k);
    if work == 0 {
        return out;
    }
    let stride = |s: usize| isize::try_from(s).expect("a stride fits in isize");
    // SAFETY: every index read is within its operand (checked above) and the output is an
    // exclusive m × n row-major buffer; gemm reads nothing of it (`read_dst` false).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            stride(n),
            false,
            lhs.values.as_ptr(),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.values.as_ptr(),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism(work),
        );
    }
    out
}

#[cfg(feature = "rayon")]
thread_local! {
    /// Set by [`serial_kernels`] on the thread running its closure.
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the dense layers' products single-threaded on this thread: for work that is
/// already one of several parallel jobs (the trainer's batch slices), where splitting each
/// product over the cores too only adds hand-offs.
#[cfg(feature = "rayon")]
pub fn serial_kernels<R>(f: impl FnOnce() -> R) -> R {
    /// Restores the thread's setting on the way out, a panic included.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SERIAL.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SERIAL.with(|s| s.replace(true)));
    f()
}

/// burn-flex's choice, products of at least 192³ multiply-adds on all of rayon's threads,
/// unless this thread runs [`serial_kernels`].
fn parallelism(work: usize) -> gemm::Parallelism {
    #[cfg(feature = "rayon")]
    if work >= 192 * 192 * 192 && !SERIAL.with(std::cell::Cell::get) {
        return gemm::Parallelism::Rayon(0);
    }
    let _ = work;
    gemm::Parallelism::None
}

/// max(p, 0) as burn-flex computes it: a NaN stays NaN (`f32::max` would make it 0 and hide
/// a diverged model).
#[inline(always)]
fn relu(p: f32) -> f32 {
    if p.is_nan() || p > 0.0 { p } else { 0.0 }
}

/// σ(p), from e = exp(−|p|) as the cross-entropy's pass computes it.
#[inline(always)]
fn sigmoid(p: f32) -> f32 {
    let e = exp_neg(p.abs());
    if p >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

/// The forward pass's results: the output and, where asked for, the pre-activation x·W + b.
struct Forward {
    output: FlexTensor,
    pre: Option<FlexTensor>,
}

/// act(x·W + b) on the host; `keep_pre` keeps x·W + b too (SiLU's backward pass needs it).
fn forward(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
    activation: Option<Activation>,
    keep_pre: bool,
) -> Forward {
    let (xs, n, k) = row_major(x);
    let (ws, k2, m) = row_major(weight);
    let bs = values(bias);
    assert_eq!(
        k, k2,
        "dense: inputs of width {k} for a weight of {k2} rows"
    );
    assert_eq!(
        bs.len(),
        m,
        "dense: a bias of {} values for {m} outputs",
        bs.len()
    );
    let mut y = product(Operand::rows(&xs, n, k), Operand::rows(&ws, k, m));
    let mut pre = None;
    match activation {
        None => each_row(&mut y, m, |row| {
            row.iter_mut().zip(bs.iter()).for_each(|(v, b)| *v += b)
        }),
        Some(Activation::Relu) => each_row(&mut y, m, |row| {
            row.iter_mut()
                .zip(bs.iter())
                .for_each(|(v, b)| *v = relu(*v + b))
        }),
        // Without autodiff nothing keeps the pre-activation: SiLU in place.
        Some(Activation::Silu) if !keep_pre => each_row(&mut y, m, |row| {
            row.iter_mut().zip(bs.iter()).for_each(|(v, b)| {
                let q = *v + b;
                *v = q * sigmoid(q);
            })
        }),
        Some(Activation::Silu) => {
            let mut p = vec![0.0_f32; n * m];
            each_row_pair(&mut y, &mut p, m, |row, pre_row| {
                for ((v, q), b) in row.iter_mut().zip(pre_row.iter_mut()).zip(bs.iter()) {
                    *q = *v + b;
                    *v = *q * sigmoid(*q);
                }
            });
            pre = Some(flex_tensor(p, &[n, m]));
        }
    }
    Forward {
        output: flex_tensor(y, &[n, m]),
        pre,
    }
}

/// `f` on each `width`-long row of `values`, vectorised for the widest unit the CPU has.
fn each_row(values: &mut [f32], width: usize, f: impl Fn(&mut [f32])) {
    if width == 0 {
        return;
    }
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || values.chunks_exact_mut(width).for_each(&f),
    );
}

/// `f` on each pair of rows of `a` and `b`, vectorised for the widest unit the CPU has.
fn each_row_pair(a: &mut [f32], b: &mut [f32], width: usize, f: impl Fn(&mut [f32], &mut [f32])) {
    if width == 0 {
        return;
    }
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            a.chunks_exact_mut(width)
                .zip(b.chunks_exact_mut(width))
                .for_each(|(a, b)| f(a, b))
        },
    );
}

/// The gradient in the pre-activation from the gradient in the output: ∂L/∂(x·W + b).
/// `saved` is the output for ReLU and the pre-activation for SiLU.
fn through_activation<'a>(
    grad: &'a [f32],
    saved: Option<&[f32]>,
    activation: Option<Activation>,
) -> Cow<'a, [f32]> {
    let Some(activation) = activation else {
        return Cow::Borrowed(grad);
    };
    let saved = saved.expect("dense: the activation's saved values");
    assert_eq!(
        saved.len(),
        grad.len(),
        "dense: saved values and gradient differ in length"
    );
    let mut out = vec![0.0_f32; grad.len()];
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            let pairs = out.iter_mut().zip(grad.iter().zip(saved));
            match activation {
                // burn-flex's: the gradient where the output is positive or NaN, zero elsewhere.
                Activation::Relu => {
                    pairs.for_each(|(o, (&g, &y))| *o = if y.is_nan() || y > 0.0 { g } else { 0.0 })
                }
                // d/dp p·σ(p) = σ(p)·(1 + p·(1 − σ(p))).
                Activation::Silu => pairs.for_each(|(o, (&g, &p))| {
                    let s = sigmoid(p);
                    *o = g * (s * (1.0 + p * (1.0 - s)));
                }),
            }
        },
    );
    Cow::Owned(out)
}

/// The sums of the columns of a row-major matrix of `width` columns: the bias's gradient.
fn column_sums(values: &[f32], width: usize) -> Vec<f32> {
    let mut sums = vec![0.0_f32; width];
    if width == 0 {
        return sums;
    }
    pulp::Arch::new().dispatch(
        #[inline(always)]
        || {
            for row in values.chunks_exact(width) {
                sums.iter_mut().zip(row).for_each(|(s, v)| *s += v);
            }
        },
    );
    sums
}

impl DenseBackend for Flex {
    fn dense(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        activation: Option<Activation>,
    ) -> FlexTensor {
        forward(&x, &weight, &bias, activation, false).output
    }
}

/// The dense layer's backward pass.
#[derive(Debug)]
struct DenseBackward;

/// What the backward pass needs: the input where the weight's gradient is asked for, the
/// weight where the input's is, the activation's saved values (output or pre-activation).
#[derive(Clone, Debug)]
struct DenseState {
    x: Option<FlexTensor>,
    weight: Option<FlexTensor>,
    saved: Option<FlexTensor>,
    activation: Option<Activation>,
}

impl Backward<Flex, 3> for DenseBackward {
    type State = DenseState;

    fn backward(self, ops: Ops<DenseState, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let state = ops.state;
        let (g, n, m) = row_major(&grad);
        let saved = state.saved.as_ref().map(values);
        let d = through_activation(&g, saved.as_deref(), state.activation);
        if let Some(node) = node_bias {
            grads.register::<Flex>(node.id, flex_tensor(column_sums(&d, m), &[m]));
        }
        if let Some(node) = node_weight {
            let x = state
                .x
                .as_ref()
                .expect("dense: the input, kept for the weight's gradient");
            let (xs, rows, k) = row_major(x);
            assert_eq!(rows, n, "dense: {rows} inputs for a gradient of {n} rows");
            let dw = product(Operand::transposed(&xs, n, k), Operand::rows(&d, n, m));
            grads.register::<Flex>(node.id, flex_tensor(dw, &[k, m]));
        }
        if let Some(node) = node_x {
            let w = state
                .weight
                .as_ref()
                .expect("dense: the weight, kept for the input's gradient");
            let (ws, k, cols) = row_major(w);
            assert_eq!(
                cols, m,
                "dense: a weight of {cols} columns for a gradient of {m}"
            );
            let dx = product(Operand::rows(&d, n, m), Operand::transposed(&ws, k, m));
            grads.register::<Flex>(node.id, flex_tensor(dx, &[n, k]));
        }
    }
}

impl<C: CheckpointStrategy> DenseBackend for Autodiff<Flex, C> {
    fn dense(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        activation: Option<Activation>,
    ) -> FloatTensor<Self> {
        let (x_tracked, weight_tracked) = (x.is_tracked(), weight.is_tracked());
        let nodes = [x.node(), weight.node(), bias.node()];
        let (x, weight, bias) = (Self::inner(x), Self::inner(weight), Self::inner(bias));
        match DenseBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let keep_pre = activation == Some(Activation::Silu);
                let f = forward(&x, &weight, &bias, activation, keep_pre);
                let saved = match activation {
                    Some(Activation::Silu) => f.pre,
                    Some(Activation::Relu) => Some(f.output.clone()),
                    None => None,
                };
                let state = DenseState {
                    x: weight_tracked.then_some(x),
                    weight: x_tracked.then_some(weight),
                    saved,
                    activation,
                };
                prep.finish(state, f.output)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(forward(&x, &weight, &bias, activation, false).output)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::LinearConfig;
    use burn::tensor::Distribution;
    use burn::tensor::activation::{relu, silu};

    use super::*;

    /// The largest difference between two tensors' values, relative to the larger magnitude
    /// (at least 1).
    fn worst(a: Tensor<2>, b: Tensor<2>) -> f32 {
        let a: Vec<f32> = a.into_data().try_into_vec().expect("f32");
        let b: Vec<f32> = b.into_data().try_into_vec().expect("f32");
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs() / x.abs().max(y.abs()).max(1.0))
            .fold(0.0, f32::max)
    }

    fn burns(layer: &Linear, x: Tensor<2>, activation: Option<Activation>) -> Tensor<2> {
        let y = layer.forward(x);
        match activation {
            Some(Activation::Relu) => relu(y),
            Some(Activation::Silu) => silu(y),
            None => y,
        }
    }

    /// The input as the model meets it: a slice of rows of a larger batch (an offset view), or
    /// a transposed (strided) one.
    fn input(device: &Device, strided: bool) -> Tensor<2> {
        let big = Tensor::<2>::random([9, 40], Distribution::Normal(0.0, 2.0), device);
        if strided {
            big.narrow(0, 0, 7)
                .narrow(1, 0, 7)
                .transpose()
                .narrow(0, 1, 5)
        } else {
            big.narrow(0, 2, 5).narrow(1, 0, 7)
        }
    }

    #[test]
    fn output_and_every_gradient_match_linear_and_the_activation() {
        let device = Device::flex().autodiff();
        device.seed(3);
        let layer = LinearConfig::new(7, 6).init(&device);
        for activation in [None, Some(Activation::Relu), Some(Activation::Silu)] {
            for (tracked, strided) in [(false, false), (true, false), (true, true)] {
                let x = input(&device, strided);
                let x = if tracked { x.require_grad() } else { x };
                let weights = Tensor::<2>::random([5, 6], Distribution::Normal(0.0, 1.0), &device);
                let ours = dense(&layer, &x, activation).expect("burn-flex, f32, a bias");
                let theirs = burns(&layer, x.clone(), activation);
                let case = format!("{activation:?}, x tracked {tracked}, strided {strided}");
                assert!(worst(ours.clone(), theirs.clone()) < 1e-6, "output: {case}");
                let g_ours = (ours * weights.clone()).sum().backward();
                let g_theirs = (theirs * weights).sum().backward();
                let grad =
                    |p: &Tensor<2>, g| Tensor::<2>::from_inner(p.grad(g).expect("a gradient"));
                let w = layer.weight.val();
                assert!(
                    worst(grad(&w, &g_ours), grad(&w, &g_theirs)) < 1e-5,
                    "weight: {case}"
                );
                let bias = |g| {
                    let b = layer.bias.as_ref().expect("a bias").val();
                    Tensor::<1>::from_inner(b.grad(g).expect("a gradient")).unsqueeze::<2>()
                };
                assert!(worst(bias(&g_ours), bias(&g_theirs)) < 1e-5, "bias: {case}");
                match tracked {
                    true => assert!(
                        worst(grad(&x, &g_ours), grad(&x, &g_theirs)) < 1e-5,
                        "x: {case}"
                    ),
                    false => assert!(
                        x.grad(&g_ours).is_none(),
                        "x untracked has a gradient: {case}"
                    ),
                }
            }
        }
    }

    #[test]
    fn without_autodiff_the_output_matches_too() {
        let device = Device::flex();
        device.seed(4);
        let layer = LinearConfig::new(7, 6).init(&device);
        for activation in [None, Some(Activation::Relu), Some(Activation::Silu)] {
            let x = input(&device, true);
            let ours = dense(&layer, &x, activation).expect("burn-flex, f32, a bias");
            assert!(
                worst(ours, burns(&layer, x, activation)) < 1e-6,
                "{activation:?}"
            );
        }
    }

    #[test]
    fn a_nan_stays_nan_and_a_broadcast_gradient_is_read() {
        let device = Device::flex().autodiff();
        let layer = LinearConfig::new(2, 3).init(&device);
        let nans = |t: Tensor<2>| -> Vec<bool> {
            let v: Vec<f32> = t.into_data().try_into_vec().expect("f32");
            v.iter().map(|x| x.is_nan()).collect()
        };
        let w = layer.weight.val();
        let grad = |g: &_| Tensor::<2>::from_inner(w.grad(g).expect("a gradient"));
        for activation in [None, Some(Activation::Relu), Some(Activation::Silu)] {
            let x = Tensor::<2>::from_floats([[f32::NAN, 1.0], [0.5, -2.0]], &device);
            let ours = dense(&layer, &x, activation).expect("burn-flex, f32, a bias");
            let theirs = burns(&layer, x, activation);
            assert_eq!(nans(ours.clone()), nans(theirs.clone()), "{activation:?}");
            assert!(
                nans(ours.clone()).iter().any(|&n| n),
                "{activation:?}: NaN kept"
            );
            // `sum()`'s gradient reaches the layer as a broadcast of ones (stride 0).
            let (g_ours, g_theirs) = (ours.sum().backward(), theirs.sum().backward());
            assert_eq!(nans(grad(&g_ours)), nans(grad(&g_theirs)), "{activation:?}");
        }
        let clean = Tensor::<2>::from_floats([[0.3, 1.0], [0.5, -2.0]], &device);
        let ours = dense(&layer, &clean, Some(Activation::Silu)).expect("dense");
        let theirs = burns(&layer, clean, Some(Activation::Silu));
        let (g_ours, g_theirs) = (ours.sum().backward(), theirs.sum().backward());
        assert!(
            worst(grad(&g_ours), grad(&g_theirs)) < 1e-5,
            "broadcast gradient"
        );
    }

    #[test]
    fn an_empty_layer_or_batch_gives_an_empty_output() {
        let device = Device::flex();
        // (inputs, outputs, batch, activation): a layer of no outputs, then a batch of no rows.
        for (inputs, outputs, rows, activation) in
            [(3, 0, 2, Activation::Relu), (3, 2, 0, Activation::Silu)]
        {
            let layer = LinearConfig::new(inputs, outputs).init(&device);
            let x = Tensor::zeros([rows, inputs], &device);
            let y = dense(&layer, &x, Some(activation)).expect("dense");
            assert_eq!(y.dims(), [rows, outputs]);
        }
    }

    #[test]
    fn a_layer_without_bias_is_left_to_burn() {
        let device = Device::flex();
        let layer = LinearConfig::new(3, 2).with_bias(false).init(&device);
        assert!(dense(&layer, &Tensor::zeros([1, 3], &device), None).is_none());
    }

    #[cfg(feature = "rayon")]
    #[test]
    fn serial_kernels_holds_for_its_closure_only_and_nests() {
        let big = 192 * 192 * 192;
        assert!(matches!(parallelism(big), gemm::Parallelism::Rayon(_)));
        assert!(matches!(parallelism(big - 1), gemm::Parallelism::None));
        serial_kernels(|| {
            serial_kernels(|| assert!(matches!(parallelism(big), gemm::Parallelism::None)));
            assert!(
                matches!(parallelism(big), gemm::Parallelism::None),
                "still inside"
            );
        });
        let _ = std::panic::catch_unwind(|| serial_kernels(|| panic!("inside")));
        assert!(
            matches!(parallelism(big), gemm::Parallelism::Rayon(_)),
            "restored"
        );
    }

    #[test]
    fn sigmoid_matches_the_formula() {
        for i in -400..=400 {
            let p = i as f32 * 0.05;
            let want = 1.0 / (1.0 + (-f64::from(p)).exp());
            assert!((f64::from(sigmoid(p)) - want).abs() < 2e-7, "σ({p})");
        }
        assert!(sigmoid(f32::NAN).is_nan());
    }
}
