#!/usr/bin/env bash
# Disk full under `sluice up` (collector, log and stream on one small tmpfs): while full,
# ingestion answers 503 with Retry-After (never 2xx for an event it could not store);
# when space returns (the tmpfs is grown), ingestion and the stream resume on their own;
# after a clean stop every event answered 2xx is in `events` exactly once and the log
# reads back whole. Then a read-only data dir: serve, stream and up each refuse to start
# with a clear error instead of running blind.
# Needs mount (root); prints "skipped: needs mount" and passes without it.
source tests/lib.sh
source tests/e2e/collector_lib.inc

M=$T/mnt
mkdir -p "$M"
if ! mount -t tmpfs -o size=1m tmpfs "$M" 2>/dev/null; then
  echo "skipped: needs mount (root) for a small tmpfs"
  exit 0
fi
RO=$T/ro
trap 'rc=$?; set +e; kill "${UP_PID:-}" 2>/dev/null; wait "${UP_PID:-}" 2>/dev/null;
      umount "$M" 2>/dev/null || umount -l "$M"; umount "$RO" 2>/dev/null || umount -l "$RO" 2>/dev/null;
      (exit $rc); cleanup' EXIT

D=$M/data
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
"$SLUICE" up --app apps/game.yaml --listen 127.0.0.1:"$PORT" --admin off --data-dir "$D" \
  --threads 1 --stream-threads 1 --trigger 200ms --quiet >"$T/up.out" 2>"$T/up.err" &
UP_PID=$!
wait_until 60 http_ok "$URL/healthz" || { cat "$T/up.err" >&2; fail "up did not start"; }

# phase 1: fill the disk. Every 2xx is recorded; 503 must carry Retry-After.
python3 - "$PORT" "$T/acked.txt" <<'PY' || { tail -20 "$T/up.err" >&2; fail "filling the disk"; }
import http.client, json, sys
port, out = int(sys.argv[1]), open(sys.argv[2], "a")
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
n = full = 0
pad = "x" * 2000
for i in range(5000):
    ids = ["full-%d-%d" % (i, j) for j in range(4)]
    body = "\n".join(json.dumps({"event_type": "fault_probe", "event_id": x, "pad": pad})
                     for x in ids) + "\n"
    c.request("POST", "/events", body=body, headers={"Content-Type": "application/x-ndjson"})
    r = c.getresponse(); b = r.read()
    if r.status == 200:
        out.write("\n".join(ids) + "\n"); out.flush(); n += 4
        continue
    assert r.status == 503, (r.status, b)
    assert r.getheader("Retry-After"), r.getheaders()
    assert "error" in json.loads(b), b
    full += 1
    if full >= 20:
        break
else:
    raise SystemExit("the disk never filled up")
print("stored %d events before the disk was full; 20 answers 503" % n)
PY
kill -0 "$UP_PID" 2>/dev/null || { tail -20 "$T/up.err" >&2; fail "up died while the disk was full"; }
expect_eq "healthz while full" "$(status_of "$URL/healthz")" 200

# phase 2: space returns
mount -o remount,size=64m "$M" || fail "cannot grow the tmpfs"
probe() { # one event with a new id; true on 200 (and records it)
  local id=after-$RANDOM$RANDOM
  [ "$(status_of "$URL/events" -H 'Content-Type: application/json' \
        -d "{\"event_type\":\"fault_probe\",\"event_id\":\"$id\"}")" = 200 ] &&
    echo "$id" >> "$T/acked.txt"
}
wait_until 30 probe || { tail -20 "$T/up.err" >&2; fail "ingestion did not resume after space returned"; }
for i in $(seq 1 50); do probe || fail "event $i after recovery not acknowledged"; done
# the stream catches up by itself: every acknowledged event becomes a row
rows() { "$SLUICE" sql --data-dir "$D" --format csv -e "SELECT count(*) FROM events" 2>/dev/null | tail -1; }
caught_up() { [ "$(rows)" -ge "$(wc -l < "$T/acked.txt")" ]; }
wait_until 60 caught_up || { tail -20 "$T/up.err" >&2; fail "the stream did not catch up after space returned ($(rows) rows)"; }
kill -TERM "$UP_PID"
rc=0; wait "$UP_PID" || rc=$?
[ $rc -eq 0 ] || { tail -20 "$T/up.err" >&2; fail "clean stop exited $rc"; }
UP_PID=

"$SLUICE" tail --topic events --data-dir "$D" --exit >"$T/log.ndjson" 2>"$T/tail.err" ||
  { cat "$T/tail.err"; fail "the log does not read back after the disk was full"; }
"$SLUICE" sql --data-dir "$D" --format csv -e "SELECT json_extract_string(raw_event, '\$.client_event_id') AS id, count(*) AS n FROM events GROUP BY 1" \
  >"$T/rows.csv" 2>"$T/sql.err" || { cat "$T/sql.err"; fail "sql"; }
python3 - "$T" <<'PY' || fail "audit"
import csv, sys
T = sys.argv[1]
rows = {r["id"]: int(r["n"]) for r in csv.DictReader(open(T + "/rows.csv"))}
acked = [l for l in open(T + "/acked.txt").read().split() if l]
missing = [i for i in acked if i not in rows]
twice = {i: n for i, n in rows.items() if n != 1}
assert not missing, "acknowledged but not in events: %s" % missing[:5]
assert not twice, "stored more than once: %s" % list(twice.items())[:5]
log = sum(1 for _ in open(T + "/log.ndjson"))
assert sum(rows.values()) == log, "events %d rows, log %d records" % (sum(rows.values()), log)
print("audit: %d acknowledged, each once in events; %d log records" % (len(acked), log))
PY

# phase 3: a read-only data dir (an existing one: its log, no tables yet, so the stream
# has a backlog to write)
mkdir -p "$RO/data"
cp -a "$D/log" "$RO/data/"
mount --bind "$RO" "$RO" && mount -o remount,ro,bind "$RO" || fail "cannot make a read-only bind mount"
touch "$RO/data/x" 2>/dev/null && fail "the bind mount is writable"
P2=$(free_port)
ro_case() { # name, command...: must exit 1 within 30 s with "read-only" in its error
  local name=$1; shift
  local rc=0
  timeout 30 "$@" >"$T/ro-$name.out" 2>"$T/ro-$name.err" || rc=$?
  [ $rc -eq 1 ] || { cat "$T/ro-$name.err" >&2; fail "$name on a read-only data dir: exit $rc, expected 1"; }
  grep -qi "read-only" "$T/ro-$name.err" || { cat "$T/ro-$name.err" >&2; fail "$name: no clear read-only error"; }
  echo "$name: $(head -1 "$T/ro-$name.err")"
}
ro_case serve "$SLUICE" serve --app apps/game.yaml --listen 127.0.0.1:"$P2" --data-dir "$RO/data"
ro_case stream "$SLUICE" stream --app apps/game.yaml --data-dir "$RO/data" --once
ro_case up "$SLUICE" up --app apps/game.yaml --listen 127.0.0.1:"$P2" --admin off --data-dir "$RO/data"
echo ok
