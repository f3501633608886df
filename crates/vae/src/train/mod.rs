//! Training, shared by the CLI trainer and the page's training worker (feature `train`): the
//! run's settings and schedules ([`Hyper`]), one step's parts ([`step`]), the run between steps
//! ([`TrainLoop`]), the moving average of the weights ([`Ema`]) and the training images'
//! distortions ([`augment`]). Everything here runs on any Burn device with autodiff; what is
//! native only (checkpoint files, threads, progress bars) stays in the trainer.

pub mod augment;
mod ema;
mod host_adam;
mod host_bce;
pub mod host_dense;
mod hyper;
mod run;
pub mod step;

pub use ema::Ema;
pub use hyper::Hyper;
pub use run::{TrainError, TrainLoop};
pub use step::{Batch, StepFigures};

/// Whether `device` (with or without autodiff) is the CPU backend, burn-flex: where the step's
/// host loops ([`host_bce`], [`host_adam`], [`host_dense`]) read and write tensors' buffers directly.
fn on_flex(device: &burn::prelude::Device) -> bool {
    // Device equality ignores autodiff.
    *device == burn::prelude::Device::flex()
}
