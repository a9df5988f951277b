#!/usr/bin/env bash
# HTTP/1.1 as the collector speaks it, sent byte for byte over raw sockets: request lines
# over 64 KiB get 414 however the line is split into writes; a body over --max-body
# (by its Content-Length), a broken Content-Length, an unknown Transfer-Encoding or Expect
# get JSON answers from the guard, not h2o's plain text; an absolute-form request target
# (http://host/path) is served as its path; requests pipelined behind another get the
# same checks as the first of a connection; HEAD is answered with the
# headers GET would get and no body, and stores nothing; /healthz and /metrics answer 405
# with Allow to other methods, and every 405 lists what the path accepts; a spec route
# answering 204 sends no body or Content-Length (and a 1xx status is refused at load);
# the event holds the Host header as sent, and none when the client sent none; /metrics
# stays valid Prometheus text with a quote and a backslash in a route's path.
source tests/lib.sh
source tests/e2e/collector_lib.inc

start_serve apps/game.yaml
count() { events | wc -l; }

# ---- 414: a request line over 64 KiB, in one write and in pieces; nothing stored. Just
# under the limit, the same route is answered and stored.
python3 - "$T" "$PORT" <<'PY' || fail "414"
import sys; sys.path.insert(0, sys.argv[1]); import rawhttp
port = sys.argv[2]
def line(n):  # a request line of exactly n bytes (without CRLF)
    start, end = b"GET /declare_peace?pad=", b" HTTP/1.1"
    return start + b"a" * (n - len(start) - len(end)) + end
for n in (65536, 100000, 300000, 600000):
    req = line(n) + b"\r\nHost: x\r\nConnection: close\r\n\r\n"
    for pieces in (1, 3, 40):
        if n > 400000 and pieces == 40:
            continue
        r = rawhttp.request(port, req, pieces)
        want = 200 if n <= 65536 else 414
        assert r.status == want, (n, pieces, r.status, r.body)
        if want == 414:
            assert r.header("content-type") == "application/json" and b'"error"' in r.body, r.body
PY
expect_eq "stored: only the requests up to 64 KiB" "$(count)" 3

# ---- framing refused before h2o sees it: JSON answers, connection closed, nothing stored
python3 - "$T" "$PORT" <<'PY' || fail "framing errors"
import json, sys; sys.path.insert(0, sys.argv[1]); import rawhttp
post = b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
body = b'{"event_type":"framing"}'
cases = [
    (post + b"Content-Length: 2000000\r\n\r\n" + body, 413, "request body too large"),
    (post + b"Expect: 100-continue\r\nContent-Length: 1048577\r\n\r\n", 413, "--max-body 1048576"),
    (post + b"Content-Length: 12x\r\n\r\n" + body, 400, "invalid Content-Length"),
    (post + b"Content-Length: -1\r\n\r\n" + body, 400, "invalid Content-Length"),
    (post + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 400, "Transfer-Encoding"),
    (post + b"Expect: 200-ok\r\nContent-Length: %d\r\n\r\n" % len(body) + body, 417, "Expect"),
]
for req, status, msg in cases:
    c = rawhttp.Conn(sys.argv[2])
    c.send(req)
    r = c.response()
    assert r.status == status, (req[:120], r.status, r.body)
    assert r.header("content-type") == "application/json", (req[:120], r.headers)
    assert msg in json.loads(r.body)["error"], (req[:120], r.body)
    assert r.header("connection") == "close" and c.closed_by_server(), req[:120]
# a body within --max-body is stored
r = rawhttp.request(sys.argv[2], post + b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                    % len(body) + body)
assert r.status == 200, (r.status, r.body)
PY
expect_eq "framing errors stored nothing" "$(events | grep -c '"event_type":"framing"')" 1

# ---- pipelined behind a first request (in the same write), a request is checked as
# the first one would be: conflicting Content-Length, a body over --max-body, a request
# line over 64 KiB; a good one behind a chunked body is served
python3 - "$T" "$PORT" <<'PY' || fail "pipelined"
import sys; sys.path.insert(0, sys.argv[1]); import rawhttp
first = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
body = b'{"event_type":"piped"}'
for second, status in (
        (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nContent-Length: 80\r\n\r\n"
         % len(body) + body, 400),
        (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" + body, 413),
        (b"GET /declare_peace?who=piped&pad=" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414)):
    c = rawhttp.Conn(sys.argv[2])
    c.send(first + second)
    assert c.response().status == 200
    r = c.response()
    assert r.status == status and r.header("content-type") == "application/json", (status, r.status, r.body)
    assert c.closed_by_server()
c = rawhttp.Conn(sys.argv[2])
c.send(b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % len(body)
       + body + b"\r\n0\r\n\r\n" + first + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
assert [c.response().status for _ in range(3)] == [200, 200, 200]
PY
expect_eq "pipelined: only the chunked event stored" "$(events | grep -c '"event_type":"piped"')" 1

# ---- absolute-form request targets: served as their path, Host stored as sent
python3 - "$T" "$PORT" <<'PY' || fail "absolute-form"
import sys; sys.path.insert(0, sys.argv[1]); import rawhttp
for target in (b"http://example.com:5000/declare_peace?who=abs1",
               b"https://example.com/declare_peace?who=abs2"):
    r = rawhttp.request(sys.argv[2], b"GET " + target + b" HTTP/1.1\r\nHost: h.example\r\n"
                        b"Connection: close\r\n\r\n")
    assert r.status == 200 and r.body == b"Peace Declared!\n", (target, r.status, r.body)
PY
events | python3 -c '
import json, sys
evs = [e for e in map(json.loads, sys.stdin) if e.get("who", "").startswith("abs")]
assert [e["who"] for e in evs] == ["abs1", "abs2"], evs
assert all(e["Host"] == "h.example" and e["event_type"] == "declare_peace" for e in evs), evs
' || fail "absolute-form events"

# ---- HEAD and 405, all on one kept-alive connection (pipelined): an answer with a body
# where none belongs would be read as the start of the next answer
python3 - "$T" "$PORT" <<'PY' || fail "HEAD / 405"
import json, sys; sys.path.insert(0, sys.argv[1]); import rawhttp
reqs = [  # (request, is HEAD, status, Allow, content-type, body)
    ("HEAD /declare_peace", True, 200, None, "text/html; charset=utf-8", b""),
    ("GET /healthz", False, 200, None, "application/json", b'{"status":"ok"}\n'),
    ("HEAD /healthz", True, 200, None, "application/json", b""),
    ("HEAD /metrics", True, 200, None, "text/plain; version=0.0.4", b""),
    ("HEAD /events", True, 405, "POST", "application/json", b""),
    ("HEAD /nowhere", True, 404, None, "application/json", b""),
    ("POST /healthz", False, 405, "GET, HEAD", "application/json", None),
    ("DELETE /metrics", False, 405, "GET, HEAD", "application/json", None),
    ("DELETE /declare_peace", False, 405, "GET, HEAD", "application/json", None),
    ("GET /events", False, 405, "POST", "application/json", None),
    ("GET /declare_peace", False, 200, None, "text/html; charset=utf-8", b"Peace Declared!\n"),
]
c = rawhttp.Conn(sys.argv[2])
c.send(b"".join(b"%s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" % r[0].encode()
                for r in reqs))
for req, head, status, allow, ctype, body in reqs:
    r = c.response(head)
    assert r.status == status, (req, r.status, r.headers, r.body)
    assert r.header("allow") == allow, (req, r.headers)
    assert r.header("content-type") == ctype, (req, r.headers)
    assert r.header("connection") == "keep-alive", (req, r.headers)
    if body is not None:
        assert r.body == body, (req, r.body)
    else:
        assert "error" in json.loads(r.body), (req, r.body)
    if head and status == 200 and req != "HEAD /metrics":
        get = [x for x in reqs if x[0] == "GET" + req[4:]]
        if get:  # the Content-Length GET would have
            assert int(r.header("content-length")) == len(get[0][5]), (req, r.headers)
c.close()
PY
expect_eq "stored by HEAD and 405s: nothing (one GET only)" "$(events | grep -c declare_peace)" 6

stop_serve

# ---- a custom app: a 204 route (stored, no content), a 1xx route refused at load
cat > "$T/http.yaml" <<'YAML'
app: http_details
routes:
  - path: /beacon
    event_type: beacon
    status: 204
  - path: /hit
    event_type: hit
  - path: '/say"hi\there'
    event_type: quoted
YAML
printf 'app: t\nroutes:\n  - path: /x\n    status: 101\n' > "$T/interim.yaml"
rc=0; "$SLUICE" serve --app "$T/interim.yaml" --data-dir "$T/d-interim" 2>"$T/interim.err" || rc=$?
expect_eq "1xx status in a spec: exit" "$rc" 2
grep -q "interim.yaml:4: status 101 is an interim" "$T/interim.err" || fail "1xx message: $(cat "$T/interim.err")"

start_serve "$T/http.yaml"
python3 - "$T" "$PORT" <<'PY' || fail "204"
import sys; sys.path.insert(0, sys.argv[1]); import rawhttp
c = rawhttp.Conn(sys.argv[2])
c.send(b"GET /beacon HTTP/1.1\r\nHost: x\r\n\r\nHEAD /beacon HTTP/1.1\r\nHost: x\r\n\r\n"
       b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
for head in (False, True):
    r = c.response(head)
    assert r.status == 204 and r.header("content-length") is None, (r.status, r.headers)
    assert r.header("content-type") is None and r.header("connection") == "keep-alive", r.headers
r = c.response()
assert r.status == 200 and r.body == b'{"status":"ok"}\n', (r.status, r.body)
PY
expect_eq "204 route: stored once (GET, not HEAD)" "$(events | grep -c '"event_type":"beacon"')" 1

# ---- Host as sent: none (HTTP/1.0 without it), empty, and a name
python3 - "$T" "$PORT" <<'PY' || fail "Host requests"
import sys; sys.path.insert(0, sys.argv[1]); import rawhttp
for req in (b"GET /hit?case=none HTTP/1.0\r\n\r\n",
            b"GET /hit?case=empty HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n",
            b"GET /hit?case=named HTTP/1.1\r\nHost: Knight1.example:81\r\nConnection: close\r\n\r\n"):
    assert rawhttp.request(sys.argv[2], req).status == 200, req
PY
events | python3 -c '
import json, sys
evs = {e["case"]: e for e in map(json.loads, sys.stdin) if e["event_type"] == "hit"}
assert "Host" not in evs["none"], evs["none"]
assert evs["empty"]["Host"] == "", evs["empty"]
assert evs["named"]["Host"] == "Knight1.example:81", evs["named"]
' || fail "Host in the events"
# ---- /metrics with a quote and a backslash in a route path: label values escaped
python3 - "$T" "$PORT" <<'PY' || fail "metrics text"
import re, sys; sys.path.insert(0, sys.argv[1]); import rawhttp
port = sys.argv[2]
r = rawhttp.request(port, b'GET /say"hi\\there HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
assert r.status == 200, (r.status, r.body)
r = rawhttp.request(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
text = r.body.decode()
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\[\\"n]|[^"\\\n])*"'
sample = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{%s(?:,%s)*\})? \S+' % (label, label))
for line in text.splitlines():
    assert line.startswith("# ") or sample.fullmatch(line), "not Prometheus text: %r" % line
want = 'sluice_http_requests_total{route="/say\\"hi\\\\there",status="200"} 1'
assert want in text.splitlines(), (want, text)
PY
stop_serve
echo ok
