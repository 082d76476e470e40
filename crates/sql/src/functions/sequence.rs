//! Spark's `sequence(start, stop[, step])` over integers: `start` to `stop` inclusive by
//! `step` (default 1, or -1 when `start > stop`), typed as the wider of `start` and `stop`;
//! a step that points away from `stop` fails as Spark's does.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Builder, ListBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The longest array Spark builds (`ByteArrayMethods.MAX_ROUNDED_ARRAY_LENGTH`).
const MAX_LENGTH: i64 = i32::MAX as i64 - 15;

/// Spark-compatible `sequence` expression (integers).
/// <https://spark.apache.org/docs/latest/api/sql/index.html#sequence>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkSequence {
    signature: Signature,
}

impl Default for SparkSequence {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkSequence {
    /// The `sequence` UDF.
    pub fn new() -> Self {
        SparkSequence {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The wider of two integer types, as DataFusion unions them; INT for two NULLs.
fn wider(a: &DataType, b: &DataType) -> DataType {
    match type_union_resolution(&[a.clone(), b.clone()]) {
        Some(t) if t.is_integer() => t,
        Some(DataType::Null) => DataType::Int32,
        _ => DataType::Int64,
    }
}

impl ScalarUDFImpl for SparkSequence {
    fn name(&self) -> &str {
        "sequence"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let integral = |t: &DataType| t.is_integer() || t == &DataType::Null;
        match arg_types {
            [start, stop, rest @ ..] if rest.len() <= 1 && arg_types.iter().all(integral) => {
                let element = wider(start, stop);
                let mut types = vec![element.clone(), element];
                types.extend(rest.iter().map(|_| DataType::Int64));
                Ok(types)
            }
            [_, _] | [_, _, _] => plan_err!(
                "Spark `sequence` function: kindling builds sequences of integers only, got {arg_types:?}; for dates, use sequence over day numbers with date_add"
            ),
            other => plan_err!(
                "Spark `sequence` function takes (start, stop[, step]), got {} arguments",
                other.len()
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(arg_types[0].clone(), true))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let element = args.arg_fields[0].data_type().clone();
        let columns = ColumnarValue::values_to_arrays(&args.args)?
            .iter()
            .map(|a| cast(a, &DataType::Int64))
            .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
        let (starts, stops) = (
            columns[0].as_primitive::<Int64Type>(),
            columns[1].as_primitive::<Int64Type>(),
        );
        let steps = columns.get(2).map(|c| c.as_primitive::<Int64Type>());
        let mut out = ListBuilder::new(Int64Builder::new())
            .with_field(Arc::new(Field::new_list_field(DataType::Int64, true)));
        for row in 0..starts.len() {
            if starts.is_null(row) || stops.is_null(row) || steps.is_some_and(|s| s.is_null(row)) {
                out.append_null();
                continue;
            }
            let (start, stop) = (starts.value(row), stops.value(row));
            let step = match steps {
                Some(s) => s.value(row),
                None if start <= stop => 1,
                None => -1,
            };
            let valid = (step > 0 && start <= stop)
                || (step < 0 && start >= stop)
                || (step == 0 && start == stop);
            if !valid {
                return exec_err!(
                    "Illegal sequence boundaries: {start} to {stop} by {step}: the step must point from start to stop"
                );
            }
            let length = if step == 0 {
                1
            } else {
                ((i128::from(stop) - i128::from(start)) / i128::from(step) + 1) as i64
            };
            if length > MAX_LENGTH {
                return exec_err!(
                    "[COLLECTION_SIZE_LIMIT_EXCEEDED.PARAMETER] Can't create array with {length} elements which exceeding the array size limit {MAX_LENGTH}, the value of parameter(s) `count` is invalid. SQLSTATE: 54000"
                );
            }
            let mut value = i128::from(start);
            for _ in 0..length {
                out.values().append_value(value as i64);
                value += i128::from(step);
            }
            out.append(true);
        }
        let result = cast(
            &(Arc::new(out.finish()) as ArrayRef),
            &self.return_type(&[element])?,
        )?;
        super::columnar(result, scalar)
    }
}
