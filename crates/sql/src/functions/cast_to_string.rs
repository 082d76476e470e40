//! `CAST(x AS STRING)` where Spark's text is not arrow's: a binary's invalid UTF-8 becomes
//! U+FFFD instead of an error (a Kafka value is arbitrary bytes), a timestamp reads
//! `2024-01-01 10:00:00.5` (arrow: `2024-01-01T10:00:00.500`).
//! [`super::super::rewrite_string_casts`] puts this function where the query casts to a string.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryViewArray, StringViewArray, StringViewBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// A binary or a timestamp to Spark's string.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkCastToString {
    signature: Signature,
}

impl Default for SparkCastToString {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkCastToString {
    /// The UDF.
    pub fn new() -> Self {
        SparkCastToString {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The name the rewrite calls it by.
pub const NAME: &str = "kindling_cast_to_string";

impl ScalarUDFImpl for SparkCastToString {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8View)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [
                DataType::Binary
                | DataType::LargeBinary
                | DataType::BinaryView
                | DataType::FixedSizeBinary(_),
            ] => Ok(vec![DataType::BinaryView]),
            [t @ DataType::Timestamp(..)] => Ok(vec![t.clone()]),
            other => plan_err!("{NAME} expects one binary or timestamp argument, got {other:?}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let result: ArrayRef = if let DataType::Timestamp(..) = arrays[0].data_type() {
            let mut builder = StringViewBuilder::with_capacity(arrays[0].len());
            let mut text = String::new();
            for i in 0..arrays[0].len() {
                if arrays[0].is_null(i) {
                    builder.append_null();
                } else {
                    text.clear();
                    kindling_core::spark_text::write_cell(arrays[0].as_ref(), i, &mut text);
                    builder.append_value(&text);
                }
            }
            Arc::new(builder.finish())
        } else {
            let binary = cast(&arrays[0], &DataType::BinaryView)?;
            Arc::new(to_strings(binary.as_binary_view()))
        };
        super::columnar(result, scalar)
    }
}

/// Reinterprets the views when every value is valid UTF-8 (no copy); otherwise decodes each
/// value lossily.
fn to_strings(binary: &BinaryViewArray) -> StringViewArray {
    let all_valid = (0..binary.len())
        .all(|i| binary.is_null(i) || std::str::from_utf8(binary.value(i)).is_ok());
    if all_valid {
        // SAFETY: same layout, and every non-null value was just checked to be UTF-8.
        return unsafe {
            StringViewArray::new_unchecked(
                binary.views().clone(),
                binary.data_buffers().to_vec(),
                binary.nulls().cloned(),
            )
        };
    }
    let mut builder = StringViewBuilder::with_capacity(binary.len());
    for i in 0..binary.len() {
        if binary.is_null(i) {
            builder.append_null();
        } else {
            builder.append_value(String::from_utf8_lossy(binary.value(i)));
        }
    }
    builder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let input = BinaryViewArray::from(vec![
            Some(b"#ok".as_ref()),
            None,
            Some(b"#a\xffb and then some more bytes".as_ref()),
        ]);
        let out = to_strings(&input);
        assert_eq!(out.value(0), "#ok");
        assert!(out.is_null(1));
        assert_eq!(out.value(2), "#a\u{FFFD}b and then some more bytes");
        let valid = to_strings(&BinaryViewArray::from(vec![
            b"a long enough valid value".as_ref(),
        ]));
        assert_eq!(valid.value(0), "a long enough valid value");
    }
}
