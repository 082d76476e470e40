//! The `kafka` source's rows in Spark's schema: [`kafka_schema`] (key, value, topic,
//! partition, offset, timestamp, timestampType and optional headers) and the builder that turns
//! received records into those columns.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryBuilder, Int32Builder, Int64Builder, ListBuilder, StringBuilder, StructBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use super::reader::Record;
use kindling_core::error::Result;

/// The Kafka source's schema in Spark's column order: key, value, topic, partition, offset,
/// timestamp, timestampType, and `headers` with `includeHeaders`.
pub fn kafka_schema(include_headers: bool) -> SchemaRef {
    let mut fields = vec![
        Field::new("key", DataType::Binary, true),
        Field::new("value", DataType::Binary, true),
        Field::new("topic", DataType::Utf8, false),
        Field::new("partition", DataType::Int32, false),
        Field::new("offset", DataType::Int64, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("timestampType", DataType::Int32, false),
    ];
    if include_headers {
        fields.push(Field::new(
            "headers",
            DataType::List(Arc::new(Field::new_list_field(
                DataType::Struct(header_fields()),
                true,
            ))),
            true,
        ));
    }
    Arc::new(Schema::new(fields))
}

pub(super) fn header_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, true),
        Field::new("value", DataType::Binary, true),
    ])
}

/// Builds the source's Arrow columns from records.
pub(super) struct RowsBuilder {
    key: BinaryBuilder,
    value: BinaryBuilder,
    topic: StringBuilder,
    partition: Int32Builder,
    offset: Int64Builder,
    timestamp: TimestampMicrosecondBuilder,
    timestamp_type: Int32Builder,
    headers: Option<ListBuilder<StructBuilder>>,
}

impl RowsBuilder {
    pub(super) fn new(include_headers: bool) -> Self {
        RowsBuilder {
            key: BinaryBuilder::new(),
            value: BinaryBuilder::new(),
            topic: StringBuilder::new(),
            partition: Int32Builder::new(),
            offset: Int64Builder::new(),
            timestamp: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            timestamp_type: Int32Builder::new(),
            headers: include_headers
                .then(|| ListBuilder::new(StructBuilder::from_fields(header_fields(), 0))),
        }
    }

    pub(super) fn extend(&mut self, topic: &str, partition: i32, records: Vec<&Record>) {
        for r in records {
            self.key.append_option(r.key.as_deref());
            self.value.append_option(r.value.as_deref());
            self.topic.append_value(topic);
            self.partition.append_value(partition);
            self.offset.append_value(r.offset);
            self.timestamp
                .append_value(r.timestamp_ms.saturating_mul(1000));
            self.timestamp_type.append_value(r.timestamp_type);
            if let Some(list) = &mut self.headers {
                let entries = list.values();
                for (k, v) in r.headers.iter().flatten() {
                    if let Some(b) = entries.field_builder::<StringBuilder>(0) {
                        b.append_value(k);
                    }
                    if let Some(b) = entries.field_builder::<BinaryBuilder>(1) {
                        b.append_option(v.as_deref());
                    }
                    entries.append(true);
                }
                list.append(true);
            }
        }
    }

    pub(super) fn finish(mut self, schema: SchemaRef) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.key.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.topic.finish()),
            Arc::new(self.partition.finish()),
            Arc::new(self.offset.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.timestamp_type.finish()),
        ];
        if let Some(mut headers) = self.headers {
            columns.push(Arc::new(headers.finish()));
        }
        Ok(RecordBatch::try_new(schema, columns)?)
    }
}
