//! [`DataStreamWriter`]: `frame.write_stream().output_mode(..).trigger(..).format(..)` or
//! `.foreach_batch(|batch_df, batch_id| async move { .. })`, then `.start().await`.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::dataframe::DataFrame;
use futures::FutureExt;

use super::StreamingDataFrame;
use crate::engine::{OutputMode, StreamingQuery, Trigger};
use crate::error::Result;
use crate::job::{QueryPlan, QueryText, SinkPlan};
use crate::options::OptionValue;
use crate::options::Options;
use crate::sink::foreach_batch::{BatchFn, ForeachBatchSink};

/// Configures and starts the output (Spark's `DataStreamWriter`).
pub struct DataStreamWriter {
    frame: StreamingDataFrame,
    output_mode: OutputMode,
    trigger: Trigger,
    format: String,
    options: BTreeMap<String, OptionValue>,
    query_name: Option<String>,
    checkpoint_location: Option<PathBuf>,
    foreach_batch: Option<BatchFn>,
}

impl DataStreamWriter {
    pub(crate) fn new(frame: StreamingDataFrame) -> Self {
        DataStreamWriter {
            frame,
            output_mode: OutputMode::Append,
            trigger: Trigger::default(),
            format: "console".to_string(),
            options: BTreeMap::new(),
            query_name: None,
            checkpoint_location: None,
            foreach_batch: None,
        }
    }

    /// `outputMode(..)`; append by default.
    pub fn output_mode(mut self, mode: OutputMode) -> Self {
        self.output_mode = mode;
        self
    }

    /// `trigger(..)`; as fast as possible by default.
    pub fn trigger(mut self, trigger: Trigger) -> Self {
        self.trigger = trigger;
        self
    }

    /// `format(..)`: `console` (default), `memory`, `json`, `csv`, `text`.
    pub fn format(mut self, format: &str) -> Self {
        self.format = format.to_string();
        self
    }

    /// One sink option, with Spark's name (`numRows`, `truncate`, `path`).
    pub fn option(mut self, key: &str, value: impl Into<String>) -> Self {
        self.options
            .insert(key.to_string(), OptionValue::Str(value.into()));
        self
    }

    /// `queryName(..)`: names the query and its memory table.
    pub fn query_name(mut self, name: &str) -> Self {
        self.query_name = Some(name.to_string());
        self
    }

    /// `option("checkpointLocation", ..)`.
    pub fn checkpoint_location(mut self, dir: impl Into<PathBuf>) -> Self {
        self.checkpoint_location = Some(dir.into());
        self
    }

    /// `foreachBatch(func)`: calls `func(batch_df, batch_id)` for every batch (again with the
    /// same id and rows when a batch is replayed after a crash).
    pub fn foreach_batch<F, Fut>(mut self, func: F) -> Self
    where
        F: Fn(DataFrame, u64) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.format = "foreach_batch".to_string();
        self.foreach_batch = Some(Arc::new(move |df, id| func(df, id).boxed()));
        self
    }

    /// Starts the query.
    pub async fn start(self) -> Result<StreamingQuery> {
        let (session, source, input, logical) = self.frame.into_parts();
        let name = self.query_name.clone().unwrap_or_else(|| {
            format!("query_{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
        });
        let query = QueryPlan {
            name: name.clone(),
            job: name,
            source,
            query: QueryText::Sql(logical.display_indent().to_string()),
            sink: SinkPlan {
                format: self.format.clone(),
                output_mode: self.output_mode,
                trigger: self.trigger,
                checkpoint_location: self.checkpoint_location,
                options: Options::new(format!("sink '{}'", self.format), &self.options),
                hooks: Vec::new(),
            },
            conf: BTreeMap::new(),
        };
        let custom = match self.foreach_batch {
            Some(f) => {
                let schema = Arc::new(logical.schema().as_arrow().clone());
                Some(
                    Box::new(ForeachBatchSink::new(schema, f, crate::sql::new_session()?))
                        as Box<dyn crate::sink::Sink>,
                )
            }
            None => None,
        };
        session.launch(input, logical, &query, custom).await
    }
}
