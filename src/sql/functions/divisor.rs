//! `kindling_divisor(x)` and `kindling_modulus(x)`: their argument unchanged, or Spark's ANSI
//! error where a value is zero (`[DIVIDE_BY_ZERO]` for `/`, `[REMAINDER_BY_ZERO]` for `%`),
//! which DataFusion does not raise for doubles (∞, NaN) nor in Spark's words. The planner
//! ([`crate::sql::planner`]) wraps every divisor in one. `kindling_try_divisor(x)` turns zeros
//! into NULL instead: `try_divide(a, b)` and `try_mod(a, b)` divide by it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray};
use datafusion::arrow::compute::nullif;
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Decimal256Type, Float16Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The name `try_divide(a, b)` and `try_mod(a, b)` wrap `b` in.
pub const TRY_DIVISOR: &str = "kindling_try_divisor";

/// The operator a divisor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Division {
    /// `/`.
    Divide,
    /// `%`.
    Remainder,
    /// `try_divide` and `try_mod`: a zero divisor gives NULL.
    Tolerant,
}

impl Division {
    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            Division::Divide => "kindling_divisor",
            Division::Remainder => "kindling_modulus",
            Division::Tolerant => TRY_DIVISOR,
        }
    }

    fn error(self) -> Result<ColumnarValue> {
        match self {
            Division::Divide => exec_err!(
                "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012"
            ),
            Division::Remainder | Division::Tolerant => exec_err!(
                "[REMAINDER_BY_ZERO] Remainder by zero. Use `try_mod` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012"
            ),
        }
    }
}

/// See the module documentation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KindlingDivisor {
    division: Division,
    signature: Signature,
}

impl KindlingDivisor {
    /// The check for `division`'s divisor.
    pub fn new(division: Division) -> Self {
        KindlingDivisor {
            division,
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

/// Where a value of `array` is zero (`-0.0` included); NULLs are not.
fn zero_mask<T: ArrowPrimitiveType>(array: &dyn Array) -> BooleanArray
where
    T::Native: PartialEq + Default,
{
    let array = array.as_primitive::<T>();
    let zero = T::Native::default();
    let values: BooleanArray = array.values().iter().map(|v| Some(*v == zero)).collect();
    match array.nulls() {
        None => values,
        Some(nulls) => {
            let (bits, _) = values.into_parts();
            BooleanArray::new(&bits & nulls.inner(), None)
        }
    }
}

fn zeros(array: &ArrayRef) -> Result<BooleanArray> {
    Ok(match array.data_type() {
        DataType::Int8 => zero_mask::<Int8Type>(array),
        DataType::Int16 => zero_mask::<Int16Type>(array),
        DataType::Int32 => zero_mask::<Int32Type>(array),
        DataType::Int64 => zero_mask::<Int64Type>(array),
        DataType::UInt8 => zero_mask::<UInt8Type>(array),
        DataType::UInt16 => zero_mask::<UInt16Type>(array),
        DataType::UInt32 => zero_mask::<UInt32Type>(array),
        DataType::UInt64 => zero_mask::<UInt64Type>(array),
        DataType::Float16 => zero_mask::<Float16Type>(array),
        DataType::Float32 => zero_mask::<Float32Type>(array),
        DataType::Float64 => zero_mask::<Float64Type>(array),
        DataType::Decimal128(..) => zero_mask::<Decimal128Type>(array),
        DataType::Decimal256(..) => zero_mask::<Decimal256Type>(array),
        _ => {
            let zero = ScalarValue::new_zero(array.data_type())?;
            (0..array.len())
                .map(|i| Ok(Some(ScalarValue::try_from_array(array, i)? == zero)))
                .collect::<Result<BooleanArray>>()?
        }
    })
}

impl ScalarUDFImpl for KindlingDivisor {
    fn name(&self) -> &str {
        self.division.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [divisor] = <[ColumnarValue; 1]>::try_from(args.args).map_err(|_| {
            datafusion::error::DataFusionError::Internal(format!(
                "{} takes one argument",
                self.division.name()
            ))
        })?;
        let values = match &divisor {
            ColumnarValue::Scalar(s) => s.to_array()?,
            ColumnarValue::Array(a) => Arc::clone(a),
        };
        let zeros = zeros(&values)?;
        if zeros.true_count() == 0 {
            return Ok(divisor);
        }
        if self.division != Division::Tolerant {
            return self.division.error();
        }
        let tolerated = nullif(&values, &zeros)?;
        Ok(match divisor {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&tolerated, 0)?)
            }
            ColumnarValue::Array(_) => ColumnarValue::Array(tolerated),
        })
    }
}
