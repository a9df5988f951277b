#!/usr/bin/env bash
# --rate is an open loop: over a few seconds the answered requests hold the asked rate
# within 5%, and a fixed-count run at a rate takes count/rate seconds.
# BENCH_RATE_SECONDS (default 3) and BENCH_RATE (default 400 req/s) size the run.
source tests/lib.sh
source tests/e2e/bench_nginx.inc
start_nginx
URL=http://127.0.0.1:$NGINX_PORT
secs=${BENCH_RATE_SECONDS:-3}
rate=${BENCH_RATE:-400}
printf '9 GET /ok\n1 GET /missing\n' > "$T/s.txt"

"$SLUICE" bench --scenario "$T/s.txt" --url "$URL" -c 16 --rate "$rate" --duration "${secs}s" \
  --json > "$T/r.json" || fail "rate run exited $?"
python3 - "$T/r.json" "$rate" "$secs" <<'PY' || fail "rate not held"
import json, sys
r = json.load(open(sys.argv[1])); rate = float(sys.argv[2]); secs = float(sys.argv[3])
got = r["answered"] / r["elapsed_s"]
print(f"  asked {rate:.0f} req/s, got {got:.1f} req/s over {r['elapsed_s']:.2f} s, "
      f"p99 {r['latency_us']['p99']} us")
assert r["mode"] == "open", r["mode"]
assert r["errors"]["total"] == 0, r["errors"]
assert abs(got - rate) <= 0.05 * rate, (got, rate)
PY

# a fixed count at a fixed rate: 200 requests at 400/s take about half a second
"$SLUICE" bench --scenario <(echo "200 GET /ok") --url "$URL" -c 8 --rate 400 --json > "$T/r.json" \
  || fail "fixed-count rate run"
python3 - "$T/r.json" <<'PY' || fail "fixed-count rate run timing"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["answered"] == 200 and r["status"]["200"] == 200, r
assert 0.45 <= r["elapsed_s"] <= 1.0, r["elapsed_s"]   # 199 intervals of 2.5 ms; loose top for a busy machine
PY
echo ok
