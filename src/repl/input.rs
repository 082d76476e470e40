//! [`InputBuffer`]: turns lines typed (or read from a script) into complete statements. SQL
//! ends at a `;` outside quotes and comments; a line starting with `\` is a whole command.

use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::sql::dialect::SparkDialect;

/// Lines waiting to become statements.
#[derive(Debug, Default)]
pub struct InputBuffer {
    pending: String,
}

impl InputBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        InputBuffer::default()
    }

    /// True when no statement is half-typed (the shell shows its main prompt).
    pub fn is_empty(&self) -> bool {
        is_blank(&self.pending)
    }

    /// Forgets a half-typed statement (Ctrl-C at the prompt).
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Adds one line and returns the statements it completes, in order. A backslash command
    /// is only recognised at the start of a statement, and takes its whole line.
    pub fn push_line(&mut self, line: &str) -> Vec<String> {
        if self.is_empty() && line.trim_start().starts_with('\\') {
            self.pending.clear();
            return vec![line.trim().to_string()];
        }
        if !self.pending.is_empty() {
            self.pending.push('\n');
        }
        self.pending.push_str(line);
        let (complete, rest) = split_statements(&self.pending);
        self.pending = rest;
        complete
    }

    /// The end of input: whatever is left is the last statement (a script's final statement
    /// may omit its `;`).
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.pending);
        (!is_blank(&rest)).then(|| rest.trim().to_string())
    }
}

/// Splits `text` into the statements ended by `;` and the unfinished rest. Text that does
/// not tokenize yet (an open quote or comment) is all rest.
fn split_statements(text: &str) -> (Vec<String>, String) {
    let Ok(tokens) = Tokenizer::new(&SparkDialect, text)
        .with_unescape(false)
        .tokenize()
    else {
        return (Vec::new(), text.to_string());
    };
    let mut complete = Vec::new();
    let mut current = String::new();
    // Whether `current` holds more than whitespace and comments.
    let mut has_content = false;
    for token in tokens {
        match token {
            Token::SemiColon => {
                if has_content {
                    complete.push(current.trim().to_string());
                }
                current.clear();
                has_content = false;
            }
            Token::Whitespace(_) => current.push_str(&token.to_string()),
            other => {
                has_content = true;
                current.push_str(&other.to_string());
            }
        }
    }
    (complete, current)
}

/// True when `text` holds nothing but whitespace and comments.
pub fn is_blank(text: &str) -> bool {
    if text.trim().is_empty() {
        return true;
    }
    match Tokenizer::new(&SparkDialect, text)
        .with_unescape(false)
        .tokenize()
    {
        Ok(tokens) => tokens.iter().all(|t| matches!(t, Token::Whitespace(_))),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_at_semicolons_outside_quotes_and_comments() {
        let mut buf = InputBuffer::new();
        assert!(buf.push_line("SELECT 'a;b'").is_empty());
        assert!(!buf.is_empty());
        assert!(buf.push_line("  -- not the end;").is_empty());
        assert_eq!(
            buf.push_line("FROM t; SET numRows = 3;"),
            vec![
                "SELECT 'a;b'\n  -- not the end;\nFROM t".to_string(),
                "SET numRows = 3".to_string()
            ]
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn an_open_quote_waits_for_more_lines() {
        let mut buf = InputBuffer::new();
        assert!(buf.push_line("SELECT 'it''s").is_empty());
        assert!(buf.push_line("; still quoted").is_empty());
        assert_eq!(
            buf.push_line("';"),
            vec!["SELECT 'it''s\n; still quoted\n'"]
        );
        assert!(buf.push_line("/* open ; comment").is_empty());
        assert!(buf.push_line("closed */").is_empty());
        assert!(buf.is_empty(), "only a comment is left");
    }

    #[test]
    fn backslash_commands_take_the_whole_line_only_at_a_statement_start() {
        let mut buf = InputBuffer::new();
        assert_eq!(buf.push_line("  \\d lines"), vec!["\\d lines"]);
        assert!(buf.push_line("SELECT").is_empty());
        assert!(buf.push_line("\\d").is_empty(), "inside a statement");
        assert_eq!(buf.finish(), Some("SELECT\n\\d".to_string()));
        assert_eq!(buf.finish(), None);
    }

    #[test]
    fn blank_text_is_whitespace_and_comments() {
        assert!(is_blank("  \n -- x\n /* y */ "));
        assert!(!is_blank("SELECT 1"));
        assert!(!is_blank("'open"));
    }
}
