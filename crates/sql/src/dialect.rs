//! [`SparkDialect`]: how Spark SQL is tokenized and parsed where it differs from ANSI —
//! backquoted identifiers, double-quoted strings, backslash escapes in string literals
//! (`'\t'` is a tab, `'\\w'` is `\w`), lambdas, `exists(array, x -> ...)` as a function, and
//! `a DIV b`.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Ident, ObjectName, UnaryOperator};
use datafusion::sql::sqlparser::dialect::{Dialect, Precedence};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

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

    /// `exists(array, x -> ...)` is Spark's higher-order function (also after `NOT`);
    /// `EXISTS (SELECT ...)` stays a subquery test.
    /// Spark's integer division, `a DIV b`, at `*`'s precedence.
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        _precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        if !parser.parse_keyword(Keyword::DIV) {
            return None;
        }
        let right = parser.parse_subexpr(self.prec_value(Precedence::MulDivModOp));
        Some(right.map(|right| Expr::BinaryOp {
            left: Box::new(expr.clone()),
            op: BinaryOperator::MyIntegerDivide,
            right: Box::new(right),
        }))
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let keyword = |n: usize| match &parser.peek_nth_token_ref(n).token {
            Token::Word(w) => Some(w.keyword),
            _ => None,
        };
        let negated = keyword(0) == Some(Keyword::NOT);
        let at = usize::from(negated);
        let function = keyword(at) == Some(Keyword::EXISTS)
            && parser.peek_nth_token_ref(at + 1).token == Token::LParen
            && parser.peek_nth_token_ref(at + 2).token != Token::LParen
            && !matches!(keyword(at + 2), Some(Keyword::SELECT | Keyword::WITH));
        if !function {
            return None;
        }
        if negated {
            parser.next_token();
            let operand = parser.parse_subexpr(self.prec_value(Precedence::UnaryNot));
            return Some(operand.map(|operand| Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: Box::new(operand),
            }));
        }
        let name = parser.next_token();
        Some(parser.parse_function(ObjectName::from(vec![Ident::new(name.to_string())])))
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

    #[test]
    fn exists_is_a_function_of_an_array_or_a_subquery_test() {
        let parse = |sql: &str| format!("{:?}", Parser::parse_sql(&SparkDialect, sql).unwrap());
        for sql in [
            "SELECT exists(a, x -> x > 1) FROM t",
            "SELECT * FROM t WHERE NOT exists(a, x -> x > 1) AND b",
        ] {
            let function = parse(sql);
            assert!(function.contains("Function(Function"), "{function}");
            assert!(function.contains("Lambda("), "{function}");
            assert!(!function.contains("Exists {"), "{function}");
        }
        // NOT binds tighter than AND, as for any operand.
        let not = parse("SELECT NOT exists(a, x -> x) AND b FROM t");
        assert!(not.contains("BinaryOp { left: UnaryOp { op: Not"), "{not}");
        for subquery in [
            "SELECT * FROM t WHERE EXISTS (SELECT 1)",
            "SELECT * FROM t WHERE EXISTS ((SELECT 1))",
            "SELECT * FROM t WHERE NOT EXISTS (WITH q AS (SELECT 1) SELECT * FROM q)",
        ] {
            let text = parse(subquery);
            assert!(text.contains("Exists {"), "{subquery}: {text}");
        }
    }
}
