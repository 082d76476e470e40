//! Spark's `regexp_extract(str, regex[, idx])`: the `idx`-th group (default 1; 0 is the whole
//! match) of the first match, or the empty string when nothing matches.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use regex::Regex;

/// Spark-compatible `regexp_extract` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#regexp_extract>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkRegexpExtract {
    signature: Signature,
}

impl Default for SparkRegexpExtract {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkRegexpExtract {
    /// The `regexp_extract` UDF.
    pub fn new() -> Self {
        SparkRegexpExtract {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkRegexpExtract {
    fn name(&self) -> &str {
        "regexp_extract"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types.len() {
            2 => Ok(vec![DataType::Utf8, DataType::Utf8]),
            3 => Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Int64]),
            n => plan_err!("Spark `regexp_extract` function requires 2 or 3 arguments, got {n}"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
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
        let mut out = StringBuilder::new();
        let mut compiled: Option<(String, Regex)> = None;
        for i in 0..text.len() {
            if text.is_null(i)
                || patterns.is_null(i)
                || groups.as_ref().is_some_and(|g| g.is_null(i))
            {
                out.append_null();
                continue;
            }
            let pattern = patterns.value(i);
            if compiled.as_ref().is_none_or(|(p, _)| p != pattern) {
                match Regex::new(pattern) {
                    Ok(re) => compiled = Some((pattern.to_string(), re)),
                    Err(e) => {
                        return exec_err!(
                            "Spark `regexp_extract` function: invalid regular expression '{pattern}': {e}"
                        );
                    }
                }
            }
            let Some((_, re)) = &compiled else { continue };
            let group = groups.as_ref().map_or(1, |g| g.value(i));
            let available = re.captures_len() as i64 - 1;
            if group < 0 || group > available {
                return exec_err!(
                    "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] The value of parameter(s) `idx` in `regexp_extract` is invalid: Expects group index between 0 and {available}, but got {group}. SQLSTATE: 22023"
                );
            }
            let value = re
                .captures(text.value(i))
                .and_then(|c| c.get(group as usize))
                .map_or("", |m| m.as_str());
            out.append_value(value);
        }
        let result: ArrayRef = Arc::new(out.finish());
        super::columnar(result, scalar)
    }
}
