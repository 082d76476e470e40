//! Spark SQL syntax DataFusion lacks, rewritten on the parsed AST before planning: the
//! generator `explode(x)` becomes DataFusion's `unnest(x)`, named `col` as Spark names it, and
//! every other unaliased SELECT item gets the name Spark prints for it ([`super::naming`]).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, Query, SelectItem, SetExpr, Statement, VisitMut, VisitorMut,
};

/// Applies every rewrite to `statement` in place.
pub fn rewrite_statement(statement: &mut Statement) {
    let _ = statement.visit(&mut SparkRewriter);
}

struct SparkRewriter;

fn function_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Function(f) => Some(f.name.to_string().to_ascii_lowercase()),
        _ => None,
    }
}

impl VisitorMut for SparkRewriter {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Self::Break> {
        // Spark names an unaliased generator's output `col`.
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in select.projection.iter_mut() {
                let SelectItem::UnnamedExpr(expr) = item else {
                    continue;
                };
                let name = if function_name(expr).as_deref() == Some("explode") {
                    Some("col".to_string())
                } else {
                    super::naming::spark_column_name(expr)
                };
                if let Some(name) = name {
                    *item = SelectItem::ExprWithAlias {
                        expr: expr.clone(),
                        // Quoted, so the name keeps its case and punctuation.
                        alias: Ident::with_quote('"', name),
                    };
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<Self::Break> {
        if let Expr::Function(f) = expr
            && f.name.to_string().eq_ignore_ascii_case("explode")
        {
            f.name = ObjectName::from(vec![Ident::new("unnest")]);
        }
        ControlFlow::Continue(())
    }
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
        rewrite_statement(&mut stmts[0]);
        assert_eq!(
            stmts[0].to_string(),
            "SELECT unnest(split(v, ' ')) AS \"col\", unnest(a) AS t FROM (SELECT unnest(b) AS \"col\" FROM x)"
        );
    }
}
