//! [`GlobalLimit`]: `LIMIT n` over a whole append-mode stream (Spark's
//! `StreamingGlobalLimitExec`), whose count of rows already emitted is operator state, kept
//! in the checkpoint like an aggregation's so that a restart does not emit up to n rows again.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};

use super::state::StateTable;
use super::state_store::StateStore;
use kindling_core::error::{Error, Result};

/// The rows a stream may still emit under its `LIMIT`, and their durable count (one value,
/// versioned per batch like an aggregation's state, so a replayed batch counts from its start).
pub(super) struct GlobalLimit {
    limit: usize,
    emitted: usize,
    /// One row, no key: the count emitted so far (Spark keeps the same single value).
    state: StateTable,
    store: Option<StateStore>,
}

impl GlobalLimit {
    /// A limit of `limit` rows, none emitted yet.
    pub(super) fn new(limit: usize) -> Result<Self> {
        Ok(GlobalLimit {
            limit,
            emitted: 0,
            state: StateTable::try_new(&[])?,
            store: None,
        })
    }

    fn schema() -> Arc<Schema> {
        Arc::new(Schema::new(vec![Field::new(
            "emitted",
            DataType::Int64,
            false,
        )]))
    }

    /// Makes the count durable in `dir` and, on a restart, reads it as of `version`.
    pub(super) fn attach(
        &mut self,
        dir: PathBuf,
        durable: bool,
        version: Option<u64>,
    ) -> Result<()> {
        let kept_before = dir.join("_schema").exists();
        let store = StateStore::open(dir.clone(), durable, Self::schema())?;
        if let Some(version) = version {
            if !kept_before {
                return Err(Error::IncompatibleRestart {
                    path: dir,
                    message: "it has committed batches but no count of the rows its LIMIT let through (it was written by an older kindling), so a restart could emit them again; start from a new checkpointLocation".to_string(),
                });
            }
            store.load(version, &mut self.state, 0)?;
            let emitted = self
                .state
                .all_live()?
                .and_then(|columns| columns.first().cloned())
                .and_then(|c| {
                    let counts = c.as_primitive_opt::<Int64Type>()?.clone();
                    (!counts.is_empty()).then(|| counts.value(0))
                });
            self.emitted = emitted
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| Error::Checkpoint {
                    path: dir.clone(),
                    message: format!(
                        "the LIMIT's count of emitted rows as of batch {version} is missing or negative; the checkpoint is damaged"
                    ),
                })?;
        }
        self.store = Some(store);
        Ok(())
    }

    /// Keeps the rows of `batches` the limit still allows and records (durably, once
    /// attached) how many have gone out after batch `batch_id`.
    pub(super) fn take(
        &mut self,
        batches: Vec<RecordBatch>,
        batch_id: u64,
    ) -> Result<Vec<RecordBatch>> {
        let mut remaining = self.limit.saturating_sub(self.emitted);
        let mut out = Vec::new();
        for batch in batches {
            if remaining == 0 {
                break;
            }
            let take = batch.num_rows().min(remaining);
            remaining -= take;
            self.emitted += take;
            out.push(batch.slice(0, take));
        }
        let count: ArrayRef = Arc::new(Int64Array::from(vec![self.emitted as i64]));
        let lookup = self.state.lookup(&[], 1)?;
        let delta = self.state.put(lookup, vec![count])?;
        if let Some(store) = &self.store {
            store.commit(batch_id, &delta, &self.state)?;
        }
        Ok(out)
    }

    /// Drops state files no batch from `oldest` on needs.
    pub(super) fn purge(&self, oldest: u64) -> Result<()> {
        self.store.as_ref().map_or(Ok(()), |s| s.purge(oldest))
    }
}
