//! The index of the models the page offers (`www/models.json`): which exported model folders
//! exist, what each shows, and which one the page loads first. The page reads it through the
//! web crate, so a bad index is refused with the same checks everywhere.

use serde::{Deserialize, Serialize};

/// Name of the index file, next to the model folders (`www/models.json`).
pub const INDEX: &str = "models.json";

/// One model the page can switch to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Short identifier, used in links (`#model=mse`): lowercase letters, digits and `-`.
    pub id: String,
    /// The model's folder, relative to the index, ending in `/` (e.g. `model-mse/`).
    pub dir: String,
    /// Its name in the model menu.
    pub name: String,
    /// One or two sentences: what this model shows.
    pub about: String,
}

/// The index file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelIndex {
    /// The id of the model loaded first.
    pub default: String,
    /// The models, in menu order.
    pub models: Vec<ModelEntry>,
}

/// Why an index was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IndexError {
    /// Not JSON of the index's shape.
    #[error("{INDEX} is not valid: {0}")]
    Parse(String),
    /// Valid JSON that breaks a rule.
    #[error("{INDEX}: {0}")]
    Invalid(String),
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A folder name the page may fetch from: relative, below the index, plain characters.
fn valid_dir(dir: &str) -> bool {
    dir.ends_with('/')
        && dir.len() > 1
        && !dir.starts_with('/')
        && dir.split('/').all(|part| part != ".." && part != ".")
        && dir
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_/".contains(&b))
}

impl ModelIndex {
    /// Parses and checks an index: at least one model, ids unique and plain, folders relative
    /// and below the index, the default listed.
    pub fn from_json(text: &str) -> Result<Self, IndexError> {
        let index: ModelIndex =
            serde_json::from_str(text).map_err(|e| IndexError::Parse(e.to_string()))?;
        if index.models.is_empty() {
            return Err(IndexError::Invalid("lists no model".into()));
        }
        for (i, m) in index.models.iter().enumerate() {
            if !valid_id(&m.id) {
                return Err(IndexError::Invalid(format!(
                    "model id `{}` is not lowercase letters, digits and `-`",
                    m.id
                )));
            }
            if index.models[..i].iter().any(|o| o.id == m.id) {
                return Err(IndexError::Invalid(format!(
                    "model id `{}` is listed twice",
                    m.id
                )));
            }
            if !valid_dir(&m.dir) {
                return Err(IndexError::Invalid(format!(
                    "model `{}`: folder `{}` must be relative, below the index, and end in `/`",
                    m.id, m.dir
                )));
            }
        }
        if index.entry(&index.default).is_none() {
            return Err(IndexError::Invalid(format!(
                "the default model `{}` is not listed",
                index.default
            )));
        }
        Ok(index)
    }

    /// The model with this id.
    pub fn entry(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.id == id)
    }

    /// As JSON (what the page receives).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the index serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"default": "bce", "models": [
        {"id": "bce", "dir": "model/", "name": "BCE", "about": "ours"},
        {"id": "mse", "dir": "model-mse/", "name": "MSE", "about": "the paper's"}]}"#;

    #[test]
    fn a_good_index_parses() {
        let index = ModelIndex::from_json(GOOD).expect("valid");
        assert_eq!(
            index.entry("mse").map(|m| m.dir.as_str()),
            Some("model-mse/")
        );
        assert_eq!(ModelIndex::from_json(&index.to_json()), Ok(index));
    }

    #[test]
    fn bad_indexes_are_refused_with_a_reason() {
        let cases = [
            ("{", "not valid"),
            (r#"{"default": "a", "models": []}"#, "lists no model"),
            (
                &GOOD.replace("\"default\": \"bce\"", "\"default\": \"x\""),
                "default model `x`",
            ),
            (
                &GOOD.replace("model-mse/", "../secret/"),
                "must be relative",
            ),
            (
                &GOOD.replace("model-mse/", "https://evil.example/"),
                "must be relative",
            ),
            (&GOOD.replace("model-mse/", "/abs/"), "must be relative"),
            (&GOOD.replace("model-mse/", "model-mse"), "end in `/`"),
            (&GOOD.replace("\"mse\"", "\"bce\""), "listed twice"),
            (&GOOD.replace("\"mse\"", "\"M SE\""), "lowercase"),
            (
                &GOOD.replace("\"about\": \"ours\"", "\"about\": \"ours\", \"x\": 1"),
                "unknown field",
            ),
        ];
        for (text, why) in cases {
            let err = ModelIndex::from_json(text).expect_err(why).to_string();
            assert!(err.contains(why), "{err} (expected: {why})");
        }
    }
}
