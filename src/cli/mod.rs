//! The `kindling` command line (clap derive): parses arguments and dispatches to subcommands.
//! A thin layer: everything it does is available through [`crate::Session`].

pub mod dashboard;
pub mod produce;
pub mod repl;
pub(crate) mod signal;
pub mod submit;
pub mod topics;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A Spark-compatible streaming job runner.
#[derive(Debug, Parser)]
#[command(name = "kindling", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a streaming job file, like spark-submit.
    Submit(submit::SubmitArgs),
    /// An interactive shell for ad-hoc stream queries (or a script runner with -c / -f).
    Repl(repl::ReplArgs),
    /// Send records to a Kafka topic: synthetic tweets, or the lines of a file.
    Produce(produce::ProduceArgs),
    /// Create, list or delete Kafka topics.
    Topics(topics::TopicsArgs),
    /// Serve the live dashboard (and the tutorial's POST /update_data receiver).
    Dashboard(dashboard::DashboardArgs),
    /// The tutorial end to end with nothing installed: synthetic tweets → hashtag ranking →
    /// console + live dashboard.
    Demo(dashboard::DashboardArgs),
}

/// The `kindling` program: sets up logging (`KINDLING_LOG`, a `tracing` filter; default
/// `warn`), parses the arguments, runs the command on a multi-threaded runtime and returns
/// its exit code.
///
/// The whole program is here rather than in `main.rs` so that its async code is compiled once,
/// in this crate: a future polled in another crate (the binary) is compiled again there.
pub fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KINDLING_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    ExitCode::from(runtime.block_on(run(cli)))
}

/// Runs the parsed command; returns the process exit code.
async fn run(cli: Cli) -> u8 {
    let result = match cli.command {
        Command::Submit(args) => submit::run(args).await,
        Command::Repl(args) => repl::run(args).await,
        Command::Produce(args) => produce::run(args).await,
        Command::Topics(args) => topics::run(args).await,
        Command::Dashboard(args) => dashboard::run_dashboard(args).await,
        Command::Demo(args) => dashboard::run_demo(args).await,
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("Error: {}", err.report());
            err.exit_code()
        }
    }
}
