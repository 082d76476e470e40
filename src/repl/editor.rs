//! The interactive side of the shell: a rustyline editor with the shell's prompts, history
//! file and tab completion of keywords, views, columns, functions and backslash commands.

use std::path::PathBuf;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use super::command::BACKSLASH_COMMANDS;
use super::input::InputBuffer;
use super::settings::KEYS;
use super::{Flow, Shell, Vocabulary};
use crate::error::{Error, Result};

/// The prompt for a new statement.
pub const PROMPT: &str = "kindling> ";
/// The prompt for the next line of an unfinished statement.
pub const CONTINUATION: &str = "       -> ";

/// The keywords offered by completion, in upper case.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "STREAM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "HAVING",
    "LIMIT",
    "AS",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "IS",
    "IN",
    "LIKE",
    "RLIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "STRING",
    "BIGINT",
    "INT",
    "DOUBLE",
    "BOOLEAN",
    "TIMESTAMP",
    "DATE",
    "BINARY",
    "DISTINCT",
    "JOIN",
    "ON",
    "UNION",
    "ALL",
    "WITH",
    "TRUE",
    "FALSE",
    "INTERVAL",
    "CREATE",
    "OR",
    "REPLACE",
    "TEMPORARY",
    "VIEW",
    "USING",
    "OPTIONS",
    "DROP",
    "IF",
    "EXISTS",
    "SET",
    "START",
    "QUERY",
    "KAFKA",
    "TEXT",
    "TWEETS",
    "RATE",
];

/// Completion over the shell's current names.
#[derive(Debug, Default)]
pub struct ShellHelper {
    vocabulary: Vocabulary,
}

impl ShellHelper {
    /// Completes from `vocabulary`.
    pub fn new(vocabulary: Vocabulary) -> Self {
        ShellHelper { vocabulary }
    }

    /// The candidates for the word ending at `pos` in `line`, and where that word starts.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '\\' | '?')))
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(0);
        let word = &before[start..];
        if word.is_empty() {
            return (start, Vec::new());
        }
        let lower = word.to_lowercase();
        let matching = |c: &str| c.to_lowercase().starts_with(&lower) && c != word;
        if word.starts_with('\\') {
            let at_start = before[..start].trim().is_empty();
            let found = BACKSLASH_COMMANDS
                .iter()
                .map(|(c, _, _)| c.to_string())
                .filter(|c| at_start && matching(c))
                .collect();
            return (start, found);
        }
        let upper_case = word.chars().any(char::is_uppercase);
        let mut found: Vec<String> = Vec::new();
        let after_set = before[..start].trim().eq_ignore_ascii_case("set");
        if after_set {
            found.extend(KEYS.iter().map(|k| k.to_string()).filter(|k| matching(k)));
        }
        found.extend(
            self.vocabulary
                .tables
                .iter()
                .chain(&self.vocabulary.columns)
                .chain(&self.vocabulary.functions)
                .filter(|c| matching(c))
                .cloned(),
        );
        found.extend(KEYWORDS.iter().filter(|k| matching(k)).map(|k| {
            if upper_case {
                k.to_string()
            } else {
                k.to_lowercase()
            }
        }));
        let mut seen = std::collections::HashSet::new();
        found.retain(|c| seen.insert(c.clone()));
        (start, found)
    }
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, found) = self.candidates(line, pos);
        Ok((
            start,
            found
                .into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

/// The history file: `$KINDLING_HISTORY`, else `~/.kindling_history`.
pub fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KINDLING_HISTORY") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kindling_history"))
}

/// Reads statements at the prompt until `\q` or Ctrl-D; Ctrl-C at the prompt drops the
/// statement being typed. Returns the exit code (0).
pub async fn interactive(shell: &mut Shell, history: Option<PathBuf>) -> Result<u8> {
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .max_history_size(10_000)
        .map_err(|e| Error::Usage(format!("line editor: {e}")))?
        .build();
    let mut editor: Editor<ShellHelper, FileHistory> = Editor::with_config(config)
        .map_err(|e| Error::Usage(format!("cannot start the line editor: {e}")))?;
    editor.set_helper(Some(ShellHelper::new(shell.vocabulary())));
    if let Some(path) = &history {
        // A missing file is a first session; anything else is worth a warning.
        if let Err(e) = editor.load_history(path)
            && path.exists()
        {
            tracing::warn!("cannot read the history file '{}': {e}", path.display());
        }
    }
    println!(
        "kindling {} shell: Spark SQL over streams. \\? for help, \\q or Ctrl-D to quit.",
        env!("CARGO_PKG_VERSION")
    );
    let mut buffer = InputBuffer::new();
    loop {
        shell.report_finished();
        let prompt = if buffer.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        let line = tokio::task::block_in_place(|| editor.readline(prompt));
        match line {
            Ok(line) => {
                for statement in buffer.push_line(&line) {
                    remember(&mut editor, &statement, history.as_ref());
                    match shell.execute(&statement).await {
                        Ok(Flow::Quit) => return Ok(0),
                        Ok(Flow::Continue) => {}
                        Err(e) => shell.print_error(&e),
                    }
                    if let Some(helper) = editor.helper_mut() {
                        helper.vocabulary = shell.vocabulary();
                    }
                }
            }
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => return Ok(0),
            Err(e) => return Err(Error::io("reading the terminal", std::io::Error::other(e))),
        }
    }
}

/// Adds a statement to the history (with its `;`, so that recalling it runs it) and to the
/// history file.
fn remember(
    editor: &mut Editor<ShellHelper, FileHistory>,
    statement: &str,
    file: Option<&PathBuf>,
) {
    let entry = if statement.starts_with('\\') {
        statement.to_string()
    } else {
        format!("{statement};")
    };
    if editor.add_history_entry(entry).is_ok()
        && let Some(path) = file
        && let Err(e) = editor.append_history(path)
    {
        tracing::warn!("cannot write the history file '{}': {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> ShellHelper {
        ShellHelper::new(Vocabulary {
            tables: vec!["lines".into(), "top10".into()],
            columns: vec!["value".into(), "tag_count".into()],
            functions: vec!["split".into(), "startswith".into()],
        })
    }

    #[test]
    fn completes_keywords_in_the_case_typed() {
        let h = helper();
        assert_eq!(h.candidates("SEL", 3), (0, vec!["SELECT".to_string()]));
        assert_eq!(h.candidates("sel", 3), (0, vec!["select".to_string()]));
        let (start, found) = h.candidates("SELECT * FROM STRE", 18);
        assert_eq!((start, found), (14, vec!["STREAM".to_string()]));
        assert_eq!(
            h.candidates("CAST(x AS STR", 13).1,
            vec!["STREAM", "STRING"]
        );
    }

    #[test]
    fn completes_views_columns_functions_and_settings() {
        let h = helper();
        assert_eq!(h.candidates("SELECT * FROM lin", 17).1, vec!["lines"]);
        assert_eq!(
            h.candidates("SELECT * FROM li", 16).1,
            vec!["lines", "limit", "like"]
        );
        assert_eq!(h.candidates("SELECT tag_", 11).1, vec!["tag_count"]);
        assert_eq!(h.candidates("SELECT startsw", 14).1, vec!["startswith"]);
        assert_eq!(h.candidates("SET outp", 8).1, vec!["outputMode"]);
        assert!(h.candidates("SELECT outp", 11).1.is_empty());
    }

    #[test]
    fn completes_backslash_commands_only_at_the_start() {
        let h = helper();
        assert_eq!(
            h.candidates("\\quer", 5),
            (0, vec!["\\queries".to_string()])
        );
        assert_eq!(h.candidates("\\", 1).1.len(), BACKSLASH_COMMANDS.len());
        assert!(h.candidates("SELECT \\q", 9).1.is_empty());
        assert!(h.candidates("SELECT ", 7).1.is_empty());
    }
}
