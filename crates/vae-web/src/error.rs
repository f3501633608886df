//! The one error type of the web crate: a message that says what failed, shown to the user.

/// An error with a readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WebError(pub String);

impl WebError {
    /// An error with `context` in front of `cause`: "loading the weights: …".
    pub fn context(context: &str, cause: impl std::fmt::Display) -> Self {
        Self(format!("{context}: {cause}"))
    }
}

#[cfg(target_family = "wasm")]
impl From<WebError> for wasm_bindgen::JsValue {
    fn from(e: WebError) -> Self {
        wasm_bindgen::JsError::new(&e.0).into()
    }
}
