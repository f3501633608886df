//! The JavaScript bindings of training in the browser (modules built with the `train` feature:
//! the CPU-only training module, and the WebGPU module, which trains on either backend): thin
//! glue over [`crate::training`], tested natively.

use std::rc::Rc;

use js_sys::{Array, Float32Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::backend::{BackendKind, cpu_device};
use crate::error::{ErrorKind, WebError};
use crate::training::{TrainSettings, Training};
use vae::split::Split;

fn set(target: &Object, key: &str, value: &JsValue) -> Result<(), JsValue> {
    Reflect::set(target, &JsValue::from_str(key), value).map(|_| ())
}

fn split(images: &[u8], labels: &[u8], what: &str) -> Result<Split, WebError> {
    Split::from_idx(images, labels)
        .map_err(|e| WebError::context(ErrorKind::BadInput, &format!("reading the {what}"), e))
}

/// The Train panel's default settings, as JSON.
#[wasm_bindgen(js_name = defaultTrainSettings)]
pub fn default_train_settings() -> String {
    serde_json::to_string(&TrainSettings::default()).unwrap_or_default()
}

/// Checks the Train panel's settings (JSON): `null` when they are fine, else what is wrong.
#[wasm_bindgen(js_name = checkTrainSettings)]
pub fn check_train_settings(json: &str) -> Option<String> {
    TrainSettings::from_json(json).err().map(|e| e.message)
}

/// The latent means of the first `subset` images of a test set (IDX bytes) under the model
/// of `card` and `weights` (a model the user opened): `{points: Float32Array, labels:
/// Uint8Array}`, for the plane's scatter.
#[wasm_bindgen(js_name = subsetMeans)]
pub fn subset_means(
    card: &str,
    weights: &[u8],
    test_images: &[u8],
    test_labels: &[u8],
    subset: usize,
) -> Result<JsValue, JsValue> {
    let test = split(test_images, test_labels, "test images")?.first(subset);
    let points = crate::training::means_of(card, weights, &test)?;
    let out = Object::new();
    set(&out, "points", &Float32Array::from(points.as_slice()))?;
    set(&out, "labels", &Uint8Array::from(test.labels.as_slice()))?;
    Ok(out.into())
}

/// The plane's extent for latent means (`n × 2`), as the trainer chooses it for an export:
/// `[x_min, x_max, y_min, y_max]`.
#[wasm_bindgen(js_name = planeExtent)]
pub fn plane_extent(points: &[f32]) -> Vec<f64> {
    let e = vae::plane::plane_extent(points);
    vec![e.x_min, e.x_max, e.y_min, e.y_max]
}

/// Starts WebGPU for training (once per module instance; a second call gives the same device):
/// resolves to `{ok, adapter, fallback, reason}` (`reason`: why not, when `ok` is false). In a
/// module built without WebGPU it resolves to `ok: false` at once.
#[wasm_bindgen(js_name = initTrainingWebgpu)]
pub fn init_training_webgpu() -> Promise {
    future_to_promise(async move {
        let out = Object::new();
        #[cfg(feature = "webgpu")]
        let started = crate::backend::init_webgpu().await;
        #[cfg(not(feature = "webgpu"))]
        let started: Result<
            (burn::prelude::Device, crate::backend::AdapterInfo),
            WebError,
        > = Err(not_built());
        match started {
            Ok((_, info)) => {
                set(&out, "ok", &JsValue::TRUE)?;
                set(&out, "adapter", &JsValue::from_str(&info.name))?;
                set(&out, "fallback", &JsValue::from_bool(info.fallback))?;
            }
            Err(e) => {
                set(&out, "ok", &JsValue::FALSE)?;
                set(&out, "reason", &JsValue::from_str(&e.message))?;
            }
        }
        Ok(out.into())
    })
}

#[cfg(not(feature = "webgpu"))]
fn not_built() -> WebError {
    WebError::new(
        ErrorKind::WebGpuUnavailable,
        "this module was built without WebGPU (the page's WebGPU module trains there)",
    )
}

/// The device a run on `backend` trains on, and the card's words for it.
fn training_device(backend: BackendKind) -> Result<(burn::prelude::Device, String), WebError> {
    match backend {
        BackendKind::Cpu => Ok((cpu_device(), "flex (wasm, in the browser)".into())),
        #[cfg(feature = "webgpu")]
        BackendKind::WebGpu => crate::backend::webgpu_device()
            .map(|(device, info)| {
                let on = if info.name.is_empty() {
                    String::new()
                } else {
                    format!(" on {}", info.name)
                };
                (device, format!("wgpu (WebGPU{on}, in the browser)"))
            })
            .ok_or_else(|| {
                WebError::new(
                    ErrorKind::WebGpuUnavailable,
                    "WebGPU is not started (initTrainingWebgpu first)",
                )
            }),
        #[cfg(not(feature = "webgpu"))]
        BackendKind::WebGpu => Err(not_built()),
    }
}

/// A training run in the browser, on the CPU backend (burn-flex with autodiff) or on WebGPU
/// (burn-wgpu with autodiff).
#[wasm_bindgen]
pub struct TrainingRun {
    inner: Rc<Training>,
    backend: BackendKind,
    /// How the card names the backend.
    backend_label: Rc<str>,
}

#[wasm_bindgen]
impl TrainingRun {
    /// Starts a run with `settings` (JSON, see [`TrainSettings`]) on the training set's IDX
    /// bytes (images and labels, not gzipped); the first `subset` images of the test set's
    /// IDX bytes are the scatter's. `backend`: `cpu`, or `webgpu` (in the WebGPU module, once
    /// [`init_training_webgpu`] has started it).
    #[wasm_bindgen(constructor)]
    pub fn new(
        settings: &str,
        train_images: &[u8],
        train_labels: &[u8],
        test_images: &[u8],
        test_labels: &[u8],
        subset: usize,
        backend: &str,
    ) -> Result<TrainingRun, JsValue> {
        let settings = TrainSettings::from_json(settings)?;
        let backend = BackendKind::parse(backend)?;
        let (device, label) = training_device(backend)?;
        let train = split(train_images, train_labels, "training images")?;
        let test = split(test_images, test_labels, "test images")?;
        let training = Training::new(settings, train, test.first(subset), &device)?;
        Ok(TrainingRun {
            inner: Rc::new(training),
            backend,
            backend_label: label.into(),
        })
    }

    /// The backend the run trains on: `cpu` or `webgpu`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.name().into()
    }

    /// Runs up to `n` steps; resolves to a `Float32Array` of `[loss, recon, kl]` per step
    /// (empty once the run is over).
    pub fn steps(&self, n: usize) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let reports = inner.steps(n).await?;
            let flat: Vec<f32> = reports
                .iter()
                .flat_map(|r| [r.loss, r.recon, r.kl])
                .collect();
            Ok(Float32Array::from(flat.as_slice()).into())
        })
    }

    /// The run's batch size.
    #[wasm_bindgen(getter)]
    pub fn batch(&self) -> usize {
        self.inner.settings().batch
    }

    /// `{stepsDone, stepsPerEpoch, totalSteps, epoch}`.
    pub fn progress(&self) -> Result<JsValue, JsValue> {
        let p = self.inner.progress();
        let out = Object::new();
        set(&out, "stepsDone", &(p.steps_done as f64).into())?;
        set(&out, "stepsPerEpoch", &(p.steps_per_epoch as f64).into())?;
        set(&out, "totalSteps", &(p.total_steps as f64).into())?;
        set(&out, "epoch", &(p.epoch as f64).into())?;
        Ok(out.into())
    }

    /// Resolves to `{points: Float32Array (n × 2), labels: Uint8Array}`: the test subset's
    /// latent means under the current weights.
    #[wasm_bindgen(js_name = subsetMeans)]
    pub fn subset_means(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let (points, labels) = inner.subset_means().await?;
            let out = Object::new();
            set(&out, "points", &Float32Array::from(points.as_slice()))?;
            set(&out, "labels", &Uint8Array::from(labels.as_slice()))?;
            Ok(out.into())
        })
    }

    /// Resolves to the current weights in the trainer's export format and the test subset's
    /// latent means under them: `[cardJson, weightsBytes, {points, labels}]`, after `seconds`
    /// of training (recorded in the card). The weights are read back asynchronously (WebGPU
    /// forbids a synchronous read) and measured on the CPU.
    pub fn export(&self, seconds: f64) -> Promise {
        let (inner, label) = (Rc::clone(&self.inner), Rc::clone(&self.backend_label));
        future_to_promise(async move {
            let exported = inner.export(seconds, &label).await?;
            let latents = Object::new();
            set(
                &latents,
                "points",
                &Float32Array::from(exported.means.as_slice()),
            )?;
            set(&latents, "labels", &Uint8Array::from(inner.subset_labels()))?;
            let out = Array::new();
            out.push(&JsValue::from_str(&exported.card));
            out.push(&Uint8Array::from(exported.weights.as_slice()));
            out.push(&latents);
            Ok(out.into())
        })
    }
}
