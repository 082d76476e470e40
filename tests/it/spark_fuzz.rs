//! The differential fuzzer: a seeded generator of streaming queries over the grammar kindling
//! supports (projections, filters, the function families it registers, aggregations with
//! GROUP BY/HAVING, ORDER BY/LIMIT in complete mode, DISTINCT, generators, the three output
//! modes, and operators Spark refuses) over inputs with NULLs, Unicode and awkward numbers,
//! each run through kindling and through PySpark 4.3.0 over several micro-batches. Both must
//! print the same console output (tie order aside) or fail with the same error class; a query
//! kindling refuses with its own message (Spark runs it) is counted, not failed.
//!
//! CI runs a small fixed seed; `scripts/fuzz-spark.sh N` runs N queries from a random seed
//! (`KINDLING_FUZZ_COUNT`, `KINDLING_FUZZ_SEED`). A mismatch prints the seed, the query and
//! both outcomes; each one found becomes a pinned case in `tests/spark_diff` or `tests/slt`.

#![expect(clippy::unwrap_used, clippy::panic)]

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::common::{Compare, spark};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

/// Awkward field values: empty, Unicode, case variants, numbers at the edges of their types,
/// values that do not parse.
const KEYS: &[&str] = &["a", "b", "B", "", "é", "#x", "ß", "a b", "日本", "  "];
const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "7",
    "42",
    "2147483647",
    "-2147483648",
    "",
    "abc",
    "3.5",
    " 12 ",
];
const DOUBLES: &[&str] = &[
    "0.5",
    "-2.25",
    "1e3",
    "NaN",
    "",
    "0",
    "-0.0",
    "1e-7",
    "123456.789",
    "Infinity",
];
const STRINGS: &[&str] = &[
    "#Spark",
    "",
    "hello world",
    "naïve café",
    "日本語",
    "#spark #SPARK",
    "tab\there",
    "a%b_c",
    "🔥 fire",
    "UPPER lower",
];

/// The columns every generated query reads, from `k,n,x,s` text lines.
const BASE: &str = "SELECT split_part(value, ',', 1) AS k, try_cast(split_part(value, ',', 2) AS INT) AS n, \
    try_cast(split_part(value, ',', 3) AS DOUBLE) AS x, nullif(split_part(value, ',', 4), '') AS s, value FROM lines";

fn write_inputs(dir: &Path, rng: &mut Pcg64) {
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for f in 0..4u64 {
        let mut text = String::new();
        let rows = if f == 2 { 0 } else { 25 };
        for _ in 0..rows {
            let pick =
                |rng: &mut Pcg64, from: &[&'static str]| from[rng.random_range(0..from.len())];
            let line = format!(
                "{},{},{},{}",
                pick(rng, KEYS),
                pick(rng, INTS),
                pick(rng, DOUBLES),
                pick(rng, STRINGS)
            );
            text.push_str(&line);
            text.push('\n');
        }
        let path = dir.join(format!("part-{f:05}.txt"));
        std::fs::write(&path, text).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(base + Duration::from_secs(f)).unwrap();
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Type {
    Str,
    Int,
    Double,
    Bool,
}

/// A seeded generator of expressions and queries.
struct Gen {
    rng: Pcg64,
}

impl Gen {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.random_range(0..from.len())]
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    fn small(&mut self, lo: i32, hi: i32) -> i32 {
        self.rng.random_range(lo..=hi)
    }

    /// A string literal from a set with Unicode, quotes and empty strings.
    fn string_literal(&mut self) -> String {
        let s = self.pick(&["a", "", "#", "é", "x y", "B", "日", "o''k", "%", "spark"]);
        format!("'{s}'")
    }

    fn expr(&mut self, ty: Type, depth: u32) -> String {
        let leaf = depth == 0 || self.chance(30);
        match ty {
            Type::Str if leaf => self.pick(&["k", "s", "k", "s", "value"]).to_string(),
            Type::Int if leaf => self.pick(&["n", "n", "length(k)", "length(s)"]).to_string(),
            Type::Double if leaf => self.pick(&["x", "x", "CAST(n AS DOUBLE)"]).to_string(),
            Type::Bool if leaf => self.predicate_leaf(),
            Type::Str => {
                let a = self.expr(Type::Str, depth - 1);
                match self.small(0, 14) {
                    0 => format!("upper({a})"),
                    1 => format!("lower({a})"),
                    2 => format!("initcap({a})"),
                    3 => format!("trim({a})"),
                    4 => format!("concat({a}, '-', {})", self.expr(Type::Str, depth - 1)),
                    5 => format!(
                        "substring({a}, {}, {})",
                        self.small(-3, 4),
                        self.small(0, 5)
                    ),
                    6 => format!(
                        "replace({a}, {}, {})",
                        self.string_literal(),
                        self.string_literal()
                    ),
                    7 => format!("lpad({a}, {}, '*')", self.small(0, 8)),
                    8 => format!("reverse({a})"),
                    9 => format!("coalesce({a}, {})", self.string_literal()),
                    10 => format!(
                        "CASE WHEN {} THEN {a} ELSE {} END",
                        self.expr(Type::Bool, depth - 1),
                        self.string_literal()
                    ),
                    11 => format!("CAST({} AS STRING)", self.expr(Type::Int, depth - 1)),
                    12 => format!("regexp_replace({a}, '[aeiou]', '_')"),
                    13 => format!("repeat({a}, {})", self.small(0, 3)),
                    _ => format!("split_part({a}, ' ', {})", self.small(1, 2)),
                }
            }
            Type::Int => {
                let a = self.expr(Type::Int, depth - 1);
                match self.small(0, 11) {
                    0 => format!("({a} + {})", self.small(-5, 5)),
                    1 => format!("({a} * {})", self.small(-3, 3)),
                    2 => format!("({a} % {})", self.small(1, 7)),
                    3 => format!("({a} DIV {})", self.small(1, 4)),
                    4 => format!("abs({a})"),
                    5 => format!(
                        "instr({}, {})",
                        self.expr(Type::Str, depth - 1),
                        self.string_literal()
                    ),
                    6 => format!("coalesce({a}, {})", self.small(-1, 1)),
                    7 => format!("greatest({a}, {})", self.small(-2, 2)),
                    8 => format!("size(split({}, ' '))", self.expr(Type::Str, depth - 1)),
                    9 => format!("length({})", self.expr(Type::Str, depth - 1)),
                    10 => format!("try_add({a}, {})", self.expr(Type::Int, depth - 1)),
                    _ => format!("CAST({} AS INT)", self.expr(Type::Double, depth - 1)),
                }
            }
            Type::Double => {
                let a = self.expr(Type::Double, depth - 1);
                match self.small(0, 6) {
                    0 => format!("({a} * 2)"),
                    1 => format!(
                        "({} / {})",
                        self.expr(Type::Int, depth - 1),
                        self.small(1, 3)
                    ),
                    2 => format!("round({a}, {})", self.small(0, 2)),
                    3 => format!("({a} + {})", self.expr(Type::Int, depth - 1)),
                    4 => format!("abs({a})"),
                    5 => format!("try_divide({a}, {})", self.expr(Type::Double, depth - 1)),
                    _ => format!("coalesce({a}, 0.0D)"),
                }
            }
            Type::Bool => {
                let a = self.expr(Type::Bool, depth - 1);
                match self.small(0, 3) {
                    0 => format!("(NOT {a})"),
                    1 => format!("({a} AND {})", self.expr(Type::Bool, depth - 1)),
                    2 => format!("({a} OR {})", self.expr(Type::Bool, depth - 1)),
                    _ => self.predicate_leaf(),
                }
            }
        }
    }

    fn predicate_leaf(&mut self) -> String {
        let s = self.expr(Type::Str, 0);
        let n = self.expr(Type::Int, 0);
        match self.small(0, 9) {
            0 => format!("{s} IS NULL"),
            1 => format!("{n} > {}", self.small(-2, 10)),
            2 => format!("startswith({s}, '#')"),
            3 => format!("{s} LIKE '%a%'"),
            4 => format!("{s} = {}", self.string_literal()),
            5 => format!(
                "{n} BETWEEN {} AND {}",
                self.small(-5, 0),
                self.small(0, 50)
            ),
            6 => format!("{s} IN ('a', 'B', '')"),
            7 => format!("{s} RLIKE '^[a-z]+$'"),
            8 => "x > 0".to_string(),
            _ => format!("{n} IS NOT NULL"),
        }
    }

    fn aggregate(&mut self) -> String {
        match self.small(0, 10) {
            0 => "count(*)".to_string(),
            1 => format!("count({})", self.expr(Type::Str, 1)),
            2 => format!("sum({})", self.expr(Type::Int, 1)),
            3 => format!("min({})", self.expr(Type::Str, 1)),
            4 => format!("max({})", self.expr(Type::Int, 1)),
            5 => format!("avg({})", self.expr(Type::Int, 1)),
            6 => format!("count_if({})", self.expr(Type::Bool, 1)),
            7 => format!("sort_array(collect_set({}))", self.expr(Type::Str, 1)),
            8 => format!("max({})", self.expr(Type::Double, 1)),
            9 => format!("bool_or({})", self.expr(Type::Bool, 1)),
            _ => format!("sum({})", self.expr(Type::Double, 1)),
        }
    }

    fn typed(&mut self) -> Type {
        match self.small(0, 3) {
            0 => Type::Str,
            1 => Type::Int,
            2 => Type::Double,
            _ => Type::Bool,
        }
    }

    /// One query with its output mode and how to compare its output.
    fn query(&mut self) -> (String, &'static str, Compare) {
        let shape = self.small(0, 11);
        let filter = if self.chance(40) {
            format!(" WHERE {}", self.expr(Type::Bool, 2))
        } else {
            String::new()
        };
        match shape {
            // Stateless projections.
            0..=2 => {
                let items: Vec<String> = (0..self.small(1, 3))
                    .map(|i| {
                        let ty = self.typed();
                        let e = self.expr(ty, 3);
                        if self.chance(50) {
                            format!("{e} AS c{i}")
                        } else {
                            e
                        }
                    })
                    .collect();
                let mode = if self.chance(70) { "append" } else { "update" };
                let sql = format!("SELECT {} FROM ({BASE}) b{filter}", items.join(", "));
                if self.chance(10) {
                    return (
                        format!("{sql} LIMIT {}", self.small(1, 30)),
                        "append",
                        Compare::Unordered,
                    );
                }
                (sql, mode, Compare::Unordered)
            }
            // Aggregations: update, or complete with a total ORDER BY and maybe a LIMIT.
            3..=6 => {
                let keys: Vec<String> = (0..self.small(0, 2))
                    .map(|_| {
                        let ty = if self.chance(70) {
                            Type::Str
                        } else {
                            Type::Int
                        };
                        self.expr(ty, 1)
                    })
                    .collect();
                let aggs: Vec<String> = (0..self.small(1, 3))
                    .map(|i| format!("{} AS a{i}", self.aggregate()))
                    .collect();
                let mut items: Vec<String> = keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| format!("{k} AS g{i}"))
                    .collect();
                items.extend(aggs);
                let group_by = if keys.is_empty() {
                    String::new()
                } else {
                    format!(" GROUP BY {}", keys.join(", "))
                };
                let having = if self.chance(25) {
                    format!(" HAVING count(*) > {}", self.small(0, 3))
                } else {
                    String::new()
                };
                let mut sql = format!(
                    "SELECT {} FROM ({BASE}) b{filter}{group_by}{having}",
                    items.join(", ")
                );
                let mode = self.pick(&["update", "complete", "complete", "append"]);
                if mode == "complete" && !keys.is_empty() && self.chance(60) {
                    // Every output column, so the order is total and LIMIT cuts the same rows.
                    let columns = items.len();
                    let order: Vec<String> = (1..=columns)
                        .map(|c| format!("{c} {}", self.pick(&["ASC", "DESC"])))
                        .collect();
                    sql = format!("{sql} ORDER BY {}", order.join(", "));
                    if self.chance(50) {
                        sql = format!("{sql} LIMIT {}", self.small(1, 5));
                    }
                    return (sql, mode, Compare::Exact);
                }
                (sql, mode, Compare::Unordered)
            }
            // Words of a line, counted or listed.
            7 => {
                let words = format!(
                    "SELECT explode(split({}, ' ')) AS w FROM ({BASE}) b{filter}",
                    self.expr(Type::Str, 1)
                );
                if self.chance(50) {
                    (
                        format!("SELECT w, count(*) AS c FROM ({words}) GROUP BY w"),
                        self.pick(&["update", "complete"]),
                        Compare::Unordered,
                    )
                } else {
                    (words, "append", Compare::Unordered)
                }
            }
            // A join with a static table (maybe aggregated itself), then maybe an aggregation
            // with a mixed-case alias grouped by an input column's name.
            9 | 10 => {
                let static_side = if self.chance(50) {
                    "(VALUES ('a', 1), ('B', 2), ('é', 3), ('', 4), ('a', 5)) AS t(tk, tv)"
                        .to_string()
                } else {
                    "(SELECT tk, count(*) AS tv FROM VALUES ('a'), ('a'), ('B'), ('') AS v(tk) GROUP BY tk) AS t".to_string()
                };
                let join = self.pick(&["JOIN", "LEFT JOIN", "LEFT SEMI JOIN", "LEFT ANTI JOIN"]);
                let columns = if join.contains("SEMI") || join.contains("ANTI") {
                    "b.k, b.n"
                } else {
                    "b.k, b.n, t.tv"
                };
                let joined = format!(
                    "SELECT {columns} FROM ({BASE}) b {join} {static_side} ON b.k = t.tk{filter}"
                );
                if self.chance(50) {
                    (
                        format!("SELECT upper(k) AS K, count(*) AS N FROM ({joined}) j GROUP BY k"),
                        self.pick(&["update", "complete"]),
                        Compare::Unordered,
                    )
                } else {
                    (joined, "append", Compare::Unordered)
                }
            }
            // SQL DISTINCT: an aggregation.
            8 => (
                format!(
                    "SELECT DISTINCT {} AS d FROM ({BASE}) b{filter}",
                    self.expr(Type::Str, 2)
                ),
                self.pick(&["update", "complete", "append"]),
                Compare::Unordered,
            ),
            // Operators Spark refuses on streams (or kindling does), each with its message.
            _ => {
                let sql = match self.small(0, 6) {
                    0 => format!(
                        "SELECT k, row_number() OVER (PARTITION BY k ORDER BY n) AS r FROM ({BASE}) b"
                    ),
                    1 => format!("SELECT k FROM ({BASE}) b ORDER BY k"),
                    2 => format!("SELECT a.k FROM ({BASE}) a JOIN ({BASE}) c ON a.k = c.k"),
                    3 => format!("SELECT count(DISTINCT k) AS d FROM ({BASE}) b"),
                    4 => format!(
                        "SELECT c, count(*) AS m FROM (SELECT k, count(*) AS c FROM ({BASE}) b GROUP BY k) GROUP BY c"
                    ),
                    5 => format!("SELECT k FROM ({BASE}) b LIMIT 3 OFFSET 1"),
                    _ => format!(
                        "SELECT k FROM ({BASE}) b WHERE n > (SELECT max(n) FROM ({BASE}) c)"
                    ),
                };
                (
                    sql,
                    self.pick(&["append", "update", "complete"]),
                    Compare::Unordered,
                )
            }
        }
    }
}

fn job(name: &str, input: &Path, sql: &str, mode: &str) -> String {
    format!(
        "name = \"{name}\"\n[source]\nformat = \"text\"\nname = \"lines\"\n[source.options]\npath = {:?}\nmaxFilesPerTrigger = 1\n[query]\nsql = '''\n{sql}\n'''\n[sink]\nformat = \"console\"\noutputMode = \"{mode}\"\ntrigger = \"availableNow\"\n[sink.options]\ntruncate = false\nnumRows = 1000\n",
        input.display().to_string()
    )
}

#[test]
fn kindling_answers_generated_queries_as_spark_does() {
    let root = Path::new(crate::common::process::manifest_dir());
    let seed: u64 = std::env::var("KINDLING_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(18);
    let count: usize = std::env::var("KINDLING_FUZZ_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut generator = Gen {
        rng: Pcg64::seed_from_u64(seed),
    };
    // `KINDLING_FUZZ_DIR=dir` keeps the inputs and job files there, to rerun one query by
    // hand (`kindling submit dir/q0042.toml`); with `KINDLING_FUZZ_SPARK=0` too, nothing runs.
    let temp = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("KINDLING_FUZZ_DIR").map(PathBuf::from);
    let work = kept.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let input = work.join("input");
    std::fs::create_dir_all(&input).unwrap();
    write_inputs(&input, &mut generator.rng);

    let mut jobs: Vec<(PathBuf, String, &'static str, Compare)> = Vec::new();
    for i in 0..count {
        let (sql, mode, compare) = generator.query();
        let name = format!("q{i:04}");
        let path = work.join(format!("{name}.toml"));
        std::fs::write(&path, job(&name, &input, &sql, mode)).unwrap();
        jobs.push((path, sql, mode, compare));
    }
    if kept.is_some() && std::env::var("KINDLING_FUZZ_SPARK").is_ok_and(|v| v == "0") {
        eprintln!("wrote {count} jobs to {}", work.display());
        return;
    }
    let paths: Vec<PathBuf> = jobs.iter().map(|(p, ..)| p.clone()).collect();
    let Some(spark_outcomes) =
        spark::run_spark_unless_skipped(root, &paths).unwrap_or_else(|e| panic!("{e}"))
    else {
        return;
    };

    let (mut same, mut refused, mut spark_errors) = (0, Vec::new(), 0);
    let mut mismatches = String::new();
    for (path, sql, mode, compare) in &jobs {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let spark = spark_outcomes
            .get(&stem)
            .unwrap_or_else(|| panic!("{stem}: Spark did not run it"));
        let kindling = spark::run_kindling(path);
        if spark.error.is_none() && kindling.refused_by_kindling() {
            refused.push(format!(
                "{stem} ({mode}): {}",
                kindling.error.clone().unwrap_or_default()
            ));
            continue;
        }
        match spark::compare_outcomes(spark, &kindling, *compare) {
            Ok(()) => {
                same += 1;
                spark_errors += usize::from(spark.error.is_some());
            }
            Err(e) => {
                let _ = write!(
                    mismatches,
                    "\n=== {stem} ({mode}, seed {seed}) ===\n{sql}\n{e}\n"
                );
            }
        }
    }
    eprintln!(
        "differential fuzzer, seed {seed}: {count} queries, {same} answered as Spark does ({spark_errors} of them refused or failed by both with the same error), {} refused by kindling only, {} mismatches",
        refused.len(),
        mismatches.matches("\n=== ").count()
    );
    for r in &refused {
        eprintln!("  refused: {r}");
    }
    assert!(
        mismatches.is_empty(),
        "kindling and Spark differ:{mismatches}"
    );
}
