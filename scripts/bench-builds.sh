#!/usr/bin/env bash
# Compares two kindling binaries (say, before and after a change to the build profile) on
# whole-process jobs, run alternately in one session so that the machine's noise falls on
# both alike:
#
#   scripts/bench-builds.sh OLD_BINARY NEW_BINARY [ROUNDS]    # default 7 rounds
#
# Jobs: the hashtag ranking over 1 M generated tweets (one batch); 60 micro-batches of 10
# tweets, without and with a checkpoint; 10 batches of 100 k in update mode; a job heavy in
# string, regex, JSON and hash functions; a Parquet file sink. Inputs are generated once by
# the first binary from the seeded tweet stream. Prints each job's median wall time per binary
# and their ratio (new / old; below 1 is faster), in wall time and in CPU time.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="$(realpath "$1")"
NEW="$(realpath "$2")"
ROUNDS="${3:-7}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Writes $2 tweets (seed 42) as text files into directory $1, $3 tweets per batch (a file
# each).
tweets() {
  cat >"$WORK/gen.toml" <<EOF
name = "gen"
[source]
format = "tweets"
[source.options]
seed = 42
rowsPerSecond = 0
totalRows = $2
rowsPerBatch = $3
[query]
sql = "SELECT CAST(value AS STRING) AS value FROM input"
[sink]
format = "text"
trigger = "availableNow"
[sink.options]
path = "$1"
EOF
  "$OLD" submit "$WORK/gen.toml" --checkpoint-location "$WORK/gen-checkpoint-$(basename "$1")" >/dev/null
}

tweets "$WORK/1m" 1000000 100000
tweets "$WORK/small" 600 10

# job NAME INPUT SINK_FORMAT MODE QUERY [EXTRA_SOURCE_OPTIONS] [SINK_OPTIONS]
job() {
  cat >"$WORK/$1.toml" <<EOF
name = "$1"
[source]
format = "text"
name = "lines"
[source.options]
path = "$2"
$6
[query]
sql = """$5"""
[sink]
format = "$3"
outputMode = "$4"
trigger = "availableNow"
[sink.options]
$7
EOF
}

HASHTAGS="$(cat sql/hashtag_ranking.sql)"
# Update mode allows no ORDER BY: the same counts, unsorted.
COUNTS="$(grep -v '^ORDER BY' sql/hashtag_ranking.sql)"
job hashtag_1m "$WORK/1m" console complete "$HASHTAGS" "" "numRows = 10"
job micro_60 "$WORK/small" console update "$COUNTS" "maxFilesPerTrigger = 1" "numRows = 5"
job update_10x100k "$WORK/1m" console update "$COUNTS" "maxFilesPerTrigger = 1" "numRows = 5"
job functions_1m "$WORK/1m" console complete "SELECT count(*) AS n, sum(length(upper(value))) AS chars,
  max(substr(md5(value), 1, 3)) AS hashes,
  max(regexp_replace(value, '#[A-Za-z]+', '<tag>')) AS replaced,
  sum(size(split(value, ' +'))) AS words,
  max(get_json_object(to_json(named_struct('v', value, 'n', length(value))), '\$.n')) AS json
FROM lines" "" ""
job parquet_1m "$WORK/1m" parquet append "SELECT value, length(value) AS n, upper(value) AS u FROM lines" "" "path = \"$WORK/parquet-out\""

# Prints the wall time and the CPU time (user + system) in ms of running job $2 with binary
# $1 (output discarded). CPU time is the steadier of the two on a busy machine.
run() {
  local checkpoint=()
  if [ "${3:-}" = durable ]; then checkpoint=(--checkpoint-location "$WORK/checkpoint-$RANDOM$RANDOM"); fi
  rm -rf "$WORK/parquet-out"
  local TIMEFORMAT='%3R %3U %3S'
  { time "$1" submit "$WORK/$2.toml" "${checkpoint[@]}" >/dev/null 2>"$WORK/err"; } 2>&1 |
    awk '{ printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000 }'
}

# The median of column $1.
median() { awk -v c="$1" '{ print $c }' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ratio() { awk -v n="$1" -v o="$2" 'BEGIN { printf "%.2f", n / o }'; }

printf '%-20s %9s %9s %7s   %9s %9s %7s\n' job "old wall" "new wall" new/old "old cpu" "new cpu" new/old
for spec in hashtag_1m micro_60 micro_60:durable update_10x100k functions_1m parquet_1m:durable; do
  name="${spec%%:*}"
  mode=""
  [ "$spec" != "$name" ] && mode="${spec#*:}"
  : >"$WORK/old.ms"
  : >"$WORK/new.ms"
  for _ in $(seq 1 "$ROUNDS"); do
    run "$OLD" "$name" "$mode" >>"$WORK/old.ms"
    run "$NEW" "$name" "$mode" >>"$WORK/new.ms"
  done
  ow=$(median 1 <"$WORK/old.ms")
  nw=$(median 1 <"$WORK/new.ms")
  oc=$(median 2 <"$WORK/old.ms")
  nc=$(median 2 <"$WORK/new.ms")
  printf '%-20s %9s %9s %7s   %9s %9s %7s\n' "$spec" "$ow" "$nw" "$(ratio "$nw" "$ow")" "$oc" "$nc" "$(ratio "$nc" "$oc")"
done
