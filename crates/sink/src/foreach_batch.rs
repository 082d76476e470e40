//! The `foreach_batch` sink (PySpark's `foreachBatch(func)`): calls its [`BatchHook`]s, in
//! order, with each batch's id and result rows (after the output mode is applied). A replayed
//! batch calls them again with the same id and rows, so a hook must tolerate seeing a batch
//! twice. Hooks: the DataFrame API's Rust closure ([`ClosureHook`]), an HTTP POST
//! ([`super::http::HttpHook`]) and a program run per batch ([`super::command::CommandHook`]).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use futures::future::BoxFuture;

use super::Sink;
use kindling_core::error::Result;
use kindling_core::output_mode::OutputMode;

/// A validated `[[sink.hooks]]` entry: one foreachBatch function.
#[derive(Debug, Clone, PartialEq)]
pub enum HookPlan {
    /// POST the batch's first `top` rows to `url`.
    Http {
        /// The receiver, `http://host:port/path`.
        url: String,
        /// Rows sent.
        top: usize,
        /// The body's shape.
        body: HttpBody,
        /// What a receiver that stays down does to the query.
        on_error: OnError,
        /// One request's time limit.
        timeout: std::time::Duration,
        /// Attempts after the first.
        retries: u32,
    },
    /// Run a program with the rows as JSON lines on stdin.
    Command {
        /// The program and its arguments.
        argv: Vec<String>,
        /// What a failing run does to the query.
        on_error: OnError,
    },
}

/// The body an `http` hook sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpBody {
    /// The tutorial's form fields: per column, `str()` of a Python list of `str()` values.
    Form,
    /// `{"batchId": n, "rows": [{...}, ...]}`.
    Json,
}

/// What a failing hook does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Fail the batch, and so the query.
    Fail,
    /// Log it and go on.
    Log,
}

/// A foreachBatch function: `(batch_df, batch_id)`.
pub type BatchFn = Arc<dyn Fn(DataFrame, u64) -> BoxFuture<'static, Result<()>> + Send + Sync>;

/// One function a `foreach_batch` sink calls per batch.
#[async_trait]
pub trait BatchHook: Send + Sync {
    /// Handles one batch's rows; an error fails the batch.
    async fn call(&self, batch_id: u64, batches: &[RecordBatch]) -> Result<()>;
}

/// Calls its hooks with each batch.
pub struct ForeachBatchSink {
    hooks: Vec<Box<dyn BatchHook>>,
}

impl ForeachBatchSink {
    /// A sink calling `function` with result rows of `schema` (the DataFrame API), each
    /// batch a DataFrame of `ctx` (the session's Spark SQL context).
    pub fn new(schema: SchemaRef, function: BatchFn, ctx: SessionContext) -> Self {
        ForeachBatchSink {
            hooks: vec![Box::new(ClosureHook {
                schema,
                function,
                ctx,
            })],
        }
    }

    /// A sink calling `hooks`, in order.
    pub fn with_hooks(hooks: Vec<Box<dyn BatchHook>>) -> Self {
        ForeachBatchSink { hooks }
    }

    /// A sink calling the hooks a job file lists.
    pub fn from_plans(hooks: &[HookPlan]) -> Result<Self> {
        let hooks = hooks
            .iter()
            .map(|plan| -> Result<Box<dyn BatchHook>> {
                Ok(match plan {
                    HookPlan::Http { .. } => Box::new(super::http::HttpHook::try_new(plan)?),
                    HookPlan::Command { argv, on_error } => {
                        Box::new(super::command::CommandHook::new(argv.clone(), *on_error))
                    }
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ForeachBatchSink { hooks })
    }
}

#[async_trait]
impl Sink for ForeachBatchSink {
    fn name(&self) -> &str {
        "ForeachBatchSink"
    }

    async fn add_batch(
        &self,
        batch_id: u64,
        _output_mode: OutputMode,
        batches: &[RecordBatch],
    ) -> Result<()> {
        for hook in &self.hooks {
            hook.call(batch_id, batches).await?;
        }
        Ok(())
    }
}

/// The DataFrame API's closure, given each batch as a DataFusion `DataFrame`.
pub struct ClosureHook {
    schema: SchemaRef,
    function: BatchFn,
    /// The session the batch DataFrames belong to, built once (it registers every function).
    ctx: SessionContext,
}

#[async_trait]
impl BatchHook for ClosureHook {
    async fn call(&self, batch_id: u64, batches: &[RecordBatch]) -> Result<()> {
        // The rows carry the physical plan's schema, which may differ from the logical one in
        // nullability; the batch's own schema is the one that fits.
        let schema = batches
            .first()
            .map(|b| b.schema())
            .unwrap_or_else(|| Arc::clone(&self.schema));
        let table = MemTable::try_new(schema, vec![batches.to_vec()])?;
        let df = self.ctx.read_table(Arc::new(table))?;
        (self.function)(df, batch_id).await
    }
}
