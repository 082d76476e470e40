//! Spark's element access by position: `a[i]` (0-based, [`SUBSCRIPT`]) and
//! `element_at(a, i)` (1-based, negative from the end) fail on an index out of bounds as
//! Spark's ANSI mode does; `get(a, i)` and `try_element_at(a, i)` give NULL there instead.
//! `element_at(map, key)` and `try_element_at(map, key)` give NULL for a missing key.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt32Array};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::functions_nested::map_extract::map_extract_udf;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The name `a[i]` is planned as.
pub const SUBSCRIPT: &str = "kindling_array_subscript";

/// How an index is read, and what an index out of bounds gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// `a[i]`: 0-based; out of bounds fails (`INVALID_ARRAY_INDEX`).
    Subscript,
    /// `get(a, i)`: 0-based; out of bounds is NULL.
    Get,
    /// `element_at(a, i)`: 1-based, negative from the end; out of bounds fails
    /// (`INVALID_ARRAY_INDEX_IN_ELEMENT_AT`).
    ElementAt,
    /// `try_element_at(a, i)`: as `element_at`, NULL when out of bounds.
    TryElementAt,
}

impl Access {
    /// The SQL name of the function.
    pub fn name(self) -> &'static str {
        match self {
            Access::Subscript => SUBSCRIPT,
            Access::Get => "get",
            Access::ElementAt => "element_at",
            Access::TryElementAt => "try_element_at",
        }
    }

    /// The position in a list of `len` elements that `index` names, `None` when out of
    /// bounds and the access tolerates it.
    fn position(self, index: i64, len: i64) -> Result<Option<i64>> {
        let pos = match self {
            Access::Subscript | Access::Get => index,
            Access::ElementAt | Access::TryElementAt => {
                if index == 0 {
                    return exec_err!(
                        "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1). SQLSTATE: 22003"
                    );
                }
                if index > 0 { index - 1 } else { len + index }
            }
        };
        if (0..len).contains(&pos) {
            return Ok(Some(pos));
        }
        match self {
            Access::Subscript => exec_err!(
                "[INVALID_ARRAY_INDEX] The index {index} is out of bounds. The array has {len} elements. Use the SQL function `get()` to tolerate accessing element at invalid index and return NULL instead. SQLSTATE: 22003"
            ),
            Access::ElementAt => exec_err!(
                "[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index {index} is out of bounds. The array has {len} elements. Use `try_element_at` to tolerate accessing element at invalid index and return NULL instead. SQLSTATE: 22003"
            ),
            Access::Get | Access::TryElementAt => Ok(None),
        }
    }
}

/// The list type an array argument is read as.
pub(crate) fn list_type(array_type: &DataType) -> Result<DataType> {
    match array_type {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => Ok(
            DataType::List(Arc::new(Field::new_list_field(f.data_type().clone(), true))),
        ),
        DataType::Null => Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Null,
            true,
        )))),
        other => plan_err!("expects an array, got {other}"),
    }
}

/// The key and value types of a map type.
fn map_entry_types(map: &DataType) -> Result<(DataType, DataType)> {
    match map {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => {
                Ok((fields[0].data_type().clone(), fields[1].data_type().clone()))
            }
            other => plan_err!("unexpected map entries type {other}"),
        },
        other => plan_err!("expects a map, got {other}"),
    }
}

/// Element `indices[row]` of `lists[row]` for every row, read as `access` says; a NULL list
/// or index gives NULL.
pub(crate) fn array_get(lists: &ArrayRef, indices: &ArrayRef, access: Access) -> Result<ArrayRef> {
    let lists = cast(lists, &list_type(lists.data_type())?)?;
    let lists = lists.as_list::<i32>();
    let indices = cast(indices, &DataType::Int64)?;
    let indices = indices.as_primitive::<Int64Type>();
    let offsets = lists.value_offsets();
    let mut take_indices = Vec::with_capacity(lists.len());
    for row in 0..lists.len() {
        if lists.is_null(row) || indices.is_null(row) {
            take_indices.push(None);
            continue;
        }
        let start = i64::from(offsets[row]);
        let len = i64::from(offsets[row + 1]) - start;
        let pos = access.position(indices.value(row), len)?;
        take_indices.push(pos.map(|p| (start + p) as u32));
    }
    Ok(take(
        lists.values().as_ref(),
        &UInt32Array::from(take_indices),
        None,
    )?)
}

/// `a[i]`, `get(a, i)`, `element_at` and `try_element_at`; see [`Access`].
/// <https://spark.apache.org/docs/latest/api/sql/index.html#element_at>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkArrayGet {
    access: Access,
    signature: Signature,
}

impl SparkArrayGet {
    /// The UDF for `access`.
    pub fn new(access: Access) -> Self {
        SparkArrayGet {
            access,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// Whether `element_at(map, key)` is read by this access.
    fn reads_maps(&self) -> bool {
        matches!(self.access, Access::ElementAt | Access::TryElementAt)
    }
}

impl ScalarUDFImpl for SparkArrayGet {
    fn name(&self) -> &str {
        self.access.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            // The key is looked up as the map's key type when it is of the same kind (a
            // BIGINT literal in an INT map, a Utf8View, a NULL); another kind is an error.
            [map @ DataType::Map(_, _), key] if self.reads_maps() => {
                let key_type = map_entry_types(map)?.0;
                let kind = |t: &DataType| {
                    if t.is_integer() {
                        "integer"
                    } else if t.is_floating() {
                        "floating"
                    } else if matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) {
                        "decimal"
                    } else if matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                    {
                        "string"
                    } else {
                        "other"
                    }
                };
                if key != &DataType::Null && key != &key_type && kind(key) != kind(&key_type) {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.MAP_FUNCTION_DIFF_TYPES] `{}` looks up a key of type {key} in a map with keys of type {key_type}: cast the key, e.g. CAST(k AS {})",
                        self.access.name(),
                        kindling_core::types::spark_type_name(&key_type)
                    );
                }
                Ok(vec![map.clone(), key_type])
            }
            [array, index] if index.is_integer() || index == &DataType::Null => {
                Ok(vec![list_type(array)?, DataType::Int64])
            }
            other => {
                let expects = if self.reads_maps() {
                    "(array, integer index) or (map, key)"
                } else {
                    "(array, integer index)"
                };
                plan_err!(
                    "Spark `{}` function expects {expects}, got {other:?}",
                    self.access.name()
                )
            }
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &arg_types[0] {
            map @ DataType::Map(_, _) => Ok(map_entry_types(map)?.1),
            array => match list_type(array)? {
                DataType::List(f) => Ok(f.data_type().clone()),
                other => plan_err!("expects an array, got {other}"),
            },
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let values = match args.args[0].data_type() {
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
                take(lists.values().as_ref(), &indices, None)?
            }
            _ => {
                let lists = args.args[0].to_array(args.number_rows)?;
                let indices = args.args[1].to_array(args.number_rows)?;
                array_get(&lists, &indices, self.access)?
            }
        };
        super::columnar(values, scalar)
    }
}
