//! [`StreamingAggregation`]: one streaming aggregation, in two steps per batch. **Merge**: the
//! batch's partial aggregate (DataFusion's, per key) is merged into the [`StateTable`] with the
//! aggregate's own `GroupsAccumulator`s, old state first, and the changed keys are made durable.
//! **Emit**: the plan above the aggregate (projection, HAVING, ORDER BY, LIMIT) runs over the
//! changed keys (update mode), the keys seen first (deduplication) or all keys (complete mode).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, new_empty_array};
use datafusion::arrow::compute::{concat, concat_batches, filter};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, TableReference};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{EmitTo, Expr, GroupsAccumulator, LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_expr::GroupsAccumulatorAdapter;
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, collect};
use datafusion::prelude::SessionContext;

use super::incremental::{BatchOutput, StateMetrics};
use super::scan::{BatchSlot, slot_table};
use super::state::StateTable;
use super::state_store::StateStore;
use kindling_core::error::{Error, Result};
use kindling_core::output_mode::OutputMode;

/// The name under which the aggregate's output is scanned by the plan above it.
const AGG_TABLE: &str = "__kindling_aggregate";

/// A streaming aggregation with its state.
pub(super) struct StreamingAggregation {
    partial: Arc<dyn ExecutionPlan>,
    exprs: Vec<Arc<AggregateFunctionExpr>>,
    num_keys: usize,
    /// Number of state columns of each aggregate, in order.
    state_widths: Vec<usize>,
    state: StateTable,
    output_schema: SchemaRef,
    output: Arc<BatchSlot>,
    post: Arc<dyn ExecutionPlan>,
    /// `SELECT DISTINCT` / `dropDuplicates()`: Spark's streaming deduplication, which emits a
    /// row the first time it is seen and never again.
    deduplicate: bool,
    /// The state's chunk schema: keys, accumulator states, final values.
    state_schema: SchemaRef,
    /// Where the state is made durable, once attached to a checkpoint.
    store: Option<StateStore>,
}

/// What the merge step of one batch hands to the emit step: the keys the batch touched, with
/// their new values.
pub(super) struct Merged {
    keys: Vec<ArrayRef>,
    values: Vec<ArrayRef>,
    /// Per key: whether this batch saw it first (deduplication emits only those).
    first_seen: Vec<bool>,
    commit_time_ms: u64,
}

impl StreamingAggregation {
    /// Plans `aggregate` (a node of `optimized`, the whole query) as a streaming aggregation;
    /// `deduplicate` for `dropDuplicates`, which emits each key once.
    pub(super) async fn try_new(
        ctx: &SessionContext,
        optimized: &LogicalPlan,
        aggregate: &LogicalPlan,
        deduplicate: bool,
    ) -> Result<Self> {
        let state = ctx.state();
        let physical = state.create_physical_plan(aggregate).await?;
        let found = find_first_aggregate_exec(&physical).ok_or_else(|| {
            Error::internal("no aggregate in the physical plan of an aggregation")
        })?;
        if !found.group_expr().is_single() {
            return Err(Error::internal(
                "a GROUPING SETS aggregation reached the incremental planner past the checker",
            ));
        }
        // The merge into the state takes one row per key, so the partial aggregate reads
        // its input as one partition (a UNION ALL below it has one per branch).
        let input: Arc<dyn ExecutionPlan> =
            if found.input().output_partitioning().partition_count() > 1 {
                Arc::new(CoalescePartitionsExec::new(Arc::clone(found.input())))
            } else {
                Arc::clone(found.input())
            };
        let partial: Arc<dyn ExecutionPlan> = Arc::new(AggregateExec::try_new(
            AggregateMode::Partial,
            found.group_expr().clone(),
            found.aggr_expr().to_vec(),
            found.filter_expr().to_vec(),
            input,
            found.input_schema(),
        )?);
        let exprs = found.aggr_expr().to_vec();
        let num_keys = found.group_expr().expr().len();
        let state_widths = exprs
            .iter()
            .map(|e| e.state_fields().map(|f| f.len()))
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let partial_schema = partial.schema();
        let key_types: Vec<_> = partial_schema.fields()[..num_keys]
            .iter()
            .map(|f| f.data_type().clone())
            .collect();

        // The aggregate's output as a table: its keys, then each aggregate's final value.
        let LogicalPlan::Aggregate(logical_agg) = aggregate else {
            return Err(Error::internal("expected an Aggregate node"));
        };
        let df_schema = logical_agg.schema.as_ref();
        let fields: Vec<Field> = df_schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect();
        let output_schema = Arc::new(Schema::new(fields));
        // Positional names: two aggregates may share state field names.
        let mut state_fields: Vec<Field> = key_types
            .iter()
            .enumerate()
            .map(|(i, t)| Field::new(format!("k{i}"), t.clone(), true))
            .collect();
        for (j, e) in exprs.iter().enumerate() {
            for (k, f) in e.state_fields()?.iter().enumerate() {
                state_fields.push(Field::new(format!("s{j}_{k}"), f.data_type().clone(), true));
            }
        }
        for (j, e) in exprs.iter().enumerate() {
            state_fields.push(Field::new(
                format!("v{j}"),
                e.field().data_type().clone(),
                true,
            ));
        }
        let state_schema = Arc::new(Schema::new(state_fields));
        let output = Arc::new(BatchSlot::default());
        let table = slot_table(Arc::clone(&output_schema), Arc::clone(&output))?;
        let restore: Vec<Expr> = df_schema
            .iter()
            .map(|(qualifier, field)| {
                Expr::Column(Column::new(
                    Some(TableReference::bare(AGG_TABLE)),
                    field.name(),
                ))
                .alias_qualified(qualifier.cloned(), field.name())
            })
            .collect();
        let replacement = LogicalPlanBuilder::scan(AGG_TABLE, provider_as_source(table), None)?
            .project(restore)?
            .build()?;
        let post_logical = optimized
            .clone()
            .transform_up(|node| {
                Ok(if node == *aggregate {
                    Transformed::yes(replacement.clone())
                } else {
                    Transformed::no(node)
                })
            })?
            .data;
        let post = state.create_physical_plan(&post_logical).await?;
        Ok(StreamingAggregation {
            partial,
            exprs,
            num_keys,
            state_widths,
            state: StateTable::try_new(&key_types)?,
            output_schema,
            output,
            post,
            deduplicate,
            state_schema,
            store: None,
        })
    }

    fn accumulator(expr: &Arc<AggregateFunctionExpr>) -> Result<Box<dyn GroupsAccumulator>> {
        if expr.groups_accumulator_supported() {
            Ok(expr.create_groups_accumulator()?)
        } else {
            let expr = Arc::clone(expr);
            Ok(Box::new(GroupsAccumulatorAdapter::new(move || {
                expr.create_accumulator()
            })))
        }
    }

    /// Makes the state durable in `dir` and, on a restart, loads it as of `version`.
    pub(super) fn attach(
        &mut self,
        dir: std::path::PathBuf,
        durable: bool,
        version: Option<u64>,
    ) -> Result<()> {
        let store = StateStore::open(dir, durable, Arc::clone(&self.state_schema))?;
        if let Some(version) = version {
            store.load(version, &mut self.state, self.num_keys)?;
        }
        self.store = Some(store);
        Ok(())
    }

    /// Drops state files no batch from `oldest` on needs.
    pub(super) fn purge(&self, oldest: u64) -> Result<()> {
        self.store.as_ref().map_or(Ok(()), |s| s.purge(oldest))
    }

    /// Merge: folds the batch's partial aggregate into the state (old state first, as
    /// Spark's `StateStoreRestoreExec` feeds the merge) and makes the changed keys durable as
    /// version `batch_id`.
    pub(super) async fn merge(&mut self, ctx: &SessionContext, batch_id: u64) -> Result<Merged> {
        let partial_batches = collect(
            reset_plan_states(Arc::clone(&self.partial))?,
            ctx.task_ctx(),
        )
        .await?;
        let partial = concat_batches(&self.partial.schema(), &partial_batches)?;
        let n = partial.num_rows();
        let keys: Vec<ArrayRef> = partial.columns()[..self.num_keys].to_vec();
        let lookup = self.state.lookup(&keys, n)?;
        let found: Vec<(usize, u32)> = lookup
            .existing
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.map(|g| (i, g)))
            .collect();
        // Old state of the keys already known, gathered as (keys, states, values) columns.
        let old = if found.is_empty() {
            None
        } else {
            Some(self.state.gather(found.iter().map(|(_, g)| *g))?)
        };
        let old_indices: Vec<usize> = found.iter().map(|(i, _)| *i).collect();
        let first_seen: Vec<bool> = lookup.existing.iter().map(Option::is_none).collect();
        let all_indices: Vec<usize> = (0..n).collect();
        let merge_indices: Vec<usize> = old_indices.iter().chain(&all_indices).copied().collect();

        let mut new_states: Vec<ArrayRef> = Vec::new();
        let mut values: Vec<ArrayRef> = Vec::new();
        let mut batch_col = self.num_keys;
        let mut old_col = self.num_keys;
        for (expr, width) in self.exprs.iter().zip(&self.state_widths) {
            if n == 0 {
                // An empty batch changes no key; some accumulators (the row-wise ones behind
                // a GroupsAccumulatorAdapter) cannot emit zero groups.
                new_states.extend_from_slice(&partial.columns()[batch_col..batch_col + width]);
                values.push(new_empty_array(expr.field().data_type()));
                batch_col += width;
                old_col += width;
                continue;
            }
            // The old state first, then the batch's rows, as Spark's StateStoreRestoreExec
            // feeds them to the merge: order-sensitive aggregates (`collect_list`, `first`)
            // see rows in arrival order across batches. One call, in which every group
            // appears, as DataFusion's accumulators expect of a call that adds groups.
            let mut acc = Self::accumulator(expr)?;
            let batch_states = &partial.columns()[batch_col..batch_col + width];
            match &old {
                Some(old) => {
                    let states = old[old_col..old_col + width]
                        .iter()
                        .zip(batch_states)
                        .map(|(o, b)| concat(&[o.as_ref(), b.as_ref()]))
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    acc.merge_batch(&states, &merge_indices, n)?;
                }
                None => acc.merge_batch(batch_states, &all_indices, n)?,
            }
            let merged = acc.state(EmitTo::All)?;
            let mut eval = Self::accumulator(expr)?;
            eval.merge_batch(&merged, &all_indices, n)?;
            values.push(eval.evaluate(EmitTo::All)?);
            new_states.extend(merged);
            batch_col += width;
            old_col += width;
        }
        let mut columns = keys.clone();
        columns.extend(new_states);
        columns.extend(values.iter().cloned());
        let delta = self.state.put(lookup, columns)?;
        let commit_start = std::time::Instant::now();
        if let Some(store) = &self.store {
            store.commit(batch_id, &delta, &self.state)?;
        }
        let commit_time_ms = commit_start.elapsed().as_millis() as u64;
        Ok(Merged {
            keys,
            values,
            first_seen,
            commit_time_ms,
        })
    }

    /// Emit: runs the plan above the aggregate over what the sink in `mode` receives this
    /// batch: the changed keys (update), the keys seen first (deduplication) or all keys
    /// (complete).
    pub(super) async fn emit(
        &mut self,
        ctx: &SessionContext,
        mode: OutputMode,
        merged: Merged,
    ) -> Result<BatchOutput> {
        let Merged {
            keys,
            values,
            first_seen,
            commit_time_ms,
        } = merged;
        let num_rows_updated = keys.first().map_or(0, |k| k.len()) as u64;
        let agg_rows = match mode {
            OutputMode::Complete => self.state.all_live()?.map(|cols| {
                let state_cols: usize = self.state_widths.iter().sum();
                let mut out = cols[..self.num_keys].to_vec();
                out.extend_from_slice(&cols[self.num_keys + state_cols..]);
                out
            }),
            _ if self.deduplicate => {
                let mask = BooleanArray::from(first_seen);
                let cols: Vec<ArrayRef> = keys.into_iter().chain(values).collect();
                Some(
                    cols.iter()
                        .map(|c| filter(c, &mask))
                        .collect::<std::result::Result<Vec<_>, _>>()?,
                )
            }
            _ => Some(keys.into_iter().chain(values).collect()),
        };
        let agg_batch = match agg_rows {
            Some(cols) if cols.first().is_some_and(|c| !c.is_empty()) => {
                vec![RecordBatch::try_new(Arc::clone(&self.output_schema), cols)?]
            }
            _ => Vec::new(),
        };
        self.output.set(agg_batch);
        let batches = collect(reset_plan_states(Arc::clone(&self.post))?, ctx.task_ctx()).await?;
        self.output.set(Vec::new());
        Ok(BatchOutput {
            batches,
            state: Some(StateMetrics {
                num_rows_total: self.state.len() as u64,
                num_rows_updated,
                memory_used_bytes: self.state.memory_used_bytes() as u64,
                commit_time_ms,
            }),
        })
    }
}

/// The `AggregateExec` that reads the aggregation's input: the partial one of a two-stage
/// aggregate (found below the final one), or the single-stage one.
fn find_first_aggregate_exec(plan: &Arc<dyn ExecutionPlan>) -> Option<&AggregateExec> {
    if let Some(agg) = plan.downcast_ref::<AggregateExec>() {
        return match agg.mode() {
            AggregateMode::Partial | AggregateMode::Single | AggregateMode::SinglePartitioned => {
                Some(agg)
            }
            _ => find_first_aggregate_exec(agg.input()),
        };
    }
    plan.children()
        .into_iter()
        .find_map(find_first_aggregate_exec)
}
