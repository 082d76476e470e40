//! Spark's `initcap(str)`: lower-cases the string, then upper-cases (title-cases) the first
//! character and every character after a space (`' '` only: `a,b c` is `A,b C`, where
//! DataFusion's `initcap` would also capitalize after the comma); NULL for NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::plan_err;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// Spark-compatible `initcap` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#initcap>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkInitcap {
    signature: Signature,
}

impl Default for SparkInitcap {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkInitcap {
    /// The `initcap` UDF.
    pub fn new() -> Self {
        SparkInitcap {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for SparkInitcap {
    fn name(&self) -> &str {
        "initcap"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [_] => Ok(vec![DataType::Utf8]),
            other => plan_err!(
                "Spark `initcap` function takes 1 argument, got {}",
                other.len()
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::all_scalar(&args.args);
        let values = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Utf8)?;
        let values = values.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(values.len(), values.value_data().len());
        let mut text = String::new();
        for i in 0..values.len() {
            if values.is_null(i) {
                out.append_null();
                continue;
            }
            text.clear();
            initcap(values.value(i), &mut text);
            out.append_value(&text);
        }
        let result: ArrayRef = Arc::new(out.finish());
        super::columnar(result, scalar)
    }
}

/// Spark's `UTF8String.toLowerCase().toTitleCase()`: the first character and each one after
/// a space in title case, the others in lower case.
fn initcap(value: &str, out: &mut String) {
    let mut after_space = true;
    for c in value.to_lowercase().chars() {
        if after_space {
            out.extend(title_case(c));
        } else {
            out.push(c);
        }
        after_space = c == ' ';
    }
}

/// The title case of `c`: the digraphs' own title forms (`ǆ` is `ǅ`), else its upper case.
fn title_case(c: char) -> Vec<char> {
    let titled = match c {
        'Ǆ' | 'ǅ' | 'ǆ' => Some('ǅ'),
        'Ǉ' | 'ǈ' | 'ǉ' => Some('ǈ'),
        'Ǌ' | 'ǋ' | 'ǌ' => Some('ǋ'),
        'Ǳ' | 'ǲ' | 'ǳ' => Some('ǲ'),
        _ => None,
    };
    if let Some(t) = titled {
        return vec![t];
    }
    // A character whose upper case is several (`ß` is `SS`) is title-cased as the first of
    // them followed by the rest in lower case (`Ss`), as Spark's ICU title case gives it.
    let mut upper = c.to_uppercase();
    let mut out: Vec<char> = upper.next().into_iter().collect();
    out.extend(upper.flat_map(char::to_lowercase));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(s: &str) -> String {
        let mut out = String::new();
        initcap(s, &mut out);
        out
    }

    #[test]
    fn capitalizes_only_after_spaces() {
        assert_eq!(cap("a,b,,c"), "A,b,,c");
        assert_eq!(cap("hELLO wORLD"), "Hello World");
        assert_eq!(cap("  two  spaces"), "  Two  Spaces");
        assert_eq!(cap("tab\tsep x-y"), "Tab\tsep X-y");
        assert_eq!(cap("ǆemal straße"), "ǅemal Straße");
        assert_eq!(cap("ß ﬁx"), "Ss Fix");
    }
}
