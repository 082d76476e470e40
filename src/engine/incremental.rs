//! [`IncrementalPlan`]: a streaming query planned once and run per micro-batch.
//!
//! A stateless query is one physical plan over the batch. A query with an aggregation is cut at
//! its `Aggregate`: below it, DataFusion computes the batch's partial aggregate (accumulator
//! state per key); kindling merges that into the [`StateTable`] with the aggregate's own
//! `GroupsAccumulator`s; above it, a second plan (projection, HAVING, ORDER BY, LIMIT) runs over
//! the changed keys (update mode) or all keys (complete mode).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_empty_array};
use datafusion::arrow::compute::{concat, concat_batches};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, TableReference};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{
    Distinct, EmitTo, Expr, GroupsAccumulator, LogicalPlan, LogicalPlanBuilder,
};
use datafusion::physical_expr::GroupsAccumulatorAdapter;
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, collect};
use datafusion::prelude::SessionContext;

use super::checkpoint::Checkpoint;
use super::output_mode::OutputMode;
use super::scan::{BatchSlot, slot_table};
use super::state::StateTable;
use super::state_store::StateStore;
use crate::error::{Error, Result};

/// The name under which the aggregate's output is scanned by the plan above it.
const AGG_TABLE: &str = "__kindling_aggregate";

/// What one batch produced.
#[derive(Debug, Default)]
pub struct BatchOutput {
    /// The rows the sink receives.
    pub batches: Vec<RecordBatch>,
    /// State metrics, for stateful queries.
    pub state: Option<StateMetrics>,
}

/// Spark's `stateOperators[]` progress entry, for kindling's one aggregation operator.
#[derive(Debug, Clone, Default)]
pub struct StateMetrics {
    /// Keys in the state.
    pub num_rows_total: u64,
    /// Keys this batch changed.
    pub num_rows_updated: u64,
    /// Bytes held by the state.
    pub memory_used_bytes: u64,
    /// Time to make the state durable, ms.
    pub commit_time_ms: u64,
}

/// A streaming query planned for repeated per-batch execution.
pub struct IncrementalPlan {
    ctx: SessionContext,
    input: Arc<BatchSlot>,
    kind: Kind,
}

enum Kind {
    Stateless {
        plan: Arc<dyn ExecutionPlan>,
        /// Spark's `StreamingGlobalLimit`: rows still allowed across all batches.
        remaining: Option<usize>,
    },
    Aggregate(Box<Aggregation>),
}

struct Aggregation {
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

impl IncrementalPlan {
    /// Plans `logical` (unoptimized, already checked against the output mode) whose source
    /// table reads `input`.
    pub async fn try_new(
        ctx: &SessionContext,
        logical: &LogicalPlan,
        input: Arc<BatchSlot>,
    ) -> Result<Self> {
        let state = ctx.state();
        let optimized = state.optimize(logical)?;
        let kind = match find_aggregate(&optimized) {
            None => Kind::Stateless {
                plan: state.create_physical_plan(&optimized).await?,
                remaining: global_limit(logical),
            },
            Some(aggregate) => {
                let mut aggregation = Aggregation::try_new(ctx, &optimized, aggregate).await?;
                aggregation.deduplicate = contains_deduplication(logical);
                Kind::Aggregate(Box::new(aggregation))
            }
        };
        Ok(IncrementalPlan {
            ctx: ctx.clone(),
            input,
            kind,
        })
    }

    /// True when the query keeps state across batches.
    pub fn is_stateful(&self) -> bool {
        matches!(self.kind, Kind::Aggregate(_))
    }

    /// Makes the state durable in `checkpoint` and, on a restart, loads it as of
    /// `version` (the last committed batch).
    pub fn attach_state(&mut self, checkpoint: &Checkpoint, version: Option<u64>) -> Result<()> {
        let Kind::Aggregate(agg) = &mut self.kind else {
            return Ok(());
        };
        let store = StateStore::open(
            checkpoint.state_dir(0)?,
            checkpoint.durable(),
            Arc::clone(&agg.state_schema),
        )?;
        if let Some(version) = version {
            store.load(version, &mut agg.state, agg.num_keys)?;
        }
        agg.store = Some(store);
        Ok(())
    }

    /// Drops state files no batch from `oldest` on needs.
    pub fn purge_state(&self, oldest: u64) -> Result<()> {
        match &self.kind {
            Kind::Aggregate(agg) => agg.store.as_ref().map_or(Ok(()), |s| s.purge(oldest)),
            Kind::Stateless { .. } => Ok(()),
        }
    }

    /// Runs batch `batch_id` over `rows`, producing what a sink in `mode` receives.
    pub async fn run_batch(
        &mut self,
        rows: Vec<RecordBatch>,
        mode: OutputMode,
        batch_id: u64,
    ) -> Result<BatchOutput> {
        self.input.set(rows);
        let task = self.ctx.task_ctx();
        let output = match &mut self.kind {
            Kind::Stateless { plan, remaining } => {
                let mut batches = collect(reset_plan_states(Arc::clone(plan))?, task).await?;
                if let Some(remaining) = remaining {
                    batches = take_rows(batches, remaining);
                }
                BatchOutput {
                    batches,
                    state: None,
                }
            }
            Kind::Aggregate(agg) => agg.run_batch(&self.ctx, mode, batch_id).await?,
        };
        self.input.set(Vec::new());
        Ok(output)
    }
}

impl Aggregation {
    async fn try_new(
        ctx: &SessionContext,
        optimized: &LogicalPlan,
        aggregate: &LogicalPlan,
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
        Ok(Aggregation {
            partial,
            exprs,
            num_keys,
            state_widths,
            state: StateTable::try_new(&key_types)?,
            output_schema,
            output,
            post,
            deduplicate: false,
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

    async fn run_batch(
        &mut self,
        ctx: &SessionContext,
        mode: OutputMode,
        batch_id: u64,
    ) -> Result<BatchOutput> {
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

        // The aggregate's output rows this batch: changed keys (update) or all keys (complete).
        let agg_rows = match mode {
            OutputMode::Complete => self.state.all_live()?.map(|cols| {
                let state_cols: usize = self.state_widths.iter().sum();
                let mut out = cols[..self.num_keys].to_vec();
                out.extend_from_slice(&cols[self.num_keys + state_cols..]);
                out
            }),
            _ if self.deduplicate => {
                let mask = datafusion::arrow::array::BooleanArray::from(first_seen);
                let cols: Vec<ArrayRef> = keys.into_iter().chain(values).collect();
                Some(
                    cols.iter()
                        .map(|c| datafusion::arrow::compute::filter(c, &mask))
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
                num_rows_updated: n as u64,
                memory_used_bytes: self.state.memory_used_bytes() as u64,
                commit_time_ms,
            }),
        })
    }
}

/// Whether the query deduplicates (`dropDuplicates`, `Distinct::On`; SQL's `DISTINCT` is an
/// aggregation), which the optimizer turns into an aggregation.
fn contains_deduplication(plan: &LogicalPlan) -> bool {
    matches!(plan, LogicalPlan::Distinct(Distinct::On(d)) if super::checker::is_streaming(&d.input))
        || plan.inputs().into_iter().any(contains_deduplication)
}

/// The query's streaming aggregation, if any (the checker has already refused more than one);
/// an aggregation of static rows (a `VALUES` table joined to the stream) is part of the plan
/// around it, computed afresh each batch.
fn find_aggregate(plan: &LogicalPlan) -> Option<&LogicalPlan> {
    if matches!(plan, LogicalPlan::Aggregate(a) if super::checker::is_streaming(&a.input)) {
        return Some(plan);
    }
    plan.inputs().into_iter().find_map(find_aggregate)
}

/// The topmost `AggregateExec` below `plan` (the final one; its input is the partial one,
/// or it is a single-stage aggregate).
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

/// A `LIMIT n` at the top of a stateless query (under projections): Spark applies it across
/// the whole stream in append mode. The checker refuses a limit anywhere else.
fn global_limit(plan: &LogicalPlan) -> Option<usize> {
    match super::checker::top_operator(plan) {
        LogicalPlan::Limit(limit) => match limit.get_fetch_type() {
            Ok(datafusion::logical_expr::FetchType::Literal(n)) => n,
            _ => None,
        },
        _ => None,
    }
}

/// Keeps at most `*remaining` rows of `batches`, counting them off.
fn take_rows(batches: Vec<RecordBatch>, remaining: &mut usize) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    for batch in batches {
        if *remaining == 0 {
            break;
        }
        let take = batch.num_rows().min(*remaining);
        *remaining -= take;
        out.push(batch.slice(0, take));
    }
    out
}
