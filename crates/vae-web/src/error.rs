//! The one error type of the web crate: a kind the page can switch on and a message that says
//! what failed, shown to the user. Both cross a worker's message boundary as plain values.

/// What kind of failure an error is, for the page to react to (not to show).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A drawing, image or latent point the model cannot take: the model itself is fine.
    BadInput,
    /// A model file (card, weights, latents) that is corrupt or does not fit the page.
    BadModel,
    /// WebGPU cannot be used: no adapter, not attached, or lost.
    WebGpuUnavailable,
    /// The device failed during a call (e.g. a read-back on a lost GPU).
    Device,
}

impl ErrorKind {
    /// The name JavaScript sees: `bad-input`, `bad-model`, `webgpu-unavailable`, `device`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::BadInput => "bad-input",
            ErrorKind::BadModel => "bad-model",
            ErrorKind::WebGpuUnavailable => "webgpu-unavailable",
            ErrorKind::Device => "device",
        }
    }
}

/// An error with a kind and a readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct WebError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What failed, for the user.
    pub message: String,
}

impl WebError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// An error of `kind` with `context` in front of `cause`: "loading the weights: …".
    pub fn context(kind: ErrorKind, context: &str, cause: impl std::fmt::Display) -> Self {
        Self::new(kind, format!("{context}: {cause}"))
    }
}

/// A JavaScript `Error` with the message, and the kind's name in its `kind` property.
#[cfg(target_family = "wasm")]
impl From<WebError> for wasm_bindgen::JsValue {
    fn from(e: WebError) -> Self {
        let js: wasm_bindgen::JsValue = wasm_bindgen::JsError::new(&e.message).into();
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&js, &"kind".into(), &e.kind.name().into());
        js
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_the_names_javascript_switches_on() {
        let e = WebError::context(ErrorKind::BadModel, "reading card.json", "bad JSON");
        assert_eq!(e.to_string(), "reading card.json: bad JSON");
        assert_eq!(e.kind.name(), "bad-model");
        assert_eq!(ErrorKind::WebGpuUnavailable.name(), "webgpu-unavailable");
    }
}
