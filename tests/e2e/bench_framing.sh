#!/usr/bin/env bash
# Answers that arrive in pieces are framed right: a server that trickles its answers a few
# bytes at a time (a 100 Continue first, then headers and body; chunked; bare-LF header
# lines), on kept-alive connections. Every request gets its status, nothing is counted as
# an error, and no connection is opened twice. Also: closed-loop workers run as
# SCHED_BATCH threads, exactly --threads of them, and --rate ones do not.
source tests/lib.sh
source tests/e2e/bench_nginx.inc
cat > "$T/server.py" <<'PY'
import itertools, socket, time
served = itertools.count()   # answers rotate over all connections: 30 requests, 10 each
answers = [
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nServer: trickle\r\n"
    b"Content-Length: 11\r\n\r\nhello world",
    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n",
    b"HTTP/1.1 202 Accepted\nContent-Length: 2\n\nok",
]
def serve(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(4096)
            if not d:
                return
            buf += d
        buf = buf.split(b"\r\n\r\n", 1)[1]
        a = answers[next(served) % len(answers)]
        for i in range(0, len(a), 7):          # 7-byte pieces, each its own segment
            c.sendall(a[i:i + 7])
            time.sleep(0.0005)
PY
start_py_server "$T/server.py"
"$SLUICE" bench --scenario <(echo "30 GET /x") --url "$PY_URL" -c 3 --threads 1 \
  --order sequential --json > "$T/r.json" || fail "bench exited $?"
python3 - "$T/r.json" <<'PY' || fail "trickled answers"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  status {r['status']}, errors {r['errors']['total']}, connections {r['connections_opened']}")
assert r["answered"] == 30 and r["errors"]["total"] == 0, r
assert r["status"] == {"200": 10, "201": 10, "202": 10}, r["status"]
assert r["connections_opened"] == 3, r
PY

# scheduling policy of the worker threads: /proc/PID/task/*/stat field 41 (3 = SCHED_BATCH)
start_nginx
batch_threads() { # PID -> number of its SCHED_BATCH threads
  local n=0 t
  for t in /proc/$1/task/*/stat; do
    [ "$(sed 's/.*) //' "$t" 2>/dev/null | awk '{print $39}')" = 3 ] && n=$((n + 1))
  done
  echo $n
}
at_least_batch() { [ "$(batch_threads "$1")" -ge "$2" ]; }
task_count_at_least() { [ "$(ls "/proc/$1/task" | wc -l)" -ge "$2" ]; }
"$SLUICE" bench --scenario <(echo "1 GET /ok") --url "http://127.0.0.1:$NGINX_PORT" -c 6 \
  --threads 3 --duration 20s --no-progress > /dev/null &
pid=$!
_pids+=($pid)
wait_until 10 at_least_batch $pid 3 || fail "no SCHED_BATCH workers"
# (the count only ever grows to 3: workers set their policy once, first thing)
expect_eq "SCHED_BATCH threads with --threads 3" "$(batch_threads $pid)" 3
kill -INT $pid; wait $pid || true
"$SLUICE" bench --scenario <(echo "1 GET /ok") --url "http://127.0.0.1:$NGINX_PORT" -c 2 \
  --threads 2 --rate 200 --duration 20s --no-progress --json > "$T/rate.json" &
pid=$!
_pids+=($pid)
wait_until 10 task_count_at_least $pid 3 || fail "rate run has no workers"
expect_eq "SCHED_BATCH threads with --rate" "$(batch_threads $pid)" 0
kill -INT $pid; wait $pid || true
expect_eq "sched in the --rate report" "$(json_get "$T/rate.json" '["sched"]')" normal
echo ok
