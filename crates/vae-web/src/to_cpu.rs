//! A model's weights copied to the CPU asynchronously. Burn's own ways to move a module between
//! devices (`Module::to_device`, records, `weights::to_bytes`) read synchronously, which WebGPU
//! forbids; this reads every parameter in one asynchronous transfer and builds the same model
//! on the CPU from the values.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use vae::{Vae, VaeConfig};

use crate::backend::cpu_device;
use crate::error::{ErrorKind, WebError};
use crate::session::read;

/// Collects every float parameter, flattened, in the modules' traversal order.
struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().reshape([-1]));
    }
}

/// Replaces every float parameter, in the same order, by the next values read back, on the CPU.
struct Fill {
    values: Vec<f32>,
    at: usize,
    short: bool,
    device: Device,
}

impl ModuleMapper for Fill {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let shape = param.lazy_shape();
        let n = shape.num_elements();
        let Some(values) = self.values.get(self.at..self.at + n) else {
            self.short = true;
            return param;
        };
        self.at += n;
        let tensor = Tensor::from_data(TensorData::new(values.to_vec(), shape), &self.device);
        Param::initialized(param.id, tensor)
    }
}

/// `model` (of `architecture`, on any device) with the same weights on the CPU, read back
/// asynchronously in one transfer: safe on WebGPU, where a synchronous read would trap.
pub async fn model_on_cpu(model: &Vae, architecture: &VaeConfig) -> Result<Vae, WebError> {
    let mut collect = Collect(Vec::new());
    model.visit(&mut collect);
    let expected: usize = collect.0.iter().map(|t| t.shape().num_elements()).sum();
    let values = read(Tensor::cat(collect.0, 0)).await?;
    let device = cpu_device();
    let mut fill = Fill {
        values,
        at: 0,
        short: false,
        device: device.clone(),
    };
    let copy = Vae::new(architecture, &device).map(&mut fill);
    if fill.short || fill.at != expected || fill.at != fill.values.len() {
        return Err(WebError::new(
            ErrorKind::BadModel,
            format!(
                "copying the weights to the CPU: the model holds {expected} values, the \
                 architecture {:?} takes {}",
                architecture.hidden, fill.at
            ),
        ));
    }
    Ok(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every weight of `model`, in traversal order, with the shapes.
    fn values(model: &Vae) -> (Vec<f32>, Vec<Vec<usize>>) {
        let mut collect = Collect(Vec::new());
        model.visit(&mut collect);
        struct Shapes(Vec<Vec<usize>>);
        impl ModuleVisitor for Shapes {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.push(param.val().dims().to_vec());
            }
        }
        let mut shapes = Shapes(Vec::new());
        model.visit(&mut shapes);
        let flat = Tensor::cat(collect.0, 0)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        (flat, shapes.0)
    }

    #[test]
    fn the_copy_holds_the_same_weights() {
        let device = cpu_device();
        let config = VaeConfig {
            hidden: vec![16, 8],
            ..VaeConfig::default()
        };
        let model = Vae::new(&config, &device);
        let copy = pollster::block_on(model_on_cpu(&model, &config)).unwrap();
        let ((a, shapes_a), (b, shapes_b)) = (values(&model), values(&copy));
        assert_eq!(shapes_a, shapes_b);
        assert!(a.len() > 1000 && a == b, "the values differ");
    }

    #[test]
    fn a_model_of_another_architecture_is_refused() {
        let device = cpu_device();
        let small = VaeConfig {
            hidden: vec![16],
            ..VaeConfig::default()
        };
        let model = Vae::new(&small, &device);
        let wide = VaeConfig {
            hidden: vec![32],
            ..VaeConfig::default()
        };
        let e = pollster::block_on(model_on_cpu(&model, &wide)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadModel);
        assert!(e.message.contains("copying the weights"), "{}", e.message);
    }
}
