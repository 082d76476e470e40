//! Spark SQL functions that neither DataFusion nor `datafusion-spark` provide with Spark's
//! behaviour, one `Spark<Fn>` UDF per file, and [`register_spark_functions`].

pub mod binary_to_string;
pub mod split;

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::ScalarUDF;

/// Registers `datafusion-spark`'s functions, then kindling's own and Spark's names for
/// DataFusion functions that already behave as Spark's (`startswith`, `endswith`).
pub fn register_spark_functions(registry: &mut dyn FunctionRegistry) -> Result<()> {
    datafusion_spark::register_all(registry)?;
    registry.register_udf(Arc::new(ScalarUDF::from(split::SparkSplit::new())))?;
    registry.register_udf(Arc::new(ScalarUDF::from(
        binary_to_string::SparkBinaryToString::new(),
    )))?;
    let starts_with = datafusion::functions::string::starts_with();
    registry.register_udf(Arc::new(
        (*starts_with).clone().with_aliases(["startswith"]),
    ))?;
    let ends_with = datafusion::functions::string::ends_with();
    registry.register_udf(Arc::new((*ends_with).clone().with_aliases(["endswith"])))?;
    Ok(())
}
