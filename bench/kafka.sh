#!/usr/bin/env bash
# bench/kafka.sh [SLUICE] — the collector on Kafka against the collector on the embedded
# log, in one run, under the same wrk load (keep-alive, -t2 -c64, GET /purchase_a_sword):
#   1. sluice serve --bus kafka://<mock, 3 brokers, 4 partitions>/events  (acks=all,
#      idempotence, lz4; every 200 waits for its delivery report)
#   2. sluice serve (embedded log, default --fsync interval=1000)
# then reading from Kafka: `sluice tail --bus kafka` over BENCH_CONSUME events (default
# 50000) in a fresh 4-partition topic, against `sluice tail` over the same events in the
# embedded log; then `sluice stream --once` (Parquet tables, exactly once) from that Kafka
# topic against `sluice stream --once` over the same events in the embedded log, the Kafka
# one also without its consumer-group join (the mock, like a broker with the default
# group.initial.rebalance.delay.ms, holds the first member of a group for ~3 s).
# Prints req/s, p99, events/s and the ratios.
#   BENCH_SECONDS (default 10), BENCH_CONNS (64), BENCH_THREADS (2), BENCH_CONSUME (50000).
# The mock cluster is librdkafka's in-process test broker (one process, loopback, memory
# only, a few MiB kept per partition): it is not a tuned Kafka; treat the Kafka figure
# as "what the collector's Kafka path costs", not as Kafka's speed.
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE=${1:-build/sluice}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-2}
NCONS=${BENCH_CONSUME:-50000}
command -v wrk >/dev/null || { echo "bench/kafka.sh: wrk is not installed" >&2; exit 1; }
[ -x "$SLUICE" ] || { echo "bench/kafka.sh: build $SLUICE first (make)" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-kafka-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { # secs cmd...
  local n=$(( $1 * 50 )); shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.02; done
  return 1
}
run_wrk() { # url -> "RPS P99MS"
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$1" > "$W/wrk.txt"
  if grep -q "Non-2xx" "$W/wrk.txt"; then echo "bench/kafka.sh: $(grep Non-2xx "$W/wrk.txt")" >&2; fi
  awk '/^Requests\/sec:/ {r=$2} $1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; p=v} END {print r, p}' "$W/wrk.txt"
}

mkfifo "$W/ctl"; exec 3<>"$W/ctl"
"$SLUICE" kafka-mock --brokers 3 --partitions 4 <&3 >"$W/mock.out" 2>"$W/mock.err" & pids+=($!)
wait_for 30 grep -q : "$W/mock.out" || { echo "bench/kafka.sh: kafka-mock did not start" >&2; exit 1; }
BOOT=$(head -1 "$W/mock.out")

P=$(free_port)
"$SLUICE" serve --app apps/game.yaml --listen "127.0.0.1:$P" --bus "kafka://$BOOT/events" \
  >"$W/sk.out" 2>"$W/sk.err" & pids+=($!); SK=$!
wait_for 30 curl -fso /dev/null "http://127.0.0.1:$P/healthz" || { cat "$W/sk.err" >&2; exit 1; }
read -r K_RPS K_P99 < <(run_wrk "http://127.0.0.1:$P/purchase_a_sword")
kill "$SK"; wait "$SK" 2>/dev/null || true

P=$(free_port)
"$SLUICE" serve --app apps/game.yaml --listen "127.0.0.1:$P" --data-dir "$W/data" \
  >"$W/sl.out" 2>"$W/sl.err" & pids+=($!); SL=$!
wait_for 30 curl -fso /dev/null "http://127.0.0.1:$P/healthz" || { cat "$W/sl.err" >&2; exit 1; }
read -r L_RPS L_P99 < <(run_wrk "http://127.0.0.1:$P/purchase_a_sword")
kill "$SL"; wait "$SL" 2>/dev/null || true

# reading: the same events in a fresh Kafka topic and in a log topic
echo "topic bench 4 3" >&3
wait_for 10 grep -q '^ok$' "$W/mock.out"
python3 -c "
import json,sys
for i in range($NCONS):
    print(json.dumps({'event_type':'purchase_sword','event_id':'e%d'%i,'received_at':'2026-01-01T00:00:00.000Z','description':'large sword','strength':i%11,'Host':'127.0.0.1','User-Agent':'wrk'}))
" > "$W/events.ndjson"
"$SLUICE" produce --bus "kafka://$BOOT/bench" < "$W/events.ndjson" 2>/dev/null
"$SLUICE" produce --topic bench --data-dir "$W/data2" < "$W/events.ndjson" 2>/dev/null
t0=$(date +%s%N)
KN=$("$SLUICE" tail --bus "kafka://$BOOT/bench" --exit 2>/dev/null | wc -l)
t1=$(date +%s%N)
LN=$("$SLUICE" tail --topic bench --data-dir "$W/data2" --exit 2>/dev/null | wc -l)
t2=$(date +%s%N)
"$SLUICE" produce --topic events --data-dir "$W/data4" < "$W/events.ndjson" 2>/dev/null
# each stderr line of the Kafka stream with the microsecond it arrived: the time from the
# first partition assignment to "done" is the stream's own work, without the group join
ts_lines() { while IFS= read -r l; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$l"; done; }
t3=$(date +%s%N)
{ "$SLUICE" stream --app apps/game.yaml --data-dir "$W/data3" --bus "kafka://$BOOT/bench" \
    --once 2>&1 >/dev/null || echo "exit status $?"; } | ts_lines >"$W/ks.err"
t4=$(date +%s%N)
grep -q "exit status" "$W/ks.err" && { cat "$W/ks.err" >&2; exit 1; }
"$SLUICE" stream --app apps/game.yaml --data-dir "$W/data4" --once 2>"$W/ls.err" ||
  { cat "$W/ls.err" >&2; exit 1; }
t5=$(date +%s%N)
KS=$(grep -o 'done: [0-9]* events' "$W/ks.err" | awk '{print $2}')
LS=$(grep -o 'done: [0-9]* events' "$W/ls.err" | awk '{print $2}')
KS_EPS=$(awk -v n="$KS" -v ns=$((t4 - t3)) 'BEGIN {printf "%.0f", n / (ns / 1e9)}')
KS_US=$(awk '/ assigned/ && !a {a = $1} / done: / {d = $1} END {print d - a}' "$W/ks.err")
KS_RUN_EPS=$(awk -v n="$KS" -v us="$KS_US" 'BEGIN {printf "%.0f", n / (us / 1e6)}')
KS_JOIN_MS=$(( ($(awk '/ assigned/ {print $1; exit}' "$W/ks.err") - t3 / 1000) / 1000 ))
LS_EPS=$(awk -v n="$LS" -v ns=$((t5 - t4)) 'BEGIN {printf "%.0f", n / (ns / 1e9)}')
K_EPS=$(awk -v n="$KN" -v ns=$((t1 - t0)) 'BEGIN {printf "%.0f", n / (ns / 1e9)}')
L_EPS=$(awk -v n="$LN" -v ns=$((t2 - t1)) 'BEGIN {printf "%.0f", n / (ns / 1e9)}')

printf '%-44s %12s %10s\n' "collector (wrk -t$THREADS -c$CONNS -d${SECS}s)" "req/s" "p99 ms"
printf '%-44s %12s %10s\n' "serve --bus kafka (mock, 3 brokers)" "$K_RPS" "$K_P99"
printf '%-44s %12s %10s\n' "serve --bus log (fsync interval=1000)" "$L_RPS" "$L_P99"
awk -v k="$K_RPS" -v l="$L_RPS" 'BEGIN {printf "ratio kafka/log: %.2f\n", k / l}'
printf '%-44s %12s\n' "reading $NCONS events (incl. startup)" "events/s"
printf '%-44s %12s\n' "tail --bus kafka ($KN read)" "$K_EPS"
printf '%-44s %12s\n' "tail --bus log ($LN read)" "$L_EPS"
awk -v k="$K_EPS" -v l="$L_EPS" 'BEGIN {printf "ratio kafka/log: %.2f\n", k / l}'
printf '%-44s %12s\n' "stream --once --bus kafka ($KS events)" "$KS_EPS"
printf '%-44s %12s\n' "stream --once --bus log ($LS events)" "$LS_EPS"
awk -v k="$KS_EPS" -v l="$LS_EPS" 'BEGIN {printf "ratio kafka/log: %.2f\n", k / l}'
printf '%-44s %12s\n' "  kafka: group join (before the assignment)" "${KS_JOIN_MS} ms"
printf '%-44s %12s\n' "  kafka: assignment -> done" "$KS_RUN_EPS"
awk -v k="$KS_RUN_EPS" -v l="$LS_EPS" 'BEGIN {printf "ratio kafka (after the join)/log: %.2f\n", k / l}'
