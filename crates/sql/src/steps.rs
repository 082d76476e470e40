//! DataFrame-style job steps (`[[query.steps]]`, PySpark's method names) compiled to one Spark
//! SQL query, step by step: each step wraps the previous one as a subquery. Steps that depend
//! on the columns so far (`withColumn`, `withColumnRenamed`, `drop`) plan the previous step to
//! learn them.

use datafusion::prelude::SessionContext;

use serde::Deserialize;

use kindling_core::error::{Error, Result};

/// One `[[query.steps]]` table: one PySpark DataFrame call, its arguments Spark SQL
/// expression strings. Exactly one of the fields is set (`groupBy` goes with `agg` or `count`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// `select(...)` of expression strings.
    pub select: Option<Vec<String>>,
    /// `selectExpr(...)`: the same as `select` here, since every argument is an expression.
    #[serde(rename = "selectExpr")]
    pub select_expr: Option<Vec<String>>,
    /// `filter(condition)`.
    pub filter: Option<String>,
    /// `where(condition)`, an alias of `filter`.
    #[serde(rename = "where")]
    pub where_: Option<String>,
    /// `withColumn(name, expr)`.
    #[serde(rename = "withColumn")]
    pub with_column: Option<WithColumnSpec>,
    /// `withColumnRenamed(existing, new)`.
    #[serde(rename = "withColumnRenamed")]
    pub with_column_renamed: Option<Vec<String>>,
    /// `drop(*cols)`.
    pub drop: Option<Vec<String>>,
    /// `groupBy(*cols)`, followed in the same step by `agg` or `count`.
    #[serde(rename = "groupBy")]
    pub group_by: Option<Vec<String>>,
    /// `.agg(*exprs)` after `groupBy`.
    pub agg: Option<Vec<String>>,
    /// `.count()` after `groupBy`: a column `count`.
    pub count: Option<bool>,
    /// `orderBy(*exprs)`.
    #[serde(rename = "orderBy")]
    pub order_by: Option<Vec<String>>,
    /// `sort(*exprs)`, an alias of `orderBy`.
    pub sort: Option<Vec<String>>,
    /// `limit(n)`.
    pub limit: Option<u64>,
    /// `dropDuplicates()`: `true` (all columns) or a list of column names (a subset).
    #[serde(rename = "dropDuplicates")]
    pub drop_duplicates: Option<toml::Value>,
}

/// `withColumn = {name = "...", expr = "..."}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithColumnSpec {
    /// The column to add or replace.
    pub name: String,
    /// Its Spark SQL expression.
    pub expr: String,
}

/// A validated step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `select` / `selectExpr`.
    Select(Vec<String>),
    /// `filter` / `where`.
    Filter(String),
    /// `withColumn(name, expr)`: replaces a column of that name in place, or appends one.
    WithColumn {
        /// The column.
        name: String,
        /// Its expression.
        expr: String,
    },
    /// `withColumnRenamed(existing, new)`.
    Rename {
        /// The column now.
        from: String,
        /// Its new name.
        to: String,
    },
    /// `drop(*cols)`.
    Drop(Vec<String>),
    /// `groupBy(*keys).agg(*aggregates)`.
    Aggregate {
        /// The grouping expressions.
        keys: Vec<String>,
        /// The aggregate expressions.
        aggregates: Vec<String>,
    },
    /// `orderBy` / `sort`.
    OrderBy(Vec<String>),
    /// `limit(n)`.
    Limit(u64),
    /// `dropDuplicates()` over all columns, or `dropDuplicates(subset)`: the first row seen for
    /// each key is emitted, once.
    DropDuplicates(Option<Vec<String>>),
}

impl Step {
    /// Validates one `[[query.steps]]` table; `i` numbers it in messages.
    pub fn from_spec(spec: &StepSpec, i: usize) -> Result<Self, String> {
        let mut steps = Vec::new();
        if let Some(e) = &spec.select {
            steps.push(Step::Select(e.clone()));
        }
        if let Some(e) = &spec.select_expr {
            steps.push(Step::Select(e.clone()));
        }
        if let Some(c) = spec.filter.as_ref().or(spec.where_.as_ref()) {
            steps.push(Step::Filter(c.clone()));
        }
        if let Some(w) = &spec.with_column {
            steps.push(Step::WithColumn {
                name: w.name.clone(),
                expr: w.expr.clone(),
            });
        }
        if let Some(r) = &spec.with_column_renamed {
            match r.as_slice() {
                [from, to] => steps.push(Step::Rename {
                    from: from.clone(),
                    to: to.clone(),
                }),
                _ => {
                    return Err(format!(
                        "query.steps[{i}].withColumnRenamed: expected [\"existing\", \"new\"], got {r:?}"
                    ));
                }
            }
        }
        if let Some(d) = &spec.drop {
            steps.push(Step::Drop(d.clone()));
        }
        match (&spec.group_by, &spec.agg, spec.count) {
            (Some(keys), Some(aggregates), None | Some(false)) => steps.push(Step::Aggregate {
                keys: keys.clone(),
                aggregates: aggregates.clone(),
            }),
            (Some(keys), None, Some(true)) => steps.push(Step::Aggregate {
                keys: keys.clone(),
                aggregates: vec!["count(1) AS count".to_string()],
            }),
            (Some(_), _, _) => {
                return Err(format!(
                    "query.steps[{i}]: groupBy needs `agg = [...]` or `count = true` in the same step"
                ));
            }
            (None, Some(_), _) | (None, _, Some(_)) => {
                return Err(format!(
                    "query.steps[{i}]: `agg` and `count` go with `groupBy` in the same step"
                ));
            }
            (None, None, None) => {}
        }
        if let Some(o) = spec.order_by.as_ref().or(spec.sort.as_ref()) {
            steps.push(Step::OrderBy(o.clone()));
        }
        if let Some(n) = spec.limit {
            steps.push(Step::Limit(n));
        }
        match &spec.drop_duplicates {
            None | Some(toml::Value::Boolean(false)) => {}
            Some(toml::Value::Boolean(true)) => steps.push(Step::DropDuplicates(None)),
            Some(toml::Value::Array(cols))
                if !cols.is_empty() && cols.iter().all(|c| c.is_str()) =>
            {
                steps.push(Step::DropDuplicates(Some(
                    cols.iter()
                        .filter_map(|c| c.as_str().map(str::to_string))
                        .collect(),
                )));
            }
            Some(other) => {
                return Err(format!(
                    "query.steps[{i}].dropDuplicates: expected true (all columns) or a list of column names, got {other}"
                ));
            }
        }
        match steps.len() {
            1 => Ok(steps.remove(0)),
            0 => Err(format!(
                "query.steps[{i}] is empty; give one of select, selectExpr, filter, where, withColumn, withColumnRenamed, drop, groupBy, orderBy, sort, limit, dropDuplicates"
            )),
            _ => Err(format!(
                "query.steps[{i}] has several operations; write one [[query.steps]] table per operation"
            )),
        }
    }
}

/// Compiles `steps` over `table` into one SQL query.
pub async fn to_sql(
    ctx: &SessionContext,
    table: &str,
    steps: &[Step],
    job: &str,
) -> Result<String> {
    let mut sql = format!("SELECT * FROM {}", quote(table));
    for (i, step) in steps.iter().enumerate() {
        let from = format!("({sql}) AS step{i}");
        sql = match step {
            Step::Select(exprs) => format!("SELECT {} FROM {from}", exprs.join(", ")),
            Step::Filter(cond) => format!("SELECT * FROM {from} WHERE {cond}"),
            Step::WithColumn { name, expr } => {
                let columns = columns(ctx, &sql, job).await?;
                let mut replaced = false;
                let mut items: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        if c.eq_ignore_ascii_case(name) {
                            replaced = true;
                            format!("{expr} AS {}", quote(name))
                        } else {
                            quote(c)
                        }
                    })
                    .collect();
                if !replaced {
                    items.push(format!("{expr} AS {}", quote(name)));
                }
                format!("SELECT {} FROM {from}", items.join(", "))
            }
            Step::Rename { from: old, to } => {
                let columns = columns(ctx, &sql, job).await?;
                // Spark: renaming a column that does not exist is a no-op.
                let items: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        if c.eq_ignore_ascii_case(old) {
                            format!("{} AS {}", quote(c), quote(to))
                        } else {
                            quote(c)
                        }
                    })
                    .collect();
                format!("SELECT {} FROM {from}", items.join(", "))
            }
            Step::Drop(drop) => {
                let columns = columns(ctx, &sql, job).await?;
                let items: Vec<String> = columns
                    .iter()
                    .filter(|c| !drop.iter().any(|d| d.eq_ignore_ascii_case(c)))
                    .map(|c| quote(c))
                    .collect();
                if items.is_empty() {
                    return Err(Error::Sql {
                        job: job.to_string(),
                        message: format!("query.steps[{i}].drop removes every column"),
                    });
                }
                format!("SELECT {} FROM {from}", items.join(", "))
            }
            Step::Aggregate { keys, aggregates } => {
                let mut items = keys.clone();
                items.extend(aggregates.iter().cloned());
                format!(
                    "SELECT {} FROM {from} GROUP BY {}",
                    items.join(", "),
                    keys.join(", ")
                )
            }
            Step::OrderBy(exprs) => format!("SELECT * FROM {from} ORDER BY {}", exprs.join(", ")),
            Step::Limit(n) => format!("SELECT * FROM {from} LIMIT {n}"),
            // `DISTINCT ON`, not `DISTINCT`: Spark's `dropDuplicates` is a deduplication
            // (each row once, ever), while SQL's `DISTINCT` is an aggregation.
            Step::DropDuplicates(subset) => {
                let keys = match subset {
                    Some(cols) => cols.clone(),
                    None => columns(ctx, &sql, job).await?,
                };
                format!(
                    "SELECT DISTINCT ON ({}) * FROM {from}",
                    keys.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
                )
            }
        };
    }
    Ok(sql)
}

async fn columns(ctx: &SessionContext, sql: &str, job: &str) -> Result<Vec<String>> {
    let plan = super::plan_query(ctx, sql, job).await?;
    Ok(plan
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect())
}

/// A backquoted identifier, as Spark SQL writes them.
fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_step_holds_one_operation() {
        let spec = StepSpec {
            filter: Some("x > 1".into()),
            ..Default::default()
        };
        assert_eq!(Step::from_spec(&spec, 0), Ok(Step::Filter("x > 1".into())));
        let two = StepSpec {
            filter: Some("x".into()),
            limit: Some(3),
            ..Default::default()
        };
        assert!(
            Step::from_spec(&two, 2)
                .unwrap_err()
                .contains("query.steps[2] has several operations")
        );
        let lonely = StepSpec {
            group_by: Some(vec!["k".into()]),
            ..Default::default()
        };
        assert!(
            Step::from_spec(&lonely, 0)
                .unwrap_err()
                .contains("groupBy needs `agg")
        );
        let count = StepSpec {
            group_by: Some(vec!["k".into()]),
            count: Some(true),
            ..Default::default()
        };
        assert_eq!(
            Step::from_spec(&count, 0),
            Ok(Step::Aggregate {
                keys: vec!["k".into()],
                aggregates: vec!["count(1) AS count".into()]
            })
        );
        assert!(
            Step::from_spec(&StepSpec::default(), 1)
                .unwrap_err()
                .contains("is empty")
        );
    }
}
