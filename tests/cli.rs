//! `kindling submit` as a user runs it: exit codes and messages for bad jobs, stdin jobs,
//! `--conf` overrides, and the shipped demo job run with bounded settings.

#![expect(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn kindling(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
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
