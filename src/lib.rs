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
//! Layers, each importing only those below it (the test in `src/layers.rs` keeps the rule):
//! 1. [`error`], [`fault`], [`output_mode`], [`trigger`], [`spark_text`];
//! 2. [`fs`] (atomic writes, metadata logs, the clock) and [`options`]; then [`kafka`]'s client;
//! 3. [`sql`] and [`source`]; then [`sink`] (whose `foreach_batch` runs SQL);
//! 4. [`engine`] (micro-batches, state, checkpoint, query handles);
//! 5. [`job`] (job files, validated into plans); then [`session`];
//! 6. [`dataframe`], [`dashboard`], [`repl`]; then [`cli`].

pub mod cli;
pub mod dashboard;
pub mod dataframe;
pub mod engine;
pub mod error;
pub mod fault;
pub mod fs;
pub mod job;
pub mod kafka;
mod layers;
pub mod options;
pub mod output_mode;
pub mod repl;
pub mod session;
pub mod sink;
pub mod source;
pub mod spark_text;
pub mod sql;
pub mod trigger;

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
