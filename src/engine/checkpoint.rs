//! The checkpoint directory in Spark's layout (SPARK.md §1.7): `metadata` with the query id,
//! `offsets/<batchId>` written before a batch runs and `commits/<batchId>` after its sink.
//! Every file is written crash-safely: temp file, fsync, rename, fsync of the directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::source::SourceOffset;

/// An open checkpoint directory (a temporary one when the sink has no `checkpointLocation`).
#[derive(Debug)]
pub struct Checkpoint {
    dir: PathBuf,
    query_id: Uuid,
    /// Whether writes are fsynced: a temporary checkpoint dies with the process, so
    /// durability buys nothing there.
    durable: bool,
    _temp: Option<tempfile::TempDir>,
}

/// The batch metadata line of `offsets/<batchId>`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OffsetMetadata {
    /// The event-time watermark the batch runs with.
    pub batch_watermark_ms: i64,
    /// The batch's processing time.
    pub batch_timestamp_ms: i64,
    /// The `spark.*` confs that must stay fixed for the checkpoint's life.
    pub conf: std::collections::BTreeMap<String, String>,
}

impl Checkpoint {
    /// Opens (creating) `location`, or a fresh temporary directory when `None`.
    ///
    /// Resuming from a checkpoint that already holds batches is refused until recovery lands
    /// (issue 6), so that a restart can never silently re-read or skip input.
    pub fn open(location: Option<&Path>) -> Result<Self> {
        let (dir, temp) = match location {
            Some(dir) => (dir.to_path_buf(), None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("kindling-checkpoint-")
                    .tempdir()
                    .map_err(|e| Error::io("creating a temporary checkpoint directory", e))?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        for sub in ["offsets", "commits"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| {
                Error::io(
                    format!("creating checkpoint directory '{}'", path.display()),
                    e,
                )
            })?;
        }
        let has_batches = std::fs::read_dir(dir.join("offsets"))
            .map_err(|e| Error::io(format!("reading '{}'", dir.join("offsets").display()), e))?
            .any(|e| e.is_ok_and(|e| !e.file_name().to_string_lossy().starts_with('.')));
        if has_batches {
            return Err(Error::Checkpoint {
                path: dir,
                message: "holds batches of an earlier run, and resuming from a checkpoint is not supported yet; delete the directory or choose another checkpointLocation".to_string(),
            });
        }
        let query_id = Uuid::new_v4();
        let durable = temp.is_none();
        write_atomically(
            &dir.join("metadata"),
            format!("{}\n", json!({ "id": query_id.to_string() })).as_bytes(),
            durable,
        )?;
        Ok(Checkpoint {
            dir,
            query_id,
            durable,
            _temp: temp,
        })
    }

    /// The query id recorded in `metadata`.
    pub fn query_id(&self) -> Uuid {
        self.query_id
    }

    /// The checkpoint directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `offsets/<batch_id>`: `v1`, the metadata line, then one line per source.
    pub fn write_offsets(
        &self,
        batch_id: u64,
        metadata: &OffsetMetadata,
        offsets: &[&SourceOffset],
    ) -> Result<()> {
        let mut text = String::from("v1\n");
        text.push_str(&serde_json::to_string(metadata).unwrap_or_default());
        for offset in offsets {
            text.push('\n');
            text.push_str(&offset.to_string());
        }
        write_atomically(
            &self.dir.join("offsets").join(batch_id.to_string()),
            text.as_bytes(),
            self.durable,
        )
    }

    /// Writes `commits/<batch_id>` after the sink accepted the batch.
    pub fn write_commit(&self, batch_id: u64, next_watermark_ms: i64) -> Result<()> {
        let text = format!(
            "v1\n{}",
            json!({ "nextBatchWatermarkMs": next_watermark_ms })
        );
        write_atomically(
            &self.dir.join("commits").join(batch_id.to_string()),
            text.as_bytes(),
            self.durable,
        )
    }
}

/// Writes `path` so that a crash leaves either the old file or the whole new one; with
/// `durable`, the file and its directory entry are also on disk when this returns.
pub fn write_atomically(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let context = |what: &str| format!("{what} checkpoint file '{}'", path.display());
    let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io(context("creating"), e))?;
    file.write_all(bytes)
        .and_then(|_| if durable { file.sync_all() } else { Ok(()) })
        .map_err(|e| Error::io(context("writing"), e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(context("renaming"), e))?;
    if durable {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(context("syncing the directory of"), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn writes_spark_layout_and_refuses_to_resume() {
        let dir = tempfile::tempdir().unwrap();
        let cp = Checkpoint::open(Some(dir.path())).unwrap();
        let meta = OffsetMetadata {
            batch_watermark_ms: 0,
            batch_timestamp_ms: 5,
            conf: Default::default(),
        };
        cp.write_offsets(0, &meta, &[&SourceOffset(json!({"logOffset": 1}))])
            .unwrap();
        cp.write_commit(0, 0).unwrap();
        let offsets = std::fs::read_to_string(dir.path().join("offsets/0")).unwrap();
        assert_eq!(
            offsets,
            "v1\n{\"batchWatermarkMs\":0,\"batchTimestampMs\":5,\"conf\":{}}\n{\"logOffset\":1}"
        );
        let commit = std::fs::read_to_string(dir.path().join("commits/0")).unwrap();
        assert_eq!(commit, "v1\n{\"nextBatchWatermarkMs\":0}");
        let metadata = std::fs::read_to_string(dir.path().join("metadata")).unwrap();
        assert!(metadata.contains(&cp.query_id().to_string()));
        let err = Checkpoint::open(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("holds batches of an earlier run"), "{err}");
    }
}
