//! [`SparkExprPlanner`]: Spark's operator semantics where DataFusion's differ, decided with
//! the operand types at planning time: `/` between integers divides as doubles (`5 / 2` is
//! `2.5`), as Spark does.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::error::Result;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Expr, ExprSchemable, cast};
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
}

fn is_integer_or_null(t: &DataType) -> bool {
    t.is_integer() || *t == DataType::Null
}
