//! kindling: a Spark-compatible streaming job runner.
//!
//! A job (a TOML file: source, Spark SQL query, sinks) runs as micro-batches of Arrow
//! `RecordBatch`es executed by DataFusion, with Spark Structured Streaming's semantics.
//!
//! The batch lifecycle, per query (see [`engine`]): the trigger fires → the [`source`] reports
//! its latest offset → `offsets/<id>` is written to the checkpoint → the rows in
//! `(start, end]` run through the [`engine::incremental::IncrementalPlan`] (stateless, or an
//! aggregation merged into keyed state) → the [`sink`] receives the result for its output mode
//! → `commits/<id>` is written → a [`QueryProgress`] is published.
//!
//! [`job`] reads and validates job files; [`Session`] starts queries from them, or from the
//! PySpark-shaped [`dataframe`] API; [`repl`] is the interactive shell over the same session;
//! [`cli`] is the thin `kindling` command on top.
//!
//! The layers are crates (in `crates/`), each depending only on those below it, so Cargo
//! itself keeps every arrow pointing down, and independent layers compile in parallel:
//! 1. `kindling-core`: [`error`], [`fault`], [`output_mode`], [`trigger`], [`spark_text`],
//!    [`types`], then [`fs`] (atomic writes, metadata logs, the clock), [`options`] and
//!    [`spark_errors`] (DataFusion's errors in Spark's words);
//! 2. `kindling-kafka`: [`kafka`], the Kafka client;
//! 3. `kindling-sql`: [`sql`]; `kindling-source`: [`source`];
//! 4. `kindling-sink`: [`sink`];
//! 5. `kindling-engine`: [`engine`] (micro-batches, state, checkpoint, query handles);
//! 6. `kindling-dashboard`: [`dashboard`];
//! 7. this crate, whose modules keep their own order (the test in `src/layers.rs`): [`job`]
//!    (job files, validated into plans); then [`session`]; then [`dataframe`] and [`repl`];
//!    then [`cli`].
//!
//! The lower crates are re-exported here under their module names, so `kindling::sql`,
//! `kindling::engine` and the rest are one API.

pub use kindling_core::{
    error, fault, fs, options, output_mode, spark_errors, spark_text, trigger, types,
};
pub use kindling_dashboard as dashboard;
pub use kindling_engine as engine;
pub use kindling_kafka as kafka;
pub use kindling_sink as sink;
pub use kindling_source as source;
pub use kindling_sql as sql;

pub mod cli;
pub mod dataframe;
pub mod job;
mod layers;
pub mod repl;
pub mod session;

pub use engine::{OutputMode, QueryProgress, QueryStatus, StreamingQuery, Trigger};
pub use error::{Error, Result};
pub use job::{JobPlan, QueryPlan};
pub use session::Session;

/// The types most programs using kindling need.
pub mod prelude {
    pub use crate::dataframe::functions::*;
    pub use crate::dataframe::{DataStreamReader, DataStreamWriter, StreamingDataFrame};
    pub use crate::engine::{OutputMode, QueryProgress, QueryStatus, StreamingQuery, Trigger};
    pub use crate::error::{Error, Result};
    pub use crate::job::{JobPlan, QueryPlan};
    pub use crate::session::Session;
}
