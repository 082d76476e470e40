//! [`Command`]: what one statement of the shell asks for. Parses the shell's own statements
//! (`CREATE TEMPORARY VIEW .. USING`, `DROP VIEW`, `SET`, `START QUERY`, backslash commands)
//! and marks the `STREAM name` reads of a query; everything else is Spark SQL for DataFusion.

use std::path::PathBuf;

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Word};

use crate::sql::dialect::SparkDialect;

/// One statement of the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// A SELECT: a batch query, or a streaming one when it reads a `STREAM` view.
    Query(Query),
    /// `START QUERY name AS SELECT ...`: a streaming query into memory table `name`.
    StartQuery {
        /// The query and memory table name.
        name: String,
        /// The query.
        query: Query,
    },
    /// `CREATE [OR REPLACE] TEMPORARY VIEW name USING format OPTIONS (...)`.
    CreateView {
        /// The view name, lower-cased (names are case-insensitive, as in Spark).
        name: String,
        /// The source format.
        format: String,
        /// The options, as written.
        options: Vec<(String, String)>,
        /// `OR REPLACE`.
        replace: bool,
    },
    /// `DROP VIEW [IF EXISTS] name`.
    DropView {
        /// The view name, lower-cased.
        name: String,
        /// `IF EXISTS`.
        if_exists: bool,
    },
    /// `SET` (list), `SET key` (show) or `SET key = value`.
    Set {
        /// The key, if any.
        key: Option<String>,
        /// The new value, if any.
        value: Option<String>,
    },
    /// `\?`: the help table.
    Help,
    /// `\q`.
    Quit,
    /// `\d` (all views and tables) or `\d name` (one schema).
    Describe(Option<String>),
    /// `\explain SQL`.
    Explain(Query),
    /// `\i file.sql`.
    Include(PathBuf),
    /// `\queries`.
    Queries,
    /// `\stop name`.
    Stop(String),
}

/// A query with its `STREAM` markers removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The SQL, with `STREAM name` replaced by `name`.
    pub sql: String,
    /// The view read as a stream, lower-cased; `None` for a batch query.
    pub stream: Option<String>,
}

/// The backslash commands with their arguments and what they do, for `\?` and completion.
pub const BACKSLASH_COMMANDS: &[(&str, &str, &str)] = &[
    ("\\?", "", "show this help"),
    ("\\q", "", "quit (Ctrl-D also quits)"),
    (
        "\\d",
        "[name]",
        "list views and tables, or show the schema of one",
    ),
    (
        "\\explain",
        "SQL",
        "show the plans of a query and whether its output mode is allowed",
    ),
    ("\\i", "file.sql", "run the statements of a file"),
    (
        "\\queries",
        "",
        "list background queries with their last progress",
    ),
    ("\\stop", "name", "stop a background query"),
];

/// Parses one complete statement (no trailing `;`).
pub fn parse(statement: &str) -> Result<Command, String> {
    let statement = statement.trim();
    if let Some(rest) = statement.strip_prefix('\\') {
        return parse_backslash(rest);
    }
    let tokens = significant(statement, true)?;
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    match word(0).as_deref() {
        Some("CREATE") => parse_create_view(&tokens),
        Some("DROP") => parse_drop_view(&tokens),
        Some("SET") => parse_set(statement),
        Some("START") if word(1).as_deref() == Some("QUERY") => {
            let usage = "expected START QUERY name AS SELECT ...";
            let name = match tokens.get(2) {
                Some(Token::Word(w)) => w.value.to_lowercase(),
                _ => return Err(usage.to_string()),
            };
            if word(3).as_deref() != Some("AS") {
                return Err(usage.to_string());
            }
            let sql = after_keywords(statement, 4).ok_or_else(|| usage.to_string())?;
            Ok(Command::StartQuery {
                name,
                query: query(sql)?,
            })
        }
        _ => Ok(Command::Query(query(statement)?)),
    }
}

fn parse_backslash(rest: &str) -> Result<Command, String> {
    let (name, arg) = match rest.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim().trim_end_matches(';').trim()),
        None => (rest.trim_end_matches(';'), ""),
    };
    let needs = |what: &str| {
        if arg.is_empty() {
            Err(format!("\\{name} needs {what}; see \\? for help"))
        } else {
            Ok(arg.to_string())
        }
    };
    match name {
        "?" | "h" | "help" => Ok(Command::Help),
        "q" | "quit" => Ok(Command::Quit),
        "d" => Ok(Command::Describe(
            (!arg.is_empty()).then(|| arg.to_lowercase()),
        )),
        "explain" => Ok(Command::Explain(query(&needs("a query")?)?)),
        "i" => Ok(Command::Include(PathBuf::from(needs("a file name")?))),
        "queries" => Ok(Command::Queries),
        "stop" => Ok(Command::Stop(needs("a query name")?.to_lowercase())),
        other => Err(format!(
            "unknown command '\\{other}'; the commands are {}; see \\? for help",
            BACKSLASH_COMMANDS
                .iter()
                .map(|(c, _, _)| *c)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Marks the `STREAM name` / `STREAM(name)` reads of `sql` (after `FROM` or `JOIN`).
pub fn query(sql: &str) -> Result<Query, String> {
    let tokens = Tokenizer::new(&SparkDialect, sql)
        .with_unescape(false)
        .tokenize()
        .map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(sql.len());
    let mut streams: Vec<String> = Vec::new();
    let mut prev: Option<&Token> = None;
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if let Some((name, next)) = stream_read(&tokens, i, prev) {
            out.push_str(&name);
            let lower = name.to_lowercase();
            if !streams.contains(&lower) {
                streams.push(lower);
            }
            prev = Some(token);
            i = next;
            continue;
        }
        out.push_str(&token.to_string());
        if !matches!(token, Token::Whitespace(_)) {
            prev = Some(token);
        }
        i += 1;
    }
    if streams.len() > 1 {
        return Err(format!(
            "a query reads one STREAM view, found {}: {}; read the others without STREAM",
            streams.len(),
            streams.join(", ")
        ));
    }
    Ok(Query {
        sql: out,
        stream: streams.pop(),
    })
}

/// If `tokens[i]` starts `STREAM name` or `STREAM(name)` after FROM or JOIN, the name and
/// the index after the construct.
fn stream_read(tokens: &[Token], i: usize, prev: Option<&Token>) -> Option<(String, usize)> {
    let is_word = |t: &Token, k: Keyword| matches!(t, Token::Word(w) if w.keyword == k && w.quote_style.is_none());
    if !matches!(&tokens[i], Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("stream"))
    {
        return None;
    }
    if !prev.is_some_and(|p| is_word(p, Keyword::FROM) || is_word(p, Keyword::JOIN)) {
        return None;
    }
    let next =
        |from: usize| (from..tokens.len()).find(|&j| !matches!(tokens[j], Token::Whitespace(_)));
    let j = next(i + 1)?;
    match &tokens[j] {
        Token::LParen => {
            let k = next(j + 1)?;
            let Token::Word(name) = &tokens[k] else {
                return None;
            };
            let close = next(k + 1)?;
            (tokens[close] == Token::RParen).then(|| (word_text(name), close + 1))
        }
        Token::Word(name) if name.quote_style.is_some() || !is_clause_keyword(name) => {
            Some((word_text(name), j + 1))
        }
        _ => None,
    }
}

/// Words that end a FROM item, so `FROM stream WHERE ...` reads a table named `stream`.
fn is_clause_keyword(word: &Word) -> bool {
    matches!(
        word.keyword,
        Keyword::AS
            | Keyword::WHERE
            | Keyword::GROUP
            | Keyword::ORDER
            | Keyword::LIMIT
            | Keyword::OFFSET
            | Keyword::HAVING
            | Keyword::WINDOW
            | Keyword::JOIN
            | Keyword::INNER
            | Keyword::LEFT
            | Keyword::RIGHT
            | Keyword::FULL
            | Keyword::CROSS
            | Keyword::NATURAL
            | Keyword::ON
            | Keyword::USING
            | Keyword::UNION
            | Keyword::EXCEPT
            | Keyword::INTERSECT
    )
}

fn word_text(word: &Word) -> String {
    Token::Word(word.clone()).to_string()
}

/// The tokens of `text` without whitespace and comments.
fn significant(text: &str, unescape: bool) -> Result<Vec<Token>, String> {
    Ok(Tokenizer::new(&SparkDialect, text)
        .with_unescape(unescape)
        .tokenize()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect())
}

/// The text of `statement` after its first `n` significant tokens.
fn after_keywords(statement: &str, n: usize) -> Option<&str> {
    let tokens = Tokenizer::new(&SparkDialect, statement)
        .with_unescape(false)
        .tokenize()
        .ok()?;
    let mut seen = 0;
    let mut offset = 0;
    for token in tokens {
        if seen == n {
            break;
        }
        offset += token.to_string().len();
        if !matches!(token, Token::Whitespace(_)) {
            seen += 1;
        }
    }
    let rest = statement.get(offset..)?.trim();
    (!rest.is_empty()).then_some(rest)
}

const CREATE_USAGE: &str = "expected CREATE [OR REPLACE] TEMPORARY VIEW name USING kafka|text|tweets|rate OPTIONS (key 'value', ...)";

fn parse_create_view(tokens: &[Token]) -> Result<Command, String> {
    let mut at = 1;
    let keyword = |t: Option<&Token>, k: &str| matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    let mut replace = false;
    if keyword(tokens.get(at), "OR") && keyword(tokens.get(at + 1), "REPLACE") {
        replace = true;
        at += 2;
    }
    if !(keyword(tokens.get(at), "TEMPORARY") || keyword(tokens.get(at), "TEMP")) {
        return Err(format!("{CREATE_USAGE}; the shell's views are temporary"));
    }
    at += 1;
    if !keyword(tokens.get(at), "VIEW") {
        return Err(CREATE_USAGE.to_string());
    }
    at += 1;
    let Some(Token::Word(name)) = tokens.get(at) else {
        return Err(format!("{CREATE_USAGE}; the view name is missing"));
    };
    let name = name.value.to_lowercase();
    at += 1;
    if keyword(tokens.get(at), "AS") {
        return Err(format!(
            "view '{name}': views over a query are not supported; create a view over a source ({CREATE_USAGE}) and query it"
        ));
    }
    if !keyword(tokens.get(at), "USING") {
        return Err(format!("{CREATE_USAGE}; USING format is missing"));
    }
    let Some(Token::Word(format)) = tokens.get(at + 1) else {
        return Err(format!("{CREATE_USAGE}; the format after USING is missing"));
    };
    let format = format.value.to_lowercase();
    at += 2;
    let mut options = Vec::new();
    if keyword(tokens.get(at), "OPTIONS") {
        if tokens.get(at + 1) != Some(&Token::LParen) {
            return Err(format!(
                "{CREATE_USAGE}; OPTIONS needs a parenthesised list"
            ));
        }
        at += 2;
        loop {
            match tokens.get(at) {
                Some(Token::RParen) => {
                    at += 1;
                    break;
                }
                Some(_) => {
                    let (key, value, next) = parse_option(tokens, at)?;
                    options.push((key, value));
                    at = next;
                    match tokens.get(at) {
                        Some(Token::Comma) => at += 1,
                        Some(Token::RParen) => {}
                        other => {
                            return Err(format!(
                                "OPTIONS: expected ',' or ')' after option '{}', found {}",
                                options.last().map(|(k, _)| k.as_str()).unwrap_or(""),
                                describe(other)
                            ));
                        }
                    }
                }
                None => return Err("OPTIONS: the list is not closed with ')'".to_string()),
            }
        }
    }
    if let Some(extra) = tokens.get(at) {
        return Err(format!(
            "{CREATE_USAGE}; unexpected {} at the end",
            describe(Some(extra))
        ));
    }
    Ok(Command::CreateView {
        name,
        format,
        options,
        replace,
    })
}

/// One `key [=] value` of an OPTIONS list, where a key is a (dotted) identifier or a string.
fn parse_option(tokens: &[Token], mut at: usize) -> Result<(String, String, usize), String> {
    let mut key = String::new();
    match tokens.get(at) {
        Some(Token::SingleQuotedString(s) | Token::DoubleQuotedString(s)) => {
            key.push_str(s);
            at += 1;
        }
        Some(Token::Word(_)) => {
            while let Some(Token::Word(w)) = tokens.get(at) {
                key.push_str(&w.value);
                at += 1;
                if tokens.get(at) == Some(&Token::Period) {
                    key.push('.');
                    at += 1;
                } else {
                    break;
                }
            }
        }
        other => {
            return Err(format!(
                "OPTIONS: expected an option name, found {}",
                describe(other)
            ));
        }
    }
    if tokens.get(at) == Some(&Token::Eq) {
        at += 1;
    }
    let value = match tokens.get(at) {
        Some(Token::SingleQuotedString(s) | Token::DoubleQuotedString(s)) => s.clone(),
        Some(Token::Number(n, _)) => n.clone(),
        Some(Token::Word(w)) if w.quote_style.is_none() => w.value.clone(),
        other => {
            return Err(format!(
                "OPTIONS: option '{key}' needs a value such as '{key}' 'value', found {}",
                describe(other)
            ));
        }
    };
    Ok((key, value, at + 1))
}

fn describe(token: Option<&Token>) -> String {
    match token {
        Some(t) => format!("'{t}'"),
        None => "the end of the statement".to_string(),
    }
}

fn parse_drop_view(tokens: &[Token]) -> Result<Command, String> {
    let usage = "expected DROP VIEW [IF EXISTS] name";
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    if word(1).as_deref() != Some("VIEW") {
        return Err(usage.to_string());
    }
    let if_exists = word(2).as_deref() == Some("IF") && word(3).as_deref() == Some("EXISTS");
    let at = if if_exists { 4 } else { 2 };
    match (tokens.get(at), tokens.get(at + 1)) {
        (Some(Token::Word(w)), None) => Ok(Command::DropView {
            name: w.value.to_lowercase(),
            if_exists,
        }),
        _ => Err(usage.to_string()),
    }
}

/// `SET`, `SET key`, `SET key = value` (the value may be quoted).
fn parse_set(statement: &str) -> Result<Command, String> {
    let rest = statement[3..].trim();
    if rest.is_empty() {
        return Ok(Command::Set {
            key: None,
            value: None,
        });
    }
    let (key, value) = match rest.split_once('=') {
        Some((k, v)) => (k.trim(), Some(unquote(v.trim()))),
        None => (rest, None),
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(format!(
            "invalid SET '{rest}': expected SET key = value, e.g. SET trigger = '5 seconds'"
        ));
    }
    Ok(Command::Set {
        key: Some(key.to_string()),
        value,
    })
}

fn unquote(v: &str) -> String {
    for q in ['\'', '"'] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn q(sql: &str) -> Query {
        query(sql).unwrap()
    }

    #[test]
    fn stream_reads_are_marked_and_removed() {
        let got = q("SELECT CAST(value AS STRING) FROM STREAM lines WHERE x = 'STREAM y'");
        assert_eq!(
            got.sql,
            "SELECT CAST(value AS STRING) FROM lines WHERE x = 'STREAM y'"
        );
        assert_eq!(got.stream.as_deref(), Some("lines"));
        let got = q("SELECT * FROM (SELECT explode(x) FROM stream(Lines)) t");
        assert_eq!(got.sql, "SELECT * FROM (SELECT explode(x) FROM Lines) t");
        assert_eq!(got.stream.as_deref(), Some("lines"));
    }

    #[test]
    fn a_table_named_stream_is_not_a_stream_read() {
        let got = q("SELECT stream FROM stream WHERE stream > 1");
        assert_eq!(got.sql, "SELECT stream FROM stream WHERE stream > 1");
        assert_eq!(got.stream, None);
        let err = query("SELECT * FROM STREAM a JOIN STREAM b ON a.x = b.x").unwrap_err();
        assert!(err.contains("found 2: a, b"), "{err}");
    }

    #[test]
    fn create_view_with_spark_options() {
        let got = parse(
            "CREATE TEMPORARY VIEW Lines USING kafka OPTIONS ('kafka.bootstrap.servers' '127.0.0.1:9092', subscribe 'test', startingOffsets = \"earliest\", maxOffsetsPerTrigger 10, kafka.group.id 'g')",
        )
        .unwrap();
        assert_eq!(
            got,
            Command::CreateView {
                name: "lines".to_string(),
                format: "kafka".to_string(),
                options: vec![
                    ("kafka.bootstrap.servers".into(), "127.0.0.1:9092".into()),
                    ("subscribe".into(), "test".into()),
                    ("startingOffsets".into(), "earliest".into()),
                    ("maxOffsetsPerTrigger".into(), "10".into()),
                    ("kafka.group.id".into(), "g".into()),
                ],
                replace: false,
            }
        );
        let got = parse("create or replace temp view t using rate").unwrap();
        assert!(
            matches!(got, Command::CreateView { replace: true, ref options, .. } if options.is_empty())
        );
    }

    #[test]
    fn create_view_errors_say_what_is_expected() {
        let err = parse("CREATE VIEW t USING rate").unwrap_err();
        assert!(err.contains("the shell's views are temporary"), "{err}");
        let err = parse("CREATE TEMP VIEW t AS SELECT 1").unwrap_err();
        assert!(
            err.contains("views over a query are not supported"),
            "{err}"
        );
        let err = parse("CREATE TEMP VIEW t USING rate OPTIONS (rowsPerSecond)").unwrap_err();
        assert!(
            err.contains("option 'rowsPerSecond' needs a value"),
            "{err}"
        );
        let err = parse("CREATE TEMP VIEW t USING rate OPTIONS (a 1 b 2)").unwrap_err();
        assert!(
            err.contains("expected ',' or ')' after option 'a'"),
            "{err}"
        );
    }

    #[test]
    fn set_start_drop_and_backslash_commands() {
        assert_eq!(
            parse("SET trigger = '5 seconds'").unwrap(),
            Command::Set {
                key: Some("trigger".into()),
                value: Some("5 seconds".into())
            }
        );
        assert_eq!(
            parse("set spark.sql.shuffle.partitions").unwrap(),
            Command::Set {
                key: Some("spark.sql.shuffle.partitions".into()),
                value: None
            }
        );
        let Command::StartQuery { name, query } =
            parse("START QUERY Top10 AS SELECT a FROM STREAM s").unwrap()
        else {
            panic!("not a START QUERY");
        };
        assert_eq!(name, "top10");
        assert_eq!(query.sql, "SELECT a FROM s");
        assert_eq!(
            parse("DROP VIEW IF EXISTS T").unwrap(),
            Command::DropView {
                name: "t".into(),
                if_exists: true
            }
        );
        assert_eq!(
            parse("\\d Lines;").unwrap(),
            Command::Describe(Some("lines".into()))
        );
        assert_eq!(
            parse("\\stop top10").unwrap(),
            Command::Stop("top10".into())
        );
        let err = parse("\\x").unwrap_err();
        assert!(err.starts_with("unknown command '\\x'"), "{err}");
        let err = parse("\\stop").unwrap_err();
        assert!(err.contains("needs a query name"), "{err}");
    }
}
