#!/usr/bin/env bash
# CORS (--cors-origin): a preflight from an allowed origin is answered 204 with the
# methods and headers the page may use, before any write key is asked for; the event
# request itself carries Access-Control-Allow-Origin and is stored. An origin not on the
# list gets no CORS header (the browser then hides the answer from the page), and without
# --cors-origin a preflight is an ordinary OPTIONS request (405).
source tests/lib.sh
source tests/e2e/collector_lib.inc

APP=https://game.example.com
start_serve apps/game.yaml --cors-origin "$APP" --cors-origin http://localhost:8080 \
  --write-key test-key-123456
hdr() { grep -i "^$1:" "$T/h" | cut -d' ' -f2- | tr -d '\r'; }

# preflight: no credentials, answered 204 with what the page may send
code=$(curl -s -o /dev/null -D "$T/h" -w '%{http_code}' -X OPTIONS "$URL/events" \
  -H "Origin: $APP" -H 'Access-Control-Request-Method: POST' \
  -H 'Access-Control-Request-Headers: content-type, authorization')
expect_eq "preflight status" "$code" 204
expect_eq "preflight origin" "$(hdr access-control-allow-origin)" "$APP"
expect_eq "preflight methods" "$(hdr access-control-allow-methods)" "GET, POST"
expect_eq "preflight headers" "$(hdr access-control-allow-headers)" "content-type, authorization"
expect_eq "preflight vary" "$(hdr vary)" "Origin"

# the request: stored, and readable by the page
code=$(curl -s -o "$T/body" -D "$T/h" -w '%{http_code}' -X POST "$URL/events" \
  -H "Origin: $APP" -H 'Content-Type: application/json' -H 'Authorization: Bearer test-key-123456' \
  --data '{"event_type":"page_view","event_id":"cors-1"}')
expect_eq "event status" "$code" 200
expect_eq "event origin" "$(hdr access-control-allow-origin)" "$APP"
# an app route too
code=$(curl -s -o /dev/null -D "$T/h" -w '%{http_code}' "$URL/purchase_a_sword" \
  -H 'Origin: http://localhost:8080' -H 'Authorization: Bearer test-key-123456')
expect_eq "route status" "$code" 200
expect_eq "route origin" "$(hdr access-control-allow-origin)" "http://localhost:8080"

# another origin: no CORS headers, no 204 (the write key is asked for, as for anyone)
code=$(curl -s -o /dev/null -D "$T/h" -w '%{http_code}' -X OPTIONS "$URL/events" \
  -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST')
expect_eq "foreign preflight" "$code" 401
expect_eq "foreign origin header" "$(hdr access-control-allow-origin)" ""
stored=$(events | grep -c '"client_event_id":"cors-1"')
expect_eq "stored once" "$stored" 1
stop_serve

# '*': any origin, no Vary
start_serve apps/game.yaml --cors-origin '*'
code=$(curl -s -o /dev/null -D "$T/h" -w '%{http_code}' -X OPTIONS "$URL/events" \
  -H 'Origin: https://anything.example' -H 'Access-Control-Request-Method: POST')
expect_eq "any preflight" "$code" 204
expect_eq "any origin" "$(hdr access-control-allow-origin)" "*"
expect_eq "default allowed headers" "$(hdr access-control-allow-headers)" "Content-Type, Authorization"
stop_serve

# without --cors-origin: OPTIONS is not a method of any route
start_serve apps/game.yaml
code=$(curl -s -o /dev/null -D "$T/h" -w '%{http_code}' -X OPTIONS "$URL/purchase_a_sword" \
  -H "Origin: $APP" -H 'Access-Control-Request-Method: GET')
expect_eq "no cors" "$code" 405
expect_eq "no cors header" "$(hdr access-control-allow-origin)" ""
stop_serve

# a bad origin is a usage error
"$SLUICE" serve --app apps/game.yaml --cors-origin 'https://a.example/path' 2>"$T/err" && fail "accepted an origin with a path"
grep -q "scheme://host" "$T/err" || fail "message: $(cat "$T/err")"
echo ok
