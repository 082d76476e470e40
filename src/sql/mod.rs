//! The Spark SQL front end: a DataFusion session configured for Spark's semantics, with Spark's
//! functions registered, and [`plan_query`], which parses, rewrites and plans a job's SQL.

pub mod functions;
pub mod rewrite;

use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::error::{Error, Result};

/// A DataFusion session with Spark's defaults: one partition per plan (micro-batches are
/// small and the engine owns parallelism), Spark's NULL ordering (ASC NULLS FIRST, DESC NULLS
/// LAST) and Spark's functions. Dynamic filters are off because plans are re-executed batch
/// after batch.
pub fn new_session() -> Result<SessionContext> {
    let mut config = SessionConfig::new()
        .with_target_partitions(1)
        .with_information_schema(false)
        .with_batch_size(8192);
    let options = config.options_mut();
    options.sql_parser.default_null_ordering = "nulls_min".to_string();
    options.optimizer.enable_dynamic_filter_pushdown = false;
    options.optimizer.enable_topk_dynamic_filter_pushdown = false;
    options.optimizer.enable_join_dynamic_filter_pushdown = false;
    options.optimizer.enable_aggregate_dynamic_filter_pushdown = false;
    options.execution.time_zone = Some("UTC".to_string());
    // The engine merges a batch's partial aggregate into its state assuming one row per key,
    // so partial aggregation must never fall back to passing rows through.
    options
        .execution
        .skip_partial_aggregation_probe_rows_threshold = usize::MAX;
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    let mut ctx = SessionContext::new_with_state(state);
    functions::register_spark_functions(&mut ctx)?;
    Ok(ctx)
}

/// Parses `sql` (one SELECT), applies kindling's Spark rewrites and plans it against the
/// tables registered in `ctx`. The plan is not optimized, so that `LIMIT` and `ORDER BY` are
/// still visible to the output-mode checker. Errors carry the job name.
pub async fn plan_query(ctx: &SessionContext, sql: &str, job: &str) -> Result<LogicalPlan> {
    let sql_err = |message: String| Error::Sql {
        job: job.to_string(),
        message,
    };
    let mut statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})
        .map_err(|e| sql_err(e.to_string()))?;
    if statements.len() != 1 {
        return Err(sql_err(format!(
            "expected exactly one SQL statement, found {}",
            statements.len()
        )));
    }
    let mut statement = statements
        .pop_front()
        .ok_or_else(|| sql_err("empty query".to_string()))?;
    match &mut statement {
        DFStatement::Statement(inner) => {
            if !matches!(
                **inner,
                datafusion::sql::sqlparser::ast::Statement::Query(_)
            ) {
                return Err(sql_err(format!(
                    "a streaming query must be a SELECT, found: {inner}"
                )));
            }
            rewrite::rewrite_statement(inner);
        }
        other => {
            return Err(sql_err(format!(
                "a streaming query must be a SELECT, found: {other}"
            )));
        }
    }
    ctx.state()
        .statement_to_plan(statement)
        .await
        .map_err(|e| sql_err(e.to_string()))
}
