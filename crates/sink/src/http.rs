//! The `http` hook of a `foreach_batch` sink: POSTs each batch's first `top` rows to a URL.
//!
//! The default body is byte for byte what the tutorial's PySpark `foreachBatch` function
//! sends with `requests.post(url, data=...)`: one form field per column, holding
//! `str([str(v) for v in column])` (Python's list repr, quotes and escapes included). `json`
//! sends `{"batchId": n, "rows": [...]}`. Failed requests are retried with doubling backoff;
//! then `onError` decides: `log` (the default: the query goes on) or `fail`.

use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use tracing::warn;

use super::foreach_batch::BatchHook;
use super::foreach_batch::{HookPlan, HttpBody, OnError};
use kindling_core::error::{Error, Result};

/// The first retry waits this long; each next one twice as long.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// POSTs batches to a receiver.
pub struct HttpHook {
    client: reqwest::Client,
    url: String,
    top: usize,
    body: HttpBody,
    on_error: OnError,
    retries: u32,
}

impl HttpHook {
    /// Builds the hook of an `http` [`HookPlan`].
    pub fn try_new(plan: &HookPlan) -> Result<Self> {
        let HookPlan::Http {
            url,
            top,
            body,
            on_error,
            timeout,
            retries,
        } = plan
        else {
            return Err(Error::Usage("an http hook needs an http plan".to_string()));
        };
        let client = reqwest::Client::builder()
            .timeout(*timeout)
            .build()
            .map_err(|e| Error::Usage(format!("cannot build the HTTP client for '{url}': {e}")))?;
        Ok(HttpHook {
            client,
            url: url.clone(),
            top: *top,
            body: *body,
            on_error: *on_error,
            retries: *retries,
        })
    }

    async fn post_once(&self, content_type: &str, body: &str) -> std::result::Result<(), String> {
        let response = self
            .client
            .post(&self.url)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        Err(format!("the receiver answered {status}: {}", text.trim()))
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer within the timeout (timeoutMs)".to_string()
    } else if e.is_connect() {
        "cannot connect (is the receiver running?)".to_string()
    } else {
        e.to_string()
    }
}

#[async_trait]
impl BatchHook for HttpHook {
    async fn call(&self, batch_id: u64, batches: &[RecordBatch]) -> Result<()> {
        let (content_type, body) = match self.body {
            HttpBody::Form => (
                "application/x-www-form-urlencoded",
                form_body(batches, self.top)?,
            ),
            HttpBody::Json => ("application/json", json_body(batch_id, batches, self.top)?),
        };
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        let error = loop {
            match self.post_once(content_type, &body).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt >= self.retries => break e,
                Err(e) => {
                    warn!(
                        "foreach_batch http hook: POST {} for batch {batch_id} failed: {e}; retrying in {} ms",
                        self.url,
                        backoff.as_millis()
                    );
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
            }
        };
        let message = format!(
            "foreach_batch http hook: POST {} for batch {batch_id} failed after {} attempt(s): {error}",
            self.url,
            self.retries + 1
        );
        match self.on_error {
            OnError::Fail => Err(Error::Sink {
                sink: "foreach_batch".to_string(),
                message: format!("{message}; set onError = \"log\" to keep the query running"),
                cause: None,
            }),
            OnError::Log => {
                warn!("{message}; the query goes on (onError = \"log\")");
                Ok(())
            }
        }
    }
}

/// The tutorial's form body: per column, `name=str([str(v) for v in column[:top]])`.
pub fn form_body(batches: &[RecordBatch], top: usize) -> Result<String> {
    let Some(first) = batches.first() else {
        return Ok(String::new());
    };
    let schema = first.schema();
    let mut fields = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        let mut values = Vec::new();
        for batch in batches {
            let left = top.saturating_sub(values.len());
            if left == 0 {
                break;
            }
            let column = batch.column(i);
            let cells = PythonStr::try_new(column.as_ref())?;
            values.extend((0..column.len().min(left)).map(|row| cells.value(row)));
        }
        let list = python_list_repr(&values);
        fields.push(format!(
            "{}={}",
            quote_plus(field.name()),
            quote_plus(&list)
        ));
    }
    Ok(fields.join("&"))
}

/// `{"batchId": n, "rows": [{column: value, ...}, ...]}` with the first `top` rows.
pub fn json_body(batch_id: u64, batches: &[RecordBatch], top: usize) -> Result<String> {
    let mut kept = Vec::new();
    let mut left = top;
    for batch in batches {
        if left == 0 {
            break;
        }
        let n = batch.num_rows().min(left);
        kept.push(batch.slice(0, n));
        left -= n;
    }
    let mut writer = arrow_json::ArrayWriter::new(Vec::new());
    let refs: Vec<&RecordBatch> = kept.iter().collect();
    writer.write_batches(&refs)?;
    writer.finish()?;
    let rows = writer.into_inner();
    let rows = if rows.is_empty() {
        "[]".to_string()
    } else {
        String::from_utf8_lossy(&rows).into_owned()
    };
    Ok(format!("{{\"batchId\":{batch_id},\"rows\":{rows}}}"))
}

/// Python's `str(v)` of the cells of one column as PySpark hands them over (`None` for NULL).
struct PythonStr<'a> {
    array: &'a dyn Array,
    formatter: ArrayFormatter<'a>,
}

impl<'a> PythonStr<'a> {
    fn try_new(array: &'a dyn Array) -> Result<Self> {
        Ok(PythonStr {
            array,
            formatter: ArrayFormatter::try_new(array, &FormatOptions::default())?,
        })
    }

    fn value(&self, row: usize) -> String {
        let array = self.array;
        if array.is_null(row) {
            return "None".to_string();
        }
        match array.data_type() {
            DataType::Boolean if array.as_boolean().value(row) => "True".to_string(),
            DataType::Boolean => "False".to_string(),
            DataType::Float64 => python_float(
                array
                    .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                    .value(row),
            ),
            DataType::Float32 => python_float(f64::from(
                array
                    .as_primitive::<datafusion::arrow::datatypes::Float32Type>()
                    .value(row),
            )),
            _ => self.formatter.value(row).to_string(),
        }
    }
}

/// Python's `repr(float)`: the shortest round-trip digits, always with a fraction or exponent.
fn python_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let abs = x.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        // Python: 1e+16, 1.5e-05
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let s = format!("{x}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

/// Python's `str(list_of_str)`: `['a', "it's"]`.
pub fn python_list_repr(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| python_repr(v)).collect();
    format!("[{}]", items.join(", "))
}

/// Python's `repr(str)`: single quotes unless the text has a `'` and no `"`; backslash,
/// the quote, `\n`, `\r`, `\t` and unprintable characters escaped.
pub fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !is_printable(c) => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable` for one character: not a control, format, separator (other
/// than the ASCII space), surrogate or private-use character.
fn is_printable(c: char) -> bool {
    let n = c as u32;
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || matches!(
            n,
            0xA0 | 0xAD
                | 0x600..=0x605
                | 0x61C
                | 0x6DD
                | 0x70F
                | 0x1680
                | 0x180E
                | 0x2000..=0x200F
                | 0x2028..=0x202F
                | 0x205F..=0x2064
                | 0x2066..=0x206F
                | 0x3000
                | 0xE000..=0xF8FF
                | 0xFEFF
                | 0xFFF9..=0xFFFB
                | 0x110BD
                | 0x1D173..=0x1D17A
                | 0xE0001
                | 0xE0020..=0xE007F
                | 0xF0000..=0x10FFFF
        ))
}

/// Python's `urllib.parse.quote_plus(s, safe='')`, as `urlencode` applies it.
pub fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    #[test]
    fn reprs_match_python() {
        // Each expected value is what CPython 3 prints for repr(s).
        assert_eq!(python_repr("#spark"), "'#spark'");
        assert_eq!(python_repr("it's"), "\"it's\"");
        assert_eq!(python_repr("'\""), "'\\'\"'");
        assert_eq!(python_repr("a\\b\tc\n"), "'a\\\\b\\tc\\n'");
        assert_eq!(python_repr("#한국어🔥"), "'#한국어🔥'");
        assert_eq!(
            python_repr("a\u{a0}b\u{3000}c\u{7}"),
            "'a\\xa0b\\u3000c\\x07'"
        );
        assert_eq!(python_list_repr(&[]), "[]");
        assert_eq!(
            python_list_repr(&["#a".to_string(), "3".to_string()]),
            "['#a', '3']"
        );
        assert_eq!(python_float(3.0), "3.0");
        assert_eq!(python_float(0.1), "0.1");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float(1.5e-5), "1.5e-05");
        assert_eq!(
            quote_plus("['#a', 'b~c*']"),
            "%5B%27%23a%27%2C+%27b~c%2A%27%5D"
        );
    }

    #[test]
    fn the_tutorial_body_is_byte_for_byte_pythons() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("tag", DataType::Utf8, false),
            Field::new("tag_count", DataType::Int64, false),
            Field::new("ratio", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["#a", "#it's", "#c"])),
                Arc::new(Int64Array::from(vec![3, 1, 1])),
                Arc::new(Float64Array::from(vec![Some(0.5), None, Some(2.0)])),
            ],
        )
        .unwrap();
        // urlencode({'tag': str([...]), 'tag_count': ..., 'ratio': ...}) with top = 2
        assert_eq!(
            form_body(std::slice::from_ref(&batch), 2).unwrap(),
            "tag=%5B%27%23a%27%2C+%22%23it%27s%22%5D&tag_count=%5B%273%27%2C+%271%27%5D&ratio=%5B%270.5%27%2C+%27None%27%5D"
        );
        assert_eq!(
            json_body(7, &[batch], 1).unwrap(),
            r##"{"batchId":7,"rows":[{"tag":"#a","tag_count":3,"ratio":0.5}]}"##
        );
        assert_eq!(json_body(8, &[], 10).unwrap(), r#"{"batchId":8,"rows":[]}"#);
    }
}
