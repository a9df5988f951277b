#!/usr/bin/env bash
# sluice bench against the real pipeline: `sluice serve` + `sluice stream` on the game app.
# The seeds' game scenario gets exactly its statuses (1,732 stored, 20 answered 404) and
# --verify waits until every acknowledged event is a row of the events table; a second
# run counts only its own rows on top of the first. The stored events carry the headers
# the seeds' ab commands sent: their Host, User-Agent: ApacheBench/2.3, Accept: */*.
source tests/lib.sh
port=$(free_port)
D=$T/data
bg "$SLUICE" serve --app apps/game.yaml --listen "127.0.0.1:$port" --data-dir "$D"
wait_until 20 http_ok "http://127.0.0.1:$port/healthz" || fail "serve did not start"
bg "$SLUICE" stream --app apps/game.yaml --data-dir "$D" --trigger 100ms --quiet

"$SLUICE" bench --scenario bench/scenarios/game.txt --url "http://127.0.0.1:$port" -c 16 \
  --verify --data-dir "$D" --verify-timeout 60s --json > "$T/r1.json" || { cat "$T/r1.json"; fail "first run exited $?"; }
python3 - "$T/r1.json" 0 <<'PY' || fail "first run"
import json, sys
r = json.load(open(sys.argv[1])); before = int(sys.argv[2])
assert r["requests"] == 1752 and r["answered"] == 1752, r
assert r["status"] == {"200": 1732, "404": 20}, r["status"]
v = r["verify"]
print(f"  end to end {v['end_to_end_s']} s, rows {v['rows_seen']}")
assert v["ok"] and v["rows_before"] == before, v
assert v["rows_expected"] == before + 1732 and v["rows_seen"] == before + 1732, v
PY
"$SLUICE" sql --data-dir "$D" --format csv -e \
  "select host, user_agent, accept, count(*) as n from events group by all order by all;" \
  > "$T/headers.csv" || fail "sql"
expect_eq "stored headers (as the seeds' ab sent them)" "$(tr -d '\r' < "$T/headers.csv")" \
"host,user_agent,accept,n
commanding_officer.comcast.com,ApacheBench/2.3,*/*,2
knight1.comcast.com,ApacheBench/2.3,*/*,1200
knight3.yahoo.com,ApacheBench/2.3,*/*,500
user1.comcast.com,ApacheBench/2.3,*/*,10
user2.att.com,ApacheBench/2.3,*/*,20"

"$SLUICE" bench --scenario bench/scenarios/game.txt --url "http://127.0.0.1:$port" -c 8 \
  --no-keepalive --verify --data-dir "$D" --json > "$T/r2.json" || fail "second run exited $?"
python3 - "$T/r2.json" 1732 <<'PY' || fail "second run"
import json, sys
r = json.load(open(sys.argv[1])); before = int(sys.argv[2])
v = r["verify"]
assert r["status"] == {"200": 1732, "404": 20}, r["status"]
assert v["ok"] and v["rows_before"] == before and v["rows_seen"] == before + 1732, v
PY

# --verify with nothing consuming the log: it gives up at the deadline, exit 1
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null || true
set +e
"$SLUICE" bench --scenario <(echo "5 GET /purchase_an_axe") --url "http://127.0.0.1:$port" \
  --verify --data-dir "$D" --verify-timeout 300ms > "$T/r3.txt"; rc=$?
set -e
expect_eq "exit status when rows never come" "$rc" 1
grep -q "^verify     FAILED: 3464 of 3469 rows visible" "$T/r3.txt" || { cat "$T/r3.txt"; fail "verify failure message"; }
echo ok
