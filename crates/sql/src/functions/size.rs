//! Spark's `size(array | map)`: the number of elements; NULL for a NULL input (Spark 4, where
//! `spark.sql.legacy.sizeOfNull` is off).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// Spark-compatible `size` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#size>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkSize {
    signature: Signature,
}

impl Default for SparkSize {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkSize {
    /// The `size` UDF.
    pub fn new() -> Self {
        SparkSize {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkSize {
    fn name(&self) -> &str {
        "size"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &arg_types[0] {
            DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(_, _)
            | DataType::Map(_, _)
            | DataType::Null => Ok(DataType::Int32),
            other => plan_err!("Spark `size` function expects an array or a map, got {other}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let array = args.args[0].to_array(args.number_rows)?;
        let n = array.len();
        let sizes: Int32Array = match array.data_type() {
            DataType::List(_) => {
                let l = array.as_list::<i32>();
                (0..n)
                    .map(|i| (!l.is_null(i)).then(|| l.value_length(i)))
                    .collect()
            }
            DataType::LargeList(_) => {
                let l = array.as_list::<i64>();
                (0..n)
                    .map(|i| (!l.is_null(i)).then(|| l.value_length(i) as i32))
                    .collect()
            }
            DataType::FixedSizeList(_, len) => (0..n)
                .map(|i| (!array.is_null(i)).then_some(*len))
                .collect(),
            DataType::Map(_, _) => {
                let m = array.as_map();
                let offsets = m.value_offsets();
                (0..n)
                    .map(|i| (!m.is_null(i)).then(|| offsets[i + 1] - offsets[i]))
                    .collect()
            }
            DataType::Null => (0..n).map(|_| None).collect(),
            other => {
                return exec_err!("Spark `size` function expects an array or a map, got {other}");
            }
        };
        let result: ArrayRef = Arc::new(sizes);
        super::columnar(result, scalar)
    }
}
