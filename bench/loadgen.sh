#!/usr/bin/env bash
# bench/loadgen.sh — how hard does `sluice bench` drive a server, next to wrk and ab?
#
# 1. nginx (Debian's) answering a fixed 200 "ok" on a free loopback port; in the same run
#    wrk, ab -k (keep-alive, like wrk and sluice), ab (a new connection per request) and
#    `sluice bench` (release build) with the same concurrency and duration. Prints req/s
#    of each and sluice's ratio to each. Goal: sluice bench >= 1.0 x wrk.
# 2. The restaurant scenario end to end: `sluice serve` + `sluice stream`, then
#    `sluice bench --verify`: 42,452 requests until the last row is queryable. Goal: < 3 s.
#
# Usage: bash bench/loadgen.sh [SLUICE_BINARY]      (default build/sluice)
# Env: BENCH_SECONDS (default 5), BENCH_CONNS (default 64), BENCH_THREADS (default: cores),
#      BENCH_E2E=0 to skip part 2. The machine may be shared: numbers are noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${SLUICE_RELEASE:-build/sluice}}
[ -x "$BIN" ] || { echo "no $BIN: run make first" >&2; exit 1; }
SLUICE=$BIN
source tests/lib.sh
source tests/e2e/bench_nginx.inc
secs=${BENCH_SECONDS:-5}
conns=${BENCH_CONNS:-64}
threads=${BENCH_THREADS:-$(nproc)}
for tool in wrk ab nginx; do
  command -v $tool >/dev/null || { echo "missing $tool (apt-get install wrk apache2-utils nginx-light)" >&2; exit 1; }
done

NGINX_WORKERS=1 start_nginx
URL=http://127.0.0.1:$NGINX_PORT/ok
echo "nginx: 1 worker on 127.0.0.1:$NGINX_PORT; every client: $conns connections, ${secs}s"
echo "1 GET /ok" > "$T/ok.txt"

wrk_rps=$(wrk -t "$threads" -c "$conns" -d "${secs}s" "$URL" | awk '/^Requests\/sec:/ {print $2}')
abk_rps=$(ab -q -k -c "$conns" -t "$secs" -n 100000000 "$URL" 2>/dev/null | awk '/^Requests per second:/ {print $4}')
ab_rps=$(ab -q -c "$conns" -t "$secs" -n 100000000 "$URL" 2>/dev/null | awk '/^Requests per second:/ {print $4}')
"$BIN" bench --scenario "$T/ok.txt" --url "http://127.0.0.1:$NGINX_PORT" -c "$conns" \
  --threads "$threads" --duration "${secs}s" --json --no-progress > "$T/sl.json"
sl_rps=$(json_get "$T/sl.json" '["req_per_s"]')
"$BIN" bench --scenario "$T/ok.txt" --url "http://127.0.0.1:$NGINX_PORT" -c "$conns" \
  --threads "$threads" --duration "${secs}s" --no-keepalive --json --no-progress > "$T/sl_nk.json"
sl_nk_rps=$(json_get "$T/sl_nk.json" '["req_per_s"]')

python3 - "$wrk_rps" "$abk_rps" "$ab_rps" "$sl_rps" "$sl_nk_rps" "$T/sl.json" <<'PY'
import json, sys
wrk, abk, ab, sl, slnk = (float(x or 0) for x in sys.argv[1:6])
r = json.load(open(sys.argv[6]))
lat = r["latency_us"]
print(f"  {'wrk':<28}{wrk:>12,.0f} req/s")
print(f"  {'ab -k':<28}{abk:>12,.0f} req/s")
print(f"  {'ab (no keep-alive)':<28}{ab:>12,.0f} req/s")
print(f"  {'sluice bench':<28}{sl:>12,.0f} req/s   p50 {lat['p50']} us, p99 {lat['p99']} us, "
      f"errors {r['errors']['total']}")
print(f"  {'sluice bench --no-keepalive':<28}{slnk:>12,.0f} req/s")
def ratio(a, b): return f"{a / b:.2f}x" if b else "n/a"
print(f"ratios: sluice/wrk {ratio(sl, wrk)}   sluice/ab -k {ratio(sl, abk)}   "
      f"sluice --no-keepalive/ab {ratio(slnk, ab)}   (goal: sluice/wrk >= 1.00)")
PY
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true

[ "${BENCH_E2E:-1}" = 1 ] || exit 0
echo
echo "restaurant scenario end to end (serve + stream + bench --verify), 42,452 requests:"
port=$(free_port)
D=$T/data
bg "$BIN" serve --app apps/restaurant.yaml --listen "127.0.0.1:$port" --data-dir "$D"
wait_until 20 http_ok "http://127.0.0.1:$port/healthz" || fail "serve did not start"
bg "$BIN" stream --app apps/restaurant.yaml --data-dir "$D" --trigger 100ms --quiet
"$BIN" bench --scenario bench/scenarios/restaurant.txt --url "http://127.0.0.1:$port" \
  -c "$conns" --verify --data-dir "$D" --json --no-progress > "$T/e2e.json"
python3 - "$T/e2e.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); v = r["verify"]
print(f"  sent {r['requests']}, 2xx {r['status_2xx']}, {r['req_per_s']:,.0f} req/s; "
      f"rows {v['rows_seen']} (expected {v['rows_expected']}), ok={v['ok']}")
print(f"  first request -> last row queryable: {v['end_to_end_s']:.3f} s "
      f"(goal < 3 s; the seeds' stack: about 5 minutes)")
PY
