//! `kindling repl` end to end: scripted sessions (`-c`, `-f`, stdin) against snapshots of
//! their whole output, the tutorial's Kafka exploration against a real broker, and the
//! interactive shell driven through a real pseudo-terminal (prompt, streaming query, Ctrl-C,
//! completion, background queries, history, Ctrl-D).
//!
//! Snapshots live in `tests/it/snapshots/`; after an intended change, review them with
//! `INSTA_UPDATE=always cargo test --release --test it repl::` and `git diff`.

#![expect(clippy::unwrap_used)]

use std::process::Command;

use crate::common::broker::Broker;
use crate::common::process::{kindling, root};
use insta_cmd::assert_cmd_snapshot;

/// `kindling repl ARGS` in the repository root, without colour or history.
fn repl(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindling"));
    cmd.current_dir(root())
        .arg("repl")
        .args(args)
        .env("KINDLING_LOG", "warn")
        .env("NO_COLOR", "1");
    cmd
}

const LINES: &str = "CREATE TEMPORARY VIEW lines USING text OPTIONS (path 'tests/repl/input');";

#[test]
fn script_file_session() {
    assert_cmd_snapshot!(repl(&["-f", "tests/repl/session.sql"]));
}

#[test]
fn command_sequence_with_settings_and_a_bounded_stream() {
    assert_cmd_snapshot!(repl(&[
        "-c",
        LINES,
        "-c",
        "SET outputMode = update; SET trigger = once; SET truncate = false;
         SELECT upper(value) AS shout, length(value) AS n FROM STREAM lines;
         SET outputMode; SET spark.sql.shuffle.partitions = 4; SET spark.sql.shuffle.partitions",
    ]));
}

#[test]
fn statements_piped_to_stdin_run_as_a_script() {
    let out = kindling(
        &["repl"],
        Some(format!("{LINES}\nSELECT value FROM lines WHERE value LIKE '%Über%'\n").as_bytes()),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "+-----------------+\n|            value|\n+-----------------+\n|#rust #Über alles|\n+-----------------+\n\n"
    );
}

#[test]
fn include_runs_a_file_like_dash_f() {
    let included = repl(&["-c", "\\i tests/repl/session.sql"])
        .output()
        .unwrap();
    let direct = repl(&["-f", "tests/repl/session.sql"]).output().unwrap();
    assert!(
        included.status.success(),
        "{}",
        String::from_utf8_lossy(&included.stderr)
    );
    assert!(!included.stdout.is_empty());
    assert_eq!(included.stdout, direct.stdout);
    assert_eq!(included.stderr, direct.stderr);
}

#[test]
fn explain_gives_the_output_mode_verdict_and_the_plans() {
    let query = "SELECT value, count(*) AS n FROM STREAM lines GROUP BY value";
    let out = repl(&["-c", &format!("{LINES}\n\\explain {query}\nSET outputMode = complete;\n\\explain {query}\n\\explain SELECT * FROM lines LIMIT 1")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("streaming query over"))
        .collect();
    assert_eq!(
        verdicts,
        [
            "streaming query over lines: [STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] Invalid streaming output mode: append. This output mode is not supported for streaming aggregations without watermark on streaming DataFrames/DataSets. SQLSTATE: 42KDE",
            "streaming query over lines: complete output mode is supported",
        ]
    );
    assert_eq!(stdout.matches("== Physical Plan ==").count(), 3, "{stdout}");
    assert!(
        stdout.contains("Aggregate: groupBy=[[lines.value]]"),
        "{stdout}"
    );
    assert!(stdout.contains("Limit: skip=0, fetch=1"), "{stdout}");
}

mod errors {
    use super::*;

    #[test]
    fn unknown_column() {
        assert_cmd_snapshot!(repl(&[
            "-c",
            &format!("{LINES} SELECT 1 AS before; SELECT valu FROM lines; SELECT 2 AS never")
        ]));
    }

    #[test]
    fn unknown_view() {
        assert_cmd_snapshot!(repl(&[
            "-c",
            "SET trigger = once; SELECT * FROM STREAM nope"
        ]));
    }

    #[test]
    fn append_mode_aggregation() {
        assert_cmd_snapshot!(repl(&[
            "-c",
            &format!(
                "{LINES} SET trigger = availableNow; SELECT value, count(*) FROM STREAM lines GROUP BY value"
            )
        ]));
    }

    #[test]
    fn unbounded_stream_in_a_script() {
        assert_cmd_snapshot!(repl(&[
            "-c",
            &format!("{LINES} SELECT * FROM STREAM lines")
        ]));
    }

    #[test]
    fn bad_source_option() {
        assert_cmd_snapshot!(repl(&[
            "-c",
            "CREATE TEMP VIEW t USING text OPTIONS (path 'tests/repl/input', maxFilesPerTrigger 'many')"
        ]));
    }

    #[test]
    fn rate_is_stream_only() {
        assert_cmd_snapshot!(repl(&[
            "-c",
            "CREATE TEMP VIEW r USING rate; SELECT * FROM r"
        ]));
    }

    #[test]
    fn bad_setting() {
        assert_cmd_snapshot!(repl(&["-c", "SET outputMode = upsert"]));
    }

    #[test]
    fn unknown_command() {
        assert_cmd_snapshot!(repl(&["-c", "\\x"]));
    }
}

/// The issue's session over Kafka: raw values in update mode, then the complete-mode ranking.
#[test]
fn tutorial_exploration_over_kafka() {
    let broker = Broker::start();
    // One partition, so the records keep the file's order.
    broker.create_topic("test", 1);
    broker.produce_file("test", "tests/repl/input/a.txt");
    let view = format!(
        "CREATE TEMPORARY VIEW lines USING kafka OPTIONS ('kafka.bootstrap.servers' '{}', subscribe 'test', startingOffsets 'earliest');",
        broker.addr()
    );
    let out = repl(&[
        "-c",
        &view,
        "-c",
        "SELECT CAST(value AS STRING) AS value FROM lines;
         SET outputMode = update; SET trigger = availableNow; SET truncate = false;
         SELECT CAST(value AS STRING) FROM STREAM lines;
         SET outputMode = complete;
         SELECT tag, count(*) AS tag_count FROM (SELECT explode(split(CAST(value AS STRING), ' ')) AS tag
           FROM STREAM lines) WHERE startswith(tag, '#') GROUP BY tag ORDER BY tag_count DESC LIMIT 10;",
    ])
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "\
+--------------------+
|               value|
+--------------------+
|learning #spark w...|
|#spark streaming ...|
+--------------------+

-------------------------------------------
Batch: 0
-------------------------------------------
+--------------------------+
|value                     |
+--------------------------+
|learning #spark with #rust|
|#spark streaming is fun   |
+--------------------------+

-------------------------------------------
Batch: 0
-------------------------------------------
+------+---------+
|tag   |tag_count|
+------+---------+
|#spark|2        |
|#rust |1        |
+------+---------+

"
    );
    assert_eq!(
        stderr.matches("query finished after 1 batch\n").count(),
        2,
        "{stderr}"
    );
}

mod interactive {
    use rexpect::session::{Options, PtySession, spawn_with_options};

    use super::*;

    const PROMPT: &str = "kindling> ";

    fn shell(history: &std::path::Path) -> PtySession {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kindling"));
        cmd.current_dir(root())
            .arg("repl")
            .env("KINDLING_LOG", "warn")
            .env("KINDLING_HISTORY", history)
            .env("TERM", "xterm")
            .env_remove("NO_COLOR");
        spawn_with_options(
            cmd,
            Options::new()
                .timeout_ms(Some(60_000))
                .strip_ansi_escape_codes(false),
        )
        .unwrap()
    }

    /// Sends `line` and returns what the shell printed before its next main prompt.
    fn run(p: &mut PtySession, line: &str) -> String {
        p.send_line(line).unwrap();
        p.exp_string(PROMPT).unwrap()
    }

    #[test]
    fn stream_then_ctrl_c_then_more_statements() {
        let dir = tempfile::tempdir().unwrap();
        let history = dir.path().join("history");
        let mut p = shell(&history);
        p.exp_string(PROMPT).unwrap();
        run(
            &mut p,
            "CREATE TEMPORARY VIEW r USING rate OPTIONS (rowsPerSecond 20);",
        );
        run(&mut p, "SET trigger = '100 ms';");

        // A streaming SELECT prints batch after batch until Ctrl-C stops it, not the shell.
        p.send_line("SELECT value FROM STREAM r;").unwrap();
        p.exp_string("Batch: 0").unwrap();
        p.exp_string("Batch: 1").unwrap();
        p.send_control('c').unwrap();
        p.exp_string("query stopped after ").unwrap();
        p.exp_string(PROMPT).unwrap();

        let out = run(&mut p, "SELECT 1 + 1 AS two;");
        assert!(
            out.contains("|two|\n") || out.contains("|two|\r\n"),
            "{out:?}"
        );
        assert!(out.contains("|  2|"), "{out:?}");

        // Ctrl-C at a continuation prompt drops the half-typed statement.
        p.send_line("SELECT 'half").unwrap();
        p.exp_string("       -> ").unwrap();
        p.send_control('c').unwrap();
        p.exp_string(PROMPT).unwrap();
        // Errors are red at a terminal, and the shell goes on.
        let out = run(&mut p, "SELECT nope;");
        assert!(
            out.contains("\x1b[31mError: job 'repl': [UNRESOLVED_COLUMN"),
            "{out:?}"
        );

        // Tab completes backslash commands.
        p.send("\\quer\t").unwrap();
        p.flush().unwrap();
        p.exp_string("\\queries").unwrap();
        let out = run(&mut p, "");
        assert!(out.contains("processedRowsPerSecond"), "{out:?}");

        p.send_line("\\q").unwrap();
        p.exp_eof().unwrap();
        let saved = std::fs::read_to_string(&history).unwrap();
        assert!(saved.contains("SELECT 1 + 1 AS two;"), "{saved}");
        assert!(saved.contains("\\queries"), "{saved}");
    }

    #[test]
    fn background_query_into_a_memory_table() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = shell(&dir.path().join("history"));
        p.exp_string(PROMPT).unwrap();
        run(
            &mut p,
            "CREATE TEMPORARY VIEW r USING rate OPTIONS (rowsPerSecond 50);",
        );
        run(&mut p, "SET outputMode = complete; SET trigger = '100 ms';");
        let out = run(
            &mut p,
            "START QUERY total AS SELECT count(*) AS n FROM STREAM r;",
        );
        assert!(
            out.contains("query total started into memory table total"),
            "{out:?}"
        );
        // The memory table fills as batches commit; each look is one prompt round trip.
        let mut seen = false;
        for _ in 0..2000 {
            let out = run(&mut p, "SELECT n > 0 AS counting FROM total;");
            if out.contains("|    true|") {
                seen = true;
                break;
            }
        }
        assert!(seen, "the memory table never showed a count");
        let out = run(&mut p, "\\queries");
        assert!(out.contains("|total|"), "{out:?}");
        let out = run(&mut p, "\\d");
        assert!(out.contains("memory table"), "{out:?}");
        let out = run(&mut p, "\\stop total");
        assert!(out.contains("query total stopped after "), "{out:?}");
        let out = run(&mut p, "\\d total");
        assert!(out.contains("|n       |bigint   |NULL   |"), "{out:?}");
        p.send_control('d').unwrap();
        p.exp_eof().unwrap();
    }
}
