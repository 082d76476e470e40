//! Replayable inputs: the [`MicroBatchSource`] trait (Spark's `Source` with admission control)
//! and [`build_source`], which turns a validated `[source]` into one of `text`, `tweets`,
//! `rate` or `kafka`.

pub mod kafka;
pub mod rate;
pub mod text;
pub mod tweets;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use kindling_core::error::{Error, Result};
use kindling_core::options::Options;

/// A source's position, as the JSON Spark writes to `offsets/<batchId>`; each source defines
/// its own shape. A batch reads the records in `(start, end]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceOffset(pub serde_json::Value);

impl std::fmt::Display for SourceOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How much a batch may take (Spark's `ReadLimit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadLimit {
    /// Honour the source's rate limits (`maxFilesPerTrigger`, `rowsPerBatch`, ...).
    Configured,
    /// Take everything available (`Trigger.Once`).
    All,
}

/// A replayable input (Spark's `Source`): the same offset range must always yield the same rows.
#[async_trait]
pub trait MicroBatchSource: Send + Sync {
    /// A description for messages and progress, e.g. `text[/data/tweets]`.
    fn name(&self) -> &str;
    /// The schema of every batch.
    fn schema(&self) -> SchemaRef;
    /// Pins "everything available now" as the end of the stream (`Trigger.AvailableNow`).
    async fn prepare_available_now(&mut self) -> Result<()>;
    /// The end of the next batch: the highest offset available now, capped by `limit`
    /// counting from `start`. `None` while the source has never had data. Returning `start`
    /// itself means there is nothing new.
    async fn latest_offset(
        &mut self,
        start: Option<&SourceOffset>,
        limit: ReadLimit,
    ) -> Result<Option<SourceOffset>>;
    /// Reads exactly the records in `(start, end]`; `start = None` means from the beginning.
    async fn read_batch(
        &mut self,
        start: Option<&SourceOffset>,
        end: &SourceOffset,
    ) -> Result<Vec<RecordBatch>>;
    /// Called after `end` is in the commit log; the source may forget older data.
    async fn commit(&mut self, _end: &SourceOffset) -> Result<()> {
        Ok(())
    }

    /// What must not change across restarts of a checkpoint (format and the options that
    /// decide which records exist, e.g. a directory or topics), as JSON.
    fn identity(&self) -> serde_json::Value;

    /// Gives the source its log in the checkpoint (`sources/<i>`), before the first batch: a
    /// source that keeps one (the text source's file list) writes it there and, on a restart,
    /// reads it back so that logged offsets mean the same records.
    fn attach(&mut self, _log: kindling_core::fs::MetadataLog) -> Result<()> {
        Ok(())
    }

    /// On a restart, the end offset of the last logged batch, before the first batch.
    fn resume_from(&mut self, _offset: &SourceOffset) -> Result<()> {
        Ok(())
    }

    /// Source-specific progress metrics for a batch that ended at `end` (Spark's
    /// `SourceProgress.metrics`, e.g. the Kafka source's `maxOffsetsBehindLatest`).
    fn metrics(&self, _end: &SourceOffset) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::new()
    }
}

/// The source formats kindling knows.
pub const SOURCE_FORMATS: &[&str] = &["text", "tweets", "rate", "kafka"];

/// Builds the source a `[source]` table describes.
pub fn build_source(format: &str, options: &Options) -> Result<Box<dyn MicroBatchSource>> {
    match format {
        "text" => Ok(Box::new(text::TextFileSource::try_new(options)?)),
        "tweets" => Ok(Box::new(tweets::TweetsSource::try_new(options)?)),
        "rate" => Ok(Box::new(rate::RateSource::try_new(options)?)),
        "kafka" => Ok(Box::new(kafka::KafkaSource::try_new(options)?)),
        other => Err(Error::InvalidOption {
            owner: "source".to_string(),
            key: "format".to_string(),
            value: other.to_string(),
            message: format!(
                "unknown source format; expected one of: {}",
                SOURCE_FORMATS.join(", ")
            ),
        }),
    }
}

/// Reads a `{"<key>": n}` offset field; offsets come from our own logs, so a bad one is a
/// corrupt checkpoint.
pub(crate) fn offset_field(offset: Option<&SourceOffset>, key: &str) -> Result<u64> {
    match offset {
        None => Ok(0),
        Some(o) => o.0.get(key).and_then(|v| v.as_u64()).ok_or_else(|| Error::Source {
            source_name: key.to_string(),
            message: format!("offset {o} has no numeric '{key}' field; the checkpoint was written by another source"),
            cause: None,
        }),
    }
}

/// The `startMs` of a clock-driven source's offset (`rate`, `tweets`): when its stream began,
/// kept in every offset so a replay or a restart gives rows the same timestamps.
pub(crate) fn offset_start_ms(offset: &SourceOffset) -> Option<i64> {
    offset.0.get("startMs").and_then(|v| v.as_i64())
}
