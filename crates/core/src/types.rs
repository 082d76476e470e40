//! Spark's view of Arrow types: [`spark_type_name`], a type as Spark prints it
//! (`DataType.simpleString`: `string`, `bigint`, `array<string>`, `struct<a:int,b:string>`),
//! and the kinds of types functions accept.

use arrow::datatypes::DataType;

/// Spark's `simpleString` of the Spark type an Arrow type stands for.
pub fn spark_type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Null => "void".to_string(),
        DataType::Boolean => "boolean".to_string(),
        DataType::Int8 | DataType::UInt8 => "tinyint".to_string(),
        DataType::Int16 | DataType::UInt16 => "smallint".to_string(),
        DataType::Int32 | DataType::UInt32 => "int".to_string(),
        DataType::Int64 | DataType::UInt64 => "bigint".to_string(),
        DataType::Float16 | DataType::Float32 => "float".to_string(),
        DataType::Float64 => "double".to_string(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".to_string(),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "binary".to_string(),
        DataType::Date32 | DataType::Date64 => "date".to_string(),
        DataType::Timestamp(_, Some(_)) => "timestamp".to_string(),
        DataType::Timestamp(_, None) => "timestamp_ntz".to_string(),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => format!("array<{}>", spark_type_name(f.data_type())),
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), spark_type_name(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "map<{},{}>",
                spark_type_name(kv[0].data_type()),
                spark_type_name(kv[1].data_type())
            ),
            other => format!("map<{}>", spark_type_name(other)),
        },
        DataType::Dictionary(_, value) => spark_type_name(value),
        DataType::Duration(_) | DataType::Interval(_) => "interval".to_string(),
        other => other.to_string().to_lowercase(),
    }
}

/// Whether a value of type `t` is a string or a binary: bytes to a Kafka record or a digest.
pub fn is_string_or_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{Field, Fields, TimeUnit};

    use super::*;

    #[test]
    fn arrow_types_print_as_spark_names() {
        assert_eq!(spark_type_name(&DataType::Utf8View), "string");
        assert_eq!(spark_type_name(&DataType::Int64), "bigint");
        assert_eq!(
            spark_type_name(&DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            )),
            "timestamp"
        );
        let list = DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
        assert_eq!(spark_type_name(&list), "array<string>");
        let st = DataType::Struct(Fields::from(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", list, true),
        ]));
        assert_eq!(spark_type_name(&st), "struct<a:int,b:array<string>>");
        assert_eq!(
            spark_type_name(&DataType::Decimal128(10, 2)),
            "decimal(10,2)"
        );
    }
}
