#!/usr/bin/env bash
# POST /events: a JSON object, an array, NDJSON; every error case answers 400 with a JSON
# body naming the index and stores nothing; limits answer 413 / 431; wrong method 405;
# query parameters and Content-Length are merged into the events.
source tests/lib.sh
source tests/e2e/collector_lib.inc

start_serve apps/game.yaml --max-body 64KiB --max-events 100 --max-headers 20 --timeout 2s

post() { # body [curl args] -> prints "STATUS BODY"
  local body=$1; shift
  curl -s --max-time 10 -w ' %{http_code}' -X POST --data-binary "$body" "$@" "$URL/events"
}
count() { events | wc -l; }

expect_eq "object" "$(post '{"event_type":"signup","plan":"pro"}' -H 'Content-Type: application/json')" '{"stored":1}
 200'
expect_eq "array" "$(post '[{"event_type":"a","n":1},{"event_type":"b","n":2,"event_id":"c-1"}]')" '{"stored":2}
 200'
expect_eq "ndjson" "$(post $'{"event_type":"c"}\n{"event_type":"d"}\n' -H 'Content-Type: application/x-ndjson')" '{"stored":2}
 200'
expect_eq "count after good posts" "$(count)" 5

events > "$T/ev.ndjson"
python3 - "$T/ev.ndjson" <<'PY' || fail "stored events"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
assert [e["event_type"] for e in evs] == ["signup", "a", "b", "c", "d"], evs
assert evs[0]["plan"] == "pro" and evs[0]["Content-Type"] == "application/json"
assert evs[2]["client_event_id"] == "c-1" and evs[2]["event_id"] != "c-1"
assert all(e["User-Agent"].startswith("curl/") and "received_at" in e for e in evs)
assert len({e["event_id"] for e in evs}) == 5
PY

# errors: 400 + {"error":..., "index":N}, nothing stored
check_400() { # name body index
  local out; out=$(post "$2")
  [[ "$out" == *' 400' ]] || fail "$1: expected 400, got: $out"
  [[ "$out" == *'"error":'* ]] || fail "$1: no error member: $out"
  if [ "$3" != - ]; then [[ "$out" == *"\"index\":$3}"* ]] || fail "$1: expected index $3: $out"; fi
}
check_400 "bad element in array" '[{"event_type":"a"},{"event_type":"b"},{"no_type":1}]' 2
check_400 "bad json in ndjson" $'{"event_type":"a"}\n{"event_type":"b",}\n' 1
check_400 "invalid type" '{"event_type":"Not Valid"}' 0
check_400 "not an object" '[{"event_type":"a"}, 3]' 1
check_400 "empty body" '' -
check_400 "empty array" '[]' -
check_400 "too deep" "{\"event_type\":\"a\",\"x\":$(printf '[%.0s' $(seq 40))1$(printf ']%.0s' $(seq 40))}" 0
check_400 "duplicate member" '{"event_type":"a","k":1,"k":2}' 0
# a syntax error between elements names its byte, not an element that does not exist
out=$(post '[{"event_type":"a"},{"event_type":"b"}')
[[ "$out" == *'unterminated array'*'(at byte 38)"}'*' 400' && "$out" != *'"index"'* ]] ||
  fail "unterminated array: $out"
expect_eq "nothing stored by bad requests" "$(count)" 5

# limits
big=$(python3 -c 'print("{\"event_type\":\"a\",\"pad\":\"" + "x"*70000 + "\"}")')
out=$(post "$big"); [[ "$out" == *' 413' ]] || fail "body over --max-body: $out"
many=$(python3 -c 'print("[" + ",".join(["{\"event_type\":\"a\"}"]*101) + "]")')
out=$(post "$many"); [[ "$out" == *' 413' ]] || fail "over --max-events: $out"
hdrs=(); for i in $(seq 25); do hdrs+=(-H "X-H$i: v"); done
expect_eq "too many headers" "$(status_of "$URL/purchase_a_sword" "${hdrs[@]}")" 431
expect_eq "header too large" "$(status_of "$URL/purchase_a_sword" -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)")" 431
expect_eq "GET /events" "$(status_of "$URL/events")" 405
expect_eq "nothing stored by refused requests" "$(count)" 5
# a client that stalls in the middle of its request head, or of its body, or sends
# nothing at all, gets 408 with a JSON body after --timeout, then the server closes;
# nothing is stored
python3 - "$PORT" <<'PY' || fail "slow client not answered 408"
import json, socket, sys, time
starts = {"head": b"GET /purchase_a_sword HTTP/1.1\r\nHost: x\r\n",
          "body": b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{\"event_type\":",
          "idle": b""}
for kind, start in starts.items():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(start)
    t = time.time(); s.settimeout(20)
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    took = time.time() - t
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), (kind, data)
    assert b"Connection: close" in head, (kind, head)
    assert "error" in json.loads(body), (kind, body)
    assert 1.0 < took < 15, (kind, took)
PY
expect_eq "nothing stored by timed-out requests" "$(count)" 5
# a large body on a slow link (about 12 KB/s, longer than --timeout in all) keeps
# arriving faster than the guard's minimum rate: it is stored, not cut off
python3 - "$PORT" <<'PY' || fail "slow but steady upload"
import json, socket, sys, time
body = json.dumps({"event_type": "slow_upload", "pad": "x" * 48000}).encode()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
t = time.time()
for i in range(0, len(body), 1000):
    s.sendall(body[i:i + 1000])
    time.sleep(0.08)  # pacing the upload, not waiting for the server
took = time.time() - t
s.settimeout(20)
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
assert data.startswith(b"HTTP/1.1 200 "), (took, data[:200])
assert took > 3, took
PY
expect_eq "the slow upload stored" "$(count)" 6
# query parameters go into every event of POST /events as they do for app routes: after
# the event's own members and the headers, which win over a parameter of the same name;
# a parameter given twice is refused (400, nothing stored), here and on app routes
before=$(count)
out=$(curl -s -w ' %{http_code}' -X POST -H 'X-Src: header' \
  --data-binary '[{"event_type":"q_merge","plan":"pro"},{"event_type":"q_merge"}]' \
  "$URL/events?source=web&plan=free&X-Src=query")
[[ "$out" == *' 200' ]] || fail "POST /events with a query: $out"
out=$(curl -s -w ' %{http_code}' -X POST --data-binary '{"event_type":"q_twice"}' "$URL/events?a=1&a=2")
[[ "$out" == *'"error":"query parameter '"'"'a'"'"' is given more than once"'*' 400' ]] || fail "repeated parameter on /events: $out"
expect_eq "repeated parameter on a route" "$(status_of "$URL/purchase_a_sword?level=1&level=2")" 400
expect_eq "stored: the two merged events only" "$(count)" $((before + 2))
events | python3 -c '
import json, sys
evs = [e for e in map(json.loads, sys.stdin) if e["event_type"] == "q_merge"]
assert len(evs) == 2, evs
assert evs[0]["plan"] == "pro" and evs[1]["plan"] == "free", evs   # own member wins
assert all(e["source"] == "web" and e["X-Src"] == "header" for e in evs), evs
body = b"[{\"event_type\":\"q_merge\",\"plan\":\"pro\"},{\"event_type\":\"q_merge\"}]"
assert all(e["Content-Length"] == str(len(body)) for e in evs), evs  # as Flask stored it
' || fail "merged events"

# the server is still healthy after all of that
expect_eq "still serving" "$(status_of "$URL/healthz")" 200
stop_serve

# ---- --max-event-size: one event above it (as stored, headers included) is 413 with a
# JSON body, on an app route and in a POST /events batch (whose index names it); nothing
# of such a request is stored
start_serve apps/game.yaml --max-event-size 300
pad=$(head -c 200 /dev/zero | tr '\0' p)
expect_eq "small route event" "$(status_of "$URL/purchase_a_sword")" 200
out=$(curl -s -w ' %{http_code}' -H "X-Pad: $pad" "$URL/purchase_a_sword")
[[ "$out" == '{"error":"event too large"}'*' 413' ]] || fail "route event over the size: $out"
out=$(curl -s -w ' %{http_code}' "$URL/purchase_a_sword?pad=$pad")
[[ "$out" == *'"error":'*' 413' ]] || fail "route event over the size (query): $out"
out=$(post "[{\"event_type\":\"size_ok\"},{\"event_type\":\"size_big\",\"pad\":\"$pad\"}]")
[[ "$out" == *'"error":"event too large","index":1}'*' 413' ]] || fail "batch event over the size: $out"
expect_eq "small batch" "$(post '[{"event_type":"size_ok"}]' | tail -1)" ' 200'
events > "$T/size.ndjson"
expect_eq "stored: the small route event and the small batch" "$(wc -l < "$T/size.ndjson")" 2
grep -q '"X-Pad"\|"size_big"\|"pad"' "$T/size.ndjson" && fail "part of a refused request was stored"
stop_serve
echo ok
