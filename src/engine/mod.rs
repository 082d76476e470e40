//! The streaming engine: the micro-batch loop and everything it coordinates (triggers, output
//! modes, the incremental plan and its state, the checkpoint, progress, query handles).

pub mod checker;
pub mod checkpoint;
pub mod fault;
pub mod incremental;
pub(crate) mod micro_batch;
pub mod output_mode;
pub mod progress;
pub mod query;
pub mod scan;
pub mod state;
pub mod state_store;
pub mod trigger;

pub use output_mode::OutputMode;
pub use progress::{QueryProgress, QueryStatus};
pub use query::{QueryWatch, StreamingQuery};
pub use trigger::Trigger;
