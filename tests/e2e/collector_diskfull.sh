#!/usr/bin/env bash
# Ack means stored, when the disk fills up: the log refuses the append (ENOSPC), the
# client gets 503 with Retry-After and a JSON error, and exactly the events that were
# answered 200 are in the log; a refused POST /events batch leaves nothing behind.
# Needs a small tmpfs (mount, i.e. root); prints "skipped" and passes without it.
source tests/lib.sh
source tests/e2e/collector_lib.inc

M=$T/mnt
mkdir -p "$M"
if ! mount -t tmpfs -o size=256k tmpfs "$M" 2>/dev/null; then
  echo "skipped: cannot mount a 256 KiB tmpfs here (needs root)"
  exit 0
fi
trap 'rc=$?; set +e; kill "${SERVE_PID:-}" 2>/dev/null; wait "${SERVE_PID:-}" 2>/dev/null; umount "$M" 2>/dev/null || umount -l "$M" 2>/dev/null; (exit $rc); cleanup' EXIT

SERVE_DATA=$M/data start_serve apps/game.yaml
python3 - "$PORT" > "$T/client.txt" <<'PY' || fail "client: $(cat "$T/client.txt")"
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
ok = 0
for i in range(20000):
    c.request("GET", "/purchase_a_sword")
    r = c.getresponse()
    body = r.read()
    if r.status == 200:
        ok += 1
        continue
    assert r.status == 503, (r.status, body)
    assert r.getheader("Retry-After") == "1", r.getheaders()
    assert "No space left" in json.loads(body)["error"], body
    break
else:
    raise SystemExit("the disk never filled up")
# a whole batch is refused, not half stored
c.request("POST", "/events", body=json.dumps([{"event_type": "a"}, {"event_type": "b"}]),
          headers={"Content-Type": "application/json"})
r = c.getresponse(); r.read()
assert r.status == 503, r.status
print(ok)
PY
acked=$(cat "$T/client.txt")
expect_eq "stored == answered 200" "$(events | wc -l)" "$acked"
events | grep -q '"event_type":"a"' && fail "part of a refused batch was stored"
expect_eq "still answering" "$(status_of "$URL/healthz")" 200
curl -s "$URL/metrics" | grep -q '^sluice_append_failures_total [1-9]' || fail "append failures not counted"
stop_serve
echo "ok ($acked events stored before the disk was full)"
