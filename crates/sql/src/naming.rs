//! Spark's names for unaliased SELECT expressions, as its console header prints them
//! (`toPrettySQL`): function calls as `name(arg, arg)`, binary operators in parentheses,
//! string literals without quotes, `count(*)` as `count(1)`, an aggregate's `FILTER (WHERE
//! ...)`, a CAST of a column keeps the column's name, and a lambda's variables are all
//! `namedlambdavariable()`.

use datafusion::sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, CastKind, DataType, DuplicateTreatment, Expr, FunctionArg,
    FunctionArgExpr, FunctionArguments, LambdaFunction, Subscript, TrimWhereField, UnaryOperator,
    Value,
};

/// The name Spark gives `expr` as an unaliased SELECT item, or `None` where DataFusion's own
/// name already is Spark's (a plain column).
pub fn spark_column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => None,
        Expr::Nested(inner) => spark_column_name(inner),
        // Spark's ResolveAliases: an unaliased CAST of a named expression keeps the name.
        Expr::Cast {
            kind: CastKind::Cast | CastKind::DoubleColon,
            expr: inner,
            ..
        } => match inner.as_ref() {
            Expr::Identifier(i) => Some(i.value.clone()),
            Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
            _ => Some(sql(expr)),
        },
        _ => Some(sql(expr)),
    }
}

/// Spark's text of a lambda: `lambdafunction(body, namedlambdavariable(), ...)`, each
/// variable in the body printed as `namedlambdavariable()` too.
fn lambda(l: &LambdaFunction) -> String {
    const VARIABLE: &str = "namedlambdavariable";
    let mut body = l.body.as_ref().clone();
    super::rewrite::replace_identifiers(&mut body, |id| {
        l.params
            .iter()
            .any(|p| p.name.value == id.value)
            .then(|| super::rewrite::call(VARIABLE, Vec::new()))
    });
    let variables = vec![format!("{VARIABLE}()"); l.params.len()];
    format!("lambdafunction({}, {})", sql(&body), variables.join(", "))
}

/// A double as Java prints it.
fn java_double(x: f64) -> String {
    let mut text = String::new();
    kindling_core::spark_text::java_double(x, &mut text);
    text
}

/// Spark's pretty SQL text of `expr`.
pub fn sql(expr: &Expr) -> String {
    match expr {
        Expr::Lambda(l) => lambda(l),
        Expr::Identifier(i) => i.value.clone(),
        Expr::CompoundIdentifier(parts) => {
            parts.last().map(|i| i.value.clone()).unwrap_or_default()
        }
        Expr::Nested(inner) => sql(inner),
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            // A double literal prints as Java prints the double.
            Value::Number(n, _) if super::rewrite::is_exponent_literal(&v.value) => {
                n.parse::<f64>().map_or_else(|_| n.clone(), java_double)
            }
            Value::Number(n, _) => java_big_decimal(n),
            Value::Boolean(b) => b.to_string(),
            Value::Null => "NULL".to_string(),
            other => other.to_string(),
        },
        Expr::BinaryOp { left, op, right } => match op {
            BinaryOperator::StringConcat => format!("concat({}, {})", sql(left), sql(right)),
            BinaryOperator::NotEq => format!("(NOT ({} = {}))", sql(left), sql(right)),
            BinaryOperator::MyIntegerDivide => format!("({} div {})", sql(left), sql(right)),
            op => format!("({} {} {})", sql(left), op, sql(right)),
        },
        Expr::UnaryOp { op, expr } => match op {
            // Spark's parser folds the sign into a number.
            UnaryOperator::Minus if matches!(&**expr, Expr::Value(v) if matches!(v.value, Value::Number(..))) =>
            {
                format!("-{}", sql(expr))
            }
            UnaryOperator::Minus => format!("(- {})", sql(expr)),
            UnaryOperator::Not => format!("(NOT {})", sql(expr)),
            UnaryOperator::Plus => sql(expr),
            other => format!("({other} {})", sql(expr)),
        },
        Expr::CompoundFieldAccess { root, access_chain } => {
            let mut text = sql(root);
            for access in access_chain {
                match access {
                    AccessExpr::Subscript(Subscript::Index { index }) => {
                        text.push('[');
                        text.push_str(&sql(index));
                        text.push(']');
                    }
                    AccessExpr::Dot(field) => {
                        text.push('.');
                        text.push_str(&sql(field));
                    }
                    other => text.push_str(&other.to_string()),
                }
            }
            text
        }
        Expr::IsNull(e) => format!("({} IS NULL)", sql(e)),
        Expr::IsNotNull(e) => format!("({} IS NOT NULL)", sql(e)),
        // A typed literal (`1.5D` read as `1.5::DOUBLE`) is named by its value.
        Expr::Cast {
            kind: CastKind::DoubleColon,
            expr: inner,
            data_type,
            ..
        } if matches!(inner.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..)))
            && matches!(
                data_type,
                DataType::Double(_)
                    | DataType::Float(_)
                    | DataType::SmallInt(_)
                    | DataType::TinyInt(_)
                    | DataType::BigInt(_)
                    | DataType::Decimal(_)
            ) =>
        {
            let number = sql(inner);
            match (data_type, number.parse::<f64>()) {
                (DataType::Double(_) | DataType::Float(_), Ok(x)) => java_double(x),
                _ => number,
            }
        }
        Expr::Cast {
            expr, data_type, ..
        } => format!(
            "CAST({} AS {})",
            sql(expr),
            spark_type_name(&data_type.to_string())
        ),
        Expr::Like {
            negated,
            expr,
            pattern,
            ..
        } => {
            let like = format!("{} LIKE {}", sql(expr), sql(pattern));
            if *negated {
                format!("(NOT {like})")
            } else {
                like
            }
        }
        Expr::RLike {
            negated,
            expr,
            pattern,
            ..
        } => {
            let like = format!("RLIKE({}, {})", sql(expr), sql(pattern));
            if *negated {
                format!("(NOT {like})")
            } else {
                like
            }
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let items: Vec<String> = list.iter().map(sql).collect();
            let inner = format!("({} IN ({}))", sql(expr), items.join(", "));
            if *negated {
                format!("(NOT {inner})")
            } else {
                inner
            }
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let inner = format!("between({}, {}, {})", sql(expr), sql(low), sql(high));
            if *negated {
                format!("(NOT {inner})")
            } else {
                inner
            }
        }
        // Spark's `trim(s)`, `ltrim(s)`, `rtrim(s)`; with characters, `TRIM(BOTH x FROM s)`.
        Expr::Trim {
            expr,
            trim_where,
            trim_what: None,
            trim_characters: None,
        } => {
            let name = match trim_where {
                Some(TrimWhereField::Leading) => "ltrim",
                Some(TrimWhereField::Trailing) => "rtrim",
                _ => "trim",
            };
            format!("{name}({})", sql(expr))
        }
        Expr::Trim {
            expr,
            trim_where,
            trim_what: Some(what),
            trim_characters: None,
        } => format!(
            "TRIM({} {} FROM {})",
            trim_where
                .as_ref()
                .map_or("BOTH".to_string(), |w| w.to_string()),
            sql(what),
            sql(expr)
        ),
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            let mut s = String::from("CASE");
            if let Some(op) = operand {
                s.push(' ');
                s.push_str(&sql(op));
            }
            for when in conditions {
                s.push_str(&format!(
                    " WHEN {} THEN {}",
                    sql(&when.condition),
                    sql(&when.result)
                ));
            }
            if let Some(e) = else_result {
                s.push_str(&format!(" ELSE {}", sql(e)));
            }
            s.push_str(" END");
            s
        }
        Expr::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => {
            let from = substring_from.as_deref().map_or("1".to_string(), sql);
            let len = substring_for
                .as_deref()
                .map_or("2147483647".to_string(), sql);
            format!("substring({}, {from}, {len})", sql(expr))
        }
        Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            let (distinct, mut args) = match &f.args {
                FunctionArguments::List(list) => (
                    matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)),
                    list.args.iter().map(function_arg).collect::<Vec<_>>(),
                ),
                _ => (false, Vec::new()),
            };
            // `int(x)` is a cast, named after what it casts.
            if super::aliases::is_cast_function(&name) && args.len() == 1 {
                return args.remove(0);
            }
            let call = if name == "count" && (args.is_empty() || args == ["*"]) {
                "count(1)".to_string()
            } else {
                // Spark prints the defaults its functions fill in.
                let defaults = super::aliases::printed_defaults(&name, args.len());
                args.extend(defaults.iter().map(|d| d.to_string()));
                let prefix = if distinct { "DISTINCT " } else { "" };
                format!("{name}({prefix}{})", args.join(", "))
            };
            match &f.filter {
                Some(filter) => format!("{call} FILTER (WHERE {})", sql(filter)),
                None => call,
            }
        }
        other => other.to_string(),
    }
}

/// A number literal as Java's `BigDecimal.toString` prints it, which is how Spark names an
/// integer or decimal literal: `.5` is `0.5`, `1.50` stays `1.50`, `0.0000001` is `1E-7`.
fn java_big_decimal(literal: &str) -> String {
    let (int, frac) = literal.split_once('.').unwrap_or((literal, ""));
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return literal.to_string();
    }
    let digits = format!("{int}{frac}");
    let coefficient = match digits.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    };
    let scale = frac.len() as i64;
    let adjusted = coefficient.len() as i64 - 1 - scale;
    if adjusted >= -6 {
        if scale == 0 {
            return coefficient.to_string();
        }
        let padded = format!("{coefficient:0>width$}", width = scale as usize + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale as usize);
        return format!("{whole}.{fraction}");
    }
    let (first, rest) = coefficient.split_at(1);
    let point = if rest.is_empty() { "" } else { "." };
    format!("{first}{point}{rest}E{adjusted}")
}

fn function_arg(arg: &FunctionArg) -> String {
    let expr = match arg {
        FunctionArg::Unnamed(e) => e,
        FunctionArg::Named { arg, .. } | FunctionArg::ExprNamed { arg, .. } => arg,
    };
    match expr {
        FunctionArgExpr::Expr(e) => sql(e),
        FunctionArgExpr::Wildcard => "*".to_string(),
        other => other.to_string(),
    }
}

/// Spark's spelling of a SQL type name.
fn spark_type_name(written: &str) -> String {
    match written.to_ascii_uppercase().as_str() {
        "INTEGER" => "INT".to_string(),
        "LONG" => "BIGINT".to_string(),
        "TEXT" | "VARCHAR" => "STRING".to_string(),
        "REAL" | "FLOAT4" => "FLOAT".to_string(),
        "FLOAT8" => "DOUBLE".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::dialect::SparkDialect;
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, Statement};
    use datafusion::sql::sqlparser::parser::Parser;

    fn names(select: &str) -> Vec<Option<String>> {
        let stmt = Parser::parse_sql(&SparkDialect, select).unwrap().remove(0);
        let Statement::Query(q) = stmt else { panic!() };
        let SetExpr::Select(s) = *q.body else {
            panic!()
        };
        s.projection
            .iter()
            .map(|item| match item {
                SelectItem::UnnamedExpr(e) => spark_column_name(e),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn aggregate_filters_and_filled_in_defaults_are_named_as_spark_names_them() {
        // Each as Spark 4.3.0 printed it in a console header.
        assert_eq!(
            names(
                "SELECT min_by(k, x) FILTER (WHERE x > 1), count(*) FILTER (WHERE k = 'a'), \
                 sort_array(a), every(x > 0)"
            ),
            [
                Some("min_by(k, x) FILTER (WHERE (x > 1))".into()),
                Some("count(1) FILTER (WHERE (k = a))".into()),
                Some("sort_array(a, true)".into()),
                Some("every((x > 0))".into()),
            ]
        );
        assert_eq!(
            names("SELECT transform(a, x -> x + 1), filter(a, (y) -> length(y) > x)"),
            [
                Some(
                    "transform(a, lambdafunction((namedlambdavariable() + 1), namedlambdavariable()))"
                        .into()
                ),
                Some(
                    "filter(a, lambdafunction((length(namedlambdavariable()) > x), namedlambdavariable()))"
                        .into()
                ),
            ]
        );
    }

    #[test]
    fn literals_and_subscripts_are_named_as_spark_names_them() {
        // Each as Spark 4.3.0 printed it in a console header.
        assert_eq!(
            names("SELECT 1.5, .5, 1.50, 100., 0.0000001, 007, -1.5, 1.5E2, 2e-3, 0.000"),
            [
                Some("1.5".into()),
                Some("0.5".into()),
                Some("1.50".into()),
                Some("100".into()),
                Some("1E-7".into()),
                Some("7".into()),
                Some("-1.5".into()),
                Some("150.0".into()),
                Some("0.002".into()),
                Some("0.000".into()),
            ]
        );
        assert_eq!(
            names("SELECT map('a', 1)['b'], array('x', 'y')[1], a[0].b, round(x)"),
            [
                Some("map(a, 1)[b]".into()),
                Some("array(x, y)[1]".into()),
                Some("a[0].b".into()),
                Some("round(x, 0)".into()),
            ]
        );
    }

    #[test]
    fn names_match_spark_headers() {
        assert_eq!(
            names(
                "SELECT value, count(*), length(value) + 1, CAST(value AS STRING), upper(tag), startswith(tag, '#'), split(value, ' '), count(DISTINCT x), a / b, CAST(x + 1 AS INTEGER), -x, a <> b"
            ),
            [
                None,
                Some("count(1)".into()),
                Some("(length(value) + 1)".into()),
                Some("value".into()),
                Some("upper(tag)".into()),
                Some("startswith(tag, #)".into()),
                Some("split(value,  , -1)".into()),
                Some("count(DISTINCT x)".into()),
                Some("(a / b)".into()),
                Some("CAST((x + 1) AS INT)".into()),
                Some("(- x)".into()),
                Some("(NOT (a = b))".into()),
            ]
        );
        assert_eq!(
            names("SELECT CASE WHEN x > 1 THEN 'big' ELSE 'small' END, x IS NULL, x IN (1, 2)"),
            [
                Some("CASE WHEN (x > 1) THEN big ELSE small END".into()),
                Some("(x IS NULL)".into()),
                Some("(x IN (1, 2))".into()),
            ]
        );
    }
}
