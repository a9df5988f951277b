#!/usr/bin/env bash
# bench/auth.sh [SLUICE] — the cost of write keys on ingestion, against its reference in
# the same run: `sluice serve` (release build) with no keys (the reference), with one key,
# and with 100,000 keys from a keys file (every request is checked against all of them:
# SHA-256 of the presented key, then a constant-time compare with each digest).
# Same wrk load for each: keep-alive, -t2 -c64 -d10s, GET /purchase_a_sword with
# "Authorization: Bearer KEY". Prints req/s, p99 and the ratio to the reference.
#   BENCH_SECONDS (default 10), BENCH_CONNS (64), BENCH_THREADS (2).
# The machine may be shared: numbers are indicative.
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE=${1:-build/sluice}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-2}
command -v wrk >/dev/null || { echo "bench/auth.sh: wrk is not installed" >&2; exit 1; }
[ -x "$SLUICE" ] || { echo "bench/auth.sh: build $SLUICE first (make)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-auth-XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
KEY=bench-key-099999
seq -f "bench-key-%06g" 0 99999 > "$W/keys"

run() { # label, serve flags... -> prints "RPS P99"
  local port; port=$(free_port)
  "$SLUICE" serve --app apps/game.yaml --listen "127.0.0.1:$port" --data-dir "$W/data-$1" \
    "${@:2}" >/dev/null 2>"$W/serve.err" &
  pid=$!
  for _ in $(seq 500); do curl -fso /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" && break; sleep 0.02; done
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -H "Authorization: Bearer $KEY" \
    "http://127.0.0.1:$port/purchase_a_sword" > "$W/wrk.txt"
  grep -q "Non-2xx" "$W/wrk.txt" && { echo "bench/auth.sh: $1: $(grep Non-2xx "$W/wrk.txt")" >&2; exit 1; }
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  awk '/^Requests\/sec:/ {r=$2} $1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; p=v} END {print r, p}' "$W/wrk.txt"
}
read -r r0 p0 < <(run none)
read -r r1 p1 < <(run one --write-key "$KEY")
read -r r2 p2 < <(run many --write-keys-file "$W/keys")
printf '%-28s %12s %10s %8s\n' "collector" "req/s" "p99 ms" "ratio"
printf '%-28s %12.0f %10.2f %8s\n' "no write keys (reference)" "$r0" "$p0" "1.00"
printf '%-28s %12.0f %10.2f %8.2f\n' "1 write key" "$r1" "$p1" "$(echo "$r1 / $r0" | bc -l)"
printf '%-28s %12.0f %10.2f %8.2f\n' "100000 write keys" "$r2" "$p2" "$(echo "$r2 / $r0" | bc -l)"
