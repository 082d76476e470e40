//! [`StreamingDataFrame`]: a DataFusion `DataFrame` over a streaming source, transformed with
//! PySpark's method names; nothing runs until [`StreamingDataFrame::write_stream`] starts it.

use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{Expr, LogicalPlan, SortExpr};

use super::DataStreamWriter;
use crate::error::Result;
use crate::job::SourcePlan;
use crate::session::{OpenSource, Session};

/// A streaming query being built.
pub struct StreamingDataFrame {
    pub(crate) session: Session,
    pub(crate) source_plan: SourcePlan,
    pub(crate) input: OpenSource,
    df: DataFrame,
    views: usize,
}

/// `group_by(..)` waiting for its aggregates.
pub struct GroupedData {
    frame: StreamingDataFrame,
    keys: Vec<Expr>,
}

impl StreamingDataFrame {
    pub(crate) fn open(session: Session, source_plan: SourcePlan) -> Result<Self> {
        let input = session.open_source(&source_plan)?;
        let plan = datafusion::logical_expr::LogicalPlanBuilder::scan(
            source_plan.table.as_str(),
            datafusion::datasource::provider_as_source(std::sync::Arc::clone(&input.provider)),
            None,
        )?
        .build()?;
        let df = DataFrame::new(input.ctx.state(), plan);
        Ok(StreamingDataFrame {
            session,
            source_plan,
            input,
            df,
            views: 0,
        })
    }

    fn with(self, df: DataFrame) -> Self {
        StreamingDataFrame { df, ..self }
    }

    /// `select(*cols)`; a top-level `explode(..)` (aliased or named `col`) makes one row per
    /// element, as Spark's generator does.
    pub fn select(self, exprs: Vec<Expr>) -> Result<Self> {
        let mut generated = Vec::new();
        let exprs: Vec<Expr> = exprs
            .into_iter()
            .map(|e| match e {
                Expr::Unnest(u) => {
                    generated.push("col".to_string());
                    u.expr.alias("col")
                }
                Expr::Alias(a) if matches!(*a.expr, Expr::Unnest(_)) => {
                    let Expr::Unnest(u) = *a.expr else {
                        unreachable!("matched above")
                    };
                    generated.push(a.name.clone());
                    u.expr.alias(a.name)
                }
                other => other,
            })
            .collect();
        let mut df = self.df.clone().select(exprs)?;
        if !generated.is_empty() {
            let names: Vec<&str> = generated.iter().map(String::as_str).collect();
            df = df.unnest_columns(&names)?;
        }
        Ok(self.with(df))
    }

    /// `selectExpr(*exprs)`: Spark SQL expression strings, with Spark's functions and names.
    pub async fn select_expr(self, exprs: &[&str]) -> Result<Self> {
        self.sql(&format!("SELECT {} FROM {{}}", exprs.join(", ")))
            .await
    }

    /// `filter(condition)`.
    pub fn filter(self, predicate: Expr) -> Result<Self> {
        let df = self.df.clone().filter(predicate)?;
        Ok(self.with(df))
    }

    /// `where(condition)` with a Spark SQL condition string.
    pub async fn where_expr(self, condition: &str) -> Result<Self> {
        self.sql(&format!("SELECT * FROM {{}} WHERE {condition}"))
            .await
    }

    /// `groupBy(*cols)`.
    pub fn group_by(self, keys: Vec<Expr>) -> GroupedData {
        GroupedData { frame: self, keys }
    }

    /// `orderBy(*cols)`.
    pub fn order_by(self, sort: Vec<SortExpr>) -> Result<Self> {
        let df = self.df.clone().sort(sort)?;
        Ok(self.with(df))
    }

    /// `limit(n)`.
    pub fn limit(self, n: usize) -> Result<Self> {
        let df = self.df.clone().limit(0, Some(n))?;
        Ok(self.with(df))
    }

    /// The plan built so far.
    pub fn logical_plan(&self) -> &LogicalPlan {
        self.df.logical_plan()
    }

    /// Starts configuring the output, as `writeStream`.
    pub fn write_stream(self) -> DataStreamWriter {
        DataStreamWriter::new(self)
    }

    pub(crate) fn into_parts(self) -> (Session, SourcePlan, OpenSource, LogicalPlan) {
        let plan = self.df.logical_plan().clone();
        (self.session, self.source_plan, self.input, plan)
    }

    /// Runs `template` (with `{}` for this frame) through kindling's Spark SQL front end.
    async fn sql(mut self, template: &str) -> Result<Self> {
        let view = format!("__kindling_frame_{}", self.views);
        self.views += 1;
        self.input
            .ctx
            .register_table(view.as_str(), self.df.clone().into_view())?;
        let sql = template.replace("{}", &view);
        let plan = crate::sql::plan_query(&self.input.ctx, &sql, &self.source_plan.table).await?;
        let df = DataFrame::new(self.input.ctx.state(), plan);
        Ok(self.with(df))
    }
}

impl GroupedData {
    /// `.agg(*exprs)`.
    pub fn agg(self, aggregates: Vec<Expr>) -> Result<StreamingDataFrame> {
        let df = self.frame.df.clone().aggregate(self.keys, aggregates)?;
        Ok(self.frame.with(df))
    }

    /// `.count()`: a column `count`.
    pub fn count(self) -> Result<StreamingDataFrame> {
        let count = datafusion::functions_aggregate::expr_fn::count(datafusion::prelude::lit(1))
            .alias("count");
        self.agg(vec![count])
    }
}
