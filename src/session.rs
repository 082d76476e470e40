//! [`Session`]: the library entry point under the CLI. It plans a [`QueryPlan`] (SQL → checked
//! → incremental plan → sink), starts it on its own task and returns a [`StreamingQuery`].

use std::sync::Arc;

use crate::engine::incremental::IncrementalPlan;
use crate::engine::scan::{BatchSlot, slot_table};
use crate::engine::{self, QueryParts, StreamingQuery, checker};
use crate::error::{Error, Result};
use crate::job::{JobPlan, QueryPlan, QueryText};
use crate::sink::memory::MemoryTables;
use crate::sink::{SinkConfig, build_sink};
use crate::source::build_source;
use datafusion::arrow::datatypes::SchemaRef;

/// Starts streaming queries and holds what they share (memory tables).
///
/// ```no_run
/// # async fn demo() -> kindling::Result<()> {
/// let job = kindling::JobPlan::load("jobs/hashtag_ranking_demo.toml", &[])?;
/// let session = kindling::Session::new();
/// let mut query = session.start(&job.queries[0]).await?;
/// query.wait_for_batches(1).await;
/// println!("{:?}", query.last_progress());
/// query.stop();
/// query.await_termination().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default, Clone)]
pub struct Session {
    memory: MemoryTables,
}

impl Session {
    /// A session with no queries.
    pub fn new() -> Self {
        Session::default()
    }

    /// The memory sinks' tables, by query name.
    pub fn memory_tables(&self) -> &MemoryTables {
        &self.memory
    }

    /// Starts every query of `job` (one per sink); on an error none is left running.
    pub async fn start_job(&self, job: &JobPlan) -> Result<Vec<StreamingQuery>> {
        let mut started = Vec::with_capacity(job.queries.len());
        for query in &job.queries {
            started.push(self.start(query).await?);
        }
        Ok(started)
    }

    /// Plans and starts one query. Planning errors (SQL, output mode, options) come back
    /// here, before anything runs.
    pub async fn start(&self, query: &QueryPlan) -> Result<StreamingQuery> {
        self.start_into(query, None).await
    }

    /// Starts `query` writing to `sink` instead of the sink its plan names (the plan's output
    /// mode, trigger and checkpoint still apply).
    pub async fn start_with_sink(
        &self,
        query: &QueryPlan,
        sink: Box<dyn crate::sink::Sink>,
    ) -> Result<StreamingQuery> {
        self.start_into(query, Some(sink)).await
    }

    async fn start_into(
        &self,
        query: &QueryPlan,
        sink: Option<Box<dyn crate::sink::Sink>>,
    ) -> Result<StreamingQuery> {
        let input = self.open_source(&query.source)?;
        let sql = match &query.query {
            QueryText::Sql(sql) => sql.clone(),
            QueryText::Steps(steps) => {
                crate::sql::steps::to_sql(&input.ctx, &query.source.table, steps, &query.job)
                    .await?
            }
        };
        let logical = crate::sql::plan_query(&input.ctx, &sql, &query.job).await?;
        self.launch(input, logical, query, sink).await
    }

    /// Builds the source of `plan` and a SQL session in which it is a table.
    pub(crate) fn open_source(&self, plan: &crate::job::SourcePlan) -> Result<OpenSource> {
        let source = build_source(&plan.format, &plan.options)?;
        let ctx = crate::sql::new_session()?;
        let slot = Arc::new(BatchSlot::default());
        let provider = slot_table(source.schema(), Arc::clone(&slot))?;
        ctx.register_table(plan.table.as_str(), Arc::clone(&provider))?;
        Ok(OpenSource {
            source,
            ctx,
            slot,
            provider,
        })
    }

    /// Checks `logical` for the output mode, plans it for micro-batches, opens the sink (or
    /// takes `custom_sink`) and the checkpoint, and starts the query.
    pub(crate) async fn launch(
        &self,
        input: OpenSource,
        logical: datafusion::logical_expr::LogicalPlan,
        query: &QueryPlan,
        custom_sink: Option<Box<dyn crate::sink::Sink>>,
    ) -> Result<StreamingQuery> {
        let OpenSource {
            source, ctx, slot, ..
        } = input;
        let analysis = |message: String| Error::Analysis {
            job: query.job.clone(),
            message,
        };
        checker::check(&logical, query.sink.output_mode).map_err(|refusal| match refusal {
            checker::Refusal::Spark(message) => analysis(message),
            refusal @ checker::Refusal::Kindling(_) => Error::Unsupported {
                job: query.job.clone(),
                message: refusal.to_string(),
            },
        })?;
        let plan = IncrementalPlan::try_new(&ctx, &logical, slot).await?;
        crate::sink::check_output_mode(&query.sink.format, query.sink.output_mode)
            .map_err(analysis)?;
        if query.sink.checkpoint_location.is_none()
            && !crate::sink::allows_temporary_checkpoint(&query.sink.format)
        {
            return Err(analysis("checkpointLocation must be specified either through option(\"checkpointLocation\", ...) or SparkSession.conf.set(\"spark.sql.streaming.checkpointLocation\", ...)".to_string()));
        }
        let schema: SchemaRef = Arc::new(logical.schema().as_arrow().clone());
        let sink = match custom_sink {
            Some(sink) => sink,
            None => build_sink(
                SinkConfig {
                    format: &query.sink.format,
                    options: &query.sink.options,
                    hooks: &query.sink.hooks,
                },
                schema,
                &query.name,
                &self.memory,
            )?,
        };
        engine::start(QueryParts {
            name: query.name.clone(),
            source,
            plan,
            sink,
            output_mode: query.sink.output_mode,
            trigger: query.sink.trigger,
            checkpoint_location: query.sink.checkpoint_location.clone(),
            conf: query.conf.clone(),
        })
    }
}

/// A source with the SQL session it is registered in.
pub(crate) struct OpenSource {
    pub source: Box<dyn crate::source::MicroBatchSource>,
    pub ctx: datafusion::prelude::SessionContext,
    pub slot: Arc<BatchSlot>,
    pub provider: Arc<dyn datafusion::catalog::TableProvider>,
}
