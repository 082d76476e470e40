//! The `kafka` source (Spark's `KafkaMicroBatchStream`): Spark's schema and options, offsets
//! kept in the checkpoint (`{"topic":{"partition":next}}`) and read with `assign` at explicit
//! positions, so that a batch's range always yields the same records.
//!
//! A batch's end is what the source has received ([`reader::TopicReader`]), never a broker's
//! offset query alone. Topics are (re)discovered from metadata each trigger: partitions that
//! appear later start at earliest; the first batch's start is kept in `sources/0/0` as Spark
//! keeps it, so a restart before the first commit starts at the same place.

pub mod offsets;
mod reader;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, BinaryBuilder, Int32Builder, Int64Builder, ListBuilder, StringBuilder, StructBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use rdkafka::ClientConfig;
use rdkafka::consumer::Consumer;
use serde_json::json;
use tracing::warn;

use self::offsets::{EARLIEST, KafkaOffsets, LATEST, StartingOffsets, TopicPartition};
use self::reader::{DataLoss, Record, TopicReader};
use super::{MicroBatchSource, ReadLimit, SourceOffset};
use crate::error::{Error, Result};
use crate::kafka::{ADMIN_TIMEOUT, KafkaConsumer, Role, client_config, consumer, kafka_error};
use crate::options::Options;

/// The Kafka source's schema in Spark's column order: key, value, topic, partition, offset,
/// timestamp, timestampType, and `headers` with `includeHeaders`.
pub fn kafka_schema(include_headers: bool) -> SchemaRef {
    let mut fields = vec![
        Field::new("key", DataType::Binary, true),
        Field::new("value", DataType::Binary, true),
        Field::new("topic", DataType::Utf8, false),
        Field::new("partition", DataType::Int32, false),
        Field::new("offset", DataType::Int64, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("timestampType", DataType::Int32, false),
    ];
    if include_headers {
        fields.push(Field::new(
            "headers",
            DataType::List(Arc::new(Field::new_list_field(
                DataType::Struct(header_fields()),
                true,
            ))),
            true,
        ));
    }
    Arc::new(Schema::new(fields))
}

fn header_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Binary, true),
    ])
}

/// The options this source reads (Spark's names).
const OPTIONS: &[&str] = &[
    "subscribe",
    "subscribePattern",
    "assign",
    "startingOffsets",
    "maxOffsetsPerTrigger",
    "minOffsetsPerTrigger",
    "maxTriggerDelay",
    "failOnDataLoss",
    "includeHeaders",
    "kafkaConsumer.pollTimeoutMs",
    "groupIdPrefix",
    "fetchOffset.numRetries",
    "fetchOffset.retryIntervalMs",
    "minPartitions",
];

/// How long a trigger waits for the partitions to report that they are caught up before it
/// settles for what has arrived.
const CATCH_UP_WAIT: Duration = Duration::from_secs(1);

/// How often topic metadata is fetched again to find new topics and partitions.
const DISCOVERY_EVERY: Duration = Duration::from_millis(500);

/// Which topics the source reads (exactly one of Spark's three options).
#[derive(Debug, Clone)]
enum Strategy {
    Subscribe(Vec<String>),
    Pattern(String, regex::Regex),
    Assign(Vec<TopicPartition>),
}

/// The validated options.
#[derive(Debug, Clone)]
struct Settings {
    strategy: Strategy,
    starting: StartingOffsets,
    max_offsets: Option<u64>,
    min_offsets: Option<u64>,
    max_trigger_delay: Duration,
    fail_on_data_loss: bool,
    include_headers: bool,
    poll_timeout: Duration,
    /// Commit each committed batch's end to the consumer group (for lag monitoring).
    commit_to_group: bool,
    bootstrap: String,
}

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
    /// `sources/0` and whether writes are fsynced.
    log: Option<(PathBuf, bool)>,
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
        let mut known: Vec<&str> = OPTIONS.to_vec();
        let kafka_keys: Vec<String> = options
            .iter()
            .map(|(k, _)| k.to_string())
            .filter(|k| k.to_ascii_lowercase().starts_with("kafka."))
            .collect();
        known.extend(kafka_keys.iter().map(String::as_str));
        for key in [
            "endingOffsets",
            "endingTimestamp",
            "endingOffsetsByTimestamp",
        ] {
            if options.get(key).is_some() {
                let what = if key == "endingOffsets" {
                    "ending offset"
                } else {
                    "ending timestamp"
                };
                return Err(options.invalid(key, format!("{what} not valid in streaming queries")));
            }
        }
        for key in [
            "startingTimestamp",
            "startingOffsetsByTimestamp",
            "startingOffsetsByTimestampStrategy",
        ] {
            if options.get(key).is_some() {
                return Err(options.invalid(
                    key,
                    "starting from a timestamp is not supported by kindling; use startingOffsets (earliest, latest or per-partition offsets)",
                ));
            }
        }
        let strategy = strategy(options)?;
        let mut config = client_config(options, Role::Source)?;
        let bootstrap = options
            .get("kafka.bootstrap.servers")
            .unwrap_or_default()
            .to_string();
        let starting = match options.get("startingOffsets") {
            None => StartingOffsets::Latest,
            Some(text) => {
                StartingOffsets::parse(text).map_err(|m| options.invalid("startingOffsets", m))?
            }
        };
        let max_offsets = options.positive_u64("maxOffsetsPerTrigger", None)?;
        let min_offsets = options.positive_u64("minOffsetsPerTrigger", None)?;
        if let (Some(min), Some(max)) = (min_offsets, max_offsets)
            && min > max
        {
            return Err(options.invalid(
                "minOffsetsPerTrigger",
                format!(
                    "The value of minOffsetPerTrigger({min}) is higher than the maxOffsetsPerTrigger({max})."
                ),
            ));
        }
        let max_trigger_delay = match options.get("maxTriggerDelay") {
            None => Duration::from_secs(15 * 60),
            Some(text) => parse_time_string(text).ok_or_else(|| {
                options.invalid(
                    "maxTriggerDelay",
                    "expected a duration such as '15m', '30s' or '500ms'",
                )
            })?,
        };
        let group_id = options.get("kafka.group.id").map(str::to_string);
        let prefix = options.get("groupIdPrefix").map(str::to_string);
        if group_id.is_some() && prefix.is_some() {
            warn!("Option groupIdPrefix will be ignored as option kafka.group.id has been set.");
        }
        let commit_to_group = group_id.is_some() || prefix.is_some();
        let group = group_id.unwrap_or_else(|| {
            format!(
                "{}-{}",
                prefix.as_deref().unwrap_or("spark-kafka-source"),
                uuid::Uuid::new_v4()
            )
        });
        config
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "true")
            // A position past the end (a recreated topic) resets to the start, where the
            // reader sees the offsets go back and reports the data loss.
            .set("auto.offset.reset", "smallest");
        if options.get("kafka.fetch.wait.max.ms").is_none() {
            config.set("fetch.wait.max.ms", "100");
        }
        let settings = Settings {
            strategy,
            starting,
            max_offsets,
            min_offsets,
            max_trigger_delay,
            fail_on_data_loss: options.bool_or("failOnDataLoss", true)?,
            include_headers: options.bool_or("includeHeaders", false)?,
            poll_timeout: Duration::from_millis(
                options.u64_or("kafkaConsumer.pollTimeoutMs", 120_000)?,
            ),
            commit_to_group,
            bootstrap,
        };
        options.warn_unknown(&known);
        let (description, identity) = match &settings.strategy {
            Strategy::Subscribe(topics) => (
                format!("KafkaV2[Subscribe[{}]]", topics.join(",")),
                json!({"format": "kafka", "subscribe": topics}),
            ),
            Strategy::Pattern(text, _) => (
                format!("KafkaV2[SubscribePattern[{text}]]"),
                json!({"format": "kafka", "subscribePattern": text}),
            ),
            Strategy::Assign(tps) => {
                let names: Vec<String> = tps.iter().map(|(t, p)| format!("{t}-{p}")).collect();
                (
                    format!("KafkaV2[Assign[{}]]", names.join(", ")),
                    json!({"format": "kafka", "assign": names}),
                )
            }
        };
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

fn strategy(options: &Options) -> Result<Strategy> {
    let given: Vec<&str> = ["subscribe", "subscribePattern", "assign"]
        .into_iter()
        .filter(|k| options.get(k).is_some())
        .collect();
    let keys = "subscribe, subscribepattern, assign";
    match given.as_slice() {
        [] => Err(options.invalid(
            "subscribe",
            format!("One of the following options must be specified for Kafka source: {keys}. See the docs for more details."),
        )),
        [key] => {
            let value = options.get(key).unwrap_or_default();
            match *key {
                "subscribe" => {
                    let topics: Vec<String> = value
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .collect();
                    if topics.is_empty() {
                        return Err(options.invalid(key, format!("No topics to subscribe to as specified value for option 'subscribe' is '{value}'")));
                    }
                    Ok(Strategy::Subscribe(topics))
                }
                "subscribePattern" => {
                    let pattern = value.trim();
                    if pattern.is_empty() {
                        return Err(options.invalid(key, format!("Pattern to subscribe is empty as specified value for option 'subscribePattern' is '{value}'")));
                    }
                    // Java's Matcher.matches(): the whole topic name must match.
                    let regex = regex::Regex::new(&format!("^(?:{pattern})$"))
                        .map_err(|e| options.invalid(key, format!("not a valid regular expression: {e}")))?;
                    Ok(Strategy::Pattern(pattern.to_string(), regex))
                }
                _ => Ok(Strategy::Assign(
                    offsets::parse_assign(value).map_err(|m| options.invalid(key, m))?,
                )),
            }
        }
        _ => Err(options.invalid(
            given[1],
            format!("Only one of the following options can be specified for Kafka source: {keys}. See the docs for more details."),
        )),
    }
}

/// Spark's `JavaUtils.timeStringAsMs`: `15m`, `30s`, `500ms`, `1h`, `2d`, or plain ms.
fn parse_time_string(text: &str) -> Option<Duration> {
    let t = text.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let ms = match unit.trim() {
        "" | "ms" => n,
        "s" => n * 1000,
        "m" | "min" => n * 60_000,
        "h" => n * 3_600_000,
        "d" => n * 86_400_000,
        "us" => n / 1000,
        _ => return None,
    };
    Some(Duration::from_millis(ms))
}

impl Inner {
    fn source_error(&self, message: impl Into<String>) -> Error {
        Error::Source {
            source_name: format!("kafka[{}]", self.settings.bootstrap),
            message: message.into(),
            cause: None,
        }
    }

    fn metadata_client(&mut self) -> Result<&KafkaConsumer> {
        if self.metadata.is_none() {
            let what = format!("a client for '{}'", self.settings.bootstrap);
            self.metadata = Some(consumer(&self.config, &what)?);
        }
        self.metadata
            .as_ref()
            .ok_or_else(|| self.source_error("no metadata client"))
    }

    /// The topics and partitions to read now, from the broker's metadata (at most every
    /// [`DISCOVERY_EVERY`]).
    fn discover(&mut self, force: bool) -> Result<()> {
        if !force
            && self
                .last_discovery
                .is_some_and(|t| t.elapsed() < DISCOVERY_EVERY)
        {
            return Ok(());
        }
        let bootstrap = self.settings.bootstrap.clone();
        let metadata = match self.metadata_client()?.fetch_metadata(None, ADMIN_TIMEOUT) {
            Ok(m) => m,
            Err(e) => {
                // The broker may be restarting: keep what is known and try again next trigger.
                warn!("kafka: cannot fetch metadata from '{bootstrap}': {e}; retrying");
                return Ok(());
            }
        };
        self.last_discovery = Some(Instant::now());
        let mut found: BTreeMap<String, Vec<i32>> = BTreeMap::new();
        for topic in metadata.topics() {
            if topic.error().is_some() {
                continue;
            }
            let name = topic.name();
            let wanted: Option<Vec<i32>> = match &self.settings.strategy {
                Strategy::Subscribe(topics) => topics
                    .iter()
                    .any(|t| t == name)
                    .then(|| topic.partitions().iter().map(|p| p.id()).collect()),
                Strategy::Pattern(_, regex) => regex
                    .is_match(name)
                    .then(|| topic.partitions().iter().map(|p| p.id()).collect()),
                Strategy::Assign(tps) => {
                    let ps: Vec<i32> = tps
                        .iter()
                        .filter(|(t, p)| {
                            t == name && topic.partitions().iter().any(|m| m.id() == *p)
                        })
                        .map(|(_, p)| *p)
                        .collect();
                    (!ps.is_empty()).then_some(ps)
                }
            };
            if let Some(mut ps) = wanted {
                ps.sort_unstable();
                found.insert(name.to_string(), ps);
            }
        }
        drop(metadata);
        let expected: Vec<String> = match &self.settings.strategy {
            Strategy::Subscribe(topics) => topics.clone(),
            Strategy::Assign(tps) => tps.iter().map(|(t, _)| t.clone()).collect(),
            Strategy::Pattern(..) => Vec::new(),
        };
        for topic in expected {
            if !found.contains_key(&topic) && self.warned_missing.insert(topic.clone()) {
                warn!(
                    "kafka: topic '{topic}' does not exist on '{bootstrap}' yet; waiting for it (create it with `kindling topics create {topic} --bootstrap-servers {bootstrap}`)"
                );
            }
        }
        // Partitions that were read and are gone: their topic was deleted.
        let gone: Vec<String> = self
            .known
            .iter()
            .flat_map(|(t, ps)| {
                ps.iter()
                    .filter(|p| !found.get(t).is_some_and(|f| f.contains(p)))
                    .map(move |p| format!("{t}-{p}"))
            })
            .collect();
        if !gone.is_empty() {
            self.report(vec![DataLoss {
                kind: "PARTITIONS_DELETED",
                reason: format!("Partitions: {} are gone.", gone.join(", ")),
            }])?;
            for t in self.known.keys() {
                if !found.contains_key(t) {
                    self.readers.remove(t);
                }
            }
        }
        self.known = found;
        Ok(())
    }

    /// Fails on data losses (`failOnDataLoss=true`), or logs them.
    fn report(&self, losses: Vec<DataLoss>) -> Result<()> {
        for loss in losses {
            let text = format!(
                "[KAFKA_DATA_LOSS.{}] Some data may have been lost because they are not available in Kafka any more; either the data was aged out by Kafka or the topic may have been deleted before all the data in the topic was processed. If you don't want your streaming query to fail on such cases, set the source option failOnDataLoss to false. Reason: {}",
                loss.kind, loss.reason
            );
            if self.settings.fail_on_data_loss {
                return Err(self.source_error(format!("{text} SQLSTATE: 22000")));
            }
            warn!(
                "{} (failOnDataLoss is false: going on)",
                text.replace(
                    "If you don't want your streaming query to fail on such cases, set the source option failOnDataLoss to false. ",
                    ""
                )
            );
        }
        Ok(())
    }

    fn check_losses(&mut self) -> Result<()> {
        let losses: Vec<DataLoss> = self
            .readers
            .values_mut()
            .flat_map(TopicReader::take_losses)
            .collect();
        self.report(losses)
    }

    /// The earliest offset of `tp` (the broker's low watermark).
    fn earliest(&mut self, tp: &TopicPartition) -> Result<i64> {
        let (low, _) = self
            .metadata_client()?
            .fetch_watermarks(&tp.0, tp.1, ADMIN_TIMEOUT)
            .map_err(|e| {
                kafka_error(
                    format!("fetching the earliest offset of {}-{}", tp.0, tp.1),
                    e,
                )
            })?;
        Ok(low.max(0))
    }

    /// The latest offset of each of `tps`: read to the partitions' end (a broker's offset
    /// query may be behind), starting from its answer as a hint.
    fn latest(&mut self, tps: &[TopicPartition]) -> Result<BTreeMap<TopicPartition, i64>> {
        let mut hints: BTreeMap<String, BTreeMap<i32, i64>> = BTreeMap::new();
        for tp in tps {
            let (low, high) = self
                .metadata_client()?
                .fetch_watermarks(&tp.0, tp.1, ADMIN_TIMEOUT)
                .map_err(|e| {
                    kafka_error(
                        format!("fetching the latest offset of {}-{}", tp.0, tp.1),
                        e,
                    )
                })?;
            hints
                .entry(tp.0.clone())
                .or_default()
                .insert(tp.1, (high - 1).max(low).max(0));
        }
        let deadline = Instant::now() + self.settings.poll_timeout;
        let mut latest = BTreeMap::new();
        for (topic, hint) in hints {
            let mut probe = TopicReader::try_new(&topic, &self.config, true)?;
            probe.assign(&hint)?;
            probe.wait_caught_up(deadline);
            if !probe.caught_up() {
                return Err(self.source_error(format!(
                    "timed out finding the latest offsets of topic '{topic}' after {} ms; is the broker up? (raise kafkaConsumer.pollTimeoutMs)",
                    self.settings.poll_timeout.as_millis()
                )));
            }
            for (p, o) in probe.positions() {
                latest.insert((topic.clone(), p), o);
            }
        }
        Ok(latest)
    }

    /// Decides the first batch's start for the partitions known now (startingOffsets), unless
    /// it is already decided or logged in `sources/0/0`.
    fn ensure_initial(&mut self) -> Result<()> {
        if self.initial.is_some() {
            return Ok(());
        }
        if let Some((dir, _)) = &self.log {
            let path = dir.join("0");
            if let Ok(text) = std::fs::read_to_string(&path) {
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
        if let Some((dir, durable)) = &self.log {
            let text = format!("v1\n{}", initial.to_source_offset());
            crate::engine::checkpoint::write_atomically(&dir.join("0"), text.as_bytes(), *durable)?;
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

/// Builds the source's Arrow columns from records.
struct RowsBuilder {
    key: BinaryBuilder,
    value: BinaryBuilder,
    topic: StringBuilder,
    partition: Int32Builder,
    offset: Int64Builder,
    timestamp: TimestampMicrosecondBuilder,
    timestamp_type: Int32Builder,
    headers: Option<ListBuilder<StructBuilder>>,
}

impl RowsBuilder {
    fn new(include_headers: bool) -> Self {
        RowsBuilder {
            key: BinaryBuilder::new(),
            value: BinaryBuilder::new(),
            topic: StringBuilder::new(),
            partition: Int32Builder::new(),
            offset: Int64Builder::new(),
            timestamp: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            timestamp_type: Int32Builder::new(),
            headers: include_headers
                .then(|| ListBuilder::new(StructBuilder::from_fields(header_fields(), 0))),
        }
    }

    fn extend(&mut self, topic: &str, partition: i32, records: Vec<&Record>) {
        for r in records {
            self.key.append_option(r.key.as_deref());
            self.value.append_option(r.value.as_deref());
            self.topic.append_value(topic);
            self.partition.append_value(partition);
            self.offset.append_value(r.offset);
            self.timestamp
                .append_value(r.timestamp_ms.saturating_mul(1000));
            self.timestamp_type.append_value(r.timestamp_type);
            if let Some(list) = &mut self.headers {
                let entries = list.values();
                for (k, v) in r.headers.iter().flatten() {
                    if let Some(b) = entries.field_builder::<StringBuilder>(0) {
                        b.append_value(k);
                    }
                    if let Some(b) = entries.field_builder::<BinaryBuilder>(1) {
                        b.append_option(v.as_deref());
                    }
                    entries.append(true);
                }
                list.append(true);
            }
        }
    }

    fn finish(mut self, schema: SchemaRef) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.key.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.topic.finish()),
            Arc::new(self.partition.finish()),
            Arc::new(self.offset.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.timestamp_type.finish()),
        ];
        if let Some(mut headers) = self.headers {
            columns.push(Arc::new(headers.finish()));
        }
        Ok(RecordBatch::try_new(schema, columns)?)
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

    fn attach(&mut self, dir: &std::path::Path, durable: bool) -> Result<()> {
        lock(&self.inner, &self.description)?.log = Some((dir.to_path_buf(), durable));
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
