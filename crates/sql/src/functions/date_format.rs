//! Spark's `date_format(timestamp, pattern)` with Java `DateTimeFormatter` patterns, in the
//! session time zone (UTC).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::java_time::to_chrono;

/// Spark-compatible `date_format` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#date_format>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkDateFormat {
    signature: Signature,
}

impl Default for SparkDateFormat {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkDateFormat {
    /// The `date_format` UDF.
    pub fn new() -> Self {
        SparkDateFormat {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkDateFormat {
    fn name(&self) -> &str {
        "date_format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return plan_err!(
                "Spark `date_format` function requires 2 arguments, got {}",
                arg_types.len()
            );
        }
        Ok(vec![
            DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Utf8,
        ])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let ts = cast(
            &arrays[0],
            &DataType::Timestamp(TimeUnit::Microsecond, None),
        )?;
        let ts = ts.as_primitive::<TimestampMicrosecondType>();
        let patterns = cast(&arrays[1], &DataType::Utf8)?;
        let patterns = patterns.as_string::<i32>();
        let mut out = StringBuilder::new();
        let mut cached: Option<(String, String)> = None;
        for i in 0..ts.len() {
            if ts.is_null(i) || patterns.is_null(i) {
                out.append_null();
                continue;
            }
            let pattern = patterns.value(i);
            if cached.as_ref().is_none_or(|(p, _)| p != pattern) {
                cached = Some((pattern.to_string(), to_chrono(pattern)?));
            }
            let format = cached.as_ref().map(|(_, f)| f.as_str()).unwrap_or_default();
            let micros = ts.value(i);
            let Some(t) = chrono::DateTime::from_timestamp_micros(micros) else {
                return exec_err!("timestamp {micros} is out of range");
            };
            out.append_value(t.naive_utc().format(format).to_string());
        }
        let result: ArrayRef = Arc::new(out.finish());
        super::columnar(result, scalar)
    }
}
