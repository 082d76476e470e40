//! `kindling submit JOB`: loads a job file, starts its queries and waits for them; Ctrl-C
//! stops them cleanly after the batch in flight.

use clap::Args;

use crate::error::{Error, Result};
use crate::job::JobPlan;
use crate::session::Session;

/// Arguments of `kindling submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The job file (TOML); `-` reads it from stdin.
    pub job: String,
    /// Override a job-file key by its dotted path, e.g. `sink.outputMode=update`,
    /// `source.options.path=/data`, `sink.1.trigger=once`, `spark.sql.shuffle.partitions=4`.
    #[arg(long = "conf", value_name = "KEY=VALUE", value_parser = parse_conf)]
    pub conf: Vec<(String, String)>,
    /// Override `sink.checkpointLocation` (of the first sink).
    #[arg(long = "checkpoint-location", value_name = "DIR")]
    pub checkpoint_location: Option<String>,
}

fn parse_conf(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("invalid --conf '{s}': expected KEY=VALUE")),
    }
}

/// Runs the job until its queries end (bounded triggers) or Ctrl-C; returns the exit code.
pub async fn run(args: SubmitArgs) -> Result<u8> {
    let mut overrides = args.conf;
    if let Some(dir) = args.checkpoint_location {
        overrides.push(("sink.checkpointLocation".to_string(), dir));
    }
    let job = JobPlan::load(&args.job, &overrides)?;
    let session = Session::new();
    let mut queries = session.start_job(&job).await?;
    let mut failure: Option<Error> = None;
    let mut interrupted = false;
    let mut remaining: Vec<usize> = (0..queries.len()).collect();
    while !remaining.is_empty() {
        let waits = remaining.iter().map(|&i| {
            let q: *mut crate::StreamingQuery = &mut queries[i];
            (i, q)
        });
        let _ = waits;
        let i = remaining[0];
        tokio::select! {
            result = queries[i].await_termination() => {
                remaining.remove(0);
                if let Err(e) = result {
                    failure.get_or_insert(e);
                    queries.iter().for_each(|q| q.stop());
                }
            }
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                eprintln!("stopping {} quer{} after the batch in flight", queries.len(), if queries.len() == 1 { "y" } else { "ies" });
                queries.iter().for_each(|q| q.stop());
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None if interrupted => Ok(130),
        None => Ok(0),
    }
}
