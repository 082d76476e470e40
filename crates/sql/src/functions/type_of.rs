//! Spark's `typeof(expr)`: the Spark type name of its argument (`int`, `decimal(2,1)`,
//! `array<string>`), as Spark's `DataType.simpleString` prints it.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use kindling_core::types::spark_type_name;

/// Spark-compatible `typeof` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#typeof>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkTypeOf {
    signature: Signature,
}

impl Default for SparkTypeOf {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkTypeOf {
    /// The `typeof` UDF.
    pub fn new() -> Self {
        SparkTypeOf {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkTypeOf {
    fn name(&self) -> &str {
        "typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = spark_type_name(args.arg_fields[0].data_type());
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(name))))
    }
}
