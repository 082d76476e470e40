//! [`IncrementalPlan`]: a streaming query planned once and run per micro-batch, with the
//! state its operators keep across batches (an aggregation's keys, a global limit's count).
//!
//! A stateless query is one physical plan over the batch, cut to a `LIMIT` across batches
//! ([`GlobalLimit`]). A query with an aggregation runs as a [`StreamingAggregation`]: the
//! batch's partial aggregate merged into the state, then the plan above it over the result.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::logical_expr::{Distinct, LogicalPlan};
use datafusion::physical_plan::execution_plan::reset_plan_states;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::SessionContext;

use super::aggregation::StreamingAggregation;
use super::checkpoint::Checkpoint;
use super::limit::GlobalLimit;
use super::scan::BatchSlot;
use kindling_core::error::Result;
use kindling_core::output_mode::OutputMode;

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
        /// Spark's `StreamingGlobalLimit`, when the query ends in a `LIMIT`.
        limit: Option<Box<GlobalLimit>>,
    },
    Aggregate(Box<StreamingAggregation>),
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
                limit: global_limit(logical)
                    .map(|n| GlobalLimit::new(n).map(Box::new))
                    .transpose()?,
            },
            Some(aggregate) => Kind::Aggregate(Box::new(
                StreamingAggregation::try_new(
                    ctx,
                    &optimized,
                    aggregate,
                    contains_deduplication(logical),
                )
                .await?,
            )),
        };
        Ok(IncrementalPlan {
            ctx: ctx.clone(),
            input,
            kind,
        })
    }

    /// Makes the state durable in `checkpoint` and, on a restart, loads it as of
    /// `version` (the last committed batch).
    pub fn attach_state(&mut self, checkpoint: &Checkpoint, version: Option<u64>) -> Result<()> {
        let dir = || checkpoint.state_dir(0);
        match &mut self.kind {
            Kind::Aggregate(agg) => agg.attach(dir()?, checkpoint.durable(), version),
            Kind::Stateless {
                limit: Some(limit), ..
            } => limit.attach(dir()?, checkpoint.durable(), version),
            Kind::Stateless { limit: None, .. } => Ok(()),
        }
    }

    /// Drops state files no batch from `oldest` on needs.
    pub fn purge_state(&self, oldest: u64) -> Result<()> {
        match &self.kind {
            Kind::Aggregate(agg) => agg.purge(oldest),
            Kind::Stateless {
                limit: Some(limit), ..
            } => limit.purge(oldest),
            Kind::Stateless { limit: None, .. } => Ok(()),
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
            Kind::Stateless { plan, limit } => {
                let mut batches = collect(reset_plan_states(Arc::clone(plan))?, task).await?;
                if let Some(limit) = limit {
                    batches = limit.take(batches, batch_id)?;
                }
                BatchOutput {
                    batches,
                    state: None,
                }
            }
            Kind::Aggregate(agg) => {
                let merged = agg.merge(&self.ctx, batch_id).await?;
                agg.emit(&self.ctx, mode, merged).await?
            }
        };
        self.input.set(Vec::new());
        Ok(output)
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
