#!/usr/bin/env bash
# Load: ab as the seeds used it (HTTP/1.0, no keep-alive, spoofed Host); N requests from
# concurrent keep-alive clients -> exactly N stored events with unique ids; the strength
# generator end to end; the restaurant's weighted fields end to end over 10,000 orders
# (coupon "No" share, evening and weekend shares of event_timestamp); SIGTERM under load
# -> every 200 answered is in the log.
#   COLL_LOAD_N     requests of the concurrency run (default 100000)
#   COLL_LOAD_FSYNC durability of that run (default interval; "always" also works)
source tests/lib.sh
source tests/e2e/collector_lib.inc
N=${COLL_LOAD_N:-100000}

start_serve apps/game.yaml --fsync "${COLL_LOAD_FSYNC:-interval}"

# ---- the seeds' ab command: 500 requests, HTTP/1.0, Host spoofed
ab -n 500 -H "Host: knight1.comcast.com" "$URL/purchase_a_sword" > "$T/ab1.txt" 2>&1 || fail "ab: $(tail -5 "$T/ab1.txt")"
grep -q "^Complete requests: *500" "$T/ab1.txt" || fail "ab incomplete: $(cat "$T/ab1.txt")"
grep -q "^Failed requests: *0" "$T/ab1.txt" || fail "ab failures"
events | python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin]
assert len(evs) == 500, len(evs)
assert all(e["Host"] == "knight1.comcast.com" and e["event_type"] == "purchase_sword" for e in evs), evs[0]
assert all(e["User-Agent"].startswith("ApacheBench") for e in evs), evs[0]
' || fail "ab events"

# ---- N requests, 50 concurrent keep-alive clients, two kinds of route
ab -k -n "$N" -c 50 "$URL/purchase_an_axe" > "$T/ab2.txt" 2>&1 || fail "ab -k: $(tail -5 "$T/ab2.txt")"
grep -q "^Complete requests: *$N\$" "$T/ab2.txt" || fail "ab -k incomplete: $(grep -E 'Complete|Failed' "$T/ab2.txt")"
grep -q "^Failed requests: *0" "$T/ab2.txt" || fail "ab -k failures: $(grep -A3 Failed "$T/ab2.txt")"
grep -q "^Non-2xx responses" "$T/ab2.txt" && fail "ab -k non-2xx: $(grep Non-2xx "$T/ab2.txt")"
events | python3 -c '
import json, sys
n = int(sys.argv[1])
ids, axes, strengths = set(), 0, []
for line in sys.stdin:
    e = json.loads(line)
    ids.add(e["event_id"])
    if e["event_type"] == "purchase_axe":
        axes += 1
        strengths.append(e["strength"])
assert axes == n, (axes, n)
assert len(ids) == n + 500, ("duplicate ids", len(ids))
# strength: normal(5, 4) clipped to 0..10 and rounded: symmetric around 5, so the mean is
# 5 (SE over 2,000+ events < 0.08; the tolerance is 4 SE), all integers in range.
m = sum(strengths) / len(strengths)
assert abs(m - 5) < 0.3, m
assert all(isinstance(s, int) and 0 <= s <= 10 for s in strengths)
# clipping piles the tails onto 0 and 10: P(X < 0.5) + P(X > 9.5) = 2 * 0.130 = 0.26
ends = sum(1 for s in strengths if s in (0, 10)) / len(strengths)
assert 0.18 < ends < 0.34, ends
' "$N" || fail "concurrency events"
stop_serve

# ---- the restaurant's weighted fields through the real process: 10,000 orders
start_serve apps/restaurant.yaml
ab -k -n 10000 -c 20 "$URL/order?menu=Thai" > "$T/ab3.txt" 2>&1 || fail "ab orders: $(tail -5 "$T/ab3.txt")"
grep -q "^Complete requests: *10000$" "$T/ab3.txt" || fail "ab orders incomplete"
grep -q "^Non-2xx responses" "$T/ab3.txt" && fail "ab orders non-2xx: $(grep Non-2xx "$T/ab3.txt")"
events | python3 -c '
import datetime, json, re, sys
spec = open("apps/restaurant.yaml").read()
nums = lambda key: [float(x) for x in re.search(key + r": \[([^]]*)\]", spec).group(1).split(",")]
hours, weekdays = nums("hours"), nums("weekdays")          # 00..23 UTC; Monday..Sunday
want_evening = sum(hours[18:]) / sum(hours)                # 18:00-23:59
want_weekend = (weekdays[5] + weekdays[6]) / sum(weekdays)
orders = [e for e in map(json.loads, sys.stdin) if e["event_type"] == "order_food"]
assert len(orders) == 10000, len(orders)
# coupon: {"No": 0.8, "Yes": 0.2}; SE of the share over 10,000 is 0.004, tolerance 5 SE
no = sum(e["coupon"] == "No" for e in orders) / len(orders)
assert set(e["coupon"] for e in orders) == {"No", "Yes"}, "coupon values"
assert abs(no - 0.8) < 0.02, no
ts = [datetime.datetime.strptime(e["event_timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ") for e in orders]
evening = sum(t.hour >= 18 for t in ts) / len(ts)
weekend = sum(t.weekday() >= 5 for t in ts) / len(ts)
print("  coupon No %.3f (0.8), evening %.3f (%.3f), weekend %.3f (%.3f)"
      % (no, evening, want_evening, weekend, want_weekend))
# SE of either share is at most 0.005: tolerance 4 SE; and both are well above uniform
assert abs(evening - want_evening) < 0.02, (evening, want_evening)
assert abs(weekend - want_weekend) < 0.02, (weekend, want_weekend)
assert evening > 6 / 24 + 0.1 and weekend > 2 / 7 + 0.05, (evening, weekend)
' || fail "restaurant weighting"
stop_serve

# ---- SIGTERM under load: every 200 that wrk received is in the log
start_serve apps/game.yaml --fsync always
bg wrk -t2 -c32 -d5s "$URL/declare_a_war" > "$T/wrk.txt"
WRK_PID=$BG_PID
stored_over() { [ "$(curl -s "$URL/metrics" | awk '/^sluice_events_stored_total/ {print $2}')" -gt "$1" ]; }
wait_until 30 stored_over 2000 || fail "load did not start"
kill -TERM "$SERVE_PID"
rc=0; wait "$SERVE_PID" || rc=$?
expect_eq "serve exit after SIGTERM under load" "$rc" 0
wait "$WRK_PID" || true
done_n=$(awk '/requests in/ {print $1}' "$T/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$T/wrk.txt")
ok200=$(( done_n - ${non2xx:-0} ))
stored=$(events | grep -c '"event_type":"declare_war"' || true)
echo "  wrk answered $ok200 x 200 before/while draining; $stored declare_war events stored"
[ "$ok200" -gt 0 ] || fail "wrk got no 200: $(cat "$T/wrk.txt")"
[ "$stored" -ge "$ok200" ] || fail "acked but not stored: $ok200 answered 200, $stored stored"
echo ok
