//! Running the `kindling` binary and reading what it prints, shared by the CLI-level tests.

#![allow(dead_code)]
#![allow(clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A loopback port free now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
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
