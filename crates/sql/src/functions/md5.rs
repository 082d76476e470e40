//! Spark's `md5(expr)`: the MD5 digest of a binary (a string is read as its UTF-8 bytes) as
//! 32 lowercase hex digits; NULL for NULL.

use std::fmt::Write;
use std::sync::Arc;

use ::md5::{Digest, Md5};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// Spark-compatible `md5` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#md5>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkMd5 {
    signature: Signature,
}

impl Default for SparkMd5 {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkMd5 {
    /// The `md5` UDF.
    pub fn new() -> Self {
        SparkMd5 {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkMd5 {
    fn name(&self) -> &str {
        "md5"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if kindling_core::types::is_string_or_binary(t) || t == &DataType::Null => {
                Ok(vec![DataType::Binary])
            }
            [other] => plan_err!(
                "Spark `md5` function expects a binary or a string, got {other}; cast the argument: md5(CAST(x AS STRING))"
            ),
            other => plan_err!("Spark `md5` function takes 1 argument, got {}", other.len()),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let values = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Binary)?;
        let values = values.as_binary::<i32>();
        let mut out = StringBuilder::with_capacity(values.len(), values.len() * 32);
        let mut hex = String::with_capacity(32);
        for i in 0..values.len() {
            if values.is_null(i) {
                out.append_null();
                continue;
            }
            hex.clear();
            for byte in Md5::digest(values.value(i)) {
                // Writing to a String cannot fail.
                let _ = write!(hex, "{byte:02x}");
            }
            out.append_value(&hex);
        }
        let result: ArrayRef = Arc::new(out.finish());
        super::columnar(result, scalar)
    }
}
