//! Running the `kindling` binary and reading what it prints, shared by the CLI-level tests.

#![allow(dead_code)]
#![allow(clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

/// The repository root, as `cargo test` says it at run time. The compile-time value can name
/// another clone when a test binary in a shared target directory is reused.
pub fn manifest_dir() -> &'static str {
    static DIR: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string())
    })
}

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(manifest_dir())
}

/// A loopback port free now, distinct from every other this process handed out, and below
/// Linux's ephemeral range (32768+), so that no outgoing connection (a browser's, a client's)
/// can take it between now and its use.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    // Each test process starts at its own offset (its pid), as test binaries may overlap.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 500) as u16 * 20;
    for _ in 0..2_000 {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % 12_000;
        let port = 20_000 + (base - 20_000 + offset) % 12_000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between 20000 and 32000")
}

/// Runs `kindling ARGS` in the repository root with `stdin` (closed when `None`) and
/// warnings on stderr; waits for it.
pub fn kindling(args: &[&str], stdin: Option<&[u8]>) -> Output {
    spawn(args, stdin)
        .wait_with_output()
        .unwrap_or_else(|e| panic!("kindling did not finish: {e}"))
}

/// Starts `kindling ARGS` as [`kindling`] does, stdout and stderr piped (read both, or the
/// child blocks on a full pipe); `stdin` is written, then closed.
pub fn spawn(args: &[&str], stdin: Option<&[u8]>) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kindling"))
        .current_dir(root())
        .args(args)
        .env("KINDLING_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run kindling: {e}"));
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes)
            .unwrap_or_else(|e| panic!("cannot write kindling's stdin: {e}"));
    }
    drop(child.stdin.take());
    child
}

/// The lines of `stream` (a child's stdout or stderr), as they come.
pub fn reader_lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}
