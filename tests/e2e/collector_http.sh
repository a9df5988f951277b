#!/usr/bin/env bash
# HTTP/1.1 as the collector speaks it, sent byte for byte over raw sockets: request lines
# over 64 KiB get 414 however the line is split into writes.
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

stop_serve
echo ok
