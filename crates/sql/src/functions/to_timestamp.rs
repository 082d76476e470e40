//! Spark's `to_timestamp(str[, pattern])`: without a pattern, Spark's cast from string; with
//! one, a Java `DateTimeFormatter` pattern. Unparseable text fails the query, as Spark 4 does
//! with ANSI mode on.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::java_time::to_chrono;

/// Spark-compatible `to_timestamp` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#to_timestamp>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkToTimestamp {
    signature: Signature,
}

impl Default for SparkToTimestamp {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkToTimestamp {
    /// The `to_timestamp` UDF.
    pub fn new() -> Self {
        SparkToTimestamp {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

const RESULT: DataType = DataType::Timestamp(TimeUnit::Microsecond, None);

impl ScalarUDFImpl for SparkToTimestamp {
    fn name(&self) -> &str {
        "to_timestamp"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types.len() {
            1 if arg_types[0].is_temporal() => Ok(vec![arg_types[0].clone()]),
            1 => Ok(vec![DataType::Utf8]),
            2 => Ok(vec![DataType::Utf8, DataType::Utf8]),
            n => plan_err!("Spark `to_timestamp` function requires 1 or 2 arguments, got {n}"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(RESULT)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let result: ArrayRef = if arrays.len() == 1 {
            cast(&arrays[0], &RESULT)?
        } else {
            let text = cast(&arrays[0], &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let patterns = cast(&arrays[1], &DataType::Utf8)?;
            let patterns = patterns.as_string::<i32>();
            let mut out = TimestampMicrosecondBuilder::with_capacity(text.len());
            for i in 0..text.len() {
                if text.is_null(i) || patterns.is_null(i) {
                    out.append_null();
                    continue;
                }
                let (value, pattern) = (text.value(i), patterns.value(i));
                let format = to_chrono(pattern)?;
                let parsed = chrono::NaiveDateTime::parse_from_str(value, &format).or_else(|_| {
                    chrono::NaiveDate::parse_from_str(value, &format)
                        .map(|d| d.and_time(chrono::NaiveTime::MIN))
                });
                match parsed {
                    Ok(t) => out.append_value(t.and_utc().timestamp_micros()),
                    Err(_) => {
                        return exec_err!(
                            "[CANNOT_PARSE_TIMESTAMP] Text '{value}' could not be parsed with pattern '{pattern}'. Use `try_to_timestamp` to tolerate invalid input string and return NULL instead. SQLSTATE: 22007"
                        );
                    }
                }
            }
            Arc::new(out.finish())
        };
        super::columnar(result, scalar)
    }
}
