//! The Kafka source, sink and `kindling produce`/`topics` against a real Kafka-compatible
//! broker (tansu, started by `scripts/kafka-broker.sh` on a free loopback port per test; each
//! test has its own broker and topics). A broker that cannot start fails the test.

#![expect(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::broker::Broker;
use crate::common::process::{free_port, kindling, reader_lines, spawn};
use crate::common::{Compare, compare_output};

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn produce_lines(broker: &Broker, topic: &str, lines: &str) {
    produce_bytes(broker, topic, lines.as_bytes());
}

fn produce_bytes(broker: &Broker, topic: &str, lines: &[u8]) {
    let out = kindling(
        &[
            "produce",
            "--bootstrap-servers",
            &broker.addr(),
            "--topic",
            topic,
            "--file",
            "-",
        ],
        Some(lines),
    );
    ok(&out);
}

/// A job reading `options` from the broker with `sql`, printing to the console.
fn job(broker: &Broker, options: &[(&str, &str)], sql: &str, extra_sink: &str) -> String {
    let mut text = format!(
        "name = \"kafka_test\"\n[source]\nformat = \"kafka\"\nname = \"lines\"\n[source.options]\n\"kafka.bootstrap.servers\" = \"{}\"\n",
        broker.addr()
    );
    for (k, v) in options {
        text.push_str(&format!("{k:?} = {v:?}\n"));
    }
    text.push_str(&format!(
        "[query]\nsql = \"\"\"{sql}\"\"\"\n[sink]\nformat = \"console\"\ntrigger = \"availableNow\"\n{extra_sink}[sink.options]\ntruncate = false\nnumRows = 1000\n"
    ));
    text
}

fn submit(job: &str, args: &[&str]) -> Output {
    let mut all = vec!["submit", "-"];
    all.extend_from_slice(args);
    kindling(&all, Some(job.as_bytes()))
}

/// The rows of every batch printed, in order, as their trimmed cells joined by commas
/// (headers and frames left out).
fn rows(stdout: &str) -> Vec<String> {
    let lines: Vec<&str> = stdout.lines().collect();
    let mut rows = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let is_header = i >= 2 && lines[i - 1].starts_with('+') && lines[i - 2].starts_with("----");
        if line.starts_with('|') && !is_header {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            rows.push(cells.join(","));
        }
    }
    rows
}

fn batches(stdout: &str) -> usize {
    stdout.lines().filter(|l| l.starts_with("Batch: ")).count()
}

#[test]
fn produced_tweets_rank_exactly_like_the_text_source() {
    let broker = Broker::start();
    broker.create_topic("test", 2);
    let input = Path::new(crate::common::process::manifest_dir())
        .join("tests/golden/spark_complete_allrows/input");
    for part in ["part-00000.txt", "part-00001.txt"] {
        broker.produce_file("test", input.join(part).to_str().unwrap());
    }
    // The tutorial job as shipped: console + the foreach_batch hook, here posting to a port
    // where nothing listens (logged, the query goes on) and bounded.
    let nowhere = free_port();
    let overrides = |format: &str| {
        let mut v = vec![
            "--conf".to_string(),
            format!("source.format={format}"),
            "--conf".to_string(),
            "sink.0.trigger=availableNow".to_string(),
            "--conf".to_string(),
            "sink.0.options.numRows=1000".to_string(),
            "--conf".to_string(),
            "sink.1.trigger=availableNow".to_string(),
            "--conf".to_string(),
            format!("sink.1.hooks.0.url=http://127.0.0.1:{nowhere}/update_data"),
            "--conf".to_string(),
            "sink.1.hooks.0.retries=0".to_string(),
        ];
        if format == "text" {
            v.extend([
                "--conf".to_string(),
                format!("source.options.path={}", input.display()),
            ]);
        } else {
            v.extend([
                "--conf".to_string(),
                format!("source.options.kafka.bootstrap.servers={}", broker.addr()),
            ]);
        }
        v
    };
    let run = |format: &str| {
        let mut args = vec![
            "submit".to_string(),
            "jobs/hashtag_ranking.toml".to_string(),
        ];
        args.extend(overrides(format));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&kindling(&args, None))
    };
    let from_kafka = run("kafka");
    let from_text = run("text");
    assert_eq!(batches(&from_kafka), 1, "{from_kafka}");
    compare_output(&from_text, &from_kafka, Compare::Ties).unwrap_or_else(|e| {
        panic!("{e}\n--- text source:\n{from_text}\n--- kafka source:\n{from_kafka}")
    });
}

#[test]
fn restart_reads_only_new_records_and_offsets_are_sparks() {
    let broker = Broker::start();
    broker.create_topic("events", 1);
    produce_lines(&broker, "events", "one\ntwo\nthree\n");
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("cp");
    let job = job(
        &broker,
        &[("subscribe", "events"), ("startingOffsets", "earliest")],
        "SELECT CAST(value AS STRING) AS value, partition, offset FROM lines",
        "",
    );
    let cp = checkpoint.to_str().unwrap();
    let first = ok(&submit(&job, &["--checkpoint-location", cp]));
    assert_eq!(rows(&first), ["one,0,0", "two,0,1", "three,0,2"]);
    produce_lines(&broker, "events", "four\nfive\n");
    let second = ok(&submit(&job, &["--checkpoint-location", cp]));
    assert!(second.contains("Batch: 1\n"), "{second}");
    assert_eq!(rows(&second), ["four,0,3", "five,0,4"]);
    // The offset log holds Spark's JSON, and sources/0/0 the initial offsets.
    let offsets = std::fs::read_to_string(checkpoint.join("offsets/1")).unwrap();
    assert_eq!(offsets.lines().last().unwrap(), r#"{"events":{"0":5}}"#);
    let initial = std::fs::read_to_string(checkpoint.join("sources/0/0")).unwrap();
    assert_eq!(initial, "v1\n{\"events\":{\"0\":0}}");
    // Nothing new: no batch at all.
    let third = ok(&submit(&job, &["--checkpoint-location", cp]));
    assert_eq!(batches(&third), 0, "{third}");
}

#[test]
fn starting_offsets_json_and_latest() {
    let broker = Broker::start();
    broker.create_topic("nums", 1);
    produce_lines(
        &broker,
        "nums",
        &(0..10).map(|i| format!("n{i}\n")).collect::<String>(),
    );
    let sql = "SELECT CAST(value AS STRING) AS value FROM lines";
    let from_7 = job(
        &broker,
        &[
            ("subscribe", "nums"),
            ("startingOffsets", r#"{"nums":{"0":7}}"#),
        ],
        sql,
        "",
    );
    assert_eq!(rows(&ok(&submit(&from_7, &[]))), ["n7", "n8", "n9"]);
    let earliest = job(
        &broker,
        &[
            ("assign", r#"{"nums":[0]}"#),
            ("startingOffsets", r#"{"nums":{"0":-2}}"#),
        ],
        sql,
        "",
    );
    assert_eq!(rows(&ok(&submit(&earliest, &[]))).len(), 10);
    // latest (the default for streams): what is there when the query starts is skipped.
    let latest = job(&broker, &[("subscribe", "nums")], sql, "");
    assert!(rows(&ok(&submit(&latest, &[]))).is_empty());
    let partial = job(
        &broker,
        &[
            ("subscribe", "nums"),
            ("startingOffsets", r#"{"other":{"0":1}}"#),
        ],
        sql,
        "",
    );
    let out = submit(&partial, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "If startingOffsets contains specific offsets, you must specify all TopicPartitions"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn max_offsets_per_trigger_splits_a_backlog_across_partitions() {
    let broker = Broker::start();
    broker.create_topic("backlog", 1);
    produce_lines(
        &broker,
        "backlog",
        &(0..10).map(|i| format!("r{i}\n")).collect::<String>(),
    );
    let job = job(
        &broker,
        &[
            ("subscribe", "backlog"),
            ("startingOffsets", "earliest"),
            ("maxOffsetsPerTrigger", "4"),
        ],
        "SELECT count(*) AS n FROM lines GROUP BY partition",
        "outputMode = \"update\"\n",
    );
    let out = ok(&submit(&job, &[]));
    // 10 offsets at 4 a trigger: batches of 4, 4 and 2; the running count shows it.
    assert_eq!(batches(&out), 3, "{out}");
    assert_eq!(rows(&out), ["4", "8", "10"]);
}

#[test]
fn a_topic_created_mid_stream_is_read_from_its_start() {
    let broker = Broker::start();
    broker.create_topic("pat-a", 1);
    produce_lines(&broker, "pat-a", "a1\n");
    let job = job(
        &broker,
        &[
            ("subscribePattern", "pat-.*"),
            ("startingOffsets", "earliest"),
        ],
        "SELECT topic, CAST(value AS STRING) AS value FROM lines",
        "",
    )
    .replace("trigger = \"availableNow\"", "trigger = \"100 ms\"");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .args(["submit", "-"])
        .env("KINDLING_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.as_bytes())
        .unwrap();
    let lines = lines_of(&mut child);
    wait_for_line(&lines, "|pat-a|a1   |");
    // Records produced before the new topic is created start it: it is read from offset 0.
    broker.create_topic("pat-b", 1);
    produce_lines(&broker, "pat-b", "b1\nb2\n");
    wait_for_line(&lines, "|pat-b|b2   |");
    produce_lines(&broker, "pat-a", "a2\n");
    wait_for_line(&lines, "|pat-a|a2   |");
    stop(child);
}

/// The child's stdout lines, as they come.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    reader_lines(child.stdout.take().unwrap())
}

/// Reads lines until `want` comes; fails after a minute (a guard, not a synchronization).
fn wait_for_line(lines: &mpsc::Receiver<String>, want: &str) {
    wait_for(lines, |l| l == want, want);
}

/// Reads lines until one passes `test`; fails after a minute.
fn wait_for(lines: &mpsc::Receiver<String>, test: impl Fn(&str) -> bool, want: &str) {
    if let Err(seen) = try_wait_for(lines, test) {
        panic!(
            "no line {want:?} within a minute; saw:\n{}",
            seen.join("\n")
        );
    }
}

/// Reads lines until one passes `test`; after a minute without it, the lines seen.
fn try_wait_for(
    lines: &mpsc::Receiver<String>,
    test: impl Fn(&str) -> bool,
) -> Result<(), Vec<String>> {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if test(&line) => return Ok(()),
            Ok(line) => seen.push(line),
            Err(_) => return Err(seen),
        }
    }
}

/// `kindling submit -` running `job` in the background, stdout and stderr piped (read both,
/// or the child blocks on a full pipe).
fn spawn_submit(job: &str, args: &[&str]) -> Child {
    let mut all = vec!["submit", "-"];
    all.extend_from_slice(args);
    spawn(&all, Some(job.as_bytes()))
}

fn stop(mut child: Child) {
    sigint(child.id());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
}

fn sigint(pid: u32) {
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
}

#[test]
fn fail_on_data_loss_fails_or_skips_like_spark() {
    let broker = Broker::start();
    broker.create_topic("lossy", 1);
    produce_lines(&broker, "lossy", "a\nb\nc\nd\ne\n");
    let dir = tempfile::tempdir().unwrap();
    let job = job(
        &broker,
        &[("subscribe", "lossy"), ("startingOffsets", "earliest")],
        "SELECT CAST(value AS STRING) AS value FROM lines",
        "",
    );
    let cp = dir.path().join("cp");
    let cp = cp.to_str().unwrap();
    assert_eq!(
        rows(&ok(&submit(&job, &["--checkpoint-location", cp]))).len(),
        5
    );
    // The topic is recreated with fewer records than the checkpoint has read (this broker
    // cannot delete records, so recreating stands for both kinds of loss).
    ok(&kindling(
        &[
            "topics",
            "delete",
            "lossy",
            "--bootstrap-servers",
            &broker.addr(),
        ],
        None,
    ));
    broker.create_topic("lossy", 1);
    produce_lines(&broker, "lossy", "x\ny\n");
    let failed = submit(&job, &["--checkpoint-location", cp]);
    assert_eq!(failed.status.code(), Some(1));
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(
        err.contains("[KAFKA_DATA_LOSS.PARTITION_OFFSET_CHANGED] Some data may have been lost")
            && err.contains("Partition lossy-0's offset was changed from 5 to 2."),
        "{err}"
    );
    // failOnDataLoss=false: Spark skips to the partition's end and goes on from there.
    let tolerant = [
        "--checkpoint-location",
        cp,
        "--conf",
        "source.options.failOnDataLoss=false",
    ];
    let skipped = submit(&job, &tolerant);
    let out = ok(&skipped);
    assert!(rows(&out).is_empty(), "{out}");
    assert!(String::from_utf8_lossy(&skipped.stderr).contains("KAFKA_DATA_LOSS"));
    produce_lines(&broker, "lossy", "z\n");
    assert_eq!(rows(&ok(&submit(&job, &tolerant))), ["z"]);
}

#[test]
fn forbidden_and_missing_options_are_refused_with_sparks_messages() {
    let broker = Broker::start();
    let sql = "SELECT CAST(value AS STRING) AS value FROM lines";
    for (options, message) in [
        (
            vec![("subscribe", "t"), ("kafka.auto.offset.reset", "earliest")],
            "Kafka option 'auto.offset.reset' is not supported.",
        ),
        (
            vec![("subscribe", "t"), ("kafka.key.deserializer", "x")],
            "Kafka option 'key.deserializer' is not supported as keys are deserialized as byte arrays",
        ),
        (
            vec![("subscribe", "t"), ("kafka.enable.auto.commit", "true")],
            "Kafka option 'enable.auto.commit' is not supported",
        ),
        (
            vec![],
            "One of the following options must be specified for Kafka source",
        ),
    ] {
        let out = submit(&job(&broker, &options, sql, ""), &[]);
        assert_eq!(out.status.code(), Some(2), "{options:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{options:?}: {err}");
    }
}

#[test]
fn kafka_sink_round_trip_with_keys_tombstones_and_large_values() {
    let broker = Broker::start();
    broker.create_topic("words", 1);
    broker.create_topic("upper", 1);
    let big = "x".repeat(1_100_000);
    let mut input = format!("alpha\nnull\nbeta\n{big}\n\u{00e9}t\u{00e9}\n\n").into_bytes();
    input.extend_from_slice(b"\xff\xfeok\n");
    produce_bytes(&broker, "words", &input);
    // The source passes bytes through as they are: empty and invalid UTF-8 values included.
    let lengths = job(
        &broker,
        &[("subscribe", "words"), ("startingOffsets", "earliest")],
        "SELECT length(value) AS n FROM lines",
        "",
    );
    assert_eq!(
        rows(&ok(&submit(&lengths, &[]))),
        ["5", "4", "4", "1100000", "5", "0", "4"]
    );
    let dir = tempfile::tempdir().unwrap();
    let writer = format!(
        "name = \"writer\"\n[source]\nformat = \"kafka\"\nname = \"lines\"\n[source.options]\n\"kafka.bootstrap.servers\" = \"{}\"\nsubscribe = \"words\"\nstartingOffsets = \"earliest\"\n[query]\nsql = \"\"\"SELECT CAST(value AS STRING) AS key, CASE WHEN CAST(value AS STRING) = 'null' THEN NULL ELSE upper(CAST(value AS STRING)) END AS value FROM lines\"\"\"\n[sink]\nformat = \"kafka\"\ntrigger = \"availableNow\"\ncheckpointLocation = \"{}\"\n[sink.options]\n\"kafka.bootstrap.servers\" = \"{}\"\ntopic = \"upper\"\n\"kafka.message.max.bytes\" = \"16777216\"\n",
        broker.addr(),
        dir.path().join("writer").display(),
        broker.addr()
    );
    ok(&submit(&writer, &[]));
    let reader = job(
        &broker,
        &[("subscribe", "upper"), ("startingOffsets", "earliest")],
        "SELECT CAST(key AS STRING) AS k, CASE WHEN value IS NULL THEN 'tombstone' ELSE substring(CAST(value AS STRING), 1, 8) END AS v, length(value) AS n FROM lines",
        "",
    );
    let out = ok(&submit(&reader, &[]));
    let got = rows(&out);
    assert_eq!(got.len(), 7, "{out}");
    assert_eq!(got[0], "alpha,ALPHA,5");
    assert_eq!(got[1], "null,tombstone,NULL");
    assert_eq!(got[2], "beta,BETA,4");
    assert!(got[3].ends_with(",XXXXXXXX,1100000"), "{}", got[3]);
    assert_eq!(got[4], "\u{00e9}t\u{00e9},\u{00c9}T\u{00c9},5");
    assert_eq!(got[5], ",,0");
    assert_eq!(got[6], "\u{fffd}\u{fffd}ok,\u{fffd}\u{fffd}OK,8");
}

#[test]
fn topics_are_created_listed_and_deleted() {
    let broker = Broker::start();
    broker.create_topic("alpha", 3);
    broker.create_topic("beta", 1);
    let listed = ok(&kindling(
        &["topics", "list", "--bootstrap-servers", &broker.addr()],
        None,
    ));
    assert!(
        listed.contains("alpha\t3\n") && listed.contains("beta\t1\n"),
        "{listed}"
    );
    ok(&kindling(
        &[
            "topics",
            "delete",
            "beta",
            "--bootstrap-servers",
            &broker.addr(),
        ],
        None,
    ));
    let listed = ok(&kindling(
        &["topics", "list", "--bootstrap-servers", &broker.addr()],
        None,
    ));
    assert!(!listed.contains("beta"), "{listed}");
    let summary = kindling(
        &[
            "produce",
            "--bootstrap-servers",
            &broker.addr(),
            "--topic",
            "alpha",
            "--count",
            "25",
            "--rate",
            "1000/s",
        ],
        None,
    );
    ok(&summary);
    let err = String::from_utf8_lossy(&summary.stderr);
    assert!(err.contains("produced 25 records ("), "{err}");
    let count = job(
        &broker,
        &[("subscribe", "alpha"), ("startingOffsets", "earliest")],
        "SELECT count(*) AS n FROM lines",
        "outputMode = \"complete\"\n",
    );
    assert_eq!(rows(&ok(&submit(&count, &[]))), ["25"]);
}

#[test]
fn a_broker_restart_mid_stream_loses_and_duplicates_nothing() {
    let broker = Broker::start_durable();
    broker.create_topic("steady", 2);
    produce_lines(
        &broker,
        "steady",
        &(0..50).map(|i| format!("r{i}\n")).collect::<String>(),
    );
    let dir = tempfile::tempdir().unwrap();
    let cp = dir.path().join("cp");
    let job = job(
        &broker,
        &[("subscribe", "steady"), ("startingOffsets", "earliest")],
        "SELECT count(*) AS n, sum(CAST(substring(CAST(value AS STRING), 2) AS INT)) AS s FROM lines",
        "outputMode = \"complete\"\n",
    )
    .replace("trigger = \"availableNow\"", "trigger = \"100 ms\"");
    let mut child = spawn_submit(&job, &["--checkpoint-location", cp.to_str().unwrap()]);
    let lines = lines_of(&mut child);
    let stderr = reader_lines(child.stderr.take().unwrap());
    if let Err(seen) = try_wait_for(&lines, |l| l == "|50 |1225|") {
        let err: Vec<String> = stderr.try_iter().collect();
        panic!(
            "no count of 50; saw:\n{}\nstderr:\n{}",
            seen.join("\n"),
            err.join("\n")
        );
    }
    broker.restart();
    produce_lines(
        &broker,
        "steady",
        &(50..80).map(|i| format!("r{i}\n")).collect::<String>(),
    );
    // Every record exactly once: 80 rows whose numbers sum to 0 + 1 + ... + 79.
    wait_for_line(&lines, "|80 |3160|");
    stop(child);
}

#[test]
fn a_missing_topic_is_named_and_read_once_it_exists() {
    let broker = Broker::start();
    let job = job(
        &broker,
        &[("subscribe", "later"), ("startingOffsets", "earliest")],
        "SELECT CAST(value AS STRING) AS value FROM lines",
        "",
    )
    .replace("trigger = \"availableNow\"", "trigger = \"100 ms\"");
    let mut child = spawn_submit(&job, &[]);
    let out = lines_of(&mut child);
    let err = reader_lines(child.stderr.take().unwrap());
    wait_for(
        &err,
        |l| {
            l.contains("topic 'later' does not exist on")
                && l.contains("kindling topics create later")
        },
        "the missing-topic warning",
    );
    broker.create_topic("later", 1);
    produce_lines(&broker, "later", "hello\n");
    wait_for_line(&out, "|hello|");
    stop(child);
}

#[test]
fn a_batch_replayed_after_a_crash_reads_the_same_records() {
    let broker = Broker::start();
    broker.create_topic("replay", 2);
    produce_lines(
        &broker,
        "replay",
        &(0..10).map(|i| format!("v{i}\n")).collect::<String>(),
    );
    let job = job(
        &broker,
        &[
            ("subscribe", "replay"),
            ("startingOffsets", "earliest"),
            ("maxOffsetsPerTrigger", "4"),
        ],
        "SELECT count(*) AS n, sum(CAST(substring(CAST(value AS STRING), 2) AS INT)) AS s FROM lines",
        "outputMode = \"complete\"\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let straight = ok(&submit(
        &job,
        &[
            "--checkpoint-location",
            dir.path().join("a").to_str().unwrap(),
        ],
    ));
    assert_eq!(batches(&straight), 3, "{straight}");
    let cp = dir.path().join("b");
    let cp = cp.to_str().unwrap();
    let mut crashing = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .args(["submit", "-", "--checkpoint-location", cp])
        .env("KINDLING_CRASH_AT", "before-commit:1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    crashing
        .stdin
        .take()
        .unwrap()
        .write_all(job.as_bytes())
        .unwrap();
    let crashed = crashing.wait_with_output().unwrap();
    assert!(!crashed.status.success());
    // Batch 1 was written to the sink but not committed: the restart runs it again from the
    // logged offsets, and what follows is what an uninterrupted run printed.
    let resumed = ok(&submit(&job, &["--checkpoint-location", cp]));
    let tail = &straight[straight.find("Batch: 1").unwrap() - 44..];
    assert_eq!(resumed, tail);
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_reports_lag_and_the_group_sees_committed_offsets() {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let broker = Broker::start();
    broker.create_topic("lag", 1);
    produce_lines(
        &broker,
        "lag",
        &(0..10).map(|i| format!("l{i}\n")).collect::<String>(),
    );
    let text = job(
        &broker,
        &[
            ("subscribe", "lag"),
            ("startingOffsets", "earliest"),
            ("maxOffsetsPerTrigger", "4"),
            ("kafka.group.id", "monitor"),
        ],
        "SELECT CAST(value AS STRING) AS value FROM lines",
        "format = \"memory\"\n",
    )
    .replace("format = \"console\"\n", "");
    let spec = kindling::job::JobSpec::parse(&text, "lag.toml", &[]).unwrap();
    let plan = kindling::JobPlan::from_spec(spec, "lag.toml", Path::new("."), "lag").unwrap();
    let session = kindling::Session::new();
    let mut queries = session.start_job(&plan).await.unwrap();
    queries[0].await_termination().await.unwrap();
    let progress = queries[0].recent_progress();
    let behind: Vec<&str> = progress
        .iter()
        .map(|p| p.sources[0].metrics["maxOffsetsBehindLatest"].as_str())
        .collect();
    assert_eq!(behind, ["6", "2", "0"]);
    assert_eq!(
        progress[0].sources[0].end_offset.to_string(),
        r#"{"lag":{"0":4}}"#
    );
    // The committed offsets are visible to standard tools through the consumer group.
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.addr())
        .set("group.id", "monitor")
        .create()
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition("lag", 0);
    let committed = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap();
    assert_eq!(
        committed.find_partition("lag", 0).unwrap().offset(),
        rdkafka::Offset::Offset(10)
    );
}

#[test]
fn min_offsets_per_trigger_waits_for_enough_records() {
    let broker = Broker::start();
    broker.create_topic("trickle", 1);
    let job = job(
        &broker,
        &[
            ("subscribe", "trickle"),
            ("startingOffsets", "earliest"),
            ("minOffsetsPerTrigger", "5"),
            ("maxTriggerDelay", "10m"),
        ],
        "SELECT count(*) AS n FROM lines",
        "outputMode = \"complete\"\n",
    )
    .replace("trigger = \"availableNow\"", "trigger = \"100 ms\"");
    let mut child = spawn_submit(&job, &[]);
    let lines = lines_of(&mut child);
    let _stderr = reader_lines(child.stderr.take().unwrap());
    produce_lines(&broker, "trickle", "a\nb\nc\n");
    produce_lines(&broker, "trickle", "d\ne\n");
    // Three records are not enough for a batch: the first one holds all five.
    let first = std::cell::RefCell::new(None);
    wait_for(
        &lines,
        |l| {
            let is_row = l.starts_with('|') && !l.starts_with("|n");
            if is_row {
                first.replace(Some(l.to_string()));
            }
            is_row
        },
        "a count row",
    );
    assert_eq!(first.into_inner().as_deref(), Some("|5  |"));
    stop(child);
}

#[test]
fn the_sink_writes_topic_partition_and_headers_columns() {
    let broker = Broker::start();
    broker.create_topic("hsrc", 1);
    broker.create_topic("hdst", 2);
    produce_lines(&broker, "hsrc", "one\ntwo\n");
    let dir = tempfile::tempdir().unwrap();
    let writer = format!(
        "name = \"hw\"\n[source]\nformat = \"kafka\"\nname = \"lines\"\n[source.options]\n\"kafka.bootstrap.servers\" = \"{0}\"\nsubscribe = \"hsrc\"\nstartingOffsets = \"earliest\"\n[query]\nsql = \"\"\"SELECT CAST(value AS STRING) AS value, 'hdst' AS topic, 1 AS partition, array(named_struct('key', 'origin', 'value', CAST('kindling' AS BINARY))) AS headers FROM lines\"\"\"\n[sink]\nformat = \"kafka\"\ntrigger = \"availableNow\"\ncheckpointLocation = \"{1}\"\n[sink.options]\n\"kafka.bootstrap.servers\" = \"{0}\"\n",
        broker.addr(),
        dir.path().join("w").display()
    );
    ok(&submit(&writer, &[]));
    let reader = job(
        &broker,
        &[
            ("subscribe", "hdst"),
            ("startingOffsets", "earliest"),
            ("includeHeaders", "true"),
        ],
        "SELECT CAST(value AS STRING) AS v, partition, element_at(headers, 1).key AS hk, CAST(element_at(headers, 1).value AS STRING) AS hv, size(headers) AS n FROM lines",
        "",
    );
    assert_eq!(
        rows(&ok(&submit(&reader, &[]))),
        ["one,1,origin,kindling,1", "two,1,origin,kindling,1"]
    );
}
