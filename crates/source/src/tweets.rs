//! The built-in `tweets` source: a deterministic synthetic tweet stream in Kafka's schema, so
//! the tutorial's `CAST(value AS STRING)` query runs unchanged with nothing else installed.
//!
//! Row `i` is a pure function of `(seed, i)`: any offset range replays identically. Hashtags
//! are Zipf-distributed (a few hot tags, a long tail) and mixed with ordinary words, mixed
//! case, Korean, Japanese and emoji tags, and the occasional double space.

use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, BinaryBuilder, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde_json::json;

use super::{MicroBatchSource, ReadLimit, SourceOffset, offset_field, offset_start_ms};
use kindling_core::error::Result;
use kindling_core::fs::now_millis;
use kindling_core::options::Options;

/// Generates tweet texts: tweet `i` for a seed is always the same.
#[derive(Debug, Clone)]
pub struct TweetGenerator {
    pub(crate) seed: u64,
}

static HOT_TAGS: &[&str] = &[
    "#spark",
    "#rust",
    "#kafka",
    "#Spark",
    "#data",
    "#streaming",
    "#🔥",
    "#한국어",
    "#SPARK",
    "#AI",
    "#스파크",
    "#日本",
    "#café",
    "#100DaysOfCode",
    "#bigdata",
    "#DataFusion",
    "#arrow",
    "#ML",
    "#dataengineering",
    "#realtime",
];

static WORDS: &[&str] = &[
    "the", "a", "and", "of", "to", "in", "is", "it's", "data", "stream", "real", "time", "new",
    "fast", "slow", "morning", "rain", "naïve", "🔥", "😀", "yes!!", "café", "for", "with", "but",
    "from", "on", "go", "we", "love", "query", "batch", "today", "big", "bad", "good", "kafka",
    "spark", "rust", "ship", "it", "now", "coffee", "again", "why", "not", "오늘", "東京", "build",
    "test",
];

const SYLLABLES: &[&str] = &[
    "an", "ka", "ze", "mi", "ra", "th", "qu", "ny", "el", "on", "is", "ch", "di", "ax", "ut", "or",
];

/// Hot tags followed by a long tail of made-up ones, in Zipf rank order, with their CDF.
static TAGS: LazyLock<(Vec<String>, Vec<f64>)> = LazyLock::new(|| {
    let mut rng = Pcg64Mcg::seed_from_u64(0x7a65_7473);
    let mut tags: Vec<String> = HOT_TAGS.iter().map(|t| t.to_string()).collect();
    while tags.len() < 2_000 {
        let n = rng.random_range(2..5);
        let mut tag = String::from("#");
        for k in 0..n {
            let s = SYLLABLES[rng.random_range(0..SYLLABLES.len())];
            if k == 0 && rng.random_bool(0.2) {
                tag.push_str(&s[..1].to_uppercase());
                tag.push_str(&s[1..]);
            } else {
                tag.push_str(s);
            }
        }
        tags.push(tag);
    }
    let weights: Vec<f64> = (1..=tags.len())
        .map(|r| 1.0 / (r as f64).powf(1.07))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let cdf = weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect();
    (tags, cdf)
});

impl TweetGenerator {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        TweetGenerator { seed }
    }

    /// Writes tweet number `index` into `out` (cleared first).
    pub fn tweet_into(&self, index: u64, out: &mut String) {
        out.clear();
        let (tags, cdf) = &*TAGS;
        let mut rng = Pcg64Mcg::seed_from_u64(
            self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03),
        );
        let tokens = rng.random_range(4..18);
        for k in 0..tokens {
            if k > 0 {
                out.push(' ');
                if rng.random_bool(0.04) {
                    out.push(' ');
                }
            }
            if rng.random_bool(0.22) {
                let u: f64 = rng.random();
                let rank = cdf.partition_point(|c| *c < u).min(tags.len() - 1);
                out.push_str(&tags[rank]);
            } else {
                out.push_str(WORDS[rng.random_range(0..WORDS.len())]);
            }
        }
    }

    /// Tweet number `index`.
    pub fn tweet(&self, index: u64) -> String {
        let mut s = String::new();
        self.tweet_into(index, &mut s);
        s
    }
}

/// The `tweets` source: Kafka-shaped rows of synthetic tweets.
///
/// Options: `rowsPerSecond` (default 100) paces the stream; `totalRows` ends it after that
/// many rows (without `rowsPerSecond`, or with 0, they are all available at once);
/// `rowsPerBatch` caps one
/// batch; `numPartitions` (default 1) spreads rows over partitions; `seed` (default 0).
#[derive(Debug)]
pub struct TweetsSource {
    generator: TweetGenerator,
    rows_per_second: Option<u64>,
    total_rows: Option<u64>,
    rows_per_batch: Option<u64>,
    num_partitions: u64,
    start_ms: i64,
    available_now_end: Option<u64>,
    schema: SchemaRef,
}

const OPTIONS: &[&str] = &[
    "rowsPerSecond",
    "totalRows",
    "rowsPerBatch",
    "numPartitions",
    "seed",
];
const TOPIC: &str = "tweets";

impl TweetsSource {
    /// Builds the source from its options.
    pub fn try_new(options: &Options) -> Result<Self> {
        options.warn_unknown(OPTIONS);
        let total_rows = match options.get("totalRows") {
            None => None,
            Some(_) => Some(options.u64_or("totalRows", 0)?),
        };
        let rows_per_second = match (options.get("rowsPerSecond"), total_rows) {
            (None, Some(_)) => None,
            (None, None) => Some(100),
            (Some(_), _) => match options.u64_or("rowsPerSecond", 100)? {
                0 if total_rows.is_some() => None,
                0 => {
                    return Err(options.invalid(
                        "rowsPerSecond",
                        "0 (unpaced) needs totalRows, or the stream would be infinite at once",
                    ));
                }
                n => Some(n),
            },
        };
        Ok(TweetsSource {
            generator: TweetGenerator::new(options.u64_or("seed", 0)?),
            rows_per_second,
            total_rows,
            rows_per_batch: options.positive_u64("rowsPerBatch", None)?,
            num_partitions: options.positive_u64("numPartitions", Some(1))?.unwrap_or(1),
            start_ms: now_millis(),
            available_now_end: None,
            schema: super::kafka::kafka_schema(false),
        })
    }

    fn available(&self) -> u64 {
        let paced = match self.rows_per_second {
            None => u64::MAX,
            Some(rps) => {
                let elapsed = (now_millis() - self.start_ms).max(0) as u64;
                elapsed.saturating_mul(rps) / 1000
            }
        };
        paced.min(self.total_rows.unwrap_or(u64::MAX))
    }

    fn offset(&self, rows: u64) -> SourceOffset {
        SourceOffset(json!({ "rows": rows, "startMs": self.start_ms }))
    }

    /// Builds the rows `[from, to)`.
    fn rows(&self, from: u64, to: u64, start_ms: i64) -> Result<RecordBatch> {
        let n = (to - from) as usize;
        let mut values = BinaryBuilder::with_capacity(n, n * 64);
        let mut text = String::new();
        let mut partitions = Vec::with_capacity(n);
        let mut offsets = Vec::with_capacity(n);
        let mut timestamps = Vec::with_capacity(n);
        let micros_per_row = self.rows_per_second.map_or(0, |rps| 1_000_000 / rps as i64);
        for i in from..to {
            self.generator.tweet_into(i, &mut text);
            values.append_value(text.as_bytes());
            partitions.push((i % self.num_partitions) as i32);
            offsets.push((i / self.num_partitions) as i64);
            timestamps.push(start_ms * 1000 + i as i64 * micros_per_row);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(arrow::array::new_null_array(&DataType::Binary, n)),
            Arc::new(values.finish()),
            Arc::new(StringArray::from(vec![TOPIC; n])),
            Arc::new(Int32Array::from(partitions)),
            Arc::new(Int64Array::from(offsets)),
            Arc::new(TimestampMicrosecondArray::from(timestamps).with_timezone("UTC")),
            Arc::new(Int32Array::from(vec![0; n])),
        ];
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

#[async_trait]
impl MicroBatchSource for TweetsSource {
    fn name(&self) -> &str {
        "TweetsSource"
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    async fn prepare_available_now(&mut self) -> Result<()> {
        self.available_now_end = Some(self.available());
        Ok(())
    }

    fn identity(&self) -> serde_json::Value {
        json!({ "format": "tweets", "seed": self.generator.seed, "numPartitions": self.num_partitions })
    }

    fn resume_from(&mut self, offset: &SourceOffset) -> Result<()> {
        // The stream's clock started with the first run: keep it, so offsets keep their meaning.
        if let Some(start) = offset_start_ms(offset) {
            self.start_ms = start;
        }
        Ok(())
    }

    async fn latest_offset(
        &mut self,
        start: Option<&SourceOffset>,
        limit: ReadLimit,
    ) -> Result<Option<SourceOffset>> {
        let start = offset_field(start, "rows")?;
        let available = self.available_now_end.unwrap_or_else(|| self.available());
        let end = match (limit, self.rows_per_batch) {
            (ReadLimit::Configured, Some(max)) => available.min(start + max),
            _ => available,
        };
        Ok((end > 0).then(|| self.offset(end.max(start))))
    }

    async fn read_batch(
        &mut self,
        start: Option<&SourceOffset>,
        end: &SourceOffset,
    ) -> Result<Vec<RecordBatch>> {
        let from = offset_field(start, "rows")?;
        let to = offset_field(Some(end), "rows")?;
        let start_ms = offset_start_ms(end).unwrap_or(self.start_ms);
        const CHUNK: u64 = 8192;
        let mut batches = Vec::new();
        let mut i = from;
        while i < to {
            let j = (i + CHUNK).min(to);
            batches.push(self.rows(i, j, start_ms)?);
            i = j;
        }
        Ok(batches)
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tweets_are_deterministic_per_seed_and_index() {
        let g = TweetGenerator::new(7);
        assert_eq!(g.tweet(12), g.tweet(12));
        assert_ne!(g.tweet(12), g.tweet(13));
        assert_ne!(g.tweet(12), TweetGenerator::new(8).tweet(12));
        let with_tags = (0..200).filter(|i| g.tweet(*i).contains('#')).count();
        assert!(with_tags > 100, "{with_tags} of 200 tweets have a hashtag");
    }

    #[test]
    fn hot_tags_dominate() {
        let g = TweetGenerator::new(1);
        let mut spark = 0;
        let mut tail = 0;
        for i in 0..5_000 {
            for token in g.tweet(i).split(' ') {
                if token == "#spark" {
                    spark += 1;
                } else if token == "#realtime" {
                    tail += 1;
                }
            }
        }
        assert!(spark > 3 * tail, "#spark {spark} vs #realtime {tail}");
    }

    #[tokio::test]
    async fn total_rows_without_pacing_are_available_at_once_and_capped_per_batch() {
        let opts = Options::from_pairs(
            "source 'tweets'",
            [
                ("totalRows", "250"),
                ("rowsPerBatch", "100"),
                ("numPartitions", "2"),
            ],
        );
        let mut source = TweetsSource::try_new(&opts).unwrap();
        source.prepare_available_now().await.unwrap();
        let first = source
            .latest_offset(None, ReadLimit::Configured)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.0["rows"], 100);
        let all = source
            .latest_offset(Some(&first), ReadLimit::All)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(all.0["rows"], 250);
        let batches = source.read_batch(Some(&first), &all).await.unwrap();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 150);
        let again = source.read_batch(Some(&first), &all).await.unwrap();
        assert_eq!(batches, again);
    }
}
