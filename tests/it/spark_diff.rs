//! The differential harness: the same job files run through kindling and through Apache Spark
//! 4.3.0 (PySpark, installed on demand by `scripts/spark-env.sh`) over generated inputs with
//! the awkward cases, and the console outputs must agree up to the order of tied rows.
//!
//! Needs Java and PyPI access the first time; it fails (never skips) when Spark cannot run,
//! unless `KINDLING_SKIP_SPARK=1` is set outside CI.

#![expect(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::common::{Compare, spark};
use kindling::source::tweets::TweetGenerator;

/// Lines Spark and a naive port disagree on.
const AWKWARD: &[&str] = &[
    "",
    "  #lead  two  spaces ",
    "tab\t#notatag #tab\tinside",
    "#한국어 #스파크 #日本 #🔥 #🔥! #café #cafe\u{301}",
    "# ## ##x #Spark #SPARK #spark",
    "#verylonghashtag_that_is_longer_than_twenty and #a\u{a0}nbsp",
    "zz skipped by the stateless filter #zz",
    "ends with a space #end ",
];

fn write_inputs(dir: &Path) {
    let generator = TweetGenerator::new(2026);
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for f in 0..5u64 {
        let mut text = String::new();
        let line_end = match f {
            1 => "\r\n",
            3 => "\r",
            _ => "\n",
        };
        for i in 0..120u64 {
            if i % 9 == 0 {
                text.push_str(AWKWARD[((i / 9 + f) as usize) % AWKWARD.len()]);
            } else {
                text.push_str(&generator.tweet(f * 1000 + i));
            }
            text.push_str(line_end);
        }
        if f == 2 {
            text.clear(); // an empty file is a batch too
        }
        let path = dir.join(format!("part-{f:05}.txt"));
        std::fs::write(&path, text).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(base + Duration::from_secs(f)).unwrap();
    }
}

/// How a job's outcomes are compared, from its first line: `# diff: compare = ties` (and
/// `unordered`, `exact`) for output, `# diff: compare = error` for a query both refuse or fail
/// with the same error (the batches printed before a failure compared as `ties`).
fn compare_mode(job: &str) -> (Compare, bool) {
    match job.lines().next().unwrap_or_default().trim() {
        "# diff: compare = ties" => (Compare::Ties, false),
        "# diff: compare = unordered" => (Compare::Unordered, false),
        "# diff: compare = exact" => (Compare::Exact, false),
        "# diff: compare = error" => (Compare::Ties, true),
        other => panic!("spark_diff jobs start with '# diff: compare = ...', found {other:?}"),
    }
}

#[test]
fn kindling_prints_what_spark_prints() {
    let root = Path::new(crate::common::process::manifest_dir());
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("input");
    std::fs::create_dir(&input).unwrap();
    write_inputs(&input);

    let mut jobs: Vec<(PathBuf, Compare, bool)> = Vec::new();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(root.join("tests/spark_diff"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    sources.sort();
    assert!(sources.len() >= 5, "jobs missing: {sources:?}");
    for source in &sources {
        let text = std::fs::read_to_string(source).unwrap();
        let job = work.path().join(source.file_name().unwrap());
        std::fs::write(
            &job,
            text.replace("\"INPUT\"", &format!("{:?}", input.display().to_string())),
        )
        .unwrap();
        let (compare, error) = compare_mode(&text);
        jobs.push((job, compare, error));
    }

    let paths: Vec<PathBuf> = jobs.iter().map(|(j, _, _)| j.clone()).collect();
    let Some(spark_outcomes) =
        spark::run_spark_unless_skipped(root, &paths).unwrap_or_else(|e| panic!("{e}"))
    else {
        return;
    };

    let mut failures = Vec::new();
    for (job, compare, error) in &jobs {
        let stem = job.file_stem().unwrap().to_string_lossy().into_owned();
        let spark = spark_outcomes
            .get(&stem)
            .unwrap_or_else(|| panic!("{stem}: Spark did not run it"));
        let kindling = spark::run_kindling(job);
        if *error != spark.error.is_some() {
            failures.push(format!(
                "{stem}: the job says error = {error}, Spark gave {:?}",
                spark.error
            ));
            continue;
        }
        if !error && !spark.output.contains("Batch: 0") {
            failures.push(format!("{stem}: Spark printed nothing:\n{}", spark.output));
            continue;
        }
        if let Err(e) = spark::compare_outcomes(spark, &kindling, *compare) {
            failures.push(format!("{stem}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} job(s) differ from Spark:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The expected rows in `tests/slt/spark` are still what Spark returns (they are compared with
/// kindling by `tests/it/slt.rs`).
#[test]
fn slt_expectations_are_sparks() {
    let root = Path::new(crate::common::process::manifest_dir());
    let out = Command::new(root.join("scripts/spark-env.sh"))
        .arg("python")
        .arg(root.join("scripts/spark_slt.py"))
        .arg("--check")
        .output()
        .unwrap();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let skip = std::env::var("KINDLING_SKIP_SPARK").is_ok_and(|v| v == "1");
    if !out.status.success() && skip && !ci {
        eprintln!("skipping the Spark check (KINDLING_SKIP_SPARK=1)");
        return;
    }
    let report: String = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('{'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        out.status.success(),
        "Spark disagrees with tests/slt:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
