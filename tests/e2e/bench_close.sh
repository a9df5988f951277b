#!/usr/bin/env bash
# Answers that end with the server's close, counted at once and exactly: a close-delimited
# HTTP/1.0 answer is a 200, a truncated answer, a lone 100 Continue and a reset are
# resets, junk is a bad_response; none waits for --timeout, even when the last bytes and
# the close arrive together (the server sends them in one segment). A request sent on a
# kept-alive connection that the server closed before answering is retried once on a new
# connection and counted as retried; only then (not after part of an answer, not on a
# fresh connection, not twice).
source tests/lib.sh
source tests/e2e/bench_nginx.inc   # start_py_server, json_get
cat > "$T/server.py" <<'PY'
# serve(c), on a thread per connection: what it does depends on the request's path:
#   /http10 /truncated /continue /garbage   that answer (below), sent with the FIN in one
#                                           segment (TCP_CORK, then close)
#   /rst      reset (SO_LINGER 0)           /never  close without answering
#   /keep     200, kept alive               /once   200 kept alive as the first request
#                                                   of its connection, else close unanswered
#   /closes   200 with a Content-Length (no Connection: close), then close
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
        if path == "/closes":
            c.sendall(OK)
        elif path == "/rst":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif path in ANSWERS:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            c.sendall(ANSWERS[path])
        c.close(); return
PY
start_py_server "$T/server.py" "$T/seen.log"
URL=$PY_URL

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

# 2. a server that closes a kept-alive connection when the next request comes, without
#    answering it (nor saying Connection: close): each such request is sent again, once,
#    on a new connection, and answered there. 2 connections' first requests need no retry.
"$SLUICE" bench --scenario <(echo "50 GET /once") --url "$URL" -c 2 --threads 2 --json \
  > "$T/r.json" || fail "bench exited $?"
python3 - "$T/r.json" <<'PY' || fail "retries after the server closed a kept-alive connection"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  status {r['status']}, errors {r['errors']}, retried {r.get('retried')}")
assert r["requests"] == 50 and r["status"] == {"200": 50}, r
assert r["errors"]["total"] == 0, r["errors"]
assert r["retried"] == 48 and r["connections_opened"] == 50, r
PY
expect_eq "/once requests the server saw (50 answered, 48 closed unanswered)" "$(seen /once)" 98
# the same race as it happens with a server that closes after every answer: the FIN comes
# before the next request is sent (then that request goes on a new connection) or after
"$SLUICE" bench --scenario <(echo "200 GET /closes") --url "$URL" -c 2 --threads 2 --json \
  > "$T/r.json" || fail "bench exited $?"
python3 - "$T/r.json" <<'PY' || fail "a server that closes after every answer"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  status {r['status']}, errors {r['errors']}, retried {r['retried']}")
assert r["status"] == {"200": 200} and r["errors"]["total"] == 0, r
PY
# (the server never read a request it had not answered: none came to it twice)
expect_eq "/closes requests the server saw" "$(seen /closes)" 200

# 3. only then: a retried request that fails again is a reset (no second retry); part of
#    an answer before the close is a reset (no retry); so is a close on a new connection
printf '1 GET /keep\n1 GET /never\n1 GET /keep\n1 GET /truncated\n1 GET /never\n' > "$T/once.txt"
"$SLUICE" bench --scenario "$T/once.txt" --url "$URL" -c 1 --threads 1 --order sequential \
  --json > "$T/r.json" || fail "bench exited $?"
python3 - "$T/r.json" <<'PY' || fail "retry only when no byte of the answer came"
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  status {r['status']}, errors {r['errors']}, retried {r.get('retried')}")
assert r["status"] == {"200": 2}, r["status"]
assert r["errors"]["reset"] == 3 and r["errors"]["total"] == 3, r["errors"]
assert r["retried"] == 1 and r["connections_opened"] == 4, r
PY
expect_eq "/never requests the server saw (sent, retried once; then once on a new connection)" \
  "$(seen /never)" 3
expect_eq "/truncated requests the server saw" "$(seen /truncated)" 6
echo ok
