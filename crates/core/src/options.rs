//! Source and sink options: Spark's case-insensitive `option(key, value)` map, with typed
//! getters whose errors name the owner, the key, the value and what is expected.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// An option value: TOML strings, numbers and booleans are all accepted, as Spark's
/// `option(key, value)` accepts them, and are handled as their string form.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(untagged)]
pub enum OptionValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl std::fmt::Display for OptionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionValue::Str(s) => f.write_str(s),
            OptionValue::Int(i) => write!(f, "{i}"),
            OptionValue::Float(x) => write!(f, "{x}"),
            OptionValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Options of one source or sink. Keys are matched case-insensitively, as Spark does.
#[derive(Debug, Clone, Default)]
pub struct Options {
    owner: String,
    /// lower-cased key → (key as written, value)
    entries: BTreeMap<String, (String, String)>,
}

impl Options {
    /// Builds the options of `owner` (e.g. `source 'text'`) from a job file's option table.
    pub fn new(owner: impl Into<String>, raw: &BTreeMap<String, OptionValue>) -> Self {
        let entries = raw
            .iter()
            .map(|(k, v)| (k.to_lowercase(), (k.clone(), v.to_string())))
            .collect();
        Options {
            owner: owner.into(),
            entries,
        }
    }

    /// Builds options from plain string pairs.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        owner: impl Into<String>,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let entries = pairs
            .into_iter()
            .map(|(k, v)| {
                let k = k.into();
                (k.to_lowercase(), (k, v.into()))
            })
            .collect();
        Options {
            owner: owner.into(),
            entries,
        }
    }

    /// Who these options belong to, for messages.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The raw string value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .get(&key.to_lowercase())
            .map(|(_, v)| v.as_str())
    }

    /// All options as (key as written, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.values().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// An error about `key` holding a bad value.
    pub fn invalid(&self, key: &str, message: impl Into<String>) -> Error {
        let (written, value) = self
            .entries
            .get(&key.to_lowercase())
            .cloned()
            .unwrap_or_else(|| (key.to_string(), String::new()));
        Error::InvalidOption {
            owner: self.owner.clone(),
            key: written,
            value,
            message: message.into(),
        }
    }

    /// A required string option.
    pub fn required(&self, key: &str, hint: &str) -> Result<&str> {
        self.get(key).ok_or_else(|| Error::InvalidOption {
            owner: self.owner.clone(),
            key: key.to_string(),
            value: String::new(),
            message: format!("option '{key}' is required: {hint}"),
        })
    }

    /// A positive integer option, or `default` when absent.
    pub fn positive_u64(&self, key: &str, default: Option<u64>) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(self.invalid(key, "expected a positive integer")),
            },
        }
    }

    /// A non-negative integer option, or `default` when absent.
    pub fn u64_or(&self, key: &str, default: u64) -> Result<u64> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map_err(|_| self.invalid(key, "expected a non-negative integer")),
        }
    }

    /// A boolean option (`true`/`false`, any case), or `default` when absent.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" => Ok(true),
            Some(v) if v == "false" => Ok(false),
            Some(_) => Err(self.invalid(key, "expected true or false")),
        }
    }

    /// Warns about every key not in `known`, listing the accepted ones. Spark ignores options
    /// a source does not use (so a Kafka job can be pointed at files with `--conf`); kindling
    /// ignores them too, but says so, so that typos do not pass silently.
    pub fn warn_unknown(&self, known: &[&str]) -> Vec<String> {
        let mut unknown = Vec::new();
        for (lower, (written, _)) in &self.entries {
            if !known.iter().any(|k| k.to_lowercase() == *lower) {
                let message = format!(
                    "option '{written}' is not used by {} and is ignored; its options are: {}",
                    self.owner,
                    if known.is_empty() {
                        "(none)".to_string()
                    } else {
                        known.join(", ")
                    }
                );
                tracing::warn!("{message}");
                unknown.push(message);
            }
        }
        unknown
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_typed() {
        let o = Options::from_pairs("source 'rate'", [("rowsPerSecond", "5"), ("x", "yes")]);
        assert_eq!(o.positive_u64("ROWSPERSECOND", None).unwrap(), Some(5));
        let err = o.bool_or("x", false).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid option 'x' = 'yes' for source 'rate': expected true or false"
        );
        let unknown = o.warn_unknown(&["rowsPerSecond"]);
        assert_eq!(
            unknown,
            [
                "option 'x' is not used by source 'rate' and is ignored; its options are: rowsPerSecond"
            ]
        );
    }
}
