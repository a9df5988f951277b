#!/usr/bin/env bash
# Graceful shutdown (SIGTERM) finishes what is under way and nothing else: a request whose
# body, or whose head, was half sent when the signal came is read to its end, stored and
# answered (Connection: close); an idle keep-alive connection and a connection that has
# sent nothing are closed at once; new connections are refused; the process exits 0.
source tests/lib.sh
source tests/e2e/collector_lib.inc

"$SLUICE" serve --help | grep -q "SIGTERM or SIGINT drains" || fail "--help does not say how SIGTERM drains"
start_serve apps/game.yaml
python3 - "$T" "$PORT" "$SERVE_PID" "$T/serve-$PORT.err" <<'PY' || fail "drain"
import os, signal, socket, sys, time
sys.path.insert(0, sys.argv[1]); import rawhttp
port, pid, errfile = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def until(what, cond, secs=10):
    deadline = time.time() + secs
    while not cond():
        if time.time() > deadline:
            raise SystemExit("timed out waiting for " + what)
        time.sleep(0.02)

def server_read_all(conn):
    """The server side of conn has no unread bytes in the kernel (it read what was sent)."""
    cport = conn.s.getsockname()[1]
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == port and int(f[2].split(":")[1], 16) == cport:
            return int(f[4].split(":")[1], 16) == 0
    return False

body = b'[{"event_type":"drain_body","n":1},{"event_type":"drain_body","n":2}]'
half_body = rawhttp.Conn(port)
half_body.send(b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body[:20])
half_head = rawhttp.Conn(port)
half_head.send(b"GET /declare_peace?who=drain_head HTTP/1.1\r\nHost: x\r\n")
idle = rawhttp.Conn(port)
idle.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
assert idle.response().status == 200
silent = rawhttp.Conn(port)
for c in (half_body, half_head, idle, silent):
    until("the server to read what was sent", lambda: server_read_all(c))

os.kill(pid, signal.SIGTERM)
until("the drain", lambda: b"draining" in open(errfile, "rb").read())
assert idle.closed_by_server(), "idle keep-alive connection not closed"
assert silent.closed_by_server(), "silent connection not closed"
def refused():
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True
until("new connections to be refused", refused)

half_body.send(body[20:])
r = half_body.response()
assert r.status == 200 and r.body == b'{"stored":2}\n', (r.status, r.body)
assert r.header("connection") == "close", r.headers
assert half_body.closed_by_server()
half_head.send(b"User-Agent: drain-test\r\n\r\n")
r = half_head.response()
assert r.status == 200 and r.header("connection") == "close", (r.status, r.headers)
assert half_head.closed_by_server()
PY
rc=0; wait "$SERVE_PID" || rc=$?
expect_eq "exit status after the drain" "$rc" 0
events > "$T/ev.ndjson"
expect_eq "the half-sent body's events stored" "$(grep -c '"event_type":"drain_body"' "$T/ev.ndjson")" 2
expect_eq "the half-sent head's event stored" "$(grep -c '"who":"drain_head"' "$T/ev.ndjson")" 1
echo ok
