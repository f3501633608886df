//! Reading and writing the weights file (Burn's burnpack format), in f32 or f16 storage.
//!
//! The weights are plain bytes on both sides: the trainer writes them to `www/model/`, the page
//! fetches them and hands them to the wasm crate. The architecture is not in these bytes: it
//! comes from the model card, and loading checks that every tensor of that architecture is
//! present with the right shape, so stale or foreign weights are an error, not a broken model.

use burn::prelude::*;
use burn::store::burn_pack::Error as PackError;
use burn::store::{ApplyResult, BurnpackStore, HalfPrecisionAdapter, ModuleSnapshot};
use burn::tensor::Bytes;

use crate::config::VaeConfig;
use crate::model::Vae;

/// How the weights are stored on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// 32-bit floats, as trained.
    F32,
    /// 16-bit floats: half the size; converted back to f32 when loaded.
    F16,
}

/// What went wrong while reading or writing weights.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The architecture from the card cannot be built.
    #[error("invalid architecture in the model card: {0}")]
    Config(String),
    /// The bytes are not a readable burnpack file.
    #[error("weights are not a valid burnpack file: {0}")]
    Format(String),
    /// The file is readable but does not fit the architecture.
    #[error("weights do not match the architecture: {0}")]
    Mismatch(String),
}

fn describe(result: &ApplyResult) -> Option<String> {
    let mut problems = Vec::new();
    if !result.errors.is_empty() {
        problems.push(
            result
                .errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    if !result.missing.is_empty() {
        problems.push(format!("missing tensors: {}", join_names(&result.missing)));
    }
    if !result.unused.is_empty() {
        problems.push(format!(
            "unexpected tensors: {}",
            join_names(&result.unused)
        ));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

fn join_names<T: std::fmt::Debug>(names: &[T]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Hex SHA-256 of a weights file, recorded in the model card and checked on load.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Serialises the model's weights into burnpack bytes.
pub fn to_bytes(model: &Vae, storage: Storage) -> Result<Vec<u8>, WeightsError> {
    let mut store = BurnpackStore::from_bytes(None);
    if storage == Storage::F16 {
        store = store.with_to_adapter(HalfPrecisionAdapter::new());
    }
    model
        .save_into(&mut store)
        .map_err(|e| WeightsError::Format(e.to_string()))?;
    let bytes = store
        .get_bytes()
        .map_err(|e| WeightsError::Format(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// Builds the model described by `config` on `device` and loads `bytes` into it.
///
/// Every tensor of the architecture must be present with the right shape, and no other tensor
/// may be in the file; `storage` says how the file stores them (f16 is converted to f32).
pub fn from_bytes(
    config: &VaeConfig,
    storage: Storage,
    bytes: &[u8],
    device: &Device,
) -> Result<Vae, WeightsError> {
    config.validate().map_err(WeightsError::Config)?;
    let mut model = Vae::new(config, device);
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())));
    if storage == Storage::F16 {
        // The adapter casts in whichever direction the source asks: here f16 → f32.
        store = store.with_from_adapter(HalfPrecisionAdapter::new());
    }
    let result = model.load_from(&mut store).map_err(|e| match e {
        // Readable, but the tensors do not fit the architecture's shapes or names.
        PackError::ValidationError(m) | PackError::TensorNotFound(m) => WeightsError::Mismatch(m),
        other => WeightsError::Format(other.to_string()),
    })?;
    match describe(&result) {
        Some(problem) => Err(WeightsError::Mismatch(problem)),
        None => Ok(model),
    }
}
