//! Spark SQL syntax DataFusion lacks, rewritten on the parsed AST before planning (after the
//! typed generator expansion of [`super::typed_items`]): every unaliased SELECT item gets the
//! name Spark prints for it ([`super::naming`]),
//! `a RLIKE b` becomes `regexp_like(a, b)`, `regexp_replace` replaces every match as Spark's
//! does, literal Java regex patterns are translated to Rust's syntax, and the `BINARY` type is
//! DataFusion's `BYTEA`.

use std::ops::ControlFlow;

use datafusion::error::DataFusionError;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, CastKind, DataType, ExactNumberInfo, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, Ident, ObjectName, Query, SelectItem, SetExpr,
    Statement, UnaryOperator, Value, VisitMut, VisitorMut,
};

/// Applies every rewrite to `statement` in place (after [`super::typed_items::expand`]).
pub fn rewrite_statement(statement: &mut Statement) -> Result<(), DataFusionError> {
    if let ControlFlow::Break(e) = statement.visit(&mut SparkRewriter) {
        return Err(e);
    }
    preserve_alias_case(statement);
    Ok(())
}

/// Spark resolves names case-insensitively but keeps an alias's case in the output;
/// DataFusion lower-cases unquoted identifiers. So a mixed-case alias is quoted, and the
/// unquoted references that name it (in any case) are spelled as the alias: those in the
/// enclosing query (`d.value` only when `d` is the derived table that has it), and the
/// SELECT's own HAVING, ORDER BY and (where no input column has the name) GROUP BY. The
/// SELECT's other clauses read its input, so `SELECT value AS Value FROM lines` keeps reading
/// `value`; a subquery expression has a scope of its own.
fn preserve_alias_case(statement: &mut Statement) {
    if let Statement::Query(query) = statement {
        respell_query(query, &[]);
    }
}

/// A case-preserved alias visible in a scope, and the relation it is a column of (a derived
/// table or a CTE; `None` for the SELECT's own aliases, read unqualified).
#[derive(Debug, Clone)]
struct Alias {
    relation: Option<String>,
    name: String,
}

/// Respells the references in `query` to the aliases in `visible` and to its own; returns the
/// aliases its output carries.
fn respell_query(query: &mut Query, visible: &[Alias]) -> Vec<String> {
    let mut scope = visible.to_vec();
    if let Some(with) = query.with.as_mut() {
        for cte in with.cte_tables.iter_mut() {
            let produced = respell_query(&mut cte.query, &scope);
            let relation = Some(cte.alias.name.value.clone());
            scope.extend(produced.into_iter().map(|name| Alias {
                relation: relation.clone(),
                name,
            }));
        }
    }
    let produced = respell_body(&mut query.body, &scope);
    if let Some(order_by) = query.order_by.as_mut()
        && let datafusion::sql::sqlparser::ast::OrderByKind::Expressions(exprs) = &mut order_by.kind
    {
        let mut names = scope.clone();
        names.extend(produced.iter().map(|name| Alias {
            relation: None,
            name: name.clone(),
        }));
        for e in exprs.iter_mut() {
            respell_expr(&mut e.expr, &names);
        }
    }
    produced
}

fn respell_body(body: &mut SetExpr, visible: &[Alias]) -> Vec<String> {
    match body {
        SetExpr::Select(select) => {
            let mut input = visible.to_vec();
            for from in select.from.iter_mut() {
                input.extend(respell_from(from, visible));
            }
            let mut own = Vec::new();
            for item in select.projection.iter_mut() {
                match item {
                    SelectItem::ExprWithAlias { expr, alias } => {
                        respell_expr(expr, &input);
                        if alias.quote_style.is_none()
                            && alias.value.chars().any(|c| c.is_uppercase())
                        {
                            *alias = Ident::with_quote('"', alias.value.clone());
                            own.push(alias.value.clone());
                        }
                    }
                    SelectItem::UnnamedExpr(expr) => respell_expr(expr, &input),
                    _ => {}
                }
            }
            if let Some(selection) = select.selection.as_mut() {
                respell_expr(selection, &input);
            }
            let own_aliases = || {
                own.iter().map(|name| Alias {
                    relation: None,
                    name: name.clone(),
                })
            };
            // GROUP BY reads an input column before an alias of the same name (Spark's
            // groupByAliases): an alias only for a name no input column is known to have,
            // judged by the columns the SELECT's other clauses read.
            let read = read_columns(select);
            let mut grouping = input.clone();
            grouping.extend(
                own_aliases().filter(|a| !read.iter().any(|r| r.eq_ignore_ascii_case(&a.name))),
            );
            if let datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(exprs, _) =
                &mut select.group_by
            {
                for e in exprs.iter_mut() {
                    respell_expr(e, &grouping);
                }
            }
            let mut all = input;
            all.extend(own_aliases());
            if let Some(having) = select.having.as_mut() {
                respell_expr(having, &all);
            }
            // The output: the SELECT's aliases and, through `*`, those it reads.
            all.into_iter().map(|a| a.name).collect()
        }
        SetExpr::Query(query) => respell_query(query, visible),
        SetExpr::SetOperation { left, right, .. } => {
            let mut names = respell_body(left, visible);
            names.extend(respell_body(right, visible));
            names
        }
        _ => Vec::new(),
    }
}

/// The unquoted column names the SELECT's items and WHERE read (not its aliases).
fn read_columns(select: &datafusion::sql::sqlparser::ast::Select) -> Vec<String> {
    use datafusion::sql::sqlparser::ast::{Visit, Visitor};
    struct Read(Vec<String>);
    impl Visitor for Read {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            match expr {
                Expr::Identifier(i) => self.0.push(i.value.clone()),
                Expr::CompoundIdentifier(parts) => {
                    if let Some(last) = parts.last() {
                        self.0.push(last.value.clone());
                    }
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut read = Read(Vec::new());
    for item in &select.projection {
        let _ = item.visit(&mut read);
    }
    let _ = select.selection.visit(&mut read);
    read.0
}

/// Respells the derived tables and join conditions of `from`; returns the aliases of the
/// derived tables' outputs, each with the name of its derived table.
fn respell_from(
    from: &mut datafusion::sql::sqlparser::ast::TableWithJoins,
    visible: &[Alias],
) -> Vec<Alias> {
    use datafusion::sql::sqlparser::ast::{JoinConstraint, JoinOperator, TableFactor};
    fn factor(f: &mut TableFactor, visible: &[Alias]) -> Vec<Alias> {
        match f {
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let relation = alias.as_ref().map(|a| a.name.value.clone());
                respell_query(subquery, visible)
                    .into_iter()
                    .map(|name| Alias {
                        relation: relation.clone(),
                        name,
                    })
                    .collect()
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => respell_from(table_with_joins, visible),
            // A CTE read under another name: its aliases are that name's columns too.
            TableFactor::Table {
                name,
                alias: Some(alias),
                ..
            } => {
                let table = name.to_string();
                visible
                    .iter()
                    .filter(|a| {
                        a.relation
                            .as_ref()
                            .is_some_and(|r| r.eq_ignore_ascii_case(&table))
                    })
                    .map(|a| Alias {
                        relation: Some(alias.name.value.clone()),
                        name: a.name.clone(),
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }
    let mut names = factor(&mut from.relation, visible);
    for join in from.joins.iter_mut() {
        names.extend(factor(&mut join.relation, visible));
    }
    let mut scope = visible.to_vec();
    scope.extend(names.iter().cloned());
    for join in from.joins.iter_mut() {
        let constraint = match &mut join.join_operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::Left(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::Right(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::FullOuter(c)
            | JoinOperator::LeftSemi(c)
            | JoinOperator::RightSemi(c)
            | JoinOperator::LeftAnti(c)
            | JoinOperator::RightAnti(c)
            | JoinOperator::Semi(c)
            | JoinOperator::Anti(c) => Some(c),
            _ => None,
        };
        if let Some(JoinConstraint::On(on)) = constraint {
            respell_expr(on, &scope);
        }
    }
    names
}

/// Spells the unquoted identifiers of `expr` that name one of `aliases` (in any case) as the
/// alias: a bare name, or `q.name` where `q` is the alias's relation. A subquery in `expr` is
/// respelled in a scope of its own.
fn respell_expr(expr: &mut Expr, aliases: &[Alias]) {
    struct Respell<'a> {
        aliases: &'a [Alias],
        depth: usize,
    }
    impl VisitorMut for Respell<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            if self.depth == 0 {
                respell_query(query, &[]);
            }
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if self.depth > 0 {
                return ControlFlow::Continue(());
            }
            let find = |ident: &Ident, relation: Option<&Ident>| {
                if ident.quote_style.is_some() {
                    return None;
                }
                self.aliases.iter().find(|a| {
                    a.name.eq_ignore_ascii_case(&ident.value)
                        && match relation {
                            None => true,
                            Some(r) => a
                                .relation
                                .as_ref()
                                .is_some_and(|ar| ar.eq_ignore_ascii_case(&r.value)),
                        }
                })
            };
            match expr {
                Expr::Identifier(ident) => {
                    if let Some(alias) = find(ident, None) {
                        *ident = Ident::with_quote('"', alias.name.clone());
                    }
                }
                Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                    if let Some(alias) = find(&parts[1], Some(&parts[0])) {
                        parts[1] = Ident::with_quote('"', alias.name.clone());
                    }
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    if aliases.is_empty() && !contains_subquery(expr) {
        return;
    }
    let _ = expr.visit(&mut Respell { aliases, depth: 0 });
}

/// Whether `expr` holds a subquery (whose own aliases need respelling).
fn contains_subquery(expr: &Expr) -> bool {
    use datafusion::sql::sqlparser::ast::{Visit, Visitor};
    struct Found;
    impl Visitor for Found {
        type Break = ();
        fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
    }
    expr.visit(&mut Found).is_break()
}

struct SparkRewriter;

fn function_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Function(f) => Some(f.name.to_string().to_ascii_lowercase()),
        _ => None,
    }
}

impl VisitorMut for SparkRewriter {
    type Break = DataFusionError;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Self::Break> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            // Generators that [`super::typed_items::expand`] could not reach (in expression
            // subqueries) are expanded without their argument's type, as arrays.
            if let Err(e) = super::typed_items::expand_items(select, None) {
                return ControlFlow::Break(e);
            }
            name_items(select);
        }
        distinct_cast_keys(query);
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<Self::Break> {
        translate_regex_literals(expr);
        if let Err(e) = super::aliases::rewrite_call(expr) {
            return ControlFlow::Break(e);
        }
        super::short_circuit::rewrite(expr);
        match expr {
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("explode") => {
                f.name = ObjectName::from(vec![Ident::new("unnest")]);
            }
            // Spark's regexp_replace replaces every match; DataFusion's needs the 'g' flag.
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("regexp_replace") => {
                if let FunctionArguments::List(list) = &mut f.args
                    && list.args.len() == 3
                {
                    list.args
                        .push(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(
                            Value::SingleQuotedString("g".to_string()),
                        ))));
                }
            }
            Expr::RLike {
                negated,
                expr: value,
                pattern,
                ..
            } => {
                let call = call("regexp_like", vec![(**value).clone(), (**pattern).clone()]);
                *expr = if *negated {
                    Expr::UnaryOp {
                        op: UnaryOperator::Not,
                        expr: Box::new(call),
                    }
                } else {
                    call
                };
            }
            // `f(x).field` and `a[0].field`: Spark's field access on an expression is
            // DataFusion's get_field (DataFusion only takes dots after a plain column).
            Expr::CompoundFieldAccess { root, access_chain } => {
                let on_expr = !matches!(**root, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
                let first_dot = access_chain.iter().enumerate().position(|(i, a)| {
                    matches!(a, AccessExpr::Dot(Expr::Identifier(_)))
                        && (on_expr
                            || access_chain[..i]
                                .iter()
                                .any(|b| matches!(b, AccessExpr::Subscript(_))))
                });
                if let Some(k) = first_dot {
                    let mut result = if k == 0 {
                        (**root).clone()
                    } else {
                        Expr::CompoundFieldAccess {
                            root: root.clone(),
                            access_chain: access_chain[..k].to_vec(),
                        }
                    };
                    for access in &access_chain[k..] {
                        result = match access {
                            AccessExpr::Dot(Expr::Identifier(field)) => call(
                                "get_field",
                                vec![
                                    result,
                                    Expr::value(Value::SingleQuotedString(field.value.clone())),
                                ],
                            ),
                            other => Expr::CompoundFieldAccess {
                                root: Box::new(result),
                                access_chain: vec![other.clone()],
                            },
                        };
                    }
                    *expr = result;
                }
            }
            Expr::Cast { data_type, .. } if matches!(data_type, DataType::Binary(_)) => {
                *data_type = DataType::Bytea;
            }
            // `1.5E2` is a double in Spark; other fractional literals are decimals.
            Expr::Value(v) if is_exponent_literal(&v.value) => {
                *expr = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(Expr::value(Value::SingleQuotedString(v.value.to_string()))),
                    data_type: DataType::Double(ExactNumberInfo::None),
                    array: false,
                    format: None,
                };
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// `GROUP BY x, CAST(x AS T)`: DataFusion names a cast as what it casts, so the two keys would
/// clash. The cast is wrapped in a one-argument `coalesce` (the same value, another name)
/// wherever the query uses it (after the items are named, so headers are unchanged).
fn distinct_cast_keys(query: &mut Query) {
    use datafusion::sql::sqlparser::ast::{GroupByExpr, OrderByKind, visit_expressions_mut};
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let GroupByExpr::Expressions(keys, _) = &select.group_by else {
        return;
    };
    let clashing: Vec<Expr> = keys
        .iter()
        .filter(|k| {
            matches!(k, Expr::Cast { expr, .. } if keys.iter().any(|other| other == expr.as_ref()))
        })
        .cloned()
        .collect();
    if clashing.is_empty() {
        return;
    }
    let wrap = |e: &mut Expr| {
        let _ = visit_expressions_mut(e, |x: &mut Expr| {
            if clashing.contains(x) {
                *x = call("coalesce", vec![x.clone()]);
            }
            ControlFlow::<()>::Continue(())
        });
    };
    for item in select.projection.iter_mut() {
        match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => wrap(e),
            _ => {}
        }
    }
    if let GroupByExpr::Expressions(keys, _) = &mut select.group_by {
        keys.iter_mut().for_each(wrap);
    }
    if let Some(having) = select.having.as_mut() {
        wrap(having);
    }
    if let Some(order_by) = query.order_by.as_mut()
        && let OrderByKind::Expressions(exprs) = &mut order_by.kind
    {
        for e in exprs.iter_mut() {
            wrap(&mut e.expr);
        }
    }
}

/// Whether `value` is a number written with an exponent (`1.5E2`, `1e-3`).
pub(super) fn is_exponent_literal(value: &Value) -> bool {
    matches!(value, Value::Number(n, _) if n.contains(['e', 'E']))
}

/// Gives every unaliased SELECT item the name Spark prints for it.
fn name_items(select: &mut datafusion::sql::sqlparser::ast::Select) {
    let relations = super::lateral_view::relation_names(&select.from);
    for item in select.projection.iter_mut() {
        let SelectItem::UnnamedExpr(expr) = item else {
            continue;
        };
        // `j.user`, a field of struct column `j`, is named `user` (DataFusion: `j[user]`);
        // `t.value`, a column of relation `t`, keeps DataFusion's name.
        if let Expr::CompoundIdentifier(parts) = &*expr
            && let (Some(first), Some(last)) = (parts.first(), parts.last())
            && (parts.len() > 2
                || !relations
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(&first.value)))
        {
            let alias = Ident::with_quote('"', last.value.clone());
            *item = SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias,
            };
            continue;
        }
        // DataFusion names the columns of a struct unnest itself.
        if function_name(expr).as_deref() == Some("unnest") {
            continue;
        }
        let name = if function_name(expr).as_deref() == Some("explode") {
            // A generator nested where it cannot be typed.
            Some("col".to_string())
        } else {
            super::naming::spark_column_name(expr)
        };
        if let Some(name) = name {
            // Quoted, so the name keeps its case and punctuation.
            *item = SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: Ident::with_quote('"', name),
            };
        }
    }
}

/// Functions whose second argument is a Java regex.
const REGEX_FUNCTIONS: &[&str] = &[
    "split",
    "rlike",
    "regexp_like",
    "regexp_replace",
    "regexp_extract",
    "regexp_extract_all",
    "regexp_count",
    "regexp_substr",
    "regexp_instr",
];

/// Rewrites a literal Java regex argument into Rust's syntax (see
/// [`super::functions::java_regex`]).
fn translate_regex_literals(expr: &mut Expr) {
    let pattern = match expr {
        Expr::RLike { pattern, .. } => Some(pattern.as_mut()),
        Expr::Function(f)
            if REGEX_FUNCTIONS
                .iter()
                .any(|n| f.name.to_string().eq_ignore_ascii_case(n)) =>
        {
            match &mut f.args {
                FunctionArguments::List(list) => match list.args.get_mut(1) {
                    Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => Some(e),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(Expr::Value(v)) = pattern
        && let Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) = &mut v.value
    {
        *s = super::functions::java_regex::to_rust(s);
    }
}

/// Replaces every bare identifier in `expr` for which `with` gives an expression (a lambda's
/// variables, say).
pub(super) fn replace_identifiers(expr: &mut Expr, with: impl Fn(&Ident) -> Option<Expr>) {
    let _ = datafusion::sql::sqlparser::ast::visit_expressions_mut(expr, |e: &mut Expr| {
        if let Expr::Identifier(id) = &*e
            && let Some(replacement) = with(id)
        {
            *e = replacement;
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `NOT (expr)`.
pub(super) fn not(expr: Expr) -> Expr {
    Expr::UnaryOp {
        op: UnaryOperator::Not,
        expr: Box::new(Expr::Nested(Box::new(expr))),
    }
}

/// A call of function `name` with `args`.
pub(super) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    #[test]
    fn explode_becomes_unnest_named_col() {
        let mut stmts = Parser::parse_sql(
            &GenericDialect {},
            "SELECT explode(split(v, ' ')), EXPLODE(a) AS t FROM (SELECT explode(b) FROM x)",
        )
        .unwrap();
        rewrite_statement(&mut stmts[0]).unwrap();
        assert_eq!(
            stmts[0].to_string(),
            "SELECT unnest(split(v, ' ')) AS \"col\", unnest(a) AS t FROM (SELECT unnest(b) AS \"col\" FROM x)"
        );
    }
}
