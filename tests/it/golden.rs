//! Golden job tests: each `tests/golden/<case>/` holds `job.toml`, its input files (`input/`,
//! or `input_from` naming another case whose input it shares) and what `kindling submit`
//! must print: `expected.out` (stdout, exit 0) or `expected.err` (stderr, exit 2; exit 1 for a
//! query that fails while running).
//!
//! The job file's first line picks the comparison, since Spark leaves the order of tied rows
//! undefined: `# golden: compare = exact | ties | unordered | cut | subset`, or
//! `# golden: error` (rejected before it runs) or `# golden: failure` (fails in a batch). Input files are copied to a temp dir with modification times in name
//! order, so the text source takes them in that order. `KINDLING_UPDATE_GOLDEN=1 cargo test`
//! rewrites the expected files from kindling's output (review the diff before committing),
//! except those of `spark_*` cases, which are what Spark 4.3.0 printed.
//!
//! Every case that runs is run a second time with a checkpoint, the process killed (aborted
//! as by `kill -9`) right after each batch's commit and restarted: the runs' outputs, one after
//! the other, must equal the expected output, so recovery is proven for every job.

#![expect(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::common::{Compare, compare_output};

/// How a case's output is compared, and the exit code it must end with.
fn directive(job: &str) -> (Compare, i32) {
    let first = job.lines().next().unwrap_or_default();
    let value = first
        .strip_prefix("# golden:")
        .unwrap_or_else(|| panic!("job.toml must start with '# golden: ...', found {first:?}"))
        .trim();
    let compare = match value {
        "error" => return (Compare::Error, 2),
        "failure" => return (Compare::Error, 1),
        "compare = exact" => Compare::Exact,
        "compare = ties" => Compare::Ties,
        "compare = unordered" => Compare::Unordered,
        "compare = cut" => Compare::Cut,
        "compare = subset" => Compare::Subset,
        other => panic!("unknown golden directive {other:?}"),
    };
    (compare, 0)
}

fn stage_input(case: &Path, golden: &Path) -> tempfile::TempDir {
    let input = match std::fs::read_to_string(case.join("input_from")) {
        Ok(other) => golden.join(other.trim()).join("input"),
        Err(_) => case.join("input"),
    };
    let dir = tempfile::tempdir().unwrap();
    if let Ok(entries) = std::fs::read_dir(&input) {
        let mut names: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        names.sort();
        let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for (i, path) in names.iter().enumerate() {
            let dest = dir.path().join(path.file_name().unwrap());
            std::fs::copy(path, &dest).unwrap();
            let file = std::fs::File::options().write(true).open(&dest).unwrap();
            file.set_modified(base + Duration::from_secs(i as u64))
                .unwrap();
        }
    }
    dir
}

fn submit(case: &Path, input: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kindling"));
    command
        .current_dir(case)
        .args(["submit", "job.toml", "--conf"])
        .arg(format!("source.options.path={}", input.display()))
        .env("KINDLING_LOG", "error");
    command
}

/// The case run with a checkpoint and killed after each batch's commit, restarted until a run
/// ends by itself: everything the runs printed, in order.
fn run_killed_after_each_batch(case: &Path, input: &Path) -> Result<String, String> {
    let checkpoint = tempfile::tempdir().unwrap();
    let mut printed = String::new();
    // One run per batch, then the run that finds nothing left; more means no progress.
    let files = std::fs::read_dir(input).unwrap().count();
    for batch in 0..=files + 1 {
        let output = submit(case, input)
            .arg("--checkpoint-location")
            .arg(checkpoint.path())
            .env("KINDLING_CRASH_AT", format!("after-commit:{batch}"))
            .output()
            .unwrap();
        printed.push_str(&String::from_utf8_lossy(&output.stdout));
        if output.status.success() {
            return Ok(printed);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !stderr.contains(&format!("KINDLING_CRASH_AT=after-commit:{batch}: aborting")) {
            return Err(format!(
                "run {batch} with a checkpoint failed: {:?}\n{stderr}",
                output.status.code()
            ));
        }
    }
    Err(format!(
        "still running batches after {} restarts",
        files + 2
    ))
}

fn run_case(case: &Path, golden: &Path, update: bool) -> Result<(), String> {
    let job = std::fs::read_to_string(case.join("job.toml")).unwrap();
    let (compare, want_code) = directive(&job);
    let input = stage_input(case, golden);
    let output = submit(case, input.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = output.status.code();
    let want_code = Some(want_code);
    let (file, actual) = if compare == Compare::Error {
        ("expected.err", stderr.clone())
    } else {
        ("expected.out", stdout.clone())
    };
    // `spark_*` cases hold what Spark printed; they are never rewritten.
    let from_spark = case
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("spark_"));
    if update && !from_spark {
        std::fs::write(case.join(file), &actual).unwrap();
    }
    if code != want_code {
        return Err(format!(
            "exit code {code:?}, expected {want_code:?}\nstderr:\n{stderr}\nstdout:\n{stdout}"
        ));
    }
    let expected =
        std::fs::read_to_string(case.join(file)).map_err(|e| format!("cannot read {file}: {e}"))?;
    let compare = if compare == Compare::Error {
        Compare::Exact
    } else {
        compare
    };
    compare_output(&expected, &actual, compare)
        .map_err(|e| format!("{e}\n--- expected ---\n{expected}\n--- actual ---\n{actual}"))?;
    if want_code == Some(0) {
        let restarted = run_killed_after_each_batch(case, input.path())?;
        compare_output(&expected, &restarted, compare).map_err(|e| {
            format!(
                "killed after each batch and restarted: {e}\n--- expected ---\n{expected}\n--- actual ---\n{restarted}"
            )
        })?;
    }
    Ok(())
}

#[test]
fn golden_jobs() {
    let golden = Path::new(crate::common::process::manifest_dir()).join("tests/golden");
    let update = std::env::var_os("KINDLING_UPDATE_GOLDEN").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&golden)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("job.toml").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "golden cases missing: {cases:?}");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            run_case(case, &golden, update).err().map(|e| {
                format!(
                    "=== {} ===\n{e}",
                    case.file_name().unwrap().to_string_lossy()
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} golden case(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
