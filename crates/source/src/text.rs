//! Spark's `text` file source over a directory: one row per line in column `value`, files
//! admitted in modification-time order (name breaks ties), each file read once.
//!
//! The offset is `{"logOffset": n}`: the number of admitted files consumed so far. The list of
//! admitted files is the source's log, so a range of offsets always names the same files.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use arrow::array::{ArrayRef, StringViewArray, StringViewBuilder};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use serde_json::json;

use super::{MicroBatchSource, ReadLimit, SourceOffset, offset_field};
use kindling_core::error::{Error, Result};
use kindling_core::fs::MetadataLog;
use kindling_core::options::Options;

/// Lines of the text files in a directory.
#[derive(Debug)]
pub struct TextFileSource {
    name: String,
    dir: PathBuf,
    max_files_per_trigger: Option<u64>,
    schema: SchemaRef,
    /// Files in admission order; the offset indexes into this list.
    files: Vec<PathBuf>,
    seen: HashSet<PathBuf>,
    /// With `availableNow`: the number of files present at start.
    available_now_end: Option<u64>,
    /// The checkpoint's `sources/<i>` log, once attached.
    log: Option<MetadataLog>,
    /// How many admitted files the log holds.
    logged: usize,
}

const OPTIONS: &[&str] = &["path", "maxFilesPerTrigger", "lineSep", "wholetext"];

impl TextFileSource {
    /// Builds the source from its options (`path` required, `maxFilesPerTrigger`).
    pub fn try_new(options: &Options) -> Result<Self> {
        options.warn_unknown(OPTIONS);
        if options.get("lineSep").is_some() || options.bool_or("wholetext", false)? {
            return Err(options.invalid(
                if options.get("lineSep").is_some() {
                    "lineSep"
                } else {
                    "wholetext"
                },
                "not supported: lines are split on \\n, \\r\\n and \\r",
            ));
        }
        let dir = PathBuf::from(
            options.required("path", "set source.options.path to the directory to watch")?,
        );
        if !dir.is_dir() {
            return Err(options.invalid(
                "path",
                if dir.exists() {
                    "not a directory; the text source watches a directory for new files"
                } else {
                    "the directory does not exist; create it or fix source.options.path"
                },
            ));
        }
        let max_files_per_trigger = options.positive_u64("maxFilesPerTrigger", None)?;
        Ok(TextFileSource {
            name: format!("FileStreamSource[{}]", dir.display()),
            dir,
            max_files_per_trigger,
            schema: Arc::new(Schema::new(vec![Field::new(
                "value",
                DataType::Utf8View,
                false,
            )])),
            files: Vec::new(),
            seen: HashSet::new(),
            available_now_end: None,
            log: None,
            logged: 0,
        })
    }

    /// Admits files that appeared since the last listing, oldest first.
    fn discover(&mut self) -> Result<()> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| {
            Error::io(
                format!("listing input directory '{}'", self.dir.display()),
                e,
            )
        })?;
        let mut new_files: Vec<(SystemTime, PathBuf)> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| {
                Error::io(
                    format!("listing input directory '{}'", self.dir.display()),
                    e,
                )
            })?;
            let path = entry.path();
            if self.seen.contains(&path) || is_hidden(&path) {
                continue;
            }
            let meta = match entry.metadata() {
                Ok(m) => m,
                // Deleted between listing and stat: it will simply not be admitted.
                Err(_) => continue,
            };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            new_files.push((modified, path));
        }
        new_files.sort();
        for (_, path) in new_files {
            self.seen.insert(path.clone());
            self.files.push(path);
        }
        Ok(())
    }
}

impl TextFileSource {
    /// Logs the files admitted up to `end` (the offset about to be written), as
    /// `sources/<i>/<end>`: one path per line.
    fn log_admitted(&mut self, end: usize) -> Result<()> {
        let Some(log) = &self.log else {
            return Ok(());
        };
        if end <= self.logged {
            return Ok(());
        }
        let mut text = String::new();
        for path in &self.files[self.logged..end] {
            text.push_str(&serde_json::json!(path.to_string_lossy()).to_string());
            text.push('\n');
        }
        log.add(end as u64, text.as_bytes())?;
        self.logged = end;
        Ok(())
    }
}

/// Spark skips files whose names start with `_` or `.` (metadata, in-progress files).
fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
}

#[async_trait]
impl MicroBatchSource for TextFileSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    async fn prepare_available_now(&mut self) -> Result<()> {
        self.discover()?;
        self.available_now_end = Some(self.files.len() as u64);
        Ok(())
    }

    async fn latest_offset(
        &mut self,
        start: Option<&SourceOffset>,
        limit: ReadLimit,
    ) -> Result<Option<SourceOffset>> {
        let available = match self.available_now_end {
            Some(end) => end,
            None => {
                self.discover()?;
                self.files.len() as u64
            }
        };
        let start = offset_field(start, "logOffset")?;
        let end = match (limit, self.max_files_per_trigger) {
            (ReadLimit::Configured, Some(max)) => available.min(start + max),
            _ => available,
        };
        let end = end.max(start);
        self.log_admitted(end as usize)?;
        Ok((end > 0).then(|| SourceOffset(json!({ "logOffset": end }))))
    }

    fn identity(&self) -> serde_json::Value {
        json!({ "format": "text", "path": self.dir.to_string_lossy() })
    }

    fn attach(&mut self, log: MetadataLog) -> Result<()> {
        for n in log.ids()? {
            let path = log.path(n);
            let text = log.get(n)?.ok_or_else(|| Error::Checkpoint {
                path: path.clone(),
                message: "disappeared while it was read; is another query using this checkpoint?"
                    .to_string(),
            })?;
            for line in text.lines() {
                let file: String = serde_json::from_str(line).map_err(|e| Error::Checkpoint {
                    path: path.clone(),
                    message: format!("unreadable file-list entry ({e}); the source log is corrupt"),
                })?;
                let file = PathBuf::from(file);
                self.seen.insert(file.clone());
                self.files.push(file);
            }
            if self.files.len() as u64 != n {
                return Err(Error::Checkpoint {
                    path,
                    message: format!(
                        "lists files up to #{} but is named {n}; the source log is corrupt",
                        self.files.len()
                    ),
                });
            }
        }
        self.logged = self.files.len();
        self.log = Some(log);
        Ok(())
    }

    async fn read_batch(
        &mut self,
        start: Option<&SourceOffset>,
        end: &SourceOffset,
    ) -> Result<Vec<RecordBatch>> {
        let start = offset_field(start, "logOffset")? as usize;
        let end = offset_field(Some(end), "logOffset")? as usize;
        let files = self.files.get(start..end).ok_or_else(|| Error::Source {
            source_name: self.name.clone(),
            message: format!(
                "files {start}..{end} were asked for but only {} are known",
                self.files.len()
            ),
            cause: None,
        })?;
        let mut batches = Vec::with_capacity(files.len());
        for path in files {
            let bytes = tokio::fs::read(path)
                .await
                .map_err(|e| Error::io(format!("reading input file '{}'", path.display()), e))?;
            let column: ArrayRef = Arc::new(lines_to_array(bytes)?);
            batches.push(RecordBatch::try_new(
                Arc::clone(&self.schema),
                vec![column],
            )?);
        }
        Ok(batches)
    }
}

/// Splits `bytes` into lines on `\n`, `\r\n` and a lone `\r` (the separators are dropped and a
/// final separator ends the last line), decoding invalid UTF-8 as U+FFFD as Spark does.
///
/// A valid file (the usual case) is not copied: the lines are views into the file's buffer.
pub fn lines_to_array(bytes: Vec<u8>) -> Result<StringViewArray> {
    let mut builder = StringViewBuilder::with_capacity(bytes.len() / 40 + 1);
    if std::str::from_utf8(&bytes).is_ok() && bytes.len() < u32::MAX as usize {
        let base = bytes.as_ptr() as usize;
        let lines: Vec<(u32, u32)> = split_lines(&bytes)
            .map(|line| ((line.as_ptr() as usize - base) as u32, line.len() as u32))
            .collect();
        let block = builder.append_block(Buffer::from(bytes));
        for (offset, len) in lines {
            // SAFETY: the block is the whole file, which is valid UTF-8, and each line is a
            // range of it that starts and ends at a line separator (ASCII) or the file's
            // ends, so it is in bounds and on character boundaries.
            unsafe { builder.append_view_unchecked(block, offset, len) };
        }
    } else {
        for line in split_lines(&bytes) {
            builder.append_value(String::from_utf8_lossy(line));
        }
    }
    Ok(builder.finish())
}

/// The lines of `bytes` as Hadoop's `LineRecordReader` reads them.
pub fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr2(b'\n', b'\r', rest) {
            None => {
                let line = rest;
                rest = &[];
                Some(line)
            }
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                rest = &rest[i + skip..];
                Some(line)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    fn lines(s: &[u8]) -> Vec<String> {
        split_lines(s)
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    #[test]
    fn splits_on_every_line_end() {
        assert_eq!(lines(b"a\nb\r\nc\rd"), ["a", "b", "c", "d"]);
        assert_eq!(lines(b"a\n\nb\n"), ["a", "", "b"]);
        assert_eq!(lines(b"\n"), [""]);
        assert_eq!(lines(b"\r\n\r\n"), ["", ""]);
        assert!(lines(b"").is_empty());
        assert_eq!(lines(b"x\r"), ["x"]);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_character() {
        let array = lines_to_array(b"ok\n#a\xffb\n".to_vec()).unwrap();
        assert_eq!(array.value(1), "#a\u{FFFD}b");
        let valid = lines_to_array(b"a line longer than twelve bytes\r\nshort\n".to_vec()).unwrap();
        assert_eq!(valid.value(0), "a line longer than twelve bytes");
        assert_eq!(valid.value(1), "short");
    }

    #[tokio::test]
    async fn files_are_admitted_in_mtime_order_and_rate_limited() {
        let dir = tempfile::tempdir().unwrap();
        let base = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        for (i, name) in ["b.txt", "a.txt", "c.txt"].iter().enumerate() {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("{name}\n")).unwrap();
            let f = std::fs::File::options().write(true).open(&path).unwrap();
            f.set_modified(base + std::time::Duration::from_secs(i as u64))
                .unwrap();
        }
        std::fs::write(dir.path().join("_SUCCESS"), "").unwrap();
        let opts = Options::from_pairs(
            "source 'text'",
            [
                ("path", dir.path().to_str().unwrap()),
                ("maxFilesPerTrigger", "2"),
            ],
        );
        let mut source = TextFileSource::try_new(&opts).unwrap();
        let first = source
            .latest_offset(None, ReadLimit::Configured)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.0, json!({"logOffset": 2}));
        let rows = source.read_batch(None, &first).await.unwrap();
        let values: Vec<_> = rows
            .iter()
            .map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<StringViewArray>()
                    .unwrap()
                    .value(0)
                    .to_string()
            })
            .collect();
        assert_eq!(values, ["b.txt", "a.txt"]);
        let all = source
            .latest_offset(Some(&first), ReadLimit::All)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(all.0, json!({"logOffset": 3}));
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let opts = Options::from_pairs("source 'text'", [("path", "/no/such/dir")]);
        let err = TextFileSource::try_new(&opts).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid option 'path' = '/no/such/dir' for source 'text': the directory does not exist; create it or fix source.options.path"
        );
    }
}
