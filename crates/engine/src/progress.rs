//! [`QueryProgress`] and [`QueryStatus`]: what a query publishes, in Spark's JSON shape
//! (`StreamingQueryProgress`, camelCase). The dashboard and the REPL read these; nothing else.

use std::collections::BTreeMap;

use serde::Serialize;

/// One batch's progress report (Spark's `StreamingQueryProgress`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryProgress {
    /// The query id, stable across restarts.
    pub id: String,
    /// This run's id.
    pub run_id: String,
    /// The query name.
    pub name: String,
    /// The trigger's start, ISO-8601 UTC.
    pub timestamp: String,
    /// The batch.
    pub batch_id: u64,
    /// Wall time of the batch in ms.
    pub batch_duration: u64,
    /// Rows read by the batch.
    pub num_input_rows: u64,
    /// Rows per second arriving since the previous trigger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_rows_per_second: Option<f64>,
    /// Rows per second the batch processed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_rows_per_second: Option<f64>,
    /// Time per phase (`addBatch`, `getBatch`, `latestOffset`, `queryPlanning`,
    /// `triggerExecution`, `walCommit`, `commitOffsets`).
    pub duration_ms: BTreeMap<String, u64>,
    /// Stateful operators' metrics.
    pub state_operators: Vec<StateOperatorProgress>,
    /// Per-source offsets and rates.
    pub sources: Vec<SourceProgress>,
    /// The sink.
    pub sink: SinkProgress,
}

/// Spark's `StateOperatorProgress`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateOperatorProgress {
    /// `stateStoreSave` for an aggregation.
    pub operator_name: String,
    /// Keys held.
    pub num_rows_total: u64,
    /// Keys changed this batch.
    pub num_rows_updated: u64,
    /// Keys removed this batch.
    pub num_rows_removed: u64,
    /// Bytes held.
    pub memory_used_bytes: u64,
    /// Time to commit the state, ms.
    pub commit_time_ms: u64,
}

/// Spark's `SourceProgress`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceProgress {
    /// The source's description.
    pub description: String,
    /// Where the batch started (`null` for the first).
    pub start_offset: Option<serde_json::Value>,
    /// Where it ended.
    pub end_offset: serde_json::Value,
    /// Rows read.
    pub num_input_rows: u64,
    /// See [`QueryProgress::input_rows_per_second`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_rows_per_second: Option<f64>,
    /// See [`QueryProgress::processed_rows_per_second`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_rows_per_second: Option<f64>,
    /// Source-specific metrics (Kafka: `avg/max/minOffsetsBehindLatest`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, String>,
}

/// Spark's `SinkProgress`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SinkProgress {
    /// The sink's description.
    pub description: String,
    /// Rows written (-1 when unknown).
    pub num_output_rows: i64,
}

/// What a query is doing now (Spark's `StreamingQueryStatus`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueryStatus {
    /// e.g. `Waiting for data to arrive`, `Processing new data`, `Stopped`.
    pub message: String,
    /// Whether the last trigger found new data.
    pub is_data_available: bool,
    /// Whether a trigger is running.
    pub is_trigger_active: bool,
}

impl QueryStatus {
    /// A status with `message`.
    pub fn new(message: &str, is_data_available: bool, is_trigger_active: bool) -> Self {
        QueryStatus {
            message: message.to_string(),
            is_data_available,
            is_trigger_active,
        }
    }
}

/// Rows per second rounded to one decimal HALF_UP; `None` when undefined, as Spark drops NaN
/// and infinite rates.
pub fn rate(rows: u64, millis: u64) -> Option<f64> {
    if millis == 0 {
        return None;
    }
    let r = rows as f64 * 1000.0 / millis as f64;
    Some((r * 10.0 + 0.5).floor() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_half_up_and_drop_infinity() {
        assert_eq!(rate(1, 3), Some(333.3));
        assert_eq!(rate(3, 2000), Some(1.5));
        assert_eq!(rate(5, 0), None);
    }
}
