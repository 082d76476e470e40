//! A streaming DataFrame API in PySpark's shape, on top of DataFusion's `DataFrame`:
//! [`Session::read_stream`](crate::Session::read_stream) → [`StreamingDataFrame`]
//! (`select`, `filter`, `group_by` + `agg`, `order_by`, `limit`, or Spark SQL strings with
//! `select_expr` / `where_expr`) → [`DataStreamWriter`] → a running
//! [`StreamingQuery`](crate::StreamingQuery).
//!
//! ```no_run
//! use kindling::dataframe::functions::{col, count, explode, lit, split, startswith};
//! use kindling::{OutputMode, Session, Trigger};
//!
//! # async fn demo() -> kindling::Result<()> {
//! let session = Session::new();
//! let lines = session.read_stream().format("tweets").option("rowsPerSecond", "100").load()?;
//! let ranking = lines
//!     .select(vec![explode(split(col("value"), lit(" "))).alias("tag")])?
//!     .filter(startswith(col("tag"), lit("#")))?
//!     .group_by(vec![col("tag")])
//!     .agg(vec![count(lit(1)).alias("tag_count")])?
//!     .order_by(vec![col("tag_count").sort(false, false)])?;
//! let mut query = ranking
//!     .write_stream()
//!     .output_mode(OutputMode::Complete)
//!     .trigger(Trigger::parse("3 seconds").map_err(kindling::Error::Usage)?)
//!     .format("console")
//!     .start()
//!     .await?;
//! query.await_termination().await?;
//! # Ok(()) }
//! ```

mod frame;
pub mod functions;
mod reader;
mod writer;

pub use frame::{GroupedData, StreamingDataFrame};
pub use reader::DataStreamReader;
pub use writer::DataStreamWriter;
