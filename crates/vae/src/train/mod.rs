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

/// The widest SIMD the CPU backend's host loops run at on this CPU, as `pulp` detects it at
/// run time; gemm's products detect the same instruction sets for themselves. `"avx512"` only
/// where the CPU has AVX-512 *and* the build compiled those kernels (the trainer's `avx512`
/// feature); `"avx2"`, `"simd128"` (WebAssembly), `"neon"` or `"scalar"` otherwise.
pub fn simd_level() -> &'static str {
    // `Arch`'s variants depend on pulp's features, which Cargo unifies across the build; its
    // `Debug` names the one chosen without naming variants this build may lack.
    let arch = format!("{:?}", pulp::Arch::new());
    match arch.split(['(', ' ', '{']).next().unwrap_or_default() {
        "V4" => "avx512",
        "V3" => "avx2",
        "Simd128" | "RelaxedSimd" => "simd128",
        "Neon" | "NeonFcma" => "neon",
        _ => "scalar",
    }
}

/// Whether `device` (with or without autodiff) is the CPU backend, burn-flex: where the step's
/// host loops ([`host_bce`], [`host_adam`], [`host_dense`]) read and write tensors' buffers directly.
fn on_flex(device: &burn::prelude::Device) -> bool {
    // Device equality ignores autodiff.
    *device == burn::prelude::Device::flex()
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    /// The level named is one the CPU has, and AVX2 is never left unused where it is there.
    #[test]
    fn simd_level_matches_the_cpu() {
        let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        match super::simd_level() {
            "avx512" => assert!(avx2 && is_x86_feature_detected!("avx512f")),
            "avx2" => assert!(avx2),
            other => assert!(!avx2, "{other} on a CPU with AVX2 and FMA"),
        }
    }
}
