//! The `kafka` sink (Spark's `KafkaSink`): each result row becomes one record from its
//! `value` column (string or binary, required) and the optional `key`, `topic`, `partition`
//! and `headers` columns, sent by an idempotent producer.
//!
//! At-least-once, as in Spark: a batch replayed after a crash is sent again, so a reader may
//! see its records twice. A batch commits only after the broker acknowledged all its records;
//! a delivery error fails the batch with the broker's message.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, AsArray, BinaryArray, Int32Array, ListArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

use super::Sink;
use kindling_core::error::{Error, Result};
use kindling_core::options::Options;
use kindling_core::output_mode::OutputMode;
use kindling_kafka::{Role, client_config, kafka_error};

/// The `kafka` sink.
pub struct KafkaSink {
    producer: FutureProducer,
    topic: Option<String>,
    description: String,
}

impl std::fmt::Debug for KafkaSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSink")
            .field("topic", &self.topic)
            .finish()
    }
}

const OPTIONS: &[&str] = &["topic", "includeHeaders", "checkpointLocation"];

impl KafkaSink {
    /// Checks the result schema as Spark's `KafkaWriter.validateQuery` does and creates the
    /// producer.
    pub fn try_new(options: &Options, schema: &SchemaRef) -> Result<Self> {
        let mut known: Vec<String> = OPTIONS.iter().map(|s| s.to_string()).collect();
        known.extend(
            options
                .iter()
                .map(|(k, _)| k.to_string())
                .filter(|k| k.to_ascii_lowercase().starts_with("kafka.")),
        );
        options.warn_unknown(&known.iter().map(String::as_str).collect::<Vec<_>>());
        let topic = options
            .get("topic")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        validate_schema(schema, topic.is_some()).map_err(|m| options.invalid("topic", m))?;
        let mut config = client_config(options, Role::Sink)?;
        config.set("enable.idempotence", "true");
        let producer: FutureProducer = config
            .create()
            .map_err(|e| kafka_error("creating the Kafka producer", e))?;
        let description = format!("KafkaSink[{}]", topic.as_deref().unwrap_or("topic column"));
        Ok(KafkaSink {
            producer,
            topic,
            description,
        })
    }
}

/// Spark's checks of the columns a Kafka sink writes, with Spark's messages.
fn validate_schema(schema: &Schema, has_topic_option: bool) -> std::result::Result<(), String> {
    let find = |name: &str| {
        schema
            .fields()
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    };
    let is_bytes = kindling_core::types::is_string_or_binary;
    match find("topic") {
        None if !has_topic_option => {
            return Err("topic option required when no 'topic' attribute is present. Use the topic option for setting a topic.".to_string());
        }
        Some(f)
            if !matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            return Err(format!(
                "topic attribute type must be a string, not {}",
                f.data_type()
            ));
        }
        _ => {}
    }
    match find("value") {
        None => return Err("Required attribute 'value' not found".to_string()),
        Some(f) if !is_bytes(f.data_type()) => {
            return Err(format!(
                "value attribute type must be a string or binary, not {}",
                f.data_type()
            ));
        }
        _ => {}
    }
    if let Some(f) = find("key")
        && !is_bytes(f.data_type())
    {
        return Err(format!(
            "key attribute type must be a string or binary, not {}",
            f.data_type()
        ));
    }
    if let Some(f) = find("partition")
        && !matches!(f.data_type(), DataType::Int32 | DataType::Int64)
    {
        return Err(format!(
            "partition attribute type must be an int, not {}",
            f.data_type()
        ));
    }
    if let Some(f) = find("headers")
        && !matches!(f.data_type(), DataType::List(_))
    {
        return Err(format!(
            "headers attribute type must be an array<struct<key:string,value:binary>>, not {}",
            f.data_type()
        ));
    }
    Ok(())
}

/// A batch's columns, cast to the types the producer sends.
struct Columns {
    value: BinaryArray,
    key: Option<BinaryArray>,
    topic: Option<StringArray>,
    partition: Option<Int32Array>,
    headers: Option<ListArray>,
}

fn columns(batch: &RecordBatch) -> Result<Columns> {
    let find = |name: &str| {
        batch
            .schema()
            .fields()
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(name))
            .map(|i| Arc::clone(batch.column(i)))
    };
    let binary = |a: Option<Arc<dyn Array>>| -> Result<Option<BinaryArray>> {
        a.map(|a| Ok(cast(&a, &DataType::Binary)?.as_binary::<i32>().clone()))
            .transpose()
    };
    let value = binary(find("value"))?.ok_or_else(|| Error::Sink {
        sink: "kafka".to_string(),
        message: "Required attribute 'value' not found".to_string(),
        cause: None,
    })?;
    Ok(Columns {
        value,
        key: binary(find("key"))?,
        topic: find("topic")
            .map(|a| Ok::<_, Error>(cast(&a, &DataType::Utf8)?.as_string::<i32>().clone()))
            .transpose()?,
        partition: find("partition")
            .map(|a| {
                Ok::<_, Error>(
                    cast(&a, &DataType::Int32)?
                        .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
                        .clone(),
                )
            })
            .transpose()?,
        headers: find("headers").and_then(|a| a.as_list_opt::<i32>().cloned()),
    })
}

fn headers_of(list: &ListArray, row: usize) -> Option<OwnedHeaders> {
    if list.is_null(row) {
        return None;
    }
    let entries = list.value(row);
    let entries = entries.as_struct_opt()?;
    let keys = cast(entries.column(0), &DataType::Utf8).ok()?;
    let keys = keys.as_string::<i32>();
    let values = cast(entries.column(1), &DataType::Binary).ok()?;
    let values = values.as_binary::<i32>();
    let mut headers = OwnedHeaders::new_with_capacity(entries.len());
    for i in 0..entries.len() {
        headers = headers.insert(Header {
            key: keys.value(i),
            value: (!values.is_null(i)).then(|| values.value(i)),
        });
    }
    Some(headers)
}

#[async_trait]
impl Sink for KafkaSink {
    fn name(&self) -> &str {
        &self.description
    }

    async fn add_batch(
        &self,
        batch_id: u64,
        _output_mode: OutputMode,
        batches: &[RecordBatch],
    ) -> Result<()> {
        // Records are queued without waiting; the acknowledgements are awaited at the end
        // (or, when the client's queue is full, the oldest first to make room).
        let mut pending: VecDeque<(String, DeliveryFuture)> = VecDeque::new();
        for batch in batches {
            let cols = columns(batch)?;
            for row in 0..batch.num_rows() {
                let topic = match (&self.topic, &cols.topic) {
                    (Some(t), _) => t.as_str(),
                    (None, Some(t)) if !t.is_null(row) => t.value(row),
                    _ => {
                        return Err(Error::Sink {
                            sink: self.description.clone(),
                            message: format!(
                                "batch {batch_id}: row {row} has a null topic; set the topic option or fill the topic column"
                            ),
                            cause: None,
                        });
                    }
                };
                let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
                if !cols.value.is_null(row) {
                    record = record.payload(cols.value.value(row));
                }
                if let Some(k) = cols.key.as_ref().filter(|k| !k.is_null(row)) {
                    record = record.key(k.value(row));
                }
                if let Some(p) = cols.partition.as_ref().filter(|p| !p.is_null(row)) {
                    record = record.partition(p.value(row));
                }
                if let Some(h) = cols.headers.as_ref().and_then(|h| headers_of(h, row)) {
                    record = record.headers(h);
                }
                loop {
                    match self.producer.send_result(record) {
                        Ok(delivery) => {
                            pending.push_back((topic.to_string(), delivery));
                            break;
                        }
                        Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                            record = r;
                            match pending.pop_front() {
                                Some((t, d)) => acknowledged(batch_id, &t, d).await?,
                                None => tokio::time::sleep(Duration::from_millis(5)).await,
                            }
                        }
                        Err((e, _)) => {
                            return Err(kafka_error(
                                format!("batch {batch_id}: sending to topic '{topic}'"),
                                e,
                            ));
                        }
                    }
                }
            }
        }
        for (topic, delivery) in pending {
            acknowledged(batch_id, &topic, delivery).await?;
        }
        Ok(())
    }
}

/// Waits for one record's acknowledgement; a delivery error fails the batch.
async fn acknowledged(batch_id: u64, topic: &str, delivery: DeliveryFuture) -> Result<()> {
    let context = || format!("batch {batch_id}: delivering to topic '{topic}'");
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Field;

    #[test]
    fn schema_checks_read_like_sparks() {
        let schema = |fields: Vec<Field>| Schema::new(fields);
        assert_eq!(
            validate_schema(&schema(vec![Field::new("value", DataType::Utf8, true)]), false),
            Err("topic option required when no 'topic' attribute is present. Use the topic option for setting a topic.".to_string())
        );
        assert_eq!(
            validate_schema(&schema(vec![Field::new("v", DataType::Utf8, true)]), true),
            Err("Required attribute 'value' not found".to_string())
        );
        assert!(
            validate_schema(
                &schema(vec![Field::new("value", DataType::Int64, true)]),
                true
            )
            .is_err_and(|m| m.starts_with("value attribute type must be a string or binary"))
        );
        assert_eq!(
            validate_schema(
                &schema(vec![
                    Field::new("key", DataType::Binary, true),
                    Field::new("value", DataType::Utf8View, true),
                    Field::new("topic", DataType::Utf8, true),
                ]),
                false
            ),
            Ok(())
        );
    }
}
