#!/usr/bin/env bash
# sluice stream --bus kafka with --kafka-opt partition.assignment.strategy=cooperative-sticky
# (incremental rebalancing: rd_kafka_assign() is refused there, the consumer must use
# rd_kafka_incremental_assign/unassign), black box on the mock cluster:
#   - --once reads every partition and exits, exact counts;
#   - a continuous member A owns all four partitions; B joins: A gives up only some of
#     them (it never loses all four at once) and keeps consuming the rest; every event in
#     the tables exactly once.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/kafka_lib.inc"
COOP=(--kafka-opt partition.assignment.strategy=cooperative-sticky)
count() { "$SLUICE" sql --data-dir "$1" --format csv -e "$2" 2>>"$T/sql.err" | tail -n 1; }
events() { # FIRST LAST: events FIRST..LAST as NDJSON
  python3 - "$1" "$2" <<'PY'
import sys
for i in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
    t = "purchase_axe" if i % 3 == 0 else "join_guild" if i % 3 == 1 else "default"
    print('{"event_type":"%s","event_id":"c-%d","strength":%d}' % (t, i, i % 11))
PY
}
produce() { "$SLUICE_RELEASE" produce --bus "kafka://$BOOT/coop" 2>"$T/p.err" || fail "produce: $(cat "$T/p.err")"; }

kafka_mock_start --brokers 3 --partitions 4
mock_cmd "topic coop 4 3"

# ---- --once
D=$T/once
events 0 399 | produce
rc=0
timeout 60 "$SLUICE" stream --app apps/game.yaml --data-dir "$D" --bus "kafka://$BOOT/coop" \
  --job once --once "${COOP[@]}" 2>"$T/once.err" || rc=$?
expect_eq "stream --once with cooperative-sticky: exit status (124: hung)" "$rc" 0
grep -q "done: 400 events" "$T/once.err" || fail "summary: $(cat "$T/once.err")"
grep -q "Erroneous state" "$T/once.err" && fail "assignment refused: $(cat "$T/once.err")"
expect_eq "events" "$(count "$D" 'select count(distinct event_id) from events')" 400
expect_eq "purchases" "$(count "$D" 'select count(*) from purchases')" 134

# ---- a second member joins: an incremental rebalance
D=$T/group
S=("$SLUICE" stream --app apps/game.yaml --data-dir "$D" --bus "kafka://$BOOT/coop" --job grp
   --trigger 200ms --max-batch 100 "${COOP[@]}")
bg "${S[@]}" 2>"$T/a.err"; A=$BG_PID
a_wrote() { [ "$(grep -c '^stream: batch p' "$T/a.err")" -ge 4 ]; }
wait_until 60 group_settled 4 "$T/a.err" || fail "A did not get all partitions: $(cat "$T/a.err")"
wait_until 60 a_wrote || fail "A wrote nothing: $(cat "$T/a.err")"
bg "${S[@]}" 2>"$T/b.err"; B=$BG_PID
wait_until 60 group_settled 4 "$T/a.err" "$T/b.err" || fail "the group did not settle: A $(owned "$T/a.err"), B $(owned "$T/b.err"); $(cat "$T/a.err" "$T/b.err")"
# no assignment trouble (the old hang began with "warning: kafka assign: ... Erroneous
# state"); a commit refused while the group rebalances is a documented warning (the
# checkpoint has the offset) and may happen when B joins
warn=$(grep -h "warning" "$T/a.err" "$T/b.err" | grep -v "kafka commit .*Group rebalance in progress" || true)
[ -z "$warn" ] || fail "warnings: $warn"
# cooperative: A gave up only what B took; it never had all four revoked
expect_eq "partitions A gave up" "$(grep -c '^stream: partition [0-9]* revoked' "$T/a.err")" \
  "$(echo $(owned "$T/b.err") | wc -w)"
events 400 1199 | produce
total() { [ "$(count "$D" 'select count(*) from events')" = 1200 ]; }
wait_until 60 total || fail "not caught up: $(count "$D" 'select count(*) from events') of 1200"
grep -q "^stream: batch p" "$T/b.err" || fail "B wrote nothing: $(cat "$T/b.err")"
expect_eq "distinct event_id" "$(count "$D" 'select count(distinct event_id) from events')" 1200
expect_eq "joins" "$(count "$D" 'select count(*) from joins')" 400
kill -TERM "$A" "$B"
wait "$A" || fail "A exit status: $(tail -3 "$T/a.err")"
wait "$B" || fail "B exit status: $(tail -3 "$T/b.err")"
echo "  --once and a two-member group with cooperative-sticky: A $(owned "$T/a.err") B $(owned "$T/b.err") at the end"
