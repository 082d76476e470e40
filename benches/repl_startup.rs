//! Start-up of `kindling repl`: time from launching the binary in a pseudo-terminal to its
//! prompt, against `kindling --version` (process start alone) in the same run, so the figure
//! can be read as a ratio on a noisy machine. Not asserted; the target is "well under a
//! second".
//!
//! Run with `cargo bench --bench repl_startup` (or `./scripts/bench.sh`); results go to stderr.

#![expect(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use rexpect::process::PtyProcess;

const RUNS: usize = 20;
const BIN: &str = env!("CARGO_BIN_EXE_kindling");

/// Reads the terminal directly (blocking reads, no polling interval) until the prompt.
fn to_prompt() -> Duration {
    let mut cmd = Command::new(BIN);
    cmd.args(["repl", "--no-history"]).env("TERM", "xterm");
    let start = Instant::now();
    let process = PtyProcess::new(cmd).unwrap();
    let mut tty = process.get_file_handle().unwrap();
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("kindling> ") {
        let n = tty.read(&mut chunk).unwrap();
        assert!(n > 0, "the shell ended before its prompt");
        seen.extend_from_slice(&chunk[..n]);
    }
    let took = start.elapsed();
    tty.write_all(b"\\q\r").unwrap();
    process.wait().unwrap();
    took
}

fn version() -> Duration {
    let start = Instant::now();
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    start.elapsed()
}

fn summary(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() - 1])
}

fn main() {
    to_prompt(); // warm the page cache
    let prompt = summary((0..RUNS).map(|_| to_prompt()).collect());
    let bare = summary((0..RUNS).map(|_| version()).collect());
    eprintln!(
        "repl start-up to prompt: median {:.1} ms, worst {:.1} ms over {RUNS} runs (kindling --version: median {:.1} ms; ratio {:.1}x)",
        prompt.0.as_secs_f64() * 1e3,
        prompt.1.as_secs_f64() * 1e3,
        bare.0.as_secs_f64() * 1e3,
        prompt.0.as_secs_f64() / bare.0.as_secs_f64(),
    );
}
