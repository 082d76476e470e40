//! [`Session`]: the library entry point under the CLI. It plans a [`QueryPlan`] (SQL → checked
//! → incremental plan → sink), starts it on its own task and returns a [`StreamingQuery`].

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::engine::StreamingQuery;
use crate::engine::checker;
use crate::engine::checkpoint::Checkpoint;
use crate::engine::incremental::IncrementalPlan;
use crate::engine::micro_batch::MicroBatchExecution;
use crate::engine::query::QueryShared;
use crate::engine::scan::{BatchSlot, slot_table};
use crate::error::{Error, Result};
use crate::job::{JobPlan, QueryPlan, QueryText};
use crate::sink::build_sink;
use crate::sink::memory::MemoryTables;
use crate::source::build_source;

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
        let source = build_source(plan)?;
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
        let mut plan = IncrementalPlan::try_new(&ctx, &logical, slot).await?;
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
            None => build_sink(&query.sink, schema, &query.name, &self.memory)?,
        };
        let checkpoint = Checkpoint::open(query.sink.checkpoint_location.as_deref())?;
        let recovery = checkpoint.recover()?;
        let mut source = source;
        attach_source(&checkpoint, source.as_mut(), &recovery)?;
        plan.attach_state(&checkpoint, recovery.last_committed)?;
        let id = checkpoint.query_id();
        let shared = QueryShared::new();
        let (stop_tx, stop_rx) = watch::channel(false);
        let run_id = uuid::Uuid::new_v4();
        let execution = MicroBatchExecution {
            name: query.name.clone(),
            id: id.to_string(),
            run_id: run_id.to_string(),
            source,
            plan,
            sink,
            output_mode: query.sink.output_mode,
            trigger: query.sink.trigger,
            checkpoint,
            recovery,
            conf: query.conf.clone(),
            shared: Arc::clone(&shared),
            stop: stop_rx,
        };
        let mut task = JoinSet::new();
        task.spawn(execution.run());
        Ok(StreamingQuery::new(
            id,
            run_id,
            query.name.clone(),
            shared,
            stop_tx,
            task,
        ))
    }
}

/// A source with the SQL session it is registered in.
pub(crate) struct OpenSource {
    pub source: Box<dyn crate::source::MicroBatchSource>,
    pub ctx: datafusion::prelude::SessionContext,
    pub slot: Arc<BatchSlot>,
    pub provider: Arc<dyn datafusion::catalog::TableProvider>,
}

/// Connects the source to its checkpoint directory: refuses a checkpoint written for another
/// source (Spark forbids changing the source or its topics), restores the source's own log and
/// hands it the last committed offset.
fn attach_source(
    checkpoint: &Checkpoint,
    source: &mut dyn crate::source::MicroBatchSource,
    recovery: &crate::engine::checkpoint::Recovery,
) -> Result<()> {
    let dir = checkpoint.source_dir(0)?;
    let identity = source.identity();
    let path = dir.join("_source");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let found: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
                    path: path.clone(),
                    message: format!(
                        "the source's identity is not JSON ({e}); the checkpoint is damaged: restore it or use a new checkpointLocation"
                    ),
                })?;
            if found != identity {
                return Err(Error::IncompatibleRestart {
                    path: checkpoint.dir().to_path_buf(),
                    message: format!(
                        "its source was {found} and this job reads {identity}; Spark does not allow changing the source of a checkpointed query: use a new checkpointLocation"
                    ),
                });
            }
        }
        Err(_) => crate::engine::checkpoint::write_atomically(
            &path,
            identity.to_string().as_bytes(),
            checkpoint.durable(),
        )?,
    }
    source.attach(&dir, checkpoint.durable())?;
    let last_logged = recovery
        .pending
        .as_ref()
        .map(|(_, end)| end)
        .or(recovery.committed_end.as_ref());
    if let Some(end) = last_logged {
        source.resume_from(end)?;
    }
    Ok(())
}
