//! Spark's `max` and `min` of doubles and floats: NaN is greater than every other value (so
//! `max` is NaN as soon as one is, and `min` only when all are), where DataFusion's grouped
//! min/max compare with IEEE's `<`, which a NaN makes false both ways. Other types go to
//! DataFusion's min/max. The state is the current extreme, so it merges across batches.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, ReversedUDAF, Signature,
};

/// See the module documentation.
#[derive(Debug)]
pub struct SparkMinMax {
    /// DataFusion's `max` or `min`, for inputs that are not floating point.
    inner: Arc<AggregateUDF>,
    max: bool,
}

impl PartialEq for SparkMinMax {
    fn eq(&self, other: &Self) -> bool {
        self.max == other.max
    }
}

impl Eq for SparkMinMax {}

impl std::hash::Hash for SparkMinMax {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.max.hash(state);
    }
}

impl SparkMinMax {
    /// Spark's `max` (or `min`, when `max` is false) over DataFusion's `inner`.
    pub fn new(inner: Arc<AggregateUDF>, max: bool) -> Self {
        SparkMinMax { inner, max }
    }
}

fn float_input(fields: &[FieldRef]) -> Option<DataType> {
    fields
        .first()
        .map(|f| f.data_type().clone())
        .filter(|t| matches!(t, DataType::Float64 | DataType::Float32))
}

/// Spark's order of doubles: NaN above everything, equal to itself.
fn spark_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

impl AggregateUDFImpl for SparkMinMax {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.inner().coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        match float_input(args.expr_fields) {
            Some(output) if !args.is_distinct => Ok(Box::new(Extreme {
                max: self.max,
                value: None,
                output,
            })),
            _ => self.inner.inner().accumulator(args),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        match float_input(args.input_fields) {
            Some(_) if !args.is_distinct => Ok(vec![Arc::new(Field::new(
                format_state_name(args.name, if self.max { "max" } else { "min" }),
                DataType::Float64,
                true,
            ))]),
            _ => self.inner.inner().state_fields(args),
        }
    }

    /// A sliding window frame keeps DataFusion's min/max (a frame over a stream is refused;
    /// this serves static tables in the shell).
    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        self.inner.inner().create_sliding_accumulator(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        match float_input(args.expr_fields) {
            Some(_) if !args.is_distinct => true,
            _ => self.inner.inner().groups_accumulator_supported(args),
        }
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        match float_input(args.expr_fields) {
            Some(output) if !args.is_distinct => Ok(Box::new(Extremes {
                max: self.max,
                values: Vec::new(),
                seen: Vec::new(),
                output,
            })),
            _ => self.inner.inner().create_groups_accumulator(args),
        }
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }
}

/// The input as doubles.
fn doubles(values: &[ArrayRef]) -> Result<Float64Array> {
    let Some(first) = values.first() else {
        return exec_err!("min/max: no input column");
    };
    Ok(cast(first, &DataType::Float64)?
        .as_primitive::<Float64Type>()
        .clone())
}

/// Whether `candidate` replaces `current` as the extreme.
fn better(max: bool, candidate: f64, current: f64) -> bool {
    let order = spark_cmp(candidate, current);
    if max {
        order == Ordering::Greater
    } else {
        order == Ordering::Less
    }
}

/// One group's extreme.
#[derive(Debug)]
struct Extreme {
    max: bool,
    value: Option<f64>,
    output: DataType,
}

impl Extreme {
    fn add(&mut self, values: &Float64Array) {
        for v in values.iter().flatten() {
            if self.value.is_none_or(|cur| better(self.max, v, cur)) {
                self.value = Some(v);
            }
        }
    }
}

impl Accumulator for Extreme {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.add(&doubles(values)?);
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.add(&doubles(states)?);
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Float64(self.value)])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        ScalarValue::Float64(self.value).cast_to(&self.output)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// The extremes of many groups.
#[derive(Debug)]
struct Extremes {
    max: bool,
    values: Vec<f64>,
    seen: Vec<bool>,
    output: DataType,
}

impl Extremes {
    fn add(
        &mut self,
        values: &Float64Array,
        group_indices: &[usize],
        filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) {
        self.values.resize(total_num_groups, 0.0);
        self.seen.resize(total_num_groups, false);
        for (row, &group) in group_indices.iter().enumerate() {
            if !super::groups::counts(values, filter, row) {
                continue;
            }
            let v = values.value(row);
            if !self.seen[group] || better(self.max, v, self.values[group]) {
                self.values[group] = v;
                self.seen[group] = true;
            }
        }
    }

    fn emit(&mut self, emit_to: EmitTo) -> Float64Array {
        super::groups::emit::<Float64Type>(&mut self.values, &mut self.seen, emit_to)
    }
}

impl GroupsAccumulator for Extremes {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(
            &doubles(values)?,
            group_indices,
            opt_filter,
            total_num_groups,
        );
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.add(&doubles(values)?, group_indices, None, total_num_groups);
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let values: ArrayRef = Arc::new(self.emit(emit_to));
        Ok(cast(&values, &self.output)?)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![Arc::new(self.emit(emit_to))])
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values: ArrayRef = Arc::new(doubles(values)?);
        let kept = super::groups::filtered(values, opt_filter)?;
        Ok(vec![kept])
    }

    fn size(&self) -> usize {
        self.values.capacity() * std::mem::size_of::<f64>() + self.seen.capacity()
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;
    use datafusion::arrow::array::Array;

    #[test]
    fn nan_is_the_greatest() {
        let mut max = Extremes {
            max: true,
            values: Vec::new(),
            seen: Vec::new(),
            output: DataType::Float64,
        };
        let mut min = Extremes {
            max: false,
            values: Vec::new(),
            seen: Vec::new(),
            output: DataType::Float64,
        };
        let input: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            Some(f64::NAN),
            Some(2.0),
            None,
        ]));
        for acc in [&mut max, &mut min] {
            acc.update_batch(&[Arc::clone(&input)], &[0, 0, 0, 1], None, 2)
                .unwrap();
        }
        let maxes = max.evaluate(EmitTo::All).unwrap();
        let mins = min.evaluate(EmitTo::All).unwrap();
        assert!(maxes.as_primitive::<Float64Type>().value(0).is_nan());
        assert_eq!(mins.as_primitive::<Float64Type>().value(0), 1.0);
        assert!(maxes.is_null(1) && mins.is_null(1));
    }
}
