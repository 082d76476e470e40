//! The crate's one error type, [`Error`], and how each kind maps to a process exit code.
//!
//! Usage and job problems (bad job file, option, SQL, output mode) exit with 2; failures of a
//! running query (I/O, a source or sink breaking) and kindling's own bugs exit with 1.
//! A variant's message never repeats its cause: [`Error::report`] prints the chain once.

use std::path::PathBuf;

use arrow::error::ArrowError;
use datafusion_common::DataFusionError;

/// The underlying error of a failure (an OS, client or thread error), kept for the chain.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

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
    #[error("{context}")]
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
        /// What it failed on, when something else failed first.
        #[source]
        cause: Option<Cause>,
    },
    /// A sink failed while the query was running.
    #[error("sink '{sink}': {message}")]
    Sink {
        /// The sink's description, e.g. `foreach_batch`.
        sink: String,
        /// What failed.
        message: String,
        /// What it failed on, when something else failed first.
        #[source]
        cause: Option<Cause>,
    },
    /// A call to the Kafka broker failed.
    #[error("kafka: {context}")]
    Kafka {
        /// What kindling was doing, naming the broker, topic or partition.
        context: String,
        /// The client's or the broker's error.
        #[source]
        cause: Cause,
    },
    /// Something kindling assumed cannot happen did: a bug in kindling, not in the job.
    #[error(
        "internal error: {message}. This is a bug in kindling, please report it with the job file and this message (run with KINDLING_LOG=debug for more)"
    )]
    Internal {
        /// What went wrong.
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
    #[error("query '{query}' failed in batch {batch_id}")]
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
    /// An error from DataFusion while planning or executing, in Spark's words where Spark has
    /// them (e.g. `[DIVIDE_BY_ZERO] ...`): the SQL layer words it when it converts the error.
    #[error("{message}")]
    DataFusion {
        /// The message a Spark user expects.
        message: String,
        /// DataFusion's error (its text is the message when Spark has no counterpart).
        error: DataFusionError,
    },
    /// An error from Arrow while building or converting batches, worded like
    /// [`Error::DataFusion`].
    #[error("{message}")]
    Arrow {
        /// The message a Spark user expects.
        message: String,
        /// Arrow's error.
        error: ArrowError,
    },
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

    /// A source's failure caused by `cause`.
    pub fn in_source(
        source_name: impl Into<String>,
        message: impl Into<String>,
        cause: impl Into<Cause>,
    ) -> Self {
        Error::Source {
            source_name: source_name.into(),
            message: message.into(),
            cause: Some(cause.into()),
        }
    }

    /// A bug in kindling.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }

    /// The whole story, for people: this error's message, then each cause it did not already
    /// say, joined by `: ` (`query 'q' failed in batch 3: creating checkpoint file '...': No
    /// space left on device (os error 28)`).
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(err) = cause {
            let line = err.to_string();
            if !text.contains(&line) {
                text.push_str(": ");
                text.push_str(&line);
            }
            cause = err.source();
        }
        text
    }

    /// The process exit code for this error: 2 for usage and job errors, 1 for run-time
    /// failures and bugs.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_prints_each_cause_once() {
        let disk = std::io::Error::other("No space left on device");
        let err = Error::BatchFailed {
            query: "q".to_string(),
            batch_id: 3,
            source: Box::new(Error::io("creating checkpoint file 'c/commits/3'", disk)),
        };
        assert_eq!(
            err.report(),
            "query 'q' failed in batch 3: creating checkpoint file 'c/commits/3': No space left on device"
        );
        // The cause is kept for programs, not only in the text.
        let cause = std::error::Error::source(&err).and_then(|e| e.source());
        assert!(cause.is_some_and(|c| c.is::<std::io::Error>()));
    }

    #[test]
    fn a_bug_is_not_the_users_fault() {
        let err = Error::internal("expected an Aggregate node");
        assert_eq!(err.exit_code(), 1);
        assert!(
            err.report().contains("This is a bug in kindling"),
            "{}",
            err.report()
        );
    }
}
