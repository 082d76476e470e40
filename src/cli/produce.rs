//! `kindling produce`: sends records to a Kafka topic (the tutorial's tweet feed): synthetic
//! tweets from the `tweets` source's generator, or one record per line of a file or stdin,
//! with a progress line while it runs and a summary at the end.

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use clap::Args;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

use crate::error::{Error, Result};
use crate::kafka::{DEFAULT_BOOTSTRAP_SERVERS, bootstrap_config, kafka_error};
use crate::source::text::split_lines;
use crate::source::tweets::TweetGenerator;

/// Arguments of `kindling produce`.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// The broker(s), `host:port[,host:port]`.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_BOOTSTRAP_SERVERS)]
    pub bootstrap_servers: String,
    /// The topic to send to.
    #[arg(long, default_value = "test")]
    pub topic: String,
    /// Records per second, e.g. `100/s` or `100`; unpaced when absent (synthetic tweets default
    /// to 10/s).
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Stop after this many records (default: until Ctrl-C, or the end of --file).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Send one record per line of this file (`-` = stdin; lines end at `\n`, `\r\n` or `\r`,
    /// as the text source splits them) instead of synthetic tweets.
    #[arg(long, value_name = "PATH")]
    pub file: Option<String>,
    /// The synthetic tweets' seed (tweet `i` of a seed is always the same).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

fn parse_rate(s: &str) -> std::result::Result<f64, String> {
    let n = s.trim().trim_end_matches("/s").trim();
    match n.parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!(
            "invalid --rate '{s}': expected records per second such as 100/s"
        )),
    }
}

/// Where the records come from.
enum Feed {
    Lines(Vec<Vec<u8>>),
    Tweets(TweetGenerator),
}

impl Feed {
    fn record(&self, i: u64) -> Option<Vec<u8>> {
        match self {
            Feed::Lines(lines) => lines.get(i as usize).cloned(),
            Feed::Tweets(g) => Some(g.tweet(i).into_bytes()),
        }
    }
}

/// Sends the records; returns the exit code (130 after Ctrl-C).
pub async fn run(args: ProduceArgs) -> Result<u8> {
    let (feed, rate) = match &args.file {
        Some(path) => {
            let bytes = if path == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
                    .map_err(|e| Error::io("reading stdin", e))?;
                buf
            } else {
                std::fs::read(path)
                    .map_err(|e| Error::Usage(format!("--file '{path}': cannot read it: {e}")))?
            };
            let lines = split_lines(&bytes).map(<[u8]>::to_vec).collect();
            (Feed::Lines(lines), args.rate)
        }
        None => (
            Feed::Tweets(TweetGenerator::new(args.seed)),
            args.rate.or(Some(10.0)),
        ),
    };
    let producer: FutureProducer = bootstrap_config(&args.bootstrap_servers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        // Large lines (a 1 MB tweet dump) are one record each.
        .set("message.max.bytes", "16777216")
        // A broker that is down fails the command in half a minute, not librdkafka's five.
        .set("message.timeout.ms", "30000")
        .create()
        .map_err(|e| kafka_error(format!("connecting to '{}'", args.bootstrap_servers), e))?;
    let progress = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut pending: VecDeque<DeliveryFuture> = VecDeque::new();
    let (mut sent, mut bytes) = (0u64, 0u64);
    let mut last_report = Instant::now();
    let mut interrupted = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        if args.count.is_some_and(|c| sent >= c) {
            break;
        }
        let Some(value) = feed.record(sent) else {
            break;
        };
        if let Some(rate) = rate {
            let due = started + Duration::from_secs_f64(sent as f64 / rate);
            tokio::select! {
                _ = tokio::time::sleep_until(due.into()) => {}
                _ = &mut ctrl_c => { interrupted = true; break; }
            }
        }
        let mut record: FutureRecord<'_, [u8], [u8]> =
            FutureRecord::to(&args.topic).payload(value.as_slice());
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push_back(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    if let Some(d) = pending.pop_front() {
                        delivered(&args, d).await?;
                    }
                }
                Err((e, _)) => {
                    return Err(kafka_error(format!("sending to topic '{}'", args.topic), e));
                }
            }
        }
        sent += 1;
        bytes += value.len() as u64;
        if progress && last_report.elapsed() >= Duration::from_millis(200) {
            last_report = Instant::now();
            eprint!("\r{}", summary(sent, bytes, started.elapsed()));
            let _ = std::io::stderr().flush();
        }
        // Keep the acknowledgements from piling up.
        while pending.len() > 10_000 {
            if let Some(d) = pending.pop_front() {
                delivered(&args, d).await?;
            }
        }
    }
    for d in pending {
        delivered(&args, d).await?;
    }
    if progress {
        eprint!("\r");
    }
    eprintln!(
        "{} to topic '{}' on {}",
        summary(sent, bytes, started.elapsed()),
        args.topic,
        args.bootstrap_servers
    );
    Ok(if interrupted { 130 } else { 0 })
}

async fn delivered(args: &ProduceArgs, delivery: DeliveryFuture) -> Result<()> {
    let context = || {
        format!(
            "delivering to topic '{}' on {}",
            args.topic, args.bootstrap_servers
        )
    };
    match delivery.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(kafka_error(context(), e)),
        Err(e) => Err(Error::Kafka {
            context: format!(
                "{}: the producer closed before the broker answered",
                context()
            ),
            cause: Box::new(e),
        }),
    }
}

fn summary(records: u64, bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    format!(
        "produced {records} records ({}) in {:.1} s ({:.0} records/s)",
        human_bytes(bytes),
        elapsed.as_secs_f64(),
        records as f64 / secs
    )
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rates_and_sizes_read_naturally() {
        assert_eq!(parse_rate("100/s").unwrap(), 100.0);
        assert_eq!(parse_rate("2.5").unwrap(), 2.5);
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").unwrap_err().contains("--rate 'fast'"));
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(
            summary(10, 2048, Duration::from_secs(2)),
            "produced 10 records (2.0 KiB) in 2.0 s (5 records/s)"
        );
    }
}
