//! Spark's `rate` source: `rowsPerSecond` rows each second with columns `timestamp` and
//! `value` (0, 1, 2, ...). The offset counts whole seconds since the query started, as Spark's
//! does, so a range always replays the same values and timestamps.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use serde_json::json;

use super::{MicroBatchSource, ReadLimit, SourceOffset, offset_field, offset_start_ms};
use kindling_core::error::Result;
use kindling_core::fs::now_millis;
use kindling_core::options::Options;

/// Spark's rate source.
#[derive(Debug)]
pub struct RateSource {
    rows_per_second: u64,
    start_ms: i64,
    available_now_end: Option<u64>,
    schema: SchemaRef,
}

const OPTIONS: &[&str] = &["rowsPerSecond", "numPartitions"];

impl RateSource {
    /// Builds the source from its options (`rowsPerSecond`, default 1; `numPartitions`).
    pub fn try_new(options: &Options) -> Result<Self> {
        options.warn_unknown(OPTIONS);
        options.positive_u64("numPartitions", Some(1))?;
        Ok(RateSource {
            rows_per_second: options.positive_u64("rowsPerSecond", Some(1))?.unwrap_or(1),
            start_ms: now_millis(),
            available_now_end: None,
            schema: Arc::new(Schema::new(vec![
                Field::new(
                    "timestamp",
                    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                    false,
                ),
                Field::new("value", DataType::Int64, false),
            ])),
        })
    }

    fn elapsed_seconds(&self) -> u64 {
        ((now_millis() - self.start_ms).max(0) / 1000) as u64
    }
}

#[async_trait]
impl MicroBatchSource for RateSource {
    fn name(&self) -> &str {
        "RateStreamV2"
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    async fn prepare_available_now(&mut self) -> Result<()> {
        self.available_now_end = Some(self.elapsed_seconds());
        Ok(())
    }

    fn identity(&self) -> serde_json::Value {
        json!({ "format": "rate", "rowsPerSecond": self.rows_per_second })
    }

    fn resume_from(&mut self, offset: &SourceOffset) -> Result<()> {
        if let Some(start) = offset_start_ms(offset) {
            self.start_ms = start;
        }
        Ok(())
    }

    async fn latest_offset(
        &mut self,
        start: Option<&SourceOffset>,
        _limit: ReadLimit,
    ) -> Result<Option<SourceOffset>> {
        let start = offset_field(start, "seconds")?;
        let end = self
            .available_now_end
            .unwrap_or_else(|| self.elapsed_seconds());
        Ok((end > 0)
            .then(|| SourceOffset(json!({ "seconds": end.max(start), "startMs": self.start_ms }))))
    }

    async fn read_batch(
        &mut self,
        start: Option<&SourceOffset>,
        end: &SourceOffset,
    ) -> Result<Vec<RecordBatch>> {
        let from = offset_field(start, "seconds")?;
        let to = offset_field(Some(end), "seconds")?;
        let start_ms = offset_start_ms(end).unwrap_or(self.start_ms);
        let rps = self.rows_per_second;
        let first = from * rps;
        let n = ((to - from) * rps) as usize;
        let values: Vec<i64> = (first..first + n as u64).map(|v| v as i64).collect();
        // Spark spreads a second's rows evenly over it, in milliseconds.
        let ms_per_value = 1000.0 / rps as f64;
        let timestamps: Vec<i64> = (0..n)
            .map(|k| {
                let ms = start_ms + (from * 1000) as i64 + (k as f64 * ms_per_value).round() as i64;
                ms * 1000
            })
            .collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMicrosecondArray::from(timestamps).with_timezone("UTC")),
            Arc::new(Int64Array::from(values)),
        ];
        Ok(vec![RecordBatch::try_new(
            Arc::clone(&self.schema),
            columns,
        )?])
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_range_of_seconds_gives_consecutive_values() {
        let opts = Options::from_pairs("source 'rate'", [("rowsPerSecond", "4")]);
        let mut source = RateSource::try_new(&opts).unwrap();
        let start = SourceOffset(json!({"seconds": 2, "startMs": 1_000}));
        let end = SourceOffset(json!({"seconds": 3, "startMs": 1_000}));
        let batches = source.read_batch(Some(&start), &end).await.unwrap();
        let values = batches[0]
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(values.values(), &[8, 9, 10, 11]);
        let ts = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(ts.value(1), (1_000 + 2_000 + 250) * 1000);
    }
}
