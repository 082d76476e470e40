#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: set-up, formatting, lints, then every test
# (unit, golden jobs, CLI, engine) on the release profile the binary is built with.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --packages-only

# The outside components the tests start (a Kafka-compatible broker, PySpark with a Java
# runtime, Chromium with playwright-core) are downloads more than work: they install in the
# background while Rust compiles. Each script installs at most once, under a lock, so a test
# never sees half an install; one that failed here is tried again, and reported, by the
# tests that need it.
CACHE="${KINDLING_CACHE:-$HOME/.cache/kindling}"
mkdir -p "$CACHE"
(scripts/kafka-broker.sh path && scripts/spark-env.sh true && scripts/browser-env.sh) \
  >"$CACHE/test-components.log" 2>&1 &
components=$!

./scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets --locked -- -D warnings
cargo test --release --workspace --locked --no-run
if ! wait "$components"; then
  echo "test: installing the test components failed (log: $CACHE/test-components.log); the tests that need them try again" >&2
fi
cargo test --release --workspace --locked
