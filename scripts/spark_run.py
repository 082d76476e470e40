#!/usr/bin/env python3
"""Runs kindling job files through Apache Spark (PySpark) and saves what Spark's console sink
prints, so tests can compare it with kindling's output for the same job and input.

    scripts/spark-env.sh python scripts/spark_run.py JOB.toml [JOB.toml ...]

Each job must use the `text` source with `path` set and `trigger = "availableNow"`. One Spark
session runs all the jobs; on stdout, each job's console output follows a line
`==== kindling-job: <job file stem> ====` (Spark's console sink writes to the JVM's stdout,
which is this process's stdout). A job Spark refuses or that fails is followed by a line
`==== spark-error: <message as a JSON string> ====`: Spark's message without the query plan,
the position and the `[STREAM_FAILED]` wrapper around a batch's failure.
"""
import json
import os
import re
import sys
import tempfile
import tomllib


def error_message(error):
    """Spark's message of `error` as kindling reports the same error."""
    text = str(error)
    failed = re.search(r"terminated with exception: (.*)", text, re.S)
    if failed:
        text = failed.group(1).split("\n=== Streaming Query ===")[0]
        text = re.sub(r" SQLSTATE: XXKST$", "", text.strip())
    text = text.split(";\n")[0]
    text = re.sub(r"; line \d+ pos \d+$", "", text.strip())
    return text.strip()


def first_sink(job):
    sink = job["sink"]
    return sink[0] if isinstance(sink, list) else sink


def run_job(spark, path):
    with open(path, "rb") as f:
        job = tomllib.load(f)
    source = job["source"]
    if source["format"] != "text":
        raise SystemExit(f"{path}: only the text source is supported here")
    reader = spark.readStream.format("text")
    for key, value in source.get("options", {}).items():
        if key == "path":
            continue
        reader = reader.option(key, str(value))
    df = reader.load(source["options"]["path"])
    df.createOrReplaceTempView(source.get("name", "input"))
    query = job["query"]
    sql = query.get("sql")
    if sql is None:
        with open(os.path.join(os.path.dirname(path), query["sql_file"]), encoding="utf-8") as f:
            sql = f.read()
    result = spark.sql(sql)
    sink = first_sink(job)
    writer = result.writeStream.format(sink["format"]).outputMode(sink.get("outputMode", "append"))
    for key, value in sink.get("options", {}).items():
        writer = writer.option(key, str(value).lower() if isinstance(value, bool) else str(value))
    writer = writer.option("checkpointLocation", tempfile.mkdtemp(prefix="spark-diff-"))
    writer.trigger(availableNow=True).start().awaitTermination()


def main():
    jobs = sys.argv[1:]
    from pyspark.sql import SparkSession
    spark = (SparkSession.builder.master("local[2]")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    jvm_out = spark.sparkContext._jvm.java.lang.System.out
    for job in jobs:
        stem = os.path.splitext(os.path.basename(job))[0]
        jvm_out.flush()
        print(f"==== kindling-job: {stem} ====", flush=True)
        try:
            run_job(spark, job)
        except Exception as e:  # noqa: BLE001 - the error is the job's outcome
            jvm_out.flush()
            print(f"==== spark-error: {json.dumps(error_message(e))} ====", flush=True)
        jvm_out.flush()
    spark.stop()


if __name__ == "__main__":
    main()
