//! [`DataStreamReader`]: `session.read_stream().format(..).option(k, v).load()`.

use std::collections::BTreeMap;

use super::StreamingDataFrame;
use crate::error::Result;
use crate::job::SourcePlan;
use crate::options::OptionValue;
use crate::options::Options;
use crate::session::Session;

/// Builds a streaming source (Spark's `DataStreamReader`).
#[derive(Debug, Clone)]
pub struct DataStreamReader {
    session: Session,
    format: String,
    options: BTreeMap<String, OptionValue>,
    table: String,
}

impl DataStreamReader {
    pub(crate) fn new(session: Session) -> Self {
        DataStreamReader {
            session,
            format: "tweets".to_string(),
            options: BTreeMap::new(),
            table: "input".to_string(),
        }
    }

    /// The source format: `text`, `tweets`, `rate` or `kafka`.
    pub fn format(mut self, format: &str) -> Self {
        self.format = format.to_string();
        self
    }

    /// One option, with Spark's name.
    pub fn option(mut self, key: &str, value: impl Into<String>) -> Self {
        self.options
            .insert(key.to_string(), OptionValue::Str(value.into()));
        self
    }

    /// The table name the stream has in SQL strings (`select_expr`, `where_expr`); default
    /// `input`.
    pub fn table_name(mut self, name: &str) -> Self {
        self.table = name.to_string();
        self
    }

    /// Opens the source.
    pub fn load(self) -> Result<StreamingDataFrame> {
        let plan = SourcePlan {
            format: self.format.clone(),
            table: self.table.clone(),
            options: Options::new(format!("source '{}'", self.format), &self.options),
        };
        StreamingDataFrame::open(self.session, plan)
    }
}

impl Session {
    /// Starts building a streaming source, as `spark.readStream`.
    pub fn read_stream(&self) -> DataStreamReader {
        DataStreamReader::new(self.clone())
    }
}
