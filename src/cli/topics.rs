//! `kindling topics create|list|delete`: the topic admin calls a tutorial user needs, so that
//! no Kafka tooling has to be installed.

use clap::{Args, Subcommand};

use crate::error::{Error, Result};
use crate::kafka::{DEFAULT_BOOTSTRAP_SERVERS, create_topic, delete_topic, list_topics};

/// Arguments of `kindling topics`.
#[derive(Debug, Args)]
pub struct TopicsArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: TopicsAction,
}

/// The `topics` subcommands.
#[derive(Debug, Subcommand)]
pub enum TopicsAction {
    /// Create a topic.
    Create {
        /// The topic name.
        name: String,
        /// How many partitions it has.
        #[arg(long, default_value_t = 1)]
        partitions: i32,
        /// The broker(s), `host:port[,host:port]`.
        #[arg(long, value_name = "ADDR", default_value = DEFAULT_BOOTSTRAP_SERVERS)]
        bootstrap_servers: String,
    },
    /// List the topics with their partition counts.
    List {
        /// The broker(s), `host:port[,host:port]`.
        #[arg(long, value_name = "ADDR", default_value = DEFAULT_BOOTSTRAP_SERVERS)]
        bootstrap_servers: String,
    },
    /// Delete a topic and its records.
    Delete {
        /// The topic name.
        name: String,
        /// The broker(s), `host:port[,host:port]`.
        #[arg(long, value_name = "ADDR", default_value = DEFAULT_BOOTSTRAP_SERVERS)]
        bootstrap_servers: String,
    },
}

/// Runs the action; returns the exit code.
pub async fn run(args: TopicsArgs) -> Result<u8> {
    match args.action {
        TopicsAction::Create {
            name,
            partitions,
            bootstrap_servers,
        } => {
            if partitions < 1 {
                return Err(Error::Usage(format!(
                    "invalid --partitions {partitions}: a topic needs at least 1"
                )));
            }
            create_topic(&bootstrap_servers, &name, partitions).await?;
            eprintln!(
                "created topic '{name}' with {partitions} partition(s) on {bootstrap_servers}"
            );
        }
        TopicsAction::List { bootstrap_servers } => {
            let topics = tokio::task::spawn_blocking(move || list_topics(&bootstrap_servers))
                .await
                .map_err(|e| Error::Usage(format!("listing topics failed: {e}")))??;
            let mut out = String::new();
            for (name, partitions) in topics {
                out.push_str(&format!("{name}\t{partitions}\n"));
            }
            print!("{out}");
        }
        TopicsAction::Delete {
            name,
            bootstrap_servers,
        } => {
            delete_topic(&bootstrap_servers, &name).await?;
            eprintln!("deleted topic '{name}' on {bootstrap_servers}");
        }
    }
    Ok(0)
}
