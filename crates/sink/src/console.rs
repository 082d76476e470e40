//! The `console` sink: prints each batch exactly as Spark 4's console sink does (the 43-dash
//! `Batch: N` header, then `Dataset.show(numRows, truncate)`), as Spark's
//! `ConsoleWrite` (sql/core/.../streaming/sources/ConsoleWriter.scala) prints it.

use std::io::Write;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use super::Sink;
use kindling_core::error::{Error, Result};
use kindling_core::options::Options;
use kindling_core::output_mode::OutputMode;
use kindling_core::spark_text as pretty;

/// Prints batches to stdout.
#[derive(Debug)]
pub struct ConsoleSink {
    schema: SchemaRef,
    num_rows: usize,
    truncate: usize,
}

const OPTIONS: &[&str] = &["numRows", "truncate"];

impl ConsoleSink {
    /// Builds the sink from its options (`numRows`, default 20; `truncate`, default true).
    pub fn try_new(options: &Options, schema: SchemaRef) -> Result<Self> {
        options.warn_unknown(OPTIONS);
        let num_rows = options.u64_or("numRows", 20)? as usize;
        let truncate = if options.bool_or("truncate", true)? {
            20
        } else {
            0
        };
        Ok(ConsoleSink {
            schema,
            num_rows,
            truncate,
        })
    }

    /// The text printed for one batch.
    pub fn render(&self, batch_id: u64, batches: &[RecordBatch]) -> String {
        let mut out = String::new();
        out.push_str("-------------------------------------------\n");
        out.push_str(&format!("Batch: {batch_id}\n"));
        out.push_str("-------------------------------------------\n");
        out.push_str(&show_string(
            &self.schema,
            batches,
            self.num_rows,
            self.truncate,
        ));
        out.push('\n');
        out
    }
}

#[async_trait]
impl Sink for ConsoleSink {
    fn name(&self) -> &str {
        "ConsoleSink"
    }

    async fn add_batch(
        &self,
        batch_id: u64,
        _output_mode: OutputMode,
        batches: &[RecordBatch],
    ) -> Result<()> {
        let text = self.render(batch_id, batches);
        let mut stdout = std::io::stdout().lock();
        match stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
        {
            Ok(()) => Ok(()),
            // A closed pipe (`| head`) is the reader's choice, not a failure of the query.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(Error::io("writing to the console", e)),
        }
    }
}

/// Spark's `Dataset.showString(numRows, truncate)` (horizontal layout). Ends with the footer
/// line (no newline) or with the closing separator's newline, as Spark 4 does.
pub fn show_string(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    num_rows: usize,
    truncate: usize,
) -> String {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(num_rows.min(total) + 1);
    rows.push(
        schema
            .fields()
            .iter()
            .map(|f| escape_meta_characters(f.name()))
            .collect(),
    );
    'outer: for batch in batches {
        for i in 0..batch.num_rows() {
            if rows.len() > num_rows {
                break 'outer;
            }
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| {
                        truncate_cell(
                            escape_meta_characters(&pretty::cell(c.as_ref(), i)),
                            truncate,
                        )
                    })
                    .collect(),
            );
        }
    }
    let has_more = total > num_rows;
    rows.truncate(num_rows + 1);

    let mut widths = vec![3usize; schema.fields().len()];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(half_width(cell));
        }
    }
    let mut out = String::new();
    let sep: String = {
        let mut s = String::from("+");
        for w in &widths {
            s.push_str(&"-".repeat(*w));
            s.push('+');
        }
        s.push('\n');
        s
    };
    out.push_str(&sep);
    for (k, row) in rows.iter().enumerate() {
        out.push('|');
        for (cell, w) in row.iter().zip(&widths) {
            let pad = " ".repeat(w.saturating_sub(half_width(cell)));
            if truncate > 0 {
                out.push_str(&pad);
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&pad);
            }
            out.push('|');
        }
        out.push('\n');
        if k == 0 {
            out.push_str(&sep);
        }
    }
    out.push_str(&sep);
    if has_more {
        let noun = if num_rows == 1 { "row" } else { "rows" };
        out.push_str(&format!("only showing top {num_rows} {noun}"));
    }
    out
}

/// Spark's `SchemaUtils.escapeMetaCharacters`.
pub fn escape_meta_characters(s: &str) -> String {
    if !s.contains(['\n', '\r', '\t', '\u{c}', '\u{8}', '\u{b}', '\u{7}']) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{7}' => out.push_str("\\a"),
            c => out.push(c),
        }
    }
    out
}

/// Java's `str.length > truncate ? str.substring(0, truncate - 3) + "..." : str`, counting
/// UTF-16 code units as Java does (a cut through a surrogate pair leaves `?`, as Java prints a
/// lone surrogate).
pub fn truncate_cell(s: String, truncate: usize) -> String {
    if truncate == 0 || utf16_len(&s) <= truncate {
        return s;
    }
    let keep = if truncate < 4 { truncate } else { truncate - 3 };
    let mut out = String::new();
    let mut units = 0;
    for c in s.chars() {
        let n = c.len_utf16();
        if units + n > keep {
            if units < keep {
                out.push('?');
            }
            break;
        }
        out.push(c);
        units += n;
    }
    if truncate >= 4 {
        out.push_str("...");
    }
    out
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Spark's `Utils.stringHalfWidth`: UTF-16 length plus one per full-width character.
pub fn half_width(s: &str) -> usize {
    s.chars()
        .map(|c| c.len_utf16() + usize::from(is_full_width(c)))
        .sum()
}

fn is_full_width(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE10..=0xFE19
        | 0xFE30..=0xFE6F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn table(tags: &[Option<&str>], counts: &[i64]) -> (SchemaRef, Vec<RecordBatch>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("tag", DataType::Utf8, true),
            Field::new("tag_count", DataType::Int64, false),
        ]));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(tags.to_vec())),
            Arc::new(Int64Array::from(counts.to_vec())),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&schema), cols).unwrap();
        (schema, vec![batch])
    }

    #[test]
    fn left_aligned_without_truncation_with_full_width_cells() {
        let (schema, batches) = table(&[Some("#spark"), Some("#🔥"), Some("#한국어")], &[40, 5, 5]);
        let text = show_string(&schema, &batches, 20, 0);
        assert_eq!(
            text,
            "+-------+---------+\n\
             |tag    |tag_count|\n\
             +-------+---------+\n\
             |#spark |40       |\n\
             |#🔥    |5        |\n\
             |#한국어|5        |\n\
             +-------+---------+\n"
        );
    }

    #[test]
    fn truncation_right_aligns_and_cuts_to_17_plus_dots() {
        let (schema, batches) = table(&[Some("#abcdefghijklmnopqrstuvwxyz"), None], &[1, 2]);
        let text = show_string(&schema, &batches, 1, 20);
        assert_eq!(
            text,
            "+--------------------+---------+\n\
             |                 tag|tag_count|\n\
             +--------------------+---------+\n\
             |#abcdefghijklmnop...|        1|\n\
             +--------------------+---------+\n\
             only showing top 1 row"
        );
        let all = show_string(&schema, &batches, 20, 20);
        assert!(all.contains("|                NULL|        2|"), "{all}");
    }

    #[test]
    fn tabs_are_escaped_and_empty_tables_keep_their_header() {
        let (schema, batches) = table(&[Some("#a\tb")], &[1]);
        assert!(show_string(&schema, &batches, 20, 0).contains("|#a\\tb|1        |"));
        let empty = show_string(&schema, &[], 20, 0);
        assert_eq!(
            empty,
            "+---+---------+\n|tag|tag_count|\n+---+---------+\n+---+---------+\n"
        );
    }

    #[test]
    fn widths_follow_spark_half_width() {
        assert_eq!(half_width("#🔥"), 3);
        assert_eq!(half_width("#한국어"), 7);
        assert_eq!(half_width("#日本"), 5);
        assert_eq!(half_width("café"), 4);
        assert_eq!(
            truncate_cell("x".repeat(16) + "🔥🔥🔥", 20),
            "x".repeat(16) + "?..."
        );
        assert_eq!(
            truncate_cell("x".repeat(16) + "🔥🔥", 20),
            "x".repeat(16) + "🔥🔥"
        );
    }
}
