//! Spark's `sum` in ANSI mode: the sum of integers is a BIGINT that fails the query on
//! overflow (`[ARITHMETIC_OVERFLOW]`; `try_sum` gives NULL instead), where DataFusion's wraps
//! around. Other inputs (decimals, doubles) are summed by DataFusion's `sum`, which types them
//! as Spark does. The state is the running sum, so it merges across streaming batches.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, ReversedUDAF, Signature,
};

/// See the module documentation.
#[derive(Debug)]
pub struct SparkSum {
    /// DataFusion's sum, for everything but integers.
    other: Arc<AggregateUDF>,
}

impl PartialEq for SparkSum {
    fn eq(&self, other: &Self) -> bool {
        self.other == other.other
    }
}

impl Eq for SparkSum {}

impl std::hash::Hash for SparkSum {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.other.name().hash(state);
    }
}

impl SparkSum {
    /// Spark's sum, with `other` (DataFusion's) for input that is not an integer.
    pub fn new(other: Arc<AggregateUDF>) -> Self {
        SparkSum { other }
    }
}

/// Whether the (coerced) input is an integer, summed as a checked BIGINT.
fn integer_input(fields: &[FieldRef]) -> bool {
    fields.first().is_some_and(|f| f.data_type().is_integer())
}

/// Spark's error for a sum past BIGINT's range (Spark names `try_add`).
fn overflow() -> datafusion::error::DataFusionError {
    super::checked::overflow("add")
}

impl AggregateUDFImpl for SparkSum {
    fn name(&self) -> &str {
        "sum"
    }

    fn signature(&self) -> &Signature {
        self.other.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if t.is_integer() => Ok(vec![DataType::Int64]),
            _ => self.other.inner().coerce_types(arg_types),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [t] if t.is_integer() => Ok(DataType::Int64),
            _ => self.other.return_type(arg_types),
        }
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if args.is_distinct || !integer_input(args.expr_fields) {
            return self.other.inner().accumulator(args);
        }
        Ok(Box::new(CheckedSum::default()))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        if args.is_distinct || !integer_input(args.input_fields) {
            return self.other.inner().state_fields(args);
        }
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "sum"),
            DataType::Int64,
            true,
        ))])
    }

    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if args.is_distinct || !integer_input(args.expr_fields) {
            return self.other.inner().create_sliding_accumulator(args);
        }
        Ok(Box::new(CheckedSum::default()))
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        if args.is_distinct || !integer_input(args.expr_fields) {
            return self.other.inner().groups_accumulator_supported(args);
        }
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        if args.is_distinct || !integer_input(args.expr_fields) {
            return self.other.inner().create_groups_accumulator(args);
        }
        Ok(Box::new(CheckedSumGroups::default()))
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }

    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        ScalarValue::try_from(data_type)
    }
}

/// The input column as BIGINT.
fn as_int64(values: &[ArrayRef]) -> Result<Int64Array> {
    let Some(first) = values.first() else {
        return exec_err!("sum: no input column");
    };
    Ok(cast(first, &DataType::Int64)?
        .as_primitive::<Int64Type>()
        .clone())
}

/// One group's checked sum, and how many values it holds (a window frame's sum is NULL once
/// every value has left it).
#[derive(Debug, Default)]
struct CheckedSum {
    sum: i64,
    count: u64,
}

impl CheckedSum {
    fn add(&mut self, values: &Int64Array) -> Result<()> {
        for v in values.iter().flatten() {
            self.sum = self.sum.checked_add(v).ok_or_else(overflow)?;
            self.count += 1;
        }
        Ok(())
    }

    fn value(&self) -> Option<i64> {
        (self.count > 0).then_some(self.sum)
    }
}

impl Accumulator for CheckedSum {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add(&as_int64(values)?)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.add(&as_int64(states)?)
    }

    /// A window frame's rows leaving it (`ROWS BETWEEN ... PRECEDING`).
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for v in as_int64(values)?.iter().flatten() {
            self.sum = self.sum.checked_sub(v).ok_or_else(overflow)?;
            self.count = self.count.saturating_sub(1);
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(self.value())])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(self.value()))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// Checked sums of many groups: a sum and whether any value was seen, per group.
#[derive(Debug, Default)]
struct CheckedSumGroups {
    sums: Vec<i64>,
    seen: Vec<bool>,
}

impl CheckedSumGroups {
    fn add(
        &mut self,
        values: &Int64Array,
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.sums.resize(total_num_groups, 0);
        self.seen.resize(total_num_groups, false);
        for (row, &group) in group_indices.iter().enumerate() {
            if !super::groups::counts(values, filter, row) {
                continue;
            }
            self.sums[group] = self.sums[group]
                .checked_add(values.value(row))
                .ok_or_else(overflow)?;
            self.seen[group] = true;
        }
        Ok(())
    }

    fn emit(&mut self, emit_to: EmitTo) -> ArrayRef {
        Arc::new(super::groups::emit::<Int64Type>(
            &mut self.sums,
            &mut self.seen,
            emit_to,
        ))
    }
}

impl GroupsAccumulator for CheckedSumGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(
            &as_int64(values)?,
            group_indices,
            opt_filter,
            total_num_groups,
        )
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(&as_int64(values)?, group_indices, None, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values: ArrayRef = Arc::new(as_int64(values)?);
        let kept = super::groups::filtered(values, opt_filter)?;
        Ok(vec![kept])
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(self.emit(emit_to))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.emit(emit_to)])
    }

    fn size(&self) -> usize {
        self.sums.capacity() * std::mem::size_of::<i64>() + self.seen.capacity()
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;
    use datafusion::arrow::array::Array;

    #[test]
    fn sums_merge_and_fail_on_overflow() {
        let mut groups = CheckedSumGroups::default();
        let values: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(2)]));
        groups.update_batch(&[values], &[0, 1, 0], None, 2).unwrap();
        let state = groups.state(EmitTo::All).unwrap();
        let sums = state[0].as_primitive::<Int64Type>();
        assert_eq!(sums.value(0), 3);
        assert!(sums.is_null(1));
        let big: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, 1]));
        let err = groups.update_batch(&[big], &[0, 0], None, 1).unwrap_err();
        assert!(err.to_string().contains("[ARITHMETIC_OVERFLOW]"), "{err}");
    }
}
