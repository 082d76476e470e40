//! Kafka offsets as Spark writes them (`{"topic":{"0":42}}`: per partition the next offset to
//! read), the `startingOffsets` option, and the `maxOffsetsPerTrigger` split across partitions.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::SourceOffset;

/// A partition of a topic.
pub type TopicPartition = (String, i32);

/// Per topic and partition, the next offset to read (Spark's `KafkaSourceOffset`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KafkaOffsets(pub BTreeMap<TopicPartition, i64>);

/// `startingOffsets`: where a new query starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartingOffsets {
    /// The earliest offset of every partition.
    Earliest,
    /// The end of every partition when the query starts (Spark's default for streams).
    Latest,
    /// Per partition: an offset, or -2 (earliest) / -1 (latest). Partitions not listed start
    /// at earliest.
    Specific(BTreeMap<TopicPartition, i64>),
}

/// Spark's marker for "earliest" in a per-partition JSON.
pub const EARLIEST: i64 = -2;
/// Spark's marker for "latest" in a per-partition JSON.
pub const LATEST: i64 = -1;

impl KafkaOffsets {
    /// The offset JSON Spark writes, `{"t":{"0":1,"1":5}}`.
    pub fn to_source_offset(&self) -> SourceOffset {
        SourceOffset(to_json(&self.0))
    }

    /// Reads an offset written by [`KafkaOffsets::to_source_offset`] (or by Spark).
    pub fn from_source_offset(offset: &SourceOffset) -> Result<Self, String> {
        parse_json(&offset.0).map(KafkaOffsets)
    }

    /// The offset of `tp`, if known.
    pub fn get(&self, tp: &TopicPartition) -> Option<i64> {
        self.0.get(tp).copied()
    }
}

fn to_json(map: &BTreeMap<TopicPartition, i64>) -> Value {
    let mut topics = serde_json::Map::new();
    for ((topic, partition), offset) in map {
        let entry = topics
            .entry(topic.clone())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        if let Value::Object(partitions) = entry {
            partitions.insert(partition.to_string(), Value::from(*offset));
        }
    }
    Value::Object(topics)
}

fn parse_json(value: &Value) -> Result<BTreeMap<TopicPartition, i64>, String> {
    let expected =
        || format!("expected JSON like {{\"topicA\":{{\"0\":23,\"1\":-1}}}}, got {value}");
    let topics = value.as_object().ok_or_else(expected)?;
    let mut map = BTreeMap::new();
    for (topic, partitions) in topics {
        let partitions = partitions.as_object().ok_or_else(expected)?;
        for (partition, offset) in partitions {
            let partition: i32 = partition.parse().map_err(|_| expected())?;
            let offset = offset.as_i64().ok_or_else(expected)?;
            map.insert((topic.clone(), partition), offset);
        }
    }
    Ok(map)
}

impl StartingOffsets {
    /// Parses `startingOffsets`: `earliest`, `latest` or per-partition JSON.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "earliest" => Ok(StartingOffsets::Earliest),
            "latest" => Ok(StartingOffsets::Latest),
            _ => {
                let value: Value = serde_json::from_str(text.trim()).map_err(|e| {
                    format!(
                        "expected 'earliest', 'latest' or JSON like {{\"topicA\":{{\"0\":23,\"1\":-2}}}} ({e})"
                    )
                })?;
                let map = parse_json(&value)?;
                if let Some(((t, p), o)) = map.iter().find(|(_, o)| **o < EARLIEST) {
                    return Err(format!(
                        "offset {o} for {t}-{p} is not valid: use an offset >= 0, -2 (earliest) or -1 (latest)"
                    ));
                }
                Ok(StartingOffsets::Specific(map))
            }
        }
    }
}

/// Parses the `assign` option, `{"topicA":[0,1],"topicB":[2]}`.
pub fn parse_assign(text: &str) -> Result<Vec<TopicPartition>, String> {
    if !text.trim().starts_with('{') {
        return Err(format!(
            "No topicpartitions to assign as specified value for option 'assign' is '{text}'"
        ));
    }
    let value: BTreeMap<String, Vec<i32>> = serde_json::from_str(text.trim())
        .map_err(|e| format!("expected JSON like {{\"topicA\":[0,1],\"topicB\":[2,4]}} ({e})"))?;
    Ok(value
        .into_iter()
        .flat_map(|(t, ps)| ps.into_iter().map(move |p| (t.clone(), p)))
        .collect())
}

/// Spark's `maxOffsetsPerTrigger` split (`KafkaMicroBatchStream.rateLimit`): each partition
/// with a backlog gets `limit` in proportion to its backlog, rounded down, but at least one
/// offset; no partition goes past `until`. A partition missing from `from` is not limited.
pub fn rate_limit(
    limit: u64,
    from: &BTreeMap<TopicPartition, i64>,
    until: &BTreeMap<TopicPartition, i64>,
) -> BTreeMap<TopicPartition, i64> {
    let sizes: BTreeMap<&TopicPartition, i64> = until
        .iter()
        .filter_map(|(tp, end)| {
            let begin = from.get(tp)?;
            let size = end - begin;
            (size > 0).then_some((tp, size))
        })
        .collect();
    let total: f64 = sizes.values().map(|s| *s as f64).sum();
    if total < 1.0 {
        return until.clone();
    }
    until
        .iter()
        .map(|(tp, end)| {
            let capped = match (sizes.get(tp), from.get(tp)) {
                (Some(size), Some(begin)) => {
                    let prorate = limit as f64 * (*size as f64 / total);
                    // Don't completely starve small partitions.
                    let n = if prorate < 1.0 {
                        prorate.ceil()
                    } else {
                        prorate.floor()
                    } as i64;
                    (*end).min(begin.saturating_add(n))
                }
                _ => *end,
            };
            (tp.clone(), capped)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    fn tp(t: &str, p: i32) -> TopicPartition {
        (t.to_string(), p)
    }

    #[test]
    fn offsets_round_trip_as_spark_json() {
        let offsets = KafkaOffsets(BTreeMap::from([
            (tp("test", 0), 23),
            (tp("test", 1), 5),
            (tp("other", 0), 0),
        ]));
        let json = offsets.to_source_offset();
        assert_eq!(
            json.0.to_string(),
            r#"{"other":{"0":0},"test":{"0":23,"1":5}}"#
        );
        assert_eq!(KafkaOffsets::from_source_offset(&json).unwrap(), offsets);
        let err = KafkaOffsets::from_source_offset(&SourceOffset(serde_json::json!({"rows": 3})))
            .unwrap_err();
        assert!(err.contains("expected JSON like"), "{err}");
    }

    #[test]
    fn starting_offsets_parse_like_spark() {
        assert_eq!(
            StartingOffsets::parse("Earliest").unwrap(),
            StartingOffsets::Earliest
        );
        assert_eq!(
            StartingOffsets::parse("latest").unwrap(),
            StartingOffsets::Latest
        );
        assert_eq!(
            StartingOffsets::parse(r#"{"t":{"0":23,"1":-2}}"#).unwrap(),
            StartingOffsets::Specific(BTreeMap::from([(tp("t", 0), 23), (tp("t", 1), -2)]))
        );
        assert!(StartingOffsets::parse("newest").is_err());
        assert!(StartingOffsets::parse(r#"{"t":{"0":-3}}"#).is_err());
        assert_eq!(
            parse_assign(r#"{"a":[0,1],"b":[2]}"#).unwrap(),
            vec![tp("a", 0), tp("a", 1), tp("b", 2)]
        );
        assert_eq!(
            parse_assign("a").unwrap_err(),
            "No topicpartitions to assign as specified value for option 'assign' is 'a'"
        );
    }

    #[test]
    fn rate_limit_splits_by_backlog_and_never_starves() {
        let from = BTreeMap::from([(tp("t", 0), 0), (tp("t", 1), 0), (tp("t", 2), 10)]);
        let until = BTreeMap::from([(tp("t", 0), 900), (tp("t", 1), 99), (tp("t", 2), 11)]);
        let capped = rate_limit(100, &from, &until);
        // backlogs 900, 99, 1 of 1000: 90, 9.9 → 9, 0.1 → 1
        assert_eq!(capped[&tp("t", 0)], 90);
        assert_eq!(capped[&tp("t", 1)], 9);
        assert_eq!(capped[&tp("t", 2)], 11);
        // A limit above the backlog takes everything.
        assert_eq!(rate_limit(10_000, &from, &until), until);
        // No backlog: the end as it is.
        assert_eq!(rate_limit(5, &until, &until), until);
    }
}
