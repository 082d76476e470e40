//! The `command` hook of a `foreach_batch` sink: a language-agnostic foreachBatch. Each batch
//! runs the program (no shell) with the batch's rows as JSON lines on its stdin and
//! `KINDLING_BATCH_ID` in its environment; a non-zero exit fails the batch (`onError = "log"`
//! logs it instead). Its stdout and stderr are the query's.

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use tokio::io::AsyncWriteExt;
use tracing::warn;

use super::foreach_batch::BatchHook;
use super::foreach_batch::OnError;
use kindling_core::error::{Error, Result};

/// Runs a program per batch.
pub struct CommandHook {
    argv: Vec<String>,
    on_error: OnError,
}

impl CommandHook {
    /// A hook running `argv` (program first).
    pub fn new(argv: Vec<String>, on_error: OnError) -> Self {
        CommandHook { argv, on_error }
    }

    async fn run(&self, batch_id: u64, input: Vec<u8>) -> std::result::Result<(), String> {
        let (program, args) = self.argv.split_first().ok_or("no program given")?;
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .env("KINDLING_BATCH_ID", batch_id.to_string())
            .stdin(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start '{program}': {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A program that does not read its input may close stdin early: not an error.
            let _ = stdin.write_all(&input).await;
        }
        let status = child
            .wait()
            .await
            .map_err(|e| format!("waiting for '{program}': {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("'{}' exited with {status}", self.argv.join(" ")))
        }
    }
}

#[async_trait]
impl BatchHook for CommandHook {
    async fn call(&self, batch_id: u64, batches: &[RecordBatch]) -> Result<()> {
        let mut writer = arrow_json::LineDelimitedWriter::new(Vec::new());
        let refs: Vec<&RecordBatch> = batches.iter().collect();
        writer.write_batches(&refs)?;
        writer.finish()?;
        let input = writer.into_inner();
        match (self.run(batch_id, input).await, self.on_error) {
            (Ok(()), _) => Ok(()),
            (Err(e), OnError::Fail) => Err(Error::Sink {
                sink: "foreach_batch".to_string(),
                message: format!("command hook for batch {batch_id}: {e}"),
                cause: None,
            }),
            (Err(e), OnError::Log) => {
                warn!(
                    "foreach_batch command hook for batch {batch_id}: {e}; the query goes on (onError = \"log\")"
                );
                Ok(())
            }
        }
    }
}
