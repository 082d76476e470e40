//! The file sinks (`json`, `csv`, `text`, `parquet`; append mode) with Spark's exactly-once manifest:
//! each batch's files are listed in `<path>/_spark_metadata/<batchId>` after they are written,
//! and a batch already in the manifest is skipped on replay. Readers take the files the
//! manifest lists, so a crash never shows a batch twice or half of one.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use serde_json::json;

use super::Sink;
use kindling_core::error::{Error, Result};
use kindling_core::fs::write_atomically;
use kindling_core::options::Options;
use kindling_core::output_mode::OutputMode;

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// JSON lines, NULL fields left out (Spark's `json`).
    Json,
    /// Comma-separated values without a header (Spark's `csv` default).
    Csv,
    /// One line per row of a single string column (Spark's `text`).
    Text,
    /// Apache Parquet with Snappy compression (Spark's default codec).
    Parquet,
}

impl FileFormat {
    /// The format of sink `format`, if it is a file format.
    pub fn parse(format: &str) -> Option<Self> {
        match format {
            "json" => Some(FileFormat::Json),
            "csv" => Some(FileFormat::Csv),
            "text" => Some(FileFormat::Text),
            "parquet" => Some(FileFormat::Parquet),
            _ => None,
        }
    }

    fn extension(&self) -> &'static str {
        match self {
            FileFormat::Json => "json",
            FileFormat::Csv => "csv",
            FileFormat::Text => "txt",
            FileFormat::Parquet => "snappy.parquet",
        }
    }
}

/// Writes each batch as one file under `path`, exactly once.
#[derive(Debug)]
pub struct FileSink {
    format: FileFormat,
    dir: PathBuf,
    durable: bool,
}

const OPTIONS: &[&str] = &["path"];

impl FileSink {
    /// Builds the sink; `path` is required, and `text` needs exactly one string column.
    pub fn try_new(format: FileFormat, options: &Options, schema: &SchemaRef) -> Result<Self> {
        options.warn_unknown(OPTIONS);
        let dir = PathBuf::from(
            options.required("path", "set sink.options.path to the output directory")?,
        );
        if format == FileFormat::Text
            && !(schema.fields().len() == 1
                && matches!(
                    schema.field(0).data_type(),
                    DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
                ))
        {
            return Err(Error::Analysis {
                job: options.owner().to_string(),
                message: format!(
                    "Text data source supports only a single column, and you have {} columns.",
                    schema.fields().len()
                ),
            });
        }
        std::fs::create_dir_all(dir.join("_spark_metadata"))
            .map_err(|e| Error::io(format!("creating output directory '{}'", dir.display()), e))?;
        Ok(FileSink {
            format,
            dir,
            durable: true,
        })
    }

    fn encode(&self, batches: &[RecordBatch]) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        match self.format {
            FileFormat::Json => {
                let mut writer = arrow_json::LineDelimitedWriter::new(&mut bytes);
                for b in batches {
                    writer.write(b)?;
                }
                writer.finish()?;
            }
            FileFormat::Csv => {
                let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(false)
                    .build(&mut bytes);
                for b in batches {
                    writer.write(b)?;
                }
            }
            FileFormat::Parquet => {
                let Some(first) = batches.first() else {
                    return Ok(bytes);
                };
                let props = parquet::file::properties::WriterProperties::builder()
                    .set_compression(parquet::basic::Compression::SNAPPY)
                    .build();
                let mut writer =
                    parquet::arrow::ArrowWriter::try_new(&mut bytes, first.schema(), Some(props))
                        .map_err(|e| Error::from(ArrowError::from(e)))?;
                for b in batches {
                    writer
                        .write(b)
                        .map_err(|e| Error::from(ArrowError::from(e)))?;
                }
                writer
                    .close()
                    .map_err(|e| Error::from(ArrowError::from(e)))?;
            }
            FileFormat::Text => {
                for b in batches {
                    let column = datafusion::arrow::compute::cast(b.column(0), &DataType::Utf8)?;
                    let strings = datafusion::arrow::array::AsArray::as_string::<i32>(&column);
                    for v in strings.iter() {
                        bytes.extend_from_slice(v.unwrap_or_default().as_bytes());
                        bytes.push(b'\n');
                    }
                }
            }
        }
        Ok(bytes)
    }
}

#[async_trait]
impl Sink for FileSink {
    fn name(&self) -> &str {
        "FileSink"
    }

    async fn add_batch(
        &self,
        batch_id: u64,
        _output_mode: OutputMode,
        batches: &[RecordBatch],
    ) -> Result<()> {
        let manifest = self.dir.join("_spark_metadata").join(batch_id.to_string());
        if manifest.exists() {
            // Replayed after a crash that followed the manifest write: already delivered.
            return Ok(());
        }
        remove_orphans(&self.dir, batch_id)?;
        let mut entries = Vec::new();
        if batches.iter().any(|b| b.num_rows() > 0) {
            let name = format!(
                "part-{batch_id:05}-{}.{}",
                uuid::Uuid::new_v4(),
                self.format.extension()
            );
            let path = self.dir.join(&name);
            let bytes = self.encode(batches)?;
            write_atomically(&path, &bytes, self.durable)?;
            kindling_core::fault::crash_point("mid-sink", batch_id);
            entries.push(json!({
                "path": format!("file://{}", path.display()),
                "size": bytes.len(),
                "isDir": false,
                "modificationTime": kindling_core::fs::now_millis(),
                "blockReplication": 1,
                "blockSize": 33554432,
                "action": "add",
            }));
        }
        let mut text = String::from("v1");
        for e in entries {
            text.push('\n');
            text.push_str(&e.to_string());
        }
        write_atomically(&manifest, text.as_bytes(), self.durable)
    }
}

/// Data files of `batch_id` left by a crash before its manifest entry: never visible to
/// readers, removed so the directory holds only committed output.
fn remove_orphans(dir: &Path, batch_id: u64) -> Result<()> {
    let prefix = format!("part-{batch_id:05}-");
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("listing output directory '{}'", dir.display()), e))?;
    for entry in entries.filter_map(|e| e.ok()) {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            std::fs::remove_file(&path)
                .map_err(|e| Error::io(format!("removing orphan '{}'", path.display()), e))?;
        }
    }
    Ok(())
}

/// The data files the manifest of `dir` lists, in batch order: what a reader must read.
pub fn committed_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let meta = dir.join("_spark_metadata");
    let mut ids: Vec<u64> = std::fs::read_dir(&meta)
        .map_err(|e| Error::io(format!("reading manifest '{}'", meta.display()), e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect();
    ids.sort_unstable();
    let mut files = Vec::new();
    for id in ids {
        let path = meta.join(id.to_string());
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::io(format!("reading manifest entry '{}'", path.display()), e))?;
        for line in text.lines().skip(1) {
            let entry: serde_json::Value =
                serde_json::from_str(line).map_err(|e| Error::Checkpoint {
                    path: path.clone(),
                    message: format!("unreadable manifest entry ({e})"),
                })?;
            if let Some(p) = entry.get("path").and_then(|p| p.as_str()) {
                files.push((id, PathBuf::from(p.trim_start_matches("file://"))));
            }
        }
    }
    Ok(files)
}
