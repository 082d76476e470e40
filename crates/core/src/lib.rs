//! kindling's bottom layer, which every other crate uses: the one [`Error`] type, with
//! DataFusion's and Arrow's errors in Spark's words ([`spark_errors`]); Spark's text of values
//! ([`spark_text`]) and names of types ([`types`]); output modes, triggers, options,
//! crash-safe files and metadata logs ([`fs`]) and the crash points of the recovery tests
//! ([`fault`]).
//!
//! Within the crate, [`spark_errors`] builds on [`error`], [`types`] and [`spark_text`], [`fs`] and
//! [`options`] on [`error`]; the other modules import nothing of kindling's but [`error`].

pub mod error;
pub mod fault;
pub mod fs;
pub mod options;
pub mod output_mode;
pub mod spark_errors;
pub mod spark_text;
pub mod trigger;
pub mod types;

pub use error::{Error, Result};
