#!/usr/bin/env bash
# sluice bench against a local nginx: every request of a scenario is sent exactly once and
# every answer is counted under its status, with and without keep-alive, with
# Content-Length and chunked answers; the seeds' game scenario gives its exact statuses;
# --order sequential sends the lines in file order.
source tests/lib.sh
source tests/e2e/bench_nginx.inc
NGINX_ACCESS_LOG=1 start_nginx
URL=http://127.0.0.1:$NGINX_PORT

cat > "$T/mix.txt" <<'S'
# a mix of statuses and framings
300 GET /ok
 40 GET /missing   Host: other.example
 25 GET /created   X-Test: 1 | X-Other: 2
 35 GET /chunked   Accept-Encoding: gzip
  7 HEAD /ok
 10 POST /ok   Content-Type: application/json < {"event_type":"x","n":1}
S

for ka in --keepalive --no-keepalive; do
  for order in shuffled sequential; do
    "$SLUICE" bench --scenario "$T/mix.txt" --url "$URL" -c 8 --threads 2 $ka --order $order \
      --json > "$T/r.json" || fail "bench $ka $order exited $?"
    expect_eq "requests ($ka $order)" "$(json_get "$T/r.json" '["requests"]')" 417
    expect_eq "answered ($ka $order)" "$(json_get "$T/r.json" '["answered"]')" 417
    expect_eq "200s ($ka $order)" "$(json_get "$T/r.json" '["status"]["200"]')" 352
    expect_eq "404s ($ka $order)" "$(json_get "$T/r.json" '["status"]["404"]')" 40
    expect_eq "201s ($ka $order)" "$(json_get "$T/r.json" '["status"]["201"]')" 25
    expect_eq "2xx ($ka $order)" "$(json_get "$T/r.json" '["status_2xx"]')" 377
    expect_eq "errors ($ka $order)" "$(json_get "$T/r.json" '["errors"]["total"]')" 0
  done
done
# without keep-alive every request has its own connection; with it, far fewer
"$SLUICE" bench --scenario "$T/mix.txt" --url "$URL" -c 4 --threads 1 --no-keepalive --json > "$T/r.json"
expect_eq "connections without keep-alive" "$(json_get "$T/r.json" '["connections_opened"]')" 417
"$SLUICE" bench --scenario "$T/mix.txt" --url "$URL" -c 4 --threads 1 --json > "$T/r.json"
expect_eq "connections with keep-alive" "$(json_get "$T/r.json" '["connections_opened"]')" 4

# the seeds' game workload: 1,752 requests, 20 of them to routes that do not exist
"$SLUICE" bench --scenario bench/scenarios/game.txt --url "$URL" > "$T/game.txt" || fail "game run"
grep -q '^requests   1752 sent, 1752 answered, 0 failed' "$T/game.txt" || { cat "$T/game.txt"; fail "game counts"; }
grep -q '^status     200: 1732 404: 20$' "$T/game.txt" || { cat "$T/game.txt"; fail "game statuses"; }
grep -q '^latency    min .* p50 .* p90 .* p99 .* p99.9 .* max .* ms' "$T/game.txt" || fail "latency line"

# --duration repeats the mix until the time is up
"$SLUICE" bench --scenario "$T/mix.txt" --url "$URL" -c 4 --duration 1s --json > "$T/r.json"
answered=$(json_get "$T/r.json" '["answered"]')
[ "$answered" -gt 417 ] || fail "--duration 1s answered only $answered"
expect_eq "duration errors" "$(json_get "$T/r.json" '["errors"]["total"]')" 0

# the order of the requests, as nginx logged them (one connection: the order they were
# sent in): sequential is the file's, line by line; shuffled is another order of the same
printf '3 GET /ok\n2 GET /missing\n1 GET /created\n2 GET /ok\n' > "$T/order.txt"
file_order="/ok /ok /ok /missing /missing /created /ok /ok"
sent_order() { # order -> the paths nginx saw, in its log's order
  : > "$T/nginx/access.log"
  "$SLUICE" bench --scenario "$T/order.txt" --url "$URL" -c 1 --threads 1 --order "$1" \
    --no-progress > /dev/null || fail "--order $1 exited $?"
  # nginx logs a request after its answer: wait for the last line
  wait_until 10 test "$(wc -l < "$T/nginx/access.log")" -ge 8 || fail "nginx logged too little"
  awk '{print $7}' "$T/nginx/access.log" | paste -sd' '
}
expect_eq "--order sequential" "$(sent_order sequential)" "$file_order"
shuffled=$(sent_order shuffled)
[ "$shuffled" != "$file_order" ] || fail "--order shuffled sent the file order"
expect_eq "--order shuffled sends the same requests" \
  "$(tr ' ' '\n' <<< "$shuffled" | sort | paste -sd' ')" "$(tr ' ' '\n' <<< "$file_order" | sort | paste -sd' ')"
echo "ok"
