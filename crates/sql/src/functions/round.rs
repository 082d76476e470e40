//! Spark's `round(x, d)` on a decimal: rounded HALF_UP to `min(s, d)` digits (or to `10^-d`
//! for a negative `d`), typed as Spark types it (`round(1.25, 1)` is DECIMAL(3,1), where
//! `datafusion-spark` keeps DECIMAL(3,2)). Other numbers go to `datafusion-spark`'s round.

use std::sync::Arc;

use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// The largest precision of a 128-bit decimal.
const MAX: i32 = 38;

/// See the module documentation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkRound {
    /// `datafusion-spark`'s round.
    inner: Arc<ScalarUDF>,
    signature: Signature,
}

impl SparkRound {
    /// Spark's round over `inner`, `datafusion-spark`'s.
    pub fn new(inner: Arc<ScalarUDF>) -> Self {
        SparkRound {
            inner,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// Spark's `RoundBase.dataType` for a decimal `(p, s)` rounded to `places`.
fn result_type(p: u8, s: i8, places: i32) -> DataType {
    let integral = i32::from(p) - i32::from(s) + 1;
    if places < 0 {
        DataType::Decimal128(integral.max(1 - places).min(MAX) as u8, 0)
    } else {
        let scale = i32::from(s).min(places);
        DataType::Decimal128((integral + scale).min(MAX) as u8, scale as i8)
    }
}

/// The places argument of a call: 0 when absent, `None` when NULL.
fn places(arg: Option<&ScalarValue>) -> Result<Option<i32>> {
    match arg {
        None => Ok(Some(0)),
        Some(v) if v.is_null() => Ok(None),
        Some(v) => match v.cast_to(&DataType::Int32)? {
            ScalarValue::Int32(Some(n)) => Ok(Some(n)),
            other => plan_err!("round: the scale must be an integer, got {other}"),
        },
    }
}

impl ScalarUDFImpl for SparkRound {
    fn name(&self) -> &str {
        "round"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// As `datafusion-spark`'s signature, but a decimal's places keep their type: a cast
    /// would hide the literal that its result type depends on.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let (value, places) = match arg_types {
            [value] => (value, None),
            [value, places] if places.is_integer() || *places == DataType::Null => {
                (value, Some(places))
            }
            other => {
                return plan_err!("Spark `round` function expects (number[, int]), got {other:?}");
            }
        };
        let value = match value {
            DataType::Decimal128(..) | DataType::Float32 => value.clone(),
            t if t.is_integer() => t.clone(),
            t if t.is_numeric() || *t == DataType::Null => DataType::Float64,
            other => return plan_err!("Spark `round` function expects a number, got {other}"),
        };
        let places = places.map(|p| match value {
            DataType::Decimal128(..) => p.clone(),
            _ => DataType::Int32,
        });
        Ok(std::iter::once(value).chain(places).collect())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let DataType::Decimal128(p, s) = args.arg_fields[0].data_type() else {
            return self.inner.return_field_from_args(args);
        };
        let scale = match args.arg_fields.len() {
            1 => Some(0),
            _ => match args.scalar_arguments.get(1).copied().flatten() {
                Some(v) => places(Some(v))?,
                None => return plan_err!("round: the scale of a decimal must be a constant"),
            },
        };
        let data_type = result_type(*p, *s, scale.unwrap_or(0));
        Ok(Arc::new(Field::new(self.name(), data_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !matches!(args.args[0].data_type(), DataType::Decimal128(..)) {
            // Spark rounds a double through a BigDecimal, which has no negative zero:
            // round(-0.0) and round(-0.04, 1) are 0.0.
            return match self.inner.invoke_with_args(args)? {
                ColumnarValue::Array(a)
                    if matches!(a.data_type(), DataType::Float64 | DataType::Float32) =>
                {
                    let zero = if a.data_type() == &DataType::Float64 {
                        ScalarValue::Float64(Some(0.0))
                    } else {
                        ScalarValue::Float32(Some(0.0))
                    };
                    Ok(ColumnarValue::Array(
                        datafusion::arrow::compute::kernels::numeric::add(&a, &zero.to_scalar()?)?,
                    ))
                }
                ColumnarValue::Scalar(ScalarValue::Float64(Some(x))) => {
                    Ok(ColumnarValue::Scalar(ScalarValue::Float64(Some(x + 0.0))))
                }
                ColumnarValue::Scalar(ScalarValue::Float32(Some(x))) => {
                    Ok(ColumnarValue::Scalar(ScalarValue::Float32(Some(x + 0.0))))
                }
                other => Ok(other),
            };
        }
        let output = args.return_field.data_type().clone();
        let scale = match args.args.get(1) {
            None => Some(0),
            Some(ColumnarValue::Scalar(v)) => places(Some(v))?,
            Some(ColumnarValue::Array(_)) => {
                return plan_err!("round: the scale of a decimal must be a constant");
            }
        };
        let scalar = super::all_scalar(&args.args);
        let values = args.args[0].to_array(args.number_rows)?;
        let Some(scale) = scale else {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from(&output)?));
        };
        // arrow's decimal cast rounds HALF_UP (away from zero) when it drops digits; a scale
        // beyond the input's keeps the value (`min(s, d)` digits, as the result type has).
        let scale = match &output {
            DataType::Decimal128(_, s) if scale >= 0 => i32::from(*s),
            _ => scale.max(-MAX),
        };
        let rounded = cast(&values, &DataType::Decimal128(MAX as u8, scale as i8))?;
        super::columnar(cast(&rounded, &output)?, scalar)
    }
}
