//! SELECT items whose columns depend on their argument's type: Spark's generators at the top of
//! a SELECT list (`explode`, `posexplode`, `inline` and their `_outer` forms) as DataFusion
//! unnests giving Spark's columns (`col`, or `key` and `value` for a map, `pos` first for
//! `posexplode`, a struct's fields for `inline`), and `s.*` of a struct column `s` as one
//! column per field. Each SELECT's arguments are typed by planning a probe of its FROM
//! clause, innermost SELECT first, so that enclosing queries see the final column names.

use std::future::Future;
use std::pin::Pin;

use datafusion::arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    CastKind, Cte, DataType as SqlDataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    Ident, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement,
    TableFactor, TableWithJoins, Value, With, helpers::attached_token::AttachedToken,
};

use super::rewrite::call;

/// Which generator a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `explode`: `col`, or `key`, `value` for a map.
    Explode,
    /// `posexplode`: `pos`, then `explode`'s columns.
    PosExplode,
    /// `inline(array<struct>)`: one column per field.
    Inline,
}

/// A generator call at the top of a SELECT item.
#[derive(Debug)]
struct Generator {
    kind: Kind,
    /// The `_outer` form: a NULL or empty argument gives one row of NULLs, not none.
    outer: bool,
    /// The name as written, for messages.
    name: String,
    arg: Expr,
}

impl Generator {
    /// The generator `expr` calls, if it is one with a single argument.
    fn of(expr: &Expr) -> Option<Self> {
        let Expr::Function(f) = expr else {
            return None;
        };
        let name = f.name.to_string().to_ascii_lowercase();
        let (kind, outer) = match name.as_str() {
            "explode" => (Kind::Explode, false),
            "explode_outer" => (Kind::Explode, true),
            "posexplode" => (Kind::PosExplode, false),
            "posexplode_outer" => (Kind::PosExplode, true),
            "inline" => (Kind::Inline, false),
            "inline_outer" => (Kind::Inline, true),
            _ => return None,
        };
        let FunctionArguments::List(list) = &f.args else {
            return None;
        };
        let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_slice() else {
            return None;
        };
        Some(Generator {
            kind,
            outer,
            name,
            arg: arg.clone(),
        })
    }

    /// The columns it yields, each an expression over `unnest` with Spark's name for it;
    /// `arg_type` is the argument's type where a probe found it (an array is assumed
    /// otherwise). A name of `None` leaves the naming to DataFusion (a struct unnest).
    fn columns(&self, arg_type: Option<&DataType>) -> Result<Vec<(Expr, Option<String>)>> {
        let outer = self.outer;
        let unnest = |e: Expr| {
            let e = if outer {
                call(super::functions::outer::NAME, vec![e])
            } else {
                e
            };
            call("unnest", vec![e])
        };
        let arg = || self.arg.clone();
        let mut columns = Vec::with_capacity(3);
        if self.kind == Kind::PosExplode {
            let positions = call(
                "range",
                vec![
                    Expr::value(Value::Number("0".into(), false)),
                    call("cardinality", vec![arg()]),
                ],
            );
            // Spark's `pos` is an INT.
            let pos = Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(unnest(positions)),
                data_type: SqlDataType::Int(None),
                array: false,
                format: None,
            };
            columns.push((pos, Some("pos".to_string())));
        }
        match (self.kind, arg_type) {
            (Kind::Inline, None) => columns.push((call("unnest", vec![unnest(arg())]), None)),
            (Kind::Inline, Some(t)) => {
                let fields = match t {
                    DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                        match f.data_type() {
                            DataType::Struct(fields) => Some(fields),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                let Some(fields) = fields else {
                    return Err(self.type_mismatch("\"ARRAY<STRUCT>\"", t));
                };
                for field in fields {
                    let value = call(
                        "get_field",
                        vec![
                            unnest(arg()),
                            Expr::value(Value::SingleQuotedString(field.name().clone())),
                        ],
                    );
                    columns.push((value, Some(field.name().clone())));
                }
            }
            (_, Some(DataType::Map(_, _))) => {
                columns.push((
                    unnest(call("map_keys", vec![arg()])),
                    Some("key".to_string()),
                ));
                columns.push((
                    unnest(call("map_values", vec![arg()])),
                    Some("value".to_string()),
                ));
            }
            (
                _,
                None
                | Some(
                    DataType::List(_)
                    | DataType::LargeList(_)
                    | DataType::FixedSizeList(_, _)
                    | DataType::Null,
                ),
            ) => columns.push((unnest(arg()), Some("col".to_string()))),
            (_, Some(other)) => return Err(self.type_mismatch("(\"ARRAY\" or \"MAP\")", other)),
        }
        Ok(columns)
    }

    /// Spark's message for an argument of the wrong type.
    fn type_mismatch(&self, expected: &str, found: &DataType) -> DataFusionError {
        let arg = super::naming::sql(&self.arg);
        DataFusionError::Plan(format!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}({arg})\" due to data type mismatch: The first parameter requires the {expected} type, however \"{arg}\" has the type \"{}\". SQLSTATE: 42K09",
            self.name,
            super::types::spark_type_name(found).to_ascii_uppercase()
        ))
    }
}

/// The expression of a SELECT item that may be a generator, with the aliases given to it.
fn item_parts(item: &SelectItem) -> Option<(&Expr, Option<Vec<Ident>>)> {
    match item {
        SelectItem::UnnamedExpr(expr) => Some((expr, None)),
        SelectItem::ExprWithAlias { expr, alias } => Some((expr, Some(vec![alias.clone()]))),
        SelectItem::ExprWithAliases { expr, aliases } => Some((expr, Some(aliases.clone()))),
        _ => None,
    }
}

/// The struct `s` of an `s.*` item, where `s` does not name a relation of the FROM clause
/// (whose `t.*` is a plain wildcard).
fn struct_star(item: &SelectItem, relations: &[String]) -> Option<Expr> {
    let SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), _) = item
    else {
        return None;
    };
    let parts: Vec<Ident> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident().cloned())
        .collect();
    let first = parts.first()?;
    if parts.len() != name.0.len()
        || relations
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&first.value))
    {
        return None;
    }
    Some(match parts.len() {
        1 => Expr::Identifier(parts[0].clone()),
        _ => Expr::CompoundIdentifier(parts),
    })
}

/// The argument of `item` if it is typed (a generator or `s.*`).
fn typed_arg(item: &SelectItem, relations: &[String]) -> Option<Expr> {
    match item_parts(item) {
        Some((expr, _)) => Generator::of(expr).map(|g| g.arg),
        None => struct_star(item, relations),
    }
}

/// `s.*` as one column per field of the struct `s`, named as the field.
fn struct_fields(strukt: Expr, data_type: &DataType) -> Option<Vec<SelectItem>> {
    let DataType::Struct(fields) = data_type else {
        return None;
    };
    Some(
        fields
            .iter()
            .map(|f| SelectItem::ExprWithAlias {
                expr: call(
                    "get_field",
                    vec![
                        strukt.clone(),
                        Expr::value(Value::SingleQuotedString(f.name().clone())),
                    ],
                ),
                alias: Ident::with_quote('"', f.name().clone()),
            })
            .collect(),
    )
}

/// Rewrites the typed items of `select` into their columns; `arg_types` holds the type of
/// each one's argument in order, where known (without it, generators are taken to be over
/// arrays and `s.*` is left to DataFusion).
pub(super) fn expand_items(select: &mut Select, arg_types: Option<&[DataType]>) -> Result<()> {
    let relations = super::lateral_view::relation_names(&select.from);
    let mut k = 0;
    let mut items = Vec::with_capacity(select.projection.len());
    for item in select.projection.drain(..) {
        if let Some(strukt) = struct_star(&item, &relations) {
            let arg_type = arg_types.and_then(|types| types.get(k));
            k += 1;
            match arg_type.and_then(|t| struct_fields(strukt, t)) {
                Some(fields) => items.extend(fields),
                None => items.push(item),
            }
            continue;
        }
        let Some((generator, aliases)) =
            item_parts(&item).and_then(|(expr, aliases)| Generator::of(expr).map(|g| (g, aliases)))
        else {
            items.push(item);
            continue;
        };
        let arg_type = arg_types.and_then(|types| types.get(k));
        k += 1;
        let columns = generator.columns(arg_type)?;
        match aliases {
            None => items.extend(columns.into_iter().map(|(expr, name)| match name {
                Some(name) => SelectItem::ExprWithAlias {
                    expr,
                    alias: Ident::with_quote('"', name),
                },
                None => SelectItem::UnnamedExpr(expr),
            })),
            Some(aliases) if aliases.len() == columns.len() => items.extend(
                columns
                    .into_iter()
                    .zip(aliases)
                    .map(|((expr, _), alias)| SelectItem::ExprWithAlias { expr, alias }),
            ),
            Some(aliases) => {
                return Err(DataFusionError::Plan(format!(
                    "[UDTF_ALIAS_NUMBER_MISMATCH] The number of aliases supplied in the AS clause does not match the number of columns output by the UDTF.\nExpected {} aliases, but got {}.\nPlease ensure that the number of aliases provided matches the number of columns output by the UDTF. SQLSTATE: 42802",
                    columns.len(),
                    aliases
                        .iter()
                        .map(|a| a.value.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                )));
            }
        }
    }
    select.projection = items;
    Ok(())
}

/// Expands every typed item of `statement` in a SELECT reachable through queries, set
/// operations, CTEs and derived tables, with its argument's type. Generators elsewhere (in
/// expression subqueries) are left to the syntactic rewrite, as arrays.
pub async fn expand(ctx: &SessionContext, statement: &mut Statement) -> Result<()> {
    match statement {
        Statement::Query(query) => expand_query(ctx, query, &[]).await,
        _ => Ok(()),
    }
}

type Expansion<'a> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

fn expand_query<'a>(
    ctx: &'a SessionContext,
    query: &'a mut Query,
    scope: &'a [Cte],
) -> Expansion<'a> {
    Box::pin(async move {
        // A CTE sees the ones declared before it.
        let mut visible = scope.to_vec();
        if let Some(with) = query.with.as_mut() {
            for cte in with.cte_tables.iter_mut() {
                expand_query(ctx, &mut cte.query, &visible).await?;
                visible.push(cte.clone());
            }
        }
        expand_body(ctx, &mut query.body, &visible).await
    })
}

fn expand_body<'a>(
    ctx: &'a SessionContext,
    body: &'a mut SetExpr,
    scope: &'a [Cte],
) -> Expansion<'a> {
    Box::pin(async move {
        match body {
            SetExpr::Select(select) => {
                for from in select.from.iter_mut() {
                    expand_from(ctx, from, scope).await?;
                }
                expand_select(ctx, select, scope).await
            }
            SetExpr::Query(query) => expand_query(ctx, query, scope).await,
            SetExpr::SetOperation { left, right, .. } => {
                expand_body(ctx, left, scope).await?;
                expand_body(ctx, right, scope).await
            }
            _ => Ok(()),
        }
    })
}

fn expand_from<'a>(
    ctx: &'a SessionContext,
    from: &'a mut TableWithJoins,
    scope: &'a [Cte],
) -> Expansion<'a> {
    Box::pin(async move {
        expand_factor(ctx, &mut from.relation, scope).await?;
        for join in from.joins.iter_mut() {
            expand_factor(ctx, &mut join.relation, scope).await?;
        }
        Ok(())
    })
}

fn expand_factor<'a>(
    ctx: &'a SessionContext,
    factor: &'a mut TableFactor,
    scope: &'a [Cte],
) -> Expansion<'a> {
    Box::pin(async move {
        match factor {
            TableFactor::Derived { subquery, .. } => expand_query(ctx, subquery, scope).await,
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => expand_from(ctx, table_with_joins, scope).await,
            _ => Ok(()),
        }
    })
}

async fn expand_select(ctx: &SessionContext, select: &mut Select, scope: &[Cte]) -> Result<()> {
    let relations = super::lateral_view::relation_names(&select.from);
    if !select
        .projection
        .iter()
        .any(|item| typed_arg(item, &relations).is_some())
    {
        return Ok(());
    }
    // A probe that cannot be planned is the query's own error (an unknown column, say):
    // guessing the argument's type instead could give a map's entries the columns of an
    // array's.
    let types = probe_types(ctx, select, scope, &relations).await?;
    expand_items(select, Some(&types))
}

/// The types of the typed items' arguments over `select`: a copy of `select` with each typed
/// item replaced in place by its argument (so that GROUP BY aliases and ordinals still
/// resolve), with the CTEs in `scope`, rewritten as any query is and planned.
async fn probe_types(
    ctx: &SessionContext,
    select: &Select,
    scope: &[Cte],
    relations: &[String],
) -> Result<Vec<DataType>> {
    let mut probe = select.clone();
    let mut names = Vec::new();
    for item in probe.projection.iter_mut() {
        if let Some(expr) = typed_arg(item, relations) {
            let name = format!("kindling_probe_{}", names.len());
            *item = SelectItem::ExprWithAlias {
                expr,
                alias: Ident::with_quote('"', name.clone()),
            };
            names.push(name);
        }
    }
    let query = Query {
        with: (!scope.is_empty()).then(|| With {
            with_token: AttachedToken::empty(),
            recursive: false,
            cte_tables: scope.to_vec(),
        }),
        body: Box::new(SetExpr::Select(Box::new(probe))),
        order_by: None,
        limit_clause: None,
        fetch: None,
        locks: Vec::new(),
        for_clause: None,
        settings: None,
        format_clause: None,
        pipe_operators: Vec::new(),
    };
    let mut statement = Statement::Query(Box::new(query));
    super::rewrite::rewrite_statement(&mut statement)?;
    let plan = ctx
        .state()
        .statement_to_plan(DFStatement::Statement(Box::new(statement)))
        .await?;
    names
        .iter()
        .map(|name| {
            Ok(plan
                .schema()
                .field_with_unqualified_name(name)?
                .data_type()
                .clone())
        })
        .collect()
}
