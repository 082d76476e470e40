//! [`SparkExprPlanner`]: Spark's operator semantics where DataFusion's differ, decided with
//! the operand types at planning time: `/` between integers divides as doubles (`5 / 2` is
//! `2.5`), and `array[i]` counts from 0, as Spark does.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::logical_expr::planner::{
    ExprPlanner, PlannerResult, RawBinaryExpr, RawFieldAccessExpr,
};
use datafusion::logical_expr::{Expr, ExprSchemable, cast};
use datafusion::logical_expr::{GetFieldAccess, lit};
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
        if expr.op == BinaryOperator::Divide {
            let left = expr.left.get_type(schema)?;
            let right = expr.right.get_type(schema)?;
            if is_integer_or_null(&left) && is_integer_or_null(&right) {
                return Ok(PlannerResult::Planned(Expr::BinaryExpr(
                    datafusion::logical_expr::BinaryExpr::new(
                        Box::new(cast(expr.left, DataType::Float64)),
                        datafusion::logical_expr::Operator::Divide,
                        Box::new(cast(expr.right, DataType::Float64)),
                    ),
                )));
            }
        }
        Ok(PlannerResult::Original(expr))
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
            // Spark's subscript is 0-based; DataFusion's array_element is 1-based.
            let index = (**key).clone() + lit(1i64);
            return Ok(PlannerResult::Planned(
                datafusion::functions_nested::extract::array_element(expr.expr.clone(), index),
            ));
        }
        Ok(PlannerResult::Original(expr))
    }
}

fn is_integer_or_null(t: &DataType) -> bool {
    t.is_integer() || *t == DataType::Null
}
