//! [`BatchSlot`]: a table whose rows are swapped before each run of a physical plan, so a
//! query is planned once and re-executed per micro-batch over that batch's rows.

use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;

use kindling_core::error::Result;

/// The rows a plan reads on its next execution.
#[derive(Debug, Default)]
pub struct BatchSlot {
    batches: Mutex<Vec<RecordBatch>>,
}

impl BatchSlot {
    /// Sets the rows the next execution reads.
    pub fn set(&self, batches: Vec<RecordBatch>) {
        *self.batches.lock().unwrap_or_else(|p| p.into_inner()) = batches;
    }

    fn get(&self) -> Vec<RecordBatch> {
        self.batches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[derive(Debug)]
struct SlotPartition {
    schema: SchemaRef,
    slot: Arc<BatchSlot>,
}

impl PartitionStream for SlotPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batches = self.slot.get();
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            futures::stream::iter(batches.into_iter().map(Ok)),
        ))
    }
}

/// A table provider reading whatever `slot` holds at execution time.
pub fn slot_table(schema: SchemaRef, slot: Arc<BatchSlot>) -> Result<Arc<dyn TableProvider>> {
    let partition = Arc::new(SlotPartition {
        schema: Arc::clone(&schema),
        slot,
    });
    Ok(Arc::new(StreamingTable::try_new(schema, vec![partition])?))
}
