//! `kindling_divisor(x)` and `kindling_modulus(x)`: their argument unchanged, or Spark's ANSI
//! error where a value is zero (`[DIVIDE_BY_ZERO]` for `/`, `[REMAINDER_BY_ZERO]` for `%`),
//! which DataFusion does not raise for doubles (∞, NaN) nor in Spark's words. The planner
//! ([`crate::sql::planner`]) wraps every divisor in one.

use datafusion::arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Decimal256Type, Float16Type, Float32Type, Float64Type, Int8Type,
    Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The operator a divisor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Division {
    /// `/`.
    Divide,
    /// `%`.
    Remainder,
}

impl Division {
    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            Division::Divide => "kindling_divisor",
            Division::Remainder => "kindling_modulus",
        }
    }

    fn error(self) -> Result<ColumnarValue> {
        match self {
            Division::Divide => exec_err!(
                "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012"
            ),
            Division::Remainder => exec_err!(
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

/// Whether a valid value of `array` is zero (`-0.0` included).
fn any_zero<T: ArrowPrimitiveType>(array: &dyn Array) -> bool
where
    T::Native: PartialEq + Default,
{
    let array = array.as_primitive::<T>();
    let zero = T::Native::default();
    match array.nulls() {
        None => array.values().contains(&zero),
        Some(nulls) => array
            .values()
            .iter()
            .zip(nulls.iter())
            .any(|(v, valid)| valid && *v == zero),
    }
}

fn has_zero(array: &ArrayRef) -> Result<bool> {
    Ok(match array.data_type() {
        DataType::Int8 => any_zero::<Int8Type>(array),
        DataType::Int16 => any_zero::<Int16Type>(array),
        DataType::Int32 => any_zero::<Int32Type>(array),
        DataType::Int64 => any_zero::<Int64Type>(array),
        DataType::UInt8 => any_zero::<UInt8Type>(array),
        DataType::UInt16 => any_zero::<UInt16Type>(array),
        DataType::UInt32 => any_zero::<UInt32Type>(array),
        DataType::UInt64 => any_zero::<UInt64Type>(array),
        DataType::Float16 => any_zero::<Float16Type>(array),
        DataType::Float32 => any_zero::<Float32Type>(array),
        DataType::Float64 => any_zero::<Float64Type>(array),
        DataType::Decimal128(..) => any_zero::<Decimal128Type>(array),
        DataType::Decimal256(..) => any_zero::<Decimal256Type>(array),
        _ => {
            for i in 0..array.len() {
                let value = ScalarValue::try_from_array(array, i)?;
                if !value.is_null() && value == ScalarValue::new_zero(array.data_type())? {
                    return Ok(true);
                }
            }
            false
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
        let zero = match &divisor {
            ColumnarValue::Scalar(s) => has_zero(&s.to_array()?)?,
            ColumnarValue::Array(a) => has_zero(a)?,
        };
        if zero {
            return self.division.error();
        }
        Ok(divisor)
    }
}
