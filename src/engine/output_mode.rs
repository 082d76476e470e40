//! [`OutputMode`] and Spark's `UnsupportedOperationChecker` rules for which queries each mode
//! allows, with Spark's AnalysisException messages verbatim.

use datafusion::logical_expr::LogicalPlan;

/// Which rows of the result table a sink receives each batch (Spark's `OutputMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputMode {
    /// Only new rows, each emitted once (Spark's default).
    #[default]
    Append,
    /// Only the rows changed by this batch.
    Update,
    /// The whole result table every batch.
    Complete,
}

impl OutputMode {
    /// Parses `append`, `update` or `complete` (any case).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "append" => Ok(OutputMode::Append),
            "update" => Ok(OutputMode::Update),
            "complete" => Ok(OutputMode::Complete),
            _ => Err(format!(
                "invalid outputMode '{text}': expected append, update or complete"
            )),
        }
    }

    /// Spark's lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            OutputMode::Append => "append",
            OutputMode::Update => "update",
            OutputMode::Complete => "complete",
        }
    }
}

/// Spark's message for append mode over an aggregation without a watermark.
pub const APPEND_WITH_AGGREGATION: &str = "Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark";
/// Spark's message for complete mode without an aggregation.
pub const COMPLETE_WITHOUT_AGGREGATION: &str = "Complete output mode not supported when there are no streaming aggregations on streaming DataFrames/Datasets";
/// Spark's message for a sort that is not over a complete-mode aggregation.
pub const SORT_NOT_SUPPORTED: &str = "Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode";
/// Spark's message for a limit in update mode.
pub const LIMIT_IN_UPDATE: &str =
    "Limits are not supported on streaming DataFrames/Datasets in Update output mode";
/// Spark's message for chained stateful operators in update or complete mode.
pub const MULTIPLE_AGGREGATIONS: &str =
    "Multiple streaming aggregations are not supported with streaming DataFrames/Datasets";
/// Spark's message for `count(DISTINCT ...)` and friends in a streaming aggregation.
pub const DISTINCT_AGGREGATION: &str = "Distinct aggregations are not supported on streaming DataFrames/Datasets. Consider using approx_count_distinct() instead.";
/// Spark's message for `OFFSET` in a streaming query.
pub const OFFSET_NOT_SUPPORTED: &str = "Offset is not supported on streaming DataFrames/Datasets";

/// Checks `plan` (the optimized logical plan of a streaming query) against `mode` the way
/// Spark's checker does, returning Spark's message on the first violation.
pub fn check(plan: &LogicalPlan, mode: OutputMode) -> Result<(), &'static str> {
    let aggregates = count_aggregates(plan);
    if aggregates > 1 {
        return Err(MULTIPLE_AGGREGATIONS);
    }
    let has_aggregate = aggregates == 1;
    if has_distinct_aggregate(plan) {
        return Err(DISTINCT_AGGREGATION);
    }
    match mode {
        OutputMode::Append if has_aggregate => return Err(APPEND_WITH_AGGREGATION),
        OutputMode::Complete if !has_aggregate => return Err(COMPLETE_WITHOUT_AGGREGATION),
        _ => {}
    }
    walk(plan, mode)
}

fn has_distinct_aggregate(plan: &LogicalPlan) -> bool {
    use datafusion::common::tree_node::TreeNode;
    use datafusion::logical_expr::Expr;
    let own = match plan {
        LogicalPlan::Aggregate(agg) => agg.aggr_expr.iter().any(|e| {
            e.exists(|e| Ok(matches!(e, Expr::AggregateFunction(f) if f.params.distinct)))
                .unwrap_or(false)
        }),
        _ => false,
    };
    own || plan.inputs().into_iter().any(has_distinct_aggregate)
}

fn count_aggregates(plan: &LogicalPlan) -> usize {
    let own = usize::from(matches!(plan, LogicalPlan::Aggregate(_)));
    own + plan
        .inputs()
        .into_iter()
        .map(count_aggregates)
        .sum::<usize>()
}

/// A node "contains complete data" (Spark's term) when an aggregate is under it and the mode
/// is complete; only such nodes may sort.
fn walk(plan: &LogicalPlan, mode: OutputMode) -> Result<(), &'static str> {
    let complete_data = mode == OutputMode::Complete && count_aggregates(plan) > 0;
    match plan {
        LogicalPlan::Sort(_) if !complete_data => return Err(SORT_NOT_SUPPORTED),
        LogicalPlan::Limit(limit) => {
            if limit.skip.is_some() {
                return Err(OFFSET_NOT_SUPPORTED);
            }
            if mode == OutputMode::Update {
                return Err(LIMIT_IN_UPDATE);
            }
        }
        _ => {}
    }
    plan.inputs()
        .into_iter()
        .try_for_each(|input| walk(input, mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_modes() {
        assert_eq!(OutputMode::parse("Complete"), Ok(OutputMode::Complete));
        assert!(OutputMode::parse("upsert").is_err());
    }
}
