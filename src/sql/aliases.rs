//! Spark functions that DataFusion has under another name or as a small expression, rewritten
//! on the AST after the SELECT items are named (so headers keep Spark's names): the cast
//! functions (`int(x)`, `string(x)`, ...), date parts (`year`, `dayofweek`, ...), `first`,
//! `last`, `count_if`, `approx_count_distinct`, `sign`, `locate`, `unix_timestamp`,
//! `try_divide` and `try_mod`, and the INT day counts of `date_add`, `date_sub`, `add_months`.

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, CaseWhen, CastKind, DataType, ExactNumberInfo, Expr, FunctionArg,
    FunctionArgExpr, FunctionArguments, TimezoneInfo, Value,
    helpers::attached_token::AttachedToken,
};

use super::rewrite::call;

/// Spark's cast functions and the type each casts to.
fn cast_function(name: &str) -> Option<DataType> {
    Some(match name {
        "string" => DataType::String(None),
        "int" => DataType::Int(None),
        "bigint" => DataType::BigInt(None),
        "smallint" => DataType::SmallInt(None),
        "tinyint" => DataType::TinyInt(None),
        "double" => DataType::Double(ExactNumberInfo::None),
        "float" => DataType::Float(ExactNumberInfo::None),
        "boolean" => DataType::Boolean,
        "date" => DataType::Date,
        "timestamp" => DataType::Timestamp(None, TimezoneInfo::None),
        "binary" => DataType::Bytea,
        _ => return None,
    })
}

/// Whether `name` is one of Spark's cast functions, which Spark names after their argument.
pub(super) fn is_cast_function(name: &str) -> bool {
    cast_function(name).is_some()
}

/// The `date_part` field of Spark's date-part functions that DataFusion lacks.
fn date_part(name: &str) -> Option<&'static str> {
    Some(match name {
        "year" => "year",
        "quarter" => "quarter",
        "month" => "month",
        "day" | "dayofmonth" => "day",
        "dayofweek" => "dow",
        "dayofyear" => "doy",
        "weekofyear" => "week",
        _ => return None,
    })
}

/// The defaults Spark prints in the name of a call that leaves them out (`locate(b, abc, 1)`).
pub(super) fn printed_defaults(name: &str, args: usize) -> &'static [&'static str] {
    match (name, args) {
        ("split", 2) => &["-1"],
        ("round" | "bround", 1) => &["0"],
        ("locate", 2) => &["1"],
        ("unix_timestamp", 1) => &["yyyy-MM-dd HH:mm:ss"],
        _ => &[],
    }
}

fn literal(text: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(text.to_string()))
}

fn cast(expr: Expr, data_type: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type,
        array: false,
        format: None,
    }
}

/// Rewrites `expr` in place if it calls one of the functions above.
pub(super) fn rewrite_call(expr: &mut Expr) {
    let Expr::Function(f) = expr else {
        return;
    };
    let name = f.name.to_string().to_ascii_lowercase();
    let FunctionArguments::List(list) = &mut f.args else {
        if name == "unix_timestamp" && matches!(f.args, FunctionArguments::None) {
            *expr = call("unix_seconds", vec![call("current_timestamp", Vec::new())]);
        }
        return;
    };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
        return;
    }
    let mut args: Vec<Expr> = Vec::with_capacity(list.args.len());
    for arg in &list.args {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(e.clone()),
            _ => return,
        }
    }
    let rewritten = match (name.as_str(), args.as_mut_slice()) {
        (n, [x]) if cast_function(n).is_some() => cast_function(n).map(|t| cast(x.clone(), t)),
        (n, [x]) if date_part(n).is_some() => date_part(n).map(|part| {
            cast(
                call("date_part", vec![literal(part), x.clone()]),
                DataType::Int(None),
            )
        }),
        ("first", [x]) => Some(call("first_value", vec![x.clone()])),
        ("last", [x]) => Some(call("last_value", vec![x.clone()])),
        ("approx_count_distinct", [x]) => Some(call("approx_distinct", vec![x.clone()])),
        ("count_if", [condition]) => Some(call(
            "count",
            vec![Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: None,
                conditions: vec![CaseWhen {
                    condition: condition.clone(),
                    result: Expr::value(Value::Number("1".into(), false)),
                }],
                else_result: None,
            }],
        )),
        ("sign", [x]) => Some(call("signum", vec![x.clone()])),
        ("locate", [substring, string]) => {
            Some(call("strpos", vec![string.clone(), substring.clone()]))
        }
        ("unix_timestamp", []) => Some(call(
            "unix_seconds",
            vec![call("current_timestamp", Vec::new())],
        )),
        ("unix_timestamp", [_] | [_, _]) => Some(call(
            "unix_seconds",
            vec![call("to_timestamp", args.to_vec())],
        )),
        // `try_divide(a, b)` and `try_mod(a, b)`: NULL for a zero divisor (the planner reads
        // the marked divisor).
        ("try_divide" | "try_mod", [a, b]) => Some(Expr::Nested(Box::new(Expr::BinaryOp {
            left: Box::new(a.clone()),
            op: if name == "try_divide" {
                BinaryOperator::Divide
            } else {
                BinaryOperator::Modulo
            },
            right: Box::new(call(
                super::functions::divisor::TRY_DIVISOR,
                vec![b.clone()],
            )),
        }))),
        // datafusion-spark's signatures take the count as an INT, Spark's type for `1`.
        ("date_add" | "date_sub" | "add_months", [date, count]) => Some(call(
            &name,
            vec![date.clone(), cast(count.clone(), DataType::Int(None))],
        )),
        _ => None,
    };
    if let Some(rewritten) = rewritten {
        *expr = rewritten;
    }
}
