//! [`Settings`]: what `SET` changes in the shell — the output mode, trigger and console
//! options of the next streaming query, and any `spark.*` key, passed to queries as conf.

use std::collections::BTreeMap;

use crate::output_mode::OutputMode;
use crate::trigger::Trigger;

/// The shell's own setting names (any `spark.*` key is accepted as well).
pub const KEYS: &[&str] = &["outputMode", "trigger", "numRows", "truncate"];

/// The current settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The output mode of the next streaming query.
    pub output_mode: OutputMode,
    /// Its trigger.
    pub trigger: Trigger,
    /// The trigger as the user wrote it, for `SET`.
    trigger_text: String,
    /// Rows shown per table (console `numRows`).
    pub num_rows: u64,
    /// Whether cells are cut at 20 characters (console `truncate`).
    pub truncate: bool,
    /// `spark.*` keys, in the case they were first written.
    pub conf: BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            output_mode: OutputMode::Append,
            trigger: Trigger::default(),
            trigger_text: "0 seconds".to_string(),
            num_rows: 20,
            truncate: true,
            conf: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// Sets `key` (case-insensitive) to `value`, checking it.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        match canonical(key)? {
            Key::OutputMode => self.output_mode = OutputMode::parse(value)?,
            Key::Trigger => {
                self.trigger = Trigger::parse(value)?;
                self.trigger_text = value.trim().to_string();
            }
            Key::NumRows => {
                self.num_rows = value
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        format!("invalid numRows '{value}': expected a positive integer")
                    })?;
            }
            Key::Truncate => {
                self.truncate = match value.trim().to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(format!(
                            "invalid truncate '{value}': expected true or false"
                        ));
                    }
                }
            }
            Key::Spark => {
                let existing = self
                    .conf
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case(key))
                    .cloned();
                self.conf.insert(
                    existing.unwrap_or_else(|| key.to_string()),
                    value.to_string(),
                );
            }
        }
        Ok(())
    }

    /// The value of `key`, as `SET key` shows it.
    pub fn get(&self, key: &str) -> Result<String, String> {
        Ok(match canonical(key)? {
            Key::OutputMode => self.output_mode.as_str().to_string(),
            Key::Trigger => self.trigger_text.clone(),
            Key::NumRows => self.num_rows.to_string(),
            Key::Truncate => self.truncate.to_string(),
            Key::Spark => self
                .conf
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| "<undefined>".to_string()),
        })
    }

    /// Every setting as (key, value), the shell's first, for `SET`.
    pub fn entries(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = KEYS
            .iter()
            .map(|k| (k.to_string(), self.get(k).unwrap_or_default()))
            .collect();
        out.extend(self.conf.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }
}

enum Key {
    OutputMode,
    Trigger,
    NumRows,
    Truncate,
    Spark,
}

fn canonical(key: &str) -> Result<Key, String> {
    let lower = key.to_ascii_lowercase();
    Ok(match lower.as_str() {
        "outputmode" => Key::OutputMode,
        "trigger" => Key::Trigger,
        "numrows" => Key::NumRows,
        "truncate" => Key::Truncate,
        _ if lower.starts_with("spark.") && lower.len() > "spark.".len() => Key::Spark,
        _ => {
            return Err(format!(
                "unknown setting '{key}'; the settings are {} and any spark.* key",
                KEYS.join(", ")
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use std::time::Duration;

    use super::*;

    #[test]
    fn settings_are_checked_and_case_insensitive() {
        let mut s = Settings::default();
        s.set("OUTPUTMODE", "Update").unwrap();
        s.set("trigger", "5 seconds").unwrap();
        s.set("numRows", "3").unwrap();
        s.set("truncate", "FALSE").unwrap();
        s.set("spark.sql.shuffle.partitions", "4").unwrap();
        s.set("Spark.SQL.Shuffle.Partitions", "8").unwrap();
        assert_eq!(s.output_mode, OutputMode::Update);
        assert_eq!(s.trigger, Trigger::ProcessingTime(Duration::from_secs(5)));
        assert_eq!(s.get("trigger").unwrap(), "5 seconds");
        assert_eq!((s.num_rows, s.truncate), (3, false));
        assert_eq!(s.conf.len(), 1);
        assert_eq!(s.get("spark.sql.shuffle.partitions").unwrap(), "8");
        assert_eq!(s.get("spark.unset").unwrap(), "<undefined>");
        assert_eq!(s.entries().len(), KEYS.len() + 1);
    }

    #[test]
    fn bad_settings_name_the_value_and_the_choices() {
        let mut s = Settings::default();
        let err = s.set("outputMode", "upsert").unwrap_err();
        assert!(err.contains("invalid outputMode 'upsert'"), "{err}");
        let err = s.set("numRows", "0").unwrap_err();
        assert!(err.contains("expected a positive integer"), "{err}");
        let err = s.set("mode", "x").unwrap_err();
        assert_eq!(
            err,
            "unknown setting 'mode'; the settings are outputMode, trigger, numRows, truncate and any spark.* key"
        );
    }
}
