#!/usr/bin/env bash
# Failed connections are counted, not fatal: nothing listening (connect errors, exact
# count), a server that is killed in the middle of a run (errors counted, the run ends
# normally), a server that never answers (timeouts), too few file descriptors (connect
# errors, and a hint to raise ulimit -n). Scenario mistakes name file:line and exit 2, as
# does a missing scenario file; bad options exit 2.
source tests/lib.sh
source tests/e2e/bench_nginx.inc
printf '30 GET /ok\n' > "$T/s.txt"

# 1. nothing listens on the port: every request is a connect error, exit 0
port=$(free_port)
"$SLUICE" bench --scenario "$T/s.txt" --url "http://127.0.0.1:$port" -c 4 --json > "$T/r.json" \
  || fail "run against a closed port exited $?"
expect_eq "requests" "$(json_get "$T/r.json" '["requests"]')" 30
expect_eq "connect errors" "$(json_get "$T/r.json" '["errors"]["connect"]')" 30
expect_eq "answered" "$(json_get "$T/r.json" '["answered"]')" 0

# 2. the server dies mid-run: the run goes on, counts what failed, and exits 0
NGINX_ACCESS_LOG=1 start_nginx
"$SLUICE" bench --scenario "$T/s.txt" --url "http://127.0.0.1:$NGINX_PORT" -c 4 --rate 200 \
  --duration 3s --timeout 1s --json > "$T/killed.json" &
bench_pid=$!
wait_until 10 grep -q sluice-bench "$T/nginx/access.log" || fail "no request reached nginx"
kill "$NGINX_PID"
wait "$bench_pid" || fail "bench exited $? after the server died"
python3 - "$T/killed.json" <<'PY' || fail "server-killed counts"
import json, sys
r = json.load(open(sys.argv[1]))
e = r["errors"]
print(f"  answered {r['answered']}, errors {e}")
assert r["answered"] > 0, r
assert e["connect"] > 0, e
assert r["requests"] == r["answered"] + e["total"] + r["unfinished"], r
PY

# 3. a server that accepts but never answers: timeouts
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' > "$T/silent.port" &
_pids+=($!)
wait_until 10 test -s "$T/silent.port" || fail "silent server did not start"
sport=$(cat "$T/silent.port")
printf '6 GET /ok\n' > "$T/six.txt"
"$SLUICE" bench --scenario "$T/six.txt" --url "http://127.0.0.1:$sport" -c 3 --timeout 200ms \
  --json > "$T/r.json" || fail "timeout run exited $?"
expect_eq "timeouts" "$(json_get "$T/r.json" '["errors"]["timeout"]')" 6

# 3b. more connections than file descriptors: the run goes on (connect errors, the rest
#     answered) and stderr says which limit to raise
port=$(free_port)
bg python3 -m http.server --bind 127.0.0.1 "$port" --directory "$T" 2> /dev/null
wait_until 10 http_ok "http://127.0.0.1:$port/s.txt" || fail "http.server did not start"
printf '200 GET /s.txt\n' > "$T/fds.txt"
( ulimit -n 48; exec "$SLUICE" bench --scenario "$T/fds.txt" --url "http://127.0.0.1:$port" \
    -c 80 --threads 1 --json > "$T/r.json" 2> "$T/err.txt" ) || fail "run short of fds exited $?"
python3 - "$T/r.json" <<'PY' || fail "counts when file descriptors run out"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  answered {r['answered']}, errors {r['errors']}")
assert r["errors"]["connect"] > 0 and r["answered"] > 0, r
assert r["answered"] + r["errors"]["total"] == 200, r
PY
grep -q "connects failed for want of a file descriptor .*ulimit -n, now 48" "$T/err.txt" \
  || fail "no ulimit hint: $(cat "$T/err.txt")"

# 4. scenario mistakes: file:line: problem, exit 2
printf '# header\n10 GET /ok\n\n5 GET ok\n' > "$T/bad.txt"
set +e
"$SLUICE" bench --scenario "$T/bad.txt" --url http://127.0.0.1:1 2> "$T/err.txt"; rc=$?
set -e
expect_eq "exit status for a bad scenario" "$rc" 2
grep -q "^sluice bench: $T/bad.txt:4: request path must start with '/'" "$T/err.txt" \
  || { cat "$T/err.txt"; fail "message for a bad scenario"; }
set +e
"$SLUICE" bench --scenario "$T/nope.txt" 2> "$T/err.txt"; rc=$?
set -e
expect_eq "exit status for a missing scenario" "$rc" 2
grep -q "nope.txt: No such file" "$T/err.txt" || fail "message for a missing file"

# 5. usage errors exit 2; --help exits 0
for args in "--bogus" "--scenario $T/s.txt -c 0" "--scenario $T/s.txt --url https://x" \
            "--scenario $T/s.txt --url http://h/path" "--scenario $T/s.txt --order random" \
            "--scenario $T/s.txt --rate -5" "--scenario $T/s.txt --sched fifo" "" ; do
  set +e
  "$SLUICE" bench $args > /dev/null 2> "$T/err.txt"; rc=$?
  set -e
  expect_eq "exit status for '$args'" "$rc" 2
  grep -q "Try 'sluice bench --help'" "$T/err.txt" || fail "usage hint for '$args'"
done
set +e
"$SLUICE" bench --scenario "$T/s.txt" --rate 1e9 2> "$T/err.txt"; rc=$?
set -e
expect_eq "exit status for --rate 1e9" "$rc" 2
grep -q "at most 100000000, not '1e9'" "$T/err.txt" || fail "--rate 1e9 names no maximum: $(cat "$T/err.txt")"
"$SLUICE" bench --help | grep -q -- "--scenario FILE" || fail "--help"
echo ok
