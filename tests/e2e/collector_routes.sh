#!/usr/bin/env bash
# Every game and restaurant route stores the right event: spec fields, event_type,
# event_id, received_at, the request headers with their names as sent, and the decoded
# query parameters; unknown routes (404) and wrong methods (405) store nothing; the CLI's
# errors (bad spec: exit 2 with file:line; port in use: exit 1; bad flags: exit 2).
source tests/lib.sh
source tests/e2e/collector_lib.inc

# ---- CLI
"$SLUICE" serve --help | grep -q -- '--max-body' || fail "--help"
rc=0; "$SLUICE" serve --app apps/game.yaml --bogus 2>/dev/null || rc=$?
expect_eq "unknown flag exit" "$rc" 2
rc=0; "$SLUICE" serve 2>/dev/null || rc=$?
expect_eq "missing --app exit" "$rc" 2
printf 'app: x\nroutes:\n  - path: /healthz\n    event_type: a\n' > "$T/bad.yaml"
rc=0; "$SLUICE" serve --app "$T/bad.yaml" --data-dir "$T/d0" 2>"$T/bad.err" || rc=$?
expect_eq "spec error exit" "$rc" 2
grep -q "bad.yaml:[0-9]" "$T/bad.err" || fail "spec error lacks file:line: $(cat "$T/bad.err")"

# ---- game
start_serve apps/game.yaml
grep -q "listening on http://127.0.0.1:$PORT" "$T/serve-$PORT.out" || fail "banner: $(cat "$T/serve-$PORT.out")"
# a second server on the same port: clear error, exit 1
rc=0; "$SLUICE" serve --app apps/game.yaml --listen 127.0.0.1:"$PORT" --data-dir "$T/other" 2>"$T/inuse.err" || rc=$?
expect_eq "address in use exit" "$rc" 1
grep -q "address already in use" "$T/inuse.err" || fail "in-use message: $(cat "$T/inuse.err")"

body=$(curl -s -H 'X-Player: p1' -H 'X-Tag: a' -H 'x-tag: b' "$URL/purchase_a_sword?level=3&name=Sir%20Robin+II")
expect_eq "sword body" "$body" "Sword Purchased!"
for p in / /purchase_an_axe /purchase_a_shield /join_a_guild /declare_peace /declare_a_war; do
  expect_eq "status $p" "$(status_of "$URL$p" -H 'X-Player: p1')" 200
done
expect_eq "404" "$(status_of "$URL/buy_a_sword")" 404
expect_eq "404 join_guild" "$(status_of "$URL/join_guild")" 404
expect_eq "405" "$(status_of "$URL/purchase_a_sword" -X POST)" 405
curl -s -D - -o /dev/null -X DELETE "$URL/declare_peace" | grep -qi '^allow: GET' || fail "405 without Allow"

events > "$T/game.ndjson"
python3 - "$T/game.ndjson" <<'PY' || fail "game events"
import json, re, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
types = [e["event_type"] for e in evs]
want = ["purchase_sword", "default", "purchase_axe", "purchase_shield", "join_guild",
        "declare_peace", "declare_war"]
assert types == want, types
for e in evs:
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", e["event_id"]), e
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["received_at"]), e
    assert e["Host"].startswith("127.0.0.1:"), e
    assert e["User-Agent"].startswith("curl/"), e
    assert e["Accept"] == "*/*", e
    assert e["X-Player"] == "p1", e
assert len({e["event_id"] for e in evs}) == len(evs)
s = evs[0]
assert s["description"] == "large sword", s
assert isinstance(s["strength"], int) and 0 <= s["strength"] <= 10, s
assert s["level"] == "3" and s["name"] == "Sir Robin II", s
assert s["X-Tag"] == "a, b" and "x-tag" not in s, s   # repeated header: joined, first spelling
assert evs[4]["guild_name"] in ("knights_of_ni", "round_table", "black_knights"), evs[4]
assert evs[5]["description"] == "lastful peace"
PY
curl -s "$URL/metrics" > "$T/metrics.txt"
grep -q 'sluice_http_requests_total{route="/purchase_a_sword",status="200"} 1' "$T/metrics.txt" || fail "metrics route count"
grep -q 'sluice_http_requests_total{route="unmatched",status="404"} 2' "$T/metrics.txt" || fail "metrics 404 count"
grep -q '^sluice_events_stored_total 7$' "$T/metrics.txt" || fail "metrics events stored"
grep -q '^sluice_http_request_duration_seconds_bucket{le="+Inf"}' "$T/metrics.txt" || fail "metrics histogram"
stop_serve
grep -q "draining" "$T/serve-$PORT.err" || fail "no drain message"

# ---- restaurant
start_serve apps/restaurant.yaml --access-log "$T/access.log"
for p in /login0 /login /create_profile "/menu_search?menu=Thai" /menu_search "/order?menu=Lebanese" "/review?stars=4"; do
  expect_eq "status $p" "$(status_of "$URL$p" -A 'Mozilla/5.0')" 200
done
expect_eq "bad cuisine" "$(status_of "$URL/menu_search?menu=Klingon")" 400
expect_eq "stars out of range" "$(status_of "$URL/review?stars=9")" 400
curl -s "$URL/review?stars=0" | grep -q '"error"' || fail "400 without JSON error"
events > "$T/rest.ndjson"
python3 - "$T/rest.ndjson" <<'PY' || fail "restaurant events"
import json, re, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
types = [e["event_type"] for e in evs]
assert types == ["login", "login", "create_profile", "menu_search", "menu_search",
                 "order_food", "review"], types
for e in evs:
    assert re.fullmatch(r"user_\d{4}", e["user_id"]), e
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["event_timestamp"]), e
    assert e["User-Agent"] == "Mozilla/5.0", e
assert evs[3]["description"] == "Thai" and evs[3]["menu"] == "Thai", evs[3]
assert evs[4]["description"] == "American", evs[4]
o = evs[5]
assert o["description"] == "Lebanese" and o["coupon"] in ("Yes", "No"), o
assert isinstance(o["price"], (int, float)) and 8 <= o["price"] <= 60, o
assert evs[6]["stars"] == 4 and evs[6]["stars"] is not True, evs[6]
PY
stop_serve
expect_eq "access log lines" "$(grep -vc /healthz "$T/access.log")" 10
grep -q '"GET /review?stars=9 HTTP/1.1" 400' "$T/access.log" || fail "access log content: $(head -3 "$T/access.log")"
echo ok
