//! [`SparkDialect`]: how Spark SQL is tokenized — backquoted identifiers, double-quoted
//! strings, backslash escapes in string literals (`'\t'` is a tab, `'\\w'` is `\w`).

use datafusion::sql::sqlparser::dialect::Dialect;

/// Spark SQL's lexical rules for sqlparser.
#[derive(Debug, Default)]
pub struct SparkDialect;

impl Dialect for SparkDialect {
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`'
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_alphabetic() || ch == '_'
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_alphanumeric() || ch == '_'
    }

    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }

    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }

    fn supports_group_by_expr(&self) -> bool {
        true
    }

    fn supports_lambda_functions(&self) -> bool {
        true
    }

    fn supports_select_wildcard_except(&self) -> bool {
        true
    }

    fn require_interval_qualifier(&self) -> bool {
        true
    }

    fn supports_struct_literal(&self) -> bool {
        true
    }

    fn supports_nested_comments(&self) -> bool {
        true
    }

    fn supports_bang_not_operator(&self) -> bool {
        true
    }

    /// `CAST(x AS LONG)`.
    fn supports_long_type_as_bigint(&self) -> bool {
        true
    }

    /// `posexplode(a) AS (p, c)`: one alias per column of a generator.
    fn supports_select_item_multi_column_alias(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;
    use datafusion::sql::sqlparser::parser::Parser;

    #[test]
    fn spark_literals_and_identifiers() {
        let sql = r#"SELECT 'a\tb', "dq", '\\w+', `my col` FROM t"#;
        let stmt = Parser::parse_sql(&SparkDialect, sql).unwrap().remove(0);
        let text = format!("{stmt:?}");
        assert!(text.contains(r#"SingleQuotedString("a\tb")"#), "{text}");
        assert!(text.contains(r#"DoubleQuotedString("dq")"#), "{text}");
        assert!(text.contains(r#"SingleQuotedString("\\w+")"#), "{text}");
        assert!(text.contains(r#"value: "my col""#), "{text}");
    }
}
