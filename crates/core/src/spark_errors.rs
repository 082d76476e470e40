//! DataFusion's errors, reworded as Spark words them (`[UNRESOLVED_COLUMN...]`,
//! `[UNRESOLVED_ROUTINE]`, `[TABLE_OR_VIEW_NOT_FOUND]`, `[CAST_INVALID_INPUT]`), so that a
//! Spark user recognises them.

use arrow::datatypes::DataType;
use arrow::error::ArrowError;
use datafusion_common::DataFusionError;
use datafusion_common::SchemaError;

use crate::error::Error;

/// DataFusion's errors become kindling's with Spark's message, worded once when they arise.
impl From<DataFusionError> for Error {
    fn from(error: DataFusionError) -> Self {
        Error::DataFusion {
            message: spark_message(&error),
            error,
        }
    }
}

/// Arrow's errors become kindling's with Spark's message where Spark has one.
impl From<ArrowError> for Error {
    fn from(error: ArrowError) -> Self {
        Error::Arrow {
            message: arrow_spark_message(&error).unwrap_or_else(|| error.to_string()),
            error,
        }
    }
}

/// The message a Spark user expects for `err`; DataFusion's own text when Spark has no
/// counterpart.
pub fn spark_message(err: &DataFusionError) -> String {
    match root(err) {
        DataFusionError::SchemaError(e, _) if matches!(**e, SchemaError::FieldNotFound { .. }) => {
            let SchemaError::FieldNotFound {
                field,
                valid_fields,
            } = &**e
            else {
                return err.to_string();
            };
            let candidates: Vec<String> = valid_fields
                .iter()
                .map(|c| match &c.relation {
                    Some(r) => format!("`{}`.`{}`", r.table(), c.name),
                    None => format!("`{}`", c.name),
                })
                .collect();
            unresolved_column(&field.name, candidates)
        }
        // kindling's own errors in Spark's words (`[ERROR_CLASS] ...`), without
        // DataFusion's prefix.
        DataFusionError::Plan(msg) | DataFusionError::Execution(msg) if msg.starts_with('[') => {
            msg.clone()
        }
        DataFusionError::Plan(msg) => {
            if let Some(rest) = msg.strip_prefix("Invalid function '") {
                let name = rest.split('\'').next().unwrap_or_default();
                return format!(
                    "[UNRESOLVED_ROUTINE] Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`, `spark_catalog`.`default`]. SQLSTATE: 42883"
                );
            }
            if let Some(rest) = msg.strip_prefix("table '") {
                let name = rest.split('\'').next().unwrap_or_default();
                let name = name.rsplit('.').next().unwrap_or(name);
                return format!(
                    "[TABLE_OR_VIEW_NOT_FOUND] The table or view `{name}` cannot be found. Verify the spelling and correctness of the schema and catalog. SQLSTATE: 42P01"
                );
            }
            err.to_string()
        }
        DataFusionError::ArrowError(e, _) => match arrow_spark_message(e) {
            Some(message) => message,
            None => err.to_string(),
        },
        _ => err.to_string(),
    }
}

/// Spark's message for an Arrow error where Spark has one: a malformed value in a CAST
/// (`[CAST_INVALID_INPUT]`), a value out of the range of the CAST's type (`[CAST_OVERFLOW]`),
/// `abs` of the smallest integer (`[ARITHMETIC_OVERFLOW]`).
pub fn arrow_spark_message(err: &ArrowError) -> Option<String> {
    let msg = match err {
        ArrowError::CastError(msg) => msg,
        ArrowError::ComputeError(msg) if msg.contains(" overflow on abs(") => {
            return Some("[ARITHMETIC_OVERFLOW] overflow. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003".to_string());
        }
        _ => return None,
    };
    if let Some(overflow) = cast_overflow(msg) {
        return Some(overflow);
    }
    // arrow: "Cannot cast string 'abc' to value of Float64 type"
    let rest = msg
        .strip_prefix("Cannot cast string '")
        .or_else(|| msg.strip_prefix("Cannot cast value '"))?;
    let (value, rest) = rest.rsplit_once("' to value of ")?;
    let target = rest.strip_suffix(" type")?;
    let target: DataType = target.parse().ok()?;
    Some(format!(
        "[CAST_INVALID_INPUT] The value '{value}' of the type \"STRING\" cannot be cast to \"{}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018",
        crate::types::spark_type_name(&target).to_ascii_uppercase()
    ))
}

/// `[CAST_OVERFLOW]` for arrow's "Can't cast value 1e10 to type Int32". Arrow does not say
/// the source type: an integer is taken for a BIGINT, anything else for a DOUBLE.
fn cast_overflow(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("Can't cast value ")?;
    let (value, target) = rest.rsplit_once(" to type ")?;
    let target: DataType = target.parse().ok()?;
    let (value, source) = match value.parse::<i64>() {
        Ok(v) => (format!("{v}L"), "BIGINT"),
        Err(_) => {
            let x: f64 = value.parse().ok()?;
            let mut text = String::new();
            crate::spark_text::java_double(x, &mut text);
            if x.is_finite() {
                text.push('D');
            }
            (text, "DOUBLE")
        }
    };
    Some(format!(
        "[CAST_OVERFLOW] The value {value} of the type \"{source}\" cannot be cast to \"{}\" due to an overflow. Use `try_cast` to tolerate overflow and return NULL instead. SQLSTATE: 22003",
        crate::types::spark_type_name(&target).to_ascii_uppercase()
    ))
}

fn root(err: &DataFusionError) -> &DataFusionError {
    match err {
        DataFusionError::Context(_, inner) => root(inner),
        DataFusionError::Diagnostic(_, inner) => root(inner),
        DataFusionError::Collection(errors) => errors.first().map_or(err, root),
        other => other,
    }
}

/// Spark's message for an unknown column, with the closest names first (at most five).
fn unresolved_column(name: &str, mut candidates: Vec<String>) -> String {
    candidates.sort_by_key(|c| {
        let plain = c.rsplit('.').next().unwrap_or(c).trim_matches('`');
        levenshtein(&plain.to_lowercase(), &name.to_lowercase())
    });
    candidates.truncate(5);
    format!(
        "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `{name}` cannot be resolved. Did you mean one of the following? [{}]. SQLSTATE: 42703",
        candidates.join(", ")
    )
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_casts_read_as_sparks() {
        let err =
            ArrowError::CastError("Cannot cast string '2.5' to value of Int32 type".to_string());
        assert_eq!(
            arrow_spark_message(&err).as_deref(),
            Some(
                "[CAST_INVALID_INPUT] The value '2.5' of the type \"STRING\" cannot be cast to \"INT\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
            )
        );
        let other = ArrowError::CastError("Cannot cast to Int32".to_string());
        assert_eq!(arrow_spark_message(&other), None);
    }

    #[test]
    fn closest_candidates_come_first() {
        let m = unresolved_column("tagg", vec!["`t`.`value`".into(), "`t`.`tag`".into()]);
        assert_eq!(
            m,
            "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `tagg` cannot be resolved. Did you mean one of the following? [`t`.`tag`, `t`.`value`]. SQLSTATE: 42703"
        );
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
