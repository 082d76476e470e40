//! Crash points for recovery tests: with `KINDLING_CRASH_AT=<point>:<batchId>` in its
//! environment, the process aborts (as abruptly as `kill -9`) when batch `batchId` reaches
//! `<point>`: `after-offsets`, `mid-sink` (file sinks: data written, manifest not),
//! `before-commit` or `after-commit`. Unset, this does nothing.

/// Aborts the process if the environment asks for a crash at `point` of `batch_id`.
pub fn crash_point(point: &str, batch_id: u64) {
    if let Ok(spec) = std::env::var("KINDLING_CRASH_AT")
        && spec == format!("{point}:{batch_id}")
    {
        eprintln!("KINDLING_CRASH_AT={spec}: aborting");
        std::process::abort();
    }
}
