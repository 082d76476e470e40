//! The tutorial's hashtag ranking written with kindling's streaming DataFrame API, as the
//! PySpark original is written:
//!
//! ```python
//! lines = spark.readStream.format("kafka")...load()
//! tags = lines.select(explode(split(col("value").cast("string"), " ")).alias("tag"))
//! ranking = tags.filter(col("tag").startswith("#")).groupBy("tag").count() \
//!     .withColumnRenamed("count", "tag_count").orderBy(desc("tag_count"))
//! ranking.writeStream.outputMode("complete").trigger(processingTime="3 seconds") \
//!     .foreachBatch(send_top_10).start().awaitTermination()
//! ```
//!
//! Run with `cargo run --release --example hashtag_ranking` (Ctrl-C stops it). It reads the
//! built-in `tweets` stream until the Kafka source lands; `KINDLING_EXAMPLE_ROWS=N` makes it
//! process N tweets and exit.

use kindling::dataframe::functions::{
    binary_to_string, col, count, explode, lit, split, startswith,
};
use kindling::{OutputMode, Session, Trigger};

#[tokio::main]
async fn main() -> kindling::Result<()> {
    let session = Session::new();
    let bounded = std::env::var("KINDLING_EXAMPLE_ROWS").ok();
    let mut reader = session.read_stream().format("tweets").option("seed", "42");
    reader = match &bounded {
        Some(rows) => reader
            .option("rowsPerSecond", "0")
            .option("totalRows", rows.as_str())
            .option("rowsPerBatch", "1000"),
        None => reader.option("rowsPerSecond", "200"),
    };
    let ranking = reader
        .load()?
        .select(vec![
            explode(split(binary_to_string(col("value")), lit(" "))).alias("tag"),
        ])?
        .filter(startswith(col("tag"), lit("#")))?
        .group_by(vec![col("tag")])
        .agg(vec![count(lit(1)).alias("tag_count")])?
        .order_by(vec![
            col("tag_count").sort(false, false),
            col("tag").sort(true, false),
        ])?;
    let trigger = if bounded.is_some() {
        Trigger::AvailableNow
    } else {
        Trigger::parse("3 seconds").map_err(kindling::Error::Usage)?
    };
    let mut query = ranking
        .write_stream()
        .output_mode(OutputMode::Complete)
        .trigger(trigger)
        .query_name("hashtag_ranking")
        .foreach_batch(|batch_df, batch_id| async move {
            // The tutorial posts the top 10 to its dashboard; here they are printed.
            let top = batch_df.limit(0, Some(10))?.collect().await?;
            println!("batch {batch_id}: top 10");
            println!(
                "{}",
                datafusion::arrow::util::pretty::pretty_format_batches(&top)?
            );
            Ok(())
        })
        .start()
        .await?;
    tokio::select! {
        result = query.await_termination() => result,
        _ = tokio::signal::ctrl_c() => {
            query.stop();
            query.await_termination().await
        }
    }
}
