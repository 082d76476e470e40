//! The streaming DataFrame API gives what the same query as a SQL job gives, and its
//! foreach_batch closure sees every batch once with its id.

#![expect(clippy::unwrap_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use datafusion::arrow::util::pretty::pretty_format_batches;
use kindling::dataframe::functions::{
    binary_to_string, col, count, explode, lit, split, startswith,
};
use kindling::job::JobSpec;
use kindling::{JobPlan, OutputMode, Session, Trigger};

const TWEETS: [(&str, &str); 4] = [
    ("rowsPerSecond", "0"),
    ("totalRows", "1500"),
    ("rowsPerBatch", "500"),
    ("seed", "5"),
];

#[tokio::test]
async fn dataframe_api_matches_the_sql_job_and_calls_foreach_batch() {
    let session = Session::new();
    let mut reader = session.read_stream().format("tweets");
    for (k, v) in TWEETS {
        reader = reader.option(k, v);
    }
    let seen: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let mut query = reader
        .load()
        .unwrap()
        .select(vec![
            explode(split(binary_to_string(col("value")), lit(" "))).alias("tag"),
        ])
        .unwrap()
        .filter(startswith(col("tag"), lit("#")))
        .unwrap()
        .group_by(vec![col("tag")])
        .agg(vec![count(lit(1)).alias("tag_count")])
        .unwrap()
        .order_by(vec![
            col("tag_count").sort(false, false),
            col("tag").sort(true, false),
        ])
        .unwrap()
        .limit(15)
        .unwrap()
        .write_stream()
        .output_mode(OutputMode::Complete)
        .trigger(Trigger::AvailableNow)
        .foreach_batch(move |df, batch_id| {
            let sink = Arc::clone(&sink);
            async move {
                let rows = df.collect().await?;
                let text = pretty_format_batches(&rows)?.to_string();
                sink.lock().unwrap().push((batch_id, text));
                Ok(())
            }
        })
        .start()
        .await
        .unwrap();
    query.await_termination().await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [0, 1, 2]
    );

    // The same query as a SQL job, into a memory table.
    let options: String = TWEETS
        .iter()
        .map(|(k, v)| format!("{k} = \"{v}\"\n"))
        .collect();
    let toml = format!(
        r#"
name = "sql"
[source]
format = "tweets"
name = "lines"
[source.options]
{options}
[query]
sql = """SELECT tag, count(*) AS tag_count FROM (SELECT explode(split(CAST(value AS STRING), ' ')) AS tag FROM lines)
WHERE startswith(tag, '#') GROUP BY tag ORDER BY tag_count DESC, tag LIMIT 15"""
[sink]
format = "memory"
outputMode = "complete"
trigger = "availableNow"
"#
    );
    let spec = JobSpec::parse(&toml, "sql.toml", &[]).unwrap();
    let job = JobPlan::from_spec(spec, "sql.toml", Path::new("."), "sql").unwrap();
    let mut sql_query = session.start(&job.queries[0]).await.unwrap();
    sql_query.await_termination().await.unwrap();
    let table = session.memory_tables().get("sql").unwrap();
    let expected = pretty_format_batches(&table.batches).unwrap().to_string();
    assert_eq!(seen[2].1, expected);
}

#[tokio::test]
async fn sql_strings_and_group_by_count_work_on_streams() {
    let session = Session::new();
    let mut reader = session.read_stream().format("tweets").table_name("lines");
    for (k, v) in TWEETS {
        reader = reader.option(k, v);
    }
    let frame = reader
        .load()
        .unwrap()
        .select_expr(&["explode(split(CAST(value AS STRING), ' ')) AS tag"])
        .await
        .unwrap()
        .where_expr("startswith(tag, '#') AND length(tag) > 1")
        .await
        .unwrap()
        .group_by(vec![col("tag")])
        .count()
        .unwrap();
    let names: Vec<String> = frame
        .logical_plan()
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["tag", "count"]);
    let mut query = frame
        .write_stream()
        .output_mode(OutputMode::Update)
        .trigger(Trigger::AvailableNow)
        .format("memory")
        .query_name("updates")
        .start()
        .await
        .unwrap();
    query.await_termination().await.unwrap();
    let progress = query.recent_progress();
    assert_eq!(progress.len(), 3);
    assert!(progress.iter().all(|p| p.sink.num_output_rows > 0));
    // Sorting in update mode is refused with Spark's message.
    let err = session
        .read_stream()
        .format("rate")
        .load()
        .unwrap()
        .order_by(vec![col("value").sort(true, false)])
        .unwrap()
        .write_stream()
        .output_mode(OutputMode::Update)
        .start()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Sorting is not supported"),
        "{err}"
    );
}
