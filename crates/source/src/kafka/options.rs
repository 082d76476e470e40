//! The `kafka` source's options, validated with Spark's messages: which topics
//! ([`Strategy`]), where to start, how much per trigger, and the rest of [`Settings`].

use std::time::Duration;

use rdkafka::ClientConfig;
use serde_json::json;
use tracing::warn;

use super::offsets::{self, StartingOffsets, TopicPartition};
use kindling_core::error::Result;
use kindling_core::options::Options;
use kindling_kafka::{Role, client_config};

/// The options this source reads (Spark's names).
pub(super) const OPTIONS: &[&str] = &[
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

/// Which topics the source reads (exactly one of Spark's three options).
#[derive(Debug, Clone)]
pub(super) enum Strategy {
    Subscribe(Vec<String>),
    Pattern(String, regex::Regex),
    Assign(Vec<TopicPartition>),
}

/// The validated options.
#[derive(Debug, Clone)]
pub(super) struct Settings {
    pub(super) strategy: Strategy,
    pub(super) starting: StartingOffsets,
    pub(super) max_offsets: Option<u64>,
    pub(super) min_offsets: Option<u64>,
    pub(super) max_trigger_delay: Duration,
    pub(super) fail_on_data_loss: bool,
    pub(super) include_headers: bool,
    pub(super) poll_timeout: Duration,
    /// Commit each committed batch's end to the consumer group (for lag monitoring).
    pub(super) commit_to_group: bool,
    pub(super) bootstrap: String,
}

pub(super) fn strategy(options: &Options) -> Result<Strategy> {
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
pub(super) fn parse_time_string(text: &str) -> Option<Duration> {
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

impl Settings {
    /// Validates the source's options with Spark's messages, and the client configuration
    /// they make.
    pub(super) fn parse(options: &Options) -> Result<(Settings, ClientConfig)> {
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
        Ok((settings, config))
    }
}

impl Strategy {
    /// The source's description (Spark's `KafkaV2[Subscribe[t]]`) and its identity in the
    /// checkpoint (what must not change across restarts).
    pub(super) fn describe(&self) -> (String, serde_json::Value) {
        match self {
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
        }
    }
}
