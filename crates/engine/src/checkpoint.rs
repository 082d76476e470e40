//! The checkpoint directory in Spark's layout (Spark's `StreamExecution` and
//! `HDFSMetadataLog`, "Recovering from Failures with Checkpointing" in the Structured Streaming
//! programming guide): `metadata` with the query id,
//! `offsets/<batchId>` written before a batch runs and `commits/<batchId>` after its sink,
//! `sources/<i>/` and `state/<op>/` for the source and state logs, and [`Recovery`]: where a
//! restarted query resumes. Every file is written crash-safely (temp file, fsync, rename,
//! fsync of the directory); a torn last file is treated as never written.

use kindling_core::fs::{MetadataLog, write_atomically};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use kindling_core::error::{Error, Result};
use kindling_source::SourceOffset;

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

/// Where a query resumes, read from the offset and commit logs.
#[derive(Debug, Clone, Default)]
pub struct Recovery {
    /// The last batch in `commits/`.
    pub last_committed: Option<u64>,
    /// The end offsets of that batch: where the next batch starts.
    pub committed_end: Option<SourceOffset>,
    /// A batch in `offsets/` without a commit: re-run with exactly these end offsets.
    pub pending: Option<(u64, SourceOffset)>,
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
    /// Opens (creating) `location`, or a fresh temporary directory when `None`. An existing
    /// checkpoint keeps its query id.
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
        let durable = temp.is_none();
        let metadata = dir.join("metadata");
        let query_id = match std::fs::read_to_string(&metadata) {
            Ok(text) if !text.trim().is_empty() => serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("id").and_then(|id| id.as_str()).map(str::to_string))
                .and_then(|id| Uuid::parse_str(&id).ok())
                .ok_or_else(|| Error::Checkpoint {
                    path: metadata.clone(),
                    message: "is not a kindling/Spark query metadata file ({\"id\": \"<uuid>\"}); point checkpointLocation at a checkpoint directory or an empty one".to_string(),
                })?,
            _ => {
                let id = Uuid::new_v4();
                write_atomically(
                    &metadata,
                    format!("{}\n", json!({ "id": id.to_string() })).as_bytes(),
                    durable,
                )?;
                id
            }
        };
        Ok(Checkpoint {
            dir,
            query_id,
            durable,
            _temp: temp,
        })
    }

    /// Reads the offset and commit logs: the last committed batch and its end offsets, and a
    /// batch whose offsets were written but not committed (it must be re-run as it was).
    pub fn recover(&self) -> Result<Recovery> {
        let offsets = self.log_entries("offsets")?;
        let commits = self.log_entries("commits")?;
        let last_committed = commits.last().copied();
        let committed_end = match last_committed {
            Some(id) => Some(self.read_offsets(id)?),
            None => None,
        };
        let pending = match offsets.last().copied() {
            Some(id) if last_committed.is_none_or(|c| id > c) => {
                if id != last_committed.map_or(0, |c| c + 1) {
                    return Err(Error::Checkpoint {
                        path: self.dir.join("offsets"),
                        message: format!(
                            "offsets/{id} follows commit {last_committed:?}; batches are missing in between, so the checkpoint is damaged"
                        ),
                    });
                }
                Some((id, self.read_offsets(id)?))
            }
            _ => None,
        };
        Ok(Recovery {
            last_committed,
            committed_end,
            pending,
        })
    }

    /// Batch ids present in `offsets/` or `commits/`, ascending; a torn (empty or unreadable)
    /// newest file is removed, as if it had never been written.
    fn log_entries(&self, log: &str) -> Result<Vec<u64>> {
        let log = MetadataLog::open(self.dir.join(log), self.durable)?;
        let mut ids = log.ids()?;
        if let Some(&last) = ids.last() {
            let path = log.path(last);
            // Only a file this process could have torn is removed: one that reads but is cut
            // short. A file that cannot be read at all is an error, never deleted.
            let bytes = std::fs::read(&path).map_err(|e| {
                Error::io(format!("reading checkpoint file '{}'", path.display()), e)
            })?;
            if !bytes.starts_with(b"v1\n")
                || bytes
                    .split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count()
                    < 2
            {
                tracing::warn!(file = %path.display(), "removing a torn checkpoint file left by a crash");
                std::fs::remove_file(&path).map_err(|e| {
                    Error::io(format!("removing torn file '{}'", path.display()), e)
                })?;
                ids.pop();
            }
        }
        Ok(ids)
    }

    /// The (single) source offset recorded in `offsets/<batch_id>`.
    pub fn read_offsets(&self, batch_id: u64) -> Result<SourceOffset> {
        let path = self.dir.join("offsets").join(batch_id.to_string());
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::io(format!("reading checkpoint file '{}'", path.display()), e))?;
        let corrupt = |what: &str| Error::Checkpoint {
            path: path.clone(),
            message: format!(
                "{what}; the file is corrupt (restore it from a backup or start a new checkpoint)"
            ),
        };
        let mut lines = text.lines();
        if lines.next() != Some("v1") {
            return Err(corrupt("does not start with the version line 'v1'"));
        }
        let _metadata = lines
            .next()
            .ok_or_else(|| corrupt("has no metadata line"))?;
        let offset = lines
            .next()
            .ok_or_else(|| corrupt("has no source offset line"))?;
        serde_json::from_str(offset)
            .map(SourceOffset)
            .map_err(|e| corrupt(&format!("has an unreadable source offset ({e})")))
    }

    /// The metadata directory of source `i` (`sources/<i>`), created.
    pub fn source_dir(&self, i: usize) -> Result<PathBuf> {
        self.subdir(&format!("sources/{i}"))
    }

    /// The directory of stateful operator `op`, partition 0 (`state/<op>/0`), created.
    pub fn state_dir(&self, op: usize) -> Result<PathBuf> {
        self.subdir(&format!("state/{op}/0"))
    }

    fn subdir(&self, rel: &str) -> Result<PathBuf> {
        let path = self.dir.join(rel);
        std::fs::create_dir_all(&path).map_err(|e| {
            Error::io(
                format!("creating checkpoint directory '{}'", path.display()),
                e,
            )
        })?;
        Ok(path)
    }

    /// Whether writes are made durable (false for a temporary checkpoint).
    pub fn durable(&self) -> bool {
        self.durable
    }

    /// Deletes offset and commit entries older than the newest `retain` batches
    /// (`spark.sql.streaming.minBatchesToRetain`).
    pub fn purge(&self, current: u64, retain: u64) -> Result<()> {
        let Some(oldest_kept) = current.checked_sub(retain.saturating_sub(1)) else {
            return Ok(());
        };
        for log in ["offsets", "commits"] {
            for id in self.log_entries(log)? {
                if id >= oldest_kept {
                    break;
                }
                let path = self.dir.join(log).join(id.to_string());
                std::fs::remove_file(&path)
                    .map_err(|e| Error::io(format!("purging '{}'", path.display()), e))?;
            }
        }
        Ok(())
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
        text.push_str(
            &serde_json::to_string(metadata)
                .map_err(|e| Error::internal(format!("cannot encode the offset metadata: {e}")))?,
        );
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

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    fn meta() -> OffsetMetadata {
        OffsetMetadata {
            batch_watermark_ms: 0,
            batch_timestamp_ms: 5,
            conf: Default::default(),
        }
    }

    #[test]
    fn writes_spark_layout_and_recovers_from_it() {
        let dir = tempfile::tempdir().unwrap();
        let cp = Checkpoint::open(Some(dir.path())).unwrap();
        cp.write_offsets(0, &meta(), &[&SourceOffset(json!({"logOffset": 1}))])
            .unwrap();
        cp.write_commit(0, 0).unwrap();
        cp.write_offsets(1, &meta(), &[&SourceOffset(json!({"logOffset": 3}))])
            .unwrap();
        let offsets = std::fs::read_to_string(dir.path().join("offsets/0")).unwrap();
        assert_eq!(
            offsets,
            "v1\n{\"batchWatermarkMs\":0,\"batchTimestampMs\":5,\"conf\":{}}\n{\"logOffset\":1}"
        );
        let commit = std::fs::read_to_string(dir.path().join("commits/0")).unwrap();
        assert_eq!(commit, "v1\n{\"nextBatchWatermarkMs\":0}");
        let again = Checkpoint::open(Some(dir.path())).unwrap();
        assert_eq!(
            again.query_id(),
            cp.query_id(),
            "the query id survives restarts"
        );
        let r = again.recover().unwrap();
        assert_eq!(r.last_committed, Some(0));
        assert_eq!(r.committed_end, Some(SourceOffset(json!({"logOffset": 1}))));
        assert_eq!(r.pending, Some((1, SourceOffset(json!({"logOffset": 3})))));
    }

    #[test]
    fn a_torn_last_file_counts_as_not_written_but_a_corrupt_middle_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let cp = Checkpoint::open(Some(dir.path())).unwrap();
        for id in 0..3 {
            cp.write_offsets(id, &meta(), &[&SourceOffset(json!({"logOffset": id + 1}))])
                .unwrap();
            cp.write_commit(id, 0).unwrap();
        }
        std::fs::write(dir.path().join("offsets/3"), "").unwrap();
        let r = cp.recover().unwrap();
        assert_eq!((r.last_committed, r.pending.is_none()), (Some(2), true));
        assert!(!dir.path().join("offsets/3").exists());
        std::fs::write(dir.path().join("offsets/1"), "v1\n{}\n{not json").unwrap();
        std::fs::remove_file(dir.path().join("commits/2")).unwrap();
        std::fs::remove_file(dir.path().join("offsets/2")).unwrap();
        let err = cp.recover().unwrap_err().to_string();
        assert!(
            err.contains("offsets/1") && err.contains("corrupt"),
            "{err}"
        );
    }

    #[test]
    fn purge_keeps_the_newest_batches() {
        let dir = tempfile::tempdir().unwrap();
        let cp = Checkpoint::open(Some(dir.path())).unwrap();
        for id in 0..5 {
            cp.write_offsets(id, &meta(), &[&SourceOffset(json!({"logOffset": id}))])
                .unwrap();
            cp.write_commit(id, 0).unwrap();
        }
        cp.purge(4, 2).unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path().join("offsets"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.starts_with('.'))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(left, ["3", "4"]);
        assert_eq!(cp.recover().unwrap().last_committed, Some(4));
    }
}
