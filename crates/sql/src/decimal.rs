//! Spark's decimal arithmetic (`DecimalPrecision`): the precision and scale of `+ - * / %`
//! with a decimal operand (an integer literal counts as its digits, an integer column as its
//! type's width), capped at 38 digits by Spark's precision-loss rule, and division rounded
//! HALF_UP to Spark's scale, where DataFusion keeps `s1 + 4` digits and truncates.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::cast as arrow_cast;
use datafusion::arrow::compute::kernels::numeric;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, cast};

/// The largest precision of a 128-bit decimal, Spark's `DecimalType.MAX_PRECISION`.
const MAX_PRECISION: u8 = 38;
/// Spark's `MINIMUM_ADJUSTED_SCALE`: the scale kept when a result needs more than 38 digits.
const MINIMUM_ADJUSTED_SCALE: i8 = 6;

/// A decimal type's precision and scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    /// Total digits.
    pub precision: u8,
    /// Digits after the point.
    pub scale: i8,
}

impl Decimal {
    fn new(precision: u8, scale: i8) -> Self {
        Decimal { precision, scale }
    }

    fn data_type(self) -> DataType {
        DataType::Decimal128(self.precision, self.scale)
    }

    /// Digits before the point.
    fn integral(self) -> i16 {
        i16::from(self.precision) - i16::from(self.scale)
    }
}

/// The decimal type Spark reads an operand as beside a decimal: the decimal itself, an
/// integer literal as its digits, an integer of another kind as the width of its type.
/// `None` for anything else (a double makes the arithmetic a double's).
fn operand(expr: &Expr, data_type: &DataType) -> Option<Decimal> {
    let width = |digits: usize| Decimal::new(digits.max(1) as u8, 0);
    match data_type {
        DataType::Decimal128(p, s) => Some(Decimal::new(*p, *s)),
        _ if data_type.is_integer() => match expr {
            Expr::Literal(value, _) if !value.is_null() => {
                let digits = value.to_string().trim_start_matches('-').len();
                Some(width(digits))
            }
            _ => Some(match data_type {
                DataType::Int8 | DataType::UInt8 => width(3),
                DataType::Int16 | DataType::UInt16 => width(5),
                DataType::Int32 | DataType::UInt32 => width(10),
                _ => width(20),
            }),
        },
        _ => None,
    }
}

/// Spark's `adjustPrecisionScale` with precision loss allowed: a result of more than 38
/// digits keeps its integral digits and gives up scale, down to 6 digits.
fn bounded(precision: i16, scale: i16) -> Decimal {
    if precision <= i16::from(MAX_PRECISION) {
        return Decimal::new(precision as u8, scale as i8);
    }
    let integral = precision - scale;
    let min_scale = scale.min(i16::from(MINIMUM_ADJUSTED_SCALE));
    let scale = (i16::from(MAX_PRECISION) - integral).max(min_scale);
    Decimal::new(MAX_PRECISION, scale as i8)
}

/// The result type Spark gives `l op r`, with its precision before the 38-digit cap.
fn result_type(op: Operator, l: Decimal, r: Decimal) -> Option<(Decimal, i16)> {
    let (p1, s1, p2, s2) = (
        i16::from(l.precision),
        i16::from(l.scale),
        i16::from(r.precision),
        i16::from(r.scale),
    );
    let (precision, scale) = match op {
        Operator::Plus | Operator::Minus => {
            let scale = s1.max(s2);
            (l.integral().max(r.integral()) + scale + 1, scale)
        }
        Operator::Multiply => (p1 + p2 + 1, s1 + s2),
        Operator::Divide => {
            let scale = i16::from(MINIMUM_ADJUSTED_SCALE).max(s1 + p2 + 1);
            (p1 - s1 + s2 + scale, scale)
        }
        Operator::Modulo => {
            let scale = s1.max(s2);
            (l.integral().min(r.integral()) + scale, scale)
        }
        _ => return None,
    };
    Some((bounded(precision, scale), precision))
}

/// The types to divide `l / r` in so that DataFusion's quotient, whose scale is the
/// dividend's + 4 (truncated), has one digit more than Spark's `result` keeps: casting it to
/// `result` then rounds HALF_UP as Spark does. 256 bits where 128 could overflow.
fn division_operands(l: Decimal, r: Decimal, result: Decimal) -> (DataType, DataType) {
    let scale = l.scale.max(result.scale - 3);
    let dividend = Decimal::new(l.precision + (scale - l.scale) as u8, scale);
    let digits = u16::from(dividend.precision) + 4 + r.scale.max(0) as u16;
    if digits > u16::from(MAX_PRECISION) {
        (
            DataType::Decimal256(dividend.precision, dividend.scale),
            DataType::Decimal256(r.precision, r.scale),
        )
    } else {
        (dividend.data_type(), r.data_type())
    }
}

/// `l / r` of two decimal arrays, rounded HALF_UP to `result` (precision, scale), or to the
/// type Spark's `/` gives where `result` is `None`.
pub fn divide(l: &ArrayRef, r: &ArrayRef, result: Option<(u8, i8)>) -> Result<ArrayRef> {
    let (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) =
        (l.data_type(), r.data_type())
    else {
        return plan_err!(
            "decimal division expects two decimals, got {} and {}",
            l.data_type(),
            r.data_type()
        );
    };
    let (ld, rd) = (Decimal::new(*p1, *s1), Decimal::new(*p2, *s2));
    let result = match result {
        Some((p, s)) => Decimal::new(p, s),
        None => match result_type(Operator::Divide, ld, rd) {
            Some((result, _)) => result,
            None => return plan_err!("no result type for a decimal division"),
        },
    };
    let (lt, rt) = division_operands(ld, rd, result);
    let quotient = numeric::div(&arrow_cast(l, &lt)?, &arrow_cast(r, &rt)?)?;
    Ok(arrow_cast(&quotient, &result.data_type())?)
}

/// Plans `left op right` with Spark's decimal semantics when one side is a decimal and the
/// other a decimal or an integer, with `guard(left, right)` in place of the right operand;
/// `None` leaves it to DataFusion.
pub fn plan(
    left: &Expr,
    left_type: &DataType,
    op: Operator,
    right: &Expr,
    right_type: &DataType,
    guard: &dyn Fn(&Expr, Expr) -> Expr,
) -> Option<Expr> {
    if !matches!(left_type, DataType::Decimal128(..))
        && !matches!(right_type, DataType::Decimal128(..))
    {
        return None;
    }
    let l = operand(left, left_type)?;
    let r = operand(right, right_type)?;
    let (result, unbounded_precision) = result_type(op, l, r)?;
    let binary = |l: Expr, r: Expr| {
        let r = guard(&l, r);
        Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)))
    };
    // Exact 256-bit arithmetic where 128 bits could overflow before the result is rounded.
    let wide = |d: Decimal| DataType::Decimal256(d.precision, d.scale);
    if op == Operator::Divide {
        let (lt, rt) = division_operands(l, r, result);
        let quotient = binary(cast(left.clone(), lt), cast(right.clone(), rt));
        return Some(cast(quotient, result.data_type()));
    }
    if unbounded_precision <= i16::from(MAX_PRECISION) {
        // DataFusion's own result type is Spark's here.
        return Some(binary(
            cast(left.clone(), l.data_type()),
            cast(right.clone(), r.data_type()),
        ));
    }
    let exact = binary(cast(left.clone(), wide(l)), cast(right.clone(), wide(r)));
    Some(cast(exact, result.data_type()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(p: u8, s: i8) -> Decimal {
        Decimal::new(p, s)
    }

    #[test]
    fn result_types_are_sparks() {
        // Each checked against Spark 4.3.0's typeof().
        let cases = [
            (Operator::Divide, d(2, 1), d(1, 0), d(7, 6)),
            (Operator::Multiply, d(2, 1), d(1, 0), d(4, 1)),
            (Operator::Plus, d(2, 1), d(1, 0), d(3, 1)),
            (Operator::Plus, d(1, 1), d(1, 1), d(2, 1)),
            (Operator::Multiply, d(2, 1), d(2, 1), d(5, 2)),
            (Operator::Divide, d(3, 1), d(1, 1), d(9, 6)),
            (Operator::Modulo, d(2, 1), d(1, 1), d(1, 1)),
            (Operator::Divide, d(10, 2), d(20, 5), d(36, 23)),
            (Operator::Multiply, d(38, 2), d(2, 1), d(38, 3)),
            (Operator::Divide, d(38, 10), d(1, 0), d(38, 10)),
            (Operator::Multiply, d(10, 0), d(2, 1), d(13, 1)),
            (Operator::Divide, d(10, 0), d(2, 1), d(17, 6)),
            (Operator::Divide, d(13, 2), d(20, 0), d(34, 23)),
        ];
        for (op, l, r, expected) in cases {
            assert_eq!(
                result_type(op, l, r).map(|t| t.0),
                Some(expected),
                "{l:?} {op} {r:?}"
            );
        }
    }
}
