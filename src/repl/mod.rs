//! `kindling repl`: an interactive shell for ad-hoc stream queries. [`Shell`] runs one
//! statement at a time — views over sources, batch and streaming SELECTs, background queries
//! into memory tables, settings and backslash commands — for the line editor or a script.

pub mod catalog;
pub mod command;
pub mod editor;
pub mod input;
pub mod settings;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionContext;

use crate::engine::{StreamingQuery, checker};
use crate::error::{Error, Result};
use crate::job::{QueryPlan, QueryText, SinkPlan};
use crate::options::Options;
use crate::session::Session;
use crate::sink::console::show_string;
use catalog::View;
use command::{BACKSLASH_COMMANDS, Command, Query};
use settings::Settings;

/// The job name the shell's queries carry in messages.
pub const JOB: &str = "repl";

/// What the caller does after a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next statement.
    Continue,
    /// `\q`: leave the shell.
    Quit,
}

/// The names the line editor completes.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    /// Views and memory tables.
    pub tables: Vec<String>,
    /// Their columns.
    pub columns: Vec<String>,
    /// Scalar, aggregate and window functions.
    pub functions: Vec<String>,
}

/// One shell session: its views, background queries and settings.
pub struct Shell {
    session: Session,
    /// Batch reads: every view and memory table, as it is when a query runs.
    ctx: SessionContext,
    views: BTreeMap<String, View>,
    background: BTreeMap<String, StreamingQuery>,
    /// Background queries whose end has been reported.
    reported: BTreeSet<String>,
    settings: Settings,
    interactive: bool,
    color: bool,
}

impl Shell {
    /// A shell with no views. `interactive` lets streaming SELECTs run until Ctrl-C (a
    /// script needs a bounded trigger); `color` prints errors in red.
    pub fn try_new(interactive: bool, color: bool) -> Result<Self> {
        Ok(Shell {
            session: Session::new(),
            ctx: crate::sql::new_session()?,
            views: BTreeMap::new(),
            background: BTreeMap::new(),
            reported: BTreeSet::new(),
            settings: Settings::default(),
            interactive,
            color,
        })
    }

    /// Runs one complete statement (without its `;`).
    pub async fn execute(&mut self, statement: &str) -> Result<Flow> {
        if input::is_blank(statement) {
            return Ok(Flow::Continue);
        }
        let command = command::parse(statement).map_err(usage)?;
        match command {
            Command::Quit => return Ok(Flow::Quit),
            Command::Help => print!("{}", help_table()),
            Command::Query(query) => match query.stream.clone() {
                Some(view) => self.stream_to_console(&query, &view).await?,
                None => self.batch_query(&query.sql).await?,
            },
            Command::StartQuery { name, query } => self.start_background(&name, &query).await?,
            Command::CreateView {
                name,
                format,
                options,
                replace,
            } => self.create_view(&name, &format, &options, replace)?,
            Command::DropView { name, if_exists } => self.drop_view(&name, if_exists)?,
            Command::Set { key, value } => self.set(key.as_deref(), value.as_deref())?,
            Command::Describe(None) => print!("{}", self.list_tables()),
            Command::Describe(Some(name)) => print!("{}", self.describe(&name)?),
            Command::Explain(query) => print!("{}", self.explain(&query).await?),
            Command::Include(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::io(format!("\\i: cannot read '{}'", path.display()), e))?;
                return Box::pin(self.run_script(&text)).await;
            }
            Command::Queries => print!("{}", self.list_queries()),
            Command::Stop(name) => self.stop(&name).await?,
        }
        Ok(Flow::Continue)
    }

    /// Runs the statements of `text` in order, stopping at the first error.
    pub async fn run_script(&mut self, text: &str) -> Result<Flow> {
        let mut buffer = input::InputBuffer::new();
        for line in text.lines() {
            for statement in buffer.push_line(line) {
                if self.execute(&statement).await? == Flow::Quit {
                    return Ok(Flow::Quit);
                }
            }
        }
        match buffer.finish() {
            Some(last) => self.execute(&last).await,
            None => Ok(Flow::Continue),
        }
    }

    /// Prints an error, in red when the shell has colour.
    pub fn print_error(&self, err: &Error) {
        if self.color {
            eprintln!("\x1b[31mError: {}\x1b[0m", err.report());
        } else {
            eprintln!("Error: {}", err.report());
        }
    }

    /// Says once about each background query that has ended since the last call.
    pub fn report_finished(&mut self) {
        for (name, query) in &self.background {
            if !query.is_active() && self.reported.insert(name.clone()) {
                let status = query.status().message;
                let batches = query.batches_committed();
                eprintln!(
                    "query {name} ended after {batches} {}: {status}",
                    plural(batches, "batch", "batches")
                );
            }
        }
    }

    /// Stops every background query (leaving the shell).
    pub async fn shutdown(&mut self) {
        for (name, mut query) in std::mem::take(&mut self.background) {
            query.stop();
            if let Err(e) = query.await_termination().await
                && self.reported.insert(name)
            {
                self.print_error(&e);
            }
        }
    }

    /// The names to complete: views, tables, their columns and the functions.
    pub fn vocabulary(&self) -> Vocabulary {
        let mut tables = Vec::new();
        let mut columns = BTreeSet::new();
        for (name, schema) in self.tables() {
            tables.push(name);
            columns.extend(schema.fields().iter().map(|f| f.name().clone()));
        }
        let state = self.ctx.state();
        let mut functions: BTreeSet<String> = state.udfs().into_iter().collect();
        functions.extend(state.udafs());
        functions.extend(state.udwfs());
        Vocabulary {
            tables,
            columns: columns.into_iter().collect(),
            functions: functions.into_iter().collect(),
        }
    }

    /// Every view and memory table with its schema, by name.
    fn tables(&self) -> Vec<(String, SchemaRef)> {
        let mut out: Vec<(String, SchemaRef)> = self
            .views
            .iter()
            .map(|(n, v)| (n.clone(), Arc::clone(&v.schema)))
            .collect();
        let memory = self.session.memory_tables();
        for name in memory.names() {
            if let Some(schema) = memory.schema(&name) {
                out.push((name, schema));
            }
        }
        out
    }

    async fn batch_query(&self, sql: &str) -> Result<()> {
        let plan = crate::sql::plan_query(&self.ctx, sql, JOB).await?;
        let df = self
            .ctx
            .execute_logical_plan(plan)
            .await
            .map_err(query_error)?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = self
            .interruptible(df.collect())
            .await?
            .map_err(query_error)?;
        println!(
            "{}",
            show_string(
                &schema,
                &batches,
                self.settings.num_rows as usize,
                self.truncate()
            )
        );
        Ok(())
    }

    /// Waits for `work`, or in an interactive shell for Ctrl-C, which abandons it.
    async fn interruptible<T>(&self, work: impl std::future::Future<Output = T>) -> Result<T> {
        if !self.interactive {
            return Ok(work.await);
        }
        tokio::select! {
            out = work => Ok(out),
            _ = tokio::signal::ctrl_c() => Err(Error::Usage("query cancelled".to_string())),
        }
    }

    fn truncate(&self) -> usize {
        if self.settings.truncate { 20 } else { 0 }
    }

    /// The plan of a streaming query over `view` into a sink of `format`.
    fn streaming_plan(
        &self,
        name: &str,
        query: &Query,
        view: &str,
        format: &str,
    ) -> Result<QueryPlan> {
        let source = self.views.get(view).ok_or_else(|| not_found(view))?;
        let options = if format == "console" {
            Options::from_pairs(
                "sink 'console'",
                [
                    ("numRows", self.settings.num_rows.to_string()),
                    ("truncate", self.settings.truncate.to_string()),
                ],
            )
        } else {
            Options::from_pairs("sink 'memory'", Vec::<(String, String)>::new())
        };
        Ok(QueryPlan {
            name: name.to_string(),
            job: JOB.to_string(),
            source: source.plan.clone(),
            query: QueryText::Sql(query.sql.clone()),
            sink: SinkPlan {
                format: format.to_string(),
                output_mode: self.settings.output_mode,
                trigger: self.settings.trigger,
                checkpoint_location: None,
                options,
                hooks: Vec::new(),
            },
            conf: self.settings.conf.clone(),
        })
    }

    /// A script cannot be interrupted, so its streaming queries must end by themselves.
    fn check_bounded(&self, what: &str) -> Result<()> {
        if self.interactive || self.settings.trigger.is_bounded() {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "{what} in a script needs a trigger that ends, but trigger is '{}'; add SET trigger = 'availableNow' (or 'once') before it",
            self.settings.get("trigger").unwrap_or_default()
        )))
    }

    /// A streaming SELECT: prints each batch until the trigger ends it or Ctrl-C stops it.
    async fn stream_to_console(&mut self, query: &Query, view: &str) -> Result<()> {
        self.check_bounded("a streaming SELECT")?;
        let plan = self.streaming_plan(JOB, query, view, "console")?;
        let mut running = self.session.start(&plan).await?;
        let stop = running.stop_handle();
        let interrupted = {
            let done = running.await_termination();
            tokio::pin!(done);
            if self.interactive {
                tokio::select! {
                    r = &mut done => { r?; false }
                    _ = tokio::signal::ctrl_c() => {
                        stop.stop();
                        done.await?;
                        true
                    }
                }
            } else {
                done.await?;
                false
            }
        };
        let batches = running.batches_committed();
        let verb = if interrupted { "stopped" } else { "finished" };
        eprintln!(
            "query {verb} after {batches} {}",
            plural(batches, "batch", "batches")
        );
        Ok(())
    }

    /// `START QUERY name AS ...`: a streaming query into memory table `name`.
    async fn start_background(&mut self, name: &str, query: &Query) -> Result<()> {
        let Some(view) = &query.stream else {
            return Err(usage(format!(
                "START QUERY {name} runs a streaming query, but its SELECT reads no STREAM view; read one with FROM STREAM view"
            )));
        };
        if self.views.contains_key(name) {
            return Err(usage(format!(
                "START QUERY {name}: '{name}' is a view; name the query (and its memory table) differently"
            )));
        }
        if self.background.get(name).is_some_and(|q| q.is_active()) {
            return Err(usage(format!(
                "query '{name}' is already running; stop it first with \\stop {name}"
            )));
        }
        self.check_bounded("START QUERY")?;
        let plan = self.streaming_plan(name, query, view, "memory")?;
        let mut running = self.session.start(&plan).await?;
        let schema = self
            .session
            .memory_tables()
            .schema(name)
            .ok_or_else(|| usage(format!("query '{name}' has no memory table")))?;
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(
            name,
            catalog::memory_table(name, schema, self.session.memory_tables().clone())?,
        )?;
        self.reported.remove(name);
        if self.interactive {
            eprintln!(
                "query {name} started into memory table {name}; \\queries shows its progress, \\stop {name} stops it"
            );
            self.background.insert(name.to_string(), running);
        } else {
            running.await_termination().await?;
            let batches = running.batches_committed();
            eprintln!(
                "query {name} finished after {batches} {} into memory table {name}",
                plural(batches, "batch", "batches")
            );
        }
        Ok(())
    }

    async fn stop(&mut self, name: &str) -> Result<()> {
        let Some(mut query) = self.background.remove(name) else {
            let running: Vec<&str> = self.background.keys().map(String::as_str).collect();
            return Err(usage(format!(
                "no background query named '{name}'; running: {}",
                if running.is_empty() {
                    "none".to_string()
                } else {
                    running.join(", ")
                }
            )));
        };
        query.stop();
        let result = query.await_termination().await;
        self.reported.insert(name.to_string());
        result?;
        let batches = query.batches_committed();
        eprintln!(
            "query {name} stopped after {batches} {}; memory table {name} stays readable",
            plural(batches, "batch", "batches")
        );
        Ok(())
    }

    fn create_view(
        &mut self,
        name: &str,
        format: &str,
        options: &[(String, String)],
        replace: bool,
    ) -> Result<()> {
        let taken =
            self.views.contains_key(name) || self.session.memory_tables().schema(name).is_some();
        if taken && !replace {
            return Err(usage(format!(
                "[TEMP_TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create the temporary view `{name}` because it already exists. Choose a different name, drop or replace the existing view (CREATE OR REPLACE TEMPORARY VIEW)"
            )));
        }
        let view = View::try_new(name, format, options)?;
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, view.snapshot_table()?)?;
        self.views.insert(name.to_string(), view);
        Ok(())
    }

    fn drop_view(&mut self, name: &str, if_exists: bool) -> Result<()> {
        if self.views.remove(name).is_some() {
            self.ctx.deregister_table(name)?;
        } else if !if_exists {
            return Err(not_found(name));
        }
        Ok(())
    }

    fn set(&mut self, key: Option<&str>, value: Option<&str>) -> Result<()> {
        match (key, value) {
            (Some(key), Some(value)) => self.settings.set(key, value).map_err(usage)?,
            (Some(key), None) => {
                let value = self.settings.get(key).map_err(usage)?;
                print!(
                    "{}",
                    text_table(&["key", "value"], &[vec![key.to_string(), value]])
                );
            }
            (None, _) => {
                let rows: Vec<Vec<String>> = self
                    .settings
                    .entries()
                    .into_iter()
                    .map(|(k, v)| vec![k, v])
                    .collect();
                print!("{}", text_table(&["key", "value"], &rows));
            }
        }
        Ok(())
    }

    fn list_tables(&self) -> String {
        let mut rows: Vec<Vec<String>> = self
            .views
            .iter()
            .map(|(name, v)| {
                vec![
                    name.clone(),
                    "view".to_string(),
                    format!("USING {}", v.plan.format),
                ]
            })
            .collect();
        for name in self.session.memory_tables().names() {
            let state = match self.background.get(&name) {
                Some(q) if q.is_active() => "running",
                _ => "stopped",
            };
            rows.push(vec![
                name.clone(),
                "memory table".to_string(),
                format!("query {name}, {state}"),
            ]);
        }
        text_table(&["name", "type", "source"], &rows)
    }

    fn describe(&self, name: &str) -> Result<String> {
        let schema = self
            .tables()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
            .ok_or_else(|| not_found(name))?;
        let rows: Vec<Vec<String>> = schema
            .fields()
            .iter()
            .map(|f| {
                vec![
                    f.name().clone(),
                    crate::types::spark_type_name(f.data_type()),
                    "NULL".to_string(),
                ]
            })
            .collect();
        Ok(text_table(&["col_name", "data_type", "comment"], &rows))
    }

    fn list_queries(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .background
            .iter()
            .map(|(name, q)| {
                let progress = q.last_progress();
                let rate = |r: Option<f64>| r.map(|r| r.to_string()).unwrap_or_default();
                vec![
                    name.clone(),
                    q.id().to_string(),
                    q.status().message,
                    q.batches_committed().to_string(),
                    progress
                        .as_ref()
                        .map(|p| p.batch_id.to_string())
                        .unwrap_or_default(),
                    progress
                        .as_ref()
                        .map(|p| p.num_input_rows.to_string())
                        .unwrap_or_default(),
                    rate(progress.as_ref().and_then(|p| p.input_rows_per_second)),
                    rate(progress.as_ref().and_then(|p| p.processed_rows_per_second)),
                ]
            })
            .collect();
        text_table(
            &[
                "name",
                "id",
                "status",
                "batches",
                "batchId",
                "numInputRows",
                "inputRowsPerSecond",
                "processedRowsPerSecond",
            ],
            &rows,
        )
    }

    /// The output-mode verdict (for a streaming query) and DataFusion's plans.
    async fn explain(&self, query: &Query) -> Result<String> {
        let mut out = String::new();
        let (ctx, logical) = match &query.stream {
            Some(view) => {
                let source = self.views.get(view).ok_or_else(|| not_found(view))?;
                let input = self.session.open_source(&source.plan)?;
                let logical = crate::sql::plan_query(&input.ctx, &query.sql, JOB).await?;
                let mode = self.settings.output_mode.as_str();
                let verdict = match checker::check(&logical, self.settings.output_mode) {
                    Ok(()) => {
                        format!("streaming query over {view}: {mode} output mode is supported")
                    }
                    Err(message) => format!("streaming query over {view}: {message}"),
                };
                out.push_str(&format!("== Streaming ==\n{verdict}\n\n"));
                (input.ctx, logical)
            }
            None => {
                let logical = crate::sql::plan_query(&self.ctx, &query.sql, JOB).await?;
                (self.ctx.clone(), logical)
            }
        };
        let state = ctx.state();
        let optimized = state.optimize(&logical).map_err(query_error)?;
        let physical = state
            .create_physical_plan(&optimized)
            .await
            .map_err(query_error)?;
        out.push_str(&format!(
            "== Analyzed Logical Plan ==\n{}\n\n== Optimized Logical Plan ==\n{}\n\n== Physical Plan ==\n{}\n",
            logical.display_indent(),
            optimized.display_indent(),
            datafusion::physical_plan::displayable(physical.as_ref()).indent(false)
        ));
        Ok(out)
    }
}

/// Spark's `[TABLE_OR_VIEW_NOT_FOUND]` for a name the shell does not know.
fn not_found(name: &str) -> Error {
    query_error(DataFusionError::Plan(format!("table '{name}' not found")))
}

fn usage(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// A DataFusion error from running a shell query, as kindling's error: a source's own error
/// comes back as itself, anything else is worded as Spark would.
fn query_error(err: DataFusionError) -> Error {
    match err {
        DataFusionError::External(inner) => match inner.downcast::<Error>() {
            Ok(own) => *own,
            Err(other) => Error::Sql {
                job: JOB.to_string(),
                message: other.to_string(),
            },
        },
        DataFusionError::Context(_, inner) => query_error(*inner),
        DataFusionError::Shared(shared) => match Arc::try_unwrap(shared) {
            Ok(inner) => query_error(inner),
            Err(shared) => Error::Sql {
                job: JOB.to_string(),
                message: crate::spark_errors::spark_message(&shared),
            },
        },
        DataFusionError::ArrowError(arrow, _) => match *arrow {
            datafusion::arrow::error::ArrowError::ExternalError(inner) => {
                query_error(DataFusionError::External(inner))
            }
            other => Error::from(other),
        },
        other => Error::Sql {
            job: JOB.to_string(),
            message: crate::spark_errors::spark_message(&other),
        },
    }
}

/// A table of strings in Spark's `show` layout (left-aligned, nothing cut).
fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let schema = Arc::new(Schema::new(
        headers
            .iter()
            .map(|h| Field::new(*h, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = (0..headers.len())
        .map(|i| {
            Arc::new(StringArray::from_iter_values(
                rows.iter()
                    .map(|r| r.get(i).map(String::as_str).unwrap_or("")),
            )) as ArrayRef
        })
        .collect();
    let batches = match RecordBatch::try_new(Arc::clone(&schema), columns) {
        Ok(b) => vec![b],
        Err(_) => Vec::new(),
    };
    // A blank line after it, as after a query's table.
    show_string(&schema, &batches, rows.len(), 0) + "\n"
}

fn help_table() -> String {
    let mut rows: Vec<Vec<String>> = BACKSLASH_COMMANDS
        .iter()
        .map(|(c, args, what)| vec![format!("{c} {args}").trim().to_string(), what.to_string()])
        .collect();
    for (statement, what) in [
        (
            "CREATE TEMPORARY VIEW v USING kafka|text|tweets|rate OPTIONS (k 'v', ...)",
            "a view over a source, with Spark's option names",
        ),
        (
            "SELECT ... FROM v",
            "a batch query over what the view holds now",
        ),
        (
            "SELECT ... FROM STREAM v",
            "a streaming query printing each batch until Ctrl-C",
        ),
        (
            "START QUERY name AS SELECT ... FROM STREAM v",
            "a background query into memory table name",
        ),
        (
            "SET key = value",
            "outputMode, trigger, numRows, truncate or any spark.* key; SET lists them",
        ),
        ("DROP VIEW [IF EXISTS] v", "forget a view"),
    ] {
        rows.push(vec![statement.to_string(), what.to_string()]);
    }
    text_table(&["command", "description"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_tables_are_left_aligned_and_complete() {
        let rows: Vec<Vec<String>> = (0..25)
            .map(|i| vec![format!("row {i}"), "x".repeat(30)])
            .collect();
        let table = text_table(&["a", "b"], &rows);
        assert_eq!(table.lines().count(), 25 + 4 + 1);
        assert!(table.ends_with("+\n\n"), "a blank line follows: {table}");
        assert!(
            table.contains(&format!("|row 0 |{}|", "x".repeat(30))),
            "{table}"
        );
        assert!(!table.contains("only showing"));
    }

    #[test]
    fn query_errors_unwrap_kindlings_own() {
        let own = Error::Usage("view 'r' (USING rate) can only be streamed".to_string());
        let wrapped = DataFusionError::Context(
            "scan".to_string(),
            Box::new(DataFusionError::External(Box::new(own))),
        );
        let err = query_error(wrapped);
        assert!(
            matches!(err, Error::Usage(ref m) if m.contains("can only be streamed")),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
        let err = query_error(DataFusionError::Plan("table 'nope' not found".to_string()));
        assert!(
            err.to_string().contains("[TABLE_OR_VIEW_NOT_FOUND]"),
            "{err}"
        );
    }
}
