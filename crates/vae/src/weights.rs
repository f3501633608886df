//! Reading and writing the weights file (Burn's burnpack format), in f32, f16 or 8-bit storage.
//!
//! The weights are plain bytes on both sides: the trainer writes them to `www/model/`, the page
//! fetches them and hands them to the wasm crate. The architecture is not in these bytes: it
//! comes from the model card, and loading checks that every tensor of that architecture is
//! present with the right shape, so stale or foreign weights are an error, not a broken model.

use burn::prelude::*;
use burn::store::burn_pack::{
    Error as PackError, Reader as PackReader, Tensor as PackTensor, Writer as PackWriter,
};
use burn::store::{ApplyResult, BurnpackStore, HalfPrecisionAdapter, ModuleSnapshot, bridge};
use burn::tensor::{Bytes, DType, f16};

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
    /// Integers of up to 8 bits with f16 scales per output channel (each column of a weight
    /// matrix, one scale per [`Q8_GROUP`] rows: w = q · scale, q ∈ [−127, 127], fewer levels
    /// for a matrix given fewer [`Precision::Bits`]), stored as i8, biases in f32: under a
    /// third of the size; dequantised to f32 when loaded. The scales are stored beside each
    /// matrix as `<name>.q8scale`; matrices under [`Q8_MIN_VALUES`] values stay f32, and the
    /// exporter may keep a sensitive matrix in f16 (see [`to_q8_bytes`]).
    Q8,
}

/// Suffix of the tensor holding a [`Storage::Q8`] matrix's per-column scales.
pub const Q8_SCALE_SUFFIX: &str = ".q8scale";

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

/// Matrices with fewer values than this stay f32 in [`Storage::Q8`]: they cost nothing, and
/// they include the encoder's heads, where a small error moves every latent code (measured on
/// the shipped model: 8 bits there alone cost 0.37 nats).
pub const Q8_MIN_VALUES: usize = 4096;

/// Rows of a matrix that share one [`Storage::Q8`] scale per column: finer groups follow the
/// weights' magnitudes more closely (an outlier coarsens only its own group's steps).
pub const Q8_GROUP: usize = 32;

/// How [`Storage::Q8`] stores one matrix of [`q8_matrices`]: in f16, or as integers of a
/// given width with per-column scales. Fewer bits give the file fewer distinct bytes, which the
/// server's gzip turns into fewer bytes on the wire; the file's layout stays the same (i8
/// values, f16 scales), so the loader needs no width: any value in ±127 reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// Kept in f16 (a matrix where 8 bits cost the model too much).
    F16,
    /// Symmetric integers of this many bits (2 to 8): q ∈ ±(2^(bits−1) − 1).
    Bits(u8),
}

impl Precision {
    /// Bits per value: 16 for f16.
    pub fn bits(self) -> u8 {
        match self {
            Precision::F16 => 16,
            Precision::Bits(bits) => bits,
        }
    }

    /// How `plan` stores the matrix `name`: 8 bits unless it says otherwise.
    pub fn of(plan: &std::collections::BTreeMap<String, Precision>, name: &str) -> Precision {
        plan.get(name).copied().unwrap_or(Precision::Bits(8))
    }
}

/// The widths an export may give a matrix.
pub const Q8_BITS: std::ops::RangeInclusive<u8> = 2..=8;

/// Quantises a row-major `rows × cols` matrix to `bits` bits per value (2 to 8; clamped),
/// symmetric (`w ≈ q · scale`, q ∈ ±(2^(bits−1) − 1)), with one scale per column for each
/// group of [`Q8_GROUP`] rows: `scale = max |w| / (2^(bits−1) − 1)` over the group's part of
/// the column (1 where that is 0), rounded to f16 as the file stores it. Returns the values
/// and the `⌈rows / Q8_GROUP⌉ × cols` scales, row-major.
pub fn quantise_columns(values: &[f32], cols: usize, bits: u8) -> (Vec<i8>, Vec<f32>) {
    let cols = cols.max(1);
    let top = f32::from((1u8 << (bits.clamp(*Q8_BITS.start(), *Q8_BITS.end()) - 1)) - 1);
    let mut scales = Vec::new();
    for group in values.chunks(Q8_GROUP * cols) {
        let mut max = vec![0.0f32; cols];
        for row in group.chunks_exact(cols) {
            for (m, v) in max.iter_mut().zip(row) {
                *m = m.max(v.abs());
            }
        }
        // Stored as f16: each scale rounded to what the file holds (never to 0).
        scales.extend(max.iter().map(|&m| {
            if m > 0.0 && m.is_finite() {
                f16::from_f32(m / top).max(f16::from_bits(1)).to_f32()
            } else {
                1.0
            }
        }));
    }
    let q = values
        .chunks_exact(cols)
        .enumerate()
        .flat_map(|(r, row)| {
            let s = &scales[(r / Q8_GROUP) * cols..];
            row.iter()
                .zip(s)
                .map(move |(v, s)| (v / s).round().clamp(-top, top) as i8)
        })
        .collect();
    (q, scales)
}

fn pack_error(e: impl std::fmt::Display) -> WeightsError {
    WeightsError::Format(e.to_string())
}

/// The matrices [`Storage::Q8`] stores in 8 bits (unless kept): those of [`Q8_MIN_VALUES`]
/// values or more.
pub fn q8_matrices(model: &Vae) -> Vec<String> {
    model
        .collect(None, None, false)
        .into_iter()
        .filter(|t| t.shape.num_dims() == 2 && t.shape.num_elements() >= Q8_MIN_VALUES)
        .map(|t| t.name)
        .collect()
}

/// [`Storage::Q8`] bytes: every matrix of [`q8_matrices`] stored as `precision` says for its
/// name (8 bits for a name it does not hold), everything else f32.
pub fn to_q8_bytes(
    model: &Vae,
    precision: &std::collections::BTreeMap<String, Precision>,
) -> Result<Vec<u8>, WeightsError> {
    let quantised = q8_matrices(model);
    let mut out = Vec::new();
    for tensor in model.collect(None, None, false) {
        let name = tensor.name.clone();
        let data = bridge::into_data(tensor)
            .map_err(pack_error)?
            .convert::<f32>();
        let shape = data.shape().clone();
        let bits = match Precision::of(precision, &name) {
            Precision::F16 if quantised.contains(&name) => {
                out.push(bridge::from_data(data.convert::<f16>(), name, None));
                continue;
            }
            Precision::F16 => 8,
            Precision::Bits(bits) => bits,
        };
        let values = data
            .try_to_vec::<f32>()
            .map_err(|e| pack_error(format!("{e:?}")))?;
        if let [rows, cols] = shape.as_slice()
            && quantised.contains(&name)
        {
            let (q, scales) = quantise_columns(&values, *cols, bits);
            out.push(bridge::from_data(
                TensorData::new(scales, [rows.div_ceil(Q8_GROUP), *cols]).convert::<f16>(),
                format!("{name}{Q8_SCALE_SUFFIX}"),
                None,
            ));
            out.push(bridge::from_data(TensorData::new(q, shape), name, None));
        } else {
            out.push(bridge::from_data(
                TensorData::new(values, shape),
                name,
                None,
            ));
        }
    }
    let bytes = PackWriter::new(out).into_bytes().map_err(pack_error)?;
    Ok(bytes.to_vec())
}

/// The tensors of [`Storage::Q8`] bytes, dequantised to f32 (each matrix with its scales).
fn from_q8_bytes(bytes: &[u8]) -> Result<Vec<PackTensor>, WeightsError> {
    let tensors = PackReader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .and_then(PackReader::into_tensors)
        .map_err(pack_error)?;
    let mut scales = std::collections::BTreeMap::new();
    let mut rest = Vec::new();
    for tensor in tensors {
        match tensor.name.strip_suffix(Q8_SCALE_SUFFIX) {
            Some(base) => {
                let base = base.to_string();
                let data = bridge::into_data(tensor).map_err(pack_error)?;
                if data.dtype() != DType::F16 {
                    return Err(WeightsError::Mismatch(format!(
                        "the scales of {base} are {:?}, expected f16",
                        data.dtype()
                    )));
                }
                let values = data
                    .convert::<f32>()
                    .try_to_vec::<f32>()
                    .map_err(|e| pack_error(format!("the scales of {base}: {e:?}")))?;
                scales.insert(base, values);
            }
            None => rest.push(tensor),
        }
    }
    let mut out = Vec::with_capacity(rest.len());
    for tensor in rest {
        let name = tensor.name.clone();
        let data = bridge::into_data(tensor).map_err(pack_error)?;
        let shape = data.shape().clone();
        let values = match (data.dtype(), scales.remove(&name)) {
            (DType::I8, Some(s)) => {
                let q = data
                    .try_to_vec::<i8>()
                    .map_err(|e| pack_error(format!("{name}: {e:?}")))?;
                let (rows, cols) = match shape.as_slice() {
                    [rows, cols] if s.len() == rows.div_ceil(Q8_GROUP) * cols => (*rows, *cols),
                    _ => {
                        return Err(WeightsError::Mismatch(format!(
                            "{name} has shape {shape:?} but {} scales",
                            s.len()
                        )));
                    }
                };
                if q.len() != rows * cols {
                    return Err(WeightsError::Mismatch(format!(
                        "{name}: {} values",
                        q.len()
                    )));
                }
                q.chunks_exact(cols)
                    .enumerate()
                    .flat_map(|(r, row)| {
                        let scales = &s[(r / Q8_GROUP) * cols..];
                        row.iter().zip(scales).map(|(&q, s)| f32::from(q) * s)
                    })
                    .collect()
            }
            (DType::I8, None) => {
                return Err(WeightsError::Mismatch(format!(
                    "{name} is 8-bit but has no scales ({name}{Q8_SCALE_SUFFIX})"
                )));
            }
            (DType::F16, None) => data
                .convert::<f32>()
                .try_to_vec::<f32>()
                .map_err(|e| pack_error(format!("{name}: {e:?}")))?,
            (DType::F32, None)
                if shape.as_slice().len() == 2 && shape.num_elements() >= Q8_MIN_VALUES =>
            {
                return Err(WeightsError::Mismatch(format!(
                    "{name} is an f32 matrix, but the card says 8-bit weights (a stale card?)"
                )));
            }
            (DType::F32, None) => data
                .try_to_vec::<f32>()
                .map_err(|e| pack_error(format!("{name}: {e:?}")))?,
            (dtype, _) => {
                return Err(WeightsError::Mismatch(format!(
                    "{name} is stored as {dtype:?}; 8-bit weights hold i8, f16 and f32 tensors"
                )));
            }
        };
        out.push(bridge::from_data(
            TensorData::new(values, shape),
            name,
            None,
        ));
    }
    if let Some(orphan) = scales.keys().next() {
        return Err(WeightsError::Mismatch(format!(
            "scales for {orphan}, which is not in the file"
        )));
    }
    Ok(out)
}

/// Serialises the model's weights into burnpack bytes.
pub fn to_bytes(model: &Vae, storage: Storage) -> Result<Vec<u8>, WeightsError> {
    if storage == Storage::Q8 {
        return to_q8_bytes(model, &Default::default());
    }
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
    if storage == Storage::Q8 {
        let result = model.apply(from_q8_bytes(bytes)?, None, None, false);
        return match describe(&result) {
            Some(problem) => Err(WeightsError::Mismatch(problem)),
            None => Ok(model),
        };
    }
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
