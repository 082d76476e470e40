//! The Kafka client settings shared by the `kafka` source, the `kafka` sink and the CLI
//! (`produce`, `topics`): `kafka.*` options passed through to librdkafka, the options Spark
//! forbids (refused with Spark's messages), and the topic admin calls.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use kindling_core::error::{Error, Result};
use kindling_core::options::Options;

/// The default broker address of the CLI and the tutorial.
pub const DEFAULT_BOOTSTRAP_SERVERS: &str = "127.0.0.1:9092";

/// How long admin and metadata calls wait for the broker.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The context of kindling's consumers: as librdkafka's default, except that the partition
/// EOF signals a closing consumer reports as client errors are dropped (the source asks for
/// them with `enable.partition.eof`; they are not failures).
#[derive(Debug, Default, Clone, Copy)]
pub struct QuietEof;

impl ClientContext for QuietEof {
    fn error(&self, error: KafkaError, reason: &str) {
        if matches!(
            error,
            KafkaError::PartitionEOF(_) | KafkaError::Global(RDKafkaErrorCode::PartitionEOF)
        ) {
            return;
        }
        tracing::error!(target: "librdkafka", "librdkafka: {error}: {reason}");
    }
}

impl ConsumerContext for QuietEof {}

/// A consumer with [`QuietEof`].
pub type KafkaConsumer = BaseConsumer<QuietEof>;

/// Creates a [`KafkaConsumer`] from `config`; `what` names it in the error.
pub fn consumer(config: &ClientConfig, what: &str) -> Result<KafkaConsumer> {
    config
        .create_with_context(QuietEof)
        .map_err(|e| kafka_error(format!("creating {what}"), e))
}

/// Which client the options configure: the checks Spark makes differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The source (a consumer).
    Source,
    /// The sink (a producer).
    Sink,
}

/// A librdkafka configuration from a source's or sink's options: every `kafka.<key>` option
/// becomes `<key>`, after the checks Spark makes (`kafka.bootstrap.servers` required, the
/// options Spark manages itself refused with Spark's message).
pub fn client_config(options: &Options, role: Role) -> Result<ClientConfig> {
    let what = match role {
        Role::Source => "consumer",
        Role::Sink => "producer",
    };
    if options.get("kafka.bootstrap.servers").is_none() {
        return Err(Error::InvalidOption {
            owner: options.owner().to_string(),
            key: "kafka.bootstrap.servers".to_string(),
            value: String::new(),
            message: format!(
                "Option 'kafka.bootstrap.servers' must be specified for configuring Kafka {what}"
            ),
        });
    }
    let mut config = ClientConfig::new();
    for (key, value) in options.iter() {
        let lower = key.to_ascii_lowercase();
        let Some(client_key) = lower.strip_prefix("kafka.") else {
            continue;
        };
        if let Some(message) = forbidden(client_key, role) {
            return Err(options.invalid(key, message));
        }
        // The key as written after `kafka.`: librdkafka's names are lower case already.
        config.set(&key["kafka.".len()..], value);
    }
    Ok(config)
}

/// Spark's message for a `kafka.*` option it refuses, if `key` is one.
fn forbidden(key: &str, role: Role) -> Option<String> {
    let message = match (key, role) {
        ("auto.offset.reset", Role::Source) => "Kafka option 'auto.offset.reset' is not supported. Instead set the source option 'startingoffsets' to 'earliest' or 'latest' to specify where to start. Structured Streaming manages which offsets are consumed internally, rather than relying on the kafkaConsumer to do it. This will ensure that no data is missed when new topics/partitions are dynamically subscribed. Note that 'startingoffsets' only applies when a new Streaming query is started, and that resuming will always pick up from where the query left off. See the docs for more details.".to_string(),
        ("key.deserializer", Role::Source) => "Kafka option 'key.deserializer' is not supported as keys are deserialized as byte arrays with ByteArrayDeserializer. Use DataFrame operations to explicitly deserialize the keys.".to_string(),
        ("value.deserializer", Role::Source) => "Kafka option 'value.deserializer' is not supported as values are deserialized as byte arrays with ByteArrayDeserializer. Use DataFrame operations to explicitly deserialize the values.".to_string(),
        ("key.serializer", Role::Sink) => "Kafka option 'key.serializer' is not supported as keys are serialized with ByteArraySerializer.".to_string(),
        ("value.serializer", Role::Sink) => "Kafka option 'value.serializer' is not supported as value are serialized with ByteArraySerializer.".to_string(),
        ("enable.auto.commit" | "interceptor.classes", Role::Source) => {
            format!("Kafka option '{key}' is not supported")
        }
        ("interceptor.classes", Role::Sink) => format!("Kafka option '{key}' is not supported"),
        _ => return None,
    };
    Some(message)
}

/// A plain client configuration for `bootstrap` (the CLI's `--bootstrap-servers`).
pub fn bootstrap_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config
}

/// The error for a failed Kafka call, naming what kindling was doing.
pub fn kafka_error(context: impl Into<String>, err: rdkafka::error::KafkaError) -> Error {
    Error::Kafka {
        context: context.into(),
        cause: Box::new(err),
    }
}

/// Creates topic `name` with `partitions` partitions (replication factor 1).
pub async fn create_topic(bootstrap: &str, name: &str, partitions: i32) -> Result<()> {
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let doing = format!("creating topic '{name}' on '{bootstrap}'");
    let results = admin(bootstrap)?
        .create_topics([&topic], &admin_options())
        .await
        .map_err(|e| kafka_error(&doing, e))?;
    topic_results(results, &doing)
}

/// Deletes topic `name`.
pub async fn delete_topic(bootstrap: &str, name: &str) -> Result<()> {
    let doing = format!("deleting topic '{name}' on '{bootstrap}'");
    let results = admin(bootstrap)?
        .delete_topics(&[name], &admin_options())
        .await
        .map_err(|e| kafka_error(&doing, e))?;
    topic_results(results, &doing)
}

fn admin(bootstrap: &str) -> Result<AdminClient<DefaultClientContext>> {
    bootstrap_config(bootstrap)
        .create()
        .map_err(|e| kafka_error(format!("cannot connect to '{bootstrap}'"), e))
}

fn admin_options() -> AdminOptions {
    AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT))
}

/// The first per-topic error of an admin call, as an error saying what was being `doing`.
fn topic_results(results: Vec<rdkafka::admin::TopicResult>, doing: &str) -> Result<()> {
    match results.into_iter().find_map(|r| r.err()) {
        Some((_, code)) => Err(Error::Kafka {
            context: doing.to_string(),
            cause: Box::new(code),
        }),
        None => Ok(()),
    }
}

/// The topics on the broker with their partition counts, sorted by name. Blocking.
pub fn list_topics(bootstrap: &str) -> Result<Vec<(String, usize)>> {
    let consumer = consumer(
        &bootstrap_config(bootstrap),
        &format!("a client for '{bootstrap}'"),
    )?;
    let metadata = consumer
        .fetch_metadata(None, ADMIN_TIMEOUT)
        .map_err(|e| kafka_error(format!("listing topics on '{bootstrap}'"), e))?;
    let mut topics: Vec<(String, usize)> = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| (t.name().to_string(), t.partitions().len()))
        .collect();
    topics.sort();
    Ok(topics)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn bootstrap_servers_are_required_and_forbidden_options_refused() {
        let none = Options::from_pairs("source 'kafka'", [("subscribe", "t")]);
        let err = client_config(&none, Role::Source).unwrap_err().to_string();
        assert!(
            err.contains(
                "Option 'kafka.bootstrap.servers' must be specified for configuring Kafka consumer"
            ),
            "{err}"
        );
        let reset = Options::from_pairs(
            "source 'kafka'",
            [
                ("kafka.bootstrap.servers", "x:1"),
                ("kafka.auto.offset.reset", "earliest"),
            ],
        );
        let err = client_config(&reset, Role::Source).unwrap_err().to_string();
        assert!(
            err.contains("Kafka option 'auto.offset.reset' is not supported. Instead set the source option 'startingoffsets'"),
            "{err}"
        );
        let commit = Options::from_pairs(
            "source 'kafka'",
            [
                ("kafka.bootstrap.servers", "x:1"),
                ("kafka.enable.auto.commit", "true"),
            ],
        );
        let err = client_config(&commit, Role::Source)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("Kafka option 'enable.auto.commit' is not supported"),
            "{err}"
        );
        let ok = Options::from_pairs(
            "sink 'kafka'",
            [
                ("kafka.bootstrap.servers", "x:1"),
                ("kafka.linger.ms", "5"),
                ("topic", "t"),
            ],
        );
        let config = client_config(&ok, Role::Sink).unwrap();
        assert_eq!(config.get("linger.ms"), Some("5"));
        assert_eq!(config.get("topic"), None);
    }

    #[test]
    fn a_kafka_failure_keeps_the_clients_error() {
        let err = Error::Kafka {
            context: "creating topic 't' on '127.0.0.1:9'".to_string(),
            cause: Box::new(KafkaError::AdminOpCreation("broker down".to_string())),
        };
        assert!(std::error::Error::source(&err).is_some());
        assert!(err.report().ends_with("broker down"), "{}", err.report());
    }
}
