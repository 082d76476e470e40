//! The `memory` sink: keeps a query's result table in memory under the query name (Spark's
//! `MemorySink`), readable through [`MemoryTables`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use super::Sink;
use kindling_core::error::Result;
use kindling_core::options::Options;
use kindling_core::output_mode::OutputMode;

/// One memory table: its schema and rows.
#[derive(Debug, Clone)]
pub struct MemoryTable {
    /// The result schema.
    pub schema: SchemaRef,
    /// The rows, in arrival order.
    pub batches: Vec<RecordBatch>,
    /// The last batch id written, so replays are ignored.
    pub last_batch_id: Option<u64>,
}

/// Memory tables by query name, shared by a session (`kindling::Session`) and its memory sinks.
#[derive(Debug, Clone, Default)]
pub struct MemoryTables {
    tables: Arc<Mutex<HashMap<String, MemoryTable>>>,
}

impl MemoryTables {
    /// A copy of table `name`, if a memory sink created it.
    pub fn get(&self, name: &str) -> Option<MemoryTable> {
        self.tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// The schema of table `name`, if a memory sink created it (without copying its rows).
    pub fn schema(&self, name: &str) -> Option<SchemaRef> {
        self.tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .map(|t| Arc::clone(&t.schema))
    }

    /// The names of all memory tables.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    fn update(&self, name: &str, f: impl FnOnce(&mut MemoryTable)) {
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = tables.get_mut(name) {
            f(t);
        }
    }
}

/// Writes a query's results into a [`MemoryTables`] entry.
#[derive(Debug)]
pub struct MemorySink {
    name: String,
    tables: MemoryTables,
}

impl MemorySink {
    /// Creates (or resets) the table `query_name`.
    pub fn try_new(
        options: &Options,
        schema: SchemaRef,
        query_name: &str,
        tables: MemoryTables,
    ) -> Result<Self> {
        options.warn_unknown(&[]);
        tables
            .tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                query_name.to_string(),
                MemoryTable {
                    schema,
                    batches: Vec::new(),
                    last_batch_id: None,
                },
            );
        Ok(MemorySink {
            name: query_name.to_string(),
            tables,
        })
    }
}

#[async_trait]
impl Sink for MemorySink {
    fn name(&self) -> &str {
        "MemorySink"
    }

    async fn add_batch(
        &self,
        batch_id: u64,
        output_mode: OutputMode,
        batches: &[RecordBatch],
    ) -> Result<()> {
        self.tables.update(&self.name, |table| {
            if table.last_batch_id.is_some_and(|last| batch_id <= last) {
                return;
            }
            if output_mode == OutputMode::Complete {
                table.batches.clear();
            }
            table
                .batches
                .extend(batches.iter().filter(|b| b.num_rows() > 0).cloned());
            table.last_batch_id = Some(batch_id);
        });
        Ok(())
    }
}
