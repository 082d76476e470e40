//! Exactly-once recovery: `kindling submit` runs as a child process and is killed — at crash
//! points between the offset log, the sink and the commit log, and with a real SIGKILL in
//! the middle of a run — then restarted, again and again. The committed output must equal an
//! uninterrupted run's, with every batch id exactly once.

#![expect(clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use kindling::sink::file::committed_files;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

const FILES: u64 = 12;

fn write_inputs(dir: &Path) {
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let generator = kindling::source::tweets::TweetGenerator::new(99);
    for f in 0..FILES {
        let text: String = (0..25)
            .map(|i| generator.tweet(f * 100 + i) + "\n")
            .collect();
        let path = dir.join(format!("part-{f:03}.txt"));
        std::fs::write(&path, text).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(base + Duration::from_secs(f)).unwrap();
    }
}

fn job(input: &Path, output: &Path, checkpoint: &Path) -> String {
    format!(
        r#"
name = "copy"
[source]
format = "text"
[source.options]
path = "{}"
maxFilesPerTrigger = 1
[query]
sql = "SELECT value, length(value) AS n, size(split(value, ' ')) AS words FROM input WHERE value <> ''"
[sink]
format = "json"
trigger = "availableNow"
checkpointLocation = "{}"
[sink.options]
path = "{}"
"#,
        input.display(),
        checkpoint.display(),
        output.display()
    )
}

struct Run {
    job: PathBuf,
}

impl Run {
    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kindling"));
        c.arg("submit").arg(&self.job).env("KINDLING_LOG", "error");
        c
    }

    /// Runs to the end, crashing at `crash` if given; returns whether it finished cleanly.
    fn run(&self, crash: Option<&str>) -> bool {
        let mut c = self.command();
        if let Some(spec) = crash {
            c.env("KINDLING_CRASH_AT", spec);
        }
        let out = c.output().unwrap();
        if crash.is_none() {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.status.success()
    }

    /// Starts a run and SIGKILLs it right after its `n`-th committed batch is logged.
    fn kill_after(&self, n: usize) {
        self.signal_after(n, "KILL", self.command());
    }

    /// Starts `command` (a run) and sends it `signal` right after its `n`-th committed batch
    /// is logged; its exit code, `None` when the signal killed it.
    fn signal_after(&self, n: usize, signal: &str, mut command: Command) -> Option<i32> {
        let mut child = command
            .env("KINDLING_LOG", "kindling=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut committed = 0;
        for line in stderr.by_ref() {
            if line.unwrap().contains("batch committed") {
                committed += 1;
                if committed == n {
                    break;
                }
            }
        }
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status();
        // Drain the rest of stderr so the child never blocks on a full pipe while stopping.
        let rest = std::thread::spawn(move || stderr_rest(stderr));
        let code = child.wait().unwrap().code();
        let _ = rest.join();
        code
    }
}

fn stderr_rest(lines: impl Iterator<Item = std::io::Result<String>>) {
    for _ in lines {}
}

/// The committed output: (batch id, file content) in batch order.
fn committed(output: &Path) -> Vec<(u64, String)> {
    committed_files(output)
        .unwrap()
        .into_iter()
        .map(|(id, p)| (id, std::fs::read_to_string(p).unwrap()))
        .collect()
}

fn setup(tmp: &Path, name: &str) -> (Run, PathBuf) {
    let input = tmp.join("input");
    if !input.exists() {
        std::fs::create_dir(&input).unwrap();
        write_inputs(&input);
    }
    let output = tmp.join(format!("{name}-out"));
    let checkpoint = tmp.join(format!("{name}-checkpoint"));
    let job_path = tmp.join(format!("{name}.toml"));
    std::fs::write(&job_path, job(&input, &output, &checkpoint)).unwrap();
    (Run { job: job_path }, output)
}

/// The committed output of an uninterrupted run over the inputs in `tmp`.
fn reference_output(tmp: &Path) -> Vec<(u64, String)> {
    let (run, output) = setup(tmp, "reference");
    assert!(run.run(None));
    committed(&output)
}

fn assert_same_output(reference: &[(u64, String)], got: &[(u64, String)], output: &Path) {
    let ids: Vec<u64> = got.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids,
        (0..FILES).collect::<Vec<_>>(),
        "every batch id exactly once"
    );
    assert_eq!(reference, got);
    // No orphan files: everything in the directory is listed in the manifest.
    let parts = std::fs::read_dir(output)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("part-")
        })
        .count();
    assert_eq!(parts, got.len());
}

#[test]
fn crashes_at_every_point_lose_and_duplicate_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = reference_output(tmp.path());
    assert_eq!(reference.len() as u64, FILES);

    let (run, output) = setup(tmp.path(), "crashy");
    let mut rng = Pcg64Mcg::seed_from_u64(7);
    let points = ["after-offsets", "mid-sink", "before-commit", "after-commit"];
    let mut batch = 0;
    let mut crashes = 0;
    // Walk forward through the batches, crashing at a random point of a random next batch.
    while batch < FILES {
        let point = points[rng.random_range(0..points.len())];
        let spec = format!("{point}:{batch}");
        assert!(
            !run.run(Some(&spec)),
            "the run should have crashed at {spec}"
        );
        crashes += 1;
        batch += rng.random_range(1..4);
    }
    assert!(run.run(None));
    assert!(crashes >= 4);
    assert_same_output(&reference, &committed(&output), &output);
}

/// Ctrl-C and SIGTERM (systemd's, Kubernetes' and `timeout`'s stop) end a run the same clean
/// way, with the shell's codes 130 and 143: the batch in flight commits or is abandoned before
/// its commit, so the restarts replay nothing twice.
#[test]
fn sigint_and_sigterm_stop_cleanly_and_restarts_replay_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = reference_output(tmp.path());

    let (run, output) = setup(tmp.path(), "signalled");
    for (n, signal, code) in [(2, "INT", 130), (1, "TERM", 143), (2, "TERM", 143)] {
        // An unbounded trigger that leaves batches for the later runs: only the signal ends
        // the run, and it lands well before the 12 files are read.
        let mut command = run.command();
        command.args(["--conf", "sink.trigger=500 ms"]);
        assert_eq!(
            run.signal_after(n, signal, command),
            Some(code),
            "SIG{signal}"
        );
    }
    assert!(run.run(None));
    assert_same_output(&reference, &committed(&output), &output);
}

#[test]
fn sigkill_mid_run_and_restart_repeatedly() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = reference_output(tmp.path());

    let (run, output) = setup(tmp.path(), "killed");
    let mut rng = Pcg64Mcg::seed_from_u64(11);
    for _ in 0..4 {
        run.kill_after(rng.random_range(1..3));
    }
    assert!(run.run(None));
    assert_same_output(&reference, &committed(&output), &output);
}

/// The last table printed for `Batch: {last}` in a console output.
fn last_table(stdout: &str, last: u64) -> String {
    let marker = format!("Batch: {last}\n");
    let start = stdout
        .rfind(&marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{stdout}"));
    stdout[start..].split("\n\n").next().unwrap().to_string()
}

#[test]
fn aggregation_state_survives_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    std::fs::create_dir(&input).unwrap();
    write_inputs(&input);
    let job_for = |name: &str| {
        let path = tmp.path().join(format!("{name}.toml"));
        let checkpoint = tmp.path().join(format!("{name}-checkpoint"));
        std::fs::write(
            &path,
            format!(
                r#"
name = "ranking"
[source]
format = "text"
[source.options]
path = "{}"
maxFilesPerTrigger = 1
[query]
sql = """SELECT tag, count(*) AS n FROM (SELECT explode(split(value, ' ')) AS tag FROM input)
WHERE startswith(tag, '#') GROUP BY tag ORDER BY n DESC, tag LIMIT 15"""
[sink]
format = "console"
outputMode = "complete"
trigger = "availableNow"
checkpointLocation = "{}"
"#,
                input.display(),
                checkpoint.display()
            ),
        )
        .unwrap();
        Run { job: path }
    };
    let reference = job_for("reference").command().output().unwrap();
    let reference = last_table(&String::from_utf8_lossy(&reference.stdout), FILES - 1);

    let run = job_for("crashy");
    let mut printed = String::new();
    let mut rng = Pcg64Mcg::seed_from_u64(3);
    let points = ["after-offsets", "before-commit", "after-commit"];
    let mut batch = 1;
    while batch < FILES {
        let spec = format!("{}:{batch}", points[rng.random_range(0..points.len())]);
        let out = run
            .command()
            .env("KINDLING_CRASH_AT", &spec)
            .output()
            .unwrap();
        assert!(!out.status.success(), "should have crashed at {spec}");
        printed.push_str(&String::from_utf8_lossy(&out.stdout));
        batch += rng.random_range(1..4);
    }
    let out = run.command().output().unwrap();
    assert!(out.status.success());
    printed.push_str(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(last_table(&printed, FILES - 1), reference);
}
