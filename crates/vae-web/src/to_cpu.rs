//! A model's weights copied to the CPU asynchronously. Burn's own ways to move a module between
//! devices (`Module::to_device`, records, `weights::to_bytes`) read synchronously, which WebGPU
//! forbids; this reads every parameter in one asynchronous transfer and builds the same model
//! on the CPU from the values.

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use vae::Vae;

use crate::backend::cpu_device;
use crate::error::{ErrorKind, WebError};
use crate::session::read;

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

/// `model` with its float parameters replaced, in traversal order, by `values` on the CPU: the
/// shapes come from `model` itself, and the values must fill them exactly.
fn filled(model: &Vae, values: Vec<f32>) -> Result<Vae, WebError> {
    let mut fill = Fill {
        values,
        at: 0,
        short: false,
        device: cpu_device(),
    };
    let copy = model.clone().map(&mut fill);
    if fill.short || fill.at != fill.values.len() {
        return Err(WebError::new(
            ErrorKind::Device,
            format!(
                "copying the weights to the CPU: {} values read back for parameters that hold {}",
                fill.values.len(),
                if fill.short {
                    format!("more than {}", fill.at)
                } else {
                    fill.at.to_string()
                }
            ),
        ));
    }
    Ok(copy)
}

/// `model` (on any device) with the same weights on the CPU, read back asynchronously in one
/// transfer: safe on WebGPU, where a synchronous read would trap.
pub async fn model_on_cpu(model: &Vae) -> Result<Vae, WebError> {
    let values = read(Tensor::cat(model.flat_parameters(), 0)).await?;
    filled(model, values)
}

#[cfg(test)]
mod tests {
    use burn::module::ModuleVisitor;

    use super::*;

    /// Every weight of `model`, in traversal order, with the shapes.
    fn values(model: &Vae) -> (Vec<f32>, Vec<Vec<usize>>) {
        struct Shapes(Vec<Vec<usize>>);
        impl ModuleVisitor for Shapes {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.push(param.val().dims().to_vec());
            }
        }
        let mut shapes = Shapes(Vec::new());
        model.visit(&mut shapes);
        let flat = Tensor::cat(model.flat_parameters(), 0)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        (flat, shapes.0)
    }

    fn model() -> Vae {
        let config = vae::VaeConfig {
            hidden: vec![16, 8],
            ..vae::VaeConfig::default()
        };
        Vae::new(&config, &cpu_device())
    }

    #[test]
    fn the_copy_holds_the_same_weights() {
        let model = model();
        let copy = pollster::block_on(model_on_cpu(&model)).unwrap();
        let ((a, shapes_a), (b, shapes_b)) = (values(&model), values(&copy));
        assert_eq!(shapes_a, shapes_b);
        assert!(a.len() > 1000 && a == b, "the values differ");
    }

    #[test]
    fn values_that_do_not_fill_the_parameters_are_an_error() {
        let model = model();
        let (all, _) = values(&model);
        for wrong in [
            all[..all.len() - 1].to_vec(),
            [all.clone(), vec![0.0]].concat(),
        ] {
            let e = filled(&model, wrong).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Device);
            assert!(e.message.contains("copying the weights"), "{}", e.message);
        }
        assert!(filled(&model, all).is_ok());
    }
}
