//! Spark's `LATERAL VIEW [OUTER] generator(args) name [AS] col, ...` (which DataFusion does
//! not plan), rewritten on the AST into a derived table named `name` that selects every column
//! of the FROM clause and the generator's columns; the next lateral view wraps that one, and
//! references qualified by a table of the FROM clause or by a view name are re-qualified.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    ExceptSelectItem, Expr, Ident, LateralView, ObjectName, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement, TableAlias, TableFactor, TableWithJoins,
    VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::dialect::SparkDialect;

/// Rewrites every SELECT of `statement` that has lateral views.
pub fn rewrite(statement: &mut Statement) {
    struct Views;
    impl VisitorMut for Views {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            match query.body.as_mut() {
                SetExpr::Select(select) => {
                    // The query's ORDER BY reads the last view too.
                    if let Some((names, last)) = rewrite_select(select)
                        && let Some(order_by) = query.order_by.as_mut()
                    {
                        let _ = order_by.visit(&mut Requalify {
                            from: &names,
                            to: &last,
                        });
                    }
                }
                body => rewrite_branches(body),
            }
            ControlFlow::Continue(())
        }
    }
    let _ = statement.visit(&mut Views);
}

/// The SELECTs of a set operation's branches (`... UNION ALL ...`).
fn rewrite_branches(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            let _ = rewrite_select(select);
        }
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_branches(left);
            rewrite_branches(right);
        }
        _ => {}
    }
}

/// The names the relations of `from` are referred to by (their aliases, or table names).
pub(super) fn relation_names(from: &[TableWithJoins]) -> Vec<String> {
    let mut names = Vec::new();
    let mut add = |factor: &TableFactor| match factor {
        TableFactor::Table { name, alias, .. } => match alias {
            Some(alias) => names.push(alias.name.value.clone()),
            None => {
                if let Some(last) = name.0.last().and_then(|p| p.as_ident()) {
                    names.push(last.value.clone());
                }
            }
        },
        TableFactor::Derived {
            alias: Some(alias), ..
        } => names.push(alias.name.value.clone()),
        _ => {}
    };
    for table in from {
        add(&table.relation);
        for join in &table.joins {
            add(&join.relation);
        }
    }
    names
}

/// Re-qualifies `a.col` as `to.col` wherever `a` is one of `from` (in any case).
struct Requalify<'a> {
    from: &'a [String],
    to: &'a Ident,
}

impl VisitorMut for Requalify<'_> {
    type Break = ();
    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::CompoundIdentifier(parts) = expr
            && parts.len() >= 2
            && self
                .from
                .iter()
                .any(|name| name.eq_ignore_ascii_case(&parts[0].value))
        {
            parts[0] = self.to.clone();
        }
        ControlFlow::Continue(())
    }
}

/// Rewrites the lateral views of `select`, if any; returns the names that now stand for its
/// last view, and that view's name.
fn rewrite_select(select: &mut Select) -> Option<(Vec<String>, Ident)> {
    if select.lateral_views.is_empty() {
        return None;
    }
    let template = template()?;
    let views = std::mem::take(&mut select.lateral_views);
    let mut from = std::mem::take(&mut select.from);
    let mut qualifiers = relation_names(&from);
    let Some(last_name) = views.last().map(view_name) else {
        select.from = from;
        return None;
    };
    // `t.*` of the one table stays its columns: the last view's but the generated ones.
    let generated: Vec<Ident> = views
        .iter()
        .flat_map(|v| v.lateral_col_alias.iter().cloned())
        .collect();
    if let ([table], Some((first, rest))) = (qualifiers.as_slice(), generated.split_first())
        && views.iter().all(|v| !v.lateral_col_alias.is_empty())
    {
        for item in select.projection.iter_mut() {
            if let SelectItem::QualifiedWildcard(
                SelectItemQualifiedWildcardKind::ObjectName(name),
                options,
            ) = item
                && options.opt_except.is_none()
                && name.0.len() == 1
                && name.0[0]
                    .as_ident()
                    .is_some_and(|i| i.value.eq_ignore_ascii_case(table))
            {
                *name = ObjectName::from(vec![last_name.clone()]);
                options.opt_except = Some(ExceptSelectItem {
                    first_element: first.clone(),
                    additional_elements: rest.to_vec(),
                });
            }
        }
    }
    // The rest of the SELECT reads the last view, which holds every column.
    let mut all_names = qualifiers.clone();
    all_names.extend(views.iter().map(|v| view_name(v).value));
    let _ = select.visit(&mut Requalify {
        from: &all_names,
        to: &last_name,
    });
    for (i, view) in views.into_iter().enumerate() {
        let name = view_name(&view);
        let mut generator = view.lateral_view;
        if i > 0 {
            // Columns of the tables and earlier views are all in the previous view now.
            let previous = Ident::new(qualifiers.last().cloned().unwrap_or_default());
            let _ = generator.visit(&mut Requalify {
                from: &qualifiers,
                to: &previous,
            });
        }
        if view.outer
            && let Expr::Function(f) = &mut generator
        {
            let outer = format!("{}_outer", f.name);
            f.name = ObjectName::from(vec![Ident::new(outer)]);
        }
        let mut aliases = view.lateral_col_alias;
        let item = match aliases.len() {
            0 => SelectItem::UnnamedExpr(generator),
            1 => SelectItem::ExprWithAlias {
                expr: generator,
                alias: aliases.remove(0),
            },
            _ => SelectItem::ExprWithAliases {
                expr: generator,
                aliases,
            },
        };
        from = vec![derived_table(template.clone(), from, item, name.clone())];
        qualifiers.push(name.value);
    }
    select.from = from;
    Some((all_names, last_name))
}

/// The name a lateral view is referred to by.
fn view_name(view: &LateralView) -> Ident {
    view.lateral_view_name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .cloned()
        .unwrap_or_else(|| Ident::new("lateral_view"))
}

/// `(SELECT *, <item> FROM <from>) AS <name>`, from `template`.
fn derived_table(
    mut query: Query,
    from: Vec<TableWithJoins>,
    item: SelectItem,
    name: Ident,
) -> TableWithJoins {
    if let SetExpr::Select(select) = query.body.as_mut() {
        select.projection.push(item);
        select.from = from;
    }
    TableWithJoins {
        relation: TableFactor::Derived {
            lateral: false,
            subquery: Box::new(query),
            alias: Some(TableAlias {
                explicit: true,
                name,
                columns: Vec::new(),
                at: None,
            }),
            sample: None,
        },
        joins: Vec::new(),
    }
}

/// `SELECT *` with an empty FROM clause (a constant that always parses).
fn template() -> Option<Query> {
    match Parser::parse_sql(&SparkDialect, "SELECT * FROM t")
        .ok()?
        .pop()?
    {
        Statement::Query(mut query) => {
            if let SetExpr::Select(select) = query.body.as_mut() {
                select.from.clear();
            }
            Some(*query)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statement = Parser::parse_sql(&SparkDialect, sql).unwrap().remove(0);
        rewrite(&mut statement);
        statement.to_string()
    }

    #[test]
    fn views_become_derived_tables() {
        assert_eq!(
            rewritten(
                "SELECT t.id, w.word FROM t LATERAL VIEW explode(split(t.value, ' ')) w AS word WHERE w.word <> ''"
            ),
            "SELECT w.id, w.word FROM (SELECT *, explode(split(t.value, ' ')) AS word FROM t) AS w WHERE w.word <> ''"
        );
        assert_eq!(
            rewritten(
                "SELECT k, v, c FROM t AS x LATERAL VIEW OUTER explode(x.m) m AS k, v LATERAL VIEW explode(x.a) a AS c"
            ),
            "SELECT k, v, c FROM (SELECT *, explode(m.a) AS c FROM (SELECT *, explode_outer(x.m) AS (k, v) FROM t AS x) AS m) AS a"
        );
    }
}
