//! Spark's `element_at(array, index)` (1-based, negative counts from the end; out of bounds
//! fails, see [`super::array_get`]) and `element_at(map, key)` (NULL for a missing key, via
//! DataFusion's `map_extract`), and `try_element_at`, NULL where `element_at` fails.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::functions_nested::map_extract::map_extract_udf;

use super::array_get::{Access, array_get, list_type};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// Spark-compatible `element_at` (or `try_element_at`) expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#element_at>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkElementAt {
    access: Access,
    signature: Signature,
}

impl SparkElementAt {
    /// `element_at`, or `try_element_at` when `tolerant`.
    pub fn new(tolerant: bool) -> Self {
        SparkElementAt {
            access: if tolerant {
                Access::TryElementAt
            } else {
                Access::ElementAt
            },
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkElementAt {
    fn name(&self) -> &str {
        self.access.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [
                list @ (DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)),
                index,
            ] if index.is_integer() => Ok(vec![list_type(list)?, DataType::Int64]),
            [map @ DataType::Map(_, _), key] => Ok(vec![map.clone(), key.clone()]),
            other => plan_err!(
                "Spark `element_at` function expects (array, index) or (map, key), got {other:?}"
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &arg_types[0] {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                Ok(f.data_type().clone())
            }
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
        let scalar = super::all_scalar(&args.args);
        match args.args[0].data_type() {
            DataType::Map(_, _) => {
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
            _ => {
                let lists = args.args[0].to_array(args.number_rows)?;
                let indices = args.args[1].to_array(args.number_rows)?;
                super::columnar(array_get(&lists, &indices, self.access)?, scalar)
            }
        }
    }
}
