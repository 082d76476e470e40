//! Integer `+ - *` under Spark's ANSI mode: an overflow fails the query
//! (`[ARITHMETIC_OVERFLOW]`) where DataFusion wraps around; `try_add`, `try_subtract` and
//! `try_multiply` give NULL there instead. The planner ([`crate::planner`]) plans integer
//! arithmetic as `kindling_add` and friends.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, PrimitiveArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::{
    ArrowNativeTypeOp, DataType, Int8Type, Int16Type, Int32Type, Int64Type,
};
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arithmetic {
    /// `+`.
    Add,
    /// `-`.
    Subtract,
    /// `*`.
    Multiply,
}

impl Arithmetic {
    fn spark_name(self) -> &'static str {
        match self {
            Arithmetic::Add => "add",
            Arithmetic::Subtract => "subtract",
            Arithmetic::Multiply => "multiply",
        }
    }
}

/// See the module documentation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkChecked {
    op: Arithmetic,
    /// `try_*`: NULL on overflow.
    tolerant: bool,
    name: String,
    signature: Signature,
}

impl SparkChecked {
    /// `kindling_<op>` (fails on overflow), or `try_<op>` when `tolerant`.
    pub fn new(op: Arithmetic, tolerant: bool) -> Self {
        let prefix = if tolerant { "try" } else { "kindling" };
        SparkChecked {
            op,
            tolerant,
            name: format!("{prefix}_{}", op.spark_name()),
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// Spark's integral type for both operands: the wider one (unsigned types as the signed one
/// that holds them).
fn common_integer(l: &DataType, r: &DataType) -> Option<DataType> {
    let rank = |t: &DataType| match t {
        DataType::Null => Some(0),
        DataType::Int8 => Some(1),
        DataType::Int16 | DataType::UInt8 => Some(2),
        DataType::Int32 | DataType::UInt16 => Some(3),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => Some(4),
        _ => None,
    };
    Some(match rank(l)?.max(rank(r)?) {
        0 | 4 => DataType::Int64,
        3 => DataType::Int32,
        2 => DataType::Int16,
        _ => DataType::Int8,
    })
}

/// `l op r` row by row, NULL where it overflows.
fn tolerant_op<T: ArrowPrimitiveType>(l: &dyn Array, r: &dyn Array, op: Arithmetic) -> ArrayRef {
    let (l, r) = (l.as_primitive::<T>(), r.as_primitive::<T>());
    let result: PrimitiveArray<T> = l
        .iter()
        .zip(r.iter())
        .map(|(a, b)| {
            let (a, b) = (a?, b?);
            match op {
                Arithmetic::Add => a.add_checked(b),
                Arithmetic::Subtract => a.sub_checked(b),
                Arithmetic::Multiply => a.mul_checked(b),
            }
            .ok()
        })
        .collect();
    Arc::new(result)
}

impl ScalarUDFImpl for SparkChecked {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [l, r] => match common_integer(l, r) {
                Some(t) => Ok(vec![t.clone(), t]),
                None => plan_err!(
                    "Spark `{}` function expects two integers, got {l} and {r}",
                    self.name
                ),
            },
            other => plan_err!(
                "Spark `{}` function expects two arguments, got {other:?}",
                self.name
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let data_type = args.return_field.data_type().clone();
        let l = cast(&args.args[0].to_array(args.number_rows)?, &data_type)?;
        let r = cast(&args.args[1].to_array(args.number_rows)?, &data_type)?;
        let result = if self.tolerant {
            match data_type {
                DataType::Int8 => tolerant_op::<Int8Type>(&l, &r, self.op),
                DataType::Int16 => tolerant_op::<Int16Type>(&l, &r, self.op),
                DataType::Int32 => tolerant_op::<Int32Type>(&l, &r, self.op),
                _ => tolerant_op::<Int64Type>(&l, &r, self.op),
            }
        } else {
            let checked = match self.op {
                Arithmetic::Add => numeric::add(&l, &r),
                Arithmetic::Subtract => numeric::sub(&l, &r),
                Arithmetic::Multiply => numeric::mul(&l, &r),
            };
            match checked {
                Ok(result) => result,
                Err(_) => return Err(overflow(self.op.spark_name())),
            }
        };
        super::columnar(result, scalar)
    }
}

/// Spark's `[ARITHMETIC_OVERFLOW]`, naming the `try_` function (`try_add`) that gives NULL
/// instead.
pub(crate) fn overflow(function: &str) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::Execution(format!(
        "[ARITHMETIC_OVERFLOW] overflow. Use 'try_{function}' to tolerate overflow and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003"
    ))
}
