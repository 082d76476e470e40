#!/usr/bin/env bash
# Runs a command with PySpark 4.3.0 available, installing it first when missing: a Java 17
# runtime (Debian's openjdk-17-jre-headless) and a cached virtualenv with pyspark from PyPI.
#   scripts/spark-env.sh python scripts/spark_run.py ...
set -euo pipefail
CACHE="${KINDLING_CACHE:-$HOME/.cache/kindling}"
VENV="$CACHE/pyspark-4.3.0"

# Tests run in parallel: one install at a time (apt and pip both fail when raced), and each
# waiter checks again once it holds the lock.
mkdir -p "$CACHE"
(
flock 9
if ! command -v java >/dev/null 2>&1; then
  echo "spark-env: installing a Java runtime" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless
fi
if ! "$VENV/bin/python" -c "import pyspark" >/dev/null 2>&1; then
  echo "spark-env: installing pyspark 4.3.0 into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check pyspark==4.3.0
fi
) 9>"$CACHE/install.lock"
export PATH="$VENV/bin:$PATH"
export PYSPARK_PYTHON="$VENV/bin/python"
exec "$@"
