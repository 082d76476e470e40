//! Comparing Spark console outputs the way Spark defines them: the order of rows with equal
//! sort keys (ties) is undefined, so is the order of an unsorted batch, and a `numRows` cut
//! inside a run of ties may show any of them. Shared by the golden and Spark-diff tests.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::panic)]

pub mod broker;
pub mod process;
pub mod spark;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Compare {
    /// Byte for byte.
    Exact,
    Ties,
    Unordered,
    Cut,
    Subset,
    Error,
}

/// One printed batch: its title line, the table's lines and the footer.
#[derive(Debug)]
struct Batch {
    title: String,
    separator: String,
    header: String,
    rows: Vec<String>,
    footer: Option<String>,
}

fn parse_batches(out: &str) -> Vec<Batch> {
    let dashes = "-------------------------------------------";
    let lines: Vec<&str> = out.lines().collect();
    let mut batches = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        assert_eq!(
            lines[i], dashes,
            "line {i}: expected the batch header in:\n{out}"
        );
        let title = lines[i + 1].to_string();
        assert_eq!(lines[i + 2], dashes);
        let separator = lines[i + 3].to_string();
        let header = lines[i + 4].to_string();
        assert_eq!(lines[i + 5], separator);
        i += 6;
        let mut rows = Vec::new();
        while lines[i] != separator {
            rows.push(lines[i].to_string());
            i += 1;
        }
        i += 1;
        let footer = match lines.get(i) {
            Some(l) if l.starts_with("only showing top") => {
                i += 1;
                Some(l.to_string())
            }
            Some(&"") => {
                i += 1;
                None
            }
            _ => None,
        };
        batches.push(Batch {
            title,
            separator,
            header,
            rows,
            footer,
        });
    }
    batches
}

fn cells(row: &str) -> Vec<String> {
    let inner = row
        .strip_prefix('|')
        .and_then(|r| r.strip_suffix('|'))
        .unwrap_or(row);
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

fn last_cell(row: &str) -> String {
    cells(row).pop().unwrap_or_default()
}

/// Sorts rows within runs of equal last cells (ties) or entirely (unordered).
fn normalize(batch: &Batch, compare: Compare) -> String {
    let mut rows = batch.rows.clone();
    if compare == Compare::Unordered {
        rows.sort();
    } else {
        let mut start = 0;
        while start < rows.len() {
            let key = last_cell(&rows[start]);
            let mut end = start + 1;
            while end < rows.len() && last_cell(&rows[end]) == key {
                end += 1;
            }
            rows[start..end].sort();
            start = end;
        }
    }
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        batch.title,
        batch.separator,
        batch.header,
        rows.join("\n"),
        batch.separator,
        batch.footer.clone().unwrap_or_default()
    )
}

pub fn compare_output(expected: &str, actual: &str, compare: Compare) -> Result<(), String> {
    if compare == Compare::Exact {
        return if expected == actual {
            Ok(())
        } else {
            Err("output differs byte for byte".to_string())
        };
    }
    let want = parse_batches(expected);
    let got = parse_batches(actual);
    if want.len() != got.len() {
        return Err(format!(
            "expected {} batches, got {}",
            want.len(),
            got.len()
        ));
    }
    for (w, g) in want.iter().zip(&got) {
        let context = |what: &str| format!("{}: {what}", w.title);
        if w.title != g.title {
            return Err(format!("expected '{}', got '{}'", w.title, g.title));
        }
        match compare {
            Compare::Ties | Compare::Unordered => {
                let (nw, ng) = (normalize(w, compare), normalize(g, compare));
                if nw != ng {
                    return Err(context(&format!("expected\n{nw}\ngot\n{ng}")));
                }
            }
            Compare::Cut => {
                if cells(&w.header) != cells(&g.header) || w.footer != g.footer {
                    return Err(context("header or footer differs"));
                }
                let counts = |b: &Batch| b.rows.iter().map(|r| last_cell(r)).collect::<Vec<_>>();
                if counts(w) != counts(g) {
                    return Err(context(&format!(
                        "counts differ: expected {:?}, got {:?}",
                        counts(w),
                        counts(g)
                    )));
                }
            }
            Compare::Subset => {
                if cells(&w.header) != cells(&g.header) {
                    return Err(context("header differs"));
                }
                let have: Vec<Vec<String>> = g.rows.iter().map(|r| cells(r)).collect();
                for row in &w.rows {
                    if !have.contains(&cells(row)) {
                        return Err(context(&format!(
                            "row {row} missing from kindling's output"
                        )));
                    }
                }
            }
            Compare::Exact | Compare::Error => unreachable!(),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_catch_differences() {
        let a = "-------------------------------------------\nBatch: 0\n-------------------------------------------\n+---+---+\n|tag|n  |\n+---+---+\n|#a |2  |\n|#b |1  |\n|#c |1  |\n+---+---+\n\n";
        let tie_swapped = a.replace("|#b |1  |\n|#c |1  |", "|#c |1  |\n|#b |1  |");
        assert!(compare_output(a, &tie_swapped, Compare::Ties).is_ok());
        assert!(compare_output(a, &tie_swapped, Compare::Exact).is_err());
        let reordered = a.replace("|#a |2  |\n|#b |1  |", "|#b |1  |\n|#a |2  |");
        assert!(compare_output(a, &reordered, Compare::Ties).is_err());
        assert!(compare_output(a, &reordered, Compare::Unordered).is_ok());
        let wrong = a.replace("|#a |2  |", "|#a |3  |");
        for mode in [
            Compare::Ties,
            Compare::Unordered,
            Compare::Cut,
            Compare::Subset,
        ] {
            assert!(compare_output(a, &wrong, mode).is_err(), "{mode:?}");
        }
    }
}
