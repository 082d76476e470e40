//! [`JobPlan`]: a job file validated and resolved (SQL loaded, modes and triggers parsed, one
//! [`QueryPlan`] per sink), so that everything after it can trust its inputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::spec::{HookSpec, JobSpec};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::output_mode::OutputMode;
use crate::sink::SINK_FORMATS;
pub use crate::sink::foreach_batch::{HookPlan, HttpBody, OnError};
use crate::source::SOURCE_FORMATS;
use crate::sql::steps::Step;
use crate::trigger::Trigger;

/// A validated job: one query per sink over the same source and SQL.
#[derive(Debug, Clone)]
pub struct JobPlan {
    /// The job name.
    pub name: String,
    /// One streaming query per `[[sink]]`.
    pub queries: Vec<QueryPlan>,
}

/// One streaming query: source → SQL → sink.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// The query name (Spark's `queryName`; names the memory table).
    pub name: String,
    /// The job name, for messages.
    pub job: String,
    /// The input.
    pub source: SourcePlan,
    /// The query: SQL text or DataFrame-style steps.
    pub query: QueryText,
    /// The output.
    pub sink: SinkPlan,
    /// `spark.*` and other session settings.
    pub conf: BTreeMap<String, String>,
}

/// A query as the job gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryText {
    /// Spark SQL.
    Sql(String),
    /// DataFrame-style steps, compiled to SQL when the query is planned.
    Steps(Vec<Step>),
}

/// A validated `[source]`.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    /// `text`, `tweets`, `rate` or `kafka`.
    pub format: String,
    /// The table name the SQL reads.
    pub table: String,
    /// The options.
    pub options: Options,
}

/// A validated `[sink]`.
#[derive(Debug, Clone)]
pub struct SinkPlan {
    /// `console` or `memory`.
    pub format: String,
    /// The output mode.
    pub output_mode: OutputMode,
    /// The trigger.
    pub trigger: Trigger,
    /// Where the checkpoint lives; a temporary directory when `None`.
    pub checkpoint_location: Option<PathBuf>,
    /// The options.
    pub options: Options,
    /// `foreach_batch`: the functions called with each batch, in order.
    pub hooks: Vec<HookPlan>,
}

/// Validates one `[[sink.hooks]]` into its [`HookPlan`]; `at` names it in messages
/// (`sink.hooks.0`).
fn hook_plan(spec: &HookSpec, at: &str) -> Result<HookPlan, String> {
    let on_error = |default: OnError| match spec.on_error.as_deref() {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("fail") => Ok(OnError::Fail),
        Some(v) if v.eq_ignore_ascii_case("log") => Ok(OnError::Log),
        Some(v) => Err(format!(
            "{at}.onError = '{v}': expected \"fail\" or \"log\""
        )),
    };
    let only = |field: &str, present: bool, kind: &str| {
        if present {
            Err(format!(
                "{at}.{field} is not used by a '{kind}' hook; remove it"
            ))
        } else {
            Ok(())
        }
    };
    match spec.kind.as_str() {
        "http" => {
            only("command", spec.command.is_some(), "http")?;
            let url = spec
                .url
                .clone()
                .ok_or_else(|| format!("{at}.url is required for an http hook, e.g. url = \"http://127.0.0.1:8050/update_data\""))?;
            if !url.starts_with("http://") {
                return Err(format!(
                    "{at}.url = '{url}': expected an http:// URL (https is not supported: put a local proxy in front)"
                ));
            }
            let body = match spec.body.as_deref() {
                None | Some("form") => HttpBody::Form,
                Some("json") => HttpBody::Json,
                Some(other) => {
                    return Err(format!(
                        "{at}.body = '{other}': expected \"form\" (the tutorial's fields) or \"json\""
                    ));
                }
            };
            Ok(HookPlan::Http {
                url,
                top: spec.top.unwrap_or(10),
                body,
                on_error: on_error(OnError::Log)?,
                timeout: std::time::Duration::from_millis(spec.timeout_ms.unwrap_or(5000)),
                retries: spec.retries.unwrap_or(3),
            })
        }
        "command" => {
            for (field, present) in [
                ("url", spec.url.is_some()),
                ("top", spec.top.is_some()),
                ("body", spec.body.is_some()),
                ("timeoutMs", spec.timeout_ms.is_some()),
                ("retries", spec.retries.is_some()),
            ] {
                only(field, present, "command")?;
            }
            let argv = spec.command.clone().unwrap_or_default();
            if argv.is_empty() || argv[0].is_empty() {
                return Err(format!(
                    "{at}.command is required for a command hook: the program and its arguments, e.g. command = [\"python3\", \"hook.py\"]"
                ));
            }
            Ok(HookPlan::Command {
                argv,
                on_error: on_error(OnError::Fail)?,
            })
        }
        other => Err(format!(
            "{at}.kind = '{other}' is not a hook kind; expected \"http\" or \"command\""
        )),
    }
}

impl JobPlan {
    /// Reads a job file (`-` = stdin), applies `--conf` overrides and validates it.
    pub fn load(path: &str, overrides: &[(String, String)]) -> Result<Self> {
        let job_err = |message: String| Error::JobFile {
            path: path.to_string(),
            message,
        };
        let (text, base, stem) = if path == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| job_err(format!("cannot read stdin: {e}")))?;
            (text, PathBuf::from("."), "stdin".to_string())
        } else {
            let p = Path::new(path);
            let text = std::fs::read_to_string(p)
                .map_err(|e| job_err(format!("cannot read it: {e}; check the path")))?;
            let base = p.parent().map(Path::to_path_buf).unwrap_or_default();
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "job".to_string());
            (text, base, stem)
        };
        let spec = JobSpec::parse(&text, path, overrides)?;
        Self::from_spec(spec, path, &base, &stem)
    }

    /// Validates `spec`; `origin` names the job file in messages, `base` resolves `sql_file`.
    pub fn from_spec(spec: JobSpec, origin: &str, base: &Path, default_name: &str) -> Result<Self> {
        let job_err = |message: String| Error::JobFile {
            path: origin.to_string(),
            message,
        };
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| default_name.to_string());
        if !SOURCE_FORMATS.contains(&spec.source.format.as_str()) {
            return Err(job_err(format!(
                "source.format = '{}' is not a known source; expected one of: {}",
                spec.source.format,
                SOURCE_FORMATS.join(", ")
            )));
        }
        let query = match (&spec.query.sql, &spec.query.sql_file, &spec.query.steps) {
            (Some(sql), None, None) => QueryText::Sql(sql.clone()),
            (None, Some(file), None) => {
                let path = base.join(file);
                QueryText::Sql(std::fs::read_to_string(&path).map_err(|e| {
                    job_err(format!(
                        "query.sql_file = '{file}': cannot read '{}': {e}; the path is relative to the job file",
                        path.display()
                    ))
                })?)
            }
            (None, None, Some(steps)) => {
                if steps.is_empty() {
                    return Err(job_err("[query] has no steps".to_string()));
                }
                QueryText::Steps(
                    steps
                        .iter()
                        .enumerate()
                        .map(|(i, s)| Step::from_spec(s, i))
                        .collect::<Result<Vec<_>, String>>()
                        .map_err(job_err)?,
                )
            }
            (None, None, None) => {
                return Err(job_err(
                    "[query] needs `sql` (inline Spark SQL), `sql_file` (a path relative to the job file) or [[query.steps]]".to_string(),
                ));
            }
            _ => {
                return Err(job_err(
                    "[query] takes one of `sql`, `sql_file` and [[query.steps]]; keep one"
                        .to_string(),
                ));
            }
        };
        let conf: BTreeMap<String, String> = spec
            .conf
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        let source = SourcePlan {
            format: spec.source.format.clone(),
            table: spec
                .source
                .name
                .clone()
                .unwrap_or_else(|| "input".to_string()),
            options: Options::new(
                format!("source '{}'", spec.source.format),
                &spec.source.options,
            ),
        };
        let multiple = spec.sink.len() > 1;
        let mut queries = Vec::with_capacity(spec.sink.len());
        for (i, sink) in spec.sink.iter().enumerate() {
            let key = |k: &str| {
                if multiple {
                    format!("sink.{i}.{k}")
                } else {
                    format!("sink.{k}")
                }
            };
            if !SINK_FORMATS.contains(&sink.format.as_str()) {
                return Err(job_err(format!(
                    "{} = '{}' is not a known sink; expected one of: {}",
                    key("format"),
                    sink.format,
                    SINK_FORMATS.join(", ")
                )));
            }
            let output_mode = match &sink.output_mode {
                None => OutputMode::Append,
                Some(m) => OutputMode::parse(m)
                    .map_err(|e| job_err(format!("{}: {e}", key("outputMode"))))?,
            };
            let trigger = match &sink.trigger {
                None => Trigger::default(),
                Some(t) => {
                    Trigger::parse(t).map_err(|e| job_err(format!("{}: {e}", key("trigger"))))?
                }
            };
            let query_name = sink.query_name.clone().unwrap_or_else(|| {
                if i == 0 {
                    name.clone()
                } else {
                    format!("{name}_{i}")
                }
            });
            let hooks = sink
                .hooks
                .iter()
                .enumerate()
                .map(|(h, spec)| hook_plan(spec, &key(&format!("hooks.{h}"))))
                .collect::<Result<Vec<_>, String>>()
                .map_err(job_err)?;
            match (sink.format.as_str(), hooks.is_empty()) {
                ("foreach_batch", true) => {
                    return Err(job_err(format!(
                        "{} = 'foreach_batch' needs at least one [[sink.hooks]] (kind = \"http\" or \"command\")",
                        key("format")
                    )));
                }
                ("foreach_batch", false) | (_, true) => {}
                (other, false) => {
                    return Err(job_err(format!(
                        "{} = '{other}' takes no hooks; [[sink.hooks]] belong to format = \"foreach_batch\"",
                        key("format")
                    )));
                }
            }
            queries.push(QueryPlan {
                name: query_name,
                job: name.clone(),
                source: source.clone(),
                query: query.clone(),
                sink: SinkPlan {
                    format: sink.format.clone(),
                    output_mode,
                    trigger,
                    checkpoint_location: sink.checkpoint_location.as_ref().map(PathBuf::from),
                    options: Options::new(format!("sink '{}'", sink.format), &sink.options),
                    hooks,
                },
                conf: conf.clone(),
            });
        }
        Ok(JobPlan { name, queries })
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    fn plan(job: &str) -> Result<JobPlan> {
        let spec = JobSpec::parse(job, "job.toml", &[])?;
        JobPlan::from_spec(spec, "job.toml", Path::new("."), "job")
    }

    const BASE: &str = "[source]\nformat = \"rate\"\n[query]\nsql = \"SELECT value FROM input\"\n";

    #[test]
    fn bad_values_name_key_value_and_fix() {
        let err = plan(&format!(
            "{BASE}[sink]\nformat = \"console\"\noutputMode = \"upsert\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "job file 'job.toml': sink.outputMode: invalid outputMode 'upsert': expected append, update or complete"
        );
        let err = plan(&format!("{BASE}[sink]\nformat = \"consol\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sink.format = 'consol' is not a known sink"),
            "{err}"
        );
        let err = plan(&format!(
            "{BASE}[sink]\nformat = \"console\"\ntrigger = \"soon\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("sink.trigger: invalid trigger 'soon'"),
            "{err}"
        );
        let err = plan("[source]\nformat = \"rate\"\n[query]\n[sink]\nformat = \"console\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[query] needs `sql`"), "{err}");
    }

    #[test]
    fn each_sink_is_a_query_with_its_own_name() {
        let job = format!(
            "name = \"j\"\n{BASE}[[sink]]\nformat = \"console\"\n[[sink]]\nformat = \"memory\"\ntrigger = \"once\"\n"
        );
        let p = plan(&job).unwrap();
        assert_eq!(p.queries.len(), 2);
        assert_eq!(p.queries[0].name, "j");
        assert_eq!(p.queries[1].name, "j_1");
        assert_eq!(p.queries[1].sink.trigger, Trigger::Once);
        assert_eq!(p.queries[0].source.table, "input");
    }
}
