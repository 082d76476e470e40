//! Spark's `from_json(json, schema)` for DDL schemas: one struct per row, NULL for NULL or
//! malformed input (Spark's default PERMISSIVE mode).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StructArray, new_null_array};
use datafusion::arrow::compute::{cast, concat};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

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

fn decode(text: &datafusion::arrow::array::StringArray, fields: &Fields) -> Result<ArrayRef> {
    let schema = Arc::new(Schema::new(fields.clone()));
    let struct_type = DataType::Struct(fields.clone());
    let mut rows: Vec<ArrayRef> = Vec::with_capacity(text.len());
    for i in 0..text.len() {
        let row = if text.is_null(i) {
            None
        } else {
            one_row(Arc::clone(&schema), text.value(i))
        };
        rows.push(row.unwrap_or_else(|| new_null_array(&struct_type, 1)));
    }
    if rows.is_empty() {
        return Ok(new_null_array(&struct_type, 0));
    }
    let refs: Vec<&dyn Array> = rows.iter().map(|r| r.as_ref()).collect();
    Ok(concat(&refs)?)
}

/// Decodes one JSON object; `None` when it is not one.
fn one_row(schema: Arc<Schema>, json: &str) -> Option<ArrayRef> {
    let mut decoder = arrow_json::ReaderBuilder::new(schema)
        .build_decoder()
        .ok()?;
    let bytes = json.trim().as_bytes();
    if !bytes.starts_with(b"{") {
        return None;
    }
    let read = decoder.decode(bytes).ok()?;
    if read != bytes.len() {
        return None;
    }
    let batch = decoder.flush().ok()??;
    if batch.num_rows() != 1 {
        return None;
    }
    Some(Arc::new(StructArray::from(batch)))
}
