//! Spark SQL function tests: every record of `tests/slt/spark/**/*.slt` runs through
//! kindling's SQL front end in batch mode and must give what Apache Spark gave.
//!
//! The expected rows in the files come from Spark itself (`scripts/spark_slt.py` fills them
//! in), never from kindling. Records: `query` + SQL + `----` + rows (cells joined by " | ",
//! an empty string as `(empty)`), or `error <text>` + SQL, which must fail with a message
//! containing `<text>`.

#![expect(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use kindling::sink::console::escape_meta_characters;
use kindling::spark_text::cell;

enum Record {
    Query { sql: String, expected: Vec<String> },
    Error { sql: String, message: String },
}

fn parse(text: &str) -> Vec<Record> {
    let mut records = Vec::new();
    for block in text.trim_matches('\n').split("\n\n") {
        // Comments lead a block; later lines may start with '#' (hashtags are data here).
        let mut lines: Vec<&str> = block.lines().skip_while(|l| l.starts_with('#')).collect();
        if lines.is_empty() {
            continue;
        }
        let header = lines.remove(0);
        if header.starts_with("query") {
            let sep = lines.iter().position(|l| *l == "----").unwrap();
            records.push(Record::Query {
                sql: lines[..sep].join("\n"),
                expected: lines[sep + 1..].iter().map(|l| l.to_string()).collect(),
            });
        } else if let Some(message) = header.strip_prefix("error ") {
            records.push(Record::Error {
                sql: lines.join("\n"),
                message: message.to_string(),
            });
        } else {
            panic!("unknown record header {header:?}");
        }
    }
    records
}

async fn run(sql: &str) -> Result<Vec<String>, String> {
    let ctx = kindling::sql::new_session().map_err(|e| e.to_string())?;
    let plan = kindling::sql::plan_query(&ctx, sql, "slt")
        .await
        .map_err(|e| e.to_string())?;
    // Errors read as kindling reports them (Spark's words where it has them).
    let report = |e: datafusion::error::DataFusionError| kindling::Error::from(e).to_string();
    let batches = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(report)?
        .collect()
        .await
        .map_err(report)?;
    let mut rows = Vec::new();
    for batch in &batches {
        for i in 0..batch.num_rows() {
            let cells: Vec<String> = batch
                .columns()
                .iter()
                .map(|c| {
                    let text = escape_meta_characters(&cell(c.as_ref(), i));
                    if text.is_empty() {
                        "(empty)".to_string()
                    } else {
                        text
                    }
                })
                .collect();
            rows.push(cells.join(" | "));
        }
    }
    Ok(rows)
}

fn slt_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            slt_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

#[tokio::test]
async fn spark_functions_match_spark() {
    let root = Path::new(crate::common::process::manifest_dir()).join("tests/slt/spark");
    let mut files = Vec::new();
    slt_files(&root, &mut files);
    files.sort();
    assert!(files.len() >= 10, "slt files missing: {files:?}");
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let name = file.strip_prefix(&root).unwrap().display().to_string();
        for record in parse(&std::fs::read_to_string(file).unwrap()) {
            count += 1;
            match record {
                Record::Query { sql, expected } => match run(&sql).await {
                    Ok(rows) if rows == expected => {}
                    Ok(rows) => failures.push(format!(
                        "{name}: {sql}\n  spark:    {expected:?}\n  kindling: {rows:?}"
                    )),
                    Err(e) => failures.push(format!("{name}: {sql}\n  failed: {e}")),
                },
                Record::Error { sql, message } => match run(&sql).await {
                    Ok(rows) => failures.push(format!(
                        "{name}: {sql}\n  expected an error containing {message:?}, got {rows:?}"
                    )),
                    Err(e) if e.contains(&message) => {}
                    Err(e) => failures.push(format!(
                        "{name}: {sql}\n  expected an error containing {message:?}, got: {e}"
                    )),
                },
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} records differ from Spark:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
