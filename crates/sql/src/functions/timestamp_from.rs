//! Spark's `timestamp_seconds(n)`, `timestamp_millis(n)` and `timestamp_micros(n)`: the
//! TIMESTAMP `n` units after the epoch. Seconds may be fractional (a double's NaN or infinity
//! is NULL, a decimal must be whole microseconds); an overflow fails with `DATETIME_OVERFLOW`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondBuilder};
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, DecimalType, Float64Type, Int64Type, TimeUnit,
};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The unit a number counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// `timestamp_seconds`.
    Seconds,
    /// `timestamp_millis`.
    Millis,
    /// `timestamp_micros`.
    Micros,
}

impl Unit {
    fn micros(self) -> i64 {
        match self {
            Unit::Seconds => 1_000_000,
            Unit::Millis => 1_000,
            Unit::Micros => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Seconds => "timestamp_seconds",
            Unit::Millis => "timestamp_millis",
            Unit::Micros => "timestamp_micros",
        }
    }

    fn spark_unit(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Millis => "milliseconds",
            Unit::Micros => "microseconds",
        }
    }
}

/// Spark-compatible `timestamp_seconds` (or `_millis`, `_micros`) expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#timestamp_seconds>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkTimestampFrom {
    unit: Unit,
    signature: Signature,
}

impl SparkTimestampFrom {
    /// The UDF for numbers of `unit`.
    pub fn new(unit: Unit) -> Self {
        SparkTimestampFrom {
            unit,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    fn overflow<T>(&self, value: impl std::fmt::Display) -> Result<T> {
        exec_err!(
            "[DATETIME_OVERFLOW] Datetime operation overflow: create a TIMESTAMP from {value} {} since the epoch. SQLSTATE: 22008",
            self.unit.spark_unit()
        )
    }
}

impl ScalarUDFImpl for SparkTimestampFrom {
    fn name(&self) -> &str {
        self.unit.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let seconds = self.unit == Unit::Seconds;
        match arg_types {
            [t] if t.is_integer() || t == &DataType::Null => Ok(vec![DataType::Int64]),
            [t] if seconds && t.is_floating() => Ok(vec![DataType::Float64]),
            [DataType::Decimal128(p, s)] if seconds => Ok(vec![DataType::Decimal128(*p, *s)]),
            [t] => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: The first parameter requires the \"{}\" type, however it has the type {t}: cast it, e.g. CAST(x AS BIGINT)",
                self.name(),
                if seconds { "NUMERIC" } else { "INTEGRAL" }
            ),
            other => plan_err!(
                "Spark `{}` function takes 1 argument, got {}",
                self.name(),
                other.len()
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Microsecond, None))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let values = args.args[0].to_array(args.number_rows)?;
        let factor = self.unit.micros();
        let mut out = TimestampMicrosecondBuilder::with_capacity(values.len());
        match values.data_type() {
            DataType::Float64 => {
                for v in values.as_primitive::<Float64Type>() {
                    // Java's double-to-long saturates, as `as` does.
                    out.append_option(v.filter(|d| d.is_finite()).map(|d| (d * 1e6) as i64));
                }
            }
            DataType::Decimal128(_, scale) => {
                let scale = i32::from(*scale);
                for v in values.as_primitive::<Decimal128Type>() {
                    let Some(v) = v else {
                        out.append_null();
                        continue;
                    };
                    let shown = || Decimal128Type::format_decimal(v, 38, scale as i8);
                    let micros = if scale <= 6 {
                        10i128
                            .checked_pow((6 - scale) as u32)
                            .and_then(|f| v.checked_mul(f))
                    } else {
                        let divisor = 10i128.pow((scale - 6) as u32);
                        if v % divisor != 0 {
                            return exec_err!(
                                "Rounding necessary: {} seconds is not a whole number of microseconds; round it first, e.g. round(x, 6)",
                                shown()
                            );
                        }
                        Some(v / divisor)
                    };
                    match micros.and_then(|m| i64::try_from(m).ok()) {
                        Some(m) => out.append_value(m),
                        None => return self.overflow(format!("{}BD", shown())),
                    }
                }
            }
            _ => {
                for v in values.as_primitive::<Int64Type>() {
                    match v.map(|n| n.checked_mul(factor).ok_or(n)) {
                        None => out.append_null(),
                        Some(Ok(m)) => out.append_value(m),
                        Some(Err(n)) => return self.overflow(format!("{n}L")),
                    }
                }
            }
        }
        let result: ArrayRef = Arc::new(out.finish());
        super::columnar(result, scalar)
    }
}
