//! [`StreamingQuery`]: the handle of a running query (Spark's `StreamingQuery`): its ids,
//! status and progress, `stop` and `await_termination`. The query runs on a task the handle owns.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::progress::{QueryProgress, QueryStatus};
use kindling_core::error::{Error, Result};

/// How many progress reports a query keeps (`spark.sql.streaming.numRecentProgressUpdates`).
const RECENT_PROGRESS: usize = 100;

/// State shared between a running query and its handle.
#[derive(Debug)]
pub(crate) struct QueryShared {
    status: Mutex<QueryStatus>,
    progress: Mutex<VecDeque<QueryProgress>>,
    /// Batches committed so far and whether the query has ended, for waiters: every change
    /// wakes them, the end included.
    run: watch::Sender<RunState>,
}

/// What waiters watch: how far the query got and whether it is over.
#[derive(Debug, Clone, Copy, Default)]
struct RunState {
    committed: u64,
    ended: bool,
}

impl QueryShared {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(QueryShared {
            status: Mutex::new(QueryStatus::new("Initializing sources", false, false)),
            progress: Mutex::new(VecDeque::new()),
            run: watch::Sender::new(RunState::default()),
        })
    }

    /// Records the final status of a query that has ended and wakes every waiter.
    pub(crate) fn finish(&self, status: QueryStatus) {
        self.set_status(status);
        self.run.send_modify(|r| r.ended = true);
    }

    fn is_active(&self) -> bool {
        !self.run.borrow().ended
    }

    fn batches_committed(&self) -> u64 {
        self.run.borrow().committed
    }

    pub(crate) fn set_status(&self, status: QueryStatus) {
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = status;
    }

    fn status(&self) -> QueryStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn recent_progress(&self) -> Vec<QueryProgress> {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Waits until `n` batches are committed or the query ends, whichever comes first;
    /// whether `n` were reached. The sender lives as long as `self`, so only the end of the
    /// query (not the end of the channel) can end a wait short of `n`.
    async fn wait_for_batches(&self, n: u64) -> bool {
        let mut rx = self.run.subscribe();
        rx.wait_for(|r| r.committed >= n || r.ended)
            .await
            .is_ok_and(|r| r.committed >= n)
    }

    pub(crate) fn publish(&self, progress: QueryProgress) {
        let mut recent = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() == RECENT_PROGRESS {
            recent.pop_front();
        }
        recent.push_back(progress);
        drop(recent);
        self.run.send_modify(|r| r.committed += 1);
    }
}

/// A read-only view of a query (its id, name, status and progress) that observers keep
/// while the [`StreamingQuery`] handle stays with its owner.
#[derive(Debug, Clone)]
pub struct QueryWatch {
    id: Uuid,
    name: String,
    shared: Arc<QueryShared>,
}

impl QueryWatch {
    /// The query id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The query name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the query is doing now.
    pub fn status(&self) -> QueryStatus {
        self.shared.status()
    }

    /// The progress of up to the last 100 batches, oldest first.
    pub fn recent_progress(&self) -> Vec<QueryProgress> {
        self.shared.recent_progress()
    }

    /// Waits until at least `n` batches have been committed, or the query ended; see
    /// [`StreamingQuery::wait_for_batches`].
    pub async fn wait_for_batches(&self, n: u64) -> bool {
        self.shared.wait_for_batches(n).await
    }

    /// Batches committed by this run so far.
    pub fn batches_committed(&self) -> u64 {
        self.shared.batches_committed()
    }

    /// Whether the query is still running.
    pub fn is_active(&self) -> bool {
        self.shared.is_active()
    }
}

/// A running (or finished) streaming query.
#[derive(Debug)]
pub struct StreamingQuery {
    id: Uuid,
    run_id: Uuid,
    name: String,
    shared: Arc<QueryShared>,
    stop: watch::Sender<bool>,
    task: JoinSet<Result<()>>,
    outcome: Option<Result<(), (String, u8)>>,
}

impl StreamingQuery {
    pub(crate) fn new(
        id: Uuid,
        run_id: Uuid,
        name: String,
        shared: Arc<QueryShared>,
        stop: watch::Sender<bool>,
        task: JoinSet<Result<()>>,
    ) -> Self {
        StreamingQuery {
            id,
            run_id,
            name,
            shared,
            stop,
            task,
            outcome: None,
        }
    }

    /// The query id (stable across restarts from the same checkpoint).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// This run's id, new at every start.
    pub fn run_id(&self) -> Uuid {
        self.run_id
    }

    /// The query name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the query is doing now.
    pub fn status(&self) -> QueryStatus {
        self.shared.status()
    }

    /// Whether the query is still running (Spark's `isActive`): false once it stopped,
    /// finished its bounded trigger or failed.
    pub fn is_active(&self) -> bool {
        self.shared.is_active()
    }

    /// Batches committed by this run so far.
    pub fn batches_committed(&self) -> u64 {
        self.shared.batches_committed()
    }

    /// The progress of the last committed batch.
    pub fn last_progress(&self) -> Option<QueryProgress> {
        self.shared
            .progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .back()
            .cloned()
    }

    /// The progress of up to the last 100 batches, oldest first.
    pub fn recent_progress(&self) -> Vec<QueryProgress> {
        self.shared.recent_progress()
    }

    /// Waits until at least `n` batches have been committed, or the query ended; returns
    /// whether `n` batches were reached.
    pub async fn wait_for_batches(&self, n: u64) -> bool {
        self.shared.wait_for_batches(n).await
    }

    /// A cloneable, read-only view of this query for observers such as the dashboard.
    pub fn watch(&self) -> QueryWatch {
        QueryWatch {
            id: self.id,
            name: self.name.clone(),
            shared: Arc::clone(&self.shared),
        }
    }

    /// Asks the query to stop after the batch in flight, if any.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// A handle that can stop the query from elsewhere (e.g. while another task awaits it).
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.stop.clone())
    }

    /// Waits for the query to end; `Ok` when it stopped or finished, the error when it failed.
    pub async fn await_termination(&mut self) -> Result<()> {
        if self.outcome.is_none() {
            let result = match self.task.join_next().await {
                Some(Ok(r)) => r,
                Some(Err(join)) => Err(Error::Terminated {
                    message: format!("query '{}' crashed: {join}", self.name),
                    code: 1,
                }),
                None => Ok(()),
            };
            self.outcome = Some(
                result
                    .as_ref()
                    .map(|_| ())
                    .map_err(|e| (e.report(), e.exit_code())),
            );
            return result;
        }
        match &self.outcome {
            Some(Err((message, code))) => Err(Error::Terminated {
                message: message.clone(),
                code: *code,
            }),
            _ => Ok(()),
        }
    }
}

/// Stops a [`StreamingQuery`] without owning it.
#[derive(Debug, Clone)]
pub struct StopHandle(watch::Sender<bool>);

impl StopHandle {
    /// Asks the query to stop after the batch in flight, if any.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Drop for StreamingQuery {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
