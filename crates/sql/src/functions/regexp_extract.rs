//! Spark's `regexp_extract(str, regex[, idx])`: the `idx`-th group (default 1; 0 is the whole
//! match) of the first match, or the empty string when nothing matches; and
//! `regexp_extract_all(str, regex[, idx])`: that group of every match, as an array.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use regex::{Captures, Regex};

/// Spark-compatible `regexp_extract` (or `regexp_extract_all`) expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#regexp_extract>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkRegexpExtract {
    /// `regexp_extract_all`: every match, not the first.
    all: bool,
    signature: Signature,
}

impl SparkRegexpExtract {
    /// `regexp_extract`, or `regexp_extract_all` when `all`.
    pub fn new(all: bool) -> Self {
        SparkRegexpExtract {
            all,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// Where a row's result goes: a string, or a list of strings.
enum Output {
    First(StringBuilder),
    All(ListBuilder<StringBuilder>),
}

impl ScalarUDFImpl for SparkRegexpExtract {
    fn name(&self) -> &str {
        if self.all {
            "regexp_extract_all"
        } else {
            "regexp_extract"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types.len() {
            2 => Ok(vec![DataType::Utf8, DataType::Utf8]),
            3 => Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Int64]),
            n => plan_err!(
                "Spark `{}` function requires 2 or 3 arguments, got {n}",
                self.name()
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.all {
            DataType::new_list(DataType::Utf8, true)
        } else {
            DataType::Utf8
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let text = cast(&arrays[0], &DataType::Utf8)?;
        let text = text.as_string::<i32>();
        let patterns = cast(&arrays[1], &DataType::Utf8)?;
        let patterns = patterns.as_string::<i32>();
        let groups: Option<Int64Array> = match arrays.get(2) {
            Some(a) => Some(cast(a, &DataType::Int64)?.as_primitive().clone()),
            None => None,
        };
        let mut out = if self.all {
            Output::All(
                ListBuilder::new(StringBuilder::new())
                    .with_field(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            )
        } else {
            Output::First(StringBuilder::new())
        };
        let mut compiled: Option<(String, Regex)> = None;
        for i in 0..text.len() {
            if text.is_null(i)
                || patterns.is_null(i)
                || groups.as_ref().is_some_and(|g| g.is_null(i))
            {
                match &mut out {
                    Output::First(b) => b.append_null(),
                    Output::All(b) => b.append_null(),
                }
                continue;
            }
            let pattern = patterns.value(i);
            if compiled.as_ref().is_none_or(|(p, _)| p != pattern) {
                match Regex::new(pattern) {
                    Ok(re) => compiled = Some((pattern.to_string(), re)),
                    Err(e) => {
                        return exec_err!(
                            "Spark `{}` function: invalid regular expression '{pattern}': {e}",
                            self.name()
                        );
                    }
                }
            }
            let Some((_, re)) = &compiled else { continue };
            let group = groups.as_ref().map_or(1, |g| g.value(i));
            let text = text.value(i);
            let matches: Vec<Captures> = match &out {
                Output::First(_) => re.captures(text).into_iter().collect(),
                Output::All(_) => find_all(re, text),
            };
            // As Spark, the group index is checked against a match only.
            let available = re.captures_len() as i64 - 1;
            if !matches.is_empty() && (group < 0 || group > available) {
                return exec_err!(
                    "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] The value of parameter(s) `idx` in `{}` is invalid: Expects group index between 0 and {available}, but got {group}. SQLSTATE: 22023",
                    self.name()
                );
            }
            // A group that took no part in a match gives the empty string.
            let values = matches
                .iter()
                .map(|c| c.get(group as usize).map_or("", |m| m.as_str()));
            match &mut out {
                Output::First(b) => b.append_value(values.into_iter().next().unwrap_or("")),
                Output::All(b) => {
                    for value in values {
                        b.values().append_value(value);
                    }
                    b.append(true);
                }
            }
        }
        let result: ArrayRef = match out {
            Output::First(mut b) => Arc::new(b.finish()),
            Output::All(mut b) => Arc::new(b.finish()),
        };
        super::columnar(result, scalar)
    }
}

/// Every match of `re` in `text` as Java's `Matcher.find()` loop finds them: unlike
/// `captures_iter`, an empty match right after a match counts too (`a*` in `baaa` matches
/// ``, `aaa`, ``).
fn find_all<'t>(re: &Regex, text: &'t str) -> Vec<Captures<'t>> {
    let mut found = Vec::new();
    let mut at = 0;
    while at <= text.len() {
        let Some(captures) = re.captures_at(text, at) else {
            break;
        };
        let Some(whole) = captures.get(0) else { break };
        at = if whole.is_empty() {
            // Step over one character past an empty match.
            match text[whole.end()..].chars().next() {
                Some(c) => whole.end() + c.len_utf8(),
                None => text.len() + 1,
            }
        } else {
            whole.end()
        };
        found.push(captures);
    }
    found
}
