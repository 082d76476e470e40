//! A strict parser for the Python list literals the tutorial's `foreachBatch` function posts
//! (`['#a', "it's"]`, `['3', '1']`, `[3, 1.5]`): strings with Python's escapes, and numbers.
//! Nothing is evaluated; anything else is an error.

/// One element of a posted list.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// A string literal.
    Str(String),
    /// An int or float literal.
    Num(f64),
}

impl PyValue {
    /// The value as the chart shows it: a string as is, a number in its shortest form.
    pub fn label(&self) -> String {
        match self {
            PyValue::Str(s) => s.clone(),
            PyValue::Num(n) => format!("{n}"),
        }
    }

    /// The value as a bar length: a number, or a string holding one (the tutorial's counts
    /// arrive as `str()` of ints).
    pub fn number(&self) -> Option<f64> {
        match self {
            PyValue::Num(n) => Some(*n),
            PyValue::Str(s) => s.trim().parse().ok(),
        }
    }
}

/// Parses `[elem, elem, ...]` (a trailing comma allowed, as in Python).
pub fn parse_list(text: &str) -> Result<Vec<PyValue>, String> {
    let mut p = Parser {
        chars: text.chars().collect(),
        i: 0,
    };
    p.skip_ws();
    p.expect('[')?;
    let mut items = Vec::new();
    loop {
        p.skip_ws();
        if p.peek() == Some(']') {
            p.i += 1;
            break;
        }
        items.push(p.value()?);
        p.skip_ws();
        match p.next() {
            Some(',') => continue,
            Some(']') => break,
            other => return Err(format!("expected ',' or ']' at {}, found {other:?}", p.i)),
        }
    }
    p.skip_ws();
    if p.i != p.chars.len() {
        return Err(format!("unexpected text after the list at {}", p.i));
    }
    Ok(items)
}

struct Parser {
    chars: Vec<char>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.i += 1;
        c
    }

    fn skip_ws(&mut self) {
        while self
            .peek()
            .is_some_and(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r')
        {
            self.i += 1;
        }
    }

    fn expect(&mut self, want: char) -> Result<(), String> {
        match self.next() {
            Some(c) if c == want => Ok(()),
            other => Err(format!(
                "expected '{want}' at {}, found {other:?}",
                self.i - 1
            )),
        }
    }

    fn value(&mut self) -> Result<PyValue, String> {
        match self.peek() {
            Some(q @ ('\'' | '"')) => {
                self.i += 1;
                self.string(q).map(PyValue::Str)
            }
            Some(c) if c == '-' || c == '+' || c == '.' || c.is_ascii_digit() => self.number(),
            other => Err(format!(
                "expected a string or a number at {}, found {other:?}",
                self.i
            )),
        }
    }

    fn number(&mut self) -> Result<PyValue, String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E' | '_'))
        {
            self.i += 1;
        }
        let text: String = self.chars[start..self.i]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        text.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(PyValue::Num)
            .ok_or_else(|| format!("'{text}' is not a number"))
    }

    fn string(&mut self, quote: char) -> Result<String, String> {
        let mut out = String::new();
        loop {
            match self.next() {
                None => return Err("unterminated string".to_string()),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => {
                    let c = self.next().ok_or("unterminated escape")?;
                    match c {
                        '\\' | '\'' | '"' => out.push(c),
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        '0' => out.push('\0'),
                        'x' => out.push(self.hex(2)?),
                        'u' => out.push(self.hex(4)?),
                        'U' => out.push(self.hex(8)?),
                        other => return Err(format!("unsupported escape '\\{other}'")),
                    }
                }
                Some('\n') => return Err("newline inside a string".to_string()),
                Some(c) => out.push(c),
            }
        }
    }

    fn hex(&mut self, digits: usize) -> Result<char, String> {
        let end = self.i + digits;
        if end > self.chars.len() {
            return Err("truncated escape".to_string());
        }
        let text: String = self.chars[self.i..end].iter().collect();
        self.i = end;
        u32::from_str_radix(&text, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| format!("invalid escape value '{text}'"))
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;
    use kindling_sink::http::python_list_repr;

    #[test]
    fn reads_what_python_prints() {
        let values = vec![
            "#a".to_string(),
            "it's".to_string(),
            "say \"hi\" it's".to_string(),
            "tab\there\\".to_string(),
            "#한국어🔥\u{a0}".to_string(),
        ];
        let parsed = parse_list(&python_list_repr(&values)).unwrap();
        assert_eq!(
            parsed,
            values.into_iter().map(PyValue::Str).collect::<Vec<_>>()
        );
        assert_eq!(
            parse_list(" [3, 1.5, -2, ] ").unwrap(),
            [PyValue::Num(3.0), PyValue::Num(1.5), PyValue::Num(-2.0)]
        );
        assert_eq!(parse_list("[]").unwrap(), []);
        assert_eq!(PyValue::Str("3".into()).number(), Some(3.0));
    }

    #[test]
    fn refuses_anything_else() {
        for bad in [
            "",
            "['a'",
            "['a',, 'b']",
            "[__import__('os')]",
            "[1] + [2]",
            "['a'] x",
            "{'a': 1}",
            "['\\q']",
            "[nan]",
        ] {
            assert!(parse_list(bad).is_err(), "{bad}");
        }
    }
}
