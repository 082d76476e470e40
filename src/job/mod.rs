//! Job files: [`spec`] is the TOML shape users write (Spark's names, verbatim) plus `--conf`
//! overrides; [`plan`] validates it into a [`JobPlan`] the engine can run.

pub mod plan;
pub mod spec;

pub use plan::{HookPlan, HttpBody, JobPlan, OnError, QueryPlan, QueryText, SinkPlan, SourcePlan};
pub use spec::JobSpec;
