#!/usr/bin/env bash
# Runs the differential fuzzer (tests/it/spark_fuzz.rs) over more generated queries than CI does:
#   scripts/fuzz-spark.sh [N] [SEED]    # N queries (default 300), SEED random unless given
# Each query runs through kindling and through PySpark 4.3.0 (installed on first use by
# scripts/spark-env.sh); a mismatch prints the seed, the query and both outcomes.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-300}"
seed="${2:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
echo "fuzz-spark: $count queries, seed $seed" >&2
KINDLING_FUZZ_COUNT="$count" KINDLING_FUZZ_SEED="$seed" \
  cargo test --release --locked --test it spark_fuzz:: -- --nocapture
