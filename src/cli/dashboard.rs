//! `kindling dashboard` (the page and the tutorial's receiver, standing alone) and
//! `kindling demo` (the built-in tweet stream → hashtag ranking → console + dashboard).

use clap::Args;

use super::signal::StopSignals;
use crate::dashboard::hook::DashboardHook;
use crate::dashboard::{DEFAULT_BIND, DashboardServer, DashboardState};
use crate::error::Result;
use crate::job::QueryPlan;
use crate::job::{JobPlan, JobSpec};
use crate::sink::Sink;
use crate::sink::foreach_batch::ForeachBatchSink;

/// Arguments of `kindling dashboard` and `kindling demo`.
#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// Where the page listens (loopback by default).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_BIND)]
    pub bind: String,
}

/// Serves the dashboard until Ctrl-C or SIGTERM; receivers POST to `/update_data`.
pub async fn run_dashboard(args: DashboardArgs) -> Result<u8> {
    let mut signals = StopSignals::install()?;
    let server = DashboardServer::start(&args.bind, DashboardState::new()).await?;
    let addr = server.addr();
    eprintln!(
        "kindling dashboard on http://{addr}/ (POST http://{addr}/update_data); Ctrl-C stops it"
    );
    let signal = signals.recv().await;
    server.stop().await;
    Ok(signal.exit_code())
}

/// The demo job: the tutorial's query over the built-in synthetic tweets, to the console;
/// `kindling demo` adds a second query feeding the dashboard in-process.
fn demo_job() -> Result<JobPlan> {
    let text = format!(
        r#"name = "hashtag_ranking_demo"
[source]
format = "tweets"
name = "lines"
[source.options]
rowsPerSecond = 200
seed = 42
[query]
sql = """{sql}"""
[sink]
format = "console"
outputMode = "complete"
trigger = "3 seconds"
[sink.options]
truncate = false
numRows = 10
"#,
        sql = include_str!("../../sql/hashtag_ranking.sql")
    );
    let spec = JobSpec::parse(&text, "demo", &[])?;
    JobPlan::from_spec(spec, "demo", std::path::Path::new("."), "demo")
}

/// Runs the demo until Ctrl-C: prints the URL, then each batch's ranking; the dashboard's
/// top 10 comes from a foreachBatch query in the same process (no HTTP hop).
pub async fn run_demo(args: DashboardArgs) -> Result<u8> {
    let state = DashboardState::new();
    let server = DashboardServer::start(&args.bind, state.clone()).await?;
    eprintln!(
        "kindling demo: open http://{}/ for the live chart; Ctrl-C stops it",
        server.addr()
    );
    let job = demo_job()?;
    let mut to_dashboard = job.queries[0].clone();
    to_dashboard.name = format!("{}_dashboard", to_dashboard.name);
    to_dashboard.sink.format = "foreach_batch".to_string();
    let sink = ForeachBatchSink::with_hooks(vec![Box::new(DashboardHook::new(state.clone(), 10))]);
    let extra: Vec<(QueryPlan, Box<dyn Sink>)> = vec![(to_dashboard, Box::new(sink))];
    let code = super::submit::run_plan(&job, Some(&state), extra).await;
    server.stop().await;
    code
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_demo_job_is_valid() {
        let job = demo_job().unwrap();
        assert_eq!(job.queries.len(), 1);
        assert_eq!(job.queries[0].sink.format, "console");
    }
}
