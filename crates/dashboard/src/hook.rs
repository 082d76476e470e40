//! [`DashboardHook`]: a `foreach_batch` hook that hands each batch's top rows straight to a
//! [`DashboardState`] in the same process (what `kindling demo` uses), with no HTTP hop. The
//! first column gives the labels and the second the bar lengths, as in the tutorial's
//! `tag`, `tag_count`.

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::{DashboardState, TopList};
use kindling_core::error::{Error, Result};
use kindling_sink::foreach_batch::BatchHook;

/// Publishes each batch's first `top` rows as the dashboard's top list.
pub struct DashboardHook {
    state: DashboardState,
    top: usize,
}

impl DashboardHook {
    /// A hook feeding `state` the first `top` rows of each batch.
    pub fn new(state: DashboardState, top: usize) -> Self {
        DashboardHook { state, top }
    }
}

#[async_trait]
impl BatchHook for DashboardHook {
    async fn call(&self, _batch_id: u64, batches: &[RecordBatch]) -> Result<()> {
        let mut list = TopList::default();
        for batch in batches {
            if batch.num_columns() < 2 {
                return Err(Error::Sink {
                    sink: "dashboard".to_string(),
                    message: "the dashboard needs two columns: a label and a count".to_string(),
                    cause: None,
                });
            }
            let labels =
                ArrayFormatter::try_new(batch.column(0).as_ref(), &FormatOptions::default())?;
            let counts = cast(batch.column(1), &DataType::Float64)?;
            let counts = counts.as_primitive::<Float64Type>();
            for row in 0..batch.num_rows() {
                if list.tags.len() >= self.top {
                    break;
                }
                list.tags.push(labels.value(row).to_string());
                list.counts.push(if counts.is_null(row) {
                    0.0
                } else {
                    counts.value(row)
                });
            }
        }
        self.state.set_top(list);
        Ok(())
    }
}
