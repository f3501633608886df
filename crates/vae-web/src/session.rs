//! A loaded model and its backends: everything the page asks of the model, as plain Rust that
//! the native tests exercise too.
//!
//! Every result is read back asynchronously (`into_data_async`): a synchronous read is not
//! allowed on WebGPU.

use std::cell::{Cell, OnceCell, RefCell};

use burn::prelude::*;
use vae::preprocess::preprocess_rgba;
use vae::{Encoding, IMAGE_PIXELS, ModelCard, Vae, weights};

use crate::backend::{AdapterInfo, BackendKind, GpuState, cpu_device};
use crate::error::{ErrorKind, WebError};

/// The most latent points one decode call takes (a 30×30 grid is 900).
pub const MAX_DECODE_POINTS: usize = 4096;

/// The model on one device.
struct Loaded {
    model: Vae,
    device: Device,
}

/// What encoding one image gives: the input the model saw and its [`Encoding`].
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    /// The 28×28 input the model saw (preprocessed), row-major in [0, 1].
    pub input: Vec<f32>,
    /// μ, σ and the decoding of μ.
    pub encoding: Encoding,
}

/// The loaded model: always on the CPU, also on WebGPU once that is attached (which can happen
/// while the CPU already serves requests: the GPU model is set once and never replaced).
pub struct Session {
    card: ModelCard,
    cpu: Loaded,
    gpu: OnceCell<(Loaded, AdapterInfo)>,
    gpu_lost: Cell<bool>,
    gpu_failure: RefCell<Option<WebError>>,
    active: Cell<BackendKind>,
}

/// A tensor's values, read back asynchronously (as WebGPU requires), as f32.
pub(crate) async fn read<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, WebError> {
    let failed = |e: String| {
        WebError::context(
            ErrorKind::Device,
            "reading a result back from the device",
            e,
        )
    };
    tensor
        .into_data_async()
        .await
        .map_err(|e| failed(format!("{e:?}")))?
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| failed(format!("{e:?}")))
}

/// A [`ErrorKind::BadInput`] error naming `what` if `values` holds NaN or an infinity.
fn check_finite(values: &[f32], what: &str) -> Result<(), WebError> {
    match values.iter().find(|v| !v.is_finite()) {
        Some(bad) => Err(WebError::new(
            ErrorKind::BadInput,
            format!("{what} holds a non-finite value ({bad})"),
        )),
        None => Ok(()),
    }
}

fn load_on(card: &ModelCard, weights_bytes: &[u8], device: Device) -> Result<Loaded, WebError> {
    let model = weights::from_bytes(
        &card.architecture,
        card.files.weights_storage,
        weights_bytes,
        &device,
    )
    .map_err(|e| {
        WebError::context(
            ErrorKind::BadModel,
            &format!("loading {}", card.files.weights),
            e,
        )
    })?;
    Ok(Loaded { model, device })
}

impl Session {
    /// Parses the card and loads the weights on the CPU.
    pub fn load(card_json: &str, weights_bytes: &[u8]) -> Result<Self, WebError> {
        let card = ModelCard::from_json(card_json).map_err(|e| {
            WebError::context(
                ErrorKind::BadModel,
                &format!("reading {}", vae::files::CARD),
                e,
            )
        })?;
        if card.architecture.latent != 2 {
            return Err(WebError::new(
                ErrorKind::BadModel,
                format!(
                    "the page shows a 2-D latent plane, but this model has {} latent dimensions",
                    card.architecture.latent
                ),
            ));
        }
        card.check_weights(weights_bytes)
            .map_err(|e| WebError::new(ErrorKind::BadModel, e))?;
        let cpu = load_on(&card, weights_bytes, cpu_device())?;
        Ok(Self {
            card,
            cpu,
            gpu: OnceCell::new(),
            gpu_lost: Cell::new(false),
            gpu_failure: RefCell::new(None),
            active: Cell::new(BackendKind::Cpu),
        })
    }

    /// The model on the CPU.
    pub fn cpu_model(&self) -> &Vae {
        &self.cpu.model
    }

    /// Loads the weights on an initialised WebGPU `device` too, and runs one warm-up pass
    /// there (shader compilation happens on first use). Does not switch to it. WebGPU can be
    /// attached once.
    pub async fn attach_gpu(
        &self,
        weights_bytes: &[u8],
        device: Device,
        info: AdapterInfo,
    ) -> Result<(), WebError> {
        let attached = || WebError::new(ErrorKind::BadInput, "WebGPU is attached already");
        if self.gpu.get().is_some() {
            return Err(attached());
        }
        let result = async {
            self.card
                .check_weights(weights_bytes)
                .map_err(|e| WebError::new(ErrorKind::BadModel, e))?;
            let loaded = load_on(&self.card, weights_bytes, device)?;
            read(
                loaded
                    .model
                    .encoding_rows(Tensor::zeros([1, IMAGE_PIXELS], &loaded.device)),
            )
            .await?;
            Ok::<_, WebError>(loaded)
        }
        .await;
        match result {
            Ok(loaded) => self.gpu.set((loaded, info)).map_err(|_| attached()),
            Err(e) => {
                self.gpu_failed(e.clone());
                Err(e)
            }
        }
    }

    /// Records why WebGPU could not be started: [`Self::gpu_state`] becomes
    /// [`GpuState::Unavailable`] and [`Self::gpu_reason`] says why.
    pub fn gpu_failed(&self, reason: WebError) {
        if self.gpu.get().is_none() {
            *self.gpu_failure.borrow_mut() = Some(reason);
        }
    }

    /// Where WebGPU stands.
    pub fn gpu_state(&self) -> GpuState {
        if self.gpu_lost.get() {
            GpuState::Lost
        } else if self.gpu.get().is_some() {
            GpuState::Available
        } else if self.gpu_failure.borrow().is_some() {
            GpuState::Unavailable
        } else {
            GpuState::NotAttached
        }
    }

    /// Why WebGPU is not available ("" when it is, or was not tried).
    pub fn gpu_reason(&self) -> String {
        match self.gpu_state() {
            GpuState::Lost => "the WebGPU device was lost; the CPU backend runs instead".into(),
            GpuState::Unavailable => self
                .gpu_failure
                .borrow()
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_default(),
            GpuState::Available | GpuState::NotAttached => String::new(),
        }
    }

    /// The model card.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// The backend in use.
    pub fn backend(&self) -> BackendKind {
        self.active.get()
    }

    /// The WebGPU adapter, if WebGPU is usable.
    pub fn adapter(&self) -> Option<&AdapterInfo> {
        self.gpu
            .get()
            .filter(|_| !self.gpu_lost.get())
            .map(|(_, info)| info)
    }

    /// Switches backend; WebGPU only if it was attached and not lost.
    pub fn set_backend(&self, kind: BackendKind) -> Result<(), WebError> {
        if kind == BackendKind::WebGpu && self.adapter().is_none() {
            return Err(self.gpu_unavailable());
        }
        self.active.set(kind);
        Ok(())
    }

    fn gpu_unavailable(&self) -> WebError {
        let reason = self.gpu_reason();
        WebError::new(
            ErrorKind::WebGpuUnavailable,
            if reason.is_empty() {
                "WebGPU is not available".into()
            } else {
                reason
            },
        )
    }

    /// Stops using WebGPU (its device was lost or a call on it failed): the CPU takes over.
    pub fn disable_gpu(&self) {
        self.gpu_lost.set(true);
        self.active.set(BackendKind::Cpu);
    }

    fn loaded(&self, kind: BackendKind) -> &Loaded {
        match (kind, self.gpu.get()) {
            (BackendKind::WebGpu, Some((gpu, _))) if !self.gpu_lost.get() => gpu,
            _ => &self.cpu,
        }
    }

    /// Encodes a 28×28 image (784 values in [0, 1]) and decodes its mean.
    pub async fn encode_image(&self, image: &[f32]) -> Result<Encoded, WebError> {
        if image.len() != IMAGE_PIXELS {
            return Err(WebError::new(
                ErrorKind::BadInput,
                format!("an image has {IMAGE_PIXELS} pixels, got {}", image.len()),
            ));
        }
        check_finite(image, "the image")?;
        let Loaded { model, device } = self.loaded(self.active.get());
        let x = Tensor::<2>::from_data(TensorData::new(image.to_vec(), [1, IMAGE_PIXELS]), device);
        // One read-back for μ, σ and the reconstruction (each is a round trip on WebGPU).
        let rows = read(model.encoding_rows(x)).await?;
        let encoding = Encoding::from_rows(&rows, model.latent())
            .and_then(|mut e| e.pop())
            .ok_or_else(|| {
                WebError::new(
                    ErrorKind::Device,
                    format!("the device returned {} values for one encoding", rows.len()),
                )
            })?;
        Ok(Encoded {
            input: image.to_vec(),
            encoding,
        })
    }

    /// Preprocesses an RGBA drawing (white ink on black) the MNIST way, then encodes it.
    pub async fn encode_drawing(
        &self,
        rgba: &[u8],
        width: usize,
        height: usize,
    ) -> Result<Encoded, WebError> {
        let image = preprocess_rgba(rgba, width, height)
            .map_err(|e| WebError::new(ErrorKind::BadInput, e.to_string()))?;
        self.encode_image(&image).await
    }

    /// Decodes latent points (`[x0, y0, x1, y1, …]`) into 28×28 images, one after another, in one
    /// batched call.
    pub async fn decode_batch(&self, points: &[f32]) -> Result<Vec<f32>, WebError> {
        self.decode_batch_on(self.active.get(), points).await
    }

    /// [`Self::decode_batch`] on a given backend, without switching to it (for calibration).
    pub async fn decode_batch_on(
        &self,
        kind: BackendKind,
        points: &[f32],
    ) -> Result<Vec<f32>, WebError> {
        if kind == BackendKind::WebGpu && self.adapter().is_none() {
            return Err(self.gpu_unavailable());
        }
        if points.is_empty() || !points.len().is_multiple_of(2) {
            return Err(WebError::new(
                ErrorKind::BadInput,
                format!("decoding needs (x, y) pairs, got {} numbers", points.len()),
            ));
        }
        if points.len() / 2 > MAX_DECODE_POINTS {
            return Err(WebError::new(
                ErrorKind::BadInput,
                format!(
                    "one decode takes at most {MAX_DECODE_POINTS} points, got {}",
                    points.len() / 2
                ),
            ));
        }
        check_finite(points, "a latent point")?;
        let Loaded { model, device } = self.loaded(kind);
        let z = Tensor::<2>::from_data(
            TensorData::new(points.to_vec(), [points.len() / 2, 2]),
            device,
        );
        read(model.decode(z)).await
    }

    /// Decodes one latent point into a 28×28 image.
    pub async fn decode(&self, x: f32, y: f32) -> Result<Vec<f32>, WebError> {
        self.decode_batch(&[x, y]).await
    }
}
