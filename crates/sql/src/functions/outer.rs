//! `kindling_outer(list)`: the list itself, or a one-element `[NULL]` list where the list is
//! NULL or empty, so that `unnest` yields one NULL row there. It turns `explode` into Spark's
//! `explode_outer` (and `posexplode` into `posexplode_outer`); the rewrite in
//! [`crate::rewrite`] inserts it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, UInt32Array};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The name the rewrite calls it by.
pub const NAME: &str = "kindling_outer";

/// See the module documentation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KindlingOuter {
    signature: Signature,
}

impl Default for KindlingOuter {
    fn default() -> Self {
        Self::new()
    }
}

impl KindlingOuter {
    /// The UDF.
    pub fn new() -> Self {
        KindlingOuter {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn list_of(item: &DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(item.clone(), true)))
}

impl ScalarUDFImpl for KindlingOuter {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)] => {
                Ok(vec![list_of(f.data_type())])
            }
            [DataType::Null] => Ok(vec![list_of(&DataType::Null)]),
            other => plan_err!("a generator expects an array, got {other:?}"),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &arg_types[0] {
            DataType::List(f) => Ok(list_of(f.data_type())),
            other => plan_err!("a generator expects an array, got {other}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let array = args.args[0].to_array(args.number_rows)?;
        let list = cast(&array, args.return_field.data_type())?;
        let list = list.as_list::<i32>();
        let offsets = list.value_offsets();
        let mut indices: Vec<Option<u32>> = Vec::with_capacity(list.values().len() + list.len());
        let mut new_offsets = Vec::with_capacity(list.len() + 1);
        new_offsets.push(0i32);
        for i in 0..list.len() {
            let (start, end) = (offsets[i], offsets[i + 1]);
            if list.is_null(i) || start == end {
                indices.push(None);
            } else {
                indices.extend((start..end).map(|k| Some(k as u32)));
            }
            new_offsets.push(indices.len() as i32);
        }
        let values = take(list.values().as_ref(), &UInt32Array::from(indices), None)?;
        let DataType::List(field) = args.return_field.data_type().clone() else {
            return plan_err!("a generator expects an array");
        };
        let result: ArrayRef = Arc::new(ListArray::try_new(
            field,
            OffsetBuffer::new(new_offsets.into()),
            values,
            None,
        )?);
        super::columnar(result, scalar)
    }
}
