//! The streaming engine: the micro-batch loop and everything it coordinates (triggers, output
//! modes, the incremental plan and its state, the checkpoint, progress, query handles).

pub(crate) mod aggregation;
pub mod checker;
pub mod checkpoint;
pub mod incremental;
pub(crate) mod limit;
mod micro_batch;
pub mod progress;
pub mod query;
pub mod scan;
pub mod state;
pub mod state_store;

pub use kindling_core::output_mode::OutputMode;
pub use kindling_core::trigger::Trigger;
pub use micro_batch::{QueryParts, start};
pub use progress::{QueryProgress, QueryStatus};
pub use query::{QueryWatch, StreamingQuery};
