//! Spark's typed number literals `1.5D`, `1.5F`, `2S`, `3Y`, `1.50BD` and `10L`, which sqlparser
//! would take for a number and an alias (or, for `10L`, a plain number): rewritten in the SQL
//! text before parsing to `::` casts, which [`super::naming`] names as Spark does (`1.5`).

use datafusion::sql::sqlparser::tokenizer::{Location, Token, Tokenizer};

use super::dialect::SparkDialect;

/// The cast a suffix stands for, given the literal's digits.
fn cast_for(suffix: &str, number: &str) -> Option<String> {
    Some(match suffix.to_ascii_uppercase().as_str() {
        "D" => "::DOUBLE".to_string(),
        "F" => "::FLOAT".to_string(),
        "S" => "::SMALLINT".to_string(),
        "Y" => "::TINYINT".to_string(),
        // A decimal literal already is the exact DECIMAL Spark gives `1.50BD`.
        "BD" if number.contains('.') => String::new(),
        "BD" if number.bytes().all(|b| b.is_ascii_digit()) => {
            format!(
                "::DECIMAL({},0)",
                number.trim_start_matches('0').len().max(1)
            )
        }
        _ => return None,
    })
}

/// The byte offset of `location` (1-based line, 1-based column in characters) in `sql`.
pub(super) fn offset(sql: &str, location: Location) -> Option<usize> {
    let line_start = if location.line <= 1 {
        0
    } else {
        sql.match_indices('\n')
            .nth(location.line as usize - 2)
            .map(|(i, _)| i + 1)?
    };
    let column = location.column.checked_sub(1)? as usize;
    match sql[line_start..].char_indices().nth(column) {
        Some((i, _)) => Some(line_start + i),
        None => Some(sql.len()),
    }
}

/// `sql` with its typed number literals rewritten; unchanged when it does not tokenize (the
/// parser then reports the error).
pub fn rewrite(sql: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&SparkDialect, sql).tokenize_with_location() else {
        return sql.to_string();
    };
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    // `10L`: the tokenizer reads the suffix itself; it becomes a cast too, since a plain
    // integer literal is planned as an INT where it fits (see `super::typing`).
    for token in &tokens {
        if let Token::Number(number, true) = &token.token
            && let (Some(start), Some(end)) =
                (offset(sql, token.span.start), offset(sql, token.span.end))
        {
            edits.push((start, end, format!("{number}::BIGINT")));
        }
    }
    for pair in tokens.windows(2) {
        let (Token::Number(number, false), Token::Word(word)) = (&pair[0].token, &pair[1].token)
        else {
            continue;
        };
        // Only a suffix written right after its digits.
        if word.quote_style.is_some() || pair[0].span.end != pair[1].span.start {
            continue;
        }
        let Some(cast) = cast_for(&word.value, number) else {
            continue;
        };
        if let (Some(start), Some(end)) = (
            offset(sql, pair[1].span.start),
            offset(sql, pair[1].span.end),
        ) {
            edits.push((start, end, cast));
        }
    }
    edits.sort_by_key(|(start, ..)| *start);
    let mut out = sql.to_string();
    for (start, end, cast) in edits.into_iter().rev() {
        out.replace_range(start..end, &cast);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_become_casts_and_the_rest_is_kept() {
        assert_eq!(
            rewrite("SELECT 1.5D, 2s, 3Y, 4F, 1.50BD, 10BD, 007BD, 10L"),
            "SELECT 1.5::DOUBLE, 2::SMALLINT, 3::TINYINT, 4::FLOAT, 1.50, 10::DECIMAL(2,0), 007::DECIMAL(1,0), 10::BIGINT"
        );
        // An alias after a space, a quoted word, strings and identifiers stay.
        let kept = "SELECT 1 d, 2 `D`, '3D', x1D, 'é' || 4 AS y FROM t\nWHERE a = 5";
        assert_eq!(rewrite(kept), kept);
        // Offsets count characters on later lines.
        assert_eq!(
            rewrite("SELECT 'é',\n  'ü', 2.5D"),
            "SELECT 'é',\n  'ü', 2.5::DOUBLE"
        );
    }
}
