//! Spark's `to_json(struct)`: one JSON object per row, NULL fields left out as Spark does.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// Spark-compatible `to_json` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#to_json>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkToJson {
    signature: Signature,
}

impl Default for SparkToJson {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkToJson {
    /// The `to_json` UDF.
    pub fn new() -> Self {
        SparkToJson {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkToJson {
    fn name(&self) -> &str {
        "to_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &arg_types[0] {
            DataType::Struct(_) => Ok(DataType::Utf8),
            other => plan_err!("Spark `to_json` function expects a struct, got {other}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let array = args.args[0].to_array(args.number_rows)?;
        let Some(structs) = array.as_struct_opt() else {
            return exec_err!("Spark `to_json` function expects a struct");
        };
        let batch = RecordBatch::from(structs.clone());
        let mut buffer = Vec::new();
        {
            let mut writer = arrow_json::LineDelimitedWriter::new(&mut buffer);
            writer.write(&batch)?;
            writer.finish()?;
        }
        let text = String::from_utf8_lossy(&buffer);
        let mut lines = text.lines();
        let mut out = StringBuilder::new();
        for i in 0..structs.len() {
            let line = lines.next().unwrap_or("{}");
            if structs.is_null(i) {
                out.append_null();
            } else {
                out.append_value(line);
            }
        }
        let result: ArrayRef = Arc::new(out.finish());
        super::columnar(result, scalar)
    }
}
