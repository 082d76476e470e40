//! What kindling's own `GroupsAccumulator`s (checked `sum`, Spark's `min`/`max` of doubles)
//! share: which input rows count, the input as state with a FILTER applied, and a group's
//! value emitted with its validity (NULL for a group that saw no value).

use datafusion::arrow::array::{Array, ArrayRef, ArrowPrimitiveType, BooleanArray, PrimitiveArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::{not, nullif, prep_null_mask_filter};
use datafusion::error::Result;
use datafusion::logical_expr::EmitTo;

/// Whether row `row` of `values` counts: not NULL, and kept by the aggregate's FILTER.
pub(crate) fn counts(values: &dyn Array, filter: Option<&BooleanArray>, row: usize) -> bool {
    values.is_valid(row) && filter.is_none_or(|f| f.is_valid(row) && f.value(row))
}

/// `values` with the rows the FILTER drops set to NULL (the state of one row per group).
pub(crate) fn filtered(values: ArrayRef, filter: Option<&BooleanArray>) -> Result<ArrayRef> {
    Ok(match filter {
        Some(filter) => nullif(&values, &not(&prep_null_mask_filter(filter))?)?,
        None => values,
    })
}

/// The groups' values `emit_to` asks for, NULL where a group saw no value.
pub(crate) fn emit<T: ArrowPrimitiveType>(
    values: &mut Vec<T::Native>,
    seen: &mut Vec<bool>,
    emit_to: EmitTo,
) -> PrimitiveArray<T> {
    let values = emit_to.take_needed(values);
    let seen = emit_to.take_needed(seen);
    PrimitiveArray::<T>::new(values.into(), Some(NullBuffer::from(seen)))
}
