//! Which streaming queries run: Spark's `UnsupportedOperationChecker.checkForStreaming`
//! (Spark 4.3) over kindling's logical plans, with Spark's messages, then the queries Spark
//! runs but kindling cannot yet run with Spark's answer, refused with kindling's own message.
//!
//! Spark's rules: <https://github.com/apache/spark/blob/master/sql/catalyst/src/main/scala/org/apache/spark/sql/catalyst/analysis/UnsupportedOperationChecker.scala>.
//! The plan is DataFusion's unoptimized plan of the query, in which SQL's `DISTINCT` and
//! `UNION` are `Distinct::All` (Spark's `Distinct`, an aggregation), `dropDuplicates` is
//! `Distinct::On` (Spark's `Deduplicate`), and `EXCEPT`/`INTERSECT` are anti/semi joins whose
//! keys compare NULLs as equal.

use std::fmt;

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{JoinType, NullEquality};
use datafusion::datasource::source_as_provider;
use datafusion::logical_expr::{Distinct, Expr, FetchType, Join, LogicalPlan, SkipType};

use kindling_core::output_mode::OutputMode;

/// Why a streaming query does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Spark refuses the query too; the message is Spark 4.3's, verbatim.
    Spark(String),
    /// Spark runs the query, but kindling cannot give Spark's answer, so it refuses it.
    Kindling(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Spark(m) => f.write_str(m),
            Refusal::Kindling(m) => write!(f, "kindling cannot run this query as Spark does: {m}"),
        }
    }
}

/// Spark's message for append mode over an aggregation without a watermark.
pub const APPEND_WITH_AGGREGATION: &str = "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] Invalid streaming output mode: append. This output mode is not supported for streaming aggregations without watermark on streaming DataFrames/DataSets. SQLSTATE: 42KDE";
/// Spark's message for complete mode without an aggregation.
pub const COMPLETE_WITHOUT_AGGREGATION: &str = "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] Invalid streaming output mode: complete. This output mode is not supported for no streaming aggregations on streaming DataFrames/DataSets. SQLSTATE: 42KDE";
/// Spark's message for a sort that is not over a complete-mode aggregation.
pub const SORT_NOT_SUPPORTED: &str = "Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode";
/// Spark's message for a limit in update mode.
pub const LIMIT_IN_UPDATE: &str =
    "Limits are not supported on streaming DataFrames/Datasets in Update output mode";
/// Spark's message for `count(DISTINCT ...)` and friends in a streaming aggregation.
pub const DISTINCT_AGGREGATION: &str = "Distinct aggregations are not supported on streaming DataFrames/Datasets. Consider using approx_count_distinct() instead.";
/// Spark's message for `OFFSET` in a streaming query.
pub const OFFSET_NOT_SUPPORTED: &str = "Offset is not supported on streaming DataFrames/Datasets";
/// Spark's message for a query that reads no stream (`writeStream` of a batch DataFrame).
pub const NO_STREAMING_SOURCE: &str = "[WRITE_STREAM_NOT_ALLOWED] `writeStream` can be called only on streaming Dataset/DataFrame. SQLSTATE: 42601";
/// Spark's message for a subquery expression over a stream.
pub const STREAMING_SUBQUERY: &str = "[INVALID_SUBQUERY_EXPRESSION.STREAMING_QUERY] Invalid subquery: Streaming query is not allowed in subquery expressions. SQLSTATE: 42823";
/// Spark's message for a stateful operator fed by an aggregation in update or complete mode.
pub const GLOBAL_WATERMARK_CORRECTNESS: &str = "Detected pattern of possible 'correctness' issue due to global watermark. The query contains stateful operation which can emit rows older than the current watermark plus allowed late record delay, which are \"late rows\" in downstream stateful operations and these rows can be discarded. Please refer the programming guide doc for more details. If you understand the possible risk of correctness issue and still need to run the query, you can disable this check by setting the config `spark.sql.streaming.statefulOperator.checkCorrectness.enabled` to false.";
/// Spark's message for a union of a stream and a static relation.
pub const UNION_STREAM_AND_BATCH: &str =
    "Union between streaming and batch DataFrames/Datasets is not supported";
/// Spark's message for `EXCEPT` with a stream on the right.
pub const EXCEPT_STREAM_ON_RIGHT: &str =
    "Except on a streaming DataFrame/Dataset on the right is not supported";
/// Spark's message for `INTERSECT` with a stream on either side.
pub const INTERSECT_OF_STREAMS: &str =
    "Intersect of streaming DataFrames/Datasets is not supported";
/// The error a streaming `EXCEPT` fails with in append mode (Spark plans it as an
/// aggregation after its analysis, and the query fails when it starts).
pub const EXCEPT_IN_APPEND: &str = "[UNSUPPORTED_STREAMING_OPERATOR_WITHOUT_WATERMARK] Append output mode not supported for aggregations on streaming DataFrames/DataSets without watermark. SQLSTATE: 0A000";
/// Spark's message for a stream-stream join without an equality between the two sides
/// (raised when the query starts).
pub const STREAM_JOIN_WITHOUT_EQUALITY: &str =
    "Stream-stream join without equality predicate is not supported.";

/// Checks `plan` (the unoptimized logical plan of a streaming query) for output `mode`: first
/// as Spark's checker does, returning Spark's message for the first rule broken, then for
/// what kindling cannot run exactly.
pub fn check(plan: &LogicalPlan, mode: OutputMode) -> Result<(), Refusal> {
    spark_rules(plan, mode).map_err(Refusal::Spark)?;
    kindling_limits(plan, mode).map_err(Refusal::Kindling)
}

/// Spark's own rules, in the order Spark applies them.
fn spark_rules(plan: &LogicalPlan, mode: OutputMode) -> Result<(), String> {
    // Spark's analyzer refuses these before the streaming checker runs.
    distinct_window_functions(plan)?;
    streaming_subqueries(plan)?;
    if !is_streaming(plan) {
        return Err(NO_STREAMING_SOURCE.to_string());
    }
    let aggregates = streaming_aggregates(plan);
    match mode {
        OutputMode::Append if aggregates > 0 => return Err(APPEND_WITH_AGGREGATION.to_string()),
        OutputMode::Complete if aggregates == 0 => {
            return Err(COMPLETE_WITHOUT_AGGREGATION.to_string());
        }
        _ => {}
    }
    operators(plan, None, mode)?;
    global_watermark(plan, mode)?;
    if mode == OutputMode::Append
        && contains(plan, &|p| {
            set_operation(p) == Some(SetOp::Except) && is_streaming(p)
        })
    {
        return Err(EXCEPT_IN_APPEND.to_string());
    }
    // Spark fails a stream-stream join without an equality between its sides when the
    // query starts.
    if contains(
        plan,
        &|p| matches!(p, LogicalPlan::Join(j) if is_streaming(&j.left) && is_streaming(&j.right) && !has_equality(j)),
    ) {
        return Err(STREAM_JOIN_WITHOUT_EQUALITY.to_string());
    }
    Ok(())
}

/// Whether `plan` reads a stream: a scan of a streaming table (the source's micro-batch
/// table; static tables are memory tables or VALUES).
pub fn is_streaming(plan: &LogicalPlan) -> bool {
    contains(plan, &|p| match p {
        LogicalPlan::TableScan(scan) => source_as_provider(&scan.source).is_ok_and(|provider| {
            provider
                .downcast_ref::<datafusion::catalog::streaming::StreamingTable>()
                .is_some()
        }),
        _ => false,
    })
}

/// Whether a node of `plan` (not looking into subquery expressions) satisfies `f`.
fn contains(plan: &LogicalPlan, f: &dyn Fn(&LogicalPlan) -> bool) -> bool {
    f(plan) || plan.inputs().into_iter().any(|input| contains(input, f))
}

/// A set operation that DataFusion plans as a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Except,
    ExceptAll,
    Intersect,
}

/// `EXCEPT` and `INTERSECT` are semi/anti joins on every column, NULLs comparing equal, with
/// `DISTINCT` on the left unless `ALL` is given.
fn set_operation(plan: &LogicalPlan) -> Option<SetOp> {
    let LogicalPlan::Join(join) = plan else {
        return None;
    };
    if join.null_equality != NullEquality::NullEqualsNull || join.filter.is_some() {
        return None;
    }
    let distinct = matches!(join.left.as_ref(), LogicalPlan::Distinct(Distinct::All(_)));
    match join.join_type {
        JoinType::LeftAnti if distinct => Some(SetOp::Except),
        JoinType::LeftAnti => Some(SetOp::ExceptAll),
        JoinType::LeftSemi => Some(SetOp::Intersect),
        _ => None,
    }
}

/// Spark's streaming aggregations: `Aggregate` and `Distinct` nodes over a stream (the
/// `DISTINCT` of an `EXCEPT` is not one yet when Spark's checker runs).
fn streaming_aggregates(plan: &LogicalPlan) -> usize {
    let own = usize::from(is_aggregation(plan) && is_streaming(plan));
    let inputs: usize = match set_operation(plan) {
        Some(SetOp::Except | SetOp::Intersect) => {
            let LogicalPlan::Join(join) = plan else {
                return own;
            };
            let left = join.left.inputs().into_iter().map(streaming_aggregates);
            left.sum::<usize>() + streaming_aggregates(&join.right)
        }
        _ => plan.inputs().into_iter().map(streaming_aggregates).sum(),
    };
    own + inputs
}

/// An `Aggregate` or a SQL `DISTINCT` (Spark's `Distinct`, which Spark plans as one).
fn is_aggregation(plan: &LogicalPlan) -> bool {
    matches!(
        plan,
        LogicalPlan::Aggregate(_) | LogicalPlan::Distinct(Distinct::All(_))
    )
}

/// `[DISTINCT_WINDOW_FUNCTION_UNSUPPORTED]`: `count(DISTINCT x) OVER (...)`.
fn distinct_window_functions(plan: &LogicalPlan) -> Result<(), String> {
    let mut found = None;
    let _ = plan.apply(|node| {
        if let LogicalPlan::Window(window) = node {
            found = window.window_expr.iter().find_map(|e| {
                let mut name = None;
                let _ = e.apply(|e| {
                    if let Expr::WindowFunction(f) = e
                        && f.params.distinct
                    {
                        name = Some(e.schema_name().to_string());
                        return Ok(TreeNodeRecursion::Stop);
                    }
                    Ok(TreeNodeRecursion::Continue)
                });
                name
            });
        }
        Ok(if found.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    match found {
        Some(name) => Err(format!(
            "[DISTINCT_WINDOW_FUNCTION_UNSUPPORTED] Distinct window functions are not supported: \"{name}\". SQLSTATE: 0A000"
        )),
        None => Ok(()),
    }
}

/// `[INVALID_SUBQUERY_EXPRESSION.STREAMING_QUERY]`: a subquery expression that reads the stream.
fn streaming_subqueries(plan: &LogicalPlan) -> Result<(), String> {
    let mut found = false;
    let _ = plan.apply_with_subqueries(|node| {
        let _ = node.apply_expressions(|expr| {
            expr.apply(|e| {
                let subquery = match e {
                    Expr::ScalarSubquery(s) => Some(&s.subquery),
                    Expr::InSubquery(s) => Some(&s.subquery.subquery),
                    Expr::Exists(s) => Some(&s.subquery.subquery),
                    _ => None,
                };
                if subquery.is_some_and(|s| is_streaming(s)) {
                    found = true;
                    return Ok(TreeNodeRecursion::Stop);
                }
                Ok(TreeNodeRecursion::Continue)
            })
        });
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    if found {
        Err(STREAMING_SUBQUERY.to_string())
    } else {
        Ok(())
    }
}

/// Spark's per-operator rules, children before parents (`foreachUp`); `parent` names the
/// column a window function is given.
fn operators(
    plan: &LogicalPlan,
    parent: Option<&LogicalPlan>,
    mode: OutputMode,
) -> Result<(), String> {
    for input in plan.inputs() {
        operators(input, Some(plan), mode)?;
    }
    match plan {
        LogicalPlan::Aggregate(agg) if is_streaming(&agg.input) => {
            let distinct = agg.aggr_expr.iter().any(|e| {
                e.exists(|e| Ok(matches!(e, Expr::AggregateFunction(f) if f.params.distinct)))
                    .unwrap_or(false)
            });
            if distinct {
                return Err(DISTINCT_AGGREGATION.to_string());
            }
        }
        LogicalPlan::Join(join) => match set_operation(plan) {
            Some(SetOp::Except | SetOp::ExceptAll) if is_streaming(&join.right) => {
                return Err(EXCEPT_STREAM_ON_RIGHT.to_string());
            }
            Some(SetOp::Intersect) if is_streaming(plan) => {
                return Err(INTERSECT_OF_STREAMS.to_string());
            }
            Some(_) => {}
            None => join_rules(join, mode)?,
        },
        LogicalPlan::Union(union) => {
            let streaming = union.inputs.iter().filter(|i| is_streaming(i)).count();
            if streaming > 0 && streaming < union.inputs.len() {
                return Err(UNION_STREAM_AND_BATCH.to_string());
            }
        }
        LogicalPlan::Limit(limit) if is_streaming(&limit.input) => {
            if !matches!(limit.get_skip_type(), Ok(SkipType::Literal(0))) {
                return Err(OFFSET_NOT_SUPPORTED.to_string());
            }
            if mode == OutputMode::Update {
                return Err(LIMIT_IN_UPDATE.to_string());
            }
        }
        LogicalPlan::Sort(_) if !contains_complete_data(plan, mode) => {
            return Err(SORT_NOT_SUPPORTED.to_string());
        }
        LogicalPlan::Window(window) if is_streaming(&window.input) => {
            return Err(non_time_window(window, parent));
        }
        _ => {}
    }
    Ok(())
}

/// Spark's `containsCompleteData`: a static subplan, or (complete mode) one with an
/// `Aggregate` in it (not a `Distinct`: Spark's checker sees those before they become one).
fn contains_complete_data(plan: &LogicalPlan, mode: OutputMode) -> bool {
    !is_streaming(plan)
        || (mode == OutputMode::Complete
            && contains(plan, &|p| {
                matches!(p, LogicalPlan::Aggregate(_)) && is_streaming(p)
            }))
}

/// Spark's rules for a join, by type and by which sides are streams.
fn join_rules(join: &Join, mode: OutputMode) -> Result<(), String> {
    let left = is_streaming(&join.left);
    let right = is_streaming(&join.right);
    let name = spark_join_type(join.join_type);
    if left && right {
        match join.join_type {
            JoinType::Left | JoinType::Right | JoinType::Full if mode != OutputMode::Append => {
                return Err(format!(
                    "{name} join between two streaming DataFrames/Datasets is not supported in {} output mode, only in Append output mode",
                    spark_mode_name(mode)
                ));
            }
            JoinType::Inner | JoinType::LeftSemi if mode == OutputMode::Complete => {
                return Err(format!(
                    "{name} join between two streaming DataFrames/Datasets is not supported in Complete output mode, only in Append and Update output modes"
                ));
            }
            _ => {}
        }
    }
    match join.join_type {
        JoinType::Inner => {}
        JoinType::Full => {
            if left && !right {
                return Err("FullOuter joins with streaming DataFrames/Datasets on the left and a static DataFrame/Dataset on the right is not supported".to_string());
            }
            if !left && right {
                return Err("FullOuter joins with streaming DataFrames/Datasets on the right and a static DataFrame/Dataset on the left is not supported".to_string());
            }
            if left && right {
                return Err(stream_join_without_watermark(name));
            }
        }
        JoinType::LeftAnti => {
            if right {
                return Err(format!(
                    "{name} joins with a streaming DataFrame/Dataset on the right are not supported"
                ));
            }
        }
        JoinType::Left | JoinType::LeftSemi => {
            if !left && right {
                return Err(format!(
                    "{name} join with a streaming DataFrame/Dataset on the right and a static DataFrame/Dataset on the left is not supported"
                ));
            }
            if left && right {
                return Err(stream_join_without_watermark(name));
            }
        }
        JoinType::Right => {
            if left && !right {
                return Err("RightOuter join with a streaming DataFrame/Dataset on the left and a static DataFrame/DataSet on the right not supported".to_string());
            }
            if left && right {
                return Err(stream_join_without_watermark(name));
            }
        }
        other => {
            if left || right {
                return Err(format!(
                    "Join type {} is not supported with streaming DataFrame/Dataset",
                    spark_join_type(other)
                ));
            }
        }
    }
    Ok(())
}

/// Whether a join has an equality between its two sides (in its keys, or a conjunct of its
/// condition, where the SQL planner leaves `ON a.x = b.y`).
fn has_equality(join: &Join) -> bool {
    use datafusion::logical_expr::utils::split_conjunction;
    use datafusion::logical_expr::{BinaryExpr, Operator};
    let side = |e: &Expr, plan: &LogicalPlan| {
        let columns = e.column_refs();
        !columns.is_empty() && columns.iter().all(|c| plan.schema().has_column(c))
    };
    !join.on.is_empty()
        || join.filter.as_ref().is_some_and(|filter| {
            split_conjunction(filter).into_iter().any(|conjunct| {
                matches!(conjunct, Expr::BinaryExpr(BinaryExpr { left, op: Operator::Eq, right })
                    if (side(left, &join.left) && side(right, &join.right))
                        || (side(left, &join.right) && side(right, &join.left)))
            })
        })
}

/// Spark's refusal of an outer or semi stream-stream join: kindling has no watermarks, so no
/// such join has one in its keys or a range condition on it.
fn stream_join_without_watermark(join_type: &str) -> String {
    format!(
        "Stream-stream {join_type} join between two streaming DataFrame/Datasets is not supported without a watermark in the join keys, or a watermark on the nullable side and an appropriate range condition"
    )
}

/// Spark's name of a join type (`JoinType.toString`).
fn spark_join_type(join_type: JoinType) -> &'static str {
    match join_type {
        JoinType::Inner => "Inner",
        JoinType::Left => "LeftOuter",
        JoinType::Right => "RightOuter",
        JoinType::Full => "FullOuter",
        JoinType::LeftSemi => "LeftSemi",
        JoinType::LeftAnti => "LeftAnti",
        JoinType::RightSemi => "RightSemi",
        JoinType::RightAnti => "RightAnti",
        JoinType::LeftMark => "LeftMark",
        JoinType::RightMark => "RightMark",
    }
}

/// Spark's name of an output mode in messages (`Append`, `Update`, `Complete`).
fn spark_mode_name(mode: OutputMode) -> &'static str {
    match mode {
        OutputMode::Append => "Append",
        OutputMode::Update => "Update",
        OutputMode::Complete => "Complete",
    }
}

/// Spark's `[NON_TIME_WINDOW_NOT_SUPPORTED_IN_STREAMING]` for the window functions of
/// `window`, named by the column `parent` gives each.
fn non_time_window(
    window: &datafusion::logical_expr::logical_plan::Window,
    parent: Option<&LogicalPlan>,
) -> String {
    let mut functions = Vec::new();
    let mut columns = Vec::new();
    let mut specs = Vec::new();
    for expr in &window.window_expr {
        let inner = match expr {
            Expr::Alias(a) => a.expr.as_ref(),
            e => e,
        };
        let Expr::WindowFunction(f) = inner else {
            continue;
        };
        let args: Vec<String> = f.params.args.iter().map(spark_text).collect();
        functions.push(format!(
            "{}({})",
            f.fun.name().to_ascii_uppercase(),
            args.join(", ")
        ));
        let name = expr.schema_name().to_string();
        columns.push(column_name(parent, &name).unwrap_or(name));
        specs.push(window_spec(f));
    }
    // Spark's parameters: the functions upper-cased, the columns as quoted identifiers, the
    // specifications upper-cased, each list joined by ",".
    let columns: Vec<String> = columns
        .iter()
        .map(|c| format!("`{}`", c.replace('`', "``")))
        .collect();
    format!(
        "[NON_TIME_WINDOW_NOT_SUPPORTED_IN_STREAMING] Window function is not supported in {} (as column {}) on streaming DataFrames/Datasets.\nStructured Streaming only supports time-window aggregation using the WINDOW function. (window specification: {}) SQLSTATE: 42KDE",
        functions.join(","),
        columns.join(","),
        specs.join(",")
    )
}

/// An argument as Spark's `toString` prints it, upper-cased: a literal's value, a column's
/// name.
fn spark_text(expr: &Expr) -> String {
    match expr {
        Expr::Literal(value, _) => value.to_string(),
        Expr::Column(c) => c.name.clone(),
        Expr::Alias(a) => spark_text(&a.expr),
        other => other.schema_name().to_string(),
    }
    .to_ascii_uppercase()
}

/// The name the projection `parent` gives window column `name` (its alias).
fn column_name(parent: Option<&LogicalPlan>, name: &str) -> Option<String> {
    let Some(LogicalPlan::Projection(projection)) = parent else {
        return None;
    };
    projection.expr.iter().find_map(|e| match e {
        Expr::Alias(a) if matches!(a.expr.as_ref(), Expr::Column(c) if c.name == name) => {
            Some(a.name.clone())
        }
        _ => None,
    })
}

/// A window's specification as Spark prints it: `(PARTITION BY ... ORDER BY ... frame)`.
fn window_spec(f: &datafusion::logical_expr::expr::WindowFunction) -> String {
    let p = &f.params;
    let mut parts = Vec::new();
    if !p.partition_by.is_empty() {
        let keys: Vec<String> = p.partition_by.iter().map(|e| e.to_string()).collect();
        parts.push(format!("PARTITION BY {}", keys.join(", ")));
    }
    if !p.order_by.is_empty() {
        let keys: Vec<String> = p
            .order_by
            .iter()
            .map(|s| {
                format!(
                    "{} {} NULLS {}",
                    s.expr,
                    if s.asc { "ASC" } else { "DESC" },
                    if s.nulls_first { "FIRST" } else { "LAST" }
                )
            })
            .collect();
        parts.push(format!("ORDER BY {}", keys.join(", ")));
    }
    parts.push(p.window_frame.to_string().to_ascii_uppercase());
    format!("({})", parts.join(" ")).to_ascii_uppercase()
}

/// Spark's `checkStreamingQueryGlobalWatermarkLimit`: in update and complete mode, no
/// stateful operator may be fed by an aggregation.
fn global_watermark(plan: &LogicalPlan, mode: OutputMode) -> Result<(), String> {
    if mode == OutputMode::Append {
        return Ok(());
    }
    let fed_by_aggregation = |op: &LogicalPlan| {
        op.inputs()
            .into_iter()
            .any(|input| contains(input, &|p| is_aggregation(p) && is_streaming(p)))
    };
    if contains(plan, &|p| is_stateful(p) && fed_by_aggregation(p)) {
        return Err(GLOBAL_WATERMARK_CORRECTNESS.to_string());
    }
    Ok(())
}

/// Spark's `isStatefulOperation` for the operators kindling plans: aggregations and
/// stream-stream joins (`dropDuplicates` counts only with an event-time key).
fn is_stateful(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Join(join) => is_streaming(&join.left) && is_streaming(&join.right),
        p => is_aggregation(p) && is_streaming(p),
    }
}

/// What Spark runs but kindling cannot run with Spark's answer yet.
fn kindling_limits(plan: &LogicalPlan, mode: OutputMode) -> Result<(), String> {
    if contains(
        plan,
        &|p| matches!(p, LogicalPlan::Join(j) if is_streaming(&j.left) && is_streaming(&j.right)),
    ) {
        return Err("stream-stream joins (a stream joined with itself or with another stream) are not supported yet: Spark keeps both sides in state, and joining each micro-batch's rows alone would miss matches across batches. Join the stream with a static table (VALUES) instead".to_string());
    }
    if contains(plan, &|p| {
        set_operation(p) == Some(SetOp::ExceptAll) && is_streaming(p)
    }) {
        return Err(
            "EXCEPT ALL over a stream is not supported; use EXCEPT (distinct rows) instead"
                .to_string(),
        );
    }
    if contains(plan, &|p| {
        matches!(p, LogicalPlan::RecursiveQuery(_)) && is_streaming(p)
    }) {
        return Err("a recursive query (WITH RECURSIVE) over a stream is not supported; keep the recursion over static tables".to_string());
    }
    let mut stateful = Vec::new();
    let _ = plan.apply(|p| {
        if is_streaming(p) {
            match p {
                LogicalPlan::Aggregate(_) => stateful.push("an aggregation"),
                LogicalPlan::Distinct(Distinct::All(_)) => stateful.push("a DISTINCT"),
                LogicalPlan::Distinct(Distinct::On(_)) => stateful.push("dropDuplicates"),
                _ => {}
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if stateful.len() > 1 {
        return Err(format!(
            "this query has {} over the stream, and kindling keeps the state of one stateful operator per query; split it into two jobs (the first writing to Kafka or files) or run it on Spark",
            stateful.join(" and ")
        ));
    }
    if contains(
        plan,
        &|p| matches!(p, LogicalPlan::Aggregate(a) if is_streaming(p) && a.group_expr.iter().any(|e| matches!(e, Expr::GroupingSet(_)))),
    ) {
        return Err(
            "GROUPING SETS, CUBE and ROLLUP are not supported in streaming aggregations yet; write one GROUP BY per grouping (one job each)"
                .to_string(),
        );
    }
    streaming_limits(plan, mode)
}

/// A `LIMIT` over a stream runs as Spark's streaming limit (a count kept across batches) only
/// at the top of a query without aggregation; over an aggregation it needs complete mode
/// (where it limits the whole result table each batch).
fn streaming_limits(plan: &LogicalPlan, mode: OutputMode) -> Result<(), String> {
    let top = top_operator(plan);
    let mut misplaced = false;
    let _ = plan.apply(|p| {
        if let LogicalPlan::Limit(limit) = p
            && is_streaming(p)
        {
            let over_aggregation = contains(&limit.input, &|q| stateful_aggregation(q));
            let allowed = if over_aggregation {
                mode == OutputMode::Complete
            } else {
                std::ptr::eq(p, top)
                    && !contains(plan, &|q| stateful_aggregation(q))
                    && matches!(limit.get_fetch_type(), Ok(FetchType::Literal(_)))
            };
            if !allowed {
                misplaced = true;
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    if misplaced {
        return Err("a LIMIT over a stream is supported only as the last operation of a query that keeps no state (Spark's streaming limit, counted across batches), or over an aggregation in complete mode, with a literal count in both; this one is elsewhere".to_string());
    }
    Ok(())
}

/// The first node of `plan` below its projections and aliases.
pub(crate) fn top_operator(plan: &LogicalPlan) -> &LogicalPlan {
    match plan {
        LogicalPlan::Projection(p) => top_operator(&p.input),
        LogicalPlan::SubqueryAlias(s) => top_operator(&s.input),
        other => other,
    }
}

fn stateful_aggregation(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::Aggregate(_) | LogicalPlan::Distinct(_)) && is_streaming(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_spark_or_kindling() {
        assert_eq!(Refusal::Spark("x".into()).to_string(), "x");
        assert!(
            Refusal::Kindling("y".into())
                .to_string()
                .starts_with("kindling cannot run this query as Spark does: y")
        );
    }
}
