#!/usr/bin/env python3
"""Fills in the expected results of tests/slt/spark/**/*.slt from real Apache Spark.

Each `query` record's expected rows are replaced by what Spark returns, rendered as Spark's
`show(truncate=False)` prints cells (cells joined by " | ", an empty string as "(empty)").
Each `error` record is checked to fail in Spark too, with a message containing the record's
text when that text starts with Spark's error class (`error [DIVIDE_BY_ZERO] Division`). Usage:

    scripts/spark-env.sh python scripts/spark_slt.py [FILES...]   # rewrites the files
    scripts/spark-env.sh python scripts/spark_slt.py --check      # exits 1 on a difference (CI)
"""
import glob
import os
import sys


def parse(text):
    """Records as dicts: kind ('query'|'error'), header line, sql, expected lines."""
    records, comments = [], []
    blocks = text.strip("\n").split("\n\n")
    for block in blocks:
        lines = [l for l in block.split("\n")]
        lead = []
        while lines and lines[0].startswith("#"):
            lead.append(lines.pop(0))
        if not lines:
            records.append({"kind": "comment", "lead": lead})
            continue
        header = lines.pop(0)
        if header.startswith("query"):
            sep = lines.index("----")
            records.append({"kind": "query", "lead": lead, "header": header,
                            "sql": "\n".join(lines[:sep]), "expected": lines[sep + 1:]})
        elif header.startswith("error"):
            records.append({"kind": "error", "lead": lead, "header": header,
                            "sql": "\n".join(lines)})
        else:
            raise SystemExit(f"unknown record header {header!r}")
    return records


def render(records):
    out = []
    for r in records:
        lines = list(r["lead"])
        if r["kind"] == "query":
            lines += [r["header"], r["sql"], "----"] + r["expected"]
        elif r["kind"] == "error":
            lines += [r["header"], r["sql"]]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def spark_rows(spark, sql):
    df = spark.sql(sql)
    table = df._jdf.showString(1000, 0, False)
    lines = table.split("\n")
    sep = lines[0]
    rows = []
    for line in lines[3:]:
        if line == sep:
            break
        cells = [c.rstrip(" ") for c in line[1:-1].split("|")]
        rows.append(" | ".join(c if c != "" else "(empty)" for c in cells))
    return rows


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    check = "--check" in sys.argv
    root = os.path.join(os.path.dirname(__file__), "..", "tests", "slt", "spark")
    files = args or sorted(glob.glob(os.path.join(root, "**", "*.slt"), recursive=True))
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[1]")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    spark.sparkContext.setLogLevel("OFF")
    failed = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            records = parse(f.read())
        for r in records:
            if r["kind"] == "query":
                try:
                    rows = spark_rows(spark, r["sql"])
                except Exception as e:  # noqa: BLE001 - report and go on with the other records
                    failed += 1
                    print(f"{path}: Spark failed on: {r['sql']}\n  {str(e).splitlines()[0]}")
                    continue
                if check and rows != r["expected"]:
                    failed += 1
                    print(f"{path}: {r['sql']}\n  file:  {r['expected']}\n  spark: {rows}")
                r["expected"] = rows
            elif r["kind"] == "error":
                # `error [CLASS] ...`: Spark's message must hold that text too; any other
                # text is kindling's own wording of an error Spark raises differently.
                text = r["header"][len("error "):]
                try:
                    spark.sql(r["sql"]).collect()
                    failed += 1
                    print(f"{path}: expected an error from Spark for: {r['sql']}")
                except Exception as e:  # noqa: BLE001 - any Spark error is the expected outcome
                    if text.startswith("[") and text not in str(e):
                        failed += 1
                        print(f"{path}: {r['sql']}\n  expected Spark's error to contain {text!r}, got: {str(e).splitlines()[0]}")
        if not check:
            with open(path, "w", encoding="utf-8") as f:
                f.write(render(records))
    spark.stop()
    if failed:
        print(f"{failed} record(s) differ from Spark")
        sys.exit(1)


if __name__ == "__main__":
    main()
