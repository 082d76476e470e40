//! Spark's `element_at(array, index)` (1-based, negative counts from the end) and
//! `element_at(map, key)`, delegating to DataFusion's `array_element` and `map_extract`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::functions_nested::extract::array_element_udf;
use datafusion::functions_nested::map_extract::map_extract_udf;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// Spark-compatible `element_at` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#element_at>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkElementAt {
    signature: Signature,
}

impl Default for SparkElementAt {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkElementAt {
    /// The `element_at` UDF.
    pub fn new() -> Self {
        SparkElementAt {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkElementAt {
    fn name(&self) -> &str {
        "element_at"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [list @ (DataType::List(_) | DataType::LargeList(_)), index] if index.is_integer() => {
                Ok(vec![list.clone(), DataType::Int64])
            }
            [map @ DataType::Map(_, _), key] => Ok(vec![map.clone(), key.clone()]),
            other => plan_err!(
                "Spark `element_at` function expects (array, index) or (map, key), got {other:?}"
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &arg_types[0] {
            DataType::List(f) | DataType::LargeList(f) => Ok(f.data_type().clone()),
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(fields) if fields.len() == 2 => Ok(fields[1].data_type().clone()),
                other => plan_err!("unexpected map entries type {other}"),
            },
            other => {
                plan_err!("Spark `element_at` function expects an array or a map, got {other}")
            }
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let ColumnarValue::Scalar(ScalarValue::Int64(Some(0))) = &args.args[1] {
            return exec_err!(
                "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003"
            );
        }
        match args.args[0].data_type() {
            DataType::Map(_, _) => {
                let scalar = super::all_scalar(&args.args);
                let n = args.number_rows;
                let lists = map_extract_udf().invoke_with_args(args)?.to_array(n)?;
                let lists = lists.as_list::<i32>();
                // map_extract gives a list of 0 or 1 values per row: take its first.
                let indices: UInt32Array = (0..lists.len())
                    .map(|i| {
                        (!lists.is_null(i) && lists.value_length(i) > 0)
                            .then(|| lists.value_offsets()[i] as u32)
                    })
                    .collect();
                let values = take(lists.values().as_ref(), &indices, None)?;
                super::columnar(Arc::clone(&values), scalar)
            }
            _ => array_element_udf().invoke_with_args(args),
        }
    }
}
