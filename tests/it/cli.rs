//! `kindling submit` as a user runs it: exit codes and messages for bad jobs, stdin jobs,
//! `--conf` overrides, and the shipped demo job run with bounded settings.

#![expect(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn kindling(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .current_dir(crate::common::process::manifest_dir())
        .args(args)
        .env("KINDLING_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn demo_job_runs_bounded_batches() {
    let out = kindling(
        &[
            "submit",
            "jobs/hashtag_ranking_demo.toml",
            "--conf",
            "source.options.totalRows=600",
            "--conf",
            "source.options.rowsPerBatch=200",
            "--conf",
            "source.options.rowsPerSecond=0",
            "--conf",
            "sink.trigger=availableNow",
        ],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    for batch in ["Batch: 0\n", "Batch: 1\n", "Batch: 2\n"] {
        assert!(text.contains(batch), "{text}");
    }
    assert!(!text.contains("Batch: 3\n"), "{text}");
    assert!(text.contains("|tag"), "{text}");
    assert!(text.contains("only showing top 20 rows"), "{text}");
}

#[test]
fn job_from_stdin_with_conf_overrides() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "hello\r\nworld\n").unwrap();
    let job = "[source]\nformat = \"text\"\n[query]\nsql = \"SELECT value, length(value) AS n FROM input\"\n[sink]\nformat = \"console\"\n";
    let path = format!("source.options.path={}", dir.path().display());
    let out = kindling(
        &[
            "submit",
            "-",
            "--conf",
            &path,
            "--conf",
            "sink.trigger=once",
        ],
        Some(job),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "-------------------------------------------\nBatch: 0\n-------------------------------------------\n+-----+---+\n|value|  n|\n+-----+---+\n|hello|  5|\n|world|  5|\n+-----+---+\n\n"
    );
}

#[test]
fn usage_and_job_errors_exit_2_with_a_message_naming_the_problem() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["submit", "no/such/job.toml"],
            "Error: job file 'no/such/job.toml': cannot read it",
        ),
        (
            &[
                "submit",
                "jobs/hashtag_ranking_demo.toml",
                "--conf",
                "novalue",
            ],
            "invalid --conf 'novalue': expected KEY=VALUE",
        ),
        (
            &[
                "submit",
                "jobs/hashtag_ranking_demo.toml",
                "--conf",
                "source.format=text",
                "--conf",
                "source.options.path=/no/such/dir",
            ],
            "Error: invalid option 'path' = '/no/such/dir' for source 'text': the directory does not exist",
        ),
        (
            &[
                "submit",
                "jobs/hashtag_ranking_demo.toml",
                "--conf",
                "sink.1.trigger=once",
            ],
            "the job has 1 sink, so there is no sink 1",
        ),
        (
            &[
                "submit",
                "jobs/hashtag_ranking_demo.toml",
                "--conf",
                "source.format=socket",
            ],
            "source.format = 'socket' is not a known source; expected one of: text, tweets, rate, kafka",
        ),
        (
            &[
                "submit",
                "jobs/hashtag_ranking_demo.toml",
                "--conf",
                "source.options.rowsPerSecond=-3",
            ],
            "invalid option 'rowsPerSecond' = '-3' for source 'tweets': expected a non-negative integer",
        ),
    ];
    for (args, message) in cases {
        let out = kindling(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn sql_errors_name_the_job() {
    let job = "name = \"broken\"\n[source]\nformat = \"rate\"\n[query]\nsql = \"SELEC value FROM input\"\n[sink]\nformat = \"console\"\n";
    let out = kindling(&["submit", "-"], Some(job));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("Error: job 'broken': "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_failing_batch_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "x\n").unwrap();
    let job = "name = \"casts\"\n[source]\nformat = \"text\"\n[query]\nsql = \"SELECT CAST(value AS INT) AS v FROM input\"\n[sink]\nformat = \"console\"\ntrigger = \"once\"\n";
    let path = format!("source.options.path={}", dir.path().display());
    let out = kindling(&["submit", "-", "--conf", &path], Some(job));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("query 'casts' failed in batch 0"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ctrl_c_stops_the_job_cleanly_after_its_batch() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .current_dir(crate::common::process::manifest_dir())
        .args([
            "submit",
            "jobs/hashtag_ranking_demo.toml",
            "--conf",
            "sink.trigger=0",
        ])
        .env("KINDLING_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // The first printed batch says the query runs; then interrupt it as a terminal would.
    assert!(lines.any(|l| l.unwrap() == "Batch: 0"));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in lines.by_ref() {}
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stopping 1 query after the batch in flight"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn several_sinks_run_as_separate_queries() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "#x #y #x\n").unwrap();
    let job = r#"
name = "two"
[source]
format = "text"
[query]
sql = "SELECT tag, count(*) AS n FROM (SELECT explode(split(value, ' ')) AS tag FROM input) GROUP BY tag"
[[sink]]
format = "console"
outputMode = "complete"
trigger = "once"
[[sink]]
format = "console"
outputMode = "update"
trigger = "once"
[sink.options]
numRows = 1
"#;
    let path = format!("source.options.path={}", dir.path().display());
    let out = kindling(&["submit", "-", "--conf", &path], Some(job));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("Batch: 0\n").count(), 2, "{text}");
    assert_eq!(text.matches("only showing top 1 row").count(), 1, "{text}");
}
