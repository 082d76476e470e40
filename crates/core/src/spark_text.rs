//! Values as Spark writes them as text, shared by the console sink and SQL's casts and names:
//! cell text as Spark's `ToPrettyString` renders it for `show()`: `NULL`, Java's double
//! format, hex binaries, `[a, b]` arrays, `{a, 1}` structs, `{k -> v}` maps, timestamps in the
//! session time zone (UTC) with trailing zeros of the fraction dropped.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::util::display::{ArrayFormatter, FormatOptions};

/// Renders row `i` of `array` as Spark's `show()` does (before escaping and truncation).
pub fn cell(array: &dyn Array, i: usize) -> String {
    let mut out = String::new();
    write_cell(array, i, &mut out);
    out
}

/// [`cell`] appended to `out`, for callers that reuse one buffer across rows.
pub fn write_cell(array: &dyn Array, i: usize, out: &mut String) {
    // A NullArray has no validity buffer, yet every value in it is NULL.
    if array.is_null(i) || array.data_type() == &DataType::Null {
        out.push_str("NULL");
        return;
    }
    match array.data_type() {
        DataType::Utf8 => out.push_str(array.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => out.push_str(array.as_string::<i64>().value(i)),
        DataType::Utf8View => out.push_str(array.as_string_view().value(i)),
        DataType::Binary => hex(array.as_binary::<i32>().value(i), out),
        DataType::LargeBinary => hex(array.as_binary::<i64>().value(i), out),
        DataType::BinaryView => hex(array.as_binary_view().value(i), out),
        DataType::Boolean => out.push_str(if array.as_boolean().value(i) {
            "true"
        } else {
            "false"
        }),
        DataType::Int8 => push(out, array.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => push(out, array.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => push(out, array.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => push(out, array.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => push(out, array.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => push(out, array.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => push(out, array.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => push(out, array.as_primitive::<UInt64Type>().value(i)),
        DataType::Float64 => java_double(array.as_primitive::<Float64Type>().value(i), out),
        DataType::Float32 => {
            java_double(f64::from(array.as_primitive::<Float32Type>().value(i)), out)
        }
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(i);
            match chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163) {
                Some(d) => out.push_str(&d.format("%Y-%m-%d").to_string()),
                None => out.push_str(&days.to_string()),
            }
        }
        DataType::Timestamp(unit, _) => {
            let micros = match unit {
                TimeUnit::Second => {
                    array.as_primitive::<TimestampSecondType>().value(i) * 1_000_000
                }
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(i) * 1000
                }
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(i),
                TimeUnit::Nanosecond => {
                    array.as_primitive::<TimestampNanosecondType>().value(i) / 1000
                }
            };
            timestamp(micros, out);
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::ListView(_)
        | DataType::FixedSizeList(_, _) => {
            let values = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().value(i),
                DataType::LargeList(_) => array.as_list::<i64>().value(i),
                DataType::FixedSizeList(_, _) => array.as_fixed_size_list().value(i),
                _ => array.as_list_view::<i32>().value(i),
            };
            out.push('[');
            for k in 0..values.len() {
                if k > 0 {
                    out.push_str(", ");
                }
                write_cell(values.as_ref(), k, out);
            }
            out.push(']');
        }
        DataType::Struct(_) => {
            let s = array.as_struct();
            out.push('{');
            for (k, column) in s.columns().iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                write_cell(column.as_ref(), i, out);
            }
            out.push('}');
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(i);
            out.push('{');
            for k in 0..entries.len() {
                if k > 0 {
                    out.push_str(", ");
                }
                write_cell(entries.column(0).as_ref(), k, out);
                out.push_str(" -> ");
                write_cell(entries.column(1).as_ref(), k, out);
            }
            out.push('}');
        }
        _ => match ArrayFormatter::try_new(array, &FormatOptions::default()) {
            Ok(f) => out.push_str(&f.value(i).to_string()),
            Err(_) => out.push('?'),
        },
    }
}

fn push(out: &mut String, v: impl std::fmt::Display) {
    use std::fmt::Write;
    let _ = write!(out, "{v}");
}

fn hex(bytes: &[u8], out: &mut String) {
    use std::fmt::Write;
    out.push('[');
    for (k, b) in bytes.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02X}");
    }
    out.push(']');
}

/// Java's `Double.toString`: plain notation for 1e-3 <= |x| < 1e7 (always with a fraction
/// digit), otherwise `d.dddE±n`; shortest round-trip digits.
pub fn java_double(x: f64, out: &mut String) {
    if x.is_nan() {
        out.push_str("NaN");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
    } else if x == 0.0 {
        out.push_str(if x.is_sign_negative() { "-0.0" } else { "0.0" });
    } else if (1e-3..1e7).contains(&x.abs()) {
        let s = format!("{x}");
        out.push_str(&s);
        if !s.contains('.') {
            out.push_str(".0");
        }
    } else {
        let s = format!("{x:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        out.push_str(mantissa);
        if !mantissa.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exponent);
    }
}

fn timestamp(micros: i64, out: &mut String) {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => {
            out.push_str(&t.format("%Y-%m-%d %H:%M:%S").to_string());
            if frac != 0 {
                let digits = format!("{frac:06}");
                out.push('.');
                out.push_str(digits.trim_end_matches('0'));
            }
        }
        None => push(out, micros),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        BinaryArray, Float64Array, ListArray, StringArray, TimestampMicrosecondArray,
    };
    use arrow::datatypes::Int32Type as I32;

    fn d(x: f64) -> String {
        let mut s = String::new();
        java_double(x, &mut s);
        s
    }

    #[test]
    fn doubles_print_as_java() {
        assert_eq!(d(15.0), "15.0");
        assert_eq!(d(-2.25), "-2.25");
        assert_eq!(d(0.0), "0.0");
        assert_eq!(d(1e10), "1.0E10");
        assert_eq!(d(1.5e-5), "1.5E-5");
        assert_eq!(d(0.1), "0.1");
        assert_eq!(d(f64::NAN), "NaN");
    }

    #[test]
    fn cells_render_like_spark() {
        let s = StringArray::from(vec![Some("a"), None]);
        assert_eq!(cell(&s, 1), "NULL");
        let b = BinaryArray::from(vec![b"Jo".as_ref()]);
        assert_eq!(cell(&b, 0), "[4A 6F]");
        let l =
            ListArray::from_iter_primitive::<I32, _, _>(vec![Some(vec![Some(1), None, Some(3)])]);
        assert_eq!(cell(&l, 0), "[1, NULL, 3]");
        let f = Float64Array::from(vec![15.0]);
        assert_eq!(cell(&f, 0), "15.0");
        let t = TimestampMicrosecondArray::from(vec![1_700_000_000_123_000, 1_700_000_000_000_000])
            .with_timezone("UTC");
        assert_eq!(cell(&t, 0), "2023-11-14 22:13:20.123");
        assert_eq!(cell(&t, 1), "2023-11-14 22:13:20");
    }
}
