//! `kindling submit JOB`: loads a job file, starts its queries and waits for them; Ctrl-C or
//! SIGTERM stops them cleanly after the batch in flight.

use clap::Args;
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::signal::StopSignals;
use crate::dashboard::{DashboardServer, DashboardState};
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
    /// Also serve the live dashboard at this address (e.g. 127.0.0.1:8050), showing the
    /// queries' progress; the job's http hooks can post their top lists to it.
    #[arg(long, value_name = "ADDR")]
    pub dashboard: Option<String>,
}

fn parse_conf(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("invalid --conf '{s}': expected KEY=VALUE")),
    }
}

/// Runs the job until its queries end (bounded triggers), Ctrl-C or SIGTERM; returns the exit
/// code.
pub async fn run(args: SubmitArgs) -> Result<u8> {
    let mut overrides = args.conf;
    if let Some(dir) = args.checkpoint_location {
        overrides.push(("sink.checkpointLocation".to_string(), dir));
    }
    let job = JobPlan::load(&args.job, &overrides)?;
    let Some(bind) = args.dashboard else {
        return run_plan(&job, None, Vec::new()).await;
    };
    let state = DashboardState::new();
    let server = DashboardServer::start(&bind, state.clone()).await?;
    eprintln!("kindling dashboard on http://{}/", server.addr());
    let code = run_plan(&job, Some(&state), Vec::new()).await;
    server.stop().await;
    code
}

/// Starts the job's queries and the `extra` ones with their own sinks (all shown on
/// `dashboard` when given) and waits for them; Ctrl-C (exit code 130) or SIGTERM (143) stops
/// them after the batch in flight. Returns the exit code.
pub async fn run_plan(
    job: &JobPlan,
    dashboard: Option<&DashboardState>,
    extra: Vec<(crate::job::QueryPlan, Box<dyn crate::sink::Sink>)>,
) -> Result<u8> {
    let mut signals = StopSignals::install()?;
    let session = Session::new();
    let mut queries = session.start_job(job).await?;
    for (plan, sink) in extra {
        queries.push(session.start_with_sink(&plan, sink).await?);
    }
    if let Some(state) = dashboard {
        for q in &queries {
            state.watch_query(q.watch());
        }
    }
    let stops: Vec<_> = queries.iter().map(|q| q.stop_handle()).collect();
    let total = queries.len();
    // Each query is awaited on its own future, so a failure anywhere is seen at once.
    let mut running: FuturesUnordered<_> = queries
        .into_iter()
        .map(|mut q| async move { q.await_termination().await })
        .collect();
    let mut failure: Option<Error> = None;
    let mut stopped_by = None;
    loop {
        tokio::select! {
            next = running.next() => match next {
                None => break,
                Some(Err(e)) => {
                    failure.get_or_insert(e);
                    stops.iter().for_each(|s| s.stop());
                }
                Some(Ok(())) => {}
            },
            signal = signals.recv(), if stopped_by.is_none() => {
                stopped_by = Some(signal);
                let noun = if total == 1 { "query" } else { "queries" };
                eprintln!("stopping {total} {noun} after the batch in flight");
                stops.iter().for_each(|s| s.stop());
            }
        }
    }
    match (failure, stopped_by) {
        (Some(e), _) => Err(e),
        (None, Some(signal)) => Ok(signal.exit_code()),
        (None, None) => Ok(0),
    }
}
