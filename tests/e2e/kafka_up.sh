# sluice up --bus kafka: the collector produces to Kafka (the mock cluster), the stream in
# the same process consumes it as a group member, and a clean stop commits everything:
# exact per-table counts, every event once, and a restart resumes without duplicates.
source tests/lib.sh
source tests/e2e/kafka_lib.inc

kafka_mock_start --partitions 4
port=$(free_port)
D=$T/data

start_up() {
  "$SLUICE" up --app apps/game.yaml --listen "127.0.0.1:$port" --admin off --data-dir "$D" \
    --bus "kafka://$BOOT/events" --trigger 200ms --quiet > "$T/up.out" 2>&1 &
  UP_PID=$!
  _pids+=("$UP_PID")
  wait_until 30 http_ok "http://127.0.0.1:$port/healthz" || fail "up did not start: $(cat "$T/up.out")"
}
stop_up() {
  kill -TERM "$UP_PID"
  local rc=0
  wait "$UP_PID" || rc=$?
  expect_eq "sluice up exit status" "$rc" 0
  grep -q "stopped cleanly" "$T/up.out" || fail "no clean stop: $(cat "$T/up.out")"
}
send() { # path count
  for _ in $(seq "$2"); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port$1" || fail "GET $1 not answered 2xx"
  done
}
count() { "$SLUICE" sql --data-dir "$D" --format csv -e "select count(*) as n from $1" | tail -n 1; }

start_up
grep -q "bus        kafka://$BOOT/events" "$T/up.out" || fail "banner lacks the bus: $(cat "$T/up.out")"
send /purchase_a_sword 7
send /join_a_guild 5
send / 3
# seen by the running stream (continuous mode), before any stop
wait_until 60 bash -c "[ \"\$('$SLUICE' sql --data-dir '$D' --format csv -e 'select count(*) as n from events' 2>/dev/null | tail -n 1)\" = 15 ]" ||
  fail "events not in the tables while running: $(count events)"
stop_up
expect_eq "purchases" "$(count purchases)" 7
expect_eq "joins" "$(count joins)" 5
expect_eq "default_hits" "$(count default_hits)" 3

# restart: resumes from the per-partition checkpoints, nothing read twice
start_up
send /declare_a_war 2
stop_up
expect_eq "declarations" "$(count declarations)" 2
expect_eq "events" "$(count events)" 17
distinct=$("$SLUICE" sql --data-dir "$D" --format csv -e "select count(distinct event_id) as d from events" | tail -n 1)
expect_eq "distinct event ids" "$distinct" 17
echo ok
