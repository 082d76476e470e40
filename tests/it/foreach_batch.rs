//! `foreach_batch` hooks from job files: the `http` hook against the tutorial's own kind of
//! receiver (a Flask app reading the form with `ast.literal_eval`, run on a free port), a
//! receiver that is down or slow, and the `command` hook.

#![expect(clippy::unwrap_used, clippy::panic)]

use crate::common::process::{free_port, kindling, root};

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

/// The tutorial-style Flask receiver on its own port, stopped on drop.
struct Receiver {
    port: u16,
    received: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Receiver {
    fn start() -> Receiver {
        let python = Command::new(root().join("scripts/kafka-broker.sh"))
            .arg("python")
            .output()
            .unwrap();
        assert!(
            python.status.success(),
            "{}",
            String::from_utf8_lossy(&python.stderr)
        );
        let python = String::from_utf8(python.stdout).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let received = dir.path().join("received.jsonl");
        let mut child = Command::new(python.trim())
            .arg(root().join("tests/receiver/app.py"))
            .arg("0")
            .env("RECEIVED", &received)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The receiver prints its port once it listens.
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the receiver did not print its port: {line:?}"));
        Receiver {
            port,
            received,
            child,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn payloads(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.received)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn submit(job: &str) -> Output {
    kindling(&["submit", "-"], Some(job.as_bytes()))
}

/// The tutorial's ranking over 300 synthetic tweets in three batches, to `sinks`.
fn ranking_job(sinks: &str) -> String {
    format!(
        r#"name = "ranking"
[source]
format = "tweets"
name = "lines"
[source.options]
totalRows = 300
rowsPerBatch = 100
rowsPerSecond = 0
seed = 3
[query]
sql_file = "{}/sql/hashtag_ranking.sql"
{sinks}"#,
        root().display()
    )
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn http_hook_feeds_the_tutorials_receiver_the_top_ten() {
    let receiver = Receiver::start();
    let job = ranking_job(&format!(
        r#"[[sink]]
format = "console"
outputMode = "complete"
trigger = "availableNow"
[sink.options]
truncate = false
numRows = 10
[[sink]]
format = "foreach_batch"
outputMode = "complete"
trigger = "availableNow"
[[sink.hooks]]
kind = "http"
url = "{}"
top = 10
"#,
        receiver.url("/update_data")
    ));
    let out = submit(&job);
    assert!(out.status.success(), "{}", stderr(&out));
    let payloads = receiver.payloads();
    assert_eq!(payloads.len(), 3, "one POST per batch: {payloads:?}");
    // The last POST is the final top 10, as the console's last table shows it (counts as
    // strings, as the tutorial's str() makes them).
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last_table = stdout.rsplit("Batch: 2").next().unwrap();
    let console: Vec<(String, String)> = last_table
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|tag "))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            (cells[0].to_string(), cells[1].to_string())
        })
        .collect();
    let last = &payloads[2];
    let tags: Vec<String> = serde_json::from_value(last["tag"].clone()).unwrap();
    let counts: Vec<String> = serde_json::from_value(last["tag_count"].clone()).unwrap();
    assert_eq!(tags.len(), 10);
    // Ties may come in any order: compare the counts in order and each tag's count.
    assert_eq!(
        counts,
        console.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>()
    );
    let from_console: std::collections::HashMap<_, _> = console.into_iter().collect();
    for (tag, count) in tags.iter().zip(&counts) {
        if let Some(c) = from_console.get(tag) {
            assert_eq!(c, count, "{tag}");
        }
    }
    assert!(
        counts
            .windows(2)
            .all(|w| w[0].parse::<i64>().unwrap() >= w[1].parse::<i64>().unwrap())
    );
}

fn one_hook_job(hook: &str) -> String {
    ranking_job(&format!(
        "[[sink]]\nformat = \"foreach_batch\"\noutputMode = \"complete\"\ntrigger = \"availableNow\"\n[[sink.hooks]]\n{hook}"
    ))
}

#[test]
fn a_receiver_that_is_down_is_logged_or_fails_the_query() {
    let url = format!("http://127.0.0.1:{}/update_data", free_port());
    let logged = submit(&one_hook_job(&format!(
        "kind = \"http\"\nurl = \"{url}\"\nretries = 1\n"
    )));
    assert!(logged.status.success(), "{}", stderr(&logged));
    let err = stderr(&logged);
    assert!(
        err.contains("cannot connect (is the receiver running?)")
            && err.contains("retrying in 200 ms")
            && err.contains("the query goes on"),
        "{err}"
    );
    let failed = submit(&one_hook_job(&format!(
        "kind = \"http\"\nurl = \"{url}\"\nretries = 0\nonError = \"fail\"\n"
    )));
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        stderr(&failed).contains("failed in batch 0")
            && stderr(&failed)
                .contains(&format!("POST {url} for batch 0 failed after 1 attempt(s)")),
        "{}",
        stderr(&failed)
    );
}

#[test]
fn a_slow_or_refusing_receiver_is_retried_then_reported() {
    let receiver = Receiver::start();
    let slow = submit(&one_hook_job(&format!(
        "kind = \"http\"\nurl = \"{}\"\ntimeoutMs = 200\nretries = 1\n",
        receiver.url("/slow?s=3")
    )));
    assert!(slow.status.success(), "{}", stderr(&slow));
    assert!(
        stderr(&slow).contains("no answer within the timeout"),
        "{}",
        stderr(&slow)
    );
    // The tutorial's app refuses a body without its fields: 400, and the query fails on it.
    let refused = submit(&one_hook_job(&format!(
        "kind = \"http\"\nurl = \"{}\"\nbody = \"json\"\nretries = 0\nonError = \"fail\"\n",
        receiver.url("/update_data")
    )));
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("the receiver answered 400 Bad Request: error"),
        "{}",
        stderr(&refused)
    );
    let json = submit(&one_hook_job(&format!(
        "kind = \"http\"\nurl = \"{}\"\nbody = \"json\"\ntop = 3\n",
        receiver.url("/json")
    )));
    assert!(json.status.success(), "{}", stderr(&json));
    let payloads = receiver.payloads();
    assert_eq!(payloads.len(), 3);
    assert_eq!(payloads[1]["batchId"], 1);
    assert_eq!(payloads[1]["rows"].as_array().unwrap().len(), 3);
    assert!(payloads[1]["rows"][0]["tag_count"].is_i64());
}

#[test]
fn command_hook_gets_rows_on_stdin_and_the_batch_id() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rows.jsonl");
    let ids = dir.path().join("ids");
    let script = format!(
        "cat >> '{}'; echo \"$KINDLING_BATCH_ID\" >> '{}'",
        out.display(),
        ids.display()
    );
    let ok = submit(&one_hook_job(&format!(
        "kind = \"command\"\ncommand = [\"sh\", \"-c\", {script:?}]\n"
    )));
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(std::fs::read_to_string(&ids).unwrap(), "0\n1\n2\n");
    let rows = std::fs::read_to_string(&out).unwrap();
    let first: serde_json::Value = serde_json::from_str(rows.lines().next().unwrap()).unwrap();
    assert!(first["tag"].as_str().unwrap().starts_with('#'), "{first}");
    let failing = submit(&one_hook_job(
        "kind = \"command\"\ncommand = [\"sh\", \"-c\", \"exit 3\"]\n",
    ));
    assert_eq!(failing.status.code(), Some(1));
    assert!(
        stderr(&failing).contains("'sh -c exit 3' exited with exit status: 3"),
        "{}",
        stderr(&failing)
    );
}

#[test]
fn bad_hooks_are_job_errors() {
    for (hook, message) in [
        (
            "kind = \"mail\"\n",
            "sink.hooks.0.kind = 'mail' is not a hook kind",
        ),
        (
            "kind = \"http\"\n",
            "sink.hooks.0.url is required for an http hook",
        ),
        (
            "kind = \"http\"\nurl = \"https://x\"\n",
            "expected an http:// URL",
        ),
        (
            "kind = \"command\"\ncommand = []\n",
            "sink.hooks.0.command is required",
        ),
        (
            "kind = \"command\"\ncommand = [\"true\"]\nurl = \"http://x\"\n",
            "sink.hooks.0.url is not used by a 'command' hook",
        ),
    ] {
        let out = submit(&one_hook_job(hook));
        assert_eq!(out.status.code(), Some(2), "{hook}");
        assert!(stderr(&out).contains(message), "{hook}: {}", stderr(&out));
    }
    let no_hooks = submit(&ranking_job("[sink]\nformat = \"foreach_batch\"\n"));
    assert_eq!(no_hooks.status.code(), Some(2));
    assert!(stderr(&no_hooks).contains("needs at least one [[sink.hooks]]"));
}
