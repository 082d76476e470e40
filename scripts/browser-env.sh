#!/usr/bin/env bash
# Installs what the dashboard's browser test needs and prints the NODE_PATH to run
# tests/browser/*.cjs with: Debian's chromium (apt, when missing) and playwright-core (npm,
# into $KINDLING_CACHE/browser; it drives that chromium, no browser download).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${KINDLING_CACHE:-$HOME/.cache/kindling}"
DIR="$CACHE/browser"
# Tests run in parallel: one install at a time (apt and npm both fail when raced), and each
# waiter checks again once it holds the lock.
mkdir -p "$CACHE"
(
flock 9
if ! command -v chromium >/dev/null 2>&1; then
  echo "browser-env: installing chromium" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-color-emoji fonts-noto-cjk >&2
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "browser-env: installing nodejs and npm" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >&2
fi
if [ ! -f "$DIR/node_modules/playwright-core/package.json" ] || ! cmp -s tests/browser/package.json "$DIR/package.json"; then
  echo "browser-env: installing playwright-core into $DIR" >&2
  mkdir -p "$DIR"
  cp tests/browser/package.json "$DIR/package.json"
  (cd "$DIR" && npm install --silent --no-audit --no-fund >&2)
fi
) 9>"$CACHE/install.lock"
echo "$DIR/node_modules"
