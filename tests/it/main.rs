//! kindling's integration tests, linked as one binary (each module was its own `tests/*.rs`,
//! and each linked DataFusion and librdkafka again). Run one module with
//! `cargo test --release --test it golden::`; the data they read stays in `tests/` (golden
//! cases, slt files, Spark-diff jobs, snapshots, the receiver and the browser script).

mod common;

mod cli;
mod dashboard;
mod dataframe;
mod engine;
mod foreach_batch;
mod golden;
mod kafka;
mod kafka_broker;
mod recovery;
mod repl;
mod slt;
mod spark_diff;
mod spark_fuzz;
