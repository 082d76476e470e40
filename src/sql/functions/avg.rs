//! Spark's `avg` (and `mean`): a decimal's average is DECIMAL(p + 4, s + 4) rounded HALF_UP,
//! where DataFusion's truncates; any other number's is a double, as `datafusion-spark`'s avg
//! gives it. The decimal average is DataFusion's, fed one digit more of scale and rounded.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
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
    /// What `make` makes of DataFusion's avg over the widened input `(p, s)` of `args`,
    /// rounded to Spark's result type.
    fn rounded<T: ?Sized>(
        &self,
        args: AccumulatorArgs,
        p: u8,
        s: i8,
        make: impl FnOnce(&Avg, AccumulatorArgs) -> Result<Box<T>>,
    ) -> Result<Box<Rounded<T>>> {
        let (input, output) = (widened(p, s), result_type(p, s));
        let fields = [Arc::new(Field::new("avg_input", input.clone(), true)) as FieldRef];
        let return_type = self.decimal.return_type(std::slice::from_ref(&input))?;
        let inner = make(
            &self.decimal,
            AccumulatorArgs {
                return_field: Arc::new(Field::new(args.name, return_type, true)),
                expr_fields: &fields,
                ..args
            },
        )?;
        Ok(Box::new(Rounded {
            inner,
            input,
            output,
        }))
    }
}

/// The decimal DataFusion averages in place of `(p, s)`: one digit more of scale, so that its
/// truncated result can be rounded to Spark's scale.
fn widened(precision: u8, scale: i8) -> DataType {
    if precision < MAX && (scale as u8) < MAX {
        DataType::Decimal128(precision + 1, scale + 1)
    } else {
        DataType::Decimal128(precision, scale)
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
        let Some((p, s)) = decimal_input(args.expr_fields) else {
            if args.is_distinct {
                return self.decimal.accumulator(args);
            }
            return self.other.inner().accumulator(args);
        };
        self.rounded(args, p, s, |avg, args| avg.accumulator(args))
            .map(|rounded| rounded as Box<dyn Accumulator>)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let Some((p, s)) = decimal_input(args.input_fields) else {
            if args.is_distinct {
                return self.decimal.state_fields(args);
            }
            return self.other.inner().state_fields(args);
        };
        let input = widened(p, s);
        let fields = [Arc::new(Field::new("avg_input", input.clone(), true)) as FieldRef];
        self.decimal.state_fields(StateFieldsArgs {
            input_fields: &fields,
            return_field: Arc::new(Field::new(
                args.name,
                self.decimal.return_type(&[input])?,
                true,
            )),
            ..args
        })
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

/// DataFusion's decimal average over the input with one digit more of scale, rounded (HALF_UP,
/// as arrow's decimal cast rounds) to Spark's result type.
struct Rounded<A: ?Sized> {
    inner: Box<A>,
    input: DataType,
    output: DataType,
}

impl Rounded<dyn Accumulator> {
    fn widen(&self, values: &[ArrayRef]) -> Result<Vec<ArrayRef>> {
        values.iter().map(|v| Ok(cast(v, &self.input)?)).collect()
    }
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
        let values = self.widen(values)?;
        self.inner.update_batch(&values)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.inner.evaluate()?.cast_to(&self.output)
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
        let values = self.widen(values)?;
        self.inner.retract_batch(&values)
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
        let values = [cast(&values[0], &self.input)?];
        self.inner
            .update_batch(&values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(cast(&self.inner.evaluate(emit_to)?, &self.output)?)
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
        let values = [cast(&values[0], &self.input)?];
        self.inner.convert_to_state(&values, opt_filter)
    }

    fn size(&self) -> usize {
        self.inner.size()
    }
}
