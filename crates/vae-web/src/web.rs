//! The JavaScript bindings: thin glue that turns [`Session`] calls into promises and typed
//! arrays. All logic lives in [`crate::session`], tested natively.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Float32Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::backend::{BackendKind, init_webgpu};
use crate::error::WebError;
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
    set(&out, "input", &Float32Array::from(e.input.as_slice()))?;
    set(&out, "mean", &Float32Array::from(e.mean.as_slice()))?;
    set(&out, "std", &Float32Array::from(e.std.as_slice()))?;
    set(
        &out,
        "reconstruction",
        &Float32Array::from(e.reconstruction.as_slice()),
    )?;
    Ok(out.into())
}

/// Name of the model card inside the model directory (`card.json`); the card names the rest.
#[wasm_bindgen(js_name = cardFileName)]
pub fn card_file_name() -> String {
    vae::files::CARD.to_string()
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
        .map_err(|e| WebError::context(vae::files::LATENTS, e))?;
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

/// The model, as the page sees it.
#[wasm_bindgen]
pub struct Model {
    session: Rc<Session>,
    weights: Rc<Vec<u8>>,
    webgpu_status: Rc<RefCell<String>>,
}

#[wasm_bindgen]
impl Model {
    /// Loads a model on the CPU from the text of `card.json` and the bytes of its weights. The
    /// model is usable at once; [`Model::attach_webgpu`] adds WebGPU afterwards.
    pub fn load(card_json: &str, weights: Vec<u8>) -> Result<Model, JsValue> {
        let session = Session::load(card_json, &weights)?;
        Ok(Model {
            session: Rc::new(session),
            weights: Rc::new(weights),
            webgpu_status: Rc::new(RefCell::new("not attached".into())),
        })
    }

    /// Initialises WebGPU (once), loads the weights there and runs a warm-up pass. Resolves
    /// to `true` when WebGPU is usable, `false` when not ([`Model::webgpu_status`] says why);
    /// the CPU keeps serving meanwhile and is still the backend in use afterwards.
    #[wasm_bindgen(js_name = attachWebgpu)]
    pub fn attach_webgpu(&self) -> Promise {
        let (session, weights, status) = (
            Rc::clone(&self.session),
            Rc::clone(&self.weights),
            Rc::clone(&self.webgpu_status),
        );
        future_to_promise(async move {
            let result = match init_webgpu().await {
                Ok((device, info)) => session.attach_gpu(&weights, device, info).await,
                Err(e) => Err(e),
            };
            let ok = result.is_ok();
            *status.borrow_mut() = match result {
                Ok(()) => "available".into(),
                Err(e) => e.0,
            };
            Ok(JsValue::from_bool(ok))
        })
    }

    /// `available`, `lost`, `not attached`, or why WebGPU could not be initialised.
    #[wasm_bindgen(getter, js_name = webgpuStatus)]
    pub fn webgpu_status(&self) -> String {
        let status = self.webgpu_status.borrow().clone();
        if status == "available" && self.session.adapter().is_none() {
            "lost".into()
        } else {
            status
        }
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
        let kind = BackendKind::parse(name)
            .ok_or_else(|| WebError(format!("unknown backend `{name}` (webgpu or cpu)")))?;
        Ok(self.session.set_backend(kind)?)
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
        let backend = backend.to_string();
        future_to_promise(async move {
            let kind = kind
                .ok_or_else(|| WebError(format!("unknown backend `{backend}` (webgpu or cpu)")))?;
            let images = session.decode_batch_on(kind, &points).await?;
            Ok(Float32Array::from(images.as_slice()).into())
        })
    }

    /// Decodes one latent point. Resolves to a Float32Array of 784 values.
    pub fn decode(&self, x: f32, y: f32) -> Promise {
        self.decode_batch(vec![x, y])
    }
}
