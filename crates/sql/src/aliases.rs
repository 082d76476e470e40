//! Spark functions that DataFusion has under another name or as a small expression, rewritten
//! on the AST after the SELECT items are named (so headers keep Spark's names): the cast
//! functions (`int(x)`, `string(x)`, ...), date parts (`year`, `dayofweek`, ...), `first`,
//! `last`, `count_if`, `approx_count_distinct`, `sign`, `locate`, `unix_timestamp`,
//! `try_divide` and `try_mod`, the INT day counts of `date_add`, `date_sub`, `add_months`,
//! `every`/`some`/`any`, `variance`/`std`, `max_by`/`min_by`, `sort_array` and `array_sort`
//! (Spark's NULL placement), and the higher-order `transform`, `filter`, `exists`, `forall`.

use datafusion::common::plan_err;
use datafusion::error::Result;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, CaseWhen, CastKind, DataType, ExactNumberInfo, Expr, FunctionArg,
    FunctionArgExpr, FunctionArgumentClause, FunctionArguments, Ident, LambdaFunction,
    LambdaFunctionParameter, LambdaSyntax, NullTreatment, OneOrManyWithParens, OrderByExpr,
    OrderByOptions, Subscript, TimezoneInfo, Value, helpers::attached_token::AttachedToken,
};

use super::rewrite::{call, not};

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

/// Spark's aggregates that DataFusion has under another name.
fn renamed_aggregate(name: &str) -> Option<&'static str> {
    Some(match name {
        "every" => "bool_and",
        "some" | "any" => "bool_or",
        "variance" => "var_samp",
        "std" => "stddev",
        _ => return None,
    })
}

/// DataFusion's `array_sort(array, direction, nulls)`.
fn array_sort(array: Expr, ascending: bool, nulls_first: bool) -> Expr {
    call(
        "array_sort",
        vec![
            array,
            literal(if ascending { "ASC" } else { "DESC" }),
            literal(if nulls_first {
                "NULLS FIRST"
            } else {
                "NULLS LAST"
            }),
        ],
    )
}

/// Spark's `max_by(x, y)` (or `min_by`): `x` of the row with the largest (smallest) `y`,
/// rows with a NULL `y` left out.
fn value_by(value: Expr, ordering: Expr, descending: bool) -> Expr {
    let mut f = call("first_value", vec![value]);
    if let Expr::Function(function) = &mut f {
        if let FunctionArguments::List(list) = &mut function.args {
            list.clauses = vec![FunctionArgumentClause::OrderBy(vec![OrderByExpr {
                expr: ordering.clone(),
                options: OrderByOptions {
                    asc: Some(!descending),
                    nulls_first: Some(false),
                },
                with_fill: None,
            }])];
        }
        function.filter = Some(Box::new(Expr::IsNotNull(Box::new(ordering))));
    }
    f
}

/// How Spark prints the comparator `array_sort` fills in.
const ARRAY_SORT_COMPARATOR: &str = "lambdafunction((IF(((namedlambdavariable() IS NULL) AND (namedlambdavariable() IS NULL)), 0, (IF((namedlambdavariable() IS NULL), 1, (IF((namedlambdavariable() IS NULL), -1, (IF((namedlambdavariable() < namedlambdavariable()), -1, (IF((namedlambdavariable() > namedlambdavariable()), 1, 0)))))))))), namedlambdavariable(), namedlambdavariable())";

/// The defaults Spark prints in the name of a call that leaves them out (`locate(b, abc, 1)`).
pub(super) fn printed_defaults(name: &str, args: usize) -> &'static [&'static str] {
    match (name, args) {
        ("split", 2) => &["-1"],
        ("round" | "bround", 1) => &["0"],
        ("locate", 2) => &["1"],
        ("regexp_replace", 3) => &["1"],
        ("regexp_extract" | "regexp_extract_all", 2) => &["1"],
        ("lpad" | "rpad", 2) => &[" "],
        ("sort_array", 1) => &["true"],
        ("array_sort", 1) => &[ARRAY_SORT_COMPARATOR],
        ("unix_timestamp", 1) => &["yyyy-MM-dd HH:mm:ss"],
        _ => &[],
    }
}

fn literal(text: &str) -> Expr {
    Expr::value(Value::SingleQuotedString(text.to_string()))
}

fn number(text: &str) -> Expr {
    Expr::value(Value::Number(text.to_string(), false))
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

/// Spark's higher-order function `name` over `array` as DataFusion's: `transform`,
/// `filter`, `exists` (NULL when no element matches and one is NULL, as Spark), and
/// `forall` as `NOT exists(array, x -> NOT p)`, which keeps Spark's NULLs.
fn higher_order(name: &str, array: Expr, mut lambda: LambdaFunction) -> Expr {
    let function = match name {
        "transform" => "array_transform",
        "filter" => "array_filter",
        _ => "array_any_match",
    };
    if name != "forall" {
        return call(function, vec![array, Expr::Lambda(lambda)]);
    }
    lambda.body = Box::new(not(*lambda.body));
    not(call(function, vec![array, Expr::Lambda(lambda)]))
}

/// `transform(array, (x, i) -> body)` and `filter(array, (x, i) -> body)`: the lambda runs
/// over `arrays_zip(array, 0..n-1)`, its `x` and `i` read from the pair's fields `'1'`, `'2'`.
fn with_index(name: &str, array: Expr, lambda: LambdaFunction) -> Expr {
    const PAIR: &str = "kindling_element_and_index";
    let last = Expr::BinaryOp {
        left: Box::new(call("cardinality", vec![array.clone()])),
        op: BinaryOperator::Minus,
        right: Box::new(number("1")),
    };
    let indices = call("generate_series", vec![number("0"), last]);
    let pairs = call("arrays_zip", vec![array, indices]);
    let field = |key: &str| Expr::CompoundFieldAccess {
        root: Box::new(Expr::Identifier(Ident::new(PAIR))),
        access_chain: vec![AccessExpr::Subscript(Subscript::Index {
            index: literal(key),
        })],
    };
    let (element, index) = (&lambda.params[0].name.value, &lambda.params[1].name.value);
    let mut body = *lambda.body;
    super::rewrite::replace_identifiers(&mut body, |id| {
        if id.value.eq_ignore_ascii_case(element) {
            Some(field("1"))
        } else if id.value.eq_ignore_ascii_case(index) {
            Some(field("2"))
        } else {
            None
        }
    });
    let over_pairs = |body: Expr| {
        Expr::Lambda(LambdaFunction {
            params: OneOrManyWithParens::One(LambdaFunctionParameter {
                name: Ident::new(PAIR),
                data_type: None,
            }),
            body: Box::new(body),
            syntax: LambdaSyntax::Arrow,
        })
    };
    if name == "transform" {
        return call("array_transform", vec![pairs, over_pairs(body)]);
    }
    let kept = call("array_filter", vec![pairs, over_pairs(body)]);
    call("array_transform", vec![kept, over_pairs(field("1"))])
}

/// Rewrites `expr` in place if it calls one of the functions above.
pub(super) fn rewrite_call(expr: &mut Expr) -> Result<()> {
    let Expr::Function(f) = expr else {
        return Ok(());
    };
    let name = f.name.to_string().to_ascii_lowercase();
    let FunctionArguments::List(list) = &mut f.args else {
        if name == "unix_timestamp" && matches!(f.args, FunctionArguments::None) {
            *expr = call("unix_seconds", vec![call("current_timestamp", Vec::new())]);
        }
        return Ok(());
    };
    if !list.clauses.is_empty() {
        return Ok(());
    }
    let distinct = list.duplicate_treatment;
    let mut args: Vec<Expr> = Vec::with_capacity(list.args.len());
    for arg in &list.args {
        match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(e.clone()),
            _ => return Ok(()),
        }
    }
    let rewritten = match (name.as_str(), args.as_mut_slice()) {
        (n @ ("transform" | "filter" | "exists" | "forall"), [array, Expr::Lambda(lambda)]) => {
            match (n, lambda.params.len()) {
                (_, 1) => Some(higher_order(n, array.clone(), lambda.clone())),
                ("transform" | "filter", 2) => Some(with_index(n, array.clone(), lambda.clone())),
                (_, params) => {
                    let arguments = if matches!(n, "transform" | "filter") {
                        2
                    } else {
                        1
                    };
                    return plan_err!(
                        "[INVALID_LAMBDA_FUNCTION_CALL.NUM_ARGS_MISMATCH] Invalid lambda function call. A higher order function expects {params} arguments, but got {arguments}. SQLSTATE: 42K0D. `{n}` passes its lambda the element{}: write `{n}(array, x -> ...)`.",
                        if arguments == 2 { " and its index" } else { "" }
                    );
                }
            }
        }
        (n, [x]) if cast_function(n).is_some() => cast_function(n).map(|t| cast(x.clone(), t)),
        (n, [x]) if date_part(n).is_some() => date_part(n).map(|part| {
            cast(
                call("date_part", vec![literal(part), x.clone()]),
                DataType::Int(None),
            )
        }),
        ("first", [x]) => Some(call("first_value", vec![x.clone()])),
        ("last", [x]) => Some(call("last_value", vec![x.clone()])),
        // `first(x, true)`: `first(x) IGNORE NULLS`.
        ("first" | "last", [x, Expr::Value(v)]) if matches!(v.value, Value::Boolean(_)) => {
            let mut f = call(&format!("{name}_value"), vec![x.clone()]);
            if let (Expr::Function(g), Value::Boolean(true)) = (&mut f, &v.value) {
                g.null_treatment = Some(NullTreatment::IgnoreNulls);
            }
            Some(f)
        }
        ("approx_count_distinct", [x]) => Some(call("approx_distinct", vec![x.clone()])),
        ("count_if", [condition]) => Some(call(
            "count",
            vec![Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: None,
                conditions: vec![CaseWhen {
                    condition: condition.clone(),
                    result: number("1"),
                }],
                else_result: None,
            }],
        )),
        (n, [x]) if renamed_aggregate(n).is_some() => {
            renamed_aggregate(n).map(|renamed| call(renamed, vec![x.clone()]))
        }
        ("max_by" | "min_by", [value, ordering]) => {
            Some(value_by(value.clone(), ordering.clone(), name == "max_by"))
        }
        // Spark's `sort_array` puts NULLs first ascending, last descending; `array_sort`
        // (without a comparator) sorts ascending with NULLs last.
        ("sort_array", [array]) => Some(array_sort(array.clone(), true, true)),
        ("sort_array", [array, Expr::Value(v)]) => match &v.value {
            Value::Boolean(ascending) => Some(array_sort(array.clone(), *ascending, *ascending)),
            _ => {
                return plan_err!(
                    "Spark `sort_array`'s ascendingOrder must be the literal true or false, got {v}"
                );
            }
        },
        ("sort_array", [_, order]) => {
            return plan_err!(
                "Spark `sort_array`'s ascendingOrder must be the literal true or false, got {order}"
            );
        }
        ("array_sort", [array]) => Some(array_sort(array.clone(), true, false)),
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
    let Some(mut rewritten) = rewritten else {
        return Ok(());
    };
    // DISTINCT, IGNORE NULLS, a window or a FILTER on the call apply to what it became.
    let (over, filter, nulls) = (f.over.take(), f.filter.take(), f.null_treatment);
    let Expr::Function(g) = &mut rewritten else {
        if over.is_some() || filter.is_some() || distinct.is_some() {
            return plan_err!(
                "Spark `{name}` is not an aggregate or window function: remove its DISTINCT, FILTER or OVER clause"
            );
        }
        *expr = rewritten;
        return Ok(());
    };
    if let FunctionArguments::List(list) = &mut g.args {
        list.duplicate_treatment = list.duplicate_treatment.or(distinct);
    }
    g.null_treatment = g.null_treatment.or(nulls);
    g.over = g.over.take().or(over);
    g.filter = match (g.filter.take(), filter) {
        (Some(a), Some(b)) => Some(Box::new(Expr::BinaryOp {
            left: Box::new(Expr::Nested(a)),
            op: BinaryOperator::And,
            right: Box::new(Expr::Nested(b)),
        })),
        (a, b) => a.or(b),
    };
    *expr = rewritten;
    Ok(())
}
