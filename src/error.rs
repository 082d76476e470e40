//! The crate's one error type, [`Error`], and how each kind maps to a process exit code.
//!
//! Usage and job problems (bad job file, option, SQL, output mode) exit with 2; failures of a
//! running query (I/O, a source or sink breaking) exit with 1.

use std::path::PathBuf;

use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;

/// Everything that can go wrong in kindling, with enough context to act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The job file cannot be read, parsed or validated.
    #[error("job file '{path}': {message}")]
    JobFile {
        /// The job file (`-` for stdin).
        path: String,
        /// What is wrong, naming the key, the value and what is expected.
        message: String,
    },
    /// A source or sink option has a value kindling cannot use.
    #[error("invalid option '{key}' = '{value}' for {owner}: {message}")]
    InvalidOption {
        /// Which source or sink the option belongs to, e.g. `source 'text'`.
        owner: String,
        /// The option key as the user wrote it.
        key: String,
        /// The value as the user wrote it.
        value: String,
        /// What is expected instead.
        message: String,
    },
    /// The query cannot be planned (parse errors, unknown columns or functions).
    #[error("job '{job}': {message}")]
    Sql {
        /// The job (query) name.
        job: String,
        /// DataFusion's message.
        message: String,
    },
    /// Spark's `UnsupportedOperationChecker` rejects the query for this output mode; the
    /// message is Spark's, verbatim.
    #[error("job '{job}': {message}")]
    Analysis {
        /// The job (query) name.
        job: String,
        /// Spark's AnalysisException message.
        message: String,
    },
    /// A query Spark runs but kindling cannot run with Spark's answer yet; refused rather
    /// than answered differently.
    #[error("job '{job}': {message}")]
    Unsupported {
        /// The job (query) name.
        job: String,
        /// What kindling cannot do, and what to write instead.
        message: String,
    },
    /// Wrong command-line usage.
    #[error("{0}")]
    Usage(String),
    /// An I/O operation failed; `context` says on what.
    #[error("{context}: {source}")]
    Io {
        /// What kindling was doing, naming the file or directory.
        context: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A source failed while the query was running.
    #[error("source '{source_name}': {message}")]
    Source {
        /// The source's description, e.g. `text[/data/tweets]`.
        source_name: String,
        /// What failed.
        message: String,
    },
    /// A sink failed while the query was running.
    #[error("sink '{sink}': {message}")]
    Sink {
        /// The sink format, e.g. `foreach_batch`.
        sink: String,
        /// What failed.
        message: String,
    },
    /// A call to the Kafka broker failed.
    #[error("kafka: {context}: {message}")]
    Kafka {
        /// What kindling was doing, naming the broker, topic or partition.
        context: String,
        /// The client's or the broker's message.
        message: String,
    },
    /// A checkpoint file is unusable.
    #[error("checkpoint '{path}': {message}")]
    Checkpoint {
        /// The file or directory in the checkpoint.
        path: PathBuf,
        /// What is wrong with it and what to do.
        message: String,
    },
    /// A checkpoint belongs to a query that differs from this one in a way Spark forbids
    /// (another source, another stateful schema).
    #[error("checkpoint '{path}' cannot be resumed by this job: {message}")]
    IncompatibleRestart {
        /// The checkpoint (or the part of it) that does not match.
        path: PathBuf,
        /// What changed, and what to do.
        message: String,
    },
    /// A query stopped because one of its batches failed.
    #[error("query '{query}' failed in batch {batch_id}: {source}")]
    BatchFailed {
        /// The query name.
        query: String,
        /// The batch that failed.
        batch_id: u64,
        /// The cause.
        #[source]
        source: Box<Error>,
    },
    /// A query that already ended with an error, reported again (e.g. by a second
    /// `await_termination`).
    #[error("{message}")]
    Terminated {
        /// The original error's message.
        message: String,
        /// The original error's exit code.
        code: u8,
    },
    /// An error from DataFusion while executing a plan (Spark's own words where kindling
    /// raised it as Spark does, e.g. `[DIVIDE_BY_ZERO] ...`).
    #[error("{}", crate::sql::errors::spark_message(.0))]
    DataFusion(#[from] DataFusionError),
    /// An error from Arrow while building or converting batches.
    #[error("{}", crate::sql::errors::arrow_spark_message(.0).unwrap_or_else(|| .0.to_string()))]
    Arrow(#[from] ArrowError),
}

/// `Result` with kindling's [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with what kindling was doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The process exit code for this error: 2 for usage and job errors, 1 for run-time failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::JobFile { .. }
            | Error::InvalidOption { .. }
            | Error::Sql { .. }
            | Error::Analysis { .. }
            | Error::Unsupported { .. }
            | Error::IncompatibleRestart { .. }
            | Error::Usage(_) => 2,
            Error::Terminated { code, .. } => *code,
            _ => 1,
        }
    }
}
