#!/usr/bin/env bash
# Installs what kindling needs on a fresh Debian machine (apt packages, when missing) and
# builds the release binary. Safe to run again: it only installs what is missing.
#   scripts/setup.sh                   # packages, then the build
#   scripts/setup.sh --packages-only   # packages only
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the build and the tests use: the C toolchain for -sys crates, cmake and
# curl's headers for librdkafka (rdkafka's cmake-build includes curl/curl.h even with curl
# off), and Python's venv for the local Kafka broker (scripts/kafka-broker.sh).
APT_PACKAGES=(build-essential pkg-config ca-certificates cmake libcurl4-openssl-dev python3 python3-venv)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--packages-only" ]; then
  exit 0
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install the Rust toolchain (rustup) first" >&2
  exit 1
fi

cargo build --release --locked
