//! Spark's `avg` (and `mean`): a decimal's average is DECIMAL(p + 4, s + 4), the exact quotient
//! of its sum and count rounded HALF_UP, where DataFusion's truncates; any other number's is a
//! double, as `datafusion-spark`'s avg gives it. DataFusion's decimal avg keeps the sum and
//! count; the quotient is taken from them.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::functions_aggregate::average::Avg;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, ReversedUDAF,
    Signature, Volatility,
};

/// The largest decimal precision (and scale) of a 128-bit decimal.
const MAX: u8 = 38;

/// See the module documentation.
#[derive(Debug)]
pub struct SparkAvg {
    /// DataFusion's avg, for decimals.
    decimal: Avg,
    /// `datafusion-spark`'s avg, for the other numbers.
    other: Arc<AggregateUDF>,
    signature: Signature,
    aliases: Vec<String>,
}

impl PartialEq for SparkAvg {
    fn eq(&self, other: &Self) -> bool {
        self.other == other.other
    }
}

impl Eq for SparkAvg {}

impl std::hash::Hash for SparkAvg {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.other.name().hash(state);
    }
}

impl SparkAvg {
    /// Spark's avg, with `other` (`datafusion-spark`'s) for non-decimal input.
    pub fn new(other: Arc<AggregateUDF>) -> Self {
        SparkAvg {
            decimal: Avg::new(),
            other,
            signature: Signature::user_defined(Volatility::Immutable),
            aliases: vec!["mean".to_string()],
        }
    }
}

impl SparkAvg {
    /// What `make` makes of DataFusion's avg for `args`, evaluated as Spark evaluates it.
    fn rounded<T: ?Sized>(
        &self,
        args: AccumulatorArgs,
        p: u8,
        s: i8,
        make: impl FnOnce(&Avg, AccumulatorArgs) -> Result<Box<T>>,
    ) -> Result<Box<Rounded<T>>> {
        let inner = make(&self.decimal, args)?;
        Ok(Box::new(Rounded {
            inner,
            output: result_type(p, s),
        }))
    }
}

/// Spark's result type for the average of `(p, s)`.
fn result_type(precision: u8, scale: i8) -> DataType {
    DataType::Decimal128(MAX.min(precision + 4), (MAX as i8).min(scale + 4))
}

/// The input decimal of an avg call, if it is one.
fn decimal_input(fields: &[FieldRef]) -> Option<(u8, i8)> {
    match fields.first().map(|f| f.data_type()) {
        Some(DataType::Decimal128(p, s)) => Some((*p, *s)),
        _ => None,
    }
}

impl AggregateUDFImpl for SparkAvg {
    fn name(&self) -> &str {
        "avg"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::Decimal128(p, s)] => Ok(vec![DataType::Decimal128(*p, *s)]),
            [DataType::Decimal256(p, s)] if *p <= MAX => Ok(vec![DataType::Decimal128(*p, *s)]),
            [t] if t.is_numeric() || *t == DataType::Null => Ok(vec![DataType::Float64]),
            other => plan_err!("Spark `avg` function expects one number, got {other:?}"),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [DataType::Decimal128(p, s)] => Ok(result_type(*p, *s)),
            _ => Ok(DataType::Float64),
        }
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if args.is_distinct {
            // DataFusion's distinct average (it truncates a decimal's).
            return self.decimal.accumulator(args);
        }
        let Some((p, s)) = decimal_input(args.expr_fields) else {
            return self.other.inner().accumulator(args);
        };
        self.rounded(args, p, s, |avg, args| avg.accumulator(args))
            .map(|rounded| rounded as Box<dyn Accumulator>)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        if args.is_distinct || decimal_input(args.input_fields).is_some() {
            return self.decimal.state_fields(args);
        }
        self.other.inner().state_fields(args)
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        match decimal_input(args.expr_fields) {
            Some(_) => !args.is_distinct,
            None if args.is_distinct => false,
            None => self.other.inner().groups_accumulator_supported(args),
        }
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        let Some((p, s)) = decimal_input(args.expr_fields) else {
            return self.other.inner().create_groups_accumulator(args);
        };
        self.rounded(args, p, s, |avg, args| avg.create_groups_accumulator(args))
            .map(|rounded| rounded as Box<dyn GroupsAccumulator>)
    }

    fn reverse_expr(&self) -> ReversedUDAF {
        ReversedUDAF::Identical
    }
}

/// DataFusion's decimal average, evaluated from its state (count, sum) with Spark's division.
struct Rounded<A: ?Sized> {
    inner: Box<A>,
    output: DataType,
}

/// Spark's average from DataFusion's avg state: `sum / count` rounded HALF_UP to the result
/// type, NULL where nothing was counted.
fn spark_average(state: &[ArrayRef], output: &DataType) -> Result<ArrayRef> {
    let [count, sum] = state else {
        return datafusion::common::internal_err!("avg state is (count, sum)");
    };
    // Spark's sum type is DECIMAL(min(p + 10, 38), s); DataFusion's may be wider.
    let sum = match sum.data_type() {
        DataType::Decimal256(p, s) => cast(sum, &DataType::Decimal128((*p).min(MAX), *s))?,
        _ => Arc::clone(sum),
    };
    let count = cast(count, &DataType::Decimal128(20, 0))?;
    let zero = ScalarValue::Decimal128(Some(0), 20, 0).to_scalar()?;
    let none = datafusion::arrow::compute::kernels::cmp::eq(&count, &zero)?;
    let count = datafusion::arrow::compute::nullif(&count, &none)?;
    let DataType::Decimal128(p, s) = output else {
        return datafusion::common::internal_err!("a decimal average is a decimal, not {output}");
    };
    crate::decimal::divide(&sum, &count, Some((*p, *s)))
}

impl std::fmt::Debug for Rounded<dyn Accumulator> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparkDecimalAvg")
            .field("output", &self.output)
            .finish()
    }
}

impl Accumulator for Rounded<dyn Accumulator> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.update_batch(values)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let state = self
            .inner
            .state()?
            .iter()
            .map(|v| v.to_array())
            .collect::<Result<Vec<_>>>()?;
        ScalarValue::try_from_array(&spark_average(&state, &self.output)?, 0)
    }

    fn size(&self) -> usize {
        self.inner.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.inner.state()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.inner.merge_batch(states)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.retract_batch(values)
    }

    fn supports_retract_batch(&self) -> bool {
        self.inner.supports_retract_batch()
    }
}

impl GroupsAccumulator for Rounded<dyn GroupsAccumulator> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.inner
            .update_batch(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        // The state holds the same groups evaluate would emit, as (count, sum).
        spark_average(&self.inner.state(emit_to)?, &self.output)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.inner.state(emit_to)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.inner
            .merge_batch(values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        self.inner.convert_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        self.inner.size()
    }
}
