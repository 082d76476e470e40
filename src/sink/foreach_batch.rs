//! The `foreach_batch` sink with a Rust closure (PySpark's `foreachBatch(func)`): the closure
//! gets each batch's result rows as a DataFusion `DataFrame` and the batch id; a replayed
//! batch calls it again with the same id and rows.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use futures::future::BoxFuture;

use super::Sink;
use crate::engine::output_mode::OutputMode;
use crate::error::Result;

/// A foreachBatch function: `(batch_df, batch_id)`.
pub type BatchFn = Arc<dyn Fn(DataFrame, u64) -> BoxFuture<'static, Result<()>> + Send + Sync>;

/// Calls a [`BatchFn`] per batch.
pub struct ForeachBatchSink {
    schema: SchemaRef,
    function: BatchFn,
    /// The session the batch DataFrames belong to, built once (it registers every function).
    ctx: SessionContext,
}

impl ForeachBatchSink {
    /// A sink calling `function` with result rows of `schema`.
    pub fn try_new(schema: SchemaRef, function: BatchFn) -> Result<Self> {
        Ok(ForeachBatchSink {
            schema,
            function,
            ctx: crate::sql::new_session()?,
        })
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
