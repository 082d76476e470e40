//! Micro-batch execution: [`start`] recovers a query from its checkpoint and turns trigger
//! ticks into committed batches.
//!
//! Order per batch (as in Spark's `MicroBatchExecution`): latest offset → write
//! `offsets/<id>` → read `(start, end]` and run the plan → [`Sink::add_batch`] → write
//! `commits/<id>` → publish [`QueryProgress`]. A trigger that finds no new input runs no batch.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::checkpoint::{Checkpoint, OffsetMetadata, Recovery};
use super::incremental::IncrementalPlan;
use super::progress::{
    QueryProgress, QueryStatus, SinkProgress, SourceProgress, StateOperatorProgress, rate,
};
use super::query::{QueryShared, StreamingQuery};
use kindling_core::error::{Error, Result};
use kindling_core::fs::{MetadataLog, now_millis};
use kindling_core::output_mode::OutputMode;
use kindling_core::trigger::Trigger;
use kindling_sink::Sink;
use kindling_source::{MicroBatchSource, ReadLimit, SourceOffset};

/// How long an idle query with the default trigger waits before asking the source again
/// (Spark's `spark.sql.streaming.pollingDelay`).
const POLLING_DELAY: Duration = Duration::from_millis(10);

/// Batches whose logs are kept, unless `spark.sql.streaming.minBatchesToRetain` says otherwise.
const MIN_BATCHES_TO_RETAIN: u64 = 100;

/// Old log entries are deleted every this many batches.
const PURGE_EVERY: u64 = 10;

/// What a query is made of, planned and opened by the session: [`start`] runs it.
pub struct QueryParts {
    /// The query's name.
    pub name: String,
    /// Its input.
    pub source: Box<dyn MicroBatchSource>,
    /// Its plan, already checked for the output mode.
    pub plan: IncrementalPlan,
    /// Its output.
    pub sink: Box<dyn Sink>,
    /// Which rows the sink receives.
    pub output_mode: OutputMode,
    /// When batches run.
    pub trigger: Trigger,
    /// The checkpoint directory; `None` for a temporary one.
    pub checkpoint_location: Option<PathBuf>,
    /// The `spark.*` settings logged with every batch's offsets.
    pub conf: BTreeMap<String, String>,
}

/// Opens the query's checkpoint, recovers where it stopped (the source's log, the state as of
/// the last commit) and starts its batches on a task of their own.
pub fn start(parts: QueryParts) -> Result<StreamingQuery> {
    let QueryParts {
        name,
        mut source,
        mut plan,
        sink,
        output_mode,
        trigger,
        checkpoint_location,
        conf,
    } = parts;
    let checkpoint = Checkpoint::open(checkpoint_location.as_deref())?;
    let recovery = checkpoint.recover()?;
    attach_source(&checkpoint, source.as_mut(), &recovery)?;
    plan.attach_state(&checkpoint, recovery.last_committed)?;
    let id = checkpoint.query_id();
    let shared = QueryShared::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let run_id = uuid::Uuid::new_v4();
    let execution = MicroBatchExecution {
        name: name.clone(),
        id: id.to_string(),
        run_id: run_id.to_string(),
        source,
        plan,
        sink,
        output_mode,
        trigger,
        checkpoint,
        recovery,
        conf,
        shared: Arc::clone(&shared),
        stop: stop_rx,
    };
    let mut task = JoinSet::new();
    task.spawn(execution.run());
    Ok(StreamingQuery::new(id, run_id, name, shared, stop_tx, task))
}

/// Connects the source to its log in the checkpoint: refuses a checkpoint written for another
/// source (Spark forbids changing the source or its topics), restores the source's own log and
/// hands it the last logged offset.
fn attach_source(
    checkpoint: &Checkpoint,
    source: &mut dyn MicroBatchSource,
    recovery: &Recovery,
) -> Result<()> {
    let log = MetadataLog::open(checkpoint.source_dir(0)?, checkpoint.durable())?;
    let identity = source.identity();
    match log.file("_source")? {
        Some(text) => {
            let found: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
                    path: log.dir().join("_source"),
                    message: format!(
                        "the source's identity is not JSON ({e}); the checkpoint is damaged: restore it or use a new checkpointLocation"
                    ),
                })?;
            if found != identity {
                return Err(Error::IncompatibleRestart {
                    path: checkpoint.dir().to_path_buf(),
                    message: format!(
                        "its source was {found} and this job reads {identity}; Spark does not allow changing the source of a checkpointed query: use a new checkpointLocation"
                    ),
                });
            }
        }
        None => log.put_file("_source", identity.to_string().as_bytes())?,
    }
    source.attach(log)?;
    let last_logged = recovery
        .pending
        .as_ref()
        .map(|(_, end)| end)
        .or(recovery.committed_end.as_ref());
    if let Some(end) = last_logged {
        source.resume_from(end)?;
    }
    Ok(())
}

/// Everything one running query owns.
struct MicroBatchExecution {
    name: String,
    id: String,
    run_id: String,
    source: Box<dyn MicroBatchSource>,
    plan: IncrementalPlan,
    sink: Box<dyn Sink>,
    output_mode: OutputMode,
    trigger: Trigger,
    checkpoint: Checkpoint,
    /// Where the checkpoint says to resume.
    recovery: Recovery,
    conf: BTreeMap<String, String>,
    shared: Arc<QueryShared>,
    stop: watch::Receiver<bool>,
}

impl MicroBatchExecution {
    /// Runs batches until stopped, until a bounded trigger has consumed its input, or until a
    /// batch fails.
    async fn run(mut self) -> Result<()> {
        let mut end = EndGuard(Some(Arc::clone(&self.shared)));
        let result = self.run_loop().await;
        let message = match &result {
            Ok(()) => "Stopped".to_string(),
            Err(e) => format!("Terminated with exception: {}", e.report()),
        };
        end.finish(&message);
        result
    }

    async fn run_loop(&mut self) -> Result<()> {
        let mut start: Option<SourceOffset> = self.recovery.committed_end.clone();
        let mut batch_id: u64 = self.recovery.last_committed.map_or(0, |c| c + 1);
        // A batch logged but not committed runs first, with exactly its logged offsets.
        if let Some((id, end)) = self.recovery.pending.take() {
            info!(query = %self.name, batch_id = id, "re-running the uncommitted batch");
            let progress = self
                .run_batch(
                    id,
                    start.as_ref(),
                    &end,
                    now_millis(),
                    Instant::now(),
                    false,
                )
                .await
                .map_err(|e| Error::BatchFailed {
                    query: self.name.clone(),
                    batch_id: id,
                    source: Box::new(e),
                })?;
            self.shared.publish(progress);
            start = Some(end);
            batch_id = id + 1;
        }
        if self.trigger == Trigger::AvailableNow {
            self.source.prepare_available_now().await?;
        }
        let limit = if self.trigger == Trigger::Once {
            ReadLimit::All
        } else {
            ReadLimit::Configured
        };
        let interval = match self.trigger {
            Trigger::ProcessingTime(d) => d,
            _ => Duration::ZERO,
        };
        let mut next_tick = Instant::now();
        let mut last_trigger: Option<Instant> = None;
        loop {
            if *self.stop.borrow() {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep_until(next_tick.into()) => {}
                _ = self.stop.changed() => return Ok(()),
            }
            let trigger_start = Instant::now();
            let trigger_ms = now_millis();
            self.shared.set_status(QueryStatus::new(
                &format!("Getting offsets from {}", self.source.name()),
                false,
                true,
            ));
            let end = self.source.latest_offset(start.as_ref(), limit).await?;
            let latest_offset_ms = trigger_start.elapsed().as_millis() as u64;
            let end = match end {
                Some(end) if start.as_ref() != Some(&end) => end,
                _ => {
                    if self.trigger.is_bounded() {
                        return Ok(());
                    }
                    self.shared.set_status(QueryStatus::new(
                        "Waiting for data to arrive",
                        false,
                        false,
                    ));
                    next_tick = next_deadline(trigger_start, interval);
                    continue;
                }
            };
            self.shared
                .set_status(QueryStatus::new("Processing new data", true, true));
            let progress = self
                .run_batch(
                    batch_id,
                    start.as_ref(),
                    &end,
                    trigger_ms,
                    trigger_start,
                    true,
                )
                .await
                .map_err(|e| Error::BatchFailed {
                    query: self.name.clone(),
                    batch_id,
                    source: Box::new(e),
                })?;
            let mut progress = progress;
            progress
                .duration_ms
                .insert("latestOffset".into(), latest_offset_ms);
            let since_last =
                last_trigger.map(|t| trigger_start.duration_since(t).as_millis() as u64);
            progress.input_rows_per_second =
                since_last.and_then(|ms| rate(progress.num_input_rows, ms));
            if let Some(source) = progress.sources.first_mut() {
                source.input_rows_per_second = progress.input_rows_per_second;
            }
            last_trigger = Some(trigger_start);
            let elapsed = trigger_start.elapsed();
            if !interval.is_zero() && elapsed > interval {
                warn!(
                    "Current batch is falling behind. The trigger interval is {} milliseconds, but spent {} milliseconds",
                    interval.as_millis(),
                    elapsed.as_millis()
                );
            }
            info!(query = %self.name, batch_id, rows = progress.num_input_rows, ms = progress.batch_duration, "batch committed");
            self.shared.publish(progress);
            self.shared
                .set_status(QueryStatus::new("Waiting for next trigger", true, false));
            start = Some(end);
            batch_id += 1;
            if self.trigger == Trigger::Once {
                return Ok(());
            }
            // Missed slots are not queued: an overrunning batch starts the next one at once.
            next_tick = (trigger_start + interval).max(Instant::now());
        }
    }

    async fn run_batch(
        &mut self,
        batch_id: u64,
        start: Option<&SourceOffset>,
        end: &SourceOffset,
        trigger_ms: i64,
        trigger_start: Instant,
        log_offsets: bool,
    ) -> Result<QueryProgress> {
        let mut durations = BTreeMap::new();
        let t = Instant::now();
        if log_offsets {
            let metadata = OffsetMetadata {
                batch_watermark_ms: 0,
                batch_timestamp_ms: trigger_ms,
                conf: self.conf.clone(),
            };
            self.checkpoint.write_offsets(batch_id, &metadata, &[end])?;
        }
        kindling_core::fault::crash_point("after-offsets", batch_id);
        durations.insert("walCommit".to_string(), ms(t));

        let t = Instant::now();
        let rows = self.source.read_batch(start, end).await?;
        let num_input_rows: u64 = rows.iter().map(|b| b.num_rows() as u64).sum();
        durations.insert("getBatch".to_string(), ms(t));
        debug!(batch_id, num_input_rows, %end, "batch read");

        let t = Instant::now();
        let output = self
            .plan
            .run_batch(rows, self.output_mode, batch_id)
            .await?;
        let num_output_rows: usize = output.batches.iter().map(|b| b.num_rows()).sum();
        self.sink
            .add_batch(batch_id, self.output_mode, &output.batches)
            .await?;
        durations.insert("addBatch".to_string(), ms(t));
        kindling_core::fault::crash_point("before-commit", batch_id);

        let t = Instant::now();
        self.checkpoint.write_commit(batch_id, 0)?;
        kindling_core::fault::crash_point("after-commit", batch_id);
        self.source.commit(end).await?;
        if batch_id.is_multiple_of(PURGE_EVERY) {
            let retain = self
                .conf
                .get("spark.sql.streaming.minBatchesToRetain")
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|n| *n > 0)
                .unwrap_or(MIN_BATCHES_TO_RETAIN);
            self.checkpoint.purge(batch_id, retain)?;
            self.plan.purge_state(batch_id.saturating_sub(retain - 1))?;
        }
        durations.insert("commitOffsets".to_string(), ms(t));
        let total = ms(trigger_start);
        durations.insert("triggerExecution".to_string(), total);

        let processed = rate(num_input_rows, total);
        Ok(QueryProgress {
            id: self.id.clone(),
            run_id: self.run_id.clone(),
            name: self.name.clone(),
            timestamp: chrono::DateTime::from_timestamp_millis(trigger_ms)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .unwrap_or_default(),
            batch_id,
            batch_duration: total,
            num_input_rows,
            input_rows_per_second: None,
            processed_rows_per_second: processed,
            duration_ms: durations,
            state_operators: output
                .state
                .map(|s| StateOperatorProgress {
                    operator_name: "stateStoreSave".to_string(),
                    num_rows_total: s.num_rows_total,
                    num_rows_updated: s.num_rows_updated,
                    num_rows_removed: 0,
                    memory_used_bytes: s.memory_used_bytes,
                    commit_time_ms: s.commit_time_ms,
                })
                .into_iter()
                .collect(),
            sources: vec![SourceProgress {
                description: self.source.name().to_string(),
                start_offset: start.map(|s| s.0.clone()),
                end_offset: end.0.clone(),
                num_input_rows,
                input_rows_per_second: None,
                processed_rows_per_second: processed,
                metrics: self.source.metrics(end),
            }],
            sink: SinkProgress {
                description: self.sink.name().to_string(),
                num_output_rows: num_output_rows as i64,
            },
        })
    }
}

/// Marks the query ended however its task ends: normally, with an error, or dropped
/// (aborted or panicked) before it could say so, so no waiter is left behind.
struct EndGuard(Option<Arc<QueryShared>>);

impl EndGuard {
    fn finish(&mut self, message: &str) {
        if let Some(shared) = self.0.take() {
            shared.finish(QueryStatus::new(message, false, false));
        }
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.finish("Terminated with exception: the query's task was cancelled");
    }
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// The next trigger after one that found no data: one interval after it started, or after
/// [`POLLING_DELAY`] for the default trigger.
fn next_deadline(trigger_start: Instant, interval: Duration) -> Instant {
    if interval.is_zero() {
        Instant::now() + POLLING_DELAY
    } else {
        (trigger_start + interval).max(Instant::now())
    }
}
