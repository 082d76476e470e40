//! Engine behaviour through the library API: bounded triggers, incremental aggregation against
//! a direct computation, update mode's changed keys, new files while running, global limits.

#![expect(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::util::pretty::pretty_format_batches;
use kindling::job::JobSpec;
use kindling::source::tweets::TweetGenerator;
use kindling::{JobPlan, Session};

fn job(toml: &str, overrides: &[(&str, &str)]) -> JobPlan {
    job_in(toml, overrides, crate::common::process::manifest_dir())
}

fn job_in(toml: &str, overrides: &[(&str, &str)], base: &str) -> JobPlan {
    let overrides: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let spec = JobSpec::parse(toml, "test.toml", &overrides).unwrap();
    JobPlan::from_spec(spec, "test.toml", Path::new(base), "test").unwrap()
}

/// Writes `name` into `dir` with a modification time `i` seconds after a fixed base.
fn write_file(dir: &Path, name: &str, text: &str, i: u64) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let f = std::fs::File::options().write(true).open(&path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i))
        .unwrap();
}

fn text_job(dir: &Path, sql: &str, mode: &str, trigger: &str) -> JobPlan {
    job(
        &format!(
            r#"
name = "q"
[source]
format = "text"
name = "lines"
[source.options]
path = "{}"
maxFilesPerTrigger = 1
[query]
sql = """{sql}"""
[sink]
format = "memory"
outputMode = "{mode}"
trigger = "{trigger}"
"#,
            dir.display()
        ),
        &[],
    )
}

/// The first (string) column of memory table `q`, in arrival order.
fn first_column(session: &Session) -> Vec<String> {
    let batches = session
        .memory_tables()
        .get("q")
        .map(|t| t.batches)
        .unwrap_or_default();
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(0).as_string_view();
            (0..a.len())
                .map(|i| a.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn string_int_rows(batches: &[RecordBatch]) -> Vec<(String, i64)> {
    let mut rows = Vec::new();
    for b in batches {
        let k = datafusion::arrow::compute::cast(
            b.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .unwrap();
        let k = k.as_string::<i32>();
        let v = b.column(1).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            rows.push((k.value(i).to_string(), v.value(i)));
        }
    }
    rows
}

#[tokio::test]
async fn demo_query_over_bounded_tweets_matches_a_direct_count() {
    // Unpaced and finite: all 3000 tweets exist at start, 1000 per batch.
    let plan = job_in(
        &std::fs::read_to_string(
            crate::common::process::root().join("jobs/hashtag_ranking_demo.toml"),
        )
        .unwrap(),
        &[
            ("sink.format", "memory"),
            ("sink.trigger", "availableNow"),
            ("source.options.rowsPerSecond", "0"),
            ("source.options.totalRows", "3000"),
            ("source.options.rowsPerBatch", "1000"),
            ("source.options.seed", "7"),
        ],
        &format!("{}/jobs", crate::common::process::manifest_dir()),
    );
    let session = Session::new();
    let mut query = session.start(&plan.queries[0]).await.unwrap();
    query.await_termination().await.unwrap();
    let progress = query.recent_progress();
    assert_eq!(
        progress
            .iter()
            .map(|p| p.num_input_rows)
            .collect::<Vec<_>>(),
        [1000, 1000, 1000]
    );
    assert_eq!(
        progress.iter().map(|p| p.batch_id).collect::<Vec<_>>(),
        [0, 1, 2]
    );

    let generator = TweetGenerator::new(7);
    let mut expected: HashMap<String, i64> = HashMap::new();
    for i in 0..3000 {
        for token in generator.tweet(i).split(' ') {
            if token.starts_with('#') {
                *expected.entry(token.to_string()).or_default() += 1;
            }
        }
    }
    let table = session.memory_tables().get("hashtag_ranking_demo").unwrap();
    let rows = string_int_rows(&table.batches);
    assert_eq!(rows.len(), expected.len());
    for (tag, count) in &rows {
        assert_eq!(expected.get(tag), Some(count), "{tag}");
    }
    assert!(
        rows.windows(2).all(|w| w[0].1 >= w[1].1),
        "sorted by count desc"
    );
    let state = &progress[2].state_operators[0];
    assert_eq!(state.num_rows_total, expected.len() as u64);
}

#[tokio::test]
async fn update_mode_emits_exactly_the_changed_keys() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "#a #b #a\n#c\n", 0);
    write_file(dir.path(), "1.txt", "#b x y\n", 1);
    write_file(dir.path(), "2.txt", "", 2);
    let sql = "SELECT tag, count(*) AS n FROM (SELECT explode(split(value, ' ')) AS tag FROM lines) WHERE startswith(tag, '#') GROUP BY tag";
    let session = Session::new();
    let mut query = session
        .start(&text_job(dir.path(), sql, "update", "availableNow").queries[0])
        .await
        .unwrap();
    query.await_termination().await.unwrap();
    let rows = string_int_rows(&session.memory_tables().get("q").unwrap().batches);
    assert_eq!(
        rows,
        [
            ("#a".into(), 2),
            ("#b".into(), 1),
            ("#c".into(), 1),
            ("#b".into(), 2)
        ]
    );
    let progress = query.recent_progress();
    let output: Vec<i64> = progress.iter().map(|p| p.sink.num_output_rows).collect();
    assert_eq!(
        output,
        [3, 1, 0],
        "the empty file is a batch with no changed keys"
    );
    let updated: Vec<u64> = progress
        .iter()
        .map(|p| p.state_operators[0].num_rows_updated)
        .collect();
    assert_eq!(updated, [3, 1, 0]);
}

#[tokio::test]
async fn every_partial_aggregate_merges_like_a_batch_query() {
    let dir = tempfile::tempdir().unwrap();
    let mut all = String::new();
    for f in 0..4u64 {
        let mut text = String::new();
        for i in 0..50u64 {
            let k = (i * 7 + f) % 5;
            let v = (i * 13 + f * 31) % 17;
            text.push_str(&format!("k{k},{v}\n"));
        }
        if f == 2 {
            text.push_str("k9,\n");
        }
        all.push_str(&text);
        write_file(dir.path(), &format!("{f}.txt"), &text, f);
    }
    // An empty file is an empty batch: it changes no key.
    write_file(dir.path(), "4.txt", "", 4);
    let sql = "SELECT k, count(*) AS c, count(v) AS cv, sum(v) AS s, avg(v) AS a, min(v) AS lo, max(v) AS hi, bool_or(v > 15) AS big, round(stddev(v), 9) AS sd, \
        max_by(v, md5(CAST(v AS STRING))) AS mb, min_by(v * 2, md5(CAST(v AS STRING))) FILTER (WHERE v > 3) AS nb, every(v < 17) AS small \
        FROM (SELECT split_part(value, ',', 1) AS k, CAST(NULLIF(split_part(value, ',', 2), '') AS BIGINT) AS v FROM lines) \
        GROUP BY k ORDER BY k";
    let session = Session::new();
    let mut query = session
        .start(&text_job(dir.path(), sql, "complete", "availableNow").queries[0])
        .await
        .unwrap();
    query.await_termination().await.unwrap();
    assert_eq!(query.recent_progress().len(), 5);
    let streamed = session.memory_tables().get("q").unwrap().batches;

    // The same query as one batch over all the rows.
    let ctx = kindling::sql::new_session().unwrap();
    let lines: Vec<&str> = all.lines().collect();
    let batch = RecordBatch::try_from_iter(vec![(
        "value",
        std::sync::Arc::new(datafusion::arrow::array::StringArray::from(lines)) as _,
    )])
    .unwrap();
    ctx.register_batch("lines", batch).unwrap();
    let plan = kindling::sql::plan_query(&ctx, sql, "batch").await.unwrap();
    let expected = ctx
        .execute_logical_plan(plan)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(
        pretty_format_batches(&streamed).unwrap().to_string(),
        pretty_format_batches(&expected).unwrap().to_string()
    );
}

#[tokio::test]
async fn new_files_are_picked_up_while_running_and_read_once() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "one\ntwo\n", 0);
    let session = Session::new();
    let mut query = session
        .start(&text_job(dir.path(), "SELECT value FROM lines", "append", "0").queries[0])
        .await
        .unwrap();
    assert!(query.wait_for_batches(1).await);
    write_file(dir.path(), "1.txt", "three\n", 1);
    assert!(query.wait_for_batches(2).await);
    query.stop();
    query.await_termination().await.unwrap();
    assert_eq!(first_column(&session), ["one", "two", "three"]);
    assert_eq!(query.status().message, "Stopped");
}

#[tokio::test]
async fn a_query_that_ends_early_wakes_every_waiter() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "x\n", 0);
    let session = Session::new();
    let mut query = session
        .start(
            &text_job(
                dir.path(),
                "SELECT value FROM lines",
                "append",
                "availableNow",
            )
            .queries[0],
        )
        .await
        .unwrap();
    let watch = query.watch();
    // Only one batch exists: both waits must end when the query does, short of 5.
    let (by_handle, by_watch) = tokio::join!(query.wait_for_batches(5), watch.wait_for_batches(5));
    assert!(!by_handle && !by_watch);
    assert!(!query.is_active() && !watch.is_active());
    assert_eq!(query.batches_committed(), 1);
    assert!(query.wait_for_batches(1).await);
    query.await_termination().await.unwrap();
}

#[tokio::test]
async fn trigger_once_takes_everything_in_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        write_file(dir.path(), &format!("{i}.txt"), "x\n", i);
    }
    let session = Session::new();
    let mut query = session
        .start(&text_job(dir.path(), "SELECT value FROM lines", "append", "once").queries[0])
        .await
        .unwrap();
    query.await_termination().await.unwrap();
    let progress = query.recent_progress();
    assert_eq!(progress.len(), 1);
    assert_eq!(progress[0].num_input_rows, 3);
}

#[tokio::test]
async fn append_limit_holds_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "a\nb\n", 0);
    write_file(dir.path(), "1.txt", "c\nd\n", 1);
    let session = Session::new();
    let mut query = session
        .start(
            &text_job(
                dir.path(),
                "SELECT value FROM lines LIMIT 3",
                "append",
                "availableNow",
            )
            .queries[0],
        )
        .await
        .unwrap();
    query.await_termination().await.unwrap();
    let rows: usize = session
        .memory_tables()
        .get("q")
        .unwrap()
        .batches
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, 3);
}

#[tokio::test]
async fn a_failing_batch_stops_the_query_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "1\nx\n", 0);
    let session = Session::new();
    let mut query = session
        .start(
            &text_job(
                dir.path(),
                "SELECT CAST(value AS INT) AS v FROM lines",
                "append",
                "availableNow",
            )
            .queries[0],
        )
        .await
        .unwrap();
    let err = query.await_termination().await.unwrap_err();
    assert_eq!(err.exit_code(), 1);
    let again = query.await_termination().await.unwrap_err();
    assert_eq!((again.exit_code(), again.report()), (1, err.report()));
    let message = err.report();
    assert!(
        message.starts_with("query 'q' failed in batch 0: [CAST_INVALID_INPUT]"),
        "{message}"
    );
    assert!(
        query
            .status()
            .message
            .starts_with("Terminated with exception")
    );
}

#[tokio::test]
async fn dataframe_steps_cover_pyspark_methods() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "#a x\n#b\n#a\n", 0);
    write_file(dir.path(), "1.txt", "#a\n#c\n", 1);
    let toml = format!(
        r#"
name = "q"
[source]
format = "text"
[source.options]
path = "{}"
maxFilesPerTrigger = 1
[[query.steps]]
selectExpr = ["value", "length(value) AS n"]
[[query.steps]]
withColumn = {{ name = "n", expr = "n * 10" }}
[[query.steps]]
withColumn = {{ name = "first", expr = "split(value, ' ')[0]" }}
[[query.steps]]
drop = ["value"]
[[query.steps]]
where = "n > 0"
[[query.steps]]
groupBy = ["first"]
agg = ["sum(n) AS total", "count(*)"]
[[query.steps]]
withColumnRenamed = ["first", "tag"]
[[query.steps]]
sort = ["total DESC", "tag"]
[[query.steps]]
limit = 2
[sink]
format = "memory"
outputMode = "complete"
trigger = "availableNow"
"#,
        dir.path().display()
    );
    let plan = job(&toml, &[]);
    let session = Session::new();
    let mut query = session.start(&plan.queries[0]).await.unwrap();
    query.await_termination().await.unwrap();
    let table = session.memory_tables().get("q").unwrap();
    let names: Vec<String> = table
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["tag", "total", "count(1)"]);
    let text = pretty_format_batches(&table.batches).unwrap().to_string();
    assert!(text.contains("| #a  | 80    | 3        |"), "{text}");
    assert!(text.contains("| #b  | 20    | 1        |"), "{text}");
    assert!(!text.contains("#c"), "limited to 2 rows: {text}");
}

#[tokio::test]
async fn drop_duplicates_emits_each_row_once_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "a\nb\na\n", 0);
    write_file(dir.path(), "1.txt", "b\nc\n", 1);
    let toml = format!(
        r#"
name = "q"
[source]
format = "text"
[source.options]
path = "{}"
maxFilesPerTrigger = 1
[[query.steps]]
dropDuplicates = true
[sink]
format = "memory"
trigger = "availableNow"
"#,
        dir.path().display()
    );
    let session = Session::new();
    let mut query = session.start(&job(&toml, &[]).queries[0]).await.unwrap();
    query.await_termination().await.unwrap();
    let values: Vec<String> = session
        .memory_tables()
        .get("q")
        .unwrap()
        .batches
        .iter()
        .flat_map(|b| {
            let a = datafusion::arrow::compute::cast(
                b.column(0),
                &datafusion::arrow::datatypes::DataType::Utf8,
            )
            .unwrap();
            let a = a.as_string::<i32>();
            (0..a.len())
                .map(|i| a.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(values, ["a", "b", "c"]);
}

/// The rows a LIMIT let through are counted in the checkpoint (Spark's
/// `StreamingGlobalLimitExec` keeps them in state): a restart goes on from the count instead of
/// emitting up to n rows again, and a batch replayed after a crash counts from its start.
#[tokio::test]
async fn a_limits_count_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "a\nb\n", 0);
    let mut plan = text_job(
        dir.path(),
        "SELECT value FROM lines LIMIT 3",
        "append",
        "availableNow",
    );
    plan.queries[0].sink.checkpoint_location = Some(checkpoint.path().to_path_buf());
    let mut emitted = Vec::new();
    for (i, file) in ["c\nd\n", "e\n"].iter().enumerate() {
        let session = Session::new();
        let mut query = session.start(&plan.queries[0]).await.unwrap();
        query.await_termination().await.unwrap();
        emitted.extend(first_column(&session));
        write_file(dir.path(), &format!("{}.txt", i + 1), file, i as u64 + 1);
    }
    let session = Session::new();
    let mut query = session.start(&plan.queries[0]).await.unwrap();
    query.await_termination().await.unwrap();
    emitted.extend(first_column(&session));
    assert_eq!(
        emitted,
        ["a", "b", "c"],
        "three rows in all, across three runs"
    );
    assert_eq!(
        query.recent_progress().len(),
        1,
        "the last run still reads its file"
    );
}

#[tokio::test]
async fn a_restart_resumes_after_the_last_commit_with_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "#a #b\n", 0);
    write_file(dir.path(), "1.txt", "#a\n", 1);
    let sql = "SELECT tag, count(*) AS n FROM (SELECT explode(split(value, ' ')) AS tag FROM lines) GROUP BY tag ORDER BY tag";
    let mut plan = text_job(dir.path(), sql, "complete", "availableNow");
    plan.queries[0].sink.checkpoint_location = Some(checkpoint.path().to_path_buf());
    let first_id = {
        let session = Session::new();
        let mut query = session.start(&plan.queries[0]).await.unwrap();
        query.await_termination().await.unwrap();
        assert_eq!(query.recent_progress().len(), 2);
        query.id()
    };
    write_file(dir.path(), "2.txt", "#b #c\n", 2);
    let session = Session::new();
    let mut query = session.start(&plan.queries[0]).await.unwrap();
    query.await_termination().await.unwrap();
    assert_eq!(
        query.id(),
        first_id,
        "the query id is kept in the checkpoint"
    );
    let progress = query.recent_progress();
    assert_eq!(progress.len(), 1, "only the new file is read");
    assert_eq!(progress[0].batch_id, 2);
    assert_eq!(progress[0].num_input_rows, 1);
    let rows = string_int_rows(&session.memory_tables().get("q").unwrap().batches);
    assert_eq!(rows, [("#a".into(), 2), ("#b".into(), 2), ("#c".into(), 1)]);
}

#[tokio::test]
async fn an_uncommitted_batch_is_replayed_with_its_logged_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "#a\n", 0);
    write_file(dir.path(), "1.txt", "#b\n", 1);
    let sql = "SELECT tag, count(*) AS n FROM (SELECT explode(split(value, ' ')) AS tag FROM lines) GROUP BY tag ORDER BY tag";
    let mut plan = text_job(dir.path(), sql, "complete", "availableNow");
    plan.queries[0].sink.checkpoint_location = Some(checkpoint.path().to_path_buf());
    {
        let session = Session::new();
        let mut query = session.start(&plan.queries[0]).await.unwrap();
        query.await_termination().await.unwrap();
    }
    // As if the process died after logging batch 1's offsets, before its commit.
    std::fs::remove_file(checkpoint.path().join("commits/1")).unwrap();
    write_file(dir.path(), "2.txt", "#c\n", 2);
    let session = Session::new();
    let mut query = session.start(&plan.queries[0]).await.unwrap();
    query.await_termination().await.unwrap();
    let progress = query.recent_progress();
    let batches: Vec<(u64, u64)> = progress
        .iter()
        .map(|p| (p.batch_id, p.num_input_rows))
        .collect();
    assert_eq!(
        batches,
        [(1, 1), (2, 1)],
        "batch 1 re-runs with its own file, then batch 2"
    );
    let rows = string_int_rows(&session.memory_tables().get("q").unwrap().batches);
    assert_eq!(rows, [("#a".into(), 1), ("#b".into(), 1), ("#c".into(), 1)]);
}

#[tokio::test]
async fn a_checkpoint_of_another_source_or_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "#a\n", 0);
    let sql = "SELECT tag, count(*) AS n FROM (SELECT explode(split(value, ' ')) AS tag FROM lines) GROUP BY tag";
    let mut plan = text_job(dir.path(), sql, "complete", "availableNow");
    plan.queries[0].sink.checkpoint_location = Some(checkpoint.path().to_path_buf());
    let session = Session::new();
    session
        .start(&plan.queries[0])
        .await
        .unwrap()
        .await_termination()
        .await
        .unwrap();

    let mut moved = text_job(other.path(), sql, "complete", "availableNow");
    moved.queries[0].sink.checkpoint_location = Some(checkpoint.path().to_path_buf());
    let err = session.start(&moved.queries[0]).await.unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string()
            .contains("does not allow changing the source"),
        "{err}"
    );

    let sums = "SELECT tag, sum(length(tag)) AS n, max(tag) AS m FROM (SELECT explode(split(value, ' ')) AS tag FROM lines) GROUP BY tag";
    let mut reshaped = text_job(dir.path(), sums, "complete", "availableNow");
    reshaped.queries[0].sink.checkpoint_location = Some(checkpoint.path().to_path_buf());
    let err = session.start(&reshaped.queries[0]).await.unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("state changed shape"), "{err}");
}

#[tokio::test]
async fn file_sinks_write_each_batch_once_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "a\nbb\n", 0);
    write_file(dir.path(), "1.txt", "ccc\n", 1);
    let out = tempfile::tempdir().unwrap();
    let session = Session::new();
    for format in ["json", "csv", "text", "parquet"] {
        let sql = if format == "text" {
            "SELECT value FROM lines"
        } else {
            "SELECT value, length(value) AS n FROM lines"
        };
        let mut plan = text_job(dir.path(), sql, "append", "availableNow");
        let sink = &mut plan.queries[0].sink;
        sink.format = format.to_string();
        let path = out.path().join(format);
        sink.options =
            kindling::options::Options::from_pairs("sink", [("path", path.to_str().unwrap())]);
        sink.checkpoint_location = Some(out.path().join(format!("{format}-checkpoint")));
        let mut query = session.start(&plan.queries[0]).await.unwrap();
        query.await_termination().await.unwrap();
        let files = kindling::sink::file::committed_files(&path).unwrap();
        assert_eq!(
            files.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            [0, 1],
            "{format}"
        );
        let content: Vec<String> = files
            .iter()
            .map(|(_, f)| {
                if format == "parquet" {
                    let file = std::fs::File::open(f).unwrap();
                    let reader =
                        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                            file,
                        )
                        .unwrap()
                        .build()
                        .unwrap();
                    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
                    pretty_format_batches(&batches).unwrap().to_string()
                } else {
                    std::fs::read_to_string(f).unwrap()
                }
            })
            .collect();
        match format {
            "json" => assert_eq!(
                content,
                [
                    "{\"value\":\"a\",\"n\":1}\n{\"value\":\"bb\",\"n\":2}\n",
                    "{\"value\":\"ccc\",\"n\":3}\n"
                ]
            ),
            "csv" => assert_eq!(content, ["a,1\nbb,2\n", "ccc,3\n"]),
            "text" => assert_eq!(content, ["a\nbb\n", "ccc\n"]),
            _ => {
                assert!(content[0].contains("| bb    | 2 |"), "{}", content[0]);
                assert!(content[1].contains("| ccc   | 3 |"), "{}", content[1]);
            }
        }
    }
}

#[tokio::test]
async fn allowed_changes_between_restarts_work_and_old_logs_are_purged() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = tempfile::tempdir().unwrap();
    for i in 0..12 {
        write_file(dir.path(), &format!("{i:02}.txt"), "#a #b\n", i);
    }
    let sql = "SELECT tag, count(*) AS n FROM (SELECT explode(split(value, ' ')) AS tag FROM lines) GROUP BY tag ORDER BY tag";
    let mut plan = text_job(dir.path(), sql, "complete", "availableNow");
    plan.queries[0].sink.checkpoint_location = Some(checkpoint.path().to_path_buf());
    plan.queries[0]
        .conf
        .insert("spark.sql.streaming.minBatchesToRetain".into(), "3".into());
    let session = Session::new();
    session
        .start(&plan.queries[0])
        .await
        .unwrap()
        .await_termination()
        .await
        .unwrap();
    let kept = std::fs::read_dir(checkpoint.path().join("offsets"))
        .unwrap()
        .count();
    assert!(kept <= 4, "offsets purged to the newest few, found {kept}");

    // Another filter, trigger and rate limit are allowed changes (Spark's rules).
    write_file(dir.path(), "12.txt", "#a #c\n", 12);
    let changed_sql = "SELECT tag, count(*) AS n FROM (SELECT explode(split(value, ' ')) AS tag FROM lines) WHERE tag <> '#c' GROUP BY tag ORDER BY tag";
    let mut changed = text_job(dir.path(), changed_sql, "complete", "once");
    changed.queries[0].sink.checkpoint_location = Some(checkpoint.path().to_path_buf());
    let session = Session::new();
    let mut query = session.start(&changed.queries[0]).await.unwrap();
    query.await_termination().await.unwrap();
    assert_eq!(query.last_progress().unwrap().batch_id, 12);
    let rows = string_int_rows(&session.memory_tables().get("q").unwrap().batches);
    assert_eq!(rows, [("#a".into(), 13), ("#b".into(), 12)]);
}

#[tokio::test]
async fn drop_duplicates_on_a_subset_keeps_the_first_row_per_key() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "0.txt", "#a 1\n#b 2\n#a 3\n", 0);
    write_file(dir.path(), "1.txt", "#b 4\n#c 5\n", 1);
    let toml = format!(
        r#"
name = "q"
[source]
format = "text"
[source.options]
path = "{}"
maxFilesPerTrigger = 1
[[query.steps]]
selectExpr = ["split(value, ' ')[0] AS tag", "split(value, ' ')[1] AS n"]
[[query.steps]]
dropDuplicates = ["tag"]
[sink]
format = "memory"
trigger = "availableNow"
"#,
        dir.path().display()
    );
    let session = Session::new();
    let mut query = session.start(&job(&toml, &[]).queries[0]).await.unwrap();
    query.await_termination().await.unwrap();
    let table = session.memory_tables().get("q").unwrap();
    let text = pretty_format_batches(&table.batches).unwrap().to_string();
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| #")).collect();
    assert_eq!(
        rows,
        ["| #a  | 1 |", "| #b  | 2 |", "| #c  | 5 |"],
        "{text}"
    );
}

#[tokio::test]
async fn an_aggregate_over_a_binary_cast_keeps_its_name() {
    // Regression (issue 7): rewriting `CAST(value AS STRING)` on Kafka's binary `value`
    // renamed the aggregate's output and broke the projection above it.
    let plan = job(
        r#"
name = "lengths"
[source]
format = "tweets"
name = "lines"
[source.options]
totalRows = 50
rowsPerSecond = 0
[query]
sql = "SELECT count(*), max(length(CAST(value AS STRING))) FROM lines"
[sink]
format = "memory"
outputMode = "complete"
trigger = "availableNow"
"#,
        &[],
    );
    let session = Session::new();
    let mut query = session.start(&plan.queries[0]).await.unwrap();
    query.await_termination().await.unwrap();
    let table = session.memory_tables().get("lengths").unwrap();
    let batch = &table.batches[0];
    let names: Vec<&str> = batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["count(1)", "max(length(CAST(value AS STRING)))"]);
    let generator = TweetGenerator::new(0);
    let longest = (0..50)
        .map(|i| generator.tweet(i).chars().count())
        .max()
        .unwrap();
    let max = batch
        .column(1)
        .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
    assert_eq!(max.value(0) as usize, longest);
}
