#!/usr/bin/env bash
# Answers that end with the server's close, counted at once and exactly: a close-delimited
# HTTP/1.0 answer is a 200, a truncated answer, a lone 100 Continue and a reset are
# resets, junk is a bad_response; none waits for --timeout, even when the last bytes and
# the close arrive together (the server sends them in one segment). A request sent on a
# kept-alive connection that the server closed before answering is retried once on a new
# connection and counted as retried; only then (not after part of an answer, not on a
# fresh connection, not twice).
source tests/lib.sh
source tests/e2e/bench_nginx.inc   # json_get
cat > "$T/server.py" <<'PY'
# One thread per connection; what it does depends on the request's path:
#   /http10 /truncated /continue /garbage   that answer (below), sent with the FIN in one
#                                           segment (TCP_CORK, then close)
#   /rst      reset (SO_LINGER 0)           /never  close without answering
#   /keep     200, kept alive               /once   200 kept alive as the first request
#                                                   of its connection, else close unanswered
# Every request is logged to argv[1] as "path n" (n: its number on its connection).
import socket, struct, sys, threading
ANSWERS = {
    "/http10": b"HTTP/1.0 200 OK\r\nServer: t\r\n\r\nthe body ends where the connection does",
    "/truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab",
    "/continue": b"HTTP/1.1 100 Continue\r\n\r\n",
    "/garbage": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
}
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
log = open(sys.argv[1], "a", buffering=1)
lock = threading.Lock()
def serve(c):
    buf, n = b"", 0
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                c.close(); return
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        path = head.split(b" ")[1].decode()
        n += 1
        with lock:
            log.write(f"{path} {n}\n")
        if path == "/keep" or (path == "/once" and n == 1):
            c.sendall(OK); continue
        if path == "/rst":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif path in ANSWERS:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            c.sendall(ANSWERS[path])
        c.close(); return
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$T/server.py" "$T/seen.log" > "$T/port" &
_pids+=($!)
wait_until 10 test -s "$T/port" || fail "test server did not start"
URL=http://127.0.0.1:$(cat "$T/port")

# seen PATH — how many times the server received a request for PATH
seen() { grep -c "^$1 " "$T/seen.log" || true; }

# 1. answers that end with the close: exact counts, long before the 10 s timeout
cat > "$T/close.txt" <<'S'
8 GET /http10
5 GET /truncated
3 GET /continue
4 GET /rst
6 GET /garbage
S
"$SLUICE" bench --scenario "$T/close.txt" --url "$URL" -c 4 --timeout 10s --json > "$T/r.json" \
  || fail "bench exited $?"
python3 - "$T/r.json" <<'PY' || fail "answers ending with the close"
import json, sys
r = json.load(open(sys.argv[1]))
e = r["errors"]
print(f"  status {r['status']}, errors {e}, {r['elapsed_s']:.2f} s")
assert r["requests"] == 26 and r["answered"] == 8, r
assert r["status"] == {"200": 8}, r["status"]
assert e == {"connect": 0, "timeout": 0, "reset": 12, "bad_response": 6, "total": 18}, e
assert r["connections_opened"] == 26, r
assert r["elapsed_s"] < 3, r["elapsed_s"]   # nothing waited for the 10 s timeout
PY
echo ok
