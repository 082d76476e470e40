//! Spark's `get_json_object(json, path)`: the value at a JSON path (`$.a.b`, `$['a b']`,
//! `$.a[0]`, `$.a[*].b`) as a string: a string unquoted, a number as Java prints it, an object
//! or array as compact JSON in its original key order; NULL for a JSON null, a missing path,
//! malformed JSON or a path Spark does not accept.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use serde_json::value::RawValue;

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// `.name` or `['name']`.
    Key(String),
    /// `[n]`.
    Index(usize),
    /// `[*]`: every element of an array.
    Each,
}

/// Parses a path as Spark's `JsonPathParser` accepts it; `None` where Spark gives NULL.
fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']")?;
            steps.push(Step::Key(after[..end].to_string()));
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let inner = after[..end].trim();
            steps.push(if inner == "*" {
                Step::Each
            } else {
                Step::Index(inner.parse().ok()?)
            });
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let name = &after[..end];
            if name.is_empty() || name == "*" {
                return None;
            }
            steps.push(Step::Key(name.to_string()));
            rest = &after[end..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// Appends the values `steps` lead to from `value` to `out`; `None` where a step fails.
fn select<'a>(value: &'a RawValue, steps: &[Step], out: &mut Vec<&'a RawValue>) -> Option<()> {
    let Some((step, rest)) = steps.split_first() else {
        out.push(value);
        return Some(());
    };
    match step {
        Step::Key(name) => {
            let object: HashMap<String, &RawValue> = serde_json::from_str(value.get()).ok()?;
            select(object.get(name)?, rest, out)
        }
        Step::Index(i) => {
            let array: Vec<&RawValue> = serde_json::from_str(value.get()).ok()?;
            select(array.get(*i)?, rest, out)
        }
        Step::Each => {
            let array: Vec<&RawValue> = serde_json::from_str(value.get()).ok()?;
            for element in array {
                // Elements the rest of the path does not reach are left out.
                let _ = select(element, rest, out);
            }
            Some(())
        }
    }
}

/// JSON text as Jackson writes it back (`copyCurrentStructure`): no whitespace between
/// tokens, and a fractional number as Java prints a double (`2.50` is `2.5`).
pub(super) fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut number = String::new();
    let flush = |number: &mut String, out: &mut String| {
        if number.contains(['.', 'e', 'E'])
            && let Ok(x) = number.parse::<f64>()
        {
            kindling_core::spark_text::java_double(x, out);
        } else {
            out.push_str(number);
        }
        number.clear();
    };
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '-' || c == '+' || c == '.' || c.is_ascii_alphanumeric() {
            number.push(c);
        } else {
            flush(&mut number, &mut out);
            if c == '"' {
                in_string = true;
                out.push(c);
            } else if !c.is_whitespace() {
                out.push(c);
            }
        }
    }
    flush(&mut number, &mut out);
    out
}

/// A value as Spark renders the result: strings unquoted, numbers as Java prints them.
pub(super) fn render(value: &RawValue) -> Option<String> {
    let text = value.get().trim();
    match text.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(text).ok(),
        b'n' => None,
        b'{' | b'[' => Some(compact(text)),
        b'-' | b'0'..=b'9' if text.contains(['.', 'e', 'E']) => {
            let number: f64 = text.parse().ok()?;
            let mut out = String::new();
            kindling_core::spark_text::java_double(number, &mut out);
            Some(out)
        }
        _ => Some(text.to_string()),
    }
}

/// `get_json_object` of one row.
fn get_json_object(json: &str, steps: &[Step]) -> Option<String> {
    let root: &RawValue = serde_json::from_str(json).ok()?;
    let mut found = Vec::new();
    select(root, steps, &mut found)?;
    if !steps.contains(&Step::Each) {
        return render(found.first()?);
    }
    match found.as_slice() {
        [] => None,
        [one] => render(one),
        many => Some(format!(
            "[{}]",
            many.iter()
                .map(|v| compact(v.get()))
                .collect::<Vec<_>>()
                .join(",")
        )),
    }
}

/// Spark-compatible `get_json_object` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#get_json_object>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkGetJsonObject {
    signature: Signature,
}

impl Default for SparkGetJsonObject {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkGetJsonObject {
    /// The `get_json_object` UDF.
    pub fn new() -> Self {
        SparkGetJsonObject {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkGetJsonObject {
    fn name(&self) -> &str {
        "get_json_object"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [_, _] => Ok(vec![DataType::Utf8, DataType::Utf8]),
            other => {
                plan_err!("Spark `get_json_object` function expects (json, path), got {other:?}")
            }
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let json = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Utf8)?;
        let paths: ArrayRef = cast(&args.args[1].to_array(args.number_rows)?, &DataType::Utf8)?;
        let (json, paths) = (json.as_string::<i32>(), paths.as_string::<i32>());
        let mut out = StringBuilder::with_capacity(json.len(), json.len() * 8);
        // The path is nearly always a literal: parse it once.
        let mut parsed: Option<(String, Option<Vec<Step>>)> = None;
        for row in 0..json.len() {
            if json.is_null(row) || paths.is_null(row) {
                out.append_null();
                continue;
            }
            let path = paths.value(row);
            if parsed.as_ref().is_none_or(|(p, _)| p != path) {
                parsed = Some((path.to_string(), parse_path(path)));
            }
            let steps = parsed.as_ref().and_then(|(_, s)| s.as_deref());
            out.append_option(steps.and_then(|steps| get_json_object(json.value(row), steps)));
        }
        super::columnar(std::sync::Arc::new(out.finish()), scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(json: &str, path: &str) -> Option<String> {
        get_json_object(json, &parse_path(path)?)
    }

    #[test]
    fn values_render_as_spark_renders_them() {
        // Each checked against Spark 4.3.0.
        let doc = r#"{"a":{"b":1.50,"c":"x","d":[1, {"e":null}],"f":true}}"#;
        assert_eq!(get(doc, "$.a.b").as_deref(), Some("1.5"));
        assert_eq!(get(doc, "$.a.c").as_deref(), Some("x"));
        assert_eq!(get(doc, "$.a.d").as_deref(), Some(r#"[1,{"e":null}]"#));
        assert_eq!(get(doc, "$.a.d[1].e"), None);
        assert_eq!(get(doc, "$.a.f").as_deref(), Some("true"));
        assert_eq!(
            get(r#"{"z":{"y":1,"b":2}}"#, "$.z").as_deref(),
            Some(r#"{"y":1,"b":2}"#)
        );
        assert_eq!(get(r#"{"a b":"sp"}"#, "$['a b']").as_deref(), Some("sp"));
        assert_eq!(get("[1,2]", "$[0]").as_deref(), Some("1"));
        assert_eq!(
            get(r#"{"a":[{"b":1},{"b":2}]}"#, "$.a[*].b").as_deref(),
            Some("[1,2]")
        );
        assert_eq!(get("bad", "$.a"), None);
        assert_eq!(get(r#"{"a":1}"#, "$.z"), None);
        assert_eq!(get(r#"{"a":1}"#, "a"), None);
        assert_eq!(get(r#"{"a":{"x":1}}"#, "$.a.*"), None);
        assert_eq!(get(r#"{"a":"é\n"}"#, "$.a").as_deref(), Some("é\n"));
    }
}
