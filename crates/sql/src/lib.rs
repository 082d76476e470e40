//! The Spark SQL front end: a DataFusion session configured for Spark's semantics, with Spark's
//! functions registered, and [`plan_query`], which parses, rewrites and plans a job's SQL.

pub mod aliases;
pub mod decimal;
pub mod dialect;
pub mod functions;
pub mod inline_table;
pub mod lateral_view;
pub mod naming;
pub mod planner;
pub mod rewrite;
pub mod short_circuit;
pub mod steps;
pub mod typed_items;
pub mod typed_literals;
/// Spark's view of Arrow types (kept in `kindling-core`, so that sinks can use it without SQL).
pub use kindling_core::types;
pub mod typing;

use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::{DFParser, Statement as DFStatement};

use kindling_core::error::{Error, Result};

/// Spark's message for `TABLESAMPLE` of a stream.
pub const SAMPLING_NOT_SUPPORTED: &str =
    "Sampling is not supported on streaming DataFrames/Datasets";

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
    // `1.5` is DECIMAL(2,1) in Spark (`1.5E2` stays a double: see rewrite).
    options.sql_parser.parse_float_as_decimal = true;
    // Spark keeps a subquery's ORDER BY (its streaming checker refuses one over a stream
    // unless it sorts a complete-mode aggregation, which then prints sorted).
    options.sql_parser.enable_subquery_sort_elimination = false;
    options.optimizer.enable_dynamic_filter_pushdown = false;
    options.optimizer.enable_topk_dynamic_filter_pushdown = false;
    options.optimizer.enable_join_dynamic_filter_pushdown = false;
    options.optimizer.enable_aggregate_dynamic_filter_pushdown = false;
    options.execution.time_zone = Some("UTC".to_string());
    // Spark 4 runs with ANSI SQL on; datafusion-spark's functions follow this flag.
    options.execution.enable_ansi_mode = true;
    // The engine merges a batch's partial aggregate into its state assuming one row per key,
    // so partial aggregation must never fall back to passing rows through.
    options
        .execution
        .skip_partial_aggregation_probe_rows_threshold = usize::MAX;
    let mut builder = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features();
    // Spark's planners go first so that they take precedence.
    let planners = builder.expr_planners().get_or_insert_with(Vec::new);
    planners.insert(0, std::sync::Arc::new(planner::SparkExprPlanner));
    planners.insert(
        1,
        std::sync::Arc::new(datafusion_spark::planner::SparkFunctionPlanner),
    );
    let state = builder.build();
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
    let sql = inline_table::rewrite(&typed_literals::rewrite(sql));
    let mut statements = DFParser::parse_sql_with_dialect(&sql, &dialect::SparkDialect)
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
            refuse_sampling(ctx, inner)
                .await
                .map_err(|e| sql_err(e.to_string()))?;
            lateral_view::rewrite(inner);
            typed_items::expand(ctx, inner)
                .await
                .map_err(|e| sql_err(kindling_core::spark_errors::spark_message(&e)))?;
            rewrite::rewrite_statement(inner)
                .map_err(|e| sql_err(kindling_core::spark_errors::spark_message(&e)))?;
        }
        other => {
            return Err(sql_err(format!(
                "a streaming query must be a SELECT, found: {other}"
            )));
        }
    }
    let plan = ctx
        .state()
        .statement_to_plan(statement)
        .await
        .map_err(|e| sql_err(kindling_core::spark_errors::spark_message(&e)))?;
    typing::apply(ctx, plan).map_err(|e| sql_err(kindling_core::spark_errors::spark_message(&e)))
}

/// `TABLESAMPLE`, which DataFusion would silently ignore: Spark refuses it on a stream
/// (`Sampling is not supported on streaming DataFrames/Datasets`) and kindling has no
/// sampling for static tables either.
async fn refuse_sampling(
    ctx: &SessionContext,
    statement: &datafusion::sql::sqlparser::ast::Statement,
) -> std::result::Result<(), String> {
    use datafusion::sql::sqlparser::ast::{TableFactor, Visit, Visitor};
    use std::ops::ControlFlow;
    struct Sampled(Option<Option<String>>);
    impl Visitor for Sampled {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            match factor {
                TableFactor::Table {
                    name,
                    sample: Some(_),
                    ..
                } => {
                    self.0 = Some(Some(name.to_string()));
                    ControlFlow::Break(())
                }
                TableFactor::Derived {
                    sample: Some(_), ..
                } => {
                    self.0 = Some(None);
                    ControlFlow::Break(())
                }
                _ => ControlFlow::Continue(()),
            }
        }
    }
    let mut sampled = Sampled(None);
    let _ = statement.visit(&mut sampled);
    let Some(table) = sampled.0 else {
        return Ok(());
    };
    let streaming = match table {
        Some(name) => ctx.table_provider(name.as_str()).await.is_ok_and(|p| {
            p.downcast_ref::<datafusion::catalog::streaming::StreamingTable>()
                .is_some()
        }),
        None => false,
    };
    Err(if streaming {
        SAMPLING_NOT_SUPPORTED.to_string()
    } else {
        "TABLESAMPLE is not supported by kindling; filter the rows instead (e.g. WHERE rand() < 0.1)"
            .to_string()
    })
}
