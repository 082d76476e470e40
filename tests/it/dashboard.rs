//! The dashboard end to end as a person sees it: `kindling demo` on port 0 (the address it
//! prints), the page in
//! headless Chromium (Debian's, driven by playwright-core), the chart's bars pushed over
//! server-sent events, its top tag equal to the job's, and a screenshot in target/. The test
//! installs what it needs (scripts/browser-env.sh) and fails when it cannot.

#![expect(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::process::{reader_lines, root};

use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// The `http://127.0.0.1:PORT/` a server printed on stderr, and its port.
fn printed_url(err: &Receiver<String>) -> (String, u16) {
    loop {
        let line = err.recv_timeout(Duration::from_secs(60)).unwrap();
        if let Some(at) = line.find("http://") {
            let url = line[at..].split(' ').next().unwrap().to_string();
            let port = url
                .trim_start_matches("http://127.0.0.1:")
                .trim_end_matches('/')
                .parse()
                .unwrap_or_else(|_| panic!("no loopback port in {line}"));
            return (url, port);
        }
    }
}

fn kindling_piped(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kindling"))
        .args(args)
        .env("KINDLING_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `signal` (`INT`, `TERM`) to `child`.
fn kill(child: &Child, signal: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn the_demo_page_draws_the_jobs_top_tags_live() {
    let env = Command::new(root().join("scripts/browser-env.sh"))
        .output()
        .unwrap();
    assert!(
        env.status.success(),
        "cannot set up the browser: {}",
        String::from_utf8_lossy(&env.stderr)
    );
    let node_path = String::from_utf8(env.stdout).unwrap().trim().to_string();

    let mut demo = kindling_piped(&["demo", "--bind", "127.0.0.1:0"]);
    let out = reader_lines(demo.stdout.take().unwrap());
    let err = reader_lines(demo.stderr.take().unwrap());
    let (url, _) = printed_url(&err);

    let screenshot = root().join("target/dashboard.png");
    std::fs::create_dir_all(screenshot.parent().unwrap()).unwrap();
    let browser = Command::new("node")
        .arg(root().join("tests/browser/check_dashboard.cjs"))
        .arg(&url)
        .arg(&screenshot)
        .env("NODE_PATH", &node_path)
        .output()
        .unwrap();
    assert!(
        browser.status.success(),
        "the page did not show its bars: {}",
        String::from_utf8_lossy(&browser.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&browser.stdout).unwrap();
    assert_eq!(shown["bars"], 10);
    assert!(
        shown["batch"].as_str().unwrap().starts_with("· batch "),
        "{shown}"
    );
    assert!(
        shown["status"]
            .as_str()
            .unwrap()
            .starts_with("hashtag_ranking_demo: "),
        "{shown}"
    );

    // The job's own top tags: the rows of the last table the console sink printed that share
    // its first row's count (tied tags may come in any order, in Spark as here).
    let printed: Vec<String> = out.try_iter().collect();
    let header = printed
        .iter()
        .rposition(|l| l.starts_with("|tag"))
        .expect("the console printed a ranking");
    let cells = |line: &str| -> (String, String) {
        let mut cells = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string());
        (
            cells.next().unwrap_or_default(),
            cells.next().unwrap_or_default(),
        )
    };
    let rows: Vec<(String, String)> = printed[header + 2..]
        .iter()
        .take_while(|l| l.starts_with('|'))
        .map(|l| cells(l))
        .collect();
    let top_count = &rows.first().expect("the ranking has rows").1;
    let job_top: Vec<&str> = rows
        .iter()
        .filter(|(_, count)| count == top_count)
        .map(|(tag, _)| tag.as_str())
        .collect();
    let shown_top = shown["topTag"].as_str().unwrap();
    assert!(
        job_top.contains(&shown_top),
        "{shown_top} not among {job_top:?}: {printed:?}"
    );
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000);

    kill(&demo, "INT");
    assert_eq!(demo.wait().unwrap().code(), Some(130));
}

/// A page left open (its event stream) while the demo is stopped: the stream ends and the
/// process exits at once, with SIGTERM's code. It used to wait for the page forever.
#[test]
fn an_open_page_does_not_hold_up_shutdown() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut demo = kindling_piped(&["demo", "--bind", "127.0.0.1:0"]);
    let out = reader_lines(demo.stdout.take().unwrap());
    let err = reader_lines(demo.stderr.take().unwrap());
    let (_, port) = printed_url(&err);
    let mut page = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(page, "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut events = BufReader::new(page.try_clone().unwrap());
    let mut line = String::new();
    while line.trim_end() != "event: top" {
        line.clear();
        assert!(
            events.read_line(&mut line).unwrap() > 0,
            "the stream ended early"
        );
    }
    // The first batch ran, so the demo is in its loop (not still starting).
    while !out
        .recv_timeout(Duration::from_secs(60))
        .unwrap()
        .starts_with("Batch: ")
    {}

    kill(&demo, "TERM");
    let stopping = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(demo.wait().unwrap().code()));
    // A generous bound that only a hang exceeds; the time taken is printed for the record.
    let code = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("kindling demo hung with a page open");
    eprintln!(
        "demo exited {} ms after SIGTERM",
        stopping.elapsed().as_millis()
    );
    assert_eq!(code, Some(143));
    // The page's stream was closed by the server, not cut by the process's death alone.
    let mut rest = Vec::new();
    events.read_to_end(&mut rest).unwrap();
    assert!(
        String::from_utf8_lossy(&rest).ends_with("\r\n0\r\n\r\n"),
        "{}",
        String::from_utf8_lossy(&rest)
    );
}

/// `GET path` on 127.0.0.1:`port`: the response body (HTTP/1.0, so the server closes).
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

#[test]
fn submit_with_a_dashboard_shows_its_queries_progress() {
    let job = root().join("jobs/hashtag_ranking_demo.toml");
    let mut submit = kindling_piped(&[
        "submit",
        job.to_str().unwrap(),
        "--conf",
        "sink.trigger=200 ms",
        "--dashboard",
        "127.0.0.1:0",
    ]);
    let out = reader_lines(submit.stdout.take().unwrap());
    let err = reader_lines(submit.stderr.take().unwrap());
    let (_, port) = printed_url(&err);
    // Two batches printed: the dashboard has their progress (pushed in-process).
    let mut batches = 0;
    while batches < 2 {
        let l = out.recv_timeout(Duration::from_secs(60)).unwrap();
        if l.starts_with("Batch: ") {
            batches += 1;
        }
    }
    let queries: serde_json::Value = serde_json::from_str(&http_get(port, "/api/queries")).unwrap();
    let query = &queries[0];
    assert_eq!(query["name"], "hashtag_ranking_demo");
    assert!(
        !query["recentProgress"].as_array().unwrap().is_empty(),
        "{query}"
    );
    let id = query["id"].as_str().unwrap();
    let one: serde_json::Value =
        serde_json::from_str(&http_get(port, &format!("/api/queries/{id}"))).unwrap();
    assert_eq!(one["id"], id);
    assert_eq!(http_get(port, "/test"), "success");
    kill(&submit, "INT");
    assert_eq!(submit.wait().unwrap().code(), Some(130));
}
