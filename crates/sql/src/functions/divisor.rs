//! `kindling_divisor(a, b)` and `kindling_modulus(a, b)`: the divisor `b` of `a / b` (`a % b`),
//! or Spark's ANSI error where it is zero and `a` is not NULL (`[DIVIDE_BY_ZERO]`,
//! `[REMAINDER_BY_ZERO]`), which DataFusion does not raise for doubles (∞, NaN) nor in Spark's
//! words; a zero beside a NULL dividend becomes NULL, as the quotient is. The planner
//! ([`crate::planner`]) wraps every divisor in one. `try_divide(a, b)` and `try_mod(a, b)`
//! divide by `kindling_try_divisor(a, b)`, which never fails: every zero becomes NULL.

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
            signature: Signature::any(2, Volatility::Immutable),
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
        DataType::Null => BooleanArray::from(vec![false; array.len()]),
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
        match arg_types {
            [_, divisor] => Ok(divisor.clone()),
            other => datafusion::common::plan_err!(
                "{} takes (dividend, divisor), got {other:?}",
                self.division.name()
            ),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let [dividend, divisor] = <[ColumnarValue; 2]>::try_from(args.args).map_err(|_| {
            datafusion::error::DataFusionError::Internal(format!(
                "{} takes (dividend, divisor)",
                self.division.name()
            ))
        })?;
        let values = divisor.to_array(args.number_rows)?;
        let zeros = zeros(&values)?;
        if zeros.true_count() == 0 {
            return Ok(divisor);
        }
        if self.division != Division::Tolerant {
            let dividends = dividend.to_array(args.number_rows)?;
            if (0..zeros.len()).any(|i| zeros.value(i) && dividends.is_valid(i)) {
                return self.division.error();
            }
        }
        super::columnar(nullif(&values, &zeros)?, scalar)
    }
}
