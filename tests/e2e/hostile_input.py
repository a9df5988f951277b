#!/usr/bin/env python3
"""Hostile input against a running `sluice serve` (driven by hostile_input.sh).

usage: hostile_input.py PORT SERVER_PID ROUNDS TIMEOUT_S OUT_DIR

Each round sends every hostile request of CASES over a raw socket and checks the answer
against the status documented in docs/operations.md ("close": the server closes the
connection without an answer). Between cases it sends a good event (POST /events with a
client event_id "good-R-N") and checks /healthz, so a case that breaks the server or
poisons the connection is caught where it happens. Slow clients (a byte per second in the
headers and in the body) run in threads while the round goes on.

Writes OUT_DIR/good.txt (client ids answered 2xx), OUT_DIR/accepted.txt (client ids of
hostile-looking but valid events that are documented as stored), OUT_DIR/rss.txt (VmRSS
in KiB after each round). Exits non-zero with a message on the first wrong answer.
"""
import http.client
import json
import socket
import sys
import threading
import time

PORT, PID, ROUNDS, TIMEOUT_S, OUT = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                     float(sys.argv[4]), sys.argv[5])


def rss_kib():
    with open("/proc/%d/status" % PID) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit("no VmRSS for pid %d" % PID)


def raw(data, timeout=10.0):
    """Sends data, reads until the server closes; returns the first status or 'close'.
    The sending runs in a thread: the server may answer (413, 400) and close before it has
    read everything, and the answer must still be read."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)

    def send():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:  # reset, broken pipe: the server answered and closed first
            pass
    t = threading.Thread(target=send)
    t.start()
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except OSError:
        pass
    t.join()
    s.close()
    if not out.startswith(b"HTTP/1.1 "):
        return "close", out
    return int(out[9:12]), out


def ev(body, ctype=b"application/json", extra=b""):
    return (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype + b"\r\n" + extra +
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)


def get(path, extra=b""):
    return b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"Connection: close\r\n\r\n"


def chunked(body):
    return b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"


# name -> (request, expected status, client id if the event is stored)
def cases(r):
    acc = lambda name: "acc-%d-%s" % (r, name)
    et = lambda name, rest=b"": (b'{"event_type":"a","event_id":"' + acc(name).encode() + b'"'
                                 + rest + b"}")
    good_chunk = et("cl_te")
    return {
        # sizes (defaults: body 1 MiB, 64 headers, 16 KiB of headers)
        "body_2mib": (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n"
                      b"Connection: close\r\n\r\n" + b"x" * 2097152, 413, None),
        "header_20kib": (get(b"/healthz", b"X-Big: " + b"a" * 20000 + b"\r\n"), 431, None),
        "header_600kib": (get(b"/healthz", b"X-Big: " + b"a" * 600000 + b"\r\n"), 431, None),
        "line_20kib": (get(b"/" + b"a" * 20000), 404, None),
        "line_600kib": (get(b"/" + b"a" * 600000), 414, None),
        "headers_80": (get(b"/healthz", b"".join(b"X-H%d: v\r\n" % i for i in range(80))), 431,
                       None),
        "headers_200": (get(b"/healthz", b"".join(b"X-H%d: v\r\n" % i for i in range(200))),
                        431, None),
        "events_10001": (ev(b"\n".join(b'{"event_type":"a"}' for _ in range(10001)) + b"\n",
                            b"application/x-ndjson"), 413, None),
        # bytes
        "utf8_invalid": (ev(b'{"event_type":"a","x":"\xff\xfe"}'), 400, None),
        "utf8_overlong": (ev(b'{"event_type":"a","x":"\xc0\xaf"}'), 400, None),
        "utf8_surrogate": (ev(b'{"event_type":"a","x":"\xed\xa0\x80"}'), 400, None),
        "nul_raw": (ev(b'{"event_type":"a","x":"a\x00b"}'), 400, None),
        "nul_after": (ev(b'{"event_type":"a"}\x00'), 400, None),
        "nul_escaped": (ev(et("nul_escaped", b',"x":"a\\u0000b"')), 200, acc("nul_escaped")),
        "nul_in_path": (get(b"/purchase_a_sword\x00x"), 400, None),
        # JSON shapes
        "deep_10000": (ev(b'{"event_type":"a","x":' + b"[" * 10000 + b"]" * 10000 + b"}"), 400,
                       None),
        "deep_objects": (ev(b'{"event_type":"a","x":' + b'{"a":' * 5000 + b"1" + b"}" * 5000 +
                            b"}"), 400, None),
        "huge_exponent": (ev(et("huge_exponent", b',"x":1e999999')), 200, acc("huge_exponent")),
        "huge_integer": (ev(et("huge_integer", b',"x":' + b"9" * 5000)), 200,
                         acc("huge_integer")),
        "bad_number": (ev(b'{"event_type":"a","x":01}'), 400, None),
        "nan": (ev(b'{"event_type":"a","x":NaN}'), 400, None),
        "dup_key": (ev(b'{"event_type":"a","x":1,"x":2}'), 400, None),
        "dup_event_type": (ev(b'{"event_type":"a","event_type":"b"}'), 400, None),
        "not_object": (ev(b'"event_type"'), 400, None),
        # event_type values
        "type_traversal": (ev(b'{"event_type":"../../etc/passwd"}'), 400, None),
        "type_traversal_enc": (ev(b'{"event_type":"..%2f..%2fx"}'), 400, None),
        "type_slash": (ev(b'{"event_type":"a/b"}'), 400, None),
        "type_sqli": (ev(b'{"event_type":"a\'; DROP TABLE events;--"}'), 400, None),
        "type_sqli_quote": (ev(b'{"event_type":"a\\" OR 1=1"}'), 400, None),
        "type_cyrillic": (ev('{"event_type":"purch\u0430se_sword"}'.encode()), 400, None),
        "type_fullwidth": (ev('{"event_type":"\uff50urchase"}'.encode()), 400, None),
        "type_zero_width": (ev('{"event_type":"a\u200bb"}'.encode()), 400, None),
        "type_upper": (ev(b'{"event_type":"Purchase"}'), 400, None),
        "type_65": (ev(b'{"event_type":"' + b"a" * 65 + b'"}'), 400, None),
        "type_empty": (ev(b'{"event_type":""}'), 400, None),
        "type_number": (ev(b'{"event_type":1}'), 400, None),
        # framing
        "cl_and_te": (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                      b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                      chunked(good_chunk), 200, acc("cl_te")),
        "te_unknown": (b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n"
                       b"Connection: close\r\n\r\n" + chunked(b'{"event_type":"a"}'), 400, None),
        "te_broken_chunk": (b"POST /events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                            b"Connection: close\r\n\r\nzz\r\nxx\r\n0\r\n\r\n", 400, None),
        "cl_negative": (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n"
                        b"Connection: close\r\n\r\n", 400, None),
        "cl_overflow": (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: "
                        b"99999999999999999999\r\nConnection: close\r\n\r\n", 400, None),
        # two Content-Length headers: smuggling bait unless refused when they disagree
        "cl_conflict": (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 18\r\n"
                        b"Content-Length: 80\r\nConnection: close\r\n\r\n"
                        b'{"event_type":"a"}GET /purchase_a_sword HTTP/1.1\r\nHost: x\r\n\r\n'
                        b"xxxxxxxxxxxxxxxxxxxxx", 400, None),
        "cl_same_twice": (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                          b"content-length:%d\r\nConnection: close\r\n\r\n%s"
                          % (len(et("cl_twice")), len(et("cl_twice")), et("cl_twice")),
                          200, acc("cl_twice")),
        "cl_short": (b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                     b"Connection: close\r\n\r\n" + b'{"event_type":"a"}', "close", None),
        "bad_version": (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", "any", None),
        "garbage": (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 64, 400, None),
    }


def health(conn_timeout=5):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=conn_timeout)
    c.request("GET", "/healthz")
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


good_ids = []


def send_good(r, n):
    cid = "good-%d-%d" % (r, n)
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request("POST", "/events", body=json.dumps({"event_type": "good", "event_id": cid}),
              headers={"Content-Type": "application/json"})
    resp = c.getresponse()
    body = resp.read()
    c.close()
    if resp.status != 200:
        raise SystemExit("good event %s answered %d %r" % (cid, resp.status, body))
    good_ids.append(cid)


slow_results = []


def slow_client(kind, gap):
    """A byte every `gap` seconds: the server must answer 408 after about TIMEOUT_S and
    close the connection."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=TIMEOUT_S + 10)
    if kind == "headers":
        pre, trickle = b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    else:
        body = b'{"event_type":"slow_body"}'
        pre = b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
        trickle = body
    t0 = time.time()
    outcome = None
    try:
        s.sendall(pre)
        for b in trickle:
            s.sendall(bytes([b]))
            # a closed connection shows as readable EOF before a write fails
            s.settimeout(gap)
            try:
                got = s.recv(4096)
                if not got:
                    outcome = "closed without an answer"
                    break
                outcome = "answered %r" % got[:40]
                # the answer, then the server's close
                s.settimeout(5)
                while got:
                    got = s.recv(4096)
                if outcome.startswith("answered b'HTTP/1.1 408 "):
                    outcome = "408"
                break
            except socket.timeout:
                pass
    except (BrokenPipeError, ConnectionResetError) as e:
        outcome = "%s without an answer" % type(e).__name__
    took = time.time() - t0
    s.close()
    slow_results.append((kind, outcome, took))


def main():
    rss = []
    n = 0
    for r in range(ROUNDS):
        slows = [threading.Thread(target=slow_client, args=(k, 1.0)) for k in ("headers", "body")]
        for t in slows:
            t.start()
        for name, (req, want, cid) in cases(r).items():
            got, out = raw(req)
            if want != "any" and got != want:
                raise SystemExit("round %d, %s: expected %s, got %s: %r" %
                                 (r, name, want, got, out[:300]))
            if isinstance(got, int) and got >= 400 and b'"error"' not in out and \
                    b"text/plain" not in out:
                raise SystemExit("%s: error answer without a body: %r" % (name, out[:300]))
            if cid and got == 200:
                with open(OUT + "/accepted.txt", "a") as f:
                    f.write(cid + "\n")
            if health() != 200:
                raise SystemExit("round %d, %s: /healthz failed afterwards" % (r, name))
            send_good(r, n)
            n += 1
        for t in slows:
            t.join()
        rss.append(rss_kib())
    for kind, outcome, took in slow_results:
        if outcome != "408":
            raise SystemExit("slow %s client: %s after %.1fs (expected 408 and a close)"
                             % (kind, outcome, took))
        if took > TIMEOUT_S + 3:
            raise SystemExit("slow %s client held the connection %.1fs (timeout %.1fs)"
                             % (kind, took, TIMEOUT_S))
    with open(OUT + "/good.txt", "w") as f:
        f.write("\n".join(good_ids) + "\n")
    with open(OUT + "/rss.txt", "w") as f:
        f.write("\n".join(str(x) for x in rss) + "\n")
    print("%d rounds x %d cases, %d good events, slow clients cut after %s s, RSS KiB %s" %
          (ROUNDS, len(cases(0)), len(good_ids),
           ",".join("%.1f" % t for _, _, t in slow_results), rss))


main()
