//! The `kafka` source (Spark's `KafkaMicroBatchStream`): Spark's schema and options, offsets
//! kept in the checkpoint (`{"topic":{"partition":next}}`) and read with `assign` at explicit
//! positions, so that a batch's range always yields the same records.
//!
//! A batch's end is what the source has received ([`reader::TopicReader`]), never a broker's
//! offset query alone. Topics are (re)discovered from metadata each trigger: partitions that
//! appear later start at earliest; the first batch's start is kept in `sources/0/0` as Spark
//! keeps it, so a restart before the first commit starts at the same place.

mod discovery;
pub mod offsets;
mod options;
mod reader;
mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use rdkafka::ClientConfig;
use tracing::warn;

use self::offsets::{EARLIEST, KafkaOffsets, LATEST, StartingOffsets, TopicPartition};
use self::options::Settings;
use self::reader::{DataLoss, TopicReader};
use self::schema::RowsBuilder;
pub use self::schema::kafka_schema;
use super::{MicroBatchSource, ReadLimit, SourceOffset};
use kindling_core::error::{Error, Result};
use kindling_core::options::Options;
use kindling_kafka::KafkaConsumer;

/// How long a trigger waits for the partitions to report that they are caught up before it
/// settles for what has arrived.
const CATCH_UP_WAIT: Duration = Duration::from_secs(1);

/// How often topic metadata is fetched again to find new topics and partitions.
const DISCOVERY_EVERY: Duration = Duration::from_millis(500);

/// The `kafka` source.
pub struct KafkaSource {
    description: String,
    schema: SchemaRef,
    identity: serde_json::Value,
    inner: Arc<Mutex<Inner>>,
}

/// The blocking side: clients, buffers and what the source has decided.
struct Inner {
    settings: Settings,
    config: ClientConfig,
    metadata: Option<KafkaConsumer>,
    readers: BTreeMap<String, TopicReader>,
    /// The first batch's start (Spark's initial offsets), once decided.
    initial: Option<KafkaOffsets>,
    /// Where partitions found after the start began (earliest at discovery).
    discovered_at: BTreeMap<TopicPartition, i64>,
    /// The checkpoint's `sources/0` log, once attached.
    log: Option<kindling_core::fs::MetadataLog>,
    available_now: Option<KafkaOffsets>,
    /// On a restart, the end of the last logged batch.
    resume: Option<KafkaOffsets>,
    last_discovery: Option<Instant>,
    known: BTreeMap<String, Vec<i32>>,
    warned_missing: BTreeSet<String>,
    last_batch_at: Instant,
}

impl KafkaSource {
    /// Validates the options (with Spark's messages) and builds the source; nothing connects
    /// until the first trigger.
    pub fn try_new(options: &Options) -> Result<Self> {
        let (settings, config) = Settings::parse(options)?;
        let (description, identity) = settings.strategy.describe();
        let schema = kafka_schema(settings.include_headers);
        Ok(KafkaSource {
            description,
            schema,
            identity,
            inner: Arc::new(Mutex::new(Inner {
                settings,
                config,
                metadata: None,
                readers: BTreeMap::new(),
                initial: None,
                discovered_at: BTreeMap::new(),
                log: None,
                available_now: None,
                resume: None,
                last_discovery: None,
                known: BTreeMap::new(),
                warned_missing: BTreeSet::new(),
                last_batch_at: Instant::now(),
            })),
        })
    }

    /// Runs `f` on the blocking side, off the async runtime's threads.
    async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Inner) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let description = self.description.clone();
        let name = description.clone();
        tokio::task::spawn_blocking(move || f(&mut *lock(&inner, &name)?))
            .await
            .map_err(|e| Error::in_source(description, "the Kafka reader thread failed", e))?
    }
}

impl Inner {
    fn source_error(&self, message: impl Into<String>) -> Error {
        Error::Source {
            source_name: format!("kafka[{}]", self.settings.bootstrap),
            message: message.into(),
            cause: None,
        }
    }

    /// Decides the first batch's start for the partitions known now (startingOffsets), unless
    /// it is already decided or logged in `sources/0/0`.
    fn ensure_initial(&mut self) -> Result<()> {
        if self.initial.is_some() {
            return Ok(());
        }
        if let Some(log) = &self.log {
            let path = log.path(0);
            if let Some(text) = log.get(0)? {
                let json = text.strip_prefix("v1\n").unwrap_or(&text);
                let value: serde_json::Value =
                    serde_json::from_str(json).map_err(|e| Error::Checkpoint {
                        path: path.clone(),
                        message: format!("cannot read the initial Kafka offsets: {e}"),
                    })?;
                let offsets =
                    KafkaOffsets::from_source_offset(&SourceOffset(value)).map_err(|m| {
                        Error::Checkpoint {
                            path: path.clone(),
                            message: m,
                        }
                    })?;
                self.initial = Some(offsets);
                return Ok(());
            }
        }
        if self.known.is_empty() {
            return Ok(());
        }
        let tps: Vec<TopicPartition> = self
            .known
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
            .collect();
        let mut initial = BTreeMap::new();
        match self.settings.starting.clone() {
            StartingOffsets::Earliest => {
                for tp in &tps {
                    initial.insert(tp.clone(), self.earliest(tp)?);
                }
            }
            StartingOffsets::Latest => initial = self.latest(&tps)?,
            StartingOffsets::Specific(given) => {
                let specified: BTreeSet<&TopicPartition> = given.keys().collect();
                let assigned: BTreeSet<&TopicPartition> = tps.iter().collect();
                if specified != assigned {
                    let show = |s: &BTreeSet<&TopicPartition>| {
                        s.iter()
                            .map(|(t, p)| format!("{t}-{p}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    return Err(self.source_error(format!(
                        "If startingOffsets contains specific offsets, you must specify all TopicPartitions. Use -1 for latest, -2 for earliest. Specified: Set({}) Assigned: Set({})",
                        show(&specified),
                        show(&assigned)
                    )));
                }
                let latest_wanted: Vec<TopicPartition> = given
                    .iter()
                    .filter(|(_, o)| **o == LATEST)
                    .map(|(tp, _)| tp.clone())
                    .collect();
                let latest = self.latest(&latest_wanted)?;
                for (tp, o) in given {
                    let offset = match o {
                        EARLIEST => self.earliest(&tp)?,
                        LATEST => latest.get(&tp).copied().unwrap_or(0),
                        n => n,
                    };
                    initial.insert(tp, offset);
                }
            }
        }
        let initial = KafkaOffsets(initial);
        if let Some(log) = &self.log {
            let text = format!("v1\n{}", initial.to_source_offset());
            log.add(0, text.as_bytes())?;
        }
        self.initial = Some(initial);
        Ok(())
    }

    /// Where `tp` starts in a batch that begins at `start`.
    fn from(&self, start: Option<&KafkaOffsets>, tp: &TopicPartition) -> Option<i64> {
        start
            .and_then(|s| s.get(tp))
            .or_else(|| self.initial.as_ref().and_then(|i| i.get(tp)))
            .or_else(|| self.discovered_at.get(tp).copied())
    }

    /// Gives every known partition a reader positioned where the next batch starts.
    fn ensure_readers(&mut self, start: Option<&KafkaOffsets>) -> Result<()> {
        let known = self.known.clone();
        for (topic, partitions) in known {
            let assigned: Vec<i32> = self
                .readers
                .get(&topic)
                .map(|r| r.partitions().collect())
                .unwrap_or_default();
            if assigned == partitions {
                continue;
            }
            let mut positions = BTreeMap::new();
            for p in partitions {
                let tp = (topic.clone(), p);
                let offset = match self.from(start, &tp) {
                    Some(o) => o,
                    None => {
                        // Found after the start: read it from its beginning, as Spark does.
                        let o = self.earliest(&tp)?;
                        self.discovered_at.insert(tp, o);
                        o
                    }
                };
                positions.insert(p, offset);
            }
            if !self.readers.contains_key(&topic) {
                let reader =
                    TopicReader::try_new(&topic, &self.config, !self.settings.fail_on_data_loss)?;
                self.readers.insert(topic.clone(), reader);
            }
            if let Some(reader) = self.readers.get_mut(&topic) {
                reader.assign(&positions)?;
            }
        }
        Ok(())
    }

    /// What every partition has received, waiting up to `wait` for them to catch up.
    fn available(&mut self, wait: Duration) -> BTreeMap<TopicPartition, i64> {
        let deadline = Instant::now() + wait;
        let mut available = BTreeMap::new();
        for (topic, reader) in &mut self.readers {
            reader.wait_caught_up(deadline);
            for (p, o) in reader.positions() {
                available.insert((topic.clone(), p), o);
            }
        }
        available
    }

    fn prepare_available_now(&mut self, start: Option<KafkaOffsets>) -> Result<()> {
        self.discover(true)?;
        self.ensure_initial()?;
        self.ensure_readers(start.as_ref())?;
        let available = self.available(self.settings.poll_timeout);
        self.check_losses()?;
        self.available_now = Some(KafkaOffsets(available));
        Ok(())
    }

    fn latest_offset(
        &mut self,
        start: Option<KafkaOffsets>,
        limit: ReadLimit,
    ) -> Result<Option<KafkaOffsets>> {
        self.discover(false)?;
        self.ensure_initial()?;
        self.ensure_readers(start.as_ref())?;
        let wait = if self.available_now.is_some() {
            Duration::ZERO
        } else {
            CATCH_UP_WAIT
        };
        let mut available = self.available(wait);
        self.check_losses()?;
        if let Some(pinned) = &self.available_now {
            available = available
                .into_iter()
                .filter_map(|(tp, o)| pinned.get(&tp).map(|end| (tp, o.min(end))))
                .collect();
        }
        if available.is_empty() {
            return Ok(start);
        }
        let from: BTreeMap<TopicPartition, i64> = available
            .keys()
            .filter_map(|tp| self.from(start.as_ref(), tp).map(|o| (tp.clone(), o)))
            .collect();
        if limit == ReadLimit::Configured {
            if let (Some(min), None) = (self.settings.min_offsets, &self.available_now) {
                let backlog: i64 = available
                    .iter()
                    .map(|(tp, end)| (end - from.get(tp).copied().unwrap_or(*end)).max(0))
                    .sum();
                if (backlog as u64) < min
                    && self.last_batch_at.elapsed() < self.settings.max_trigger_delay
                {
                    // Not enough yet: no batch (the engine sees the start again).
                    return Ok(start);
                }
            }
            if let Some(max) = self.settings.max_offsets {
                available = offsets::rate_limit(max, &from, &available);
            }
        }
        // A partition whose offsets went back (tolerated data loss) ends where it is now.
        let mut end = start.map(|s| s.0).unwrap_or_default();
        end.extend(available);
        Ok(Some(KafkaOffsets(end)))
    }

    fn read(
        &mut self,
        start: Option<KafkaOffsets>,
        end: KafkaOffsets,
        schema: SchemaRef,
    ) -> Result<Vec<RecordBatch>> {
        self.discover(false)?;
        self.ensure_initial()?;
        self.ensure_readers(start.as_ref())?;
        let deadline = Instant::now() + self.settings.poll_timeout;
        let mut rows = RowsBuilder::new(self.settings.include_headers);
        for (tp, until) in &end.0 {
            let Some(from) = self.from(start.as_ref(), tp) else {
                continue;
            };
            if *until <= from {
                continue;
            }
            let (topic, p) = tp;
            if !self.readers.contains_key(topic) {
                let mut reader =
                    TopicReader::try_new(topic, &self.config, !self.settings.fail_on_data_loss)?;
                reader.assign(&BTreeMap::from([(*p, from)]))?;
                self.readers.insert(topic.clone(), reader);
            }
            let timeout_ms = self.settings.poll_timeout.as_millis();
            let Some(reader) = self.readers.get_mut(topic) else {
                continue;
            };
            if !reader.partitions().any(|q| q == *p) {
                let mut positions = reader.positions();
                positions.insert(*p, from);
                reader.assign(&positions)?;
            }
            if reader.base(*p).is_some_and(|b| b > from) {
                reader.seek(*p, from)?;
            }
            let complete = reader.wait_for(*p, *until, deadline);
            let records = reader.records(*p, from, *until);
            if !complete {
                let got = records.last().map_or(from, |r| r.offset + 1);
                let reason = format!(
                    "Cannot fetch records in [{from}, {until}) for {topic}-{p}: got up to {got} (timed out after {timeout_ms} ms or the partition ends there)."
                );
                self.report(vec![DataLoss {
                    kind: "COULD_NOT_READ_OFFSET_RANGE",
                    reason,
                }])?;
                let Some(reader) = self.readers.get(topic) else {
                    continue;
                };
                rows.extend(topic, *p, reader.records(*p, from, *until));
                continue;
            }
            rows.extend(topic, *p, records);
        }
        self.check_losses()?;
        self.last_batch_at = Instant::now();
        Ok(vec![rows.finish(schema)?])
    }

    fn commit(&mut self, end: KafkaOffsets) -> Result<()> {
        let mut by_topic: BTreeMap<&str, BTreeMap<i32, i64>> = BTreeMap::new();
        for ((t, p), o) in &end.0 {
            by_topic.entry(t.as_str()).or_default().insert(*p, *o);
        }
        for (topic, offsets) in by_topic {
            if let Some(reader) = self.readers.get_mut(topic) {
                for (p, o) in &offsets {
                    reader.forget_before(*p, *o);
                }
                if self.settings.commit_to_group
                    && let Err(e) = reader.commit(&offsets)
                {
                    warn!("{e} (only monitoring is affected: the checkpoint keeps the offsets)");
                }
            }
        }
        Ok(())
    }

    /// Spark's `offsetsBehindLatest` metrics: how far `end` is behind what has arrived.
    fn metrics(&self, end: &KafkaOffsets) -> BTreeMap<String, String> {
        let behind: Vec<i64> = end
            .0
            .iter()
            .filter_map(|((t, p), o)| {
                let reader = self.readers.get(t)?;
                let latest = reader.positions().get(p).copied()?;
                Some((latest - o).max(0))
            })
            .collect();
        if behind.is_empty() {
            return BTreeMap::new();
        }
        let min = behind.iter().min().copied().unwrap_or(0);
        let max = behind.iter().max().copied().unwrap_or(0);
        let avg = behind.iter().sum::<i64>() as f64 / behind.len() as f64;
        BTreeMap::from([
            ("avgOffsetsBehindLatest".to_string(), format!("{avg:?}")),
            ("maxOffsetsBehindLatest".to_string(), max.to_string()),
            ("minOffsetsBehindLatest".to_string(), min.to_string()),
        ])
    }
}

fn parse_offset(offset: Option<&SourceOffset>, description: &str) -> Result<Option<KafkaOffsets>> {
    offset
        .map(|o| {
            KafkaOffsets::from_source_offset(o).map_err(|m| Error::Source {
                source_name: description.to_string(),
                message: format!(
                    "offset {o} in the checkpoint is not a Kafka offset ({m}); the checkpoint was written by another source"
                ),
                cause: None,
            })
        })
        .transpose()
}

#[async_trait]
impl MicroBatchSource for KafkaSource {
    fn name(&self) -> &str {
        &self.description
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    async fn prepare_available_now(&mut self) -> Result<()> {
        // The engine calls this before the first new batch, which starts at the last logged
        // end (`resume_from`), or at the initial offsets of a new query.
        self.blocking(|inner| {
            let start = inner.resume.clone();
            inner.prepare_available_now(start)
        })
        .await
    }

    async fn latest_offset(
        &mut self,
        start: Option<&SourceOffset>,
        limit: ReadLimit,
    ) -> Result<Option<SourceOffset>> {
        let start = parse_offset(start, &self.description)?;
        let end = self
            .blocking(move |inner| inner.latest_offset(start, limit))
            .await?;
        Ok(end.map(|e| e.to_source_offset()))
    }

    async fn read_batch(
        &mut self,
        start: Option<&SourceOffset>,
        end: &SourceOffset,
    ) -> Result<Vec<RecordBatch>> {
        let start = parse_offset(start, &self.description)?;
        let end = parse_offset(Some(end), &self.description)?.unwrap_or_default();
        let schema = Arc::clone(&self.schema);
        self.blocking(move |inner| inner.read(start, end, schema))
            .await
    }

    async fn commit(&mut self, end: &SourceOffset) -> Result<()> {
        let end = parse_offset(Some(end), &self.description)?.unwrap_or_default();
        self.blocking(move |inner| inner.commit(end)).await
    }

    fn identity(&self) -> serde_json::Value {
        self.identity.clone()
    }

    fn attach(&mut self, log: kindling_core::fs::MetadataLog) -> Result<()> {
        lock(&self.inner, &self.description)?.log = Some(log);
        Ok(())
    }

    fn resume_from(&mut self, offset: &SourceOffset) -> Result<()> {
        let offset = parse_offset(Some(offset), &self.description)?;
        lock(&self.inner, &self.description)?.resume = offset;
        Ok(())
    }

    fn metrics(&self, end: &SourceOffset) -> BTreeMap<String, String> {
        let Ok(Some(end)) = parse_offset(Some(end), &self.description) else {
            return BTreeMap::new();
        };
        match lock(&self.inner, &self.description) {
            Ok(inner) => inner.metrics(&end),
            Err(e) => {
                tracing::warn!("no Kafka metrics for this batch's progress: {}", e.report());
                BTreeMap::new()
            }
        }
    }
}

/// The reader's state; a panic in an earlier call (which poisons the lock) is reported, not
/// worked around, since the state may be half-updated.
fn lock<'a>(
    inner: &'a Mutex<Inner>,
    description: &str,
) -> Result<std::sync::MutexGuard<'a, Inner>> {
    inner.lock().map_err(|_| Error::Source {
        source_name: description.to_string(),
        message: "an earlier call panicked; restart the query".to_string(),
        cause: None,
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::options::parse_time_string;
    use super::reader::Record;
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> Options {
        Options::from_pairs("source 'kafka'", pairs.iter().copied())
    }

    #[test]
    fn options_are_checked_with_sparks_messages() {
        let err = |pairs: &[(&str, &str)]| {
            KafkaSource::try_new(&opts(pairs))
                .err()
                .unwrap()
                .to_string()
        };
        assert!(err(&[("kafka.bootstrap.servers", "h:1")]).contains(
            "One of the following options must be specified for Kafka source: subscribe, subscribepattern, assign. See the docs for more details."
        ));
        assert!(
            err(&[
                ("kafka.bootstrap.servers", "h:1"),
                ("subscribe", "a"),
                ("assign", "{}")
            ])
            .contains("Only one of the following options can be specified for Kafka source")
        );
        assert!(err(&[("subscribe", "a")]).contains(
            "Option 'kafka.bootstrap.servers' must be specified for configuring Kafka consumer"
        ));
        assert!(
            err(&[("kafka.bootstrap.servers", "h:1"), ("subscribe", " , ")]).contains(
                "No topics to subscribe to as specified value for option 'subscribe' is ' , '"
            )
        );
        assert!(
            err(&[
                ("kafka.bootstrap.servers", "h:1"),
                ("subscribe", "a"),
                ("endingOffsets", "latest")
            ])
            .contains("ending offset not valid in streaming queries")
        );
        assert!(err(&[("kafka.bootstrap.servers", "h:1"), ("subscribe", "a"), ("kafka.group.id", "g"), ("kafka.value.deserializer", "x")])
            .contains("Kafka option 'value.deserializer' is not supported as values are deserialized as byte arrays"));
        assert!(
            err(&[
                ("kafka.bootstrap.servers", "h:1"),
                ("subscribe", "a"),
                ("minOffsetsPerTrigger", "10"),
                ("maxOffsetsPerTrigger", "5")
            ])
            .contains(
                "The value of minOffsetPerTrigger(10) is higher than the maxOffsetsPerTrigger(5)."
            )
        );
        assert!(
            err(&[
                ("kafka.bootstrap.servers", "h:1"),
                ("subscribe", "a"),
                ("startingOffsets", "newest")
            ])
            .contains("invalid option 'startingOffsets' = 'newest'")
        );
        let ok = KafkaSource::try_new(&opts(&[
            ("kafka.bootstrap.servers", "h:1"),
            ("subscribePattern", "topic-.*"),
            ("includeHeaders", "true"),
        ]))
        .unwrap();
        assert_eq!(ok.name(), "KafkaV2[SubscribePattern[topic-.*]]");
        assert_eq!(ok.schema().fields().len(), 8);
        assert_eq!(ok.schema().field(7).name(), "headers");
    }

    #[test]
    fn time_strings_parse_like_spark() {
        assert_eq!(parse_time_string("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_time_string("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_time_string("250"), Some(Duration::from_millis(250)));
        assert_eq!(parse_time_string("2 h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_time_string("soon"), None);
    }

    #[test]
    fn rows_become_sparks_columns() {
        let mut rows = RowsBuilder::new(true);
        let r = Record {
            offset: 7,
            key: None,
            value: Some(b"hi".to_vec()),
            timestamp_ms: 1_000,
            timestamp_type: 0,
            headers: Some(vec![("h".to_string(), None)]),
        };
        rows.extend("t", 2, vec![&r]);
        let batch = rows.finish(kafka_schema(true)).unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.column(0).null_count(), 1);
    }
}
