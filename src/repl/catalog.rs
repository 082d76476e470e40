//! The shell's tables: source views (`CREATE TEMPORARY VIEW .. USING`) and the memory tables
//! of background queries, as DataFusion tables whose rows are read when a batch query runs.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::job::SourcePlan;
use crate::options::Options;
use crate::sink::memory::MemoryTables;
use crate::source::{ReadLimit, SOURCE_FORMATS, build_source};

/// A source registered under a name: streamed by `FROM STREAM name`, read as it is now by a
/// plain `FROM name`.
#[derive(Debug, Clone)]
pub struct View {
    /// The source, with the view name as its table name.
    pub plan: SourcePlan,
    /// The rows' schema.
    pub schema: SchemaRef,
}

impl View {
    /// Checks the format and options by building the source once (nothing is read).
    pub fn try_new(name: &str, format: &str, options: &[(String, String)]) -> Result<Self> {
        if !SOURCE_FORMATS.contains(&format) {
            return Err(Error::InvalidOption {
                owner: format!("view '{name}'"),
                key: "USING".to_string(),
                value: format.to_string(),
                message: format!(
                    "unknown source format; expected one of: {}",
                    SOURCE_FORMATS.join(", ")
                ),
            });
        }
        let plan = SourcePlan {
            format: format.to_string(),
            table: name.to_string(),
            options: Options::from_pairs(
                format!("view '{name}' (USING {format})"),
                options.iter().cloned(),
            ),
        };
        let schema = build_source(&plan.format, &plan.options)?.schema();
        Ok(View { plan, schema })
    }

    /// A table whose every scan reads everything the source holds at that moment.
    pub fn snapshot_table(&self) -> Result<Arc<dyn TableProvider>> {
        table(
            Arc::clone(&self.schema),
            Contents::Source(self.plan.clone()),
        )
    }
}

/// The memory table of the background query `name`, read as it is when a query runs.
pub fn memory_table(
    name: &str,
    schema: SchemaRef,
    tables: MemoryTables,
) -> Result<Arc<dyn TableProvider>> {
    table(schema, Contents::Memory(name.to_string(), tables))
}

/// Where a shell table's rows come from.
#[derive(Debug, Clone)]
enum Contents {
    Source(SourcePlan),
    Memory(String, MemoryTables),
}

#[derive(Debug)]
struct SnapshotPartition {
    schema: SchemaRef,
    contents: Contents,
}

impl PartitionStream for SnapshotPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let contents = self.contents.clone();
        let rows = futures::stream::once(async move {
            match contents {
                Contents::Source(plan) => read_now(&plan).await,
                Contents::Memory(name, tables) => {
                    Ok(tables.get(&name).map(|t| t.batches).unwrap_or_default())
                }
            }
        })
        .flat_map(|read| {
            let items: Vec<datafusion::error::Result<RecordBatch>> = match read {
                Ok(batches) => batches.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(DataFusionError::External(Box::new(e)))],
            };
            futures::stream::iter(items)
        });
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            rows,
        ))
    }
}

fn table(schema: SchemaRef, contents: Contents) -> Result<Arc<dyn TableProvider>> {
    let partition = Arc::new(SnapshotPartition {
        schema: Arc::clone(&schema),
        contents,
    });
    Ok(Arc::new(StreamingTable::try_new(schema, vec![partition])?))
}

/// Everything `plan`'s source holds now, as a batch read does in Spark: a Kafka topic from
/// its earliest offsets (unless `startingOffsets` says otherwise) to its latest, all files of
/// a directory, all `totalRows` synthetic tweets.
async fn read_now(plan: &SourcePlan) -> Result<Vec<RecordBatch>> {
    let view = &plan.table;
    let mut options: Vec<(String, String)> = plan
        .options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    match plan.format.as_str() {
        "rate" => {
            return Err(Error::Usage(format!(
                "view '{view}' (USING rate) can only be streamed: the rate source has no rows at rest; read it with FROM STREAM {view}"
            )));
        }
        "tweets" => {
            if plan.options.get("totalRows").is_none() {
                return Err(Error::Usage(format!(
                    "view '{view}' (USING tweets) is paced by rowsPerSecond and has no rows at rest; read it with FROM STREAM {view}, or give the view a totalRows option to read them all"
                )));
            }
            // A batch read takes all rows at once, not at the stream's pace.
            options.retain(|(k, _)| !k.eq_ignore_ascii_case("rowsPerSecond"));
        }
        "kafka" if plan.options.get("startingOffsets").is_none() => {
            options.push(("startingOffsets".to_string(), "earliest".to_string()));
        }
        _ => {}
    }
    let plan = SourcePlan {
        options: Options::from_pairs(plan.options.owner().to_string(), options),
        ..plan.clone()
    };
    let mut source = build_source(&plan.format, &plan.options)?;
    // Sources that keep a log (the text source's file list) get a scratch directory.
    let scratch =
        tempfile::tempdir().map_err(|e| Error::io("creating a temporary directory", e))?;
    source.attach(crate::fs::MetadataLog::open(
        scratch.path().to_path_buf(),
        false,
    )?)?;
    source.prepare_available_now().await?;
    match source.latest_offset(None, ReadLimit::All).await? {
        Some(end) => source.read_batch(None, &end).await,
        None => Ok(Vec::new()),
    }
}
