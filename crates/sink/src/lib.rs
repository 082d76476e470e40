//! Outputs: the [`Sink`] trait (Spark's `Sink`, called once per batch with its id) and
//! [`build_sink`] for `console`, `memory`, the file formats and `kafka`.

pub mod command;
pub mod console;
pub mod file;
pub mod foreach_batch;
pub mod http;
pub mod kafka;
pub mod memory;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use foreach_batch::HookPlan;
use kindling_core::error::{Error, Result};
use kindling_core::options::Options;
use kindling_core::output_mode::OutputMode;

/// What [`build_sink`] needs of a `[sink]`: its format, options and (for `foreach_batch`)
/// hooks.
#[derive(Debug, Clone, Copy)]
pub struct SinkConfig<'a> {
    /// The sink format, e.g. `console`.
    pub format: &'a str,
    /// Its options.
    pub options: &'a Options,
    /// `foreach_batch`'s functions, in order.
    pub hooks: &'a [HookPlan],
}
use memory::MemoryTables;

/// An output (Spark's `Sink`). `add_batch` must be idempotent per `batch_id`: after a crash
/// the engine replays the last uncommitted batch with identical input.
#[async_trait]
pub trait Sink: Send + Sync {
    /// A description for progress (`sink.description`).
    fn name(&self) -> &str;
    /// Writes one batch's result rows (already shaped by the output mode).
    async fn add_batch(
        &self,
        batch_id: u64,
        output_mode: OutputMode,
        batches: &[RecordBatch],
    ) -> Result<()>;
}

/// The sink formats kindling knows.
pub const SINK_FORMATS: &[&str] = &[
    "console",
    "memory",
    "json",
    "csv",
    "text",
    "parquet",
    "kafka",
    "foreach_batch",
];

/// Whether a sink of `format` accepts `mode`; Spark's message when not.
pub fn check_output_mode(format: &str, mode: OutputMode) -> std::result::Result<(), String> {
    if file::FileFormat::parse(format).is_some() && mode != OutputMode::Append {
        let mode = match mode {
            OutputMode::Update => "Update",
            OutputMode::Complete => "Complete",
            OutputMode::Append => "Append",
        };
        return Err(format!(
            "Data source {format} does not support {mode} output mode"
        ));
    }
    Ok(())
}

/// Whether a sink of `format` may run without a `checkpointLocation`, on a temporary
/// checkpoint deleted at the end: console, memory and foreach_batch.
pub fn allows_temporary_checkpoint(format: &str) -> bool {
    matches!(format, "console" | "memory" | "foreach_batch")
}

/// Builds the sink of `plan` for results of `schema`; `query_name` names memory tables.
pub fn build_sink(
    plan: SinkConfig<'_>,
    schema: SchemaRef,
    query_name: &str,
    memory: &MemoryTables,
) -> Result<Box<dyn Sink>> {
    match plan.format {
        "console" => Ok(Box::new(console::ConsoleSink::try_new(
            plan.options,
            schema,
        )?)),
        "memory" => Ok(Box::new(memory::MemorySink::try_new(
            plan.options,
            schema,
            query_name,
            memory.clone(),
        )?)),
        "kafka" => Ok(Box::new(kafka::KafkaSink::try_new(plan.options, &schema)?)),
        "foreach_batch" => Ok(Box::new(foreach_batch::ForeachBatchSink::from_plans(
            plan.hooks,
        )?)),
        other => match file::FileFormat::parse(other) {
            Some(format) => Ok(Box::new(file::FileSink::try_new(
                format,
                plan.options,
                &schema,
            )?)),
            None => Err(Error::InvalidOption {
                owner: "sink".to_string(),
                key: "format".to_string(),
                value: other.to_string(),
                message: format!(
                    "unknown sink format; expected one of: {}",
                    SINK_FORMATS.join(", ")
                ),
            }),
        },
    }
}
