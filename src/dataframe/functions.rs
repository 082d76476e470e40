//! Column helpers for the streaming DataFrame API, named as in `pyspark.sql.functions`.

use std::sync::Arc;

pub use datafusion::functions_aggregate::expr_fn::{avg, count, max, min, sum};
pub use datafusion::prelude::{col, lit};

use datafusion::logical_expr::expr::Unnest;
use datafusion::logical_expr::{Expr, ScalarUDF};

/// `explode(array)`: one row per element (use it at the top of a `select`, optionally aliased).
pub fn explode(array: Expr) -> Expr {
    Expr::Unnest(Unnest::new(array))
}

/// Spark's `split(str, regex)` (see [`crate::sql::functions::split`]).
pub fn split(string: Expr, pattern: Expr) -> Expr {
    let udf = ScalarUDF::from(crate::sql::functions::split::SparkSplit::new());
    Arc::new(udf).call(vec![string, pattern])
}

/// Spark's `startswith(str, prefix)`.
pub fn startswith(string: Expr, prefix: Expr) -> Expr {
    datafusion::functions::string::starts_with().call(vec![string, prefix])
}

/// Spark's `lower(str)`.
pub fn lower(string: Expr) -> Expr {
    datafusion::functions::string::lower().call(vec![string])
}

/// `CAST(binary AS STRING)` as Spark does it: invalid UTF-8 becomes U+FFFD.
pub fn binary_to_string(expr: Expr) -> Expr {
    let udf = ScalarUDF::from(crate::sql::functions::cast_to_string::SparkCastToString::new());
    Arc::new(udf).call(vec![expr])
}
