#!/usr/bin/env bash
# Access control: write keys on ingestion (Basic with the key as user name, or Bearer),
# 401 with a JSON body and WWW-Authenticate otherwise; keys never in the access log, the
# output or the stored events; /healthz open; the admin token on the dashboard and its SQL
# API (also from SLUICE_ADMIN_TOKEN); listeners beyond loopback refused without a token.
source tests/lib.sh
source tests/e2e/collector_lib.inc

K1=wk-first-3f9a1c7e
K2=wk-second-77b2d0aa
K3=wk-from-file-5e6d
printf '# keys of the test\n\n  %s  \n' "$K3" > "$T/keys"
start_serve apps/game.yaml --write-key "$K1" --write-key "$K2" --write-keys-file "$T/keys" \
  --access-log "$T/access.log"

# refused: no key, wrong key, key as password, unknown scheme
curl -s -D "$T/h401" -o "$T/b401" -X POST "$URL/events" -d '{"event_type":"a"}'
grep -q '^HTTP/1.1 401' "$T/h401" || fail "no key: $(head -1 "$T/h401")"
grep -qi '^www-authenticate: Basic realm="sluice"' "$T/h401" || fail "no WWW-Authenticate"
python3 -c 'import json,sys; assert "write key" in json.load(open(sys.argv[1]))["error"]' "$T/b401" ||
  fail "401 body is not a JSON error: $(cat "$T/b401")"
expect_eq "wrong key" "$(status_of "$URL/events" -H "Authorization: Bearer ${K1}x" -d '{"event_type":"a"}')" 401
expect_eq "key as password" "$(status_of "$URL/events" -u "user:$K1" -d '{"event_type":"a"}')" 401
expect_eq "unknown scheme" "$(status_of "$URL/events" -H "Authorization: Token $K1" -d '{"event_type":"a"}')" 401
expect_eq "app route without key" "$(status_of "$URL/purchase_a_sword")" 401
expect_eq "unknown path without key (no probing)" "$(status_of "$URL/nope")" 401
# accepted: Basic KEY: (as Segment/RudderStack send it), Bearer, the file's key
expect_eq "basic" "$(status_of "$URL/events" -u "$K1:" -d '{"event_type":"a","event_id":"ok-1"}')" 200
expect_eq "bearer" "$(status_of "$URL/events" -H "Authorization: Bearer $K2" -d '{"event_type":"a","event_id":"ok-2"}')" 200
expect_eq "key from file" "$(status_of "$URL/events" -H "Authorization: Bearer $K3" -d '{"event_type":"a","event_id":"ok-3"}')" 200
expect_eq "app route with key" "$(status_of "$URL/purchase_a_sword" -u "$K2:")" 200
expect_eq "healthz stays open" "$(status_of "$URL/healthz")" 200
expect_eq "metrics open to loopback" "$(status_of "$URL/metrics")" 200
curl -s "$URL/metrics" | grep -q 'status="401"} [1-9]' || fail "401s not counted in /metrics"
stop_serve

expect_eq "stored: only the accepted requests" "$(events | wc -l)" 4
for k in "$K1" "$K2" "$K3"; do
  b64=$(printf '%s:' "$k" | base64)
  if grep -rqF -e "$k" -e "$b64" "$DATA" "$T/access.log" "$T/serve-$PORT.out" "$T/serve-$PORT.err"; then
    fail "a write key shows up in the data dir, the access log or the output"
  fi
done
grep -q '" 401 ' "$T/access.log" || fail "401s missing from the access log"

# bad keys: file:line, exit 2, the secret not echoed
printf 'good-key-123\nbad key 456\n' > "$T/badkeys"
rc=0; "$SLUICE" serve --app apps/game.yaml --write-keys-file "$T/badkeys" 2>"$T/bad.err" || rc=$?
expect_eq "bad keys file exit" "$rc" 2
grep -q "$T/badkeys:2: " "$T/bad.err" || fail "no file:line: $(cat "$T/bad.err")"
grep -q "bad key 456" "$T/bad.err" && fail "the bad key was echoed"
rc=0; "$SLUICE" serve --app apps/game.yaml --write-key short 2>/dev/null || rc=$?
expect_eq "short key" "$rc" 2

# beyond loopback without a token: refused before anything listens
rc=0; "$SLUICE" serve --app apps/game.yaml --listen 0.0.0.0:1 --data-dir "$T/x" 2>"$T/lb.err" || rc=$?
expect_eq "serve beyond loopback exit" "$rc" 2
grep -q "admin-token" "$T/lb.err" || fail "no hint at --admin-token: $(cat "$T/lb.err")"
rc=0; "$SLUICE" up --app apps/game.yaml --admin 0.0.0.0:1 --data-dir "$T/x" 2>"$T/lb2.err" || rc=$?
expect_eq "up --admin beyond loopback exit" "$rc" 2
rc=0; "$SLUICE" up --app apps/game.yaml --listen '[::]:1' --admin off --data-dir "$T/x" 2>/dev/null || rc=$?
expect_eq "up --listen [::] exit" "$rc" 2
[ -e "$T/x" ] && fail "a refused start created the data dir"

# the admin token from the environment guards the dashboard and the SQL API
TOK=admin-tok-0123456789abcdef
CP=$(free_port); AP=$(free_port)
SLUICE_ADMIN_TOKEN=$TOK bg "$SLUICE" up --app apps/game.yaml --listen 127.0.0.1:"$CP" \
  --admin 127.0.0.1:"$AP" --data-dir "$T/up" --quiet >"$T/up.out" 2>"$T/up.err"
UP=$BG_PID
A=http://127.0.0.1:$AP
wait_until 60 http_ok "$A/healthz" || { cat "$T/up.err"; fail "up did not start"; }
expect_eq "dashboard without token" "$(status_of "$A/")" 401
curl -s -D - -o /dev/null "$A/api/stats" | grep -qi '^www-authenticate: Basic realm="sluice admin"' ||
  fail "dashboard 401 without WWW-Authenticate (the browser would not prompt)"
expect_eq "sql without token" "$(status_of "$A/api/sql" -d 'SELECT 1')" 401
expect_eq "sql with wrong token" "$(status_of "$A/api/sql" -H "Authorization: Bearer ${TOK}x" -d 'SELECT 1')" 401
expect_eq "sql with bearer" "$(status_of "$A/api/sql" -H "Authorization: Bearer $TOK" -d 'SELECT 1')" 200
expect_eq "dashboard with basic (browser)" "$(status_of "$A/" -u "me:$TOK")" 200
expect_eq "collector ingestion stays open (no write keys)" "$(status_of "http://127.0.0.1:$CP/events" -d '{"event_type":"a"}')" 200
# the dashboard still reads the collector's /metrics over loopback
scraped() { curl -s -u "me:$TOK" "$A/api/stats" | python3 -c 'import json,sys; assert json.load(sys.stdin)["requests"]["ok"]'; }
wait_until 10 scraped || fail "the dashboard cannot scrape the collector's /metrics"
kill -TERM "$UP"; rc=0; wait "$UP" || rc=$?
expect_eq "up exit" "$rc" 0
grep -rqF "$TOK" "$T/up" "$T/up.out" "$T/up.err" && fail "the admin token shows up in data or output"
echo ok
