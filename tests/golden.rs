//! Golden job tests: each `tests/golden/<case>/` holds `job.toml`, its input files (`input/`,
//! or `input_from` naming another case whose input it shares) and what `kindling submit`
//! must print: `expected.out` (stdout, exit 0) or `expected.err` (stderr, exit 2).
//!
//! The job file's first line picks the comparison, since Spark leaves the order of tied rows
//! undefined: `# golden: compare = exact | ties | unordered | cut | subset`, or
//! `# golden: error`. Input files are copied to a temp dir with modification times in name
//! order, so the text source takes them in that order. `KINDLING_UPDATE_GOLDEN=1 cargo test`
//! rewrites the expected files from kindling's output (review the diff before committing),
//! except those of `spark_*` cases, which are what Spark 4.3.0 printed.

#![expect(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Compare {
    Exact,
    Ties,
    Unordered,
    Cut,
    Subset,
    Error,
}

fn directive(job: &str) -> Compare {
    let first = job.lines().next().unwrap_or_default();
    let value = first
        .strip_prefix("# golden:")
        .unwrap_or_else(|| panic!("job.toml must start with '# golden: ...', found {first:?}"))
        .trim();
    match value {
        "error" => Compare::Error,
        "compare = exact" => Compare::Exact,
        "compare = ties" => Compare::Ties,
        "compare = unordered" => Compare::Unordered,
        "compare = cut" => Compare::Cut,
        "compare = subset" => Compare::Subset,
        other => panic!("unknown golden directive {other:?}"),
    }
}

/// One printed batch: its title line, the table's lines and the footer.
#[derive(Debug)]
struct Batch {
    title: String,
    separator: String,
    header: String,
    rows: Vec<String>,
    footer: Option<String>,
}

fn parse_batches(out: &str) -> Vec<Batch> {
    let dashes = "-------------------------------------------";
    let lines: Vec<&str> = out.lines().collect();
    let mut batches = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        assert_eq!(
            lines[i], dashes,
            "line {i}: expected the batch header in:\n{out}"
        );
        let title = lines[i + 1].to_string();
        assert_eq!(lines[i + 2], dashes);
        let separator = lines[i + 3].to_string();
        let header = lines[i + 4].to_string();
        assert_eq!(lines[i + 5], separator);
        i += 6;
        let mut rows = Vec::new();
        while lines[i] != separator {
            rows.push(lines[i].to_string());
            i += 1;
        }
        i += 1;
        let footer = match lines.get(i) {
            Some(l) if l.starts_with("only showing top") => {
                i += 1;
                Some(l.to_string())
            }
            Some(&"") => {
                i += 1;
                None
            }
            _ => None,
        };
        batches.push(Batch {
            title,
            separator,
            header,
            rows,
            footer,
        });
    }
    batches
}

fn cells(row: &str) -> Vec<String> {
    let inner = row
        .strip_prefix('|')
        .and_then(|r| r.strip_suffix('|'))
        .unwrap_or(row);
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

fn last_cell(row: &str) -> String {
    cells(row).pop().unwrap_or_default()
}

/// Sorts rows within runs of equal last cells (ties) or entirely (unordered).
fn normalize(batch: &Batch, compare: Compare) -> String {
    let mut rows = batch.rows.clone();
    if compare == Compare::Unordered {
        rows.sort();
    } else {
        let mut start = 0;
        while start < rows.len() {
            let key = last_cell(&rows[start]);
            let mut end = start + 1;
            while end < rows.len() && last_cell(&rows[end]) == key {
                end += 1;
            }
            rows[start..end].sort();
            start = end;
        }
    }
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        batch.title,
        batch.separator,
        batch.header,
        rows.join("\n"),
        batch.separator,
        batch.footer.clone().unwrap_or_default()
    )
}

fn compare_output(expected: &str, actual: &str, compare: Compare) -> Result<(), String> {
    if compare == Compare::Exact {
        return if expected == actual {
            Ok(())
        } else {
            Err("output differs byte for byte".to_string())
        };
    }
    let want = parse_batches(expected);
    let got = parse_batches(actual);
    if want.len() != got.len() {
        return Err(format!(
            "expected {} batches, got {}",
            want.len(),
            got.len()
        ));
    }
    for (w, g) in want.iter().zip(&got) {
        let context = |what: &str| format!("{}: {what}", w.title);
        if w.title != g.title {
            return Err(format!("expected '{}', got '{}'", w.title, g.title));
        }
        match compare {
            Compare::Ties | Compare::Unordered => {
                let (nw, ng) = (normalize(w, compare), normalize(g, compare));
                if nw != ng {
                    return Err(context(&format!("expected\n{nw}\ngot\n{ng}")));
                }
            }
            Compare::Cut => {
                if cells(&w.header) != cells(&g.header) || w.footer != g.footer {
                    return Err(context("header or footer differs"));
                }
                let counts = |b: &Batch| b.rows.iter().map(|r| last_cell(r)).collect::<Vec<_>>();
                if counts(w) != counts(g) {
                    return Err(context(&format!(
                        "counts differ: expected {:?}, got {:?}",
                        counts(w),
                        counts(g)
                    )));
                }
            }
            Compare::Subset => {
                if cells(&w.header) != cells(&g.header) {
                    return Err(context("header differs"));
                }
                let have: Vec<Vec<String>> = g.rows.iter().map(|r| cells(r)).collect();
                for row in &w.rows {
                    if !have.contains(&cells(row)) {
                        return Err(context(&format!(
                            "row {row} missing from kindling's output"
                        )));
                    }
                }
            }
            Compare::Exact | Compare::Error => unreachable!(),
        }
    }
    Ok(())
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

fn run_case(case: &Path, golden: &Path, update: bool) -> Result<(), String> {
    let job = std::fs::read_to_string(case.join("job.toml")).unwrap();
    let compare = directive(&job);
    let input = stage_input(case, golden);
    let output = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .current_dir(case)
        .args(["submit", "job.toml", "--conf"])
        .arg(format!("source.options.path={}", input.path().display()))
        .env("KINDLING_LOG", "error")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let code = output.status.code();
    let (file, actual, want_code) = if compare == Compare::Error {
        ("expected.err", stderr.clone(), Some(2))
    } else {
        ("expected.out", stdout.clone(), Some(0))
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
        .map_err(|e| format!("{e}\n--- expected ---\n{expected}\n--- actual ---\n{actual}"))
}

#[test]
fn golden_jobs() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
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

#[test]
fn comparisons_catch_differences() {
    let a = "-------------------------------------------\nBatch: 0\n-------------------------------------------\n+---+---+\n|tag|n  |\n+---+---+\n|#a |2  |\n|#b |1  |\n|#c |1  |\n+---+---+\n\n";
    let tie_swapped = a.replace("|#b |1  |\n|#c |1  |", "|#c |1  |\n|#b |1  |");
    assert!(compare_output(a, &tie_swapped, Compare::Ties).is_ok());
    assert!(compare_output(a, &tie_swapped, Compare::Exact).is_err());
    let reordered = a.replace("|#a |2  |\n|#b |1  |", "|#b |1  |\n|#a |2  |");
    assert!(compare_output(a, &reordered, Compare::Ties).is_err());
    assert!(compare_output(a, &reordered, Compare::Unordered).is_ok());
    let wrong = a.replace("|#a |2  |", "|#a |3  |");
    for mode in [
        Compare::Ties,
        Compare::Unordered,
        Compare::Cut,
        Compare::Subset,
    ] {
        assert!(compare_output(a, &wrong, mode).is_err(), "{mode:?}");
    }
}
