//! The JavaScript bindings: thin glue that turns [`Session`] calls into promises and typed
//! arrays. All logic lives in [`crate::session`], tested natively.

use std::rc::Rc;

use js_sys::{Array, Float32Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::backend::BackendKind;
#[cfg(feature = "webgpu")]
use crate::backend::init_webgpu;
use crate::error::{ErrorKind, WebError};
use crate::session::{Encoded, Session};

/// Installs the panic hook, so a panic shows its message in the console.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

fn set(target: &Object, key: &str, value: &JsValue) -> Result<(), JsValue> {
    Reflect::set(target, &JsValue::from_str(key), value).map(|_| ())
}

fn encoded_to_js(e: &Encoded) -> Result<JsValue, JsValue> {
    let out = Object::new();
    let enc = &e.encoding;
    set(&out, "input", &Float32Array::from(e.input.as_slice()))?;
    set(&out, "mean", &Float32Array::from(enc.mean.as_slice()))?;
    set(&out, "std", &Float32Array::from(enc.std.as_slice()))?;
    set(
        &out,
        "reconstruction",
        &Float32Array::from(enc.reconstruction.as_slice()),
    )?;
    Ok(out.into())
}

/// Name of the model card inside the model directory (`card.json`); the card names the rest.
#[wasm_bindgen(js_name = cardFileName)]
pub fn card_file_name() -> String {
    vae::files::CARD.to_string()
}

/// Name of the index of models next to the model folders (`models.json`).
#[wasm_bindgen(js_name = indexFileName)]
pub fn index_file_name() -> String {
    vae::index::INDEX.to_string()
}

/// Checks the text of `models.json` and returns it as normalised JSON (`{default, models}`);
/// a bad index is a `bad-model` error that says what is wrong.
#[wasm_bindgen(js_name = readModelIndex)]
pub fn read_model_index(text: &str) -> Result<String, JsValue> {
    vae::index::ModelIndex::from_json(text)
        .map(|index| index.to_json())
        .map_err(|e| WebError::new(ErrorKind::BadModel, e.to_string()).into())
}

/// The colour of each digit, `["rgb(r, g, b)", …]`, as in the trainer's figures.
#[wasm_bindgen(js_name = digitColours)]
pub fn digit_colours() -> Array {
    vae::palette::DIGIT_COLOURS
        .iter()
        .map(|[r, g, b]| JsValue::from_str(&format!("rgb({r}, {g}, {b})")))
        .collect()
}

/// Reads a test-latents file: `{dims, points: Float32Array, labels: Uint8Array}`.
#[wasm_bindgen(js_name = readLatents)]
pub fn read_latents(bytes: &[u8]) -> Result<JsValue, JsValue> {
    let latents = vae::latents::Latents::from_bytes(bytes)
        .map_err(|e| WebError::context(ErrorKind::BadModel, vae::files::LATENTS, e))?;
    let out = Object::new();
    set(&out, "dims", &JsValue::from(latents.dims as u32))?;
    set(
        &out,
        "points",
        &Float32Array::from(latents.points.as_slice()),
    )?;
    set(&out, "labels", &Uint8Array::from(latents.labels.as_slice()))?;
    Ok(out.into())
}

/// Cells per side of the decoded grid overlay (the trainer's manifold figure uses the same).
#[wasm_bindgen(js_name = manifoldGrid)]
pub fn manifold_grid() -> usize {
    vae::plane::MANIFOLD_GRID
}

/// The centres of a `grid × grid` tiling of the plane's extent, row-major from the top-left,
/// as `[x0, y0, x1, y1, …]` (see [`vae::plane::grid_points`]).
#[wasm_bindgen(js_name = gridPoints)]
pub fn grid_points(x_min: f64, x_max: f64, y_min: f64, y_max: f64, grid: usize) -> Vec<f32> {
    let extent = vae::card::Extent {
        x_min,
        x_max,
        y_min,
        y_max,
    };
    vae::plane::grid_points(&extent, grid.min(64))
}

fn check_count(n: usize, what: &str) -> Result<(), WebError> {
    if n == 0 || n > vae::plane::MAX_POINTS {
        return Err(WebError::new(
            ErrorKind::BadInput,
            format!(
                "{what}: between 1 and {} points, got {n}",
                vae::plane::MAX_POINTS
            ),
        ));
    }
    Ok(())
}

fn check_finite(values: &[f64], what: &str) -> Result<(), WebError> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(WebError::new(
            ErrorKind::BadInput,
            format!("{what} holds a non-finite value"),
        ))
    }
}

/// `frames` points from `a` to `b`, both ends included (see [`vae::plane::interpolate`]).
#[wasm_bindgen]
pub fn interpolate(ax: f32, ay: f32, bx: f32, by: f32, frames: usize) -> Result<Vec<f32>, JsValue> {
    check_count(frames, "an interpolation")?;
    check_finite(&[ax, ay, bx, by].map(f64::from), "an interpolation's end")?;
    Ok(vae::plane::interpolate([ax, ay], [bx, by], frames))
}

/// `n` points z = μ + σ·ε, ε ~ N(0, I), from `seed` (μ = 0, σ = 1: the prior). See
/// [`vae::plane::sample_gaussian`].
#[wasm_bindgen(js_name = sampleGaussian)]
pub fn sample_gaussian(
    mx: f32,
    my: f32,
    sx: f32,
    sy: f32,
    n: usize,
    seed: u32,
) -> Result<Vec<f32>, JsValue> {
    check_count(n, "a sample")?;
    check_finite(&[mx, my, sx, sy].map(f64::from), "a sample's mean or σ")?;
    Ok(vae::plane::sample_gaussian(
        [mx, my],
        [sx, sy],
        n,
        u64::from(seed),
    ))
}

/// How many points fall within 1, 2 and 3 units of the origin, and beyond (four counts).
#[wasm_bindgen(js_name = countByRadius)]
pub fn count_by_radius(points: &[f32]) -> Vec<u32> {
    vae::plane::count_by_radius(points)
        .iter()
        .map(|&c| c as u32)
        .collect()
}

/// Per digit, how many of the `k` test points nearest to `(x, y)` are that digit (ten counts).
#[wasm_bindgen(js_name = nearestLabels)]
pub fn nearest_labels(points: &[f32], labels: &[u8], x: f32, y: f32, k: usize) -> Vec<u32> {
    vae::plane::nearest_labels(points, labels, [x, y], k)
        .iter()
        .map(|&c| c as u32)
        .collect()
}

/// Whether this module was built with WebGPU (the `webgpu` feature): the page's first module is
/// CPU only, and fetches the one with WebGPU where that can help.
#[wasm_bindgen(js_name = webgpuBuilt)]
pub fn webgpu_built() -> bool {
    cfg!(feature = "webgpu")
}

/// The model, as the page sees it.
#[wasm_bindgen]
pub struct Model {
    session: Rc<Session>,
    /// Kept to load them on WebGPU too (only the module with WebGPU can).
    #[cfg(feature = "webgpu")]
    weights: Rc<Vec<u8>>,
}

#[wasm_bindgen]
impl Model {
    /// Loads a model on the CPU from the text of `card.json` and the bytes of its weights. The
    /// model is usable at once; [`Model::attach_webgpu`] adds WebGPU afterwards.
    pub fn load(card_json: &str, weights: Vec<u8>) -> Result<Model, JsValue> {
        let session = Session::load(card_json, &weights)?;
        Ok(Model {
            session: Rc::new(session),
            #[cfg(feature = "webgpu")]
            weights: Rc::new(weights),
        })
    }

    /// Initialises WebGPU (once), loads the weights there and runs a warm-up pass. Resolves
    /// to `true` when WebGPU is usable, `false` when not ([`Model::webgpu_reason`] says why);
    /// the CPU keeps serving meanwhile and is still the backend in use afterwards. Only in the
    /// module built with the `webgpu` feature (see [`webgpu_built`]).
    #[cfg(feature = "webgpu")]
    #[wasm_bindgen(js_name = attachWebgpu)]
    pub fn attach_webgpu(&self) -> Promise {
        let (session, weights) = (Rc::clone(&self.session), Rc::clone(&self.weights));
        future_to_promise(async move {
            let ok = match init_webgpu().await {
                Ok((device, info)) => session.attach_gpu(&weights, device, info).await.is_ok(),
                Err(e) => {
                    session.gpu_failed(e);
                    false
                }
            };
            Ok(JsValue::from_bool(ok))
        })
    }

    /// Where WebGPU stands: `not-attached`, `available`, `unavailable` or `lost`.
    #[wasm_bindgen(getter, js_name = webgpuState)]
    pub fn webgpu_state(&self) -> String {
        self.session.gpu_state().name().into()
    }

    /// Why WebGPU is unavailable or lost ("" otherwise).
    #[wasm_bindgen(getter, js_name = webgpuReason)]
    pub fn webgpu_reason(&self) -> String {
        self.session.gpu_reason()
    }

    /// The WebGPU adapter's description ("" if unknown or unavailable).
    #[wasm_bindgen(getter, js_name = adapterName)]
    pub fn adapter_name(&self) -> String {
        self.session
            .adapter()
            .map(|a| a.name.clone())
            .unwrap_or_default()
    }

    /// Whether the browser calls the WebGPU adapter a fallback (software) adapter.
    #[wasm_bindgen(getter, js_name = adapterIsFallback)]
    pub fn adapter_is_fallback(&self) -> bool {
        self.session.adapter().is_some_and(|a| a.fallback)
    }

    /// The model card, as JSON.
    #[wasm_bindgen(getter, js_name = cardJson)]
    pub fn card_json(&self) -> String {
        self.session.card().to_json()
    }

    /// The backend in use: `webgpu` or `cpu`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.session.backend().name().to_string()
    }

    /// Switches to `webgpu` or `cpu`.
    #[wasm_bindgen(js_name = setBackend)]
    pub fn set_backend(&self, name: &str) -> Result<(), JsValue> {
        Ok(self.session.set_backend(BackendKind::parse(name)?)?)
    }

    /// Stops using WebGPU (its device was lost): the CPU takes over.
    #[wasm_bindgen(js_name = disableWebgpu)]
    pub fn disable_webgpu(&self) {
        self.session.disable_gpu();
    }

    /// Preprocesses an RGBA drawing (white ink on black, `width × height`) the MNIST way and
    /// encodes it. Resolves to `{input, mean, std, reconstruction}` (Float32Arrays).
    #[wasm_bindgen(js_name = encodeDrawing)]
    pub fn encode_drawing(&self, rgba: Vec<u8>, width: u32, height: u32) -> Promise {
        let session = Rc::clone(&self.session);
        future_to_promise(async move {
            let e = session
                .encode_drawing(&rgba, width as usize, height as usize)
                .await?;
            encoded_to_js(&e)
        })
    }

    /// Encodes a 28×28 image (784 values in [0, 1]). Resolves like [`Model::encode_drawing`].
    #[wasm_bindgen(js_name = encodeImage)]
    pub fn encode_image(&self, image: Vec<f32>) -> Promise {
        let session = Rc::clone(&self.session);
        future_to_promise(async move {
            let e = session.encode_image(&image).await?;
            encoded_to_js(&e)
        })
    }

    /// Decodes `[x0, y0, x1, y1, …]` in one batched call. Resolves to a Float32Array of
    /// 784 values per point.
    #[wasm_bindgen(js_name = decodeBatch)]
    pub fn decode_batch(&self, points: Vec<f32>) -> Promise {
        self.decode_batch_on(self.session.backend().name(), points)
    }

    /// [`Model::decode_batch`] on `backend` (`webgpu` or `cpu`) without switching to it.
    #[wasm_bindgen(js_name = decodeBatchOn)]
    pub fn decode_batch_on(&self, backend: &str, points: Vec<f32>) -> Promise {
        let session = Rc::clone(&self.session);
        let kind = BackendKind::parse(backend);
        future_to_promise(async move {
            let images = session.decode_batch_on(kind?, &points).await?;
            Ok(Float32Array::from(images.as_slice()).into())
        })
    }

    /// Decodes one latent point. Resolves to a Float32Array of 784 values.
    pub fn decode(&self, x: f32, y: f32) -> Promise {
        self.decode_batch(vec![x, y])
    }
}
