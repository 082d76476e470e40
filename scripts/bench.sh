#!/usr/bin/env bash
# Runs the benchmarks (release profile) and prints their results.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked --bench hashtag >/dev/null
cargo bench --locked --bench repl_startup >/dev/null
