//! Spark's `from_json(json, schema)` for DDL schemas: one struct per row, converted field by
//! field as Spark's default PERMISSIVE mode does (a field that does not fit its type is NULL,
//! the others are kept; text that is not a JSON object gives a struct of NULLs).

use std::sync::Arc;

use std::collections::HashMap;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, BooleanBuilder, Date32Builder, Float32Builder,
    Float64Builder, Int8Builder, Int16Builder, Int32Builder, Int64Builder, ListArray,
    NullBufferBuilder, StringArray, StringBuilder, StructArray, TimestampMicrosecondBuilder,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, TimeUnit};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use serde_json::value::RawValue;

use super::ddl::parse_schema;

/// Spark-compatible `from_json` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#from_json>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkFromJson {
    signature: Signature,
}

impl Default for SparkFromJson {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkFromJson {
    /// The `from_json` UDF.
    pub fn new() -> Self {
        SparkFromJson {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn schema_literal(value: Option<&ScalarValue>) -> Option<&str> {
    match value {
        Some(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
        ) => Some(s.as_str()),
        _ => None,
    }
}

impl ScalarUDFImpl for SparkFromJson {
    fn name(&self) -> &str {
        "from_json"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return plan_err!(
                "Spark `from_json` function requires 2 arguments (json, schema), got {}",
                arg_types.len()
            );
        }
        Ok(vec![DataType::Utf8, DataType::Utf8])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        plan_err!("from_json needs its schema argument")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let Some(ddl) = args
            .scalar_arguments
            .get(1)
            .and_then(|v| schema_literal(*v))
        else {
            return plan_err!(
                "Spark `from_json` function needs its schema as a string literal, e.g. 'tag STRING, n INT'"
            );
        };
        Ok(Arc::new(Field::new(
            self.name(),
            DataType::Struct(parse_schema(ddl)?),
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let DataType::Struct(fields) = args.return_field.data_type().clone() else {
            return exec_err!("from_json: unexpected return type");
        };
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let text = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Utf8)?;
        let text = text.as_string::<i32>();
        let result = decode(text, &fields)?;
        super::columnar(result, scalar)
    }
}

/// Decodes each row into a struct of `fields` (see [`Column`] for each type's rules): NULL
/// for NULL or blank text, every field NULL for text that is not JSON or not an object.
fn decode(text: &datafusion::arrow::array::StringArray, fields: &Fields) -> Result<ArrayRef> {
    let mut root = Column::try_new(&DataType::Struct(fields.clone()))?;
    for i in 0..text.len() {
        if text.is_null(i) || text.value(i).trim().is_empty() {
            root.append(None, false);
            continue;
        }
        // Spark reads the first JSON value of the text and ignores what follows it; its
        // parser also takes single-quoted strings and NaN/Infinity tokens, which are
        // rewritten into standard JSON when the text does not parse as it is.
        let strict = text.value(i);
        let relaxed;
        let json = match first_value(strict) {
            Some(_) => strict,
            None => match lenient(strict) {
                Some(rewritten) => {
                    relaxed = rewritten;
                    relaxed.as_str()
                }
                None => strict,
            },
        };
        match first_value(json) {
            Some(value) if value.get().starts_with('{') => root.append(Some(value), false),
            // Malformed or not an object: Spark's PERMISSIVE mode gives a row of NULLs.
            _ => root.append(None, true),
        }
    }
    root.finish()
}

/// The first JSON value of `text`.
fn first_value(text: &str) -> Option<&RawValue> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<&RawValue>()
        .next()?
        .ok()
}

/// `text` with what Jackson accepts under Spark's JSON options and standard JSON does not,
/// rewritten into standard JSON: single-quoted strings (`allowSingleQuotes`) become
/// double-quoted, and the tokens `NaN`, `Infinity`, `+INF`, ... (`allowNonNumericNumbers`)
/// become strings, which the number and string conversions read as Jackson would. `None`
/// when there is nothing of the kind.
fn lenient(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    let mut changed = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == '\\' {
                        out.extend(chars.next());
                    } else if d == '"' {
                        break;
                    }
                }
            }
            '\'' => {
                changed = true;
                out.push('"');
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => match chars.next() {
                            Some('\'') => out.push('\''),
                            Some(e) => {
                                out.push('\\');
                                out.push(e);
                            }
                            None => {}
                        },
                        '"' => out.push_str("\\\""),
                        '\'' => break,
                        d => out.push(d),
                    }
                }
                out.push('"');
            }
            c if c == '+' || c == '-' || c.is_ascii_alphabetic() => {
                let mut word = String::from(c);
                while let Some(&d) = chars.peek() {
                    if !d.is_ascii_alphanumeric() {
                        break;
                    }
                    word.push(d);
                    chars.next();
                }
                if matches!(
                    word.as_str(),
                    "NaN" | "Infinity" | "+Infinity" | "-Infinity" | "INF" | "+INF" | "-INF"
                ) {
                    changed = true;
                    out.push('"');
                    out.push_str(&word);
                    out.push('"');
                } else {
                    out.push_str(&word);
                }
            }
            c => out.push(c),
        }
    }
    changed.then_some(out)
}

/// The Arrow column of one Spark type, appended to one JSON value at a time with Spark's
/// conversions (`JacksonParser`): a value that does not fit its type (a string for a number,
/// `2147483648` for an INT, `1.5` for an INT) is NULL; a struct keeps its other fields (Spark's
/// partial results); an array with an element that does not fit is NULL as a whole.
enum Column {
    Boolean(BooleanBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Utf8(StringBuilder),
    Binary(BinaryBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    List {
        field: FieldRef,
        offsets: Vec<i32>,
        validity: NullBufferBuilder,
        child: Box<Column>,
    },
    Struct {
        fields: Fields,
        children: Vec<Column>,
        validity: NullBufferBuilder,
    },
}

impl Column {
    fn try_new(data_type: &DataType) -> Result<Self> {
        Ok(match data_type {
            DataType::Boolean => Column::Boolean(BooleanBuilder::new()),
            DataType::Int8 => Column::Int8(Int8Builder::new()),
            DataType::Int16 => Column::Int16(Int16Builder::new()),
            DataType::Int32 => Column::Int32(Int32Builder::new()),
            DataType::Int64 => Column::Int64(Int64Builder::new()),
            DataType::Float32 => Column::Float32(Float32Builder::new()),
            DataType::Float64 => Column::Float64(Float64Builder::new()),
            DataType::Utf8 => Column::Utf8(StringBuilder::new()),
            DataType::Binary => Column::Binary(BinaryBuilder::new()),
            DataType::Date32 => Column::Date(Date32Builder::new()),
            DataType::Timestamp(TimeUnit::Microsecond, None) => {
                Column::Timestamp(TimestampMicrosecondBuilder::new())
            }
            DataType::List(field) => Column::List {
                field: Arc::clone(field),
                offsets: vec![0],
                validity: NullBufferBuilder::new(0),
                child: Box::new(Column::try_new(field.data_type())?),
            },
            DataType::Struct(fields) => Column::Struct {
                fields: fields.clone(),
                children: fields
                    .iter()
                    .map(|f| Column::try_new(f.data_type()))
                    .collect::<Result<_>>()?,
                validity: NullBufferBuilder::new(0),
            },
            other => return exec_err!("from_json: unsupported type {other}"),
        })
    }

    /// Whether `value` (a JSON null included) converts to this type without failing.
    fn accepts(&self, value: &RawValue) -> bool {
        let text = value.get();
        if text == "null" {
            return true;
        }
        match self {
            Column::Boolean(_) => boolean(text).is_some(),
            Column::Int8(_) => byte(text).is_some(),
            Column::Int16(_) => integer::<i16>(text).is_some(),
            Column::Int32(_) => integer::<i32>(text).is_some(),
            Column::Int64(_) => integer::<i64>(text).is_some(),
            Column::Float32(_) | Column::Float64(_) => float(text).is_some(),
            Column::Utf8(_) => true,
            Column::Binary(_) => binary(text).is_some(),
            Column::Date(_) => date(text).is_some(),
            Column::Timestamp(_) => timestamp(text).is_some(),
            Column::List { child, .. } => {
                elements(text).is_some_and(|items| items.iter().all(|item| child.accepts(item)))
            }
            Column::Struct { .. } => text.starts_with('{'),
        }
    }

    /// Appends `value`; `None` (or a value that does not fit) appends NULL, except that a
    /// struct with `null_fields` is a struct whose fields are all NULL.
    fn append(&mut self, value: Option<&RawValue>, null_fields: bool) {
        let text = value.map(RawValue::get).filter(|t| *t != "null");
        match self {
            Column::Boolean(b) => b.append_option(text.and_then(boolean)),
            Column::Int8(b) => b.append_option(text.and_then(byte)),
            Column::Int16(b) => b.append_option(text.and_then(integer::<i16>)),
            Column::Int32(b) => b.append_option(text.and_then(integer::<i32>)),
            Column::Int64(b) => b.append_option(text.and_then(integer::<i64>)),
            Column::Float32(b) => b.append_option(text.and_then(float).map(|x| x as f32)),
            Column::Float64(b) => b.append_option(text.and_then(float)),
            Column::Utf8(b) => b.append_option(value.and_then(super::get_json_object::render)),
            Column::Binary(b) => b.append_option(text.and_then(binary)),
            Column::Date(b) => b.append_option(text.and_then(date)),
            Column::Timestamp(b) => b.append_option(text.and_then(timestamp)),
            Column::List {
                offsets,
                validity,
                child,
                ..
            } => {
                let items = text
                    .and_then(elements)
                    .filter(|items| items.iter().all(|item| child.accepts(item)));
                let last = offsets.last().copied().unwrap_or(0);
                match items {
                    Some(items) => {
                        for item in &items {
                            child.append(Some(item), false);
                        }
                        offsets.push(last + items.len() as i32);
                        validity.append_non_null();
                    }
                    None => {
                        offsets.push(last);
                        validity.append_null();
                    }
                }
            }
            Column::Struct {
                fields,
                children,
                validity,
            } => {
                let object: Option<HashMap<String, &RawValue>> = text
                    .filter(|t| t.starts_with('{'))
                    .and_then(|t| serde_json::from_str(t).ok());
                match object {
                    Some(object) => {
                        for (field, child) in fields.iter().zip(children.iter_mut()) {
                            child.append(object.get(field.name()).copied(), false);
                        }
                        validity.append_non_null();
                    }
                    None => {
                        for child in children.iter_mut() {
                            child.append(None, false);
                        }
                        if null_fields {
                            validity.append_non_null();
                        } else {
                            validity.append_null();
                        }
                    }
                }
            }
        }
    }

    fn finish(&mut self) -> Result<ArrayRef> {
        Ok(match self {
            Column::Boolean(b) => Arc::new(b.finish()),
            Column::Int8(b) => Arc::new(b.finish()),
            Column::Int16(b) => Arc::new(b.finish()),
            Column::Int32(b) => Arc::new(b.finish()),
            Column::Int64(b) => Arc::new(b.finish()),
            Column::Float32(b) => Arc::new(b.finish()),
            Column::Float64(b) => Arc::new(b.finish()),
            Column::Utf8(b) => Arc::new(b.finish()),
            Column::Binary(b) => Arc::new(b.finish()),
            Column::Date(b) => Arc::new(b.finish()),
            Column::Timestamp(b) => Arc::new(b.finish()),
            Column::List {
                field,
                offsets,
                validity,
                child,
            } => {
                let offsets = OffsetBuffer::new(std::mem::replace(offsets, vec![0]).into());
                Arc::new(ListArray::try_new(
                    Arc::clone(field),
                    offsets,
                    child.finish()?,
                    validity.finish(),
                )?)
            }
            Column::Struct {
                fields,
                children,
                validity,
            } => {
                let columns = children
                    .iter_mut()
                    .map(Column::finish)
                    .collect::<Result<Vec<_>>>()?;
                Arc::new(StructArray::try_new(
                    fields.clone(),
                    columns,
                    validity.finish(),
                )?)
            }
        })
    }
}

/// The elements of a JSON array.
fn elements(text: &str) -> Option<Vec<&RawValue>> {
    if !text.starts_with('[') {
        return None;
    }
    serde_json::from_str(text).ok()
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// An integer token that fits `T` (Jackson's `getIntValue` and friends fail otherwise).
fn integer<T: TryFrom<i128>>(text: &str) -> Option<T> {
    if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) || text.contains(['.', 'e', 'E'])
    {
        return None;
    }
    T::try_from(text.parse::<i128>().ok()?).ok()
}

/// A TINYINT as Jackson's `getByteValue` reads it: -128 to 255, the upper half wrapping
/// around (`200` is `-56`).
fn byte(text: &str) -> Option<i8> {
    let v = integer::<i16>(text)?;
    (-128..=255).contains(&v).then_some(v as u8 as i8)
}

/// A number, or one of the strings Spark reads as a special floating-point value.
fn float(text: &str) -> Option<f64> {
    if text.starts_with('"') {
        return match serde_json::from_str::<String>(text).ok()?.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" | "+Infinity" | "+INF" | "INF" => Some(f64::INFINITY),
            "-Infinity" | "-INF" => Some(f64::NEG_INFINITY),
            _ => None,
        };
    }
    if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A JSON string, unescaped.
fn string(text: &str) -> Option<String> {
    if !text.starts_with('"') {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// A base64 string (Jackson's `getBinaryValue`).
fn binary(text: &str) -> Option<Vec<u8>> {
    let encoded = string(text)?;
    let mut out = Vec::with_capacity(encoded.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0);
    for c in encoded.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

/// A date string, as a CAST to DATE reads it.
fn date(text: &str) -> Option<i32> {
    let value = string(text)?;
    let parsed = cast(&StringArray::from(vec![value]), &DataType::Date32).ok()?;
    let parsed = parsed.as_primitive::<datafusion::arrow::datatypes::Date32Type>();
    parsed.is_valid(0).then(|| parsed.value(0))
}

/// A timestamp string (as a CAST to TIMESTAMP reads it) or a number of seconds.
fn timestamp(text: &str) -> Option<i64> {
    if let Some(seconds) = integer::<i64>(text) {
        return seconds.checked_mul(1_000_000);
    }
    let value = string(text)?;
    let target = DataType::Timestamp(TimeUnit::Microsecond, None);
    let parsed = cast(&StringArray::from(vec![value]), &target).ok()?;
    let parsed = parsed.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
    parsed.is_valid(0).then(|| parsed.value(0))
}
