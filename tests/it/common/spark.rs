//! Running the same job files through Apache Spark 4.3.0 (PySpark, `scripts/spark_run.py`) and
//! through kindling, and comparing what each printed or the error each gave. Shared by the
//! Spark-diff jobs and the differential fuzzer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Compare, compare_output};

/// What a run of one job gave: its console output, and the error it ended with, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// What the console sink printed (for a failed query, the batches before the failure).
    pub output: String,
    /// The error message, without kindling's `Error: job '...': ` prefix or Spark's plan.
    pub error: Option<String>,
}

/// The prefix of kindling's message for a query it refuses although Spark runs it.
pub const KINDLING_REFUSAL: &str = "kindling cannot run this query as Spark does: ";

impl Outcome {
    /// Whether kindling refused the query itself (not with one of Spark's errors).
    pub fn refused_by_kindling(&self) -> bool {
        self.error
            .as_deref()
            .is_some_and(|e| e.starts_with(KINDLING_REFUSAL))
    }
}

/// The error class of a message (`[DIVIDE_BY_ZERO]` → `DIVIDE_BY_ZERO`), or the message itself
/// for Spark's errors without a class.
pub fn error_class(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix('[')
        && let Some(end) = rest.find(']')
    {
        return rest[..end].to_string();
    }
    message.to_string()
}

/// Runs every job through Spark in one session; `None` when Spark could not run at all
/// (its stderr is then the `Err`).
pub fn run_spark(root: &Path, jobs: &[PathBuf]) -> Result<HashMap<String, Outcome>, String> {
    let spark = Command::new(root.join("scripts/spark-env.sh"))
        .arg("python")
        .arg(root.join("scripts/spark_run.py"))
        .args(jobs)
        .output()
        .map_err(|e| format!("cannot start scripts/spark-env.sh: {e}"))?;
    if !spark.status.success() {
        return Err(format!(
            "Spark did not run: {}",
            String::from_utf8_lossy(&spark.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&spark.stdout).into_owned();
    let mut outcomes: HashMap<String, Outcome> = HashMap::new();
    let mut current: Option<String> = None;
    for line in stdout.split_inclusive('\n') {
        if let Some(stem) = line
            .strip_prefix("==== kindling-job: ")
            .and_then(|l| l.trim_end().strip_suffix(" ===="))
        {
            current = Some(stem.to_string());
            outcomes.insert(stem.to_string(), Outcome::default());
        } else if let Some(error) = line
            .strip_prefix("==== spark-error: ")
            .and_then(|l| l.trim_end().strip_suffix(" ===="))
        {
            if let Some(outcome) = current.as_ref().and_then(|s| outcomes.get_mut(s)) {
                outcome.error = Some(serde_json::from_str(error).unwrap_or_else(|_| error.into()));
            }
        } else if let Some(outcome) = current.as_ref().and_then(|s| outcomes.get_mut(s)) {
            outcome.output.push_str(line);
        }
    }
    Ok(outcomes)
}

/// [`run_spark`], or `Ok(None)` when Spark cannot run and `KINDLING_SKIP_SPARK=1` allows
/// skipping (never when `CI=true`): the caller then skips its comparison.
pub fn run_spark_unless_skipped(
    root: &Path,
    jobs: &[PathBuf],
) -> Result<Option<HashMap<String, Outcome>>, String> {
    match run_spark(root, jobs) {
        Ok(outcomes) => Ok(Some(outcomes)),
        Err(message) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            let skip = std::env::var("KINDLING_SKIP_SPARK").is_ok_and(|v| v == "1");
            if skip && !ci {
                eprintln!("skipping the Spark comparison (KINDLING_SKIP_SPARK=1): {message}");
                return Ok(None);
            }
            Err(message)
        }
    }
}

/// Runs one job through `kindling submit`.
pub fn run_kindling(job: &Path) -> Outcome {
    let out = match Command::new(env!("CARGO_BIN_EXE_kindling"))
        .arg("submit")
        .arg(job)
        .env("KINDLING_LOG", "error")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            return Outcome {
                output: String::new(),
                error: Some(format!("cannot run kindling: {e}")),
            };
        }
    };
    let output = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        return Outcome {
            output,
            error: None,
        };
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Error: "))
        .unwrap_or(stderr.trim())
        .to_string();
    Outcome {
        output,
        error: Some(strip_context(&message).to_string()),
    }
}

/// A kindling message without the job or batch it names (`job 'x': `, `query 'x' failed in
/// batch 3: `).
fn strip_context(message: &str) -> &str {
    let mut rest = message;
    for prefix in ["job '", "query '"] {
        if let Some(after) = rest.strip_prefix(prefix)
            && let Some(end) = after
                .find("': ")
                .or_else(|| after.find("' failed in batch "))
        {
            let after = &after[end..];
            rest = match after.find(": ") {
                Some(i) => &after[i + 2..],
                None => after,
            };
        }
    }
    rest
}

/// Compares two outcomes of one job: the same console output (per `compare`), and errors of
/// the same class (or the same text, for Spark's errors without a class).
pub fn compare_outcomes(
    spark: &Outcome,
    kindling: &Outcome,
    compare: Compare,
) -> Result<(), String> {
    match (&spark.error, &kindling.error) {
        (None, None) => {}
        (Some(s), Some(k)) => {
            if error_class(s) != error_class(k) {
                return Err(format!("Spark failed with\n  {s}\nkindling with\n  {k}"));
            }
        }
        (Some(s), None) => return Err(format!("Spark failed with\n  {s}\nkindling ran it")),
        (None, Some(k)) => return Err(format!("Spark ran it, kindling failed with\n  {k}")),
    }
    if spark.output.is_empty() && kindling.output.is_empty() {
        return Ok(());
    }
    compare_output(&spark.output, &kindling.output, compare).map_err(|e| {
        format!(
            "{e}\n--- spark ---\n{}\n--- kindling ---\n{}",
            spark.output, kindling.output
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_contexts() {
        assert_eq!(
            error_class("[DIVIDE_BY_ZERO] Division by zero."),
            "DIVIDE_BY_ZERO"
        );
        assert_eq!(
            error_class("Sorting is not supported"),
            "Sorting is not supported"
        );
        assert_eq!(strip_context("job 'j': [X] y"), "[X] y");
        assert_eq!(strip_context("query 'j' failed in batch 2: [X] y"), "[X] y");
    }
}
