//! `scripts/kafka-broker.sh`: starts a real Kafka-compatible broker (tansu) on a free
//! loopback port, which accepts connections and topics, and stops only that broker.

#![expect(clippy::unwrap_used)]

use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

use crate::common::process::free_port;

fn script() -> std::path::PathBuf {
    Path::new(crate::common::process::manifest_dir()).join("scripts/kafka-broker.sh")
}

#[test]
fn broker_starts_serves_topics_and_stops() {
    let ports = [free_port(), free_port()];
    for port in ports {
        let out = Command::new(script())
            .args(["start", &port.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    }
    let tansu =
        String::from_utf8(Command::new(script()).arg("path").output().unwrap().stdout).unwrap();
    let broker = format!("tcp://127.0.0.1:{}", ports[0]);
    let created = Command::new(tansu.trim())
        .args([
            "topic",
            "create",
            "kindling-test",
            "--partitions",
            "3",
            "--broker",
            &broker,
        ])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let listed = Command::new(tansu.trim())
        .args(["topic", "list", "--broker", &broker])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("\"name\":\"kindling-test\""));

    // Stopping one broker leaves the other running.
    let stop = Command::new(script())
        .args(["stop", &ports[0].to_string()])
        .status()
        .unwrap();
    assert!(stop.success());
    assert!(TcpStream::connect(("127.0.0.1", ports[0])).is_err());
    assert!(TcpStream::connect(("127.0.0.1", ports[1])).is_ok());
    Command::new(script())
        .args(["stop", &ports[1].to_string()])
        .status()
        .unwrap();
    assert!(TcpStream::connect(("127.0.0.1", ports[1])).is_err());
}
