//! The job file as written: a serde mirror of the TOML (see the README for the format) and
//! the dotted-path `--conf KEY=VALUE` overrides applied to it before it is deserialized.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, Result};
pub use crate::options::OptionValue;
pub use crate::sql::steps::{StepSpec, WithColumnSpec};

/// A job file, deserialized but not yet validated (see [`crate::job::JobPlan`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The query name (Spark's `queryName`); defaults to the job file's stem.
    pub name: Option<String>,
    /// The input stream.
    pub source: SourceSpec,
    /// The query over the input.
    pub query: QuerySpec,
    /// One or more outputs; each is its own streaming query, as in Spark.
    #[serde(deserialize_with = "one_or_many")]
    pub sink: Vec<SinkSpec>,
    /// `spark.*` and other session settings, recorded with the query.
    #[serde(default)]
    pub conf: BTreeMap<String, OptionValue>,
}

/// `[source]`: Spark's `readStream.format(..).options(..)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// `kafka`, `text`, `tweets` or `rate`.
    pub format: String,
    /// The table name the query reads; default `input`.
    pub name: Option<String>,
    /// Spark's option names, verbatim.
    #[serde(default)]
    pub options: BTreeMap<String, OptionValue>,
}

/// `[query]`: the SQL text, inline or in a file next to the job file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// Inline Spark SQL.
    pub sql: Option<String>,
    /// A SQL file, relative to the job file.
    pub sql_file: Option<String>,
    /// DataFrame-style steps (PySpark's method names), instead of SQL.
    pub steps: Option<Vec<StepSpec>>,
}

/// `[sink]` / `[[sink]]`: Spark's `writeStream` settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkSpec {
    /// `console` or `memory`.
    pub format: String,
    /// `append` (default), `update` or `complete`.
    #[serde(rename = "outputMode", alias = "output_mode")]
    pub output_mode: Option<String>,
    /// `"N seconds"`, `"N ms"`, `"0"`, `"availableNow"` or `"once"`; absent = as fast as possible.
    pub trigger: Option<String>,
    /// Where offsets, commits and state are kept.
    #[serde(rename = "checkpointLocation", alias = "checkpoint_location")]
    pub checkpoint_location: Option<String>,
    /// This output's query name; defaults to the job name (`<name>_<i>` for the i-th extra sink).
    #[serde(rename = "queryName", alias = "query_name")]
    pub query_name: Option<String>,
    /// Sink options (`numRows`, `truncate`, ...).
    #[serde(default)]
    pub options: BTreeMap<String, OptionValue>,
    /// `foreach_batch` only: what to call with each batch (`[[sink.hooks]]`).
    #[serde(default)]
    pub hooks: Vec<HookSpec>,
}

/// `[[sink.hooks]]`: one foreachBatch function of a `foreach_batch` sink.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookSpec {
    /// `http` or `command`.
    pub kind: String,
    /// `http`: where to POST.
    pub url: Option<String>,
    /// `http`: how many rows the body carries (default 10, as the tutorial's top 10).
    #[serde(default, deserialize_with = "number_or_string")]
    pub top: Option<usize>,
    /// `http`: `form` (the tutorial's fields, default) or `json`.
    pub body: Option<String>,
    /// `fail` (default for `command`) or `log` (default for `http`): what a failing hook does.
    #[serde(rename = "onError", alias = "on_error")]
    pub on_error: Option<String>,
    /// `http`: milliseconds one request may take (default 5000).
    #[serde(
        rename = "timeoutMs",
        alias = "timeout_ms",
        default,
        deserialize_with = "number_or_string"
    )]
    pub timeout_ms: Option<u64>,
    /// `http`: attempts after the first, with doubling backoff (default 3).
    #[serde(default, deserialize_with = "number_or_string")]
    pub retries: Option<u32>,
    /// `command`: the program and its arguments (no shell).
    pub command: Option<Vec<String>>,
}

/// A whole number written as a TOML integer or, as `--conf` gives it, a string.
fn number_or_string<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64> + std::str::FromStr,
{
    match Option::<OptionValue>::deserialize(d)? {
        None => Ok(None),
        Some(OptionValue::Int(n)) => T::try_from(n)
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{n} is out of range"))),
        Some(OptionValue::Str(s)) => {
            s.trim().parse().map(Some).map_err(|_| {
                serde::de::Error::custom(format!("expected a whole number, got '{s}'"))
            })
        }
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a whole number, got {other}"
        ))),
    }
}

fn one_or_many<'de, D>(de: D) -> std::result::Result<Vec<SinkSpec>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    // Deserialize through a Value so that errors inside a sink keep serde's message.
    let value = toml::Value::deserialize(de)?;
    match value {
        toml::Value::Array(items) => items
            .into_iter()
            .map(|v| SinkSpec::deserialize(v).map_err(serde::de::Error::custom))
            .collect(),
        other => SinkSpec::deserialize(other)
            .map(|s| vec![s])
            .map_err(serde::de::Error::custom),
    }
}

impl JobSpec {
    /// Parses a job file's text, applying `--conf KEY=VALUE` overrides first.
    ///
    /// `origin` names the file in error messages (`-` for stdin).
    pub fn parse(text: &str, origin: &str, overrides: &[(String, String)]) -> Result<Self> {
        let job_err = |message: String| Error::JobFile {
            path: origin.to_string(),
            message,
        };
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| job_err(e.to_string()))?;
        for (key, value) in overrides {
            apply_override(&mut doc, key, value).map_err(job_err)?;
        }
        let spec: JobSpec = toml::Value::Table(doc)
            .try_into()
            .map_err(|e: toml::de::Error| job_err(e.to_string().trim_end().to_string()))?;
        if spec.sink.is_empty() {
            return Err(job_err(
                "no [sink] given; add a [sink] table with at least `format`".to_string(),
            ));
        }
        Ok(spec)
    }
}

/// Sets `key` (a dotted path such as `sink.outputMode`, `sink.1.trigger`,
/// `source.options.path` or `spark.sql.shuffle.partitions`) to `value` in the job document.
///
/// `sink.X` addresses the first sink and `sink.N.X` the N-th (from 0); `spark.*` keys go to
/// the `[conf]` table whole, since their own dots are part of the name.
pub fn apply_override(doc: &mut toml::Table, key: &str, value: &str) -> Result<(), String> {
    let value = toml::Value::String(value.to_string());
    if key.starts_with("spark.") {
        let conf = table_entry(doc, "conf", key)?;
        conf.insert(key.to_string(), value);
        return Ok(());
    }
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "invalid --conf key '{key}': expected a dotted path such as sink.outputMode"
        ));
    }
    let mut table = doc;
    let mut i = 0;
    while i + 1 < parts.len() {
        let part = parts[i];
        // Option maps take the rest of the path whole: Kafka keys like `kafka.bootstrap.servers`.
        if part == "options" || part == "conf" {
            let rest = parts[i + 1..].join(".");
            table_entry(table, part, key)?.insert(rest, value);
            return Ok(());
        }
        // Arrays of tables take an index: `sink.1.trigger`, `sink.1.hooks.0.url`.
        if part == "sink" || part == "hooks" {
            let index = parts
                .get(i + 1)
                .and_then(|p| p.parse::<usize>().ok())
                .filter(|_| i + 2 < parts.len());
            table = array_entry(table, part, index.unwrap_or(0), key)?;
            i += if index.is_some() { 2 } else { 1 };
            continue;
        }
        table = table_entry(table, part, key)?;
        i += 1;
    }
    table.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

fn table_entry<'a>(
    table: &'a mut toml::Table,
    name: &str,
    key: &str,
) -> Result<&'a mut toml::Table, String> {
    match table
        .entry(name.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
    {
        toml::Value::Table(t) => Ok(t),
        other => Err(format!(
            "--conf '{key}': '{name}' is a {}, not a table",
            other.type_str()
        )),
    }
}

fn array_entry<'a>(
    doc: &'a mut toml::Table,
    name: &str,
    index: usize,
    key: &str,
) -> Result<&'a mut toml::Table, String> {
    let singular = name.strip_suffix('s').unwrap_or(name);
    let entry = doc
        .entry(name.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let kind = entry.type_str();
    let count = match entry {
        toml::Value::Array(items) => items.len(),
        _ => 1,
    };
    let table = match entry {
        toml::Value::Table(t) if index == 0 => Some(t),
        toml::Value::Array(items) => match items.get_mut(index) {
            Some(toml::Value::Table(t)) => Some(t),
            _ => None,
        },
        _ => None,
    };
    match table {
        Some(t) => Ok(t),
        None if kind == "table" || kind == "array" => Err(format!(
            "--conf '{key}': the job has {count} {singular}{}, so there is no {singular} {index}; {singular}s count from 0",
            if count == 1 { "" } else { "s" }
        )),
        None => Err(format!("--conf '{key}': '{name}' is a {kind}, not a table")),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    const JOB: &str = r#"
name = "j"
[source]
format = "text"
[source.options]
path = "/in"
[query]
sql = "SELECT value FROM input"
[sink]
format = "console"
"#;

    #[test]
    fn overrides_reach_nested_and_option_keys() {
        let spec = JobSpec::parse(
            JOB,
            "job.toml",
            &[
                ("sink.outputMode".into(), "update".into()),
                ("source.options.path".into(), "/x".into()),
                (
                    "source.options.kafka.bootstrap.servers".into(),
                    "h:1".into(),
                ),
                ("spark.sql.shuffle.partitions".into(), "4".into()),
            ],
        )
        .unwrap();
        assert_eq!(spec.sink[0].output_mode.as_deref(), Some("update"));
        assert_eq!(spec.source.options["path"], OptionValue::Str("/x".into()));
        assert_eq!(
            spec.source.options["kafka.bootstrap.servers"],
            OptionValue::Str("h:1".into())
        );
        assert_eq!(
            spec.conf["spark.sql.shuffle.partitions"],
            OptionValue::Str("4".into())
        );
    }

    #[test]
    fn second_sink_is_addressed_by_index() {
        let job = JOB.replace("[sink]", "[[sink]]") + "[[sink]]\nformat = \"memory\"\n";
        let spec = JobSpec::parse(
            &job,
            "job.toml",
            &[("sink.1.trigger".into(), "once".into())],
        )
        .unwrap();
        assert_eq!(spec.sink.len(), 2);
        assert_eq!(spec.sink[1].trigger.as_deref(), Some("once"));
        assert_eq!(spec.sink[0].trigger, None);
        let err = JobSpec::parse(
            &job,
            "job.toml",
            &[("sink.2.trigger".into(), "once".into())],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("the job has 2 sinks"), "{err}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let job = JOB.replace(
            "format = \"console\"",
            "format = \"console\"\noutputMod = \"x\"",
        );
        let err = JobSpec::parse(&job, "job.toml", &[])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("job file 'job.toml'"), "{err}");
        assert!(err.contains("outputMod"), "{err}");
    }
}
