//! Spark's `split(str, regex[, limit])`: splits around matches of a Java-style regex, keeping
//! trailing empty strings (limit -1), with Spark's special case for an empty pattern.
//!
//! Works on string views: the parts are views into the input's buffers, so splitting copies
//! no string data (the tutorial's `explode(split(value, ' '))` is the hot path).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, ByteView, Int64Array, ListBuilder, MAX_INLINE_VIEW_LEN,
    StringViewBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use regex::Regex;

/// Spark-compatible `split` expression.
/// <https://spark.apache.org/docs/latest/api/sql/index.html#split>
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkSplit {
    signature: Signature,
}

impl Default for SparkSplit {
    fn default() -> Self {
        Self::new()
    }
}

impl SparkSplit {
    /// The `split` UDF.
    pub fn new() -> Self {
        SparkSplit {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn item_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8View, true)))
}

impl ScalarUDFImpl for SparkSplit {
    fn name(&self) -> &str {
        "split"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(item_type())
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&arg_types.len()) {
            return plan_err!(
                "Spark `split` function requires 2 or 3 arguments, got {}",
                arg_types.len()
            );
        }
        let mut types = vec![DataType::Utf8View, DataType::Utf8View];
        if arg_types.len() == 3 {
            types.push(DataType::Int64);
        }
        Ok(types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = super::all_scalar(&args.args);
        let pattern_scalar = match &args.args[1] {
            ColumnarValue::Scalar(s) => Some(s.clone()),
            ColumnarValue::Array(_) => None,
        };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let strings = cast(&arrays[0], &DataType::Utf8View)?;
        let strings = strings.as_string_view();
        let patterns = cast(&arrays[1], &DataType::Utf8View)?;
        let patterns = patterns.as_string_view();
        let limits: Option<Int64Array> = match arrays.get(2) {
            Some(a) => Some(cast(a, &DataType::Int64)?.as_primitive().clone()),
            None => None,
        };
        // A constant pattern is compiled once for the whole batch.
        let constant = match pattern_scalar {
            Some(ScalarValue::Utf8(Some(p)))
            | Some(ScalarValue::Utf8View(Some(p)))
            | Some(ScalarValue::LargeUtf8(Some(p))) => Some(Splitter::new(&p)?),
            _ => None,
        };
        let mut builder = ListBuilder::with_capacity(
            StringViewBuilder::with_capacity(strings.len() * 8),
            strings.len(),
        );
        // The input's data buffers become the output's: parts longer than the inline size are
        // views into them.
        let blocks: Vec<u32> = strings
            .data_buffers()
            .iter()
            .map(|b| builder.values().append_block(b.clone()))
            .collect();
        let mut parts: Vec<&str> = Vec::new();
        for i in 0..strings.len() {
            if strings.is_null(i)
                || patterns.is_null(i)
                || limits.as_ref().is_some_and(|l| l.is_null(i))
            {
                builder.append_null();
                continue;
            }
            let limit = limits.as_ref().map_or(-1, |l| l.value(i));
            let owned;
            let splitter = match &constant {
                Some(s) => s,
                None => {
                    owned = Splitter::new(patterns.value(i))?;
                    &owned
                }
            };
            let s = strings.value(i);
            let view = ByteView::from(strings.views()[i]);
            splitter.split(s, limit, &mut parts);
            for part in &parts {
                if view.length > MAX_INLINE_VIEW_LEN && part.len() > MAX_INLINE_VIEW_LEN as usize {
                    let start = part.as_ptr() as usize - s.as_ptr() as usize;
                    let block = blocks[view.buffer_index as usize];
                    // SAFETY: `part` is a substring of `s` (a &str, so on character
                    // boundaries), and `s` is the view's range of this very block.
                    unsafe {
                        builder.values().append_view_unchecked(
                            block,
                            view.offset + start as u32,
                            part.len() as u32,
                        )
                    };
                } else {
                    builder.values().append_value(part);
                }
            }
            builder.append(true);
        }
        let result: ArrayRef = Arc::new(builder.finish());
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &result, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(result))
        }
    }
}

/// A compiled pattern: plain text (no regex meta-characters) splits without the regex engine.
enum Splitter {
    Empty,
    Literal(String),
    Regex(Regex),
}

const META: &[char] = &[
    '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$',
];

impl Splitter {
    fn new(pattern: &str) -> Result<Self> {
        if pattern.is_empty() {
            Ok(Splitter::Empty)
        } else if !pattern.contains(META) {
            Ok(Splitter::Literal(pattern.to_string()))
        } else {
            match Regex::new(pattern) {
                Ok(re) => Ok(Splitter::Regex(re)),
                Err(e) => {
                    exec_err!("Spark `split` function: invalid regular expression '{pattern}': {e}")
                }
            }
        }
    }

    /// Java's `String.split(regex, limit)` as Spark calls it: `limit > 0` caps the number of
    /// parts (the last keeps the rest), otherwise all parts, trailing empty strings kept.
    fn split<'a>(&self, s: &'a str, limit: i64, out: &mut Vec<&'a str>) {
        out.clear();
        let max = if limit > 0 {
            limit as usize
        } else {
            usize::MAX
        };
        match self {
            Splitter::Empty => {
                // Spark: every character is a part, no trailing empty string; '' stays [''].
                if s.is_empty() {
                    out.push(s);
                    return;
                }
                let mut indices = s.char_indices().map(|(i, _)| i).peekable();
                while let Some(i) = indices.next() {
                    if out.len() + 1 == max {
                        out.push(&s[i..]);
                        return;
                    }
                    let j = indices.peek().copied().unwrap_or(s.len());
                    out.push(&s[i..j]);
                }
            }
            Splitter::Literal(sep) if sep.len() == 1 => {
                // One byte (an ASCII separator such as ' '): memchr, the common case.
                let sep = sep.as_bytes()[0];
                let mut last = 0;
                for i in memchr::memchr_iter(sep, s.as_bytes()) {
                    if out.len() + 1 == max {
                        break;
                    }
                    out.push(&s[last..i]);
                    last = i + 1;
                }
                out.push(&s[last..]);
            }
            Splitter::Literal(sep) => {
                out.extend(s.splitn(max, sep.as_str()));
            }
            Splitter::Regex(re) => {
                let mut last = 0;
                for m in re.find_iter(s) {
                    if out.len() + 1 == max {
                        break;
                    }
                    // Java: a zero-width match at the beginning never yields a leading ''.
                    if m.end() == 0 {
                        continue;
                    }
                    if m.start() == m.end() && m.start() == s.len() {
                        break;
                    }
                    out.push(&s[last..m.start()]);
                    last = m.end();
                }
                out.push(&s[last..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    fn split(s: &str, pattern: &str, limit: i64) -> Vec<String> {
        let mut out = Vec::new();
        Splitter::new(pattern).unwrap().split(s, limit, &mut out);
        out.into_iter().map(String::from).collect()
    }

    #[test]
    fn matches_java_split_with_limit_minus_one() {
        assert_eq!(split("a  b ", " ", -1), ["a", "", "b", ""]);
        assert_eq!(split(" a", " ", -1), ["", "a"]);
        assert_eq!(split("", " ", -1), [""]);
        assert_eq!(split("a\tb", " ", -1), ["a\tb"]);
        assert_eq!(
            split("oneAtwoBthreeC", "[ABC]", -1),
            ["one", "two", "three", ""]
        );
        assert_eq!(split("oneAtwoBthreeC", "[ABC]", 2), ["one", "twoBthreeC"]);
        assert_eq!(split("a b c", " ", 2), ["a", "b c"]);
        assert_eq!(split("abc", "", -1), ["a", "b", "c"]);
        assert_eq!(split("abc", "", 2), ["a", "bc"]);
        assert_eq!(split("", "", -1), [""]);
        assert_eq!(split("a1b22c", "\\d+", 0), ["a", "b", "c"]);
    }

    #[test]
    fn bad_regex_names_the_pattern() {
        let err = Splitter::new("(").err().unwrap().to_string();
        assert!(err.contains("invalid regular expression '('"), "{err}");
    }
}
