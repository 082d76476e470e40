//! Spark's types on the planned query, where DataFusion's SQL planner types differently:
//! an integer literal that fits is an INT (DataFusion's are BIGINT, so `int_col + 1` would not
//! overflow at INT's bounds as Spark's does), and a CAST of a binary or a timestamp to a string
//! reads as Spark's. Both rewrite the plan node by node, keeping every expression's name, and
//! recompute the schemas, as DataFusion's own type coercion does.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use std::collections::HashSet;

use datafusion::common::DFSchema;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::expr::{HigherOrderFunction, Lambda};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{
    Cast, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Union, Values,
};
use datafusion::prelude::SessionContext;

use super::functions;

/// Gives `plan` Spark's types (see the module documentation).
pub fn apply(ctx: &SessionContext, plan: LogicalPlan) -> Result<LogicalPlan> {
    let to_string = ctx.udf(functions::cast_to_string::NAME)?;
    plan.transform_up_with_subqueries(|node| {
        // A LIMIT's count stays a BIGINT (DataFusion reads it as one).
        if matches!(node, LogicalPlan::Limit(_)) {
            return Ok(Transformed::no(node));
        }
        // The columns the node's expressions read (both sides of a join).
        let merged = merge_schema(&node.inputs());
        let names = NamePreserver::new(&node);
        let rewritten = node.map_expressions(|expr| {
            let saved = names.save(&expr);
            let expr = expr.transform_up(|e| {
                if let Some(int) = int_literal(&e) {
                    return Ok(Transformed::yes(int));
                }
                match e {
                    Expr::HigherOrderFunction(f) => retype_lambdas(f, &merged),
                    Expr::Cast(c) if is_string_cast(&c, &merged) => {
                        // The decoded string is cast to the type asked for, so the schema
                        // is unchanged.
                        let decoded = to_string.call(vec![(*c.expr).clone()]);
                        Ok(Transformed::yes(Expr::Cast(Cast::new_from_field(
                            Box::new(decoded),
                            Arc::clone(&c.field),
                        ))))
                    }
                    e => Ok(Transformed::no(e)),
                }
            })?;
            Ok(expr.update_data(|e| saved.restore(e)))
        })?;
        // Every node: a node's schema also follows its inputs' (a projection of a column
        // whose type changed below it).
        rewritten.map_data(recompute_schema)
    })
    .map(|t| t.data)
}

/// A higher-order function whose arguments were retyped: its lambdas' variables, typed by
/// the arrays they range over when the query was planned, are typed again. One whose lambdas
/// read a variable of an enclosing lambda is typed with that enclosing function.
fn retype_lambdas(function: HigherOrderFunction, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let mut bound = HashSet::new();
    let mut used = HashSet::new();
    for arg in &function.args {
        let _ = arg.apply(|e| {
            match e {
                Expr::Lambda(l) => bound.extend(l.params.iter().cloned()),
                Expr::LambdaVariable(v) => {
                    used.insert(v.name.clone());
                }
                _ => {}
            }
            Ok(TreeNodeRecursion::Continue)
        });
    }
    if !used.is_subset(&bound) {
        return Ok(Transformed::no(Expr::HigherOrderFunction(function)));
    }
    let args = function
        .args
        .into_iter()
        .map(|arg| match arg {
            Expr::Lambda(Lambda { params, body }) => {
                let body = body
                    .transform(|e| match e {
                        Expr::LambdaVariable(mut v) if params.contains(&v.name) => {
                            v.field = None;
                            Ok(Transformed::yes(Expr::LambdaVariable(v)))
                        }
                        e => Ok(Transformed::no(e)),
                    })?
                    .data;
                Ok(Expr::Lambda(Lambda {
                    params,
                    body: Box::new(body),
                }))
            }
            other => Ok(other),
        })
        .collect::<Result<Vec<_>>>()?;
    Expr::HigherOrderFunction(HigherOrderFunction {
        func: function.func,
        args,
    })
    .resolve_lambda_variables(schema)
}

/// Spark's INT for an integer literal that fits one.
fn int_literal(expr: &Expr) -> Option<Expr> {
    match expr {
        Expr::Literal(ScalarValue::Int64(Some(v)), metadata) => {
            let v = i32::try_from(*v).ok()?;
            Some(Expr::Literal(ScalarValue::Int32(Some(v)), metadata.clone()))
        }
        _ => None,
    }
}

/// `CAST(<binary or timestamp> AS <string>)`, which [`functions::cast_to_string`] reads as
/// Spark does (invalid UTF-8 as U+FFFD instead of a failed batch; a timestamp as Spark prints
/// it).
fn is_string_cast(cast: &Cast, schema: &datafusion::common::DFSchema) -> bool {
    matches!(
        cast.field.data_type(),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
    ) && matches!(
        cast.expr.get_type(schema),
        Ok(DataType::Binary
            | DataType::BinaryView
            | DataType::LargeBinary
            | DataType::Timestamp(..))
    )
}

/// The node with the schema its new expressions give it. DataFusion keeps the schema of
/// `VALUES` and of a `UNION` as they are; those are rebuilt.
fn recompute_schema(node: LogicalPlan) -> Result<LogicalPlan> {
    Ok(match node {
        LogicalPlan::Values(Values { values, .. }) => {
            LogicalPlanBuilder::values(values)?.build()?
        }
        LogicalPlan::Union(union) => {
            LogicalPlan::Union(Union::try_new_with_loose_types(union.inputs)?)
        }
        other => other.recompute_schema()?,
    })
}
