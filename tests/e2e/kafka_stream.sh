#!/usr/bin/env bash
# sluice stream --bus kafka://..., black box, on librdkafka's mock cluster (3 brokers, 4
# partitions):
#   - serve -> Kafka -> stream --once -> tables with exact counts per table
#   - kcat -P events without event_id / received_at land in their tables, with the
#     event_id "<topic>-<partition>-<offset>" filled in (also in raw_event)
#   - a second --once run adds nothing (checkpoint per partition, no duplicates)
#   - the Kafka group offsets equal the checkpoints: a fresh --data-dir with the same --job
#     reads nothing, then exactly the events that came later, from each checkpoint on
#   - two continuous streams in one group, one killed with -9 mid-run: the other takes
#     over its partitions; counts exact, no duplicate event_id
# Size: SLUICE_KAFKA_STREAM_EVENTS (default 6000) events in the group part.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/kafka_lib.inc"
command -v kcat >/dev/null || fail "kcat is not installed (Debian package kcat)"
N=${SLUICE_KAFKA_STREAM_EVENTS:-6000}

# usage errors
rc=0; "$SLUICE" stream --app apps/game.yaml --bus kafka://nohost 2>"$T/err" || rc=$?
expect_eq "bad --bus exit" "$rc" 2
grep -q "kafka://HOST:PORT" "$T/err" || fail "bad --bus message: $(cat "$T/err")"
"$SLUICE" stream --help | grep -q -- "--kafka-opt" || fail "stream --help lacks --kafka-opt"
# every option's description starts in one column, the Kafka ones too
help_cols=$("$SLUICE" stream --help | awk '/^  --[a-z-]+( [A-Z=]+)?  +[^ ]/ {
  match($0, /^  --[a-z-]+( [A-Z=]+)?  +/); print RLENGTH}' | sort -u)
expect_eq "stream --help: description columns" "$help_cols" 25

kafka_mock_start --brokers 3 --partitions 4
count() { "$SLUICE" sql --data-dir "$1" --format csv -e "$2" 2>>"$T/sql.err" | tail -n 1; }

# ---- serve -> Kafka -> stream --once
D=$T/d1
PORT=$(free_port)
serve_kafka "$PORT"
URL=http://127.0.0.1:$PORT
for i in $(seq 1 12); do curl -fs "$URL/purchase_a_sword" >/dev/null || fail "sword $i"; done
for i in $(seq 1 7); do curl -fs "$URL/join_a_guild" >/dev/null || fail "guild $i"; done
for i in $(seq 1 5); do curl -fs "$URL/" >/dev/null || fail "default $i"; done
# foreign events: no event_id, no received_at
seq 1 40 | sed 's/.*/{"event_type":"join_guild","guild_name":"k&"}/' |
  kcat -P -b "$BOOT" -t events 2>"$T/err" || fail "kcat -P: $(cat "$T/err")"
"$SLUICE" stream --app apps/game.yaml --data-dir "$D" --bus "kafka://$BOOT/events" --once \
  2>"$T/s1.err" || fail "stream --once: $(cat "$T/s1.err")"
grep -q "done: 64 events" "$T/s1.err" || fail "stream summary: $(tail -3 "$T/s1.err")"
expect_eq "purchases" "$(count "$D" 'select count(*) from purchases')" 12
expect_eq "joins" "$(count "$D" 'select count(*) from joins')" 47
expect_eq "default_hits" "$(count "$D" 'select count(*) from default_hits')" 5
expect_eq "events" "$(count "$D" 'select count(distinct event_id) from events')" 64
expect_eq "kcat rows with filled ids" \
  "$(count "$D" "select count(*) from joins where regexp_matches(event_id, '^events-[0-3]-[0-9]+\$') and guild_name like 'k%' and received_at is not null")" 40
expect_eq "raw_event carries the filled id" \
  "$(count "$D" "select count(*) from events where json_extract_string(raw_event, '\$.event_id') = event_id")" 64
ls "$D"/warehouse/joins/dt=*/ | grep -qE '^part-[0-3]-[0-9]+-[0-9]+\.parquet$' || fail "file names"
for p in 0 1 2 3; do
  grep -q "^partition $p\$" "$D/stream/stream-p$p.checkpoint" || fail "checkpoint of partition $p"
done
"$SLUICE" stream --app apps/game.yaml --data-dir "$D" --bus "kafka://$BOOT/events" --once \
  2>"$T/s2.err" || fail "stream --once again: $(cat "$T/s2.err")"
grep -q "done: 0 events" "$T/s2.err" || fail "second run read again: $(tail -3 "$T/s2.err")"
expect_eq "events after a second run" "$(count "$D" 'select count(*) from events')" 64
# the group's committed offsets are the checkpoints: a fresh --data-dir with the same --job
# (no checkpoint) starts every partition at the group offset, so it reads nothing...
E=$T/d1-fresh
"$SLUICE" stream --app apps/game.yaml --data-dir "$E" --bus "kafka://$BOOT/events" --once \
  2>"$T/s3.err" || fail "stream --once, fresh data dir: $(cat "$T/s3.err")"
grep -q "done: 0 events" "$T/s3.err" || fail "the group offsets lag the checkpoints: $(tail -3 "$T/s3.err")"
# ...and after 20 more events exactly those, each partition's file starting at its checkpoint
seq 1 20 | sed 's/.*/{"event_type":"join_guild","guild_name":"late&"}/' |
  kcat -P -b "$BOOT" -t events 2>"$T/err" || fail "kcat -P: $(cat "$T/err")"
"$SLUICE" stream --app apps/game.yaml --data-dir "$E" --bus "kafka://$BOOT/events" --once \
  2>"$T/s4.err" || fail "stream --once, fresh data dir: $(cat "$T/s4.err")"
grep -q "done: 20 events" "$T/s4.err" || fail "fresh data dir read: $(tail -3 "$T/s4.err")"
expect_eq "late events" "$(count "$E" "select count(*) from joins where guild_name like 'late%'")" 20
for f in $(find "$E/warehouse/events" -name "part-*.parquet" -printf "%f\n"); do
  f=${f#part-}; p=${f%%-*}; first=${f#*-}; first=${first%%-*}
  expect_eq "p$p: first offset after the group offset" "$first" \
    "$(awk '$1 == "next" {print $2}' "$D/stream/stream-p$p.checkpoint")"
done
kill "$SERVE_PID"; wait "$SERVE_PID" || fail "serve exit status"

# ---- two streams in one group, one killed -9 mid-run
mock_cmd "topic grp 4 3"
D=$T/d2
python3 - "$N" >"$T/e.ndjson" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    k = i % 3
    t = "purchase_axe" if k == 0 else "join_guild" if k == 1 else "default"
    print('{"event_type":"%s","event_id":"g-%d","strength":%d}' % (t, i, i % 11))
PY
half=$((N / 2))
head -n "$half" "$T/e.ndjson" | "$SLUICE" produce --bus "kafka://$BOOT/grp" 2>"$T/p1.err" ||
  fail "produce: $(cat "$T/p1.err")"
S=("$SLUICE" stream --app apps/game.yaml --data-dir "$D" --bus "kafka://$BOOT/grp" --job grp
   --trigger 200ms --max-batch 200)
bg "${S[@]}" 2>"$T/a.err"; A=$BG_PID
bg "${S[@]}" 2>"$T/b.err"; B=$BG_PID
# both own partitions and A has committed at least one batch: then A dies mid-run
wait_until 60 grep -q "assigned" "$T/b.err" || fail "B got no partition: $(cat "$T/b.err")"
wait_until 60 grep -q "^stream: batch p" "$T/a.err" || fail "A wrote nothing: $(cat "$T/a.err")"
tail -n +"$((half + 1))" "$T/e.ndjson" | "$SLUICE" produce --bus "kafka://$BOOT/grp" 2>"$T/p2.err" &
P=$!
kill -9 "$A"
wait "$P" || fail "produce 2: $(cat "$T/p2.err")"
total() { [ "$(count "$D" 'select count(*) from events')" = "$N" ]; }
wait_until 120 total || fail "B did not catch up: $(count "$D" 'select count(*) from events') of $N; $(tail -5 "$T/b.err")"
for p in 0 1 2 3; do
  grep -q "^stream: partition $p assigned" "$T/b.err" || fail "B never took partition $p: $(cat "$T/b.err")"
done
expect_eq "distinct event_id" "$(count "$D" 'select count(distinct event_id) from events')" "$N"
expect_eq "purchases" "$(count "$D" 'select count(*) from purchases')" $(( (N + 2) / 3 ))
expect_eq "joins" "$(count "$D" 'select count(*) from joins')" $(( (N + 1) / 3 ))
expect_eq "default_hits" "$(count "$D" 'select count(*) from default_hits')" $(( N / 3 ))
kill -TERM "$B"; wait "$B" || fail "B exit status: $(tail -3 "$T/b.err")"
echo "  64 events via serve+kcat; $N in the group, A killed after $(grep -c '^stream: batch' "$T/a.err") batches;" \
  "B: $(grep -c '^stream: batch' "$T/b.err") batches, $(grep -c 'replaying' "$T/b.err") replays," \
  "partitions of A's batches: $(grep -o '^stream: batch p[0-9]' "$T/a.err" | sort -u | cut -c15- | paste -sd,)"
