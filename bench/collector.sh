#!/usr/bin/env bash
# bench/collector.sh [SLUICE] — the collector against its reference, in one run:
#   nginx (Debian package) answering a fixed 200 from memory, worker_processes 2, no
#   access log; and `sluice serve --app apps/game.yaml` (release build) storing every
#   request as an event, first with the default durability (--fsync interval=1000), then
#   with --fsync always (every 200 waits for fdatasync; group commit).
# Each gets the same wrk load: keep-alive, -t2 -c64 -d10s, GET /purchase_a_sword.
# Prints req/s of each, the ratio sluice/nginx and p99 latency.
#   BENCH_SECONDS (default 10), BENCH_CONNS (64), BENCH_THREADS (2).
# The machine may be shared: numbers are indicative; run it twice before believing one.
set -euo pipefail
cd "$(dirname "$0")/.."
SLUICE=${1:-build/sluice}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-2}
command -v wrk >/dev/null || { echo "bench/collector.sh: wrk is not installed" >&2; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "bench/collector.sh: nginx is not installed" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$SLUICE" ] || { echo "bench/collector.sh: build $SLUICE first (make)" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/sluice-bench-collector-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { # url
  for _ in $(seq 500); do curl -fso /dev/null --max-time 1 "$1" && return 0; sleep 0.02; done
  echo "bench/collector.sh: $1 did not come up" >&2; return 1
}
# run_wrk URL -> "REQ_PER_SEC P99" (p99 in ms)
run_wrk() {
  wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$1" > "$W/wrk.txt"
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$W/wrk.txt")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' "$W/wrk.txt")
  if grep -q "Non-2xx" "$W/wrk.txt"; then echo "bench/collector.sh: non-2xx answers: $(grep Non-2xx "$W/wrk.txt")" >&2; fi
  echo "$rps $p99"
}

# ---- nginx: fixed 200 from memory
NPORT=$(free_port)
mkdir -p "$W/nginx"
cat > "$W/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $W/nginx/body;
  proxy_temp_path $W/nginx/proxy;
  fastcgi_temp_path $W/nginx/fastcgi;
  uwsgi_temp_path $W/nginx/uwsgi;
  scgi_temp_path $W/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NPORT reuseport;
    location / { default_type text/html; return 200 "Sword Purchased!\n"; }
  }
}
EOF
"$NGINX" -p "$W/nginx" -c "$W/nginx/nginx.conf" 2>"$W/nginx/stderr" &
pids+=($!)
wait_http "http://127.0.0.1:$NPORT/purchase_a_sword"
read -r nginx_rps nginx_p99 < <(run_wrk "http://127.0.0.1:$NPORT/purchase_a_sword")
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# ---- sluice serve, default durability then --fsync always
bench_sluice() { # fsync-mode -> "RPS P99 EVENTS"
  local port data
  port=$(free_port)
  data="$W/data-$1"
  "$SLUICE" serve --app apps/game.yaml --listen "127.0.0.1:$port" --data-dir "$data" --fsync "$1" \
    >"$W/serve-$1.out" 2>"$W/serve-$1.err" &
  local pid=$!
  pids+=($pid)
  wait_http "http://127.0.0.1:$port/healthz"
  local r
  r=$(run_wrk "http://127.0.0.1:$port/purchase_a_sword")
  local stored
  stored=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^sluice_events_stored_total/ {print $2}')
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "$r $stored"
}
read -r s_rps s_p99 s_events < <(bench_sluice interval=1000)
read -r a_rps a_p99 a_events < <(bench_sluice always)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf '\ncollector benchmark: wrk -t%s -c%s -d%ss --latency GET /purchase_a_sword (keep-alive), %s cores\n' \
  "$THREADS" "$CONNS" "$SECS" "$(nproc)"
printf '%-36s %12s %10s %12s\n' "server" "req/s" "p99 ms" "vs nginx"
printf '%-36s %12.0f %10s %12s\n' "nginx (fixed 200, 2 workers)" "$nginx_rps" "$nginx_p99" "1.00"
printf '%-36s %12.0f %10s %12s\n' "sluice serve (fsync interval=1000)" "$s_rps" "$s_p99" "$(ratio "$s_rps" "$nginx_rps")"
printf '%-36s %12.0f %10s %12s\n' "sluice serve (fsync always)" "$a_rps" "$a_p99" "$(ratio "$a_rps" "$nginx_rps")"
printf 'events stored: %s (interval), %s (always) — every 200 is an event in the log\n' "$s_events" "$a_events"
printf 'goal: sluice (default durability) >= 0.90 x nginx: %s\n' \
  "$(awk -v a="$s_rps" -v b="$nginx_rps" 'BEGIN { print (a >= 0.9 * b) ? "met" : "NOT met" }')"
