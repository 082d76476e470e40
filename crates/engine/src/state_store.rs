//! Durable versions of a [`StateTable`] under `state/<op>/0/`: each batch's changed keys as
//! `<batchId>.delta` (Arrow IPC), every [`SNAPSHOT_EVERY`] batches the whole live state as
//! `<batchId>.snapshot`, and `_schema` to refuse a restart whose state has another shape.
//! Loading version V reads the newest snapshot at or below V, then the deltas after it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::arrow::ipc::writer::FileWriter;
use datafusion::arrow::record_batch::RecordBatch;

use super::state::StateTable;
use kindling_core::error::{Error, Result};
use kindling_core::fs::write_atomically;

/// How often (in batches) the whole state is written instead of only its changes.
pub const SNAPSHOT_EVERY: u64 = 10;

/// Where and how one operator's state is written.
#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
    durable: bool,
    schema: SchemaRef,
}

impl StateStore {
    /// Opens `dir` for state of `schema`, refusing one written for another schema.
    pub fn open(dir: PathBuf, durable: bool, schema: SchemaRef) -> Result<Self> {
        let described = describe(&schema);
        let path = dir.join("_schema");
        match std::fs::read_to_string(&path) {
            Ok(found) if found != described => {
                return Err(Error::IncompatibleRestart {
                    path: dir,
                    message: format!(
                        "the aggregation's state changed shape: it was ({found}), the query now needs ({described}); start a new checkpoint for the changed query"
                    ),
                });
            }
            Ok(_) => {}
            Err(_) => write_atomically(&path, described.as_bytes(), durable)?,
        }
        Ok(StateStore {
            dir,
            durable,
            schema,
        })
    }

    /// Writes version `batch_id`: the changed rows, and the whole state every
    /// [`SNAPSHOT_EVERY`] batches.
    pub fn commit(&self, batch_id: u64, delta: &[ArrayRef], table: &StateTable) -> Result<()> {
        self.write(&format!("{batch_id}.delta"), delta)?;
        if batch_id % SNAPSHOT_EVERY == SNAPSHOT_EVERY - 1
            && let Some(live) = table.all_live()?
        {
            self.write(&format!("{batch_id}.snapshot"), &live)?;
        }
        Ok(())
    }

    /// Rebuilds the state as of version `version` into an empty `table`.
    pub fn load(&self, version: u64, table: &mut StateTable, num_keys: usize) -> Result<()> {
        let files = self.files()?;
        let snapshot = files
            .iter()
            .filter(|(v, kind, _)| *v <= version && kind == "snapshot")
            .map(|(v, _, p)| (*v, p.clone()))
            .next_back();
        let from = match &snapshot {
            Some((v, path)) => {
                self.apply(path, table, num_keys)?;
                v + 1
            }
            None => 0,
        };
        for v in from..=version {
            let path = self.dir.join(format!("{v}.delta"));
            if !path.exists() {
                return Err(Error::Checkpoint {
                    path,
                    message: format!(
                        "is missing, so the state of batch {version} cannot be rebuilt; the checkpoint is damaged"
                    ),
                });
            }
            self.apply(&path, table, num_keys)?;
        }
        Ok(())
    }

    /// Deletes files no longer needed to load any version from `oldest` on.
    pub fn purge(&self, oldest: u64) -> Result<()> {
        let files = self.files()?;
        let Some(base) = files
            .iter()
            .filter(|(v, kind, _)| *v <= oldest && kind == "snapshot")
            .map(|(v, _, _)| *v)
            .next_back()
        else {
            return Ok(());
        };
        for (v, _, path) in files {
            if v < base {
                std::fs::remove_file(&path)
                    .map_err(|e| Error::io(format!("purging '{}'", path.display()), e))?;
            }
        }
        Ok(())
    }

    fn apply(&self, path: &Path, table: &mut StateTable, num_keys: usize) -> Result<()> {
        let file = std::fs::File::open(path)
            .map_err(|e| Error::io(format!("reading state file '{}'", path.display()), e))?;
        let reader = FileReader::try_new(file, None).map_err(|e| Error::Checkpoint {
            path: path.to_path_buf(),
            message: format!("unreadable state file ({e}); the checkpoint is damaged"),
        })?;
        for batch in reader {
            let batch = batch.map_err(|e| Error::Checkpoint {
                path: path.to_path_buf(),
                message: format!("unreadable state file ({e}); the checkpoint is damaged"),
            })?;
            let columns = batch.columns().to_vec();
            let lookup = table.lookup(&columns[..num_keys], batch.num_rows())?;
            table.put(lookup, columns)?;
        }
        Ok(())
    }

    fn write(&self, name: &str, columns: &[ArrayRef]) -> Result<()> {
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns.to_vec())?;
        let mut bytes = Vec::new();
        {
            let mut writer = FileWriter::try_new(&mut bytes, &self.schema)?;
            writer.write(&batch)?;
            writer.finish()?;
        }
        write_atomically(&self.dir.join(name), &bytes, self.durable)
    }

    /// (version, "delta" | "snapshot", path), ascending by version, deltas before snapshots.
    fn files(&self) -> Result<Vec<(u64, String, PathBuf)>> {
        let mut files: Vec<(u64, String, PathBuf)> = std::fs::read_dir(&self.dir)
            .map_err(|e| {
                Error::io(
                    format!("reading state directory '{}'", self.dir.display()),
                    e,
                )
            })?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let (v, kind) = name.split_once('.')?;
                let v = v.parse::<u64>().ok()?;
                matches!(kind, "delta" | "snapshot").then(|| (v, kind.to_string(), e.path()))
            })
            .collect();
        files.sort();
        Ok(files)
    }
}

/// A stable text form of a state schema: names and types in order.
fn describe(schema: &SchemaRef) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}
