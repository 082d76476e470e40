//! The file system and the clock, as the layers above use them: [`write_atomically`] (a crash
//! leaves the old file or the whole new one), [`MetadataLog`] (a directory of numbered entries,
//! Spark's `HDFSMetadataLog`) and [`now_millis`]. Nothing here knows about queries.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `path` so that a crash leaves either the old file or the whole new one; with
/// `durable`, the file and its directory entry are also on disk when this returns.
pub fn write_atomically(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let context = |what: &str| format!("{what} checkpoint file '{}'", path.display());
    let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io(context("creating"), e))?;
    file.write_all(bytes)
        .and_then(|_| if durable { file.sync_all() } else { Ok(()) })
        .map_err(|e| Error::io(context("writing"), e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(context("renaming"), e))?;
    if durable {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(context("syncing the directory of"), e))?;
    }
    Ok(())
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A directory of entries named by number (`0`, `1`, ...), each written atomically: what a
/// source keeps in its checkpoint directory `sources/<i>` (the text source's file lists, the
/// Kafka source's initial offsets).
#[derive(Debug, Clone)]
pub struct MetadataLog {
    dir: PathBuf,
    durable: bool,
}

impl MetadataLog {
    /// The log in `dir` (created when missing); with `durable`, every entry is on disk when
    /// [`MetadataLog::add`] returns.
    pub fn open(dir: PathBuf, durable: bool) -> Result<Self> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating log directory '{}'", dir.display()), e))?;
        Ok(MetadataLog { dir, durable })
    }

    /// Where the log is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of entry `id`.
    pub fn path(&self, id: u64) -> PathBuf {
        self.dir.join(id.to_string())
    }

    /// Writes entry `id` (replacing it whole if it exists).
    pub fn add(&self, id: u64, bytes: &[u8]) -> Result<()> {
        write_atomically(&self.path(id), bytes, self.durable)
    }

    /// Writes a named file beside the entries (e.g. the source's identity).
    pub fn put_file(&self, name: &str, bytes: &[u8]) -> Result<()> {
        write_atomically(&self.dir.join(name), bytes, self.durable)
    }

    /// Reads a named file beside the entries; `None` when there is none.
    pub fn file(&self, name: &str) -> Result<Option<String>> {
        read_if_exists(&self.dir.join(name))
    }

    /// Entry `id`'s text; `None` when there is no such entry.
    pub fn get(&self, id: u64) -> Result<Option<String>> {
        read_if_exists(&self.path(id))
    }

    /// The ids of the entries, ascending.
    pub fn ids(&self) -> Result<Vec<u64>> {
        let listing = std::fs::read_dir(&self.dir)
            .map_err(|e| Error::io(format!("reading log directory '{}'", self.dir.display()), e))?;
        let mut ids = Vec::new();
        for entry in listing {
            let entry = entry.map_err(|e| {
                Error::io(format!("reading log directory '{}'", self.dir.display()), e)
            })?;
            if let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u64>().ok())
            {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }
}

fn read_if_exists(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading '{}'", path.display()), e)),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_log_lists_and_reads_its_entries_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = MetadataLog::open(dir.path().join("sources/0"), false).unwrap();
        log.add(10, b"ten").unwrap();
        log.add(2, b"two").unwrap();
        log.put_file("_source", b"{}").unwrap();
        assert_eq!(log.ids().unwrap(), [2, 10]);
        assert_eq!(log.get(10).unwrap().as_deref(), Some("ten"));
        assert_eq!(log.get(3).unwrap(), None);
        assert_eq!(log.file("_source").unwrap().as_deref(), Some("{}"));
        // No temporary file is left beside the entries.
        assert_eq!(std::fs::read_dir(log.dir()).unwrap().count(), 3);
    }
}
