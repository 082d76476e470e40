//! `p AND q` and `p OR q` where `q` can fail under Spark's ANSI mode (an index, a division, a
//! CAST, an overflow): Spark evaluates `q` only on the rows `p` leaves undecided, so `size(a) >
//! 1 AND a[1] = 'x'` never fails; likewise `a + q` evaluates `q` only where `a` is not NULL.
//! DataFusion evaluates both sides on the whole batch, so these become a CASE, which it
//! evaluates only on the rows each branch needs.

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
                // Division by zero, and integer overflow.
                Expr::BinaryOp { op, .. } => matches!(
                    op,
                    BinaryOperator::Divide
                        | BinaryOperator::Modulo
                        | BinaryOperator::MyIntegerDivide
                        | BinaryOperator::Plus
                        | BinaryOperator::Minus
                        | BinaryOperator::Multiply
                ),
                Expr::Cast { kind, .. } => matches!(kind, CastKind::Cast | CastKind::DoubleColon),
                Expr::Function(f) => {
                    let name = f.name.to_string();
                    name.eq_ignore_ascii_case("element_at") || name.eq_ignore_ascii_case("abs")
                }
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

fn is_arithmetic(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Multiply
            | BinaryOperator::Divide
            | BinaryOperator::Modulo
            | BinaryOperator::MyIntegerDivide
    )
}

/// `a op b` for an arithmetic `op` where `b` can fail: Spark evaluates `b` only where `a` is
/// not NULL (the result is NULL there anyway), so `NULL + abs(-2147483648)` is NULL, not an
/// overflow. The rows with a NULL `a` are left out of `b`'s evaluation by a CASE.
fn guard_null(expr: &mut Expr) {
    let Expr::BinaryOp { left, right, .. } = &*expr else {
        return;
    };
    let literal = matches!(left.as_ref(), Expr::Value(v) if !matches!(v.value, Value::Null));
    if literal || !may_fail(right) {
        return;
    }
    let is_null = Expr::IsNull(Box::new(Expr::Nested(left.clone())));
    let operation = expr.clone();
    *expr = Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![when(is_null, Expr::value(Value::Null))],
        else_result: Some(Box::new(operation)),
    };
}

fn boolean(b: bool) -> Expr {
    Expr::value(Value::Boolean(b))
}

fn when(condition: Expr, result: Expr) -> CaseWhen {
    CaseWhen { condition, result }
}

/// Rewrites `expr` in place if it is such an AND or OR, or such an arithmetic operator.
pub(super) fn rewrite(expr: &mut Expr) {
    let Expr::BinaryOp { left, op, right } = expr else {
        return;
    };
    if is_arithmetic(op) {
        guard_null(expr);
        return;
    }
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
