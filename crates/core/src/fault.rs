//! Crash points for recovery tests: with `KINDLING_CRASH_AT=<point>:<batchId>` in its
//! environment, the process aborts (as abruptly as `kill -9`) when batch `batchId` reaches
//! `<point>`: `after-offsets`, `mid-sink` (file sinks: data written, manifest not),
//! `before-commit` or `after-commit`. Unset, this does nothing.

use std::sync::OnceLock;

/// The requested crash, read once: this sits on the per-batch path.
static CRASH_AT: OnceLock<Option<String>> = OnceLock::new();

/// Aborts the process if the environment asks for a crash at `point` of `batch_id`.
pub fn crash_point(point: &str, batch_id: u64) {
    let wanted = CRASH_AT.get_or_init(|| std::env::var("KINDLING_CRASH_AT").ok());
    if let Some(spec) = wanted
        && spec.strip_suffix(&format!(":{batch_id}")) == Some(point)
    {
        eprintln!("KINDLING_CRASH_AT={spec}: aborting");
        std::process::abort();
    }
}
