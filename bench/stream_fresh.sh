#!/usr/bin/env bash
# bench/stream_fresh.sh — freshness: the collector takes RATE events/s (default 10000) of
# the game workload for DURATION (default 10s) while `sluice stream --trigger 1s` runs;
# then the p99 time from received_at to the event being in a committed file (goal 1.5 s).
#   bash bench/stream_fresh.sh      (BUILD=build RATE=10000 DURATION=10s TRIGGER=1s)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}; RATE=${RATE:-10000}; DURATION=${DURATION:-10s}; TRIGGER=${TRIGGER:-1s}
make -s BUILD="$BUILD" "$BUILD/sluice" "$BUILD/bench/stream_fresh" >/dev/null
W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-fresh-XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait; rm -rf "$W"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$BUILD/sluice" serve --app apps/game.yaml --listen "127.0.0.1:$PORT" --data-dir "$W/data" 2>"$W/serve.err" &
pids+=($!)
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null && break; sleep 0.05; done
"$BUILD/sluice" stream --app apps/game.yaml --data-dir "$W/data" --trigger "$TRIGGER" 2>"$W/stream.err" &
spid=$!; pids+=($spid)
"$BUILD/sluice" bench --scenario bench/scenarios/game.txt --url "http://127.0.0.1:$PORT" \
  --rate "$RATE" --duration "$DURATION" --no-progress 2>&1 | tail -n 6
# Let the stream commit what was acknowledged: wait until the checkpoint stops moving.
prev=-1
for _ in $(seq 100); do
  cur=$(sed -n 's/^next //p' "$W/data/stream/stream.checkpoint" 2>/dev/null || echo 0)
  [ "$cur" = "$prev" ] && break
  prev=$cur; sleep 1.5
done
kill -TERM "$spid"; wait "$spid" || true
echo "stream: $(grep -c '^stream: batch' "$W/stream.err") batches, checkpoint at $prev"
"$BUILD/bench/stream_fresh" "$W/data" events
