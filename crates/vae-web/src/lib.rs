//! Latent Canvas in the browser: the VAE from the [`vae`] crate, loaded from the bytes of an
//! exported model, run on WebGPU when that is faster and on the CPU otherwise.
//!
//! - [`session`]: the loaded model and its backends; encode and decode (all logic, testable
//!   natively);
//! - [`backend`]: which backend runs, and the WebGPU set-up;
//! - [`error`]: the error type every call returns;
//! - [`to_cpu`]: a model's weights copied to the CPU asynchronously (safe on WebGPU);
//! - `training` (feature `train`): a training run in the browser, on the shared loop;
//! - `web` (wasm only): the JavaScript bindings, thin glue over [`session`];
//! - `web_train` (wasm, feature `train`): the bindings of `training`.

// Safe code only: the workspace denies `unsafe`, and only vae's gemm call allows it.
#![forbid(unsafe_code)]

pub mod backend;
pub mod error;
pub mod session;
pub mod to_cpu;
#[cfg(feature = "train")]
pub mod training;
#[cfg(target_family = "wasm")]
pub mod web;
#[cfg(all(target_family = "wasm", feature = "train"))]
pub mod web_train;

pub use backend::BackendKind;
pub use error::{ErrorKind, WebError};
pub use session::{Encoded, Session};
