//! [`StateTable`]: the keyed state of a streaming aggregation, kept as Arrow columns.
//!
//! Each batch appends one chunk holding the new version of every key it touched (key columns,
//! accumulator state columns, final values), and the key index is repointed to it; old versions
//! become garbage that [`StateTable::compact`] drops once it outweighs the live rows. A batch
//! touching k keys therefore costs O(k), and that chunk is exactly the batch's state delta.

use std::collections::HashMap;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::interleave;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::{RowConverter, Rows, SortField};

use kindling_core::error::Result;

/// Per-key bytes of the index beyond the key itself: the boxed slice, the group id, the hash
/// table's control byte and allocator rounding.
const INDEX_ENTRY_OVERHEAD: usize = std::mem::size_of::<(Box<[u8]>, u32)>() + 8;

/// Where the live version of a key is: (chunk, row).
type Loc = (u32, u32);

/// Versioned key → (state, value) storage for one aggregation operator.
pub struct StateTable {
    converter: Option<RowConverter>,
    /// Encoded key → group id (ids count up in first-seen order, so output order is stable).
    index: HashMap<Box<[u8]>, u32, foldhash::fast::FixedState>,
    /// Group id → live location.
    locs: Vec<Loc>,
    /// Every chunk's columns: keys, then states, then final values.
    chunks: Vec<Vec<ArrayRef>>,
    rows_in_chunks: usize,
    /// Bytes held by the key index, kept up to date on insert (summing it would cost O(state)).
    index_bytes: usize,
}

/// The keys of one batch, looked up in the table.
pub struct KeyLookup {
    rows: Option<Rows>,
    len: usize,
    /// For each batch row, the group id if the key is already in the table.
    pub existing: Vec<Option<u32>>,
}

impl StateTable {
    /// An empty table for keys of `key_types` (none for a global aggregate).
    pub fn try_new(key_types: &[DataType]) -> Result<Self> {
        let converter = if key_types.is_empty() {
            None
        } else {
            Some(RowConverter::new(
                key_types
                    .iter()
                    .map(|t| SortField::new(t.clone()))
                    .collect(),
            )?)
        };
        Ok(StateTable {
            converter,
            index: HashMap::with_hasher(foldhash::fast::FixedState::default()),
            locs: Vec::new(),
            chunks: Vec::new(),
            rows_in_chunks: 0,
            index_bytes: 0,
        })
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.locs.len()
    }

    /// True when no key has state.
    pub fn is_empty(&self) -> bool {
        self.locs.is_empty()
    }

    /// Looks up the (distinct) keys of a batch.
    pub fn lookup(&self, keys: &[ArrayRef], len: usize) -> Result<KeyLookup> {
        let rows = match &self.converter {
            Some(c) => Some(c.convert_columns(keys)?),
            None => None,
        };
        let existing = (0..len)
            .map(|i| {
                let key: &[u8] = rows.as_ref().map_or(&[], |r| r.row(i).data());
                self.index.get(key).copied()
            })
            .collect();
        Ok(KeyLookup {
            rows,
            len,
            existing,
        })
    }

    /// Gathers the live columns (keys, states, values) of `groups`, in that order.
    pub fn gather(&self, groups: impl Iterator<Item = u32>) -> Result<Vec<ArrayRef>> {
        let indices: Vec<(usize, usize)> = groups
            .map(|g| {
                let (c, r) = self.locs[g as usize];
                (c as usize, r as usize)
            })
            .collect();
        let width = self.chunks.first().map_or(0, Vec::len);
        (0..width)
            .map(|col| {
                let arrays: Vec<&dyn datafusion::arrow::array::Array> = self
                    .chunks
                    .iter()
                    .map(|chunk| chunk[col].as_ref())
                    .collect();
                Ok(interleave(&arrays, &indices)?)
            })
            .collect()
    }

    /// All live columns in group-id order; `None` while the table is empty.
    pub fn all_live(&self) -> Result<Option<Vec<ArrayRef>>> {
        if self.locs.is_empty() {
            return Ok(None);
        }
        if self.chunks.len() == 1 && self.rows_in_chunks == self.locs.len() {
            // Compacted: chunk rows are the groups in id order.
            return Ok(self.chunks.first().cloned());
        }
        self.gather(0..self.locs.len() as u32).map(Some)
    }

    /// Stores the new version of a batch's keys: `columns` (keys, states, values) has one row
    /// per key of `lookup`, in the same order. Returns the stored chunk (the batch's delta).
    pub fn put(&mut self, lookup: KeyLookup, columns: Vec<ArrayRef>) -> Result<Vec<ArrayRef>> {
        // View arrays may point into a whole input batch's buffers: copy out just the keys'
        // bytes, so that the state never pins input data.
        let columns: Vec<ArrayRef> = columns.into_iter().map(compact_views).collect();
        let delta = columns.clone();
        let chunk = self.chunks.len() as u32;
        for (i, existing) in lookup.existing.iter().enumerate() {
            let loc = (chunk, i as u32);
            match existing {
                Some(g) => self.locs[*g as usize] = loc,
                None => {
                    let key: &[u8] = lookup.rows.as_ref().map_or(&[], |r| r.row(i).data());
                    self.index_bytes += key.len() + INDEX_ENTRY_OVERHEAD;
                    self.index.insert(key.into(), self.locs.len() as u32);
                    self.locs.push(loc);
                }
            }
        }
        self.rows_in_chunks += lookup.len;
        self.chunks.push(columns);
        if self.rows_in_chunks > 2 * self.locs.len() + 1024 {
            self.compact()?;
        }
        Ok(delta)
    }

    /// Rewrites the live rows into one chunk, dropping superseded versions.
    pub fn compact(&mut self) -> Result<()> {
        if let Some(live) = self.all_live()? {
            for (g, loc) in self.locs.iter_mut().enumerate() {
                *loc = (0, g as u32);
            }
            self.rows_in_chunks = self.locs.len();
            self.chunks = vec![live];
        }
        Ok(())
    }

    /// Approximate bytes held: chunk buffers plus the key index.
    pub fn memory_used_bytes(&self) -> usize {
        let chunks: usize = self
            .chunks
            .iter()
            .flat_map(|c| c.iter())
            .map(|a| a.get_array_memory_size())
            .sum();
        chunks + self.index_bytes + self.locs.len() * std::mem::size_of::<Loc>()
    }
}

fn compact_views(array: ArrayRef) -> ArrayRef {
    use datafusion::arrow::array::AsArray;
    match array.data_type() {
        DataType::Utf8View => std::sync::Arc::new(array.as_string_view().gc()),
        DataType::BinaryView => std::sync::Arc::new(array.as_binary_view().gc()),
        _ => array,
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, Int64Array, StringArray};
    use datafusion::arrow::datatypes::Int64Type;
    use std::sync::Arc;

    fn put(table: &mut StateTable, keys: &[&str], counts: &[i64]) {
        let key: ArrayRef = Arc::new(StringArray::from(keys.to_vec()));
        let lookup = table.lookup(&[Arc::clone(&key)], keys.len()).unwrap();
        table
            .put(
                lookup,
                vec![key, Arc::new(Int64Array::from(counts.to_vec()))],
            )
            .unwrap();
    }

    fn live(table: &StateTable) -> Vec<(String, i64)> {
        let cols = table.all_live().unwrap().unwrap();
        let k = cols[0].as_string::<i32>();
        let v = cols[1].as_primitive::<Int64Type>();
        (0..k.len())
            .map(|i| (k.value(i).to_string(), v.value(i)))
            .collect()
    }

    #[test]
    fn newest_version_wins_and_order_is_first_seen() {
        let mut t = StateTable::try_new(&[DataType::Utf8]).unwrap();
        put(&mut t, &["#a", "#b"], &[1, 1]);
        put(&mut t, &["#c", "#a"], &[1, 2]);
        assert_eq!(
            live(&t),
            [("#a".into(), 2), ("#b".into(), 1), ("#c".into(), 1)]
        );
        let lookup = t
            .lookup(&[Arc::new(StringArray::from(vec!["#b", "#z"]))], 2)
            .unwrap();
        assert_eq!(lookup.existing, [Some(1), None]);
        t.compact().unwrap();
        assert_eq!(
            live(&t),
            [("#a".into(), 2), ("#b".into(), 1), ("#c".into(), 1)]
        );
        assert_eq!(t.len(), 3);
    }
}
