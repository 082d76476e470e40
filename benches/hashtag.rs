//! The foundation's performance targets, measured (not asserted; these machines are noisy):
//!
//! - throughput: the hashtag job over 1,000,000 generated tweets in text files, one batch, on
//!   one core (a current-thread runtime, one DataFusion partition);
//! - latency: a 1-row batch end to end (plan the query, run one batch, print it to the
//!   console), median of 30 runs.
//!
//! Run with `cargo bench --bench hashtag` (or `./scripts/bench.sh`); results go to stderr.

#![expect(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use kindling::job::JobSpec;
use kindling::source::tweets::TweetGenerator;
use kindling::{JobPlan, Session};

const TWEETS: u64 = 1_000_000;
const FILES: u64 = 10;

fn hashtag_job(dir: &Path, sink: &str) -> JobPlan {
    let toml = format!(
        r#"
name = "bench"
[source]
format = "text"
name = "lines"
[source.options]
path = "{}"
[query]
sql_file = "sql/hashtag_ranking.sql"
[sink]
format = "{sink}"
outputMode = "complete"
trigger = "availableNow"
[sink.options]
truncate = false
"#,
        dir.display()
    );
    let spec = JobSpec::parse(&toml, "bench.toml", &[]).unwrap();
    JobPlan::from_spec(
        spec,
        "bench.toml",
        Path::new(env!("CARGO_MANIFEST_DIR")),
        "bench",
    )
    .unwrap()
}

async fn run(job: &JobPlan) -> Duration {
    let start = Instant::now();
    let session = Session::new();
    let mut query = session.start(&job.queries[0]).await.unwrap();
    query.await_termination().await.unwrap();
    start.elapsed()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    // `cargo bench --bench hashtag -- latency` (or `throughput`) runs one part.
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wants = |part: &str| only.as_deref().is_none_or(|o| o == part);

    if wants("throughput") {
        throughput(&runtime);
    }
    if wants("latency") {
        latency(&runtime);
    }
    if wants("state") {
        state_memory(&runtime);
    }
}

/// Memory held by the aggregation state for 1,000,000 distinct hashtags (target: well under
/// 200 MB), and the cost of a 1-key batch against that state (update mode: O(k), not O(state)).
fn state_memory(runtime: &tokio::runtime::Runtime) {
    const KEYS: u64 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::with_capacity(KEYS as usize * 12);
    for i in 0..KEYS {
        text.push_str(&format!("#tag{i:07}\n"));
    }
    std::fs::write(dir.path().join("a.txt"), text).unwrap();
    let toml = format!(
        r#"
name = "state"
[source]
format = "text"
name = "lines"
[source.options]
path = "{}"
maxFilesPerTrigger = 1
[query]
sql = "SELECT tag, count(*) AS tag_count FROM (SELECT explode(split(value, ' ')) AS tag FROM lines) GROUP BY tag"
[sink]
format = "memory"
outputMode = "update"
trigger = "0"
"#,
        dir.path().display()
    );
    let spec = JobSpec::parse(&toml, "bench.toml", &[]).unwrap();
    let job = JobPlan::from_spec(
        spec,
        "bench.toml",
        Path::new(env!("CARGO_MANIFEST_DIR")),
        "bench",
    )
    .unwrap();
    runtime.block_on(async {
        let session = Session::new();
        let mut query = session.start(&job.queries[0]).await.unwrap();
        assert!(query.wait_for_batches(1).await);
        let big = query.last_progress().unwrap();
        let state = &big.state_operators[0];
        std::fs::write(dir.path().join("b.txt"), "#tag0000042\n").unwrap();
        assert!(query.wait_for_batches(2).await);
        let small = query.last_progress().unwrap();
        query.stop();
        query.await_termination().await.unwrap();
        eprintln!(
            "state/keys={}: memoryUsedBytes {:.1} MB ({:.0} bytes/key), first batch {} ms; then a 1-key batch {} ms (target: well under 200 MB)",
            state.num_rows_total,
            state.memory_used_bytes as f64 / 1e6,
            state.memory_used_bytes as f64 / state.num_rows_total as f64,
            big.batch_duration,
            small.batch_duration
        );
    });
}

fn throughput(runtime: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let generator = TweetGenerator::new(42);
    let mut bytes = 0;
    let mut text = String::new();
    for f in 0..FILES {
        let mut file = String::new();
        for i in f * TWEETS / FILES..(f + 1) * TWEETS / FILES {
            generator.tweet_into(i, &mut text);
            file.push_str(&text);
            file.push('\n');
        }
        bytes += file.len();
        std::fs::write(dir.path().join(format!("part-{f:05}.txt")), file).unwrap();
    }
    let job = hashtag_job(dir.path(), "memory");
    let mut best = Duration::MAX;
    for _ in 0..3 {
        best = best.min(runtime.block_on(run(&job)));
    }
    let rate = TWEETS as f64 / best.as_secs_f64();
    eprintln!(
        "hashtag/text/rows={TWEETS}: best of 3 {:.1} ms, {:.2} M tweets/s, {:.0} MB/s (target >= 2 M tweets/s on one core)",
        best.as_secs_f64() * 1e3,
        rate / 1e6,
        bytes as f64 / best.as_secs_f64() / 1e6
    );
}

/// Latency of a 1-row batch: cold (session, planning and the first batch, console output
/// included), and steady state (a running query's 1-row batches, each through the whole
/// micro-batch loop: offsets, read, plan execution, console, commit).
fn latency(runtime: &tokio::runtime::Runtime) {
    let one = tempfile::tempdir().unwrap();
    std::fs::write(one.path().join("one.txt"), "hello #kindling world\n").unwrap();
    let job = hashtag_job(one.path(), "console");
    let mut times: Vec<Duration> = (0..30).map(|_| runtime.block_on(run(&job))).collect();
    times.sort();
    eprintln!(
        "hashtag/console/rows=1/cold: median {:.2} ms, min {:.2} ms, max {:.2} ms (session + planning + first batch)",
        times[15].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[29].as_secs_f64() * 1e3
    );

    // The same 1-row batches without and with a durable checkpoint (fsynced offsets,
    // commits and state deltas): the difference is what the checkpoint adds per batch.
    let plain = steady_ms_per_batch(runtime, None);
    let dir = tempfile::tempdir().unwrap();
    let durable = steady_ms_per_batch(runtime, Some(dir.path()));
    eprintln!(
        "hashtag/console/rows=1/steady: {plain:.3} ms per batch without a checkpoint, {durable:.3} ms with a durable one (+{:.3} ms; target < 5 ms end to end, < 2 ms added)",
        durable - plain
    );
}

/// Mean wall time per batch of 500 one-row batches of a running query.
fn steady_ms_per_batch(runtime: &tokio::runtime::Runtime, checkpoint: Option<&Path>) -> f64 {
    const BATCHES: u64 = 500;
    let checkpoint = checkpoint
        .map(|d| format!("checkpointLocation = \"{}\"", d.display()))
        .unwrap_or_default();
    let toml = format!(
        r#"
name = "steady"
[source]
format = "tweets"
name = "lines"
[source.options]
rowsPerSecond = 0
totalRows = {BATCHES}
rowsPerBatch = 1
[query]
sql_file = "sql/hashtag_ranking.sql"
[sink]
format = "console"
outputMode = "complete"
trigger = "availableNow"
{checkpoint}
"#
    );
    let spec = JobSpec::parse(&toml, "bench.toml", &[]).unwrap();
    let job = JobPlan::from_spec(
        spec,
        "bench.toml",
        Path::new(env!("CARGO_MANIFEST_DIR")),
        "bench",
    )
    .unwrap();
    let start = Instant::now();
    let batches = runtime.block_on(async {
        let session = Session::new();
        let mut query = session.start(&job.queries[0]).await.unwrap();
        query.await_termination().await.unwrap();
        query.last_progress().map_or(0, |p| p.batch_id + 1)
    });
    assert_eq!(batches, BATCHES);
    start.elapsed().as_secs_f64() * 1e3 / BATCHES as f64
}
