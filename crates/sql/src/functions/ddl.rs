//! Spark's DDL schema strings (`"tag STRING, n INT, tags ARRAY<STRING>"`), as `from_json`
//! takes them, parsed into Arrow fields.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use datafusion::common::plan_err;
use datafusion::error::Result;

/// Parses `name TYPE, ...` (optionally wrapped in `STRUCT<...>`).
pub fn parse_schema(ddl: &str) -> Result<Fields> {
    let text = ddl.trim();
    let upper = text.to_ascii_uppercase();
    let inner = if upper.starts_with("STRUCT<") && text.ends_with('>') {
        &text[7..text.len() - 1]
    } else {
        text
    };
    let mut fields = Vec::new();
    for part in split_top_level(inner) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, ty) = split_name(part).ok_or_else(|| {
            datafusion::error::DataFusionError::Plan(format!(
                "invalid schema '{ddl}': expected `name TYPE` pairs, found '{part}'"
            ))
        })?;
        fields.push(Field::new(name, parse_type(ty, ddl)?, true));
    }
    if fields.is_empty() {
        return plan_err!("invalid schema '{ddl}': no fields");
    }
    Ok(Fields::from(fields))
}

fn split_name(part: &str) -> Option<(String, &str)> {
    if let Some(rest) = part.strip_prefix('`') {
        let end = rest.find('`')?;
        let ty = rest[end + 1..].trim_start_matches(':').trim();
        return Some((rest[..end].to_string(), ty));
    }
    let end = part.find(|c: char| c.is_whitespace() || c == ':')?;
    let ty = part[end..].trim_start().trim_start_matches(':').trim();
    Some((part[..end].to_string(), ty))
}

fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn parse_type(ty: &str, ddl: &str) -> Result<DataType> {
    let upper = ty.trim().to_ascii_uppercase();
    let simple = match upper.as_str() {
        "STRING" | "VARCHAR" | "TEXT" => Some(DataType::Utf8),
        "INT" | "INTEGER" => Some(DataType::Int32),
        "BIGINT" | "LONG" => Some(DataType::Int64),
        "SMALLINT" | "SHORT" => Some(DataType::Int16),
        "TINYINT" | "BYTE" => Some(DataType::Int8),
        "DOUBLE" => Some(DataType::Float64),
        "FLOAT" | "REAL" => Some(DataType::Float32),
        "BOOLEAN" => Some(DataType::Boolean),
        "DATE" => Some(DataType::Date32),
        "TIMESTAMP" => Some(DataType::Timestamp(TimeUnit::Microsecond, None)),
        "BINARY" => Some(DataType::Binary),
        _ => None,
    };
    if let Some(t) = simple {
        return Ok(t);
    }
    let ty = ty.trim();
    if upper.starts_with("ARRAY<") && ty.ends_with('>') {
        let item = parse_type(&ty[6..ty.len() - 1], ddl)?;
        return Ok(DataType::List(Arc::new(Field::new_list_field(item, true))));
    }
    if upper.starts_with("STRUCT<") && ty.ends_with('>') {
        return Ok(DataType::Struct(parse_schema(ty)?));
    }
    plan_err!("invalid schema '{ddl}': unsupported type '{ty}'")
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn parses_nested_ddl() {
        let f = parse_schema(
            "tag STRING, n INT, tags ARRAY<STRING>, user STRUCT<id: BIGINT, `the name` STRING>",
        )
        .unwrap();
        assert_eq!(f.len(), 4);
        assert_eq!(f[1].data_type(), &DataType::Int32);
        let DataType::Struct(inner) = f[3].data_type() else {
            panic!()
        };
        assert_eq!(inner[1].name(), "the name");
        assert!(parse_schema("tag WIDGET").is_err());
    }
}
