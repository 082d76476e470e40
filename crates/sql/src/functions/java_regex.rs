//! Java regular expressions (what Spark's `split`, `rlike`, `regexp_*` take) in Rust's
//! `regex` syntax: Java's `\w`, `\d`, `\s` and `\b` are ASCII-only, Rust's are Unicode, so
//! `#(\w+)` on `#café` must match `caf` as in Spark.

/// Rewrites the ASCII-only shorthand classes of `pattern` into explicit ASCII classes.
pub fn to_rust(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let (inside, outside) = match next {
                    'w' => ("0-9A-Za-z_", "[0-9A-Za-z_]"),
                    'W' => ("&&[^0-9A-Za-z_]", "[^0-9A-Za-z_]"),
                    'd' => ("0-9", "[0-9]"),
                    'D' => ("&&[^0-9]", "[^0-9]"),
                    's' => (" \\t\\n\\x0B\\x0C\\r", "[ \\t\\n\\x0B\\x0C\\r]"),
                    'S' => ("&&[^ \\t\\n\\x0B\\x0C\\r]", "[^ \\t\\n\\x0B\\x0C\\r]"),
                    'b' if !in_class => ("", "(?-u:\\b)"),
                    'B' if !in_class => ("", "(?-u:\\B)"),
                    other => {
                        out.push('\\');
                        out.push(other);
                        continue;
                    }
                };
                out.push_str(if in_class { inside } else { outside });
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A leading ']' or '^]' is literal in both syntaxes.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;
    use regex::Regex;

    #[test]
    fn shorthand_classes_are_ascii_like_java() {
        assert_eq!(to_rust(r"#(\w+)"), "#([0-9A-Za-z_]+)");
        assert_eq!(to_rust(r"[\w-]+"), "[0-9A-Za-z_-]+");
        assert_eq!(to_rust(r"\d+\.\d"), r"[0-9]+\.[0-9]");
        let re = Regex::new(&to_rust(r"#(\w+)")).unwrap();
        assert_eq!(&re.captures("#café").unwrap()[1], "caf");
        assert_eq!(&re.captures("#한국어 #chaxdi").unwrap()[1], "chaxdi");
        let re = Regex::new(&to_rust(r"[^\W]+")).unwrap();
        assert!(re.is_match("abc"));
        assert!(Regex::new(&to_rust(r"\bx\b")).unwrap().is_match("a x b"));
    }
}
