//! The JavaScript bindings of training in the browser (module built with the `train` feature):
//! thin glue over [`crate::training`], tested natively.

use std::rc::Rc;

use js_sys::{Array, Float32Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::backend::cpu_device;
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

/// A training run in the browser, on the CPU backend (burn-flex with autodiff).
#[wasm_bindgen]
pub struct TrainingRun {
    inner: Rc<Training>,
}

#[wasm_bindgen]
impl TrainingRun {
    /// Starts a run with `settings` (JSON, see [`TrainSettings`]) on the training set's IDX
    /// bytes (images and labels, not gzipped); the first `subset` images of the test set's
    /// IDX bytes are the scatter's.
    #[wasm_bindgen(constructor)]
    pub fn new(
        settings: &str,
        train_images: &[u8],
        train_labels: &[u8],
        test_images: &[u8],
        test_labels: &[u8],
        subset: usize,
    ) -> Result<TrainingRun, JsValue> {
        let settings = TrainSettings::from_json(settings)?;
        let train = split(train_images, train_labels, "training images")?;
        let test = split(test_images, test_labels, "test images")?;
        let training = Training::new(settings, train, test.first(subset), &cpu_device())?;
        Ok(TrainingRun {
            inner: Rc::new(training),
        })
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

    /// The current weights in the trainer's export format and the test subset's latent means
    /// under them: `[cardJson, weightsBytes, {points, labels}]`, after `seconds` of training
    /// (recorded in the card).
    pub fn export(&self, seconds: f64) -> Result<Array, JsValue> {
        let exported = self.inner.export(seconds, "flex (wasm, in the browser)")?;
        let latents = Object::new();
        set(
            &latents,
            "points",
            &Float32Array::from(exported.means.as_slice()),
        )?;
        let labels = self.inner.subset_labels();
        set(&latents, "labels", &Uint8Array::from(labels))?;
        let out = Array::new();
        out.push(&JsValue::from_str(&exported.card));
        out.push(&Uint8Array::from(exported.weights.as_slice()));
        out.push(&latents);
        Ok(out)
    }
}
