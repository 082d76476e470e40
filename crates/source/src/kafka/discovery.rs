//! Which topic-partitions the `kafka` source reads, found again from the broker's metadata as
//! topics and partitions come and go, and Spark's data-loss rules (`failOnDataLoss`) for
//! offsets that vanished: deleted topics, partitions reset or truncated by retention.

use std::collections::BTreeMap;
use std::time::Instant;

use rdkafka::consumer::Consumer;
use tracing::warn;

use super::offsets::TopicPartition;
use super::options::Strategy;
use super::reader::{DataLoss, TopicReader};
use super::{DISCOVERY_EVERY, Inner};
use kindling_core::error::Result;
use kindling_kafka::{ADMIN_TIMEOUT, KafkaConsumer, consumer, kafka_error};

impl Inner {
    pub(super) fn metadata_client(&mut self) -> Result<&KafkaConsumer> {
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
    pub(super) fn discover(&mut self, force: bool) -> Result<()> {
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
    pub(super) fn report(&self, losses: Vec<DataLoss>) -> Result<()> {
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

    pub(super) fn check_losses(&mut self) -> Result<()> {
        let losses: Vec<DataLoss> = self
            .readers
            .values_mut()
            .flat_map(TopicReader::take_losses)
            .collect();
        self.report(losses)
    }

    /// The earliest offset of `tp` (the broker's low watermark).
    pub(super) fn earliest(&mut self, tp: &TopicPartition) -> Result<i64> {
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
    pub(super) fn latest(
        &mut self,
        tps: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, i64>> {
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
}
