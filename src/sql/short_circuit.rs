//! `p AND q` and `p OR q` where `q` can fail under Spark's ANSI mode (an index, a division, a
//! CAST): Spark evaluates `q` only on the rows `p` leaves undecided, so `size(a) > 1 AND
//! a[1] = 'x'` never fails. DataFusion evaluates both sides on the whole batch, so these
//! become a CASE, which it evaluates only on the rows each branch needs.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, CaseWhen, CastKind, Expr, Value, Visit, Visitor,
    helpers::attached_token::AttachedToken,
};

use super::rewrite::not;

/// Whether evaluating `expr` can fail on a row where a guard in front of it would have
/// stopped Spark.
fn may_fail(expr: &Expr) -> bool {
    struct Failing;
    impl Visitor for Failing {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
            let fails = match expr {
                Expr::CompoundFieldAccess { access_chain, .. } => access_chain
                    .iter()
                    .any(|a| matches!(a, AccessExpr::Subscript(_))),
                Expr::BinaryOp { op, .. } => {
                    matches!(op, BinaryOperator::Divide | BinaryOperator::Modulo)
                }
                Expr::Cast { kind, .. } => matches!(kind, CastKind::Cast | CastKind::DoubleColon),
                Expr::Function(f) => f.name.to_string().eq_ignore_ascii_case("element_at"),
                _ => false,
            };
            if fails {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
    }
    expr.visit(&mut Failing).is_break()
}

fn boolean(b: bool) -> Expr {
    Expr::value(Value::Boolean(b))
}

fn when(condition: Expr, result: Expr) -> CaseWhen {
    CaseWhen { condition, result }
}

/// Rewrites `expr` in place if it is such an AND or OR.
pub(super) fn rewrite(expr: &mut Expr) {
    let Expr::BinaryOp { left, op, right } = expr else {
        return;
    };
    if !matches!(op, BinaryOperator::And | BinaryOperator::Or) || !may_fail(right) {
        return;
    }
    let (p, q) = ((**left).clone(), (**right).clone());
    // With `p` NULL the result is decided by `q` alone: `q AND NULL` / `q OR NULL`.
    let undecided = Expr::BinaryOp {
        left: Box::new(Expr::Nested(Box::new(q.clone()))),
        op: op.clone(),
        right: Box::new(Expr::value(Value::Null)),
    };
    let is_null = Expr::IsNull(Box::new(Expr::Nested(Box::new(p.clone()))));
    // Three branches, none left to ELSE: DataFusion folds a boolean CASE of fewer back into
    // AND/OR, which would evaluate `q` everywhere again.
    let conditions = match op {
        BinaryOperator::And => vec![
            when(not(p.clone()), boolean(false)),
            when(p, q),
            when(is_null, undecided),
        ],
        _ => vec![
            when(p.clone(), boolean(true)),
            when(not(p), q),
            when(is_null, undecided),
        ],
    };
    *expr = Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions,
        else_result: None,
    };
}
