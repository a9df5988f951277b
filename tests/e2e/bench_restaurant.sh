#!/usr/bin/env bash
# The shipped restaurant scenario through the whole pipeline: bench/scenarios/restaurant.txt
# against `sluice serve --app apps/restaurant.yaml` + `sluice stream` stores exactly
# 42,452 events, each line's requests as rows of its event type. Release build
# ($SLUICE_RELEASE): the ASan build is too slow for 42,452 requests in a test.
SLUICE=${SLUICE_RELEASE:-build/sluice}
source tests/lib.sh
source tests/e2e/collector_lib.inc   # start_serve
[ -x "$SLUICE" ] || fail "no release build at $SLUICE"
start_serve apps/restaurant.yaml
bg "$SLUICE" stream --app apps/restaurant.yaml --data-dir "$DATA" --trigger 100ms --quiet

"$SLUICE" bench --scenario bench/scenarios/restaurant.txt --url "$URL" -c 32 \
  --verify --data-dir "$DATA" --verify-timeout 30s --no-progress --json > "$T/r.json" \
  || { cat "$T/r.json"; fail "bench exited $?"; }
python3 - "$T/r.json" <<'PY' || fail "restaurant run"
import json, sys
r = json.load(open(sys.argv[1])); v = r["verify"]
print(f"  {r['requests']} requests, 2xx {r['status_2xx']}, errors {r['errors']['total']}, "
      f"rows {v['rows_seen']}, first request to last row {v['end_to_end_s']} s")
assert r["requests"] == 42452 and r["status_2xx"] == 42452, r
assert r["errors"]["total"] == 0 and r["retried"] == 0, r
assert v["ok"] and v["rows_before"] == 0 and v["rows_seen"] == 42452, v
PY

# the stored events, counted by the warehouse itself (not by --verify): as many per
# event type as the scenario sends to that type's routes
"$SLUICE" sql --data-dir "$DATA" --format csv -e \
  "select event_type, count(*) as n from events group by event_type order by event_type;" \
  > "$T/types.csv" || fail "sql"
python3 - "$T/types.csv" bench/scenarios/restaurant.txt <<'PY' || fail "events by type"
import csv, sys
got = {row["event_type"]: int(row["n"]) for row in csv.DictReader(open(sys.argv[1]))}
# the routes of apps/restaurant.yaml that the scenario calls, and their event types
routes = {"/login0": "login", "/create_profile": "create_profile",
          "/menu_search": "menu_search", "/order": "order_food", "/review": "review"}
want = {}
for line in open(sys.argv[2]):
    line = line.split(" #")[0].strip()
    if not line or line.startswith("#"):
        continue
    count, method, target = line.split()[:3]
    t = routes[target.split("?")[0]]
    want[t] = want.get(t, 0) + int(count)
print(f"  {sum(got.values())} events in {len(got)} types")
assert sum(got.values()) == 42452, got
assert got == want, (got, want)
PY
echo ok
