//! A real Kafka-compatible broker (tansu via `scripts/kafka-broker.sh`) on a free loopback
//! port, stopped on drop. A broker that cannot start fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::{free_port, kindling};

/// A broker on its own port, stopped on drop.
pub struct Broker {
    pub port: u16,
}

impl Broker {
    pub fn start() -> Broker {
        Broker::start_on("memory")
    }

    /// A broker whose topics and records survive [`Broker::restart`] (S3 storage).
    pub fn start_durable() -> Broker {
        Broker::start_on("s3")
    }

    pub fn start_on(storage: &str) -> Broker {
        let port = free_port();
        let out = Command::new(script())
            .args(["start", &port.to_string(), storage])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the broker did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Broker { port }
    }

    pub fn restart(&self) {
        let out = Command::new(script())
            .args(["restart", &self.port.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the broker did not restart: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Creates `topic` with `partitions` partitions (`kindling topics create`).
    pub fn create_topic(&self, topic: &str, partitions: u32) {
        self.kindling(&[
            "topics",
            "create",
            topic,
            "--partitions",
            &partitions.to_string(),
        ]);
    }

    /// Sends the lines of `path` to `topic` (`kindling produce --file`).
    pub fn produce_file(&self, topic: &str, path: &str) {
        self.kindling(&["produce", "--topic", topic, "--file", path]);
    }

    /// Runs `kindling ARGS --bootstrap-servers <this broker>`, which must succeed.
    fn kindling(&self, args: &[&str]) {
        let addr = self.addr();
        let mut all = args.to_vec();
        all.extend(["--bootstrap-servers", &addr]);
        let out = kindling(&all, None);
        assert!(
            out.status.success(),
            "kindling {all:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["stop", &self.port.to_string()])
            .status();
    }
}

fn script() -> PathBuf {
    Path::new(crate::common::process::manifest_dir()).join("scripts/kafka-broker.sh")
}
