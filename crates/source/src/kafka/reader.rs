//! One topic's consumer: librdkafka `assign`ed to the topic's partitions at explicit offsets
//! (no consumer group), buffering the records it receives until a batch takes them.
//!
//! What is available is what has been received: a partition is *caught up* when the client
//! signalled partition EOF after its last record (the EOF comes from the high watermark of a
//! fetch reply, which brokers get right even where their offset queries do not). Blocking: the
//! source calls it from a blocking thread.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message, Timestamp};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tracing::warn;

use kindling_core::error::Result;
use kindling_kafka::{KafkaConsumer, consumer, kafka_error};

/// A topic reader stops fetching while it buffers more than this many bytes; a batch takes
/// them first.
const MAX_BUFFERED_BYTES: usize = 64 << 20;

/// How often the same client error (e.g. the broker being down) is logged again.
const ERROR_LOG_EVERY: Duration = Duration::from_secs(10);

/// One Kafka record, owned.
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// Milliseconds since the epoch; -1 when the record has none.
    pub timestamp_ms: i64,
    /// Spark's ids: 0 CreateTime, 1 LogAppendTime, -1 none.
    pub timestamp_type: i32,
    pub headers: Option<Vec<(String, Option<Vec<u8>>)>>,
}

/// What the reader knows of one partition.
#[derive(Debug)]
struct PartitionState {
    /// Every record with `base <= offset < next` received so far is in `records`.
    base: i64,
    /// The offset after the last record received (the consumer's position).
    next: i64,
    records: VecDeque<Record>,
    bytes: usize,
    /// Partition EOF was signalled after the last record.
    caught_up: bool,
    /// After a data loss tolerated by `failOnDataLoss=false`: records are dropped until the
    /// partition's end, where reading resumes (as Spark skips to the latest offset).
    skip_to_end: bool,
}

/// A data loss the reader saw, for the source to fail on or to log.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DataLoss {
    /// Spark's error sub-class, e.g. `PARTITION_OFFSET_CHANGED`.
    pub kind: &'static str,
    /// Spark's reason text.
    pub reason: String,
}

impl DataLoss {
    /// Spark's `PARTITION_OFFSET_CHANGED`: `topic-p` was at `from` and is now at `to`.
    fn offset_changed(topic: &str, partition: i32, from: i64, to: i64) -> Self {
        DataLoss {
            kind: "PARTITION_OFFSET_CHANGED",
            reason: format!(
                "Partition {topic}-{partition}'s offset was changed from {from} to {to}."
            ),
        }
    }
}

/// The consumer of one topic and its buffered records.
pub(super) struct TopicReader {
    consumer: KafkaConsumer,
    buffers: Buffers,
}

/// What a [`TopicReader`] received, per partition.
struct Buffers {
    topic: String,
    partitions: BTreeMap<i32, PartitionState>,
    tolerate_data_loss: bool,
    losses: Vec<DataLoss>,
    last_error_log: Option<Instant>,
}

impl TopicReader {
    /// A reader of `topic` with the source's client configuration; nothing is assigned yet.
    pub fn try_new(topic: &str, config: &ClientConfig, tolerate_data_loss: bool) -> Result<Self> {
        let consumer = consumer(config, &format!("a consumer for topic '{topic}'"))?;
        Ok(TopicReader {
            consumer,
            buffers: Buffers {
                topic: topic.to_string(),
                partitions: BTreeMap::new(),
                tolerate_data_loss,
                losses: Vec::new(),
                last_error_log: None,
            },
        })
    }

    /// The partitions assigned.
    pub fn partitions(&self) -> impl Iterator<Item = i32> + '_ {
        self.buffers.partitions.keys().copied()
    }

    /// Assigns `positions` (partition → next offset to read), replacing the assignment; the
    /// partitions kept keep their buffers.
    pub fn assign(&mut self, positions: &BTreeMap<i32, i64>) -> Result<()> {
        let mut tpl = TopicPartitionList::new();
        for (p, offset) in positions {
            let position = match self.buffers.partitions.get(p) {
                Some(state) => state.next,
                None => *offset,
            };
            tpl.add_partition_offset(&self.buffers.topic, *p, Offset::Offset(position))
                .map_err(|e| kafka_error(format!("assigning {}-{p}", self.buffers.topic), e))?;
        }
        self.consumer
            .assign(&tpl)
            .map_err(|e| kafka_error(format!("assigning topic '{}'", self.buffers.topic), e))?;
        self.buffers
            .partitions
            .retain(|p, _| positions.contains_key(p));
        for (p, offset) in positions {
            self.buffers
                .partitions
                .entry(*p)
                .or_insert_with(|| PartitionState {
                    base: *offset,
                    next: *offset,
                    records: VecDeque::new(),
                    bytes: 0,
                    caught_up: false,
                    skip_to_end: false,
                });
        }
        Ok(())
    }

    /// Moves `partition` to read from `offset` again, dropping what it buffered.
    pub fn seek(&mut self, partition: i32, offset: i64) -> Result<()> {
        self.consumer
            .seek(
                &self.buffers.topic,
                partition,
                Offset::Offset(offset),
                Duration::from_secs(10),
            )
            .map_err(|e| {
                kafka_error(
                    format!("seeking {}-{partition} to {offset}", self.buffers.topic),
                    e,
                )
            })?;
        if let Some(state) = self.buffers.partitions.get_mut(&partition) {
            state.base = offset;
            state.next = offset;
            state.records.clear();
            state.bytes = 0;
            state.caught_up = false;
            state.skip_to_end = false;
        }
        Ok(())
    }

    /// Handles whatever the client has ready, without waiting, until the buffer is full.
    pub fn drain(&mut self) {
        while !self.full() && self.poll_one(Duration::ZERO) {}
    }

    /// Handles the next event, waiting up to `timeout`; false when none came.
    fn poll_one(&mut self, timeout: Duration) -> bool {
        let got = match self.consumer.poll(timeout) {
            Some(event) => {
                self.buffers.handle(event);
                true
            }
            None => false,
        };
        self.check_watermarks();
        got
    }

    /// Compares each partition's position with the watermarks of the latest fetch reply: a
    /// high watermark below the position means the partition was recreated or truncated
    /// (Spark's "offset was changed"), which partition EOF alone would never reveal.
    fn check_watermarks(&mut self) {
        let partitions: Vec<i32> = self.buffers.partitions.keys().copied().collect();
        for p in partitions {
            let Some((_, high)) = self.cached_watermarks(p) else {
                continue;
            };
            let tolerate = self.buffers.tolerate_data_loss;
            let Some(state) = self.buffers.partitions.get_mut(&p) else {
                continue;
            };
            if high >= state.next {
                continue;
            }
            let from = state.next;
            state.records.clear();
            state.bytes = 0;
            state.caught_up = false;
            self.buffers
                .losses
                .push(DataLoss::offset_changed(&self.buffers.topic, p, from, high));
            if tolerate {
                // Spark ends the range at the new latest offset and goes on from there.
                if let Err(e) = self.seek(p, high) {
                    warn!("{e}");
                }
            } else if let Some(state) = self.buffers.partitions.get_mut(&p) {
                // Report it once: the source fails on it.
                state.next = high;
                state.base = high;
            }
        }
    }

    /// The low and high watermarks of `partition` from the client's latest fetch reply (no
    /// broker query: the broker's own offset queries may be behind; fetch replies are not).
    fn cached_watermarks(&self, partition: i32) -> Option<(i64, i64)> {
        let topic = std::ffi::CString::new(self.buffers.topic.as_str()).ok()?;
        let (mut low, mut high) = (-1i64, -1i64);
        // SAFETY: the client pointer lives as long as `self.consumer`; the topic is a valid
        // NUL-terminated string for the call; librdkafka only writes the two out-parameters.
        let err = unsafe {
            rdkafka::bindings::rd_kafka_get_watermark_offsets(
                self.consumer.client().native_ptr(),
                topic.as_ptr(),
                partition,
                &mut low,
                &mut high,
            )
        };
        (err == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
            .then_some((low, high))
    }

    /// Polls until every partition is caught up (or the buffer is full) or `deadline` passes.
    pub fn wait_caught_up(&mut self, deadline: Instant) {
        self.drain();
        // A data loss ends the wait: the source decides whether to fail.
        while !self.caught_up() && !self.full() && self.buffers.losses.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            self.poll_one((deadline - now).min(Duration::from_millis(100)));
        }
    }

    /// Polls until `partition` has received everything before `until`, it turned out to end
    /// before it, or `deadline` passed. Returns whether it has.
    pub fn wait_for(&mut self, partition: i32, until: i64, deadline: Instant) -> bool {
        loop {
            let Some(state) = self.buffers.partitions.get(&partition) else {
                return false;
            };
            if state.next >= until && !state.skip_to_end {
                return true;
            }
            let now = Instant::now();
            if now >= deadline
                || (state.caught_up && !state.skip_to_end)
                || !self.buffers.losses.is_empty()
            {
                return false;
            }
            self.poll_one((deadline - now).min(Duration::from_millis(100)));
        }
    }

    /// Whether every partition signalled EOF after its last record.
    pub fn caught_up(&self) -> bool {
        self.buffers
            .partitions
            .values()
            .all(|s| s.caught_up && !s.skip_to_end)
    }

    fn full(&self) -> bool {
        self.buffers
            .partitions
            .values()
            .map(|s| s.bytes)
            .sum::<usize>()
            > MAX_BUFFERED_BYTES
    }

    /// Per partition, the offset after the last record received.
    pub fn positions(&self) -> BTreeMap<i32, i64> {
        self.buffers
            .partitions
            .iter()
            .map(|(p, s)| (*p, s.next))
            .collect()
    }

    /// The first offset `partition` holds in its buffer from (everything after it is there).
    pub fn base(&self, partition: i32) -> Option<i64> {
        self.buffers.partitions.get(&partition).map(|s| s.base)
    }

    /// The buffered records of `partition` with `from <= offset < until`.
    pub fn records(&self, partition: i32, from: i64, until: i64) -> Vec<&Record> {
        match self.buffers.partitions.get(&partition) {
            None => Vec::new(),
            Some(state) => state
                .records
                .iter()
                .filter(|r| r.offset >= from && r.offset < until)
                .collect(),
        }
    }

    /// Forgets the records of `partition` before `offset` (a committed batch's end).
    pub fn forget_before(&mut self, partition: i32, offset: i64) {
        if let Some(state) = self.buffers.partitions.get_mut(&partition) {
            while state.records.front().is_some_and(|r| r.offset < offset) {
                if let Some(r) = state.records.pop_front() {
                    state.bytes -= record_bytes(&r);
                }
            }
            state.base = state.base.max(offset.min(state.next));
        }
    }

    /// The data losses seen since the last call.
    pub fn take_losses(&mut self) -> Vec<DataLoss> {
        std::mem::take(&mut self.buffers.losses)
    }

    /// Stores the offsets in the consumer group (monitoring only: the checkpoint decides).
    pub fn commit(&self, offsets: &BTreeMap<i32, i64>) -> Result<()> {
        let mut tpl = TopicPartitionList::new();
        for (p, o) in offsets {
            tpl.add_partition_offset(&self.buffers.topic, *p, Offset::Offset(*o))
                .map_err(|e| kafka_error(format!("committing {}-{p}", self.buffers.topic), e))?;
        }
        self.consumer
            .commit(&tpl, rdkafka::consumer::CommitMode::Sync)
            .map_err(|e| kafka_error(format!("committing offsets of '{}'", self.buffers.topic), e))
    }
}

impl Buffers {
    fn handle(
        &mut self,
        event: rdkafka::error::KafkaResult<rdkafka::message::BorrowedMessage<'_>>,
    ) {
        match event {
            Ok(message) => {
                let p = message.partition();
                let tolerate = self.tolerate_data_loss;
                let topic = &self.topic;
                let Some(state) = self.partitions.get_mut(&p) else {
                    return;
                };
                let offset = message.offset();
                if state.skip_to_end {
                    state.next = offset + 1;
                    state.base = state.next;
                    return;
                }
                if offset < state.next {
                    // The client only goes back when the broker reset it: the partition was
                    // recreated or truncated under us.
                    self.losses
                        .push(DataLoss::offset_changed(topic, p, state.next, offset));
                    state.records.clear();
                    state.bytes = 0;
                    if tolerate {
                        state.skip_to_end = true;
                        state.caught_up = false;
                        state.next = offset + 1;
                        state.base = state.next;
                    }
                    return;
                }
                let record = to_record(&message);
                state.bytes += record_bytes(&record);
                state.records.push_back(record);
                state.next = offset + 1;
                state.caught_up = false;
            }
            Err(KafkaError::PartitionEOF(p)) => {
                if let Some(state) = self.partitions.get_mut(&p) {
                    state.caught_up = true;
                    if state.skip_to_end {
                        state.skip_to_end = false;
                        state.base = state.next;
                    }
                }
            }
            Err(e) => {
                let now = Instant::now();
                if self
                    .last_error_log
                    .is_none_or(|t| now.duration_since(t) >= ERROR_LOG_EVERY)
                {
                    warn!(
                        "kafka topic '{}': {e}; the client keeps retrying (is the broker up?)",
                        self.topic
                    );
                    self.last_error_log = Some(now);
                }
            }
        }
    }
}

fn to_record(message: &rdkafka::message::BorrowedMessage<'_>) -> Record {
    let (timestamp_ms, timestamp_type) = match message.timestamp() {
        Timestamp::CreateTime(ms) => (ms, 0),
        Timestamp::LogAppendTime(ms) => (ms, 1),
        Timestamp::NotAvailable => (-1, -1),
    };
    let headers = message.headers().map(|h| {
        h.iter()
            .map(|header| (header.key.to_string(), header.value.map(<[u8]>::to_vec)))
            .collect()
    });
    Record {
        offset: message.offset(),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        timestamp_ms,
        timestamp_type,
        headers,
    }
}

fn record_bytes(r: &Record) -> usize {
    64 + r.key.as_ref().map_or(0, Vec::len) + r.value.as_ref().map_or(0, Vec::len)
}
