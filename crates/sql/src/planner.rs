//! [`SparkExprPlanner`]: Spark's operator semantics where DataFusion's differ, decided with
//! the operand types at planning time: `/` between integers divides as doubles (`5 / 2` is
//! `2.5`), integer `+ - *` fail on overflow, a zero divisor fails `/` and `%`, decimal
//! arithmetic has Spark's result types ([`super::decimal`]), and `array[i]` counts from 0 and
//! fails out of bounds, as Spark's ANSI mode does.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::logical_expr::GetFieldAccess;
use datafusion::logical_expr::planner::{
    ExprPlanner, PlannerResult, RawBinaryExpr, RawFieldAccessExpr,
};
use datafusion::logical_expr::{Expr, ExprSchemable, Operator, cast};

use super::functions::array_get::{Access, SparkArrayGet};
use super::functions::checked::{Arithmetic, SparkChecked};
use super::functions::divisor::{Division, KindlingDivisor, TRY_DIVISOR};

fn divisor_check(division: Division) -> datafusion::logical_expr::ScalarUDF {
    datafusion::logical_expr::ScalarUDF::from(KindlingDivisor::new(division))
}
use datafusion::sql::sqlparser::ast::BinaryOperator;

/// Plans binary operators with Spark's semantics.
#[derive(Debug, Default)]
pub struct SparkExprPlanner;

impl ExprPlanner for SparkExprPlanner {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        let op = match expr.op {
            BinaryOperator::MyIntegerDivide => return integral_divide(expr, schema),
            BinaryOperator::Plus => Operator::Plus,
            BinaryOperator::Minus => Operator::Minus,
            BinaryOperator::Multiply => Operator::Multiply,
            BinaryOperator::Divide => Operator::Divide,
            BinaryOperator::Modulo => Operator::Modulo,
            _ => return Ok(PlannerResult::Original(expr)),
        };
        // `try_divide(a, b)` is `a / kindling_try_divisor(b)` (see rewrite): typed as `b`.
        let (expr, tolerant) = match expr.right {
            Expr::ScalarFunction(f) if f.name() == TRY_DIVISOR && f.args.len() == 1 => {
                let mut args = f.args;
                let divisor = args.remove(0);
                (
                    RawBinaryExpr {
                        right: divisor,
                        ..expr
                    },
                    true,
                )
            }
            right => (RawBinaryExpr { right, ..expr }, false),
        };
        let left = expr.left.get_type(schema)?;
        let right = expr.right.get_type(schema)?;
        // Spark's ANSI mode fails a division by zero, of doubles too.
        let guard = |dividend: &Expr, divisor: Expr| {
            let division = match op {
                _ if tolerant => Division::Tolerant,
                Operator::Divide => Division::Divide,
                Operator::Modulo => Division::Remainder,
                _ => return divisor,
            };
            divisor_check(division).call(vec![dividend.clone(), divisor])
        };
        if let Some(planned) =
            super::decimal::plan(&expr.left, &left, op, &expr.right, &right, &guard)
        {
            return Ok(PlannerResult::Planned(planned));
        }
        // Integer `+ - *` fail on overflow, as in Spark's ANSI mode (DataFusion wraps).
        let checked = match op {
            Operator::Plus => Some(Arithmetic::Add),
            Operator::Minus => Some(Arithmetic::Subtract),
            Operator::Multiply => Some(Arithmetic::Multiply),
            _ => None,
        };
        if let Some(arithmetic) = checked
            && left.is_integer()
            && right.is_integer()
        {
            let udf =
                datafusion::logical_expr::ScalarUDF::from(SparkChecked::new(arithmetic, false));
            return Ok(PlannerResult::Planned(
                udf.call(vec![expr.left, expr.right]),
            ));
        }
        let (l, r) =
            if op == Operator::Divide && is_integer_or_null(&left) && is_integer_or_null(&right) {
                (
                    cast(expr.left, DataType::Float64),
                    cast(expr.right, DataType::Float64),
                )
            } else if matches!(op, Operator::Divide | Operator::Modulo) {
                (expr.left, expr.right)
            } else {
                return Ok(PlannerResult::Original(expr));
            };
        Ok(PlannerResult::Planned(Expr::BinaryExpr(
            datafusion::logical_expr::BinaryExpr::new(
                Box::new(l.clone()),
                op,
                Box::new(guard(&l, r)),
            ),
        )))
    }

    fn plan_field_access(
        &self,
        expr: RawFieldAccessExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawFieldAccessExpr>> {
        if let GetFieldAccess::ListIndex { key } = &expr.field_access
            && matches!(
                expr.expr.get_type(schema)?,
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
            )
        {
            // Spark's subscript is 0-based and fails out of bounds; DataFusion's
            // array_element is 1-based and gives NULL.
            let udf =
                datafusion::logical_expr::ScalarUDF::from(SparkArrayGet::new(Access::Subscript));
            return Ok(PlannerResult::Planned(
                udf.call(vec![expr.expr.clone(), (**key).clone()]),
            ));
        }
        Ok(PlannerResult::Original(expr))
    }
}

/// Spark's `a DIV b`: integer division truncated toward zero, typed BIGINT, failing on a zero
/// divisor (`[DIVIDE_BY_ZERO]`).
fn integral_divide(expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
    let left = expr.left.get_type(schema)?;
    let right = expr.right.get_type(schema)?;
    if !is_integer_or_null(&left) || !is_integer_or_null(&right) {
        return datafusion::common::plan_err!(
            "`DIV` of {} and {} is not supported by kindling (only of integers); CAST the operands to BIGINT",
            super::types::spark_type_name(&left).to_ascii_uppercase(),
            super::types::spark_type_name(&right).to_ascii_uppercase()
        );
    }
    let dividend = cast(expr.left, DataType::Int64);
    let divisor = divisor_check(Division::Divide)
        .call(vec![dividend.clone(), cast(expr.right, DataType::Int64)]);
    Ok(PlannerResult::Planned(Expr::BinaryExpr(
        datafusion::logical_expr::BinaryExpr::new(
            Box::new(dividend),
            Operator::Divide,
            Box::new(divisor),
        ),
    )))
}

fn is_integer_or_null(t: &DataType) -> bool {
    t.is_integer() || *t == DataType::Null
}
