//! Spark SQL functions that neither DataFusion nor `datafusion-spark` provide with Spark's
//! behaviour, one `Spark<Fn>` UDF per file, and [`register_spark_functions`].

pub mod array_get;
pub mod avg;
pub mod cast_to_string;
pub mod checked;
pub mod date_format;
pub mod ddl;
pub mod divisor;
pub mod from_json;
pub mod get_json_object;
mod groups;
pub mod initcap;
pub mod java_regex;
pub mod java_time;
pub mod md5;
pub mod min_max;
pub mod outer;
pub mod regexp_extract;
pub mod round;
pub mod sequence;
pub mod size;
pub mod split;
pub mod sum;
pub mod timestamp_from;
pub mod to_json;
pub mod to_timestamp;
pub mod type_of;

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{AggregateUDF, ColumnarValue, ScalarUDF};

/// Registers `datafusion-spark`'s functions, then kindling's own and Spark's names for
/// DataFusion functions that already behave as Spark's (`startswith`, `endswith`, `rlike`).
pub fn register_spark_functions(registry: &mut dyn FunctionRegistry) -> Result<()> {
    datafusion_spark::register_all(registry)?;
    let spark_round = registry.udf("round")?;
    registry.register_udf(Arc::new(ScalarUDF::from(round::SparkRound::new(
        spark_round,
    ))))?;
    let spark_avg = registry.udaf("avg")?;
    registry.register_udaf(Arc::new(AggregateUDF::from(avg::SparkAvg::new(spark_avg))))?;
    for (name, max) in [("max", true), ("min", false)] {
        let inner = registry.udaf(name)?;
        registry.register_udaf(Arc::new(AggregateUDF::from(min_max::SparkMinMax::new(
            inner, max,
        ))))?;
    }
    let sum = registry.udaf("sum")?;
    registry.register_udaf(Arc::new(AggregateUDF::from(sum::SparkSum::new(sum))))?;
    registry.register_udf(Arc::new(ScalarUDF::from(split::SparkSplit::new())))?;
    registry.register_udf(Arc::new(ScalarUDF::from(
        cast_to_string::SparkCastToString::new(),
    )))?;
    registry.register_udf(Arc::new(ScalarUDF::from(size::SparkSize::new())))?;
    for op in [
        checked::Arithmetic::Add,
        checked::Arithmetic::Subtract,
        checked::Arithmetic::Multiply,
    ] {
        for tolerant in [false, true] {
            registry.register_udf(Arc::new(ScalarUDF::from(checked::SparkChecked::new(
                op, tolerant,
            ))))?;
        }
    }
    for division in [
        divisor::Division::Divide,
        divisor::Division::Remainder,
        divisor::Division::Tolerant,
    ] {
        registry.register_udf(Arc::new(ScalarUDF::from(divisor::KindlingDivisor::new(
            division,
        ))))?;
    }
    registry.register_udf(Arc::new(ScalarUDF::from(outer::KindlingOuter::new())))?;
    for access in [
        array_get::Access::Subscript,
        array_get::Access::Get,
        array_get::Access::ElementAt,
        array_get::Access::TryElementAt,
    ] {
        registry.register_udf(Arc::new(ScalarUDF::from(array_get::SparkArrayGet::new(
            access,
        ))))?;
    }
    registry.register_udf(Arc::new(ScalarUDF::from(
        date_format::SparkDateFormat::new(),
    )))?;
    registry.register_udf(Arc::new(ScalarUDF::from(
        to_timestamp::SparkToTimestamp::new(),
    )))?;
    registry.register_udf(Arc::new(ScalarUDF::from(from_json::SparkFromJson::new())))?;
    registry.register_udf(Arc::new(ScalarUDF::from(to_json::SparkToJson::new())))?;
    registry.register_udf(Arc::new(ScalarUDF::from(
        get_json_object::SparkGetJsonObject::new(),
    )))?;
    registry.register_udf(Arc::new(ScalarUDF::from(type_of::SparkTypeOf::new())))?;
    for all in [false, true] {
        registry.register_udf(Arc::new(ScalarUDF::from(
            regexp_extract::SparkRegexpExtract::new(all),
        )))?;
    }
    registry.register_udf(Arc::new(ScalarUDF::from(md5::SparkMd5::new())))?;
    registry.register_udf(Arc::new(ScalarUDF::from(initcap::SparkInitcap::new())))?;
    registry.register_udf(Arc::new(ScalarUDF::from(sequence::SparkSequence::new())))?;
    for unit in [
        timestamp_from::Unit::Seconds,
        timestamp_from::Unit::Millis,
        timestamp_from::Unit::Micros,
    ] {
        registry.register_udf(Arc::new(ScalarUDF::from(
            timestamp_from::SparkTimestampFrom::new(unit),
        )))?;
    }
    let regexp_like = datafusion::functions::regex::regexp_like();
    registry.register_udf(Arc::new((*regexp_like).clone().with_aliases(["rlike"])))?;
    let starts_with = datafusion::functions::string::starts_with();
    registry.register_udf(Arc::new(
        (*starts_with).clone().with_aliases(["startswith"]),
    ))?;
    let ends_with = datafusion::functions::string::ends_with();
    registry.register_udf(Arc::new((*ends_with).clone().with_aliases(["endswith"])))?;
    Ok(())
}

/// Whether every argument is a scalar, in which case a UDF answers with a scalar too.
pub(crate) fn all_scalar(args: &[ColumnarValue]) -> bool {
    args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)))
}

/// A UDF's result: row 0 as a scalar for scalar arguments, else the whole array.
pub(crate) fn columnar(result: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar && !result.is_empty() {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
            &result, 0,
        )?))
    } else {
        Ok(ColumnarValue::Array(result))
    }
}
