//! Spark's inline tables without parentheses, `FROM VALUES (1, 'a'), (2, 'b') AS t(n, s)`,
//! which sqlparser only reads parenthesized: the SQL text is rewritten before parsing to
//! `FROM (VALUES (1, 'a'), (2, 'b')) AS t(n, s)`.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use super::dialect::SparkDialect;
use super::typed_literals::offset;

/// `sql` with every `VALUES` that follows `FROM`, `JOIN` or a comma of a FROM list wrapped in
/// parentheses, up to its last row; unchanged when it does not tokenize (the parser then
/// reports the error).
pub fn rewrite(sql: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&SparkDialect, sql).tokenize_with_location() else {
        return sql.to_string();
    };
    let significant: Vec<_> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let keyword = |i: usize| match significant.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    };
    let mut edits: Vec<(usize, &'static str)> = Vec::new();
    for i in 1..significant.len() {
        if keyword(i) != Some(Keyword::VALUES) {
            continue;
        }
        let after_from = matches!(keyword(i - 1), Some(Keyword::FROM | Keyword::JOIN))
            || significant[i - 1].token == Token::Comma && in_from_list(&significant[..i]);
        if !after_from {
            continue;
        }
        // The rows: parenthesized groups separated by commas.
        let mut j = i + 1;
        let mut end = None;
        while significant.get(j).map(|t| &t.token) == Some(&Token::LParen) {
            let mut depth = 0;
            while let Some(t) = significant.get(j) {
                match t.token {
                    Token::LParen => depth += 1,
                    Token::RParen => depth -= 1,
                    _ => {}
                }
                j += 1;
                if depth == 0 {
                    break;
                }
            }
            end = significant.get(j - 1).map(|t| t.span.end);
            if significant.get(j).map(|t| &t.token) == Some(&Token::Comma)
                && significant.get(j + 1).map(|t| &t.token) == Some(&Token::LParen)
            {
                j += 1;
            } else {
                break;
            }
        }
        if let (Some(start), Some(end)) = (
            offset(sql, significant[i].span.start),
            end.and_then(|e| offset(sql, e)),
        ) {
            edits.push((start, "("));
            edits.push((end, ")"));
        }
    }
    let mut out = sql.to_string();
    edits.sort_by_key(|(at, _)| *at);
    for (at, text) in edits.into_iter().rev() {
        out.insert_str(at, text);
    }
    out
}

/// Whether the last unclosed clause before a comma is a FROM (not a SELECT list or GROUP BY).
fn in_from_list(before: &[&datafusion::sql::sqlparser::tokenizer::TokenWithSpan]) -> bool {
    let mut depth = 0i32;
    for t in before.iter().rev() {
        match &t.token {
            Token::RParen => depth += 1,
            Token::LParen => depth -= 1,
            Token::Word(w) if depth == 0 && w.quote_style.is_none() => match w.keyword {
                Keyword::FROM => return true,
                Keyword::SELECT | Keyword::WHERE | Keyword::GROUP | Keyword::ORDER => {
                    return false;
                }
                _ => {}
            },
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_values_in_from_are_parenthesized() {
        assert_eq!(
            rewrite("SELECT * FROM VALUES (1, 'a'), (2, 'b') AS t(n, s) WHERE n > 1"),
            "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(n, s) WHERE n > 1"
        );
        assert_eq!(
            rewrite("SELECT * FROM x JOIN VALUES (1) t(n) ON true, VALUES (2) u(m)"),
            "SELECT * FROM x JOIN (VALUES (1)) t(n) ON true, (VALUES (2)) u(m)"
        );
        let kept = "SELECT * FROM (VALUES (1)) AS t(n); INSERT INTO t VALUES (1)";
        assert_eq!(rewrite(kept), kept);
    }
}
